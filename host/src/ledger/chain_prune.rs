//! Retention of chained records: a pruned record's index entry keeps its
//! link (prev, hash), and once a chain's oldest links are all pruned they
//! fold into its anchor, the last pruned link. Records are pruned by time
//! and chains run by sequence, so a late record may be pruned before the
//! links ahead of it: its entry bridges the gap until they go too.

use super::chain::{Tip, parse_hash, site_of};
use super::chain_index::{Entry, encode_run};
use super::evaluations::EvalRecord;
use super::{Ledger, LedgerError, keys};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::collections::HashMap;

/// A link to prune in a run: its place, its record's key, its new entry.
type Pruning<'a> = (usize, &'a [u8], Entry);

/// Records pruned per transaction.
pub(super) const PRUNE_BATCH: usize = 1_000;

impl Ledger {
    /// Removes the records of `batch` (key, record) in one transaction,
    /// leaving their links in their chains.
    pub(super) fn prune_records(&self, batch: &[(Vec<u8>, EvalRecord)]) -> Result<(), LedgerError> {
        if batch.is_empty() {
            return Ok(());
        }
        // Each run holding one of them, found before the transaction (which
        // cannot scan): writers only add runs, and retention runs alone.
        let mut runs: HashMap<sled::IVec, Vec<Pruning<'_>>> = HashMap::new();
        for (key, record) in batch {
            let Some(link) = &record.chain else { continue };
            let (Some(prev), Some(hash)) = (parse_hash(&link.prev), parse_hash(&link.hash)) else {
                continue;
            };
            let site = site_of(&record.key).0;
            if let Some((run, place)) = self.run_at(&record.slo, site, link.seq)? {
                let pruned = Entry::Pruned { prev, hash };
                runs.entry(run.key).or_default().push((place, key, pruned));
            }
        }
        (&self.evaluations, &self.chains)
            .transaction(|(evaluations, chains)| {
                for (key, _) in batch {
                    evaluations.remove(key.as_slice())?;
                }
                for (run_key, links) in &runs {
                    let Some(value) = chains.get(run_key)? else {
                        continue;
                    };
                    let Some(mut entries) = super::chain_index::decode_run(&value) else {
                        continue; // `verify` names an unreadable entry
                    };
                    for (place, key, pruned) in links {
                        // Only the entry that points at this record.
                        if let Some(entry) = entries.get_mut(*place)
                            && *entry == Entry::Record(key.to_vec())
                        {
                            *entry = pruned.clone();
                        }
                    }
                    chains.insert(run_key, encode_run(&entries))?;
                }
                Ok::<_, ConflictableTransactionError<LedgerError>>(())
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })
    }

    /// Folds the pruned links at the start of a chain into its anchor. A
    /// run folded only in part keeps its tail, under the tail's first seq.
    pub(super) fn advance_anchor(&self, slo: &str, site: &str) -> Result<(), LedgerError> {
        let anchor = self.chain_tip(keys::ChainMetaKey::Anchor(slo, site))?;
        let mut folded = Vec::new();
        let mut tail = None;
        let mut tip = anchor;
        'runs: for run in self.chain_runs(slo, site) {
            let run = match run {
                Ok(run) => run,
                // Folding stops at a key that does not parse; `verify` names it.
                Err(LedgerError::Corrupt { .. }) => break,
                Err(e) => return Err(e),
            };
            for (i, (seq, entry)) in run.links().into_iter().enumerate() {
                match entry {
                    Some(Entry::Pruned { hash, .. }) if seq == tip.seq + 1 => {
                        tip = Tip { seq, hash };
                    }
                    _ if seq <= tip.seq => {}
                    _ => {
                        if i > 0
                            && let Some(entries) = &run.entries
                        {
                            tail = Some((seq, entries[i..].to_vec()));
                            folded.push(run.key);
                        }
                        break 'runs;
                    }
                }
            }
            folded.push(run.key);
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
                if let Some((seq, entries)) = &tail {
                    let key = keys::ChainKey {
                        slo,
                        site,
                        seq: *seq,
                    };
                    chains.insert(key.encode(), encode_run(entries))?;
                }
                meta.insert(anchor_key.as_slice(), tip.encode())?;
                Ok::<_, ConflictableTransactionError<LedgerError>>(())
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })
    }
}
