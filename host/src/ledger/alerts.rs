//! Alert state, the log of its transitions, and the outbox of notifications
//! still to deliver. A transition, the new state and its outbox entries commit
//! together, so a notification is never lost nor sent for a state not stored.

use super::{Ledger, LedgerError, codec, keys};
use crate::model::{AlertName, DatasetRef, Notifier, Severity, TransitionState};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertPhase {
    /// Its condition does not hold.
    Inactive,
    /// Its condition holds, not yet for long enough.
    Pending,
    /// It fires.
    Firing,
}

/// The stored state of one alert of one SLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    /// The phase.
    pub phase: AlertPhase,
    /// When the phase began.
    pub since: jiff::Timestamp,
}

/// One change of an alert's phase, as logged and notified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// The SLO.
    pub slo: String,
    /// Its dataset.
    pub dataset: DatasetRef,
    /// The alert, e.g. `page:1h/5m`, `no-data`, `errors`.
    pub alert: AlertName,
    /// `page` or `ticket`.
    pub severity: Severity,
    /// `pending`, `firing` or `resolved`.
    pub to: TransitionState,
    /// When.
    pub at: jiff::Timestamp,
    /// Why, with the figures.
    pub summary: String,
    /// For an alert that records filed late made fire: the minutes its
    /// condition held in the past. The transition itself is dated now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateHeld>,
}

/// The past evaluation times at which a late-fired alert's condition held:
/// every minute from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateHeld {
    /// The first minute it held.
    pub from: jiff::Timestamp,
    /// The last.
    pub to: jiff::Timestamp,
    /// The minutes it held, `from` and `to` included.
    pub evaluations: u64,
}

/// A notification waiting for delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Where it goes.
    pub target: Notifier,
    /// The transition to send.
    pub transition: Transition,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not before this time.
    pub next_attempt: jiff::Timestamp,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

/// Queues `t` to every target, inside a transaction on the outbox.
fn queue(
    outbox: &sled::transaction::TransactionalTree,
    t: &Transition,
    targets: &[Notifier],
) -> Result<(), ConflictableTransactionError<LedgerError>> {
    for target in targets {
        let entry = OutboxEntry {
            target: target.clone(),
            transition: t.clone(),
            attempts: 0,
            next_attempt: t.at,
            last_error: None,
        };
        let id = keys::OutboxKey(outbox.generate_id()?);
        outbox.insert(&id.encode(), codec::encode(&entry))?;
    }
    Ok(())
}

fn abort(e: TransactionError<LedgerError>) -> LedgerError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => e.into(),
    }
}

impl Ledger {
    /// The state of `alert` of `slo`; inactive since the epoch when never seen.
    pub fn alert_state(&self, slo: &str, alert: &AlertName) -> Result<AlertState, LedgerError> {
        let alert = alert.to_string();
        let key = keys::AlertKey { slo, alert: &alert }.encode();
        match self.alerts.get(&key)? {
            Some(bytes) => codec::decode("alerts", &key, &bytes),
            None => Ok(AlertState {
                phase: AlertPhase::Inactive,
                since: jiff::Timestamp::UNIX_EPOCH,
            }),
        }
    }

    /// Stores a new state, and its transition (queued to every target) if any.
    pub fn set_alert_state(
        &self,
        slo: &str,
        alert: &AlertName,
        state: AlertState,
        transition: Option<&Transition>,
        targets: &[Notifier],
    ) -> Result<(), LedgerError> {
        let alert = alert.to_string();
        let alert_key = keys::AlertKey { slo, alert: &alert };
        let key = alert_key.encode();
        let value = codec::encode(&state);
        (&self.alerts, &self.alert_log, &self.outbox)
            .transaction(|(alerts, log, outbox)| {
                alerts.insert(key.as_slice(), value.as_slice())?;
                if let Some(t) = transition {
                    let log_key = keys::AlertLogKey::new(t.at, alert_key).encode();
                    log.insert(log_key, codec::encode(t))?;
                    if t.to.is_notified() {
                        queue(outbox, t, targets)?;
                    }
                }
                Ok::<_, ConflictableTransactionError<LedgerError>>(())
            })
            .map_err(abort)
    }

    /// Every transition, oldest first.
    pub fn transitions(&self) -> Result<Vec<Transition>, LedgerError> {
        self.alert_log
            .iter()
            .map(|item| {
                let (key, bytes) = item?;
                codec::decode("alert_log", &key, &bytes)
            })
            .collect()
    }

