//! Late records and alerts. When records land for minutes an SLO's alerts
//! have already judged (a site coming back with a day of records), each of
//! those minutes is judged again, back at most the lateness horizon. Past
//! transitions are never rewritten: a rule the late data makes true fires
//! now, naming the minutes it held, once per episode; the next pass
//! resolves it when it no longer holds.
//!
//! An episode is a run of minutes the condition held for at least the
//! rule's short window. It is new unless the alert was firing during it, or
//! it overlaps or touches an episode late records already fired it for: a
//! day of records that arrives over several passes fires each episode once.
//! Only the minutes a late record can change are judged: from its minute
//! to the end of the longest window that holds it.

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
    let until = now.min(read.mark.to.saturating_add(lookback(slo)).saturating_add(1));
    let transitions = match from < until {
        true => judge_minutes(ledger, slo, at, from..until, oldest, targets)?,
        false => Vec::new(),
    };
    // A late record filed meanwhile moved the mark: the next pass sees it.
    ledger.clear_late_mark(&slo.name, &read)?;
    Ok(transitions)
}

/// How many minutes back the alerts of `slo` look: its longest window.
fn lookback(slo: &Slo) -> i64 {
    let a = &slo.alerting;
    // The errors alert reads the first rule's long window, or an hour.
    let longest = a.rules.iter().map(|r| r.long).max();
    whole_minutes(longest.unwrap_or(Duration::from_secs(3600)))
}

/// Per alert but no-data, its condition at the first minute of `minutes`
/// it held (or the first minute), and the minutes it held.
fn held_minutes(
    ledger: &Ledger,
    slo: &Slo,
    minutes: std::ops::Range<i64>,
) -> Result<Vec<(Condition, Vec<i64>)>, LedgerError> {
    let span;
    let source: &dyn Tallies = match minutes.end - minutes.start <= FEW_MINUTES {
        true => ledger,
        false => {
            let first = minutes.start.saturating_sub(lookback(slo));
            span = MinuteSpan::read(ledger, slo, first, minutes.end)?;
            &span
        }
    };
    let mut out: Vec<(Condition, Vec<i64>)> = Vec::new();
    for minute in minutes {
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

/// Whether `alert` of `slo` was firing at any time of minutes
/// `first..=last`, from the log of transitions since `first` (an alert not
/// firing now, with no transition since, was not firing then either).
fn fired_during(
    ledger: &Ledger,
    slo: &str,
    alert: &AlertName,
    (first, last): (i64, i64),
    now: jiff::Timestamp,
) -> Result<bool, LedgerError> {
    let (from, to) = (start_of(first), start_of(last.saturating_add(1)));
    let mut earliest = None;
    for t in ledger.transitions_until(now) {
        let t = t?;
        if t.at < from {
            break;
        }
        if t.slo != slo || t.alert != *alert {
            continue;
        }
        if t.to == TransitionState::Firing && t.at < to {
            return Ok(true);
        }
        earliest = Some(t.to);
    }
    // Resolved first: it was firing when the run began.
    Ok(earliest == Some(TransitionState::Resolved))
}

/// Adds `span` to `spans`, joining those it overlaps or touches.
fn merge(spans: &mut Vec<(i64, i64)>, span: (i64, i64)) {
    spans.push(span);
    spans.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
    for &(a, b) in spans.iter() {
        match out.last_mut() {
            Some((_, last)) if a <= last.saturating_add(1) => *last = (*last).max(b),
            _ => out.push((a, b)),
        }
    }
    *spans = out;
}

fn judge_minutes(
    ledger: &Ledger,
    slo: &Slo,
    at: jiff::Timestamp,
    minutes: std::ops::Range<i64>,
    oldest: i64,
    targets: &[Notifier],
) -> Result<Vec<Transition>, LedgerError> {
    let now = minute_of(at);
    let mut transitions = Vec::new();
    for (c, held) in held_minutes(ledger, slo, minutes)? {
        if held.is_empty() {
            continue;
        }
        let state = ledger.alert_state(&slo.name, &c.alert)?;
        let name = c.alert.to_string();
        let hold = whole_minutes(c.hold_for);
        let stored = ledger.late_episodes(&slo.name, &name)?;
        // Older ones can no longer be joined: runs start at `oldest`.
        let mut spans: Vec<(i64, i64)> = stored
            .iter()
            .copied()
            .filter(|(_, last)| *last >= oldest.saturating_sub(1))
            .collect();
        let mut new = Vec::new();
        for (first, mut last) in runs(&held) {
            // Still holding now: the pending alert has held since `first`.
            if state.phase == AlertPhase::Pending && last + 1 == now {
                last = now;
            }
            if last - first < hold {
                continue;
            }
            let joins = spans
                .iter()
                .any(|&(a, b)| first <= b.saturating_add(1) && last.saturating_add(1) >= a);
            let seen = joins
                || state.phase == AlertPhase::Firing
                || fired_during(ledger, &slo.name, &c.alert, (first, last), at)?;
            merge(&mut spans, (first, last));
            if !seen {
                new.push((first, last));
            }
        }
        if let (Some(&(first, _)), Some(&(_, last))) = (new.first(), new.last()) {
            let held = LateHeld {
                from: start_of(first),
                to: start_of(last),
                evaluations: new
                    .iter()
                    .map(|(a, b)| u64::try_from(b - a + 1).unwrap_or(0))
                    .sum(),
            };
            let stretches = match new.len() {
                1 => String::new(),
                n => format!(" (in {n} stretches)"),
            };
            // The normal judgement moved it at `at`: log this one after it.
            let dated = match state.since == at {
                true => at + jiff::SignedDuration::from_nanos(1),
                false => at,
            };
            let transition = Transition {
                slo: slo.name.clone(),
                dataset: slo.dataset.clone(),
                alert: c.alert,
                severity: c.severity,
                to: TransitionState::Firing,
                at: dated,
                summary: format!(
                    "late records: held at {} evaluation times from {} to {}{stretches}; at the first, {}",
                    held.evaluations, held.from, held.to, c.summary
                ),
                late: Some(held),
            };
            ledger.set_alert_state(
                &slo.name,
                &c.alert,
                AlertState {
                    phase: AlertPhase::Firing,
                    since: dated,
                },
                Some(&transition),
                targets,
            )?;
            transitions.push(transition);
        }
        // After the firing: a crash between leaves it to fire again, never
        // to be thought fired.
        if spans != stored {
            ledger.set_late_episodes(&slo.name, &name, &spans)?;
        }
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

    #[test]
    fn an_episode_joins_those_it_overlaps_or_touches_and_no_other() {
        let mut spans = vec![(10, 20), (40, 50)];
        merge(&mut spans, (21, 25));
        assert_eq!(spans, [(10, 25), (40, 50)]);
        merge(&mut spans, (30, 35));
        assert_eq!(spans, [(10, 25), (30, 35), (40, 50)]);
        merge(&mut spans, (24, 41));
        assert_eq!(spans, [(10, 50)]);
    }
}
