//! The feed: an agent's records in the order they were made, for publishing.
//!
//! Each new record gets the next sequence number in the transaction that
//! writes it, so the feed's order is commit order and no number is skipped
//! or reused. The publish cursor is the last number the stream acknowledged;
//! entries up to it are removed. Only ledgers of agents and of `serve` with
//! `[nats] url` keep a feed ([`Ledger::start_feed`]); central files the
//! records it consumes with [`Ledger::record_consumed`], outside its feed, so
//! it publishes only its own. `run` publishes nothing.

use super::{EvalRecord, Ledger, LedgerError, codec, keys};
use std::sync::atomic::Ordering;

/// A record to publish, and its place in the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// Its sequence number, from 1.
    pub sequence: u64,
    /// The record.
    pub record: EvalRecord,
}

impl Ledger {
    /// From now on, every new record of this ledger (and of its clones) also
    /// goes to the feed. The first time, the records the ledger already holds
    /// go first, in key order (SLO, then time).
    pub fn start_feed(&self) -> Result<(), LedgerError> {
        if self.meta.get(keys::FEED_NEXT)?.is_none() {
            // Nothing records while an agent starts, so no record is missed
            // between this scan and the flag.
            self.feed.clear()?;
            let mut next = 1;
            for item in self.evaluations.iter() {
                let (key, _) = item?;
                self.feed.insert(keys::FeedKey(next).encode(), key)?;
                next += 1;
            }
            self.meta.insert(keys::FEED_NEXT, &keys::sequence(next))?;
        }
        self.feeding.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Whether new records go to the feed.
    pub(super) fn feeding(&self) -> bool {
        self.feeding.load(Ordering::SeqCst)
    }

    /// Up to `limit` records after the publish cursor, in feed order. An
    /// entry whose record retention removed meanwhile is skipped.
    pub fn unpublished(&self, limit: usize) -> Result<Vec<FeedEntry>, LedgerError> {
        let from = self.publish_cursor()? + 1;
        let mut entries = Vec::new();
        for item in self.feed.range(keys::FeedKey(from).encode()..) {
            let (key, record_key) = item?;
            let Some(keys::FeedKey(sequence)) = keys::FeedKey::parse(&key) else {
                return Err(LedgerError::Corrupt {
                    tree: "feed".into(),
                    key: hex::encode(&key),
                    reason: "not a feed sequence number".into(),
                });
            };
            let Some(bytes) = self.evaluations.get(&record_key)? else {
                continue;
            };
            let record = codec::decode("evaluations", &record_key, &bytes)?;
            entries.push(FeedEntry { sequence, record });
            if entries.len() == limit {
                break;
            }
        }
        Ok(entries)
    }

    /// The last sequence the stream acknowledged; 0 before the first.
    pub fn publish_cursor(&self) -> Result<u64, LedgerError> {
        Ok(self
            .meta
            .get(keys::PUBLISH_CURSOR)?
            .and_then(|v| keys::parse_sequence(&v))
            .unwrap_or(0))
    }

    /// Moves the publish cursor to `sequence` (acknowledged by the stream)
    /// and drops the feed's entries up to it. Not flushed: after a crash the
    /// records since the last flush are published again, and the stream and
    /// central recognise them by key.
    pub fn published(&self, sequence: u64) -> Result<(), LedgerError> {
        if sequence <= self.publish_cursor()? {
            return Ok(());
        }
        self.meta
            .insert(keys::PUBLISH_CURSOR, &keys::sequence(sequence))?;
        let done: Vec<_> = self
            .feed
            .range(..=keys::FeedKey(sequence).encode())
            .keys()
            .collect::<Result<_, _>>()?;
        for key in done {
            self.feed.remove(key)?;
        }
        Ok(())
    }

    /// Records made but not yet acknowledged by the stream.
    pub fn publish_backlog(&self) -> Result<u64, LedgerError> {
        let next = self
            .meta
            .get(keys::FEED_NEXT)?
            .and_then(|v| keys::parse_sequence(&v))
            .unwrap_or(1);
        Ok(next
            .saturating_sub(1)
            .saturating_sub(self.publish_cursor()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Events, Outcome, Stored};
    use crate::model::DatasetRef;

    fn record(slo: &str, at: &str) -> EvalRecord {
        EvalRecord {
            slo: slo.into(),
            dataset: DatasetRef {
                namespace: "n".into(),
                name: "d".into(),
            },
            time: at.parse().unwrap(),
            key: format!("{slo}{at}"),
            outcome: Outcome::Measured,
            events: vec![Events { good: 1, total: 1 }],
            objectives: Vec::new(),
            value: None,
            detail: String::new(),
            policy_sha256: String::new(),
            chain: None,
        }
    }

    fn slos_and_times(entries: &[FeedEntry]) -> Vec<(u64, String, String)> {
        entries
            .iter()
            .map(|e| (e.sequence, e.record.slo.clone(), e.record.time.to_string()))
            .collect()
    }

    #[test]
    fn a_ledger_without_a_feed_keeps_none() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        ledger.record(&record("s", "2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(ledger.feed.len(), 0);
        assert_eq!(ledger.meta.get(keys::FEED_NEXT).unwrap(), None);
    }

    #[test]
    fn the_feed_holds_records_in_the_order_they_were_made_until_published() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        // Made before the feed started: they go first, in key order.
        ledger.record(&record("b", "2026-01-01T00:00:00Z")).unwrap();
        ledger.record(&record("a", "2026-01-02T00:00:00Z")).unwrap();
        ledger.start_feed().unwrap();
        // Made later but dated earlier: feed order is the order of making.
        ledger.record(&record("b", "2025-12-31T00:00:00Z")).unwrap();
        ledger.record(&record("b", "2025-12-31T00:00:00Z")).unwrap(); // a duplicate: not fed
        ledger
            .record_batch(&[
                record("a", "2026-01-03T00:00:00Z"),
                record("c", "2026-01-01T00:00:00Z"),
            ])
            .unwrap();
        let all = ledger.unpublished(100).unwrap();
        assert_eq!(
            slos_and_times(&all),
            [
                (1, "a".into(), "2026-01-02T00:00:00Z".into()),
                (2, "b".into(), "2026-01-01T00:00:00Z".into()),
                (3, "b".into(), "2025-12-31T00:00:00Z".into()),
                (4, "a".into(), "2026-01-03T00:00:00Z".into()),
                (5, "c".into(), "2026-01-01T00:00:00Z".into()),
            ]
        );
        assert_eq!(ledger.publish_backlog().unwrap(), 5);
        ledger.published(3).unwrap();
        assert_eq!(ledger.publish_backlog().unwrap(), 2);
        assert_eq!(
            slos_and_times(&ledger.unpublished(1).unwrap()),
            [(4, "a".into(), "2026-01-03T00:00:00Z".into())]
        );
        // An older acknowledgement never moves the cursor back.
        ledger.published(2).unwrap();
        assert_eq!(ledger.publish_cursor().unwrap(), 3);
        assert_eq!(ledger.feed.len(), 2);
    }

    #[test]
    fn the_feed_and_its_cursor_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
            ledger.start_feed().unwrap();
            ledger.record(&record("a", "2026-01-01T00:00:00Z")).unwrap();
            ledger.record(&record("a", "2026-01-02T00:00:00Z")).unwrap();
            ledger.published(1).unwrap();
            ledger.flush().unwrap();
        }
        let ledger = crate::ledger::reopen(dir.path());
        ledger.start_feed().unwrap();
        ledger.record(&record("a", "2026-01-03T00:00:00Z")).unwrap();
        let left = ledger.unpublished(100).unwrap();
        assert_eq!(left.iter().map(|e| e.sequence).collect::<Vec<_>>(), [2, 3]);
    }

    #[test]
    fn records_consumed_from_the_stream_never_enter_the_feed() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        ledger.start_feed().unwrap();
        ledger.record(&record("a", "2026-01-01T00:00:00Z")).unwrap();
        let stored = ledger
            .record_consumed(&[
                record("b", "2026-01-01T00:00:00Z"),
                record("a", "2026-01-01T00:00:00Z"),
            ])
            .unwrap();
        assert_eq!(stored, [Stored::New, Stored::Duplicate]);
        ledger.record(&record("c", "2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(
            slos_and_times(&ledger.unpublished(10).unwrap()),
            [
                (1, "a".into(), "2026-01-01T00:00:00Z".into()),
                (2, "c".into(), "2026-01-01T00:00:00Z".into()),
            ],
            "made here: fed, numbered without a gap; consumed: filed, not fed"
        );
        assert_eq!(ledger.records(None, None).count(), 3);
        assert!(ledger.verify().unwrap().mismatches.is_empty());
    }

    #[test]
    fn a_fed_ledger_reopened_by_another_command_keeps_feeding() {
        let dir = tempfile::tempdir().unwrap();
        {
            let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
            ledger.start_feed().unwrap();
            ledger.flush().unwrap();
        }
        // `observe --wait` or `run` on an agent's data dir: no start_feed.
        let ledger = crate::ledger::reopen(dir.path());
        ledger.record(&record("a", "2026-01-01T00:00:00Z")).unwrap();
        assert_eq!(ledger.unpublished(10).unwrap().len(), 1);
    }
}
