//! Evaluation records and their per-minute buckets, written together.

use super::buckets::{Bucket, Level, index_of};
use super::chain::{Filed, Heads, Link};
use super::chain_draft::Drafted;
use super::chain_problems::ChainProblem;
use super::series::{Series, counted};
use super::{Ledger, LedgerError, codec, keys};
use crate::model::DatasetRef;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::collections::HashMap;

/// Good and total events for one objective.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Events {
    /// Good events.
    pub good: u64,
    /// All events.
    pub total: u64,
}

/// How an evaluation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The policy measured; `events` say good or bad.
    Measured,
    /// The policy failed; counted as an error, never as good or bad.
    Error {
        /// The error kind's stable name, e.g. `deadline`.
        code: String,
        /// The typed error, rendered.
        message: String,
    },
}

/// One evaluation of one SLO, as stored and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    /// The SLO.
    pub slo: String,
    /// Its dataset.
    pub dataset: DatasetRef,
    /// The evaluation's "now".
    pub time: jiff::Timestamp,
    /// The idempotency key (hex): SLO + observation digest, or SLO + tick.
    pub key: String,
    /// Measured or error.
    pub outcome: Outcome,
    /// Per objective, the events this evaluation contributes. Empty for errors.
    pub events: Vec<Events>,
    /// The identities of the objectives `events` are for, in the same order
    /// (see `slo::Objective::identity`). Empty in records of errors and in
    /// those written before identities: their events follow the order the
    /// SLO's objectives had when the ledger first recorded its series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<String>,
    /// The measurement's raw value, if any.
    pub value: Option<f64>,
    /// The measurement's detail, or the error.
    pub detail: String,
    /// sha256 of the policy component.
    pub policy_sha256: String,
    /// Its link in its SLO's chain at its site (see `chain`), given when it
    /// is filed; a record read from an agent's stream carries the agent's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<Link>,
}

/// Whether a record was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Written, with its bucket.
    New,
    /// A record with the same SLO, time and key exists: nothing changed.
    Duplicate,
}

/// Minutes since the epoch of a timestamp.
pub fn minute_of(t: jiff::Timestamp) -> i64 {
    t.as_second().div_euclid(60)
}

/// A record ready to write: its key, its three bucket keys and the events it
/// counts for its SLO's objectives.
type Prepared = (Vec<u8>, [Vec<u8>; 3], Vec<Events>);

impl Ledger {
    /// Writes `record` and folds it into its buckets, atomically. Not yet
    /// durable: call [`Ledger::flush`] before acknowledging.
    pub fn record(&self, record: &EvalRecord) -> Result<Stored, LedgerError> {
        Ok(self.record_batch(std::slice::from_ref(record))?[0])
    }

    /// Writes a batch of records and folds them into their buckets, all in one
    /// transaction: either every new record and its bucket updates land, or
    /// none. Records already stored (or repeated in the batch) are skipped.
    /// Not yet durable: call [`Ledger::flush`] before acknowledging.
    pub fn record_batch(&self, records: &[EvalRecord]) -> Result<Vec<Stored>, LedgerError> {
        self.write_batch(records, None, self.feeding(), false, false)
    }

    /// As [`Ledger::record_batch`], for records made only after finding
    /// them not stored (the scheduler's), moving the ingest cursor to
    /// `cursor` in the same transaction: the records of the observations up
    /// to it and the cursor land together, or neither. The log's entries it
    /// passes are dropped with them (see `ingest_log`). One stored meanwhile
    /// is still found, in the transaction.
    pub fn record_batch_at(
        &self,
        records: &[EvalRecord],
        cursor: Option<u64>,
    ) -> Result<Vec<Stored>, LedgerError> {
        self.write_batch(records, cursor, self.feeding(), false, true)
    }

    /// As [`Ledger::record_batch`], for records made elsewhere and read from
    /// the stream: they never enter this ledger's feed, so a central that
    /// publishes its own records does not publish them again. An agent's
    /// record keeps the link it carries in its site's chain; one that does
    /// not follow the chain's head is kept, logged, counted, and reported
    /// by `ledger verify` (see `chain::Filed`).
    pub fn record_consumed(&self, records: &[EvalRecord]) -> Result<Vec<Stored>, LedgerError> {
        self.write_batch(records, None, false, true, false)
    }

    /// `checked`: the caller found each record not stored before making it.
    fn write_batch(
        &self,
        records: &[EvalRecord],
        cursor: Option<u64>,
        feeding: bool,
        consumed: bool,
        checked: bool,
    ) -> Result<Vec<Stored>, LedgerError> {
        // Linked and encoded before sled's lock (see `chain_draft`).
        let drafts = self.draft_links(records, consumed, !checked)?;
        self.write_drafted(records, &drafts, cursor, feeding, consumed)
    }

