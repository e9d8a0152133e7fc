//! Delivering the outbox: each transition POSTed as JSON to its webhook (or
//! as a postable alert to its Alertmanager), removed only after a 2xx answer,
//! retried with exponential backoff otherwise.

use super::alertmanager;
use crate::ledger::{Ledger, LedgerError, OutboxEntry};
use crate::model::Notifier;
use std::collections::HashSet;
use std::time::Duration;

/// What one delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Notifications delivered.
    pub delivered: usize,
    /// Attempts that failed (kept for retry).
    pub failed: usize,
    /// Notifications not yet due.
    pub waiting: usize,
}

/// Backoff after `attempts` failures: 1 s, 2 s, 4 s, ... capped at 10 minutes.
pub fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.min(10)).min(Duration::from_secs(600))
}

/// Tries every due notification once.
pub fn deliver_outbox(
    ledger: &Ledger,
    now: jiff::Timestamp,
    timeout: Duration,
) -> Result<Delivery, LedgerError> {
    deliver_outbox_while(ledger, now, timeout, || Some(Duration::MAX))
}

/// The least hold left worth starting a notification in.
const LEAST_HOLD: Duration = Duration::from_millis(500);

/// Tries every due notification once, asking `hold_left` (how much longer
/// this process may notify) before each, and ending each by then: a central
/// replica whose tick lease would end mid-delivery leaves the rest to the
/// replica that takes over, never sending one while that replica does.
pub fn deliver_outbox_while(
    ledger: &Ledger,
    now: jiff::Timestamp,
    timeout: Duration,
    hold_left: impl Fn() -> Option<Duration>,
) -> Result<Delivery, LedgerError> {
    let agent_for = |timeout: Duration| {
        ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .build()
            .new_agent()
    };
    let agent = agent_for(timeout);
    let mut report = Delivery::default();
    // Alertmanagers get their transitions in order: a firing sent after its
    // resolve would open the alert again. So behind an entry still waiting,
    // later ones to the same Alertmanager wait too.
    let mut held = HashSet::new();
    for (id, mut entry) in ledger.outbox()? {
        if in_order(&entry.target) && held.contains(&entry.target) {
            report.waiting += 1;
            continue;
        }
        if entry.next_attempt > now {
            report.waiting += 1;
            held.insert(entry.target.clone());
            continue;
        }
        let Some(left) = hold_left().filter(|left| *left >= timeout.min(LEAST_HOLD)) else {
            break;
        };
        let shorter;
        let agent = match left < timeout {
            true => {
                shorter = agent_for(left);
                &shorter
            }
            false => &agent,
        };
        match send(agent, &entry, ledger.tenant(), now) {
            Ok(()) => {
                ledger.outbox_delivered(id)?;
                report.delivered += 1;
            }
            Err(e) => {
                entry.attempts += 1;
                entry.last_error = Some(e.to_string());
                let wait =
                    jiff::SignedDuration::try_from(backoff(entry.attempts)).unwrap_or_default();
                entry.next_attempt = now.checked_add(wait).unwrap_or(now);
                ledger.outbox_retry(id, &entry)?;
                report.failed += 1;
                held.insert(entry.target);
            }
        }
    }
    // Nothing written, nothing to flush (a simulation calls this every step).
    if report.delivered + report.failed > 0 {
        ledger.flush()?;
    }
    Ok(report)
}

/// Whether a notifier must get its transitions in the order they happened.
fn in_order(notifier: &Notifier) -> bool {
    match notifier {
        Notifier::Webhook(_) => false,
        Notifier::Alertmanager(_) => true,
    }
}

/// POSTs `body` as JSON written by [`crate::model::to_json`]: the receiver
/// may show its names to a person.
pub(super) fn post_json(
    agent: &ureq::Agent,
    url: &str,
    body: &impl serde::Serialize,
) -> Result<(), ureq::Error> {
    let text = crate::model::to_json(body)?;
    agent
        .post(url)
        .header("Content-Type", "application/json; charset=utf-8")
        .send(text.as_bytes())
        .map(drop)
}

/// Sends one outbox entry to its notifier; any answer but 2xx is an error.
fn send(
    agent: &ureq::Agent,
    entry: &OutboxEntry,
    tenant: &str,
    now: jiff::Timestamp,
) -> Result<(), ureq::Error> {
    match &entry.target {
        Notifier::Webhook(url) => post_json(agent, url, &entry.transition),
        Notifier::Alertmanager(base) => {
            let alert = alertmanager::from_transition(&entry.transition, tenant, now);
            alertmanager::send(agent, base, &[alert])
        }
    }
}
