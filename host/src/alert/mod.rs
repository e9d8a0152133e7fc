//! Alerts: multi-window, multi-burn-rate rules, the no-data and error alerts,
//! their state machine (inactive → pending → firing → resolved), and delivery
//! of transitions to webhooks and Alertmanagers through the ledger's outbox.
//!
//! A burn-rate rule fires when both its windows burn at least its factor; a
//! long window with fewer than `min_events` events (or a short window with
//! none) is "no data" and never fires.
//! A rule stays pending until its condition has held for its short window.
//!
//! Alerts are named by [`AlertName`] and notified to [`Notifier`]s, both
//! defined in the model because the ledger stores them.
//!
//! Depends on slo, ledger, budget, model and the `[notifiers]` section of
//! config.

pub mod alertmanager;
mod late;
mod webhook;

pub use webhook::{Delivery, deliver_outbox, deliver_outbox_while};

use crate::budget::{MinuteRange, Tallies, Tally};
use crate::config::NotifiersConfig;
use crate::ledger::{AlertPhase, AlertState, Ledger, LedgerError, Transition, minute_of};
use crate::model::{AlertName, AlertWindow, Notifier, TransitionState};
use crate::slo::{BurnRule, Severity, Slo};
use std::time::Duration;

/// One alert's condition at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The alert.
    pub alert: AlertName,
    /// `page` or `ticket`.
    pub severity: Severity,
    /// Whether it holds.
    pub holds: bool,
    /// How long it must hold before firing.
    pub hold_for: Duration,
    /// The figures, for humans.
    pub summary: String,
}

fn minutes(d: Duration) -> i64 {
    i64::try_from(window_of(d).minutes()).unwrap_or(i64::MAX)
}

fn window_of(d: Duration) -> AlertWindow {
    AlertWindow::from_duration(d)
}

fn burn(t: &Tally, target: f64) -> Option<f64> {
    (t.total > 0).then(|| t.bad() as f64 / t.total as f64 / (1.0 - target))
}

/// One burn-rate rule's two windows at a time: what its alert judges, and
/// what `/metrics` exports under the rule's name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleBurn {
    /// The rule's alert, e.g. `page:1h/5m`.
    pub alert: AlertName,
    /// The burn rate both windows must reach.
    pub factor: f64,
    /// The long window.
    pub long: WindowBurn,
    /// The short window.
    pub short: WindowBurn,
}

/// One window of a rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowBurn {
    /// What `min_events` counts: evaluations (Timeslices) or events (Occurrences).
    pub events: u64,
    /// Bad fraction / (1 − target); `None` without events.
    pub rate: Option<f64>,
}

/// The windows of `rule` of `slo` (its first objective) at `at`.
pub fn rule_burn<T: Tallies + ?Sized>(
    source: &T,
    slo: &Slo,
    rule: &BurnRule,
    at: jiff::Timestamp,
) -> Result<RuleBurn, LedgerError> {
    let to = minute_of(at);
    let target = slo.objectives.first().map_or(0.99, |o| o.target);
    let window = |length: Duration| -> Result<WindowBurn, LedgerError> {
        let t = source.tally(slo, 0, MinuteRange::last(to, minutes(length)))?;
        // Timeslices count evaluations: a slice is not an event.
        let events = match slo.budgeting {
            crate::slo::Budgeting::Timeslices => t.evaluations,
            crate::slo::Budgeting::Occurrences => t.total,
        };
        Ok(WindowBurn {
            events,
            rate: burn(&t, target),
        })
    };
    Ok(RuleBurn {
        alert: rule_name(rule),
        factor: rule.factor,
        long: window(rule.long)?,
        short: window(rule.short)?,
    })
}

