//! When a replay evaluates: the times the scheduler evaluated at.

use crate::ledger::{Ledger, LedgerError};
use crate::model::Observation;
use crate::scheduler::tick_key;
use crate::slo::{Slo, Trigger};

/// The evaluation times from `from` on: each observation's (observation
/// trigger), or each tick the ledger recorded (schedule), or, for a
/// scheduled SLO that recorded none, every tick up to the last observation.
pub(super) fn steps(
    ledger: &Ledger,
    slo: &Slo,
    observations: &[Observation],
    from: jiff::Timestamp,
) -> Result<Vec<jiff::Timestamp>, LedgerError> {
    let mut times: Vec<jiff::Timestamp> = match slo.trigger {
        Trigger::Observation => observations
            .iter()
            .map(|o| o.observed_at)
            .filter(|t| *t >= from)
            .collect(),
        Trigger::Schedule(every) => {
            let mut ticks = Vec::new();
            for record in ledger.records(Some(&slo.name), Some(from)) {
                let record = record?;
                let ns = i64::try_from(record.time.as_nanosecond()).unwrap_or(i64::MAX);
                if record.key == tick_key(ns) {
                    ticks.push(record.time);
                }
            }
            if ticks.is_empty() {
                ticks = grid(every, from, observations.last().map(|o| o.observed_at));
            }
            ticks
        }
    };
    times.sort();
    times.dedup();
    Ok(times)
}

/// The ticks of period `every` from `from` to `to`.
fn grid(
    every: std::time::Duration,
    from: jiff::Timestamp,
    to: Option<jiff::Timestamp>,
) -> Vec<jiff::Timestamp> {
    let Some(to) = to else { return Vec::new() };
    let step = i128::try_from(every.as_nanos()).unwrap_or(i128::MAX).max(1);
    let mut t = (from.as_nanosecond() + step - 1).div_euclid(step) * step;
    let mut out = Vec::new();
    while t <= to.as_nanosecond() {
        match jiff::Timestamp::from_nanosecond(t) {
            Ok(at) => out.push(at),
            Err(_) => break,
        }
        t += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_grid_starts_at_the_first_tick_not_before_from_and_ends_at_to() {
        let five = std::time::Duration::from_secs(300);
        let ticks = grid(
            five,
            t("2026-11-26T08:02:00Z"),
            Some(t("2026-11-26T08:15:00Z")),
        );
        let expected: Vec<_> = ["08:05", "08:10", "08:15"]
            .iter()
            .map(|hm| t(&format!("2026-11-26T{hm}:00Z")))
            .collect();
        assert_eq!(ticks, expected);
        assert!(grid(five, t("2026-11-26T08:02:00Z"), None).is_empty());
    }
}
