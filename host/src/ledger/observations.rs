//! Observations: the ingest log (every new one, in arrival order, with the
//! cursor of the last one evaluated; its entries in `ingest_log`), the
//! history per dataset that policies read, and a pointer to each dataset's
//! newest. Re-delivering an observation changes nothing. History is trimmed
//! only by the consumer of the log, and only when nothing is waiting in it
//! (checked in the trim's transaction): an observation not yet evaluated
//! keeps the history it had when it arrived, and itself.

use super::log_append::Pending;
use super::{Ledger, LedgerError, codec, ingest_log, keys};
use crate::model::{DatasetRef, Observation};
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::TransactionError;

/// New observations of a dataset between two trims of its history: a dataset
/// keeps from `history_depth` to `history_depth + TRIM_EVERY - 1` of them.
pub const TRIM_EVERY: usize = 16;

/// Observations appended per sled transaction.
pub(super) const APPEND_CHUNK: usize = 500;

/// What storing one observation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationReceipt {
    /// sha256 of the observation's canonical JSON: its identity.
    pub digest: [u8; 32],
    /// False when the same observation was already stored.
    pub new: bool,
    /// Its place in the ingest log, when new.
    pub seq: Option<u64>,
}

/// sha256 of the observation's JSON (fields in declaration order, maps sorted).
pub fn digest(obs: &Observation) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(obs).unwrap_or_default()).into()
}

/// Encoded and hashed by the caller (a thread, or a task on the runtime's
/// workers, where its request was parsed), outside the group, and cut in
/// chunks: one transaction per chunk at most, as sled holds a transaction's
/// writes in memory and one OpenLineage event can carry thousands of
/// datasets. A crash between chunks acknowledges nothing; the retry finds the
/// appended ones stored and appends the rest.
fn prepare(observations: &[Observation]) -> (Vec<[u8; 32]>, Vec<Vec<Pending>>) {
    let mut digests = Vec::with_capacity(observations.len());
    let mut chunks = Vec::with_capacity(observations.len().div_ceil(APPEND_CHUNK));
    for part in observations.chunks(APPEND_CHUNK) {
        let chunk = part
            .iter()
            .map(|obs| {
                let value = codec::encode(obs);
                // The stored JSON is the canonical JSON: hash it, don't redo it.
                let digest: [u8; 32] = Sha256::digest(codec::json(&value)).into();
                digests.push(digest);
                Pending {
                    key: keys::ObservationKey::new(&obs.dataset, obs.observed_at, &digest).encode(),
                    dataset_key: keys::dataset(&obs.dataset),
                    value,
                }
            })
            .collect();
        chunks.push(chunk);
    }
    (digests, chunks)
}

/// One receipt per observation, from its digest and its place in the log.
fn receipts(digests: Vec<[u8; 32]>, seqs: Vec<Option<u64>>) -> Vec<ObservationReceipt> {
    digests
        .into_iter()
        .zip(seqs)
        .map(|(digest, seq)| ObservationReceipt {
            digest,
            new: seq.is_some(),
            seq,
        })
        .collect()
}

impl Ledger {
    /// Stores `obs` (not yet durable: call [`Ledger::flush`] before acknowledging).
    pub fn put_observation(&self, obs: &Observation) -> Result<ObservationReceipt, LedgerError> {
        let mut receipts = self.put_observations(std::slice::from_ref(obs))?;
        Ok(receipts.remove(0))
    }

    /// Stores `observations` (500 to a transaction) and
    /// appends the new ones to the ingest log, one receipt each, in order
    /// (not yet durable: call [`Ledger::flush`] before acknowledging).
    /// Concurrent callers share transactions (`group_append`).
    pub fn put_observations(
        &self,
        observations: &[Observation],
    ) -> Result<Vec<ObservationReceipt>, LedgerError> {
        self.append_observations(observations, false)
    }