/// The conditions of every alert of `slo` (its first objective) at `at`.
pub fn conditions<T: Tallies + ?Sized>(
    source: &T,
    slo: &Slo,
    at: jiff::Timestamp,
) -> Result<Vec<Condition>, LedgerError> {
    let to = minute_of(at);
    let a = &slo.alerting;
    let mut out = Vec::new();
    for rule in &a.rules {
        let RuleBurn {
            alert, long, short, ..
        } = rule_burn(source, slo, rule, at)?;
        // The long window carries the significance; the short one only has to
        // show the burn is still going on.
        let enough = long.events >= a.min_events && short.events >= 1;
        let (bl, bs) = (long.rate, short.rate);
        let holds =
            enough && bl.is_some_and(|b| b >= rule.factor) && bs.is_some_and(|b| b >= rule.factor);
        let fmt = |b: Option<f64>| b.map_or_else(|| "no data".to_string(), |b| format!("{b:.2}"));
        let summary = if enough {
            format!(
                "burn {} over {} and {} over {} (fires at {})",
                fmt(bl),
                window_of(rule.long),
                fmt(bs),
                window_of(rule.short),
                rule.factor
            )
        } else {
            format!(
                "too few events to judge ({} and {}, need {} and 1)",
                long.events, short.events, a.min_events
            )
        };
        out.push(Condition {
            alert,
            severity: rule.severity,
            holds,
            hold_for: rule.short,
            summary,
        });
    }
    let recent = source.tally(slo, 0, MinuteRange::last(to, minutes(a.no_data_after)))?;
    out.push(Condition {
        alert: AlertName::NoData,
        severity: AlertName::NoData.severity(),
        // Failed evaluations are not data: they have their own alert.
        holds: recent.evaluations == 0,
        hold_for: Duration::ZERO,
        summary: format!(
            "no measured evaluation in the last {}",
            window_of(a.no_data_after)
        ),
    });
    let page_long = a
        .rules
        .first()
        .map_or(Duration::from_secs(3600), |r| r.long);
    let errors = source.tally(slo, 0, MinuteRange::last(to, minutes(page_long)))?;
    out.push(Condition {
        alert: AlertName::Errors,
        severity: AlertName::Errors.severity(),
        holds: errors.errors >= a.min_events && errors.errors >= errors.evaluations,
        hold_for: Duration::ZERO,
        summary: format!(
            "{} failed and {} measured evaluations in {}",
            errors.errors,
            errors.evaluations,
            window_of(page_long)
        ),
    });
    Ok(out)
}

/// The notifiers of `[notifiers]`: the webhooks, then the Alertmanagers.
/// The one place the config's lists become notifiers.
pub fn notifiers(config: &NotifiersConfig) -> Vec<Notifier> {
    let webhooks = config.webhooks.iter().cloned().map(Notifier::Webhook);
    let managers = config.alertmanagers.iter().cloned();
    webhooks
        .chain(managers.map(Notifier::Alertmanager))
        .collect()
}

/// A burn-rate rule's alert, named e.g. `page:1h/5m`.
fn rule_name(rule: &BurnRule) -> AlertName {
    AlertName::BurnRate {
        severity: rule.severity,
        long: window_of(rule.long),
        short: window_of(rule.short),
    }
}

