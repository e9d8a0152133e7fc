//! Figures of one objective at one time, from buckets.

use super::window::{MinuteRange, slice_anchor, window_at};
use crate::ledger::{Bucket, Ledger, LedgerError};
use crate::slo::{Budgeting, Slo};
use serde::Serialize;

/// The burn-rate windows reported for every SLO, in minutes.
pub const BURN_WINDOWS: [(&str, i64); 7] = [
    ("5m", 5),
    ("30m", 30),
    ("1h", 60),
    ("2h", 120),
    ("6h", 360),
    ("1d", 1440),
    ("3d", 4320),
];

/// Good and total units (events for Occurrences, slices for Timeslices), with
/// the errors and evaluations seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Good events or good slices.
    pub good: u64,
    /// Events, or slices with data.
    pub total: u64,
    /// Failed evaluations.
    pub errors: u64,
    /// Evaluations that measured.
    pub evaluations: u64,
}

impl Tally {
    /// Bad units.
    pub fn bad(&self) -> u64 {
        self.total - self.good.min(self.total)
    }
}

/// Tallies objective `objective` of `slo` over `range`, from `buckets` sorted by minute.
pub fn tally(slo: &Slo, objective: usize, buckets: &[(i64, Bucket)], range: MinuteRange) -> Tally {
    let mut out = Tally::default();
    let inside = buckets.iter().filter(|(m, _)| range.contains(*m));
    let events = |b: &Bucket| b.events.get(objective).copied().unwrap_or_default();
    match (
        slo.budgeting,
        slo.objectives.get(objective).and_then(|o| o.slice),
    ) {
        (Budgeting::Timeslices, Some((length, slice_target))) => {
            let len = (length.as_secs() / 60).max(1) as i64;
            let anchor = slice_anchor(&slo.window);
            let mut current: Option<(i64, u64, u64)> = None;
            let close = |slice: Option<(i64, u64, u64)>, out: &mut Tally| {
                if let Some((_, good, total)) = slice
                    && total > 0
                {
                    out.total += 1;
                    out.good += u64::from(good as f64 / total as f64 >= slice_target);
                }
            };
            for (minute, bucket) in inside {
                out.errors += bucket.errors;
                out.evaluations += bucket.evaluations;
                let index = (minute - anchor).div_euclid(len);
                let slice_start = anchor + index * len;
                if slice_start < range.from {
                    continue;
                }
                let e = events(bucket);
                match &mut current {
                    Some((i, good, total)) if *i == index => {
                        *good += e.good;
                        *total += e.total;
                    }
                    _ => {
                        close(current.take(), &mut out);
                        current = Some((index, e.good, e.total));
                    }
                }
            }
            close(current, &mut out);
        }
        _ => {
            for (_, bucket) in inside {
                let e = events(bucket);
                out.good += e.good;
                out.total += e.total;
                out.errors += bucket.errors;
                out.evaluations += bucket.evaluations;
            }
        }
    }
    out
}

/// An objective's state at a time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveFigures {
    /// The objective's name.
    pub objective: String,
    /// Its target.
    pub target: f64,
    /// Over the SLO window.
    pub window: Tally,
    /// good / total over the window; `None` without data.
    pub sli: Option<f64>,
    /// 1 − bad / allowed bad; `None` without data. Negative when overspent.
    pub budget_remaining: Option<f64>,
    /// Allowed bad units over the window: (1 − target) × total.
    pub budget_allowed: f64,
    /// Bad units spent.
    pub budget_spent: u64,
    /// Burn rate per [`BURN_WINDOWS`] entry; `None` without data.
    pub burn_rates: Vec<(String, Option<f64>)>,
}

/// Reads the buckets of the window (and the longest burn window) once and
/// computes every figure of objective `objective` at `at`.
pub fn objective_figures(
    ledger: &Ledger,
    slo: &Slo,
    objective: usize,
    at: jiff::Timestamp,
) -> Result<ObjectiveFigures, LedgerError> {
    let window = window_at(&slo.window, at);
    let widest = BURN_WINDOWS.iter().map(|(_, m)| *m).max().unwrap_or(1);
    let from = window.from.min(window.to - widest + 1);
    let buckets = ledger.buckets(&slo.name, from, window.to)?;
    let target = slo.objectives.get(objective).map_or(0.0, |o| o.target);
    let budget_fraction = 1.0 - target;
    let over_window = tally(slo, objective, &buckets, window);
    let allowed = budget_fraction * over_window.total as f64;
    let spent = over_window.bad();
    let ratio = |t: &Tally| (t.total > 0).then(|| t.good as f64 / t.total as f64);
    let slice_minutes = slo
        .objectives
        .get(objective)
        .and_then(|o| o.slice)
        .map_or(1, |(length, _)| (length.as_secs() / 60).max(1) as i64);
    let burn_rates = BURN_WINDOWS
        .iter()
        .map(|(label, minutes)| {
            // A burn window shorter than a slice is widened to one slice.
            let range = MinuteRange::last(window.to, (*minutes).max(slice_minutes));
            let t = tally(slo, objective, &buckets, range);
            let rate = (t.total > 0 && budget_fraction > 0.0)
                .then(|| t.bad() as f64 / t.total as f64 / budget_fraction);
            (label.to_string(), rate)
        })
        .collect();
    Ok(ObjectiveFigures {
        objective: slo
            .objectives
            .get(objective)
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        target,
        window: over_window,
        sli: ratio(&over_window),
        // target < 1, so there is budget whenever there is data.
        budget_remaining: (over_window.total > 0).then(|| 1.0 - spent as f64 / allowed),
        budget_allowed: allowed,
        budget_spent: spent,
        burn_rates,
    })
}