    /// [`Ledger::put_observations`], durable on return: the group's leader
    /// flushes before it hands out the receipts, so its callers are woken
    /// once, not once for the append and again for a flush each.
    pub fn put_observations_flushed(
        &self,
        observations: &[Observation],
    ) -> Result<Vec<ObservationReceipt>, LedgerError> {
        self.append_observations(observations, true)
    }

    fn append_observations(
        &self,
        observations: &[Observation],
        flushed: bool,
    ) -> Result<Vec<ObservationReceipt>, LedgerError> {
        let (digests, chunks) = prepare(observations);
        let mut seqs = Vec::with_capacity(digests.len());
        for chunk in chunks {
            seqs.extend(self.appends.append(chunk, flushed)?);
        }
        Ok(receipts(digests, seqs))
    }

    /// [`Ledger::put_observations_flushed`] (or unflushed) for a task: no
    /// thread is held while the append waits for its group.
    pub async fn put_observations_awaited(
        &self,
        observations: &[Observation],
        flushed: bool,
    ) -> Result<Vec<ObservationReceipt>, LedgerError> {
        let (digests, chunks) = prepare(observations);
        let mut seqs = Vec::with_capacity(digests.len());
        for chunk in chunks {
            seqs.extend(self.appends.append_awaited(chunk, flushed).await?);
        }
        Ok(receipts(digests, seqs))
    }

    /// The sequence number of the last observation evaluated; 0 when none.
    pub fn ingest_cursor(&self) -> Result<u64, LedgerError> {
        self.sequence_in_meta(keys::INGEST_CURSOR, 0)
    }

    /// The sequence number the next appended observation will get.
    pub fn ingest_next(&self) -> Result<u64, LedgerError> {
        self.sequence_in_meta(keys::INGEST_NEXT, 1)
    }

    fn sequence_in_meta(&self, key: &[u8], default: u64) -> Result<u64, LedgerError> {
        match self.meta.get(key)? {
            Some(bytes) => keys::parse_sequence(&bytes)
                .ok_or_else(|| LedgerError::bad_value("meta", key, "not a sequence number")),
            None => Ok(default),
        }
    }

