//! Figures of one objective at one time, from buckets.

use super::slices::Slicer;
use super::window::{MinuteRange, window_at};
use crate::ledger::{Bucket, Ledger, LedgerError};
use crate::slo::{Budgeting, Slo};
use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// Tallies objective `objective` of `slo` over `range`. Occurrences sum the
/// hour and day buckets the range covers; Timeslices read minute buckets and
/// judge each slice.
pub fn tally(
    ledger: &Ledger,
    slo: &Slo,
    objective: usize,
    range: MinuteRange,
) -> Result<Tally, LedgerError> {
    if range.from > range.to {
        return Ok(Tally::default());
    }
    match (
        slo.budgeting,
        slo.objectives.get(objective).and_then(|o| o.slice),
    ) {
        (Budgeting::Timeslices, Some((length, slice_target))) => {
            let buckets = ledger.buckets(&slo.name, range.from, range.to)?;
            let len = (length.as_secs() / 60).max(1) as i64;
            Ok(tally_slices(
                &buckets,
                objective,
                range,
                Slicer::new(&slo.window, len),
                slice_target,
            ))
        }
        _ => {
            let sum = ledger.sum(&slo.name, range.from, range.to)?;
            let events = sum.events.get(objective).copied().unwrap_or_default();
            Ok(Tally {
                good: events.good,
                total: events.total,
                errors: sum.errors,
                evaluations: sum.evaluations,
            })
        }
    }
}

/// The slices of `slicer` that start inside `range`, judged good when
/// good/total reaches `slice_target`; empty slices are no data. Errors and
/// evaluations count for every minute of the range.
pub(super) fn tally_slices(
    buckets: &[(i64, Bucket)],
    objective: usize,
    range: MinuteRange,
    mut slicer: Slicer,
    slice_target: f64,
) -> Tally {
    let mut out = Tally::default();
    // (first minute of the slice, good, total)
    let mut current: Option<(i64, u64, u64)> = None;
    let close = |slice: Option<(i64, u64, u64)>, out: &mut Tally| {
        if let Some((_, good, total)) = slice
            && total > 0
        {
            out.total += 1;
            out.good += u64::from(good.min(total) as f64 / total as f64 >= slice_target);
        }
    };
    for (minute, bucket) in buckets.iter().filter(|(m, _)| range.contains(*m)) {
        out.errors = out.errors.saturating_add(bucket.errors);
        out.evaluations = out.evaluations.saturating_add(bucket.evaluations);
        let (start, _) = slicer.slice_of(*minute);
        if start < range.from {
            continue;
        }
        let e = bucket.events.get(objective).copied().unwrap_or_default();
        match &mut current {
            Some((s, good, total)) if *s == start => {
                // Saturating, as buckets do (see `ledger verify`).
                *good = good.saturating_add(e.good);
                *total = total.saturating_add(e.total);
            }
            _ => {
                close(current.take(), &mut out);
                current = Some((start, e.good, e.total));
            }
        }
    }
    close(current, &mut out);
    out
}

/// An objective's state at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// When the objective's series began, if after its SLO's first records:
    /// its definition changed and its past could not be rebuilt from raw
    /// values (see [`super::sync_series`]), so only evaluations made under
    /// it count. `null` otherwise.
    pub since: Option<jiff::Timestamp>,
}