/// Moves every alert of `slo` along its state machine at `at`, storing states,
/// transitions and notifications for `targets`. Returns the transitions.
/// Evaluating twice at the same time changes nothing the second time.
///
/// Records filed since the last evaluation for minutes it had already judged
/// are judged again at each of those minutes, back at most `lateness`: a
/// rule they make true fires now (see [`late`]).
pub fn evaluate(
    ledger: &Ledger,
    slo: &Slo,
    at: jiff::Timestamp,
    targets: &[Notifier],
    lateness: Duration,
) -> Result<Vec<Transition>, LedgerError> {
    // From here on, a record for an earlier minute is late.
    ledger.set_judged(&slo.name, minute_of(at))?;
    let mut transitions = Vec::new();
    for c in conditions(ledger, slo, at)? {
        let state = ledger.alert_state(&slo.name, &c.alert)?;
        let held = at.duration_since(state.since).unsigned_abs();
        // The new phase, and the transition announcing it if any: pending
        // back to inactive announces nothing.
        let next = match (state.phase, c.holds) {
            (AlertPhase::Inactive, true) if c.hold_for.is_zero() => {
                Some((AlertPhase::Firing, Some(TransitionState::Firing)))
            }
            (AlertPhase::Inactive, true) => {
                Some((AlertPhase::Pending, Some(TransitionState::Pending)))
            }
            (AlertPhase::Pending, true) if held >= c.hold_for => {
                Some((AlertPhase::Firing, Some(TransitionState::Firing)))
            }
            (AlertPhase::Pending, false) => Some((AlertPhase::Inactive, None)),
            (AlertPhase::Firing, false) => {
                Some((AlertPhase::Inactive, Some(TransitionState::Resolved)))
            }
            _ => None,
        };
        let Some((phase, to)) = next else { continue };
        let transition = to.map(|to| Transition {
            slo: slo.name.clone(),
            dataset: slo.dataset.clone(),
            alert: c.alert,
            severity: c.severity,
            to,
            at,
            summary: c.summary.clone(),
            late: None,
        });
        ledger.set_alert_state(
            &slo.name,
            &c.alert,
            AlertState { phase, since: at },
            transition.as_ref(),
            targets,
        )?;
        transitions.extend(transition);
    }
    transitions.extend(late::judge_late(ledger, slo, at, lateness, targets)?);
    Ok(transitions)
}

/// Every alert of `slo`: its burn-rate rules, `no-data` and `errors`.
pub fn alert_names(slo: &Slo) -> Vec<AlertName> {
    let mut names: Vec<AlertName> = slo.alerting.rules.iter().map(rule_name).collect();
    names.extend([AlertName::NoData, AlertName::Errors]);
    names
}

/// The alerts of `slo` firing now.
pub fn firing(ledger: &Ledger, slo: &Slo) -> Result<Vec<AlertName>, LedgerError> {
    let mut out = Vec::new();
    for name in alert_names(slo) {
        if ledger.alert_state(&slo.name, &name)?.phase == AlertPhase::Firing {
            out.push(name);
        }
    }
    Ok(out)
}

/// The alerts of `slo` firing at `at`, from the log of transitions: those
/// whose last transition at or before `at` is `firing`. Every change in or
/// out of firing is logged, so this is the state the clock passes left at
/// `at`; past the last pass, it is the state now.
pub fn firing_at(
    ledger: &Ledger,
    slo: &Slo,
    at: jiff::Timestamp,
) -> Result<Vec<AlertName>, LedgerError> {
    let names = alert_names(slo);
    let mut last: Vec<Option<TransitionState>> = vec![None; names.len()];
    let mut undecided = names.len();
    for transition in ledger.transitions_until(at) {
        if undecided == 0 {
            break;
        }
        let t = transition?;
        if t.slo != slo.name {
            continue;
        }
        if let Some(i) = names.iter().position(|n| *n == t.alert)
            && last[i].is_none()
        {
            last[i] = Some(t.to);
            undecided -= 1;
        }
    }
    Ok(names
        .into_iter()
        .zip(last)
        .filter(|(_, to)| *to == Some(TransitionState::Firing))
        .map(|(name, _)| name)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notifiers_section_gives_its_webhooks_then_its_alertmanagers() {
        let config = NotifiersConfig {
            webhooks: vec!["https://hooks.example/a".into(), "http://b/hook".into()],
            alertmanagers: vec!["http://127.0.0.1:9093".into()],
        };
        assert_eq!(
            notifiers(&config),
            [
                Notifier::Webhook("https://hooks.example/a".into()),
                Notifier::Webhook("http://b/hook".into()),
                Notifier::Alertmanager("http://127.0.0.1:9093".into()),
            ]
        );
        assert!(notifiers(&NotifiersConfig::default()).is_empty());
    }
}