    /// Counts newly evaluated observations of these datasets (one per
    /// item) and trims the history of those due, once each. Call it when the
    /// log has nothing waiting; a trim finding something waiting is put off.
    pub fn trim_evaluated<'a>(
        &self,
        datasets: impl IntoIterator<Item = &'a DatasetRef>,
    ) -> Result<(), LedgerError> {
        let mut counted: Vec<(Vec<u8>, usize)> = Vec::new();
        for dataset in datasets {
            let dataset_key = keys::dataset(dataset);
            match counted.iter_mut().find(|(k, _)| *k == dataset_key) {
                Some((_, n)) => *n += 1,
                None => counted.push((dataset_key, 1)),
            }
        }
        for (dataset_key, n) in counted {
            if self.trim_due(&dataset_key, n) && self.trim_history(&dataset_key)? {
                self.untrimmed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(dataset_key, 0);
            }
        }
        Ok(())
    }

    /// Counts `n` new observations of the dataset; true once
    /// [`TRIM_EVERY`] are counted since its last trim. Trimming walks the
    /// whole history: doing it on every insert was most of the cost of
    /// ingesting.
    fn trim_due(&self, dataset_key: &[u8], n: usize) -> bool {
        let mut untrimmed = self
            .untrimmed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = untrimmed.entry(dataset_key.to_vec()).or_insert(0);
        *count += n;
        *count >= TRIM_EVERY.min(self.history_depth)
    }

    /// Drops the oldest observations of a dataset beyond the history depth
    /// and older than the observation retention (counted back from its
    /// newest). Reads only the kept depth and what it drops. False when it
    /// found the log waiting: an observation appended since the consumer
    /// found it empty may be older than those kept, and its entry names it.
    fn trim_history(&self, dataset_key: &[u8]) -> Result<bool, LedgerError> {
        let kept = self
            .observations
            .scan_prefix(dataset_key)
            .keys()
            .rev()
            .take(self.history_depth)
            .collect::<Result<Vec<_>, _>>()?;
        // Every key older than the oldest of the newest `history_depth` may go.
        let (Some(newest), Some(oldest_kept)) = (kept.first(), kept.last()) else {
            return Ok(true);
        };
        if kept.len() < self.history_depth {
            return Ok(true);
        }
        let mut end = oldest_kept.to_vec();
        if self.observation_retention > 0 {
            let key = keys::ObservationKey::parse(newest)
                .ok_or_else(|| LedgerError::bad_key("observations", newest))?;
            let cutoff = keys::ObservationKey {
                observed_at: key.observed_at.saturating_sub(self.observation_retention),
                digest: [0; 8],
                ..key
            }
            .encode();
            end = end.min(cutoff);
        }
        let doomed = self
            .observations
            .range(dataset_key.to_vec()..end)
            .keys()
            .collect::<Result<Vec<_>, _>>()?;
        for chunk in doomed.chunks(APPEND_CHUNK) {
            let trimmed = (&self.observations, &self.meta)
                .transaction(|(stored, meta)| {
                    if ingest_log::waiting(meta)? {
                        return Ok(false);
                    }
                    for key in chunk {
                        stored.remove(key)?;
                    }
                    Ok(true)
                })
                .map_err(|e| match e {
                    TransactionError::Abort(e) => e,
                    TransactionError::Storage(e) => e.into(),
                })?;
            if !trimmed {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every stored observation of `dataset`, oldest first: what `replay`
    /// reads again.
    pub fn observations_of(&self, dataset: &DatasetRef) -> Result<Vec<Observation>, LedgerError> {
        self.observations
            .scan_prefix(keys::dataset(dataset))
            .map(|item| {
                let (key, bytes) = item?;
                codec::decode("observations", &key, &bytes)
            })
            .collect()
    }

    /// The newest observation of `dataset`.
    pub fn latest_observation(
        &self,
        dataset: &DatasetRef,
    ) -> Result<Option<Observation>, LedgerError> {
        let Some(key) = self.latest.get(keys::dataset(dataset))? else {
            return Ok(None);
        };
        match self.observations.get(&key)? {
            Some(bytes) => codec::decode("observations", &key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The newest observation of `dataset` observed at or before `until`: what
    /// a scheduled tick at `until` evaluates, so that one observation dated
    /// ahead of the tick does not hide the ones before it.
    pub fn latest_observation_until(
        &self,
        dataset: &DatasetRef,
        until: jiff::Timestamp,
    ) -> Result<Option<Observation>, LedgerError> {
        let range = keys::dataset(dataset)..keys::observations_until(dataset, until);
        match self.observations.range(range).next_back() {
            Some(item) => {
                let (key, bytes) = item?;
                codec::decode("observations", &key, &bytes).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Up to `limit` observations of the dataset observed before `before`, newest first.
    pub fn history_before(
        &self,
        before: &Observation,
        limit: usize,
    ) -> Result<Vec<Observation>, LedgerError> {
        let prefix = keys::dataset(&before.dataset);
        // The first key of `before`'s instant: every earlier one sorts below.
        let end = keys::ObservationKey::new(&before.dataset, before.observed_at, &[0; 32]).encode();
        let mut out = Vec::new();
        for item in self
            .observations
            .range(prefix.clone()..end)
            .rev()
            .take(limit)
        {
            let (key, bytes) = item?;
            out.push(codec::decode("observations", &key, &bytes)?);
        }
        Ok(out)
    }

    /// Every stored observation, oldest first per dataset.
    pub fn observations(&self) -> impl Iterator<Item = Result<Observation, LedgerError>> + '_ {
        self.observations.iter().map(|item| {
            let (key, bytes) = item?;
            codec::decode("observations", &key, &bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_observation;

    fn obs(at: &str, rows: u64) -> Observation {
        let text = format!(
            r#"{{"dataset":{{"namespace":"s3://b","name":"t"}},"observed_at":"{at}","row_count":{rows}}}"#
        );
        parse_observation(&text, "t").unwrap()
    }

    /// As the log's consumer does: the cursor moved past every logged
    /// observation, then the history trimmed.
    fn evaluate_and_trim(ledger: &Ledger, o: &Observation) {
        let last = ledger.ingest_next().unwrap() - 1;
        ledger.record_batch_at(&[], Some(last)).unwrap();
        ledger.trim_evaluated([&o.dataset]).unwrap();
    }

    #[test]
    fn the_same_observation_twice_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        let o = obs("2026-11-26T08:00:00Z", 5);
        assert!(ledger.put_observation(&o).unwrap().new);
        assert!(!ledger.put_observation(&o).unwrap().new);
        assert_eq!(ledger.observations().count(), 1);
    }

    #[test]
    fn a_batch_stores_each_observation_once_and_names_it_by_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        let (a, b) = (
            obs("2026-11-26T08:00:00Z", 5),
            obs("2026-11-26T09:00:00Z", 6),
        );
        let receipts = ledger
            .put_observations(&[a.clone(), b.clone(), a.clone()])
            .unwrap();
        let new: Vec<bool> = receipts.iter().map(|r| r.new).collect();
        assert_eq!(new, [true, true, false]);
        assert_eq!(receipts[0].digest, digest(&a));
        assert_eq!(receipts[2].digest, digest(&a));
        assert_eq!(ledger.observations().count(), 2);
        let latest = ledger.latest_observation(&a.dataset).unwrap().unwrap();
        assert_eq!(latest, b);
    }

    #[test]
    fn latest_and_history_follow_observed_at_not_arrival() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 3).unwrap();
        for (at, rows) in [
            ("2026-11-26T08:00:00Z", 1),
            ("2026-11-26T10:00:00Z", 3),
            ("2026-11-26T09:00:00Z", 2),
        ] {
            ledger.put_observation(&obs(at, rows)).unwrap();
        }
        let latest = ledger
            .latest_observation(&obs("2026-11-26T08:00:00Z", 0).dataset)
            .unwrap()
            .unwrap();
        assert_eq!(latest.row_count, Some(3));
        let history = ledger.history_before(&latest, 10).unwrap();
        assert_eq!(
            history
                .iter()
                .map(|o| o.row_count.unwrap())
                .collect::<Vec<_>>(),
            [2, 1]
        );
    }

    #[test]
    fn the_latest_observation_until_a_time_skips_those_dated_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        for (at, rows) in [
            ("2026-11-26T08:00:00Z", 1),
            ("2026-11-26T09:00:00Z", 2),
            ("2200-01-01T00:00:00Z", 3),
        ] {
            ledger.put_observation(&obs(at, rows)).unwrap();
        }
        let d = obs("2026-11-26T08:00:00Z", 0).dataset;
        let rows = |until: &str| {
            ledger
                .latest_observation_until(&d, until.parse().unwrap())
                .unwrap()
                .and_then(|o| o.row_count)
        };
        assert_eq!(rows("2026-11-26T08:30:00Z"), Some(1));
        assert_eq!(
            rows("2026-11-26T09:00:00Z"),
            Some(2),
            "one at exactly `until` counts"
        );
        assert_eq!(rows("2026-12-01T00:00:00Z"), Some(2));
        assert_eq!(rows("2026-11-26T07:59:59Z"), None);
        assert_eq!(
            ledger.latest_observation(&d).unwrap().unwrap().row_count,
            Some(3)
        );
    }

    #[test]
    fn history_is_trimmed_back_to_its_depth_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let depth = 20;
        let ledger = Ledger::open(dir.path(), "default", depth).unwrap();
        let at = |i: usize| format!("2026-11-26T{:02}:{:02}:00Z", i / 60, i % 60);
        // Trims come with the 16th and the 32nd observation.
        let total = 2 * TRIM_EVERY;
        for i in 0..total {
            let o = obs(&at(i), i as u64);
            ledger.put_observation(&o).unwrap();
            evaluate_and_trim(&ledger, &o);
            let stored = ledger.observations().count();
            assert!(stored < depth + TRIM_EVERY, "{stored} kept after {i}");
        }
        let rows: Vec<u64> = ledger
            .observations()
            .map(|o| o.unwrap().row_count.unwrap())
            .collect();
        let newest: Vec<u64> = ((total - depth) as u64..total as u64).collect();
        assert_eq!(rows, newest, "exactly the newest {depth} are kept");
    }

    #[test]
    fn observations_within_the_retention_outlive_the_history_depth() {
        let dir = tempfile::tempdir().unwrap();
        let depth = 4;
        let ledger = Ledger::open(dir.path(), "default", depth)
            .unwrap()
            .with_observation_retention(std::time::Duration::from_secs(10 * 3600));
        // One an hour for two days: the newest 10 hours' are kept (11
        // observations, the one exactly 10 h old too), and never fewer than 4.
        let at = |i: usize| format!("2026-11-{:02}T{:02}:00:00Z", 1 + i / 24, i % 24);
        for i in 0..48 {
            let o = obs(&at(i), i as u64);
            ledger.put_observation(&o).unwrap();
            evaluate_and_trim(&ledger, &o);
        }
        let rows: Vec<u64> = ledger
            .observations()
            .map(|o| o.unwrap().row_count.unwrap())
            .collect();
        // The last trim came with the 48th (every 4th, the depth being 4).
        assert_eq!(rows, (37..48).collect::<Vec<u64>>());
        let d = obs(&at(0), 0).dataset;
        assert_eq!(ledger.observations_of(&d).unwrap().len(), 11);
    }

    #[test]
    fn new_observations_are_logged_in_arrival_order_and_repeats_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        let (a, b) = (
            obs("2026-11-26T09:00:00Z", 1),
            obs("2026-11-26T08:00:00Z", 2),
        );
        let seqs: Vec<Option<u64>> = ledger
            .put_observations(&[a.clone(), b.clone(), a.clone()])
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(seqs, [Some(1), Some(2), None]);
        assert_eq!(ledger.put_observation(&b).unwrap().seq, None);
        let logged: Vec<(u64, u64)> = ledger
            .logged_after(0, 10)
            .unwrap()
            .into_iter()
            .map(|(seq, o)| (seq, o.row_count.unwrap()))
            .collect();
        assert_eq!(logged, [(1, 1), (2, 2)], "arrival order, not observed_at");
        assert_eq!(ledger.ingest_next().unwrap(), 3);
    }

    #[test]
    fn the_cursor_moves_with_the_records_and_the_log_is_dropped_behind_it() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        for i in 0..3 {
            ledger
                .put_observation(&obs(&format!("2026-11-26T0{i}:00:00Z"), i))
                .unwrap();
        }
        assert_eq!(ledger.ingest_cursor().unwrap(), 0);
        ledger.record_batch_at(&[], Some(2)).unwrap();
        assert_eq!(ledger.ingest_cursor().unwrap(), 2);
        let logged: Vec<u64> = ledger
            .logged_after(0, 10)
            .unwrap()
            .iter()
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(logged, [3], "dropped in the cursor's transaction");
        assert_eq!(ledger.observations().count(), 3, "history keeps them");
    }

    #[test]
    fn tenants_do_not_see_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let a = Ledger::open(dir.path(), "a", 10).unwrap();
        let b = a.for_tenant("b").unwrap();
        a.put_observation(&obs("2026-11-26T08:00:00Z", 1)).unwrap();
        assert_eq!(b.observations().count(), 0);
    }
}
