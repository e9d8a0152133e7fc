//! What a scheduler counted, for `/metrics`: evaluations by outcome, their
//! durations, and policy load failures. Shared, updated from any thread.

use prometheus_client::metrics::histogram::Histogram;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Bucket bounds of the evaluation duration histogram, in seconds: 10 µs to
/// ~1.3 s, doubling (the default deadline is 100 ms).
fn duration_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(10e-6, 2.0, 18)
}

/// Counters of one scheduler.
#[derive(Debug)]
pub struct Stats {
    outcomes: Mutex<BTreeMap<String, u64>>,
    duration: Histogram,
    load_failures: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            outcomes: Mutex::default(),
            duration: Histogram::new(duration_buckets()),
            load_failures: AtomicU64::new(0),
        }
    }
}

impl Stats {
    /// One evaluation that ended in `outcome` (`measured`, or an error code)
    /// after `took`.
    pub fn evaluated(&self, outcome: &str, took: Duration) {
        *self
            .outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(outcome.to_string())
            .or_default() += 1;
        self.duration.observe(took.as_secs_f64());
    }

    /// A policy that could not be loaded (an upload refused, an SLO not armed).
    pub fn load_failed(&self) {
        self.load_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Evaluations so far, by outcome.
    pub fn outcomes(&self) -> BTreeMap<String, u64> {
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The duration histogram.
    pub fn durations(&self) -> &Histogram {
        &self.duration
    }

    /// Load failures so far.
    pub fn load_failures(&self) -> u64 {
        self.load_failures.load(Ordering::Relaxed)
    }
}
