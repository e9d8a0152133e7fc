//! The ingest log's entries (`ingest`). Each observation has a sequence
//! number; an entry, keyed by the first of its numbers, names the new
//! observations of one append (their keys in `observations`, where each is
//! stored once) and covers the numbers up to the next entry's key (the last
//! one: up to `INGEST_NEXT`). Entries of layouts 2 and 3 hold a copy of one
//! observation; both forms are read, so the layout 4 migration rewrites
//! none (it drops those a layout 3 build left behind its cursor). History is trimmed only when nothing waits in the
//! log (see `observations`), so the observations an entry names are there
//! when it is consumed. An entry goes in the transaction that moves the
//! cursor past its last number.

use super::{Ledger, LedgerError, codec, keys};
use crate::model::Observation;
use serde::{Deserialize, Serialize};
use sled::IVec;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

/// An entry as written now: the observations' keys in `observations`, hex,
/// in sequence order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Named {
    stored: Vec<String>,
}

/// What an entry holds.
enum Contents {
    Named(Vec<String>),
    /// Written before: the observation itself.
    Copy(Box<Observation>),
}

/// The log entry of the observations stored under `observation_keys`.
pub(super) fn entry(observation_keys: &[&[u8]]) -> Vec<u8> {
    codec::encode(&Named {
        stored: observation_keys.iter().map(hex::encode).collect(),
    })
}

type TxResult<T> = Result<T, ConflictableTransactionError<LedgerError>>;

/// Whether the log holds an observation not yet evaluated, read in a
/// transaction (appends move `INGEST_NEXT` in theirs).
pub(super) fn waiting(meta: &TransactionalTree) -> TxResult<bool> {
    let read = |key: &[u8], default: u64| -> TxResult<u64> {
        match meta.get(key)? {
            Some(bytes) => keys::parse_sequence(&bytes).ok_or_else(|| {
                ConflictableTransactionError::Abort(LedgerError::bad_value(
                    "meta",
                    key,
                    "not a sequence number",
                ))
            }),
            None => Ok(default),
        }
    };
    Ok(read(keys::INGEST_NEXT, 1)? > read(keys::INGEST_CURSOR, 0)?.saturating_add(1))
}

