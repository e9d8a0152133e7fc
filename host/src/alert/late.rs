//! Late records and alerts. When records land for minutes an SLO's alerts
//! have already judged (a site coming back with a day of records), each of
//! those minutes is judged again, back at most the lateness horizon. Past
//! transitions are never rewritten: a rule the late data makes true fires
//! now, naming the minutes it held, once per episode; the next pass
//! resolves it when it no longer holds.
//!
//! An episode is a run of minutes the condition held for at least the
//! rule's short window. It is new unless the alert was firing during it, or
//! it joins the last episode late records fired for: a day of records that
//! arrives over several passes fires each episode once.

use super::{Condition, conditions};
use crate::budget::{MinuteSpan, Tallies};
use crate::ledger::{AlertPhase, AlertState, LateHeld, Ledger, LedgerError, Transition, minute_of};
use crate::model::{AlertName, Notifier, TransitionState};
use crate::slo::Slo;
use std::time::Duration;

/// Up to this many minutes are judged again from the ledger's hour and day
/// buckets; more, from the minute buckets read once.
const FEW_MINUTES: i64 = 30;

/// The start of `minute`.
fn start_of(minute: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(minute.saturating_mul(60)).unwrap_or(jiff::Timestamp::MAX)
}

fn whole_minutes(d: Duration) -> i64 {
    i64::try_from(d.as_secs() / 60).unwrap_or(i64::MAX)
}

/// Judges again the minutes late records were filed for since the last
/// pass, and fires now what they made true. Returns the transitions.
pub(super) fn judge_late(
    ledger: &Ledger,
    slo: &Slo,
    at: jiff::Timestamp,
    lateness: Duration,
    targets: &[Notifier],
) -> Result<Vec<Transition>, LedgerError> {
    let Some(read) = ledger.late_mark(&slo.name)? else {
        return Ok(Vec::new());
    };
    let now = minute_of(at);
    let oldest = now.saturating_sub(whole_minutes(lateness));
    if read.mark.from < oldest {
        tracing::warn!(
            slo = %slo.name,
            from = %start_of(read.mark.from),
            horizon = %humantime::format_duration(lateness),
            "records older than the lateness horizon are counted but not judged again for alerts"
        );
    }
    let from = read.mark.from.max(oldest);
    let transitions = match from < now {
        true => judge_minutes(ledger, slo, at, from, targets)?,
        false => Vec::new(),
    };
    // A late record filed meanwhile moved the mark: the next pass sees it.
    ledger.clear_late_mark(&slo.name, &read)?;
    Ok(transitions)
}

/// The conditions of `slo` at every minute of `from..now`, per alert.
fn held_minutes(
    ledger: &Ledger,
    slo: &Slo,
    from: i64,
    now: i64,
) -> Result<Vec<(Condition, Vec<i64>)>, LedgerError> {
    let a = &slo.alerting;
    let longest = a
        .rules
        .iter()
        .map(|r| r.long)
        .chain([a.no_data_after])
        .max()
        .map_or(0, whole_minutes);
    let span;
    let source: &dyn Tallies = match now - from <= FEW_MINUTES {
        true => ledger,
        false => {
            span = MinuteSpan::read(ledger, slo, from.saturating_sub(longest), now)?;
            &span
        }
    };
    let mut out: Vec<(Condition, Vec<i64>)> = Vec::new();
    for minute in from..now {
        for c in conditions(source, slo, start_of(minute))? {
            // More data never makes "no data" true.
            if c.alert == AlertName::NoData {
                continue;
            }
            let i = match out.iter().position(|(o, _)| o.alert == c.alert) {
                Some(i) => i,
                None => {
                    out.push((c.clone(), Vec::new()));
                    out.len() - 1
                }
            };
            if c.holds {
                // The first minute's figures say why.
                if out[i].1.is_empty() {
                    out[i].0 = c;
                }
                out[i].1.push(minute);
            }
        }
    }
    Ok(out)
}

/// Runs of consecutive minutes, as (first, last).
fn runs(minutes: &[i64]) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &m in minutes {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == m => *last = m,
            _ => out.push((m, m)),
        }
    }
    out
}

/// Whether `alert` of `slo` was firing at any time of `from..=to`, from the
/// log of transitions.
fn fired_during(
    ledger: &Ledger,
    slo: &str,
    alert: &AlertName,
    from: jiff::Timestamp,
    to: jiff::Timestamp,
) -> Result<bool, LedgerError> {
    for t in ledger.transitions_until(to) {
        let t = t?;
        if t.slo != slo || t.alert != *alert {
            continue;
        }
        if t.at < from {
            // The state it entered the span in.
            return Ok(t.to == TransitionState::Firing);
        }
        if t.to == TransitionState::Firing {
            return Ok(true);
        }
    }
    Ok(false)
}

fn judge_minutes(
    ledger: &Ledger,
    slo: &Slo,
    at: jiff::Timestamp,
    from: i64,
    targets: &[Notifier],
) -> Result<Vec<Transition>, LedgerError> {
    let now = minute_of(at);
    let mut transitions = Vec::new();
    for (c, held) in held_minutes(ledger, slo, from, now)? {
        let state = ledger.alert_state(&slo.name, &c.alert)?;
        if held.is_empty() || state.phase == AlertPhase::Firing {
            continue;
        }
        let name = c.alert.to_string();
        let hold = whole_minutes(c.hold_for);
        let mut episode = ledger.late_episode(&slo.name, &name)?;
        let mut new = None;
        for (first, mut last) in runs(&held) {
            // Still holding now: the pending alert has held since `first`.
            if state.phase == AlertPhase::Pending && last + 1 == now {
                last = now;
            }
            if last - first < hold {
                continue;
            }
            let joins = episode.is_some_and(|e| first <= e + 1);
            episode = Some(episode.map_or(last, |e| e.max(last)));
            let seen = joins
                || fired_during(
                    ledger,
                    &slo.name,
                    &c.alert,
                    start_of(first),
                    start_of(last + 1),
                )?;
            if !seen && new.is_none() {
                new = Some((first, last));
            }
        }
        if let Some(last) = episode {
            ledger.set_late_episode(&slo.name, &name, last)?;
        }
        let Some((first, last)) = new else { continue };
        let held = LateHeld {
            from: start_of(first),
            to: start_of(last),
            evaluations: u64::try_from(last - first + 1).unwrap_or(u64::MAX),
        };
        let transition = Transition {
            slo: slo.name.clone(),
            dataset: slo.dataset.clone(),
            alert: c.alert,
            severity: c.severity,
            to: TransitionState::Firing,
            at,
            summary: format!(
                "late records: held at {} evaluation times from {} to {}; at the first, {}",
                held.evaluations, held.from, held.to, c.summary
            ),
            late: Some(held),
        };
        ledger.set_alert_state(
            &slo.name,
            &c.alert,
            AlertState {
                phase: AlertPhase::Firing,
                since: at,
            },
            Some(&transition),
            targets,
        )?;
        transitions.push(transition);
    }
    Ok(transitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_minutes_group_into_runs_of_consecutive_minutes() {
        assert_eq!(runs(&[3, 4, 5, 9, 11, 12]), [(3, 5), (9, 9), (11, 12)]);
        assert!(runs(&[]).is_empty());
    }
}
