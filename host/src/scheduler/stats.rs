//! What a scheduler counted, for `/metrics`: evaluations by SLO and outcome,
//! their durations, and policy load failures. Shared, updated from any thread.

use crate::runtime::ErrorCode;
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

/// Every outcome an evaluation can end in: `measured`, then each error code.
/// `/metrics` shows each of them, at zero until it happens, for every SLO.
pub fn outcome_names() -> impl Iterator<Item = &'static str> {
    std::iter::once("measured").chain(ErrorCode::ALL.iter().map(|c| c.as_str()))
}

/// Evaluations by SLO, then by outcome.
pub type OutcomeCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// Counters of one scheduler.
#[derive(Debug)]
pub struct Stats {
    outcomes: Mutex<OutcomeCounts>,
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
    /// One evaluation of SLO `slo` that ended in `outcome` (`measured`, or an
    /// error code) after `took`.
    pub fn evaluated(&self, slo: &str, outcome: &str, took: Duration) {
        let mut outcomes = self.outcomes.lock().unwrap_or_else(PoisonError::into_inner);
        // Looked up before inserting: the names are copied once, not per evaluation.
        let by_outcome = match outcomes.get_mut(slo) {
            Some(by_outcome) => by_outcome,
            None => outcomes.entry(slo.to_string()).or_default(),
        };
        match by_outcome.get_mut(outcome) {
            Some(n) => *n += 1,
            None => {
                by_outcome.insert(outcome.to_string(), 1);
            }
        }
        drop(outcomes);
        self.duration.observe(took.as_secs_f64());
    }

    /// A policy that could not be loaded (an upload refused, an SLO not armed).
    pub fn load_failed(&self) {
        self.load_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Evaluations so far, by SLO and outcome.
    pub fn outcomes(&self) -> OutcomeCounts {
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Evaluations so far, whatever their SLO and outcome.
    pub fn evaluations(&self) -> u64 {
        self.outcomes().values().flat_map(BTreeMap::values).sum()
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
