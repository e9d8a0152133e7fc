//! Links drafted before their transaction. sled runs one transaction at a
//! time in the whole process, so what a record's transaction computes holds
//! every other writer up: hashing the record into its chain and encoding it
//! were a sixth of the records' transaction in E4 (BENCHMARKS.md, round
//! two's fourth sitting). They are done first, on the heads as read then; the
//! transaction takes a draft only if the head it reads is the one the draft
//! follows, and links the record itself otherwise.

use super::chain::{Link, Tip, next_link, settled, site_of};
use super::evaluations::EvalRecord;
use super::{Ledger, LedgerError, codec, keys};
use std::collections::{HashMap, HashSet};

/// A record's link to the head it was drafted on, and the record stored
/// with it, encoded.
pub(super) struct Drafted {
    /// The record's key, so that a draft is never taken for another record.
    pub key: Vec<u8>,
    /// The head the link follows.
    pub after: Tip,
    pub link: Link,
    pub hash: [u8; 32],
    pub encoded: Vec<u8>,
}

impl Drafted {
    /// `record` as stored with `link`: the bytes [`Drafted::encoded`] holds
    /// for the same link.
    pub fn linked(record: &EvalRecord, link: Link) -> EvalRecord {
        EvalRecord {
            chain: Some(link),
            value: record.value.map(settled),
            ..record.clone()
        }
    }
}

impl Ledger {
    /// A draft per record, in order, as if each were new and the heads did
    /// not move meanwhile. None for a repeat within `records`, for one that
    /// looks stored already (read only when `read_stored`), and for a record
    /// read from the stream (`keep`) that keeps the link it carries in its
    /// site's chain.
    pub(super) fn draft_links(
        &self,
        records: &[EvalRecord],
        keep: bool,
        read_stored: bool,
    ) -> Result<Vec<Option<Drafted>>, LedgerError> {
        let mut heads: HashMap<(&str, &str), Tip> = HashMap::new();
        let mut seen = HashSet::new();
        let mut drafts = Vec::with_capacity(records.len());
        for record in records {
            let (site, _) = site_of(&record.key);
            let kept = keep && !site.is_empty() && record.chain.is_some();
            let key = keys::RecordKey::new(&record.slo, record.time, &record.key).encode();
            // A stored one drafted would move the draft's head, and the
            // drafts after it in its chain would be linked in the
            // transaction, under sled's lock.
            let stored = read_stored && self.evaluations.contains_key(&key)?;
            if kept || stored || !seen.insert(key.clone()) {
                drafts.push(None);
                continue;
            }
            let after = match heads.get(&(record.slo.as_str(), site)) {
                Some(tip) => *tip,
                None => self.chain_head(&record.slo, site)?,
            };
            let (link, hash) = next_link(record, after);
            heads.insert(
                (&record.slo, site),
                Tip {
                    seq: link.seq,
                    hash,
                },
            );
            let encoded = codec::encode(&Drafted::linked(record, link.clone()));
            drafts.push(Some(Drafted {
                key,
                after,
                link,
                hash,
                encoded,
            }));
        }
        Ok(drafts)
    }
}