    /// The transitions at or before `until`, newest first, read lazily: a
    /// caller looking for the last ones stops early.
    pub fn transitions_until(
        &self,
        until: jiff::Timestamp,
    ) -> impl Iterator<Item = Result<Transition, LedgerError>> + '_ {
        self.alert_log
            .range(..keys::alert_log_until(until))
            .rev()
            .map(|item| {
                let (key, bytes) = item?;
                codec::decode("alert_log", &key, &bytes)
            })
    }

    /// Queues to every target the notified transitions logged after
    /// `after`, as they were when they happened; how many it queued. A
    /// central replica that takes the tick lease over sends this way what it
    /// recorded, without notifiers, while another held the lease.
    pub fn queue_transitions_after(
        &self,
        after: jiff::Timestamp,
        targets: &[Notifier],
    ) -> Result<usize, LedgerError> {
        let mut missed = Vec::new();
        for item in self.alert_log.range(keys::alert_log_until(after)..) {
            let (key, bytes) = item?;
            let t: Transition = codec::decode("alert_log", &key, &bytes)?;
            if t.to.is_notified() {
                missed.push(t);
            }
        }
        if missed.is_empty() || targets.is_empty() {
            return Ok(0);
        }
        self.outbox
            .transaction(|outbox| {
                for t in &missed {
                    queue(outbox, t, targets)?;
                }
                Ok::<_, ConflictableTransactionError<LedgerError>>(())
            })
            .map_err(abort)?;
        Ok(missed.len() * targets.len())
    }

    /// Notifications waiting, with their ids, oldest first.
    pub fn outbox(&self) -> Result<Vec<(u64, OutboxEntry)>, LedgerError> {
        self.outbox
            .iter()
            .map(|item| {
                let (key, bytes) = item?;
                let id = keys::OutboxKey::parse(&key)
                    .ok_or_else(|| LedgerError::bad_key("outbox", &key))?;
                Ok((id.0, codec::decode("outbox", &key, &bytes)?))
            })
            .collect()
    }

    /// A notification was delivered: forget it.
    pub fn outbox_delivered(&self, id: u64) -> Result<(), LedgerError> {
        self.outbox.remove(keys::OutboxKey(id).encode())?;
        Ok(())
    }

    /// A delivery failed: store the attempt and when to retry.
    pub fn outbox_retry(&self, id: u64, entry: &OutboxEntry) -> Result<(), LedgerError> {
        self.outbox
            .insert(keys::OutboxKey(id).encode(), codec::encode(entry))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transition and its outbox entry as the ledger stored them when
    /// their names were strings: they must read back and write the same bytes.
    const TRANSITION: &str = r#"{"slo":"fresh","dataset":{"namespace":"postgres://prod","name":"orders"},"alert":"page:1h/15m","severity":"page","to":"firing","at":"2026-11-26T01:20:00Z","summary":"burn 10.00 over 1h and 10.00 over 15m (fires at 5)"}"#;

    fn entry(target: &str) -> String {
        format!(
            r#"{{"target":"{target}","transition":{TRANSITION},"attempts":2,"next_attempt":"2026-11-26T01:20:04Z","last_error":"http status: 500"}}"#
        )
    }

    #[test]
    fn stored_transitions_and_outbox_entries_keep_their_json_byte_for_byte() {
        let t: Transition = serde_json::from_str(TRANSITION).unwrap();
        assert_eq!(t.alert.to_string(), "page:1h/15m");
        assert_eq!(
            (t.severity, t.to),
            (Severity::Page, TransitionState::Firing)
        );
        assert_eq!(serde_json::to_string(&t).unwrap(), TRANSITION);
        for (stored, notifier) in [
            (
                "http://127.0.0.1:8080/hook",
                Notifier::Webhook("http://127.0.0.1:8080/hook".into()),
            ),
            (
                "alertmanager+http://127.0.0.1:9093",
                Notifier::Alertmanager("http://127.0.0.1:9093".into()),
            ),
        ] {
            let json = entry(stored);
            let e: OutboxEntry = serde_json::from_str(&json).unwrap();
            assert_eq!(e.target, notifier);
            assert_eq!(serde_json::to_string(&e).unwrap(), json);
        }
    }

    #[test]
    fn a_no_data_or_error_transition_keeps_its_plain_name() {
        for (name, alert) in [
            ("no-data", AlertName::NoData),
            ("errors", AlertName::Errors),
        ] {
            let json = TRANSITION
                .replace("page:1h/15m", name)
                .replace(r#""page""#, r#""ticket""#)
                .replace("firing", "resolved");
            let t: Transition = serde_json::from_str(&json).unwrap();
            assert_eq!(t.alert, alert);
            assert_eq!(t.to, TransitionState::Resolved);
            assert_eq!(serde_json::to_string(&t).unwrap(), json);
        }
    }
}
