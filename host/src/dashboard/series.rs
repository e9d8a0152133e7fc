//! The figures behind the charts: one objective's budget remaining and its
//! 1-hour burn rate at evenly spaced minutes, each from a bucket tally, so a
//! chart costs a bounded number of tallies whatever the traffic.

use crate::budget::{MinuteRange, Tally, tally, window_at};
use crate::ledger::{Ledger, LedgerError, minute_of};
use crate::slo::Slo;

/// Points on the budget burn-down chart.
pub const BURNDOWN_POINTS: i64 = 60;
/// Points on the burn-rate sparkline.
pub const BURNRATE_POINTS: i64 = 48;
/// The burn-rate sparkline spans the last day.
const BURNRATE_SPAN_MINUTES: i64 = 1440;
/// The sparkline shows the burn rate over the last hour at each point.
const BURN_WINDOW_MINUTES: i64 = 60;

/// Values at minutes (since the epoch) over `from..=to`; `None` is no data.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The first minute shown.
    pub from: i64,
    /// The last minute shown.
    pub to: i64,
    /// (minute, value), in time order.
    pub points: Vec<(i64, Option<f64>)>,
}

/// At most `n` minutes evenly spread over `from..=to`, ending at `to`.
fn spread(from: i64, to: i64, n: i64) -> Vec<i64> {
    if from > to {
        return Vec::new();
    }
    let span = to - from;
    let steps = span.min(n - 1).max(0);
    if steps == 0 {
        return vec![to];
    }
    (0..=steps)
        .map(|i| from + (span as i128 * i as i128 / steps as i128) as i64)
        .collect()
}

fn at_minute(minute: i64) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_second(minute.checked_mul(60)?).ok()
}

fn target(slo: &Slo, objective: usize) -> f64 {
    slo.objectives.get(objective).map_or(0.0, |o| o.target)
}

fn slice_minutes(slo: &Slo, objective: usize) -> i64 {
    slo.objectives
        .get(objective)
        .and_then(|o| o.slice)
        .map_or(1, |(length, _)| (length.as_secs() / 60).max(1) as i64)
}

/// 1 − bad / allowed bad, as `objective_figures` computes it.
fn remaining(t: &Tally, target: f64) -> Option<f64> {
    let allowed = (1.0 - target) * t.total as f64;
    (t.total > 0 && allowed > 0.0).then(|| 1.0 - t.bad() as f64 / allowed)
}

/// (bad / total) / (1 − target), as `objective_figures` computes it.
fn burn(t: &Tally, target: f64) -> Option<f64> {
    (t.total > 0 && target < 1.0).then(|| t.bad() as f64 / t.total as f64 / (1.0 - target))
}

/// Budget remaining of `objective` over the SLO window holding `at`: at
/// each point, the budget of the window that ends there.
pub fn burndown(
    ledger: &Ledger,
    slo: &Slo,
    objective: usize,
    at: jiff::Timestamp,
) -> Result<Series, LedgerError> {
    let window = window_at(&slo.window, at);
    let target = target(slo, objective);
    let mut points = Vec::new();
    for minute in spread(window.from, window.to, BURNDOWN_POINTS) {
        let Some(t) = at_minute(minute) else { continue };
        let tally = tally(ledger, slo, objective, window_at(&slo.window, t))?;
        points.push((minute, remaining(&tally, target)));
    }
    Ok(Series {
        from: window.from,
        to: window.to,
        points,
    })
}

/// The 1-hour burn rate of `objective` over the day before `at`; a burn
/// window shorter than a slice is widened to one slice, as in the status.
pub fn burn_rate(
    ledger: &Ledger,
    slo: &Slo,
    objective: usize,
    at: jiff::Timestamp,
) -> Result<Series, LedgerError> {
    let to = minute_of(at);
    let from = to - BURNRATE_SPAN_MINUTES + 1;
    let target = target(slo, objective);
    let width = BURN_WINDOW_MINUTES.max(slice_minutes(slo, objective));
    let mut points = Vec::new();
    for minute in spread(from, to, BURNRATE_POINTS) {
        let tally = tally(ledger, slo, objective, MinuteRange::last(minute, width))?;
        points.push((minute, burn(&tally, target)));
    }
    Ok(Series { from, to, points })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_bounded_evenly_spread_and_end_at_the_last_minute() {
        let minutes = spread(0, 43_199, 60);
        assert_eq!(minutes.len(), 60);
        assert_eq!((minutes[0], minutes[59]), (0, 43_199));
        assert!(minutes.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn a_short_range_has_one_point_per_minute_and_an_empty_one_none() {
        assert_eq!(spread(10, 13, 60), [10, 11, 12, 13]);
        assert_eq!(spread(10, 10, 60), [10]);
        assert!(spread(11, 10, 60).is_empty());
    }

    #[test]
    fn budget_and_burn_follow_the_status_formulas() {
        let t = Tally {
            good: 95,
            total: 100,
            errors: 0,
            evaluations: 100,
        };
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
        assert!(close(remaining(&t, 0.9), 0.5));
        assert!(close(burn(&t, 0.9), 0.5));
        assert_eq!(remaining(&Tally::default(), 0.9), None);
        assert_eq!(burn(&t, 1.0), None);
    }
}