    /// [`Ledger::write_batch`] with the records' drafts, made earlier.
    pub(super) fn write_drafted(
        &self,
        records: &[EvalRecord],
        drafts: &[Option<Drafted>],
        cursor: Option<u64>,
        feeding: bool,
        consumed: bool,
    ) -> Result<Vec<Stored>, LedgerError> {
        // No SLO's buckets are rebuilt while its records are written.
        let _writing = self
            .series_lock
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut series: HashMap<&str, Option<Series>> = HashMap::new();
        for r in records {
            if !series.contains_key(r.slo.as_str()) {
                series.insert(&r.slo, self.series(&r.slo)?);
            }
        }
        let prepared: Vec<Prepared> = records
            .iter()
            .map(|r| {
                let counted = counted(series.get(r.slo.as_str()).and_then(Option::as_ref), r);
                let minute = minute_of(r.time);
                let bucket_keys = Level::ALL.map(|level| {
                    keys::BucketKey {
                        slo: &r.slo,
                        level,
                        index: index_of(minute, level),
                    }
                    .encode()
                });
                let key = keys::RecordKey::new(&r.slo, r.time, &r.key).encode();
                (key, bucket_keys, counted)
            })
            .collect();
        // The log's entries the cursor passes go with it.
        let passed = match cursor {
            Some(cursor) => self.logged_through(cursor)?,
            None => Vec::new(),
        };
        let (stored, breaks) = (
            &self.evaluations,
            &self.buckets,
            &self.meta,
            &self.feed,
            &self.chains,
            &self.ingest,
        )
            .transaction(|(evaluations, buckets, meta, feed, chains, log)| {
                let mut breaks = Vec::new();
                if let Some(cursor) = cursor {
                    meta.insert(keys::INGEST_CURSOR, &keys::sequence(cursor))?;
                }
                for entry in &passed {
                    log.remove(entry)?;
                }
                // The feed's next number is read and moved in this
                // transaction, so feed order is commit order.
                let mut feed_next = match feeding {
                    true => meta
                        .get(keys::FEED_NEXT)?
                        .and_then(|v| keys::parse_sequence(&v))
                        .unwrap_or(1),
                    false => 0,
                };
                let mut outcome = Vec::with_capacity(records.len());
                let mut seen = std::collections::HashSet::new();
                let mut deltas: std::collections::BTreeMap<&[u8], Bucket> =
                    std::collections::BTreeMap::new();
                // A record behind its SLO's judged minute is late (see
                // `late`). Read in the transaction: sled runs transactions
                // one at a time, so a judgement is before or after it.
                let mut judged: HashMap<&str, Option<i64>> = HashMap::new();
                let mut late: HashMap<&str, (i64, i64)> = HashMap::new();
                let mut heads = Heads::default();
                for (i, (record, (key, bucket_keys, counted))) in
                    records.iter().zip(&prepared).enumerate()
                {
                    if !seen.insert(key.as_slice()) || evaluations.get(key)?.is_some() {
                        outcome.push(Stored::Duplicate);
                        continue;
                    }
                    // Only a new record extends its chain, in this transaction.
                    // None past the drafts' end: linked here.
                    let drafted = drafts.get(i).and_then(Option::as_ref);
                    let (link, filed) = heads.file(meta, chains, record, key, consumed, drafted)?;
                    let problem = match filed {
                        Filed::Linked => None,
                        Filed::Gap { .. } => Some(ChainProblem::Gap),
                        Filed::Fork { .. } => Some(ChainProblem::Fork),
                        Filed::BrokenLink { .. } => Some(ChainProblem::BrokenLink),
                    };
                    if let Some(problem) = problem {
                        let (site, _) = super::chain::site_of(&record.key);
                        super::chain_problems::count(meta, site, problem)?;
                    }
                    if filed != Filed::Linked {
                        breaks.push((record.slo.clone(), record.key.clone(), filed));
                    }
                    // A draft of the same link holds the same bytes.
                    match drafted.filter(|draft| draft.link == link) {
                        Some(draft) => evaluations.insert(key.as_slice(), draft.encoded.as_slice()),
                        None => evaluations.insert(
                            key.as_slice(),
                            codec::encode(&Drafted::linked(record, link)),
                        ),
                    }?;
                    if feeding {
                        feed.insert(&keys::FeedKey(feed_next).encode(), key.as_slice())?;
                        feed_next += 1;
                    }
                    for bkey in bucket_keys {
                        deltas
                            .entry(bkey.as_slice())
                            .or_default()
                            .add_counted(record, counted);
                    }
                    let judged_minute = match judged.get(record.slo.as_str()) {
                        Some(minute) => *minute,
                        None => {
                            let minute = super::late::judged_in(meta, &record.slo)?;
                            judged.insert(&record.slo, minute);
                            minute
                        }
                    };
                    let minute = minute_of(record.time);
                    if judged_minute.is_some_and(|j| minute < j) {
                        let span = late.entry(&record.slo).or_insert((minute, minute));
                        *span = (span.0.min(minute), span.1.max(minute));
                    }
                    outcome.push(Stored::New);
                }
                for (slo, (from, to)) in &late {
                    super::late::lower_mark(meta, slo, *from, *to)?;
                }
                for (bkey, delta) in deltas {
                    let mut bucket = match buckets.get(bkey)? {
                        Some(bytes) => Bucket::decode(bkey, &bytes)
                            .map_err(ConflictableTransactionError::Abort)?,
                        None => Bucket::default(),
                    };
                    bucket.merge(&delta);
                    buckets.insert(bkey, bucket.encode())?;
                }
                if feeding {
                    meta.insert(keys::FEED_NEXT, &keys::sequence(feed_next))?;
                }
                heads.store(meta, chains)?;
                Ok((outcome, breaks))
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })?;
        for (slo, key, filed) in breaks {
            // Kept, not dropped: it was acknowledged upstream. `verify` names
            // a gap that stays, and a fork.
            match filed {
                Filed::Gap { head, seq } => tracing::warn!(
                    tenant = %self.tenant,
                    slo,
                    key,
                    head,
                    seq,
                    "record out of its site's chain order: the records between are redelivered later, or were lost (`ledger verify` names a gap that stays)"
                ),
                Filed::Fork { seq } => tracing::error!(
                    tenant = %self.tenant,
                    slo,
                    key,
                    seq,
                    "record forks its site's hash chain: another record holds its seq; kept outside the chain"
                ),
                Filed::BrokenLink { seq } => tracing::error!(
                    tenant = %self.tenant,
                    slo,
                    key,
                    seq,
                    "record breaks its site's hash chain: its prev is not the hash of the record before it (`ledger verify` names the break)"
                ),
                Filed::Linked => {}
            }
        }
        Ok(stored)
    }

