//! Observations: all kept per dataset up to the history depth, plus a pointer
//! to the newest. Re-delivering an observation changes nothing.

use super::{Ledger, LedgerError, codec, keys};
use crate::model::{DatasetRef, Observation};
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

/// New observations of a dataset between two trims of its history: a dataset
/// keeps from `history_depth` to `history_depth + TRIM_EVERY - 1` of them.
pub const TRIM_EVERY: usize = 16;

/// What storing one observation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationReceipt {
    /// sha256 of the observation's canonical JSON: its identity.
    pub digest: [u8; 32],
    /// False when the same observation was already stored.
    pub new: bool,
}

/// sha256 of the observation's JSON (fields in declaration order, maps sorted).
pub fn digest(obs: &Observation) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(obs).unwrap_or_default()).into()
}

impl Ledger {
    /// Stores `obs` (not yet durable: call [`Ledger::flush`] before acknowledging).
    pub fn put_observation(&self, obs: &Observation) -> Result<ObservationReceipt, LedgerError> {
        let mut receipts = self.put_observations(std::slice::from_ref(obs))?;
        Ok(receipts.remove(0))
    }

    /// Stores `observations` in one transaction, one receipt each, in order
    /// (not yet durable: call [`Ledger::flush`] before acknowledging).
    pub fn put_observations(
        &self,
        observations: &[Observation],
    ) -> Result<Vec<ObservationReceipt>, LedgerError> {
        let prepared: Vec<_> = observations
            .iter()
            .map(|obs| {
                let value = codec::encode(obs);
                // The stored JSON is the canonical JSON: hash it, don't redo it.
                let digest: [u8; 32] = Sha256::digest(codec::json(&value)).into();
                let key =
                    keys::ObservationKey::new(&obs.dataset, obs.observed_at, &digest).encode();
                (digest, key, keys::dataset(&obs.dataset), value)
            })
            .collect();
        let new = (&self.observations, &self.latest)
            .transaction(|(stored, latest)| {
                let mut new = Vec::with_capacity(prepared.len());
                for (_, key, dataset_key, value) in &prepared {
                    if stored.get(key)?.is_some() {
                        new.push(false);
                        continue;
                    }
                    stored.insert(key.as_slice(), value.as_slice())?;
                    let newer = match latest.get(dataset_key)? {
                        Some(current) => current.as_ref() < key.as_slice(),
                        None => true,
                    };
                    if newer {
                        latest.insert(dataset_key.as_slice(), key.as_slice())?;
                    }
                    new.push(true);
                }
                Ok::<_, ConflictableTransactionError<LedgerError>>(new)
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })?;
        let mut receipts = Vec::with_capacity(prepared.len());
        for ((digest, _, dataset_key, _), new) in prepared.into_iter().zip(new) {
            if new && self.trim_due(&dataset_key) {
                self.trim_history(&dataset_key)?;
            }
            receipts.push(ObservationReceipt { digest, new });
        }
        Ok(receipts)
    }

    /// Counts a new observation of the dataset; true every [`TRIM_EVERY`]th.
    /// Trimming walks the whole history: doing it on every insert was most of
    /// the cost of ingesting.
    fn trim_due(&self, dataset_key: &[u8]) -> bool {
        let mut untrimmed = self
            .untrimmed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = untrimmed.entry(dataset_key.to_vec()).or_insert(0);
        *count += 1;
        if *count >= TRIM_EVERY.min(self.history_depth) {
            *count = 0;
            return true;
        }
        false
    }

    /// Drops the oldest observations of a dataset beyond the history depth.
    fn trim_history(&self, dataset_key: &[u8]) -> Result<(), LedgerError> {
        let newest_first = self.observations.scan_prefix(dataset_key).keys().rev();
        for key in newest_first.skip(self.history_depth) {
            self.observations.remove(key?)?;
        }
        Ok(())
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
            ledger.put_observation(&obs(&at(i), i as u64)).unwrap();
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
    fn tenants_do_not_see_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let a = Ledger::open(dir.path(), "a", 10).unwrap();
        let b = a.for_tenant("b").unwrap();
        a.put_observation(&obs("2026-11-26T08:00:00Z", 1)).unwrap();
        assert_eq!(b.observations().count(), 0);
    }
}