impl Ledger {
    /// Up to `limit` logged observations after `cursor`, oldest first, with
    /// their sequence numbers.
    pub fn logged_after(
        &self,
        cursor: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Observation)>, LedgerError> {
        let wanted = keys::IngestKey(cursor.saturating_add(1)).encode();
        // The entry holding the next number starts at or before it.
        let start = match self.ingest.range(..=wanted).next_back() {
            Some(item) => item?.0,
            None => IVec::from(&wanted[..]),
        };
        let mut out = Vec::new();
        for item in self.ingest.range(start..) {
            if out.len() >= limit {
                break;
            }
            let (key, bytes) = item?;
            let first =
                keys::IngestKey::parse(&key).ok_or_else(|| LedgerError::bad_key("ingest", &key))?;
            match contents(&key, &bytes)? {
                Contents::Copy(observation) => {
                    if first.0 > cursor {
                        out.push((first.0, *observation));
                    }
                }
                Contents::Named(stored) => {
                    for (seq, named) in (first.0..).zip(&stored) {
                        if seq > cursor && out.len() < limit {
                            out.push((seq, self.named(&key, named)?));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    fn named(&self, key: &[u8], named: &str) -> Result<Observation, LedgerError> {
        let stored = hex::decode(named)
            .map_err(|_| LedgerError::bad_value("ingest", key, "names no observation key"))?;
        match self.observations.get(&stored)? {
            Some(value) => codec::decode("observations", &stored, &value),
            None => Err(LedgerError::bad_value(
                "ingest",
                key,
                "an observation it names is not stored",
            )),
        }
    }

    /// The keys of the entries whose every number is at most `through`,
    /// oldest first. Read outside the transaction that drops them: only the
    /// log's consumer drops entries, and appends add them after the last
    /// (one it misses makes `INGEST_NEXT` larger, so it keeps the last).
    pub(super) fn logged_through(&self, through: u64) -> Result<Vec<IVec>, LedgerError> {
        let mut out = Vec::new();
        let mut entries = self.ingest.iter().keys();
        let Some(mut key) = entries.next().transpose()? else {
            return Ok(out);
        };
        loop {
            let next = entries.next().transpose()?;
            // An entry ends where the next begins, the last where the log does.
            let end = match &next {
                Some(next) => {
                    keys::IngestKey::parse(next)
                        .ok_or_else(|| LedgerError::bad_key("ingest", next))?
                        .0
                }
                None => self.ingest_next()?,
            };
            if end > through.saturating_add(1) {
                break;
            }
            out.push(key);
            match next {
                Some(next) => key = next,
                None => break,
            }
        }
        Ok(out)
    }

    /// Drops the log's entries evaluated through `through` (the history
    /// keeps what policies read), for a ledger whose cursor does not move
    /// (replay's scratch); the consumer's commits drop them with the cursor.
    pub fn forget_logged(&self, through: u64) -> Result<(), LedgerError> {
        for key in self.logged_through(through)? {
            self.ingest.remove(key)?;
        }
        Ok(())
    }
}

/// An entry, of either form.
fn contents(key: &[u8], bytes: &[u8]) -> Result<Contents, LedgerError> {
    let json = codec::checked("ingest", key, bytes)?;
    match serde_json::from_slice::<Named>(json) {
        Ok(Named { stored }) => Ok(Contents::Named(stored)),
        Err(_) => codec::decode("ingest", key, bytes).map(|o| Contents::Copy(Box::new(o))),
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

    fn logged_rows(ledger: &Ledger, after: u64) -> Vec<(u64, u64)> {
        ledger
            .logged_after(after, 100)
            .unwrap()
            .into_iter()
            .map(|(seq, o)| (seq, o.row_count.unwrap()))
            .collect()
    }

    #[test]
    fn one_entry_names_the_observations_of_an_append_and_goes_once_all_are_evaluated() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        let batch: Vec<Observation> = (1..=3)
            .map(|hour| obs(&format!("2026-11-26T0{hour}:00:00Z"), hour))
            .collect();
        ledger.put_observations(&batch).unwrap();
        assert_eq!(ledger.ingest.len(), 1);
        let (_, entry) = ledger.ingest.first().unwrap().unwrap();
        let text = String::from_utf8_lossy(&entry);
        assert!(!text.contains("row_count"), "names, not copies: {text}");
        assert_eq!(logged_rows(&ledger, 0), [(1, 1), (2, 2), (3, 3)]);
        assert_eq!(logged_rows(&ledger, 1), [(2, 2), (3, 3)]);
        ledger.record_batch_at(&[], Some(2)).unwrap();
        assert_eq!(ledger.ingest.len(), 1, "its last is not evaluated yet");
        assert_eq!(logged_rows(&ledger, 2), [(3, 3)]);
        ledger.record_batch_at(&[], Some(3)).unwrap();
        assert!(ledger.ingest.is_empty());
    }

    #[test]
    fn a_log_written_with_copies_of_its_observations_is_still_consumed() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        let (a, b, c) = (
            obs("2026-11-26T08:00:00Z", 1),
            obs("2026-11-26T09:00:00Z", 2),
            obs("2026-11-26T10:00:00Z", 3),
        );
        ledger.put_observations(&[a.clone(), b.clone()]).unwrap();
        // As an older build (or the layout 2 migration) wrote them: an
        // entry per observation, holding it.
        ledger.ingest.clear().unwrap();
        for (seq, o) in [(1, &a), (2, &b)] {
            let entry = codec::encode(o);
            ledger
                .ingest
                .insert(keys::IngestKey(seq).encode(), entry)
                .unwrap();
        }
        ledger.put_observation(&c).unwrap();
        assert_eq!(logged_rows(&ledger, 0), [(1, 1), (2, 2), (3, 3)]);
        ledger.record_batch_at(&[], Some(1)).unwrap();
        assert_eq!(logged_rows(&ledger, 1), [(2, 2), (3, 3)]);
        ledger.record_batch_at(&[], Some(3)).unwrap();
        assert!(ledger.ingest.is_empty());
    }

    #[test]
    fn entries_an_older_build_left_behind_the_cursor_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        let a = obs("2026-11-26T08:00:00Z", 1);
        ledger.put_observation(&a).unwrap();
        // The cursor moved, then a crash before its entries were dropped.
        ledger
            .meta
            .insert(keys::INGEST_CURSOR, &keys::sequence(1))
            .unwrap();
        ledger
            .put_observation(&obs("2026-11-26T09:00:00Z", 2))
            .unwrap();
        ledger.forget_logged(1).unwrap();
        assert_eq!(ledger.ingest.len(), 1);
        assert_eq!(logged_rows(&ledger, 1), [(2, 2)]);
    }

    #[test]
    fn the_layout_4_migration_drops_the_entries_a_layout_3_build_left_behind_its_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        let (a, b) = (
            obs("2026-11-26T08:00:00Z", 1),
            obs("2026-11-26T09:00:00Z", 2),
        );
        ledger.put_observations(&[a.clone(), b.clone()]).unwrap();
        // As layout 3 wrote them, and a crash after moving the cursor past
        // the first but before dropping its entry.
        ledger.ingest.clear().unwrap();
        for (seq, o) in [(1, &a), (2, &b)] {
            let entry = codec::encode(o);
            ledger
                .ingest
                .insert(keys::IngestKey(seq).encode(), entry)
                .unwrap();
        }
        ledger
            .meta
            .insert(keys::INGEST_CURSOR, &keys::sequence(1))
            .unwrap();
        super::super::migrations::named_log(&ledger.db).unwrap();
        assert_eq!(ledger.ingest.len(), 1);
        assert_eq!(logged_rows(&ledger, 1), [(2, 2)]);
        super::super::migrations::named_log(&ledger.db).unwrap();
        assert_eq!(ledger.ingest.len(), 1, "a rerun changes nothing");
    }

    #[test]
    fn an_entry_whose_observation_is_gone_is_reported_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        ledger
            .put_observation(&obs("2026-11-26T08:00:00Z", 1))
            .unwrap();
        ledger.observations.clear().unwrap();
        let error = ledger.logged_after(0, 10).unwrap_err().to_string();
        assert!(error.contains("ingest"), "{error}");
        assert!(error.contains("not stored"), "{error}");
        assert!(
            error.contains(&hex::encode(keys::IngestKey(1).encode())),
            "{error}"
        );
    }

    #[test]
    fn a_late_observation_waiting_in_the_log_outlives_a_trim_of_its_history() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 2).unwrap();
        let at = |hour: u64| format!("2026-11-26T{hour:02}:00:00Z");
        for hour in 10..14 {
            ledger.put_observation(&obs(&at(hour), hour)).unwrap();
        }
        ledger.record_batch_at(&[], Some(4)).unwrap();
        // The consumer found the log empty; an observation older than the
        // two kept arrives before its trim.
        let late = obs(&at(1), 1);
        ledger.put_observation(&late).unwrap();
        ledger.trim_evaluated([&late.dataset; 4]).unwrap();
        assert_eq!(logged_rows(&ledger, 4), [(5, 1)]);
        assert_eq!(ledger.observations().count(), 5, "no trim while it waits");
        // Evaluated, the next trim drops it with the others beyond the depth.
        ledger.record_batch_at(&[], Some(5)).unwrap();
        ledger.trim_evaluated([&late.dataset]).unwrap();
        let rows: Vec<u64> = ledger
            .observations()
            .map(|o| o.unwrap().row_count.unwrap())
            .collect();
        assert_eq!(rows, [12, 13]);
    }
}
