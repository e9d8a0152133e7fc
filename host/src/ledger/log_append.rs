//! The ingest log's append transaction, owned by the group that runs it
//! (`group_append`): the trees it writes and the shared flush, and not the
//! ledger handle, so a leader on another thread keeps nothing else open.

use super::{LedgerError, group_commit::GroupCommit, ingest_log, keys};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::sync::Arc;

/// An observation ready for the append transaction.
pub(super) struct Pending {
    pub(super) key: Vec<u8>,
    pub(super) dataset_key: Vec<u8>,
    pub(super) value: Vec<u8>,
}

/// What one tenant's append writes to.
pub(super) struct LogAppender {
    pub(super) observations: sled::Tree,
    pub(super) latest: sled::Tree,
    pub(super) ingest: sled::Tree,
    pub(super) meta: sled::Tree,
    pub(super) db: sled::Db,
    pub(super) commits: Arc<GroupCommit>,
}

impl LogAppender {
    /// A group's transaction, then a flush when one of its callers asked.
    pub(super) fn commit(
        &self,
        prepared: &[Pending],
        flush: bool,
    ) -> Result<Vec<Option<u64>>, LedgerError> {
        let seqs = self.append_chunk(prepared)?;
        if flush {
            self.commits.flush(&self.db)?;
        }
        Ok(seqs)
    }

    /// One transaction: stores the observations not stored yet (an
    /// observation twice in `prepared` counts once: the transaction reads its
    /// own writes) and logs them; their sequence numbers, `None` for repeats.
    fn append_chunk(&self, prepared: &[Pending]) -> Result<Vec<Option<u64>>, LedgerError> {
        (&self.observations, &self.latest, &self.ingest, &self.meta)
            .transaction(|(stored, latest, log, meta)| {
                // Read and written in the transaction: concurrent appends are
                // serialised by sled, so a later commit never gets an earlier
                // number (the consumer never skips one).
                let mut next = match meta.get(keys::INGEST_NEXT)? {
                    Some(bytes) => keys::parse_sequence(&bytes).ok_or_else(|| {
                        ConflictableTransactionError::Abort(LedgerError::bad_value(
                            "meta",
                            keys::INGEST_NEXT,
                            "not a sequence number",
                        ))
                    })?,
                    None => 1,
                };
                let first = next;
                let mut new = Vec::with_capacity(prepared.len());
                let mut logged = Vec::with_capacity(prepared.len());
                for p in prepared {
                    if stored.get(&p.key)?.is_some() {
                        new.push(None);
                        continue;
                    }
                    logged.push(p.key.as_slice());
                    stored.insert(p.key.as_slice(), p.value.as_slice())?;
                    let newer = match latest.get(&p.dataset_key)? {
                        Some(current) => current.as_ref() < p.key.as_slice(),
                        None => true,
                    };
                    if newer {
                        latest.insert(p.dataset_key.as_slice(), p.key.as_slice())?;
                    }
                    new.push(Some(next));
                    next += 1;
                }
                if !logged.is_empty() {
                    // One entry names the chunk's new observations, stored
                    // once (see `ingest_log`).
                    log.insert(&keys::IngestKey(first).encode(), ingest_log::entry(&logged))?;
                }
                meta.insert(keys::INGEST_NEXT, &keys::sequence(next))?;
                Ok::<_, ConflictableTransactionError<LedgerError>>(new)
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })
    }
}
