//! Late records, for the alerts. Each SLO keeps the minute its alerts were
//! last judged at; a record filed for an earlier minute is late, and its
//! write lowers the SLO's [`LateMark`] in the same transaction, so a crash
//! never loses it. The alerts read the mark, judge the past again from it,
//! and clear it only if no late record moved it meanwhile.

use super::{Ledger, LedgerError, codec, keys};
use serde::{Deserialize, Serialize};

/// The earliest minute filed behind an SLO's judged minute since its
/// alerts last looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateMark {
    /// The earliest late minute.
    pub from: i64,
    /// Late writes folded into it: a mark that changed is not cleared.
    pub writes: u64,
}

/// A mark as read, to clear it only if it is still the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMark {
    /// The mark.
    pub mark: LateMark,
    raw: Vec<u8>,
}

/// Judged minutes of one tenant's SLOs, shared by the clones of a ledger;
/// `None`: never judged.
pub(super) type JudgedCache =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Option<i64>>>>;

impl Ledger {
    /// The minute `slo`'s alerts were last judged at; `None` before the
    /// first judgement, when no record is late.
    pub fn judged(&self, slo: &str) -> Result<Option<i64>, LedgerError> {
        let mut cache = self.judged.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(minute) = cache.get(slo) {
            return Ok(*minute);
        }
        let key = keys::JudgedKey(slo).encode();
        let minute = match self.meta.get(&key)? {
            Some(bytes) => Some(codec::decode::<i64>("meta", &key, &bytes)?),
            None => None,
        };
        cache.insert(slo.to_string(), minute);
        Ok(minute)
    }

    /// Marks `slo`'s alerts judged at `minute` (never moving back). It waits
    /// for the records being written: any record written after it is
    /// either seen by the judgement or late.
    pub fn set_judged(&self, slo: &str, minute: i64) -> Result<(), LedgerError> {
        if self.judged(slo)?.is_some_and(|m| m >= minute) {
            return Ok(());
        }
        let _writers = self
            .series_lock
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.meta
            .insert(keys::JudgedKey(slo).encode(), codec::encode(&minute))?;
        let mut cache = self.judged.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(slo.to_string(), Some(minute));
        Ok(())
    }

    /// The late mark of `slo`, if a record was filed behind its judged
    /// minute since the mark was last cleared.
    pub fn late_mark(&self, slo: &str) -> Result<Option<ReadMark>, LedgerError> {
        let key = keys::LateKey(slo).encode();
        match self.meta.get(&key)? {
            Some(raw) => Ok(Some(ReadMark {
                mark: codec::decode("meta", &key, &raw)?,
                raw: raw.to_vec(),
            })),
            None => Ok(None),
        }
    }

    /// Clears `read` unless a late record moved the mark since; returns
    /// whether it did.
    pub fn clear_late_mark(&self, slo: &str, read: &ReadMark) -> Result<bool, LedgerError> {
        let key = keys::LateKey(slo).encode();
        let swapped = self
            .meta
            .compare_and_swap(key, Some(read.raw.as_slice()), None::<&[u8]>)?;
        Ok(swapped.is_ok())
    }

    /// The last minute of the last episode late records made `alert` of
    /// `slo` fire for.
    pub fn late_episode(&self, slo: &str, alert: &str) -> Result<Option<i64>, LedgerError> {
        let key = keys::LateEpisodeKey { slo, alert }.encode();
        match self.meta.get(&key)? {
            Some(bytes) => Ok(Some(codec::decode("meta", &key, &bytes)?)),
            None => Ok(None),
        }
    }

    /// Stores the last minute of `alert`'s late episode.
    pub fn set_late_episode(&self, slo: &str, alert: &str, last: i64) -> Result<(), LedgerError> {
        let key = keys::LateEpisodeKey { slo, alert }.encode();
        self.meta.insert(key, codec::encode(&last))?;
        Ok(())
    }
}

/// Lowers `slo`'s late mark to `minute` inside a record's transaction.
pub(super) fn lower_mark(
    meta: &sled::transaction::TransactionalTree,
    slo: &str,
    minute: i64,
) -> Result<(), sled::transaction::ConflictableTransactionError<LedgerError>> {
    let key = keys::LateKey(slo).encode();
    let mark = match meta.get(&key)? {
        Some(bytes) => {
            let old: LateMark = codec::decode("meta", &key, &bytes)
                .map_err(sled::transaction::ConflictableTransactionError::Abort)?;
            LateMark {
                from: old.from.min(minute),
                writes: old.writes.wrapping_add(1),
            }
        }
        None => LateMark {
            from: minute,
            writes: 1,
        },
    };
    meta.insert(key, codec::encode(&mark))?;
    Ok(())
}
