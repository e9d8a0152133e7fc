//! Late records, for the alerts. Each SLO keeps the minute its alerts were
//! last judged at; a record filed for an earlier minute is late, and its
//! write widens the SLO's [`LateMark`] in the same transaction, so a crash
//! never loses it. The alerts read the mark, judge the past again over it,
//! and clear it only if no late record moved it meanwhile. Each alert also
//! keeps the spans of minutes late records already made it fire for.
//!
//! The judged minute is read inside the records' transaction and written
//! outside any: sled runs transactions one at a time, and a plain write
//! waits for the one running, so every record is either seen by the
//! judgement that follows or late for it.

use super::{Ledger, LedgerError, codec, keys};
use serde::{Deserialize, Serialize};

/// The minutes filed behind an SLO's judged minute since its alerts last
/// looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateMark {
    /// The earliest late minute.
    pub from: i64,
    /// The latest.
    pub to: i64,
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

/// Judged minutes of one tenant's SLOs as last written, shared by the
/// clones of a ledger, to write each minute once; `None`: never judged.
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

    /// Marks `slo`'s alerts judged at `minute` (never moving back): any
    /// record written after this returns is either seen by the judgement
    /// or late.
    pub fn set_judged(&self, slo: &str, minute: i64) -> Result<(), LedgerError> {
        if self.judged(slo)?.is_some_and(|m| m >= minute) {
            return Ok(());
        }
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

    /// The spans of minutes (first, last) late records made `alert` of
    /// `slo` fire for, oldest first.
    pub fn late_episodes(&self, slo: &str, alert: &str) -> Result<Vec<(i64, i64)>, LedgerError> {
        let key = keys::LateEpisodeKey { slo, alert }.encode();
        match self.meta.get(&key)? {
            Some(bytes) => Ok(codec::decode("meta", &key, &bytes)?),
            None => Ok(Vec::new()),
        }
    }

    /// Stores them.
    pub fn set_late_episodes(
        &self,
        slo: &str,
        alert: &str,
        spans: &[(i64, i64)],
    ) -> Result<(), LedgerError> {
        let key = keys::LateEpisodeKey { slo, alert }.encode();
        self.meta.insert(key, codec::encode(&spans))?;
        Ok(())
    }
}

/// The judged minute of `slo`, read inside a records' transaction. An
/// unreadable value judges nothing late rather than stopping every write.
pub(super) fn judged_in(
    meta: &sled::transaction::TransactionalTree,
    slo: &str,
) -> Result<Option<i64>, sled::transaction::UnabortableTransactionError> {
    let key = keys::JudgedKey(slo).encode();
    Ok(meta.get(&key)?.and_then(|bytes| {
        codec::decode::<i64>("meta", &key, &bytes)
            .inspect_err(|error| tracing::warn!(%error, slo, "judged minute unreadable"))
            .ok()
    }))
}

/// Widens `slo`'s late mark to `from..=to` inside a records' transaction.
/// An unreadable mark is replaced, not kept to stop every write.
pub(super) fn lower_mark(
    meta: &sled::transaction::TransactionalTree,
    slo: &str,
    from: i64,
    to: i64,
) -> Result<(), sled::transaction::UnabortableTransactionError> {
    let key = keys::LateKey(slo).encode();
    let old = meta.get(&key)?.and_then(|bytes| {
        codec::decode::<LateMark>("meta", &key, &bytes)
            .inspect_err(|error| tracing::warn!(%error, slo, "late mark unreadable; replaced"))
            .ok()
    });
    let mark = match old {
        Some(old) => LateMark {
            from: old.from.min(from),
            to: old.to.max(to),
            writes: old.writes.wrapping_add(1),
        },
        None => LateMark {
            from,
            to,
            writes: 1,
        },
    };
    meta.insert(key, codec::encode(&mark))?;
    Ok(())
}