/// Sums the buckets of the window and of each burn window and
/// computes every figure of objective `objective` at `at`.
pub fn objective_figures(
    ledger: &Ledger,
    slo: &Slo,
    objective: usize,
    at: jiff::Timestamp,
) -> Result<ObjectiveFigures, LedgerError> {
    let window = window_at(&slo.window, at);
    let target = slo.objectives.get(objective).map_or(0.0, |o| o.target);
    let budget_fraction = 1.0 - target;
    let over_window = tally(ledger, slo, objective, window)?;
    let allowed = budget_fraction * over_window.total as f64;
    let spent = over_window.bad();
    // Never above 1, even from a ledger whose good exceeds its total (which
    // `ledger verify` reports).
    let ratio = |t: &Tally| (t.total > 0).then(|| t.good.min(t.total) as f64 / t.total as f64);
    let slice_minutes = slo
        .objectives
        .get(objective)
        .and_then(|o| o.slice)
        .map_or(1, |(length, _)| (length.as_secs() / 60).max(1) as i64);
    let mut burn_rates = Vec::with_capacity(BURN_WINDOWS.len());
    for (label, minutes) in BURN_WINDOWS {
        // A burn window shorter than a slice is widened to one slice.
        let range = MinuteRange::last(window.to, minutes.max(slice_minutes));
        let t = tally(ledger, slo, objective, range)?;
        let rate = (t.total > 0 && budget_fraction > 0.0)
            .then(|| t.bad() as f64 / t.total as f64 / budget_fraction);
        burn_rates.push((label.to_string(), rate));
    }
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
        since: super::series_start(ledger, slo, objective)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{EvalRecord, Events, Outcome};
    use crate::model::DatasetRef;

    /// A weekly calendar in Berlin from Monday 2026-01-05, day slices.
    const BERLIN_WEEKS: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: berlin }
spec:
  indicator: { metadata: { name: a }, spec: { ratioMetric: { good: { metricSource: { type: dataslo } }, total: { metricSource: { type: dataslo, spec: { dataset: { namespace: "s3://b", name: t }, policy: "builtin:null-rate", sli: x, trigger: observation } } } } } }
  timeWindow: [{ duration: 1w, isRolling: false, calendar: { startTime: "2026-01-05 00:00:00", timeZone: Europe/Berlin } }]
  budgetingMethod: Timeslices
  objectives: [{ target: 0.9, timeSliceTarget: 1.0, timeSliceWindow: 1d }]
"#;

    fn record(at: jiff::Timestamp, good: u64) -> EvalRecord {
        EvalRecord {
            slo: "berlin".into(),
            dataset: DatasetRef {
                namespace: "s3://b".into(),
                name: "t".into(),
            },
            time: at,
            key: at.to_string(),
            outcome: Outcome::Measured,
            events: vec![Events { good, total: 1 }],
            objectives: Vec::new(),
            value: None,
            detail: String::new(),
            policy_sha256: String::new(),
            chain: None,
        }
    }

    /// Evaluations at 00:30 and 23:30 local time, the first and last local
    /// hour, on each of the 7 days from `monday`, all good but the first;
    /// the figures at the week's end.
    fn week(monday: &str) -> Tally {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        let slo = crate::slo::parse_text(BERLIN_WEEKS, "t.yaml")
            .slos
            .remove(0);
        let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let monday: jiff::civil::Date = monday.parse().unwrap();
        for day in 0..7 {
            let date = monday.checked_add(jiff::Span::new().days(day)).unwrap();
            for time in ["00:30", "23:30"] {
                let civil: jiff::civil::DateTime = format!("{date}T{time}").parse().unwrap();
                let at = civil.to_zoned_datetime(tz.clone()).unwrap().timestamp();
                let first = day == 0 && time == "00:30";
                ledger.record(&record(at, u64::from(!first))).unwrap();
            }
        }
        let sunday_night: jiff::civil::DateTime = format!(
            "{}T23:59",
            monday.checked_add(jiff::Span::new().days(6)).unwrap()
        )
        .parse()
        .unwrap();
        let at = sunday_night.to_zoned_datetime(tz).unwrap().timestamp();
        objective_figures(&ledger, &slo, 0, at).unwrap().window
    }

    #[test]
    fn every_evaluation_of_a_berlin_week_lies_in_one_of_its_seven_day_slices() {
        for (monday, what) in [
            ("2026-06-01", "a summer week"),
            (
                "2026-03-23",
                "the week clocks go forward (a 23-hour Sunday)",
            ),
            ("2026-10-19", "the week clocks go back (a 25-hour Sunday)"),
            ("2026-01-12", "a winter week"),
        ] {
            let t = week(monday);
            assert_eq!(
                (t.evaluations, t.total, t.good),
                (14, 7, 6),
                "{what}: 14 evaluations in 7 day slices, Monday's bad by its first hour"
            );
        }
    }
}