    /// Records, of one SLO or all, from `since` on, in key order.
    pub fn records(
        &self,
        slo: Option<&str>,
        since: Option<jiff::Timestamp>,
    ) -> impl Iterator<Item = Result<EvalRecord, LedgerError>> + '_ {
        let iter = match slo {
            Some(name) => self.evaluations.scan_prefix(keys::slo(name)),
            None => self.evaluations.iter(),
        };
        iter.map(|item| {
            let (key, bytes) = item?;
            codec::decode::<EvalRecord>("evaluations", &key, &bytes)
        })
        .filter(move |r| match (r, since) {
            (Ok(r), Some(since)) => r.time >= since,
            _ => true,
        })
    }

    /// The time of the newest record of `slo`, read from its key alone:
    /// nothing of `slo` is recorded after it.
    pub fn last_record_time(&self, slo: &str) -> Result<Option<jiff::Timestamp>, LedgerError> {
        let Some(item) = self
            .evaluations
            .scan_prefix(keys::slo(slo))
            .keys()
            .next_back()
        else {
            return Ok(None);
        };
        let key = item?;
        let time = keys::RecordKey::parse(&key)
            .and_then(|k| jiff::Timestamp::from_nanosecond(i128::from(k.time)).ok())
            .ok_or_else(|| LedgerError::bad_key("evaluations", &key))?;
        Ok(Some(time))
    }

    /// The newest record of `slo`, without reading the others.
    pub fn last_record(&self, slo: &str) -> Result<Option<EvalRecord>, LedgerError> {
        match self.evaluations.scan_prefix(keys::slo(slo)).next_back() {
            Some(item) => {
                let (key, bytes) = item?;
                codec::decode("evaluations", &key, &bytes).map(Some)
            }
            None => Ok(None),
        }
    }

    /// The newest `limit` records of `slo` at or before `until`, newest
    /// first, reading only those.
    pub fn recent_records(
        &self,
        slo: &str,
        until: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<EvalRecord>, LedgerError> {
        self.evaluations
            .range(keys::slo(slo)..keys::records_until(slo, until))
            .rev()
            .take(limit)
            .map(|item| {
                let (key, bytes) = item?;
                codec::decode("evaluations", &key, &bytes)
            })
            .collect()
    }

    /// Whether a record for this SLO, time and key exists.
    pub fn has_record(
        &self,
        slo: &str,
        time: jiff::Timestamp,
        key: &str,
    ) -> Result<bool, LedgerError> {
        let key = keys::RecordKey::new(slo, time, key).encode();
        Ok(self.evaluations.contains_key(key)?)
    }

    /// Removes records and buckets older than `before` (retention).
    pub fn prune(&self, before: jiff::Timestamp) -> Result<usize, LedgerError> {
        // Whole UTC days only, so that hour and day buckets never straddle
        // the cutoff and keep matching their records.
        let cutoff_minute = index_of(minute_of(before), Level::Day) * Level::Day.minutes();
        // No export reads the chains while their records go.
        let _pruning = self
            .prune_lock
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut removed = 0;
        let mut chains = std::collections::BTreeSet::new();
        let mut doomed = Vec::new();
        for item in self.evaluations.iter() {
            let (key, bytes) = item?;
            let record: EvalRecord = codec::decode("evaluations", &key, &bytes)?;
            if minute_of(record.time) < cutoff_minute {
                let site = super::chain::site_of(&record.key).0.to_string();
                chains.insert((record.slo.clone(), site));
                doomed.push((key.to_vec(), record));
                removed += 1;
            }
            if doomed.len() == super::chain_prune::PRUNE_BATCH {
                self.prune_records(&doomed)?;
                doomed.clear();
            }
        }
        self.prune_records(&doomed)?;
        for (slo, site) in chains {
            self.advance_anchor(&slo, &site)?;
        }
        for item in self.buckets.iter() {
            let (key, _) = item?;
            // A key that does not parse is left for `verify` to report.
            if keys::BucketKey::parse(&key)
                .is_some_and(|b| (b.index + 1) * b.level.minutes() <= cutoff_minute)
            {
                self.buckets.remove(&key)?;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(slo: &str, at: &str, good: u64) -> EvalRecord {
        EvalRecord {
            slo: slo.into(),
            dataset: DatasetRef {
                namespace: "n".into(),
                name: "d".into(),
            },
            time: at.parse().unwrap(),
            key: at.into(),
            outcome: Outcome::Measured,
            events: vec![Events { good, total: 1 }],
            objectives: Vec::new(),
            value: None,
            detail: String::new(),
            policy_sha256: String::new(),
            chain: None,
        }
    }

    #[test]
    fn retention_removes_old_records_with_their_buckets_and_keeps_the_rest_consistent() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        for (at, good) in [
            ("2026-01-01T00:00:00Z", 1),
            ("2026-06-01T00:00:00Z", 0),
            ("2026-11-01T00:00:30Z", 1),
        ] {
            ledger.record(&record("s", at, good)).unwrap();
        }
        let removed = ledger
            .prune("2026-10-01T00:00:00Z".parse().unwrap())
            .unwrap();
        assert_eq!(removed, 2);
        assert_eq!(ledger.records(None, None).count(), 1);
        let minute = minute_of("2026-11-01T00:00:00Z".parse().unwrap());
        assert_eq!(
            ledger
                .buckets("s", i64::MIN / 2, i64::MAX / 2)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            ledger.buckets("s", minute, minute).unwrap()[0].1.events[0],
            Events { good: 1, total: 1 }
        );
        assert!(ledger.verify().unwrap().mismatches.is_empty());
    }

    #[test]
    fn last_record_is_the_newest_of_its_slo_only() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        ledger
            .record(&record("a", "2026-01-02T00:00:00Z", 1))
            .unwrap();
        ledger
            .record(&record("a", "2026-01-01T00:00:00Z", 1))
            .unwrap();
        ledger
            .record(&record("b", "2026-01-03T00:00:00Z", 1))
            .unwrap();
        let last = ledger.last_record("a").unwrap().unwrap();
        assert_eq!(last.time.to_string(), "2026-01-02T00:00:00Z");
    }

    #[test]
    fn recent_records_are_the_newest_up_to_a_time_of_one_slo_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        for at in [
            "2026-01-01T00:00:00Z",
            "2026-01-02T00:00:00Z",
            "2026-01-03T00:00:00Z",
            "2026-01-04T00:00:00Z",
        ] {
            ledger.record(&record("a", at, 1)).unwrap();
        }
        ledger
            .record(&record("ab", "2026-01-02T12:00:00Z", 1))
            .unwrap();
        let times = |until: &str, limit| {
            ledger
                .recent_records("a", until.parse().unwrap(), limit)
                .unwrap()
                .iter()
                .map(|r| r.time.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            times("2026-01-03T00:00:00Z", 2),
            ["2026-01-03T00:00:00Z", "2026-01-02T00:00:00Z"],
            "a record at exactly `until` counts"
        );
        assert_eq!(times("2026-02-01T00:00:00Z", 10).len(), 4);
        assert!(times("2025-12-31T00:00:00Z", 10).is_empty());
    }
}
