//! Retention of chained records: a pruned record's index entry keeps its
//! link (prev, hash), and once a chain's oldest links are all pruned they
//! fold into its anchor, the last pruned link. Records are pruned by time
//! and chains run by sequence, so a late record may be pruned before the
//! links ahead of it: its entry bridges the gap until they go too.

use super::chain::{Entry, Tip, parse_hash, site_of};
use super::evaluations::EvalRecord;
use super::{Ledger, LedgerError, keys};
use sled::Transactional;
use sled::transaction::TransactionError;

impl Ledger {
    /// Removes the record under `key`, leaving its link in its chain.
    pub(super) fn prune_record(&self, key: &[u8], record: &EvalRecord) -> Result<(), LedgerError> {
        let site = site_of(&record.key).0;
        let pruned = record.chain.as_ref().and_then(|link| {
            let entry = Entry::Pruned {
                prev: parse_hash(&link.prev)?,
                hash: parse_hash(&link.hash)?,
            };
            let index = keys::ChainKey {
                slo: &record.slo,
                site,
                seq: link.seq,
            };
            Some((index.encode(), entry.encode()))
        });
        (&self.evaluations, &self.chains)
            .transaction(|(evaluations, chains)| {
                evaluations.remove(key)?;
                if let Some((index, entry)) = &pruned {
                    // Only the entry that points at this record.
                    let ours = chains.get(index)?.and_then(|v| Entry::decode(&v))
                        == Some(Entry::Record(key.to_vec()));
                    if ours {
                        chains.insert(index.as_slice(), entry.as_slice())?;
                    }
                }
                Ok::<_, sled::transaction::ConflictableTransactionError<LedgerError>>(())
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })
    }

    /// Folds the pruned links at the start of a chain into its anchor.
    pub(super) fn advance_anchor(&self, slo: &str, site: &str) -> Result<(), LedgerError> {
        let anchor = self.chain_tip(keys::ChainMetaKey::Anchor(slo, site))?;
        let mut folded = Vec::new();
        let mut tip = anchor;
        for item in self.chains.scan_prefix(keys::chain(slo, site)) {
            let (key, value) = item?;
            match (keys::ChainKey::parse(&key), Entry::decode(&value)) {
                (Some(k), Some(Entry::Pruned { hash, .. })) if k.seq == tip.seq + 1 => {
                    tip = Tip { seq: k.seq, hash };
                    folded.push(key);
                }
                (Some(k), _) if k.seq <= tip.seq => folded.push(key),
                _ => break,
            }
        }
        if tip == anchor {
            return Ok(());
        }
        let anchor_key = keys::ChainMetaKey::Anchor(slo, site).encode();
        (&self.chains, &self.meta)
            .transaction(|(chains, meta)| {
                for key in &folded {
                    chains.remove(key)?;
                }
                meta.insert(anchor_key.as_slice(), tip.encode())?;
                Ok::<_, sled::transaction::ConflictableTransactionError<LedgerError>>(())
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })
    }
}
