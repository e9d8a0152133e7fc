//! The hash chains of tamper evidence: each SLO's records form one chain
//! per site, ordered by sequence number in the chain (not by time: records
//! arrive late and out of order). A record's link is its sequence number,
//! the previous link's hash and its own hash, a sha256 over the previous
//! hash and the record's canonical encoding ([`link_hash`], written out in
//! docs/ledger-chain.md so an auditor can recompute it).
//!
//! The chain's index (`chains`, see `chain_index`) and its head (`meta`)
//! move in the transaction that writes the record. Retention keeps
//! the last pruned link as the chain's anchor, so a pruned chain verifies.

use super::chain_draft::Drafted;
use super::chain_index::{Entry, RUN_LIMIT, encode_run};
use super::evaluations::{EvalRecord, Outcome};
use super::{Ledger, LedgerError, codec, keys};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use std::collections::HashMap;

/// The `prev` of a chain's first link: 32 zero bytes.
pub const GENESIS: [u8; 32] = [0; 32];

/// What a record's hash starts with: the encoding's name and version.
const DOMAIN: &[u8] = b"dataslo chain v1";

/// A record's place in its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Its sequence number in the chain, from 1.
    pub seq: u64,
    /// The previous link's hash (hex); 64 zeros for the first.
    pub prev: String,
    /// This record's hash (hex).
    pub hash: String,
}

/// The chain a stored record key belongs to, and the key without its site:
/// records filed from an agent are keyed `<site>.<key>`; the ledger's own
/// records (an agent's own, central's own) have no site (`""`). Idempotency
/// keys are hex or `tick-<ns>`, so they hold no dot.
pub fn site_of(key: &str) -> (&str, &str) {
    key.split_once('.').unwrap_or(("", key))
}

/// The link (and its hash) that makes `record` follow `head`.
pub(super) fn next_link(record: &EvalRecord, head: Tip) -> (Link, [u8; 32]) {
    let seq = head.seq + 1;
    let hash = link_hash(record, seq, &head.hash);
    let link = Link {
        seq,
        prev: hex32(&head.hash),
        hash: hex32(&hash),
    };
    (link, hash)
}

/// A hash as 64 hex digits. `hex::encode` pushes one char at a time; a
/// record's link holds two of these, made for every record.
pub(super) fn hex32(hash: &[u8; 32]) -> String {
    let mut out = [0u8; 64];
    match hex::encode_to_slice(hash, &mut out) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => hex::encode(hash),
    }
}

/// The hash of `record` as link `seq` after `prev`: sha256 of the
/// canonical encoding (docs/ledger-chain.md). Its `chain` is not part of it;
/// its key counts without the site (see [`site_of`]), so an agent's link
/// recomputes at central.
pub fn link_hash(record: &EvalRecord, seq: u64, prev: &[u8; 32]) -> [u8; 32] {
    fn text(h: &mut Sha256, s: &str) {
        h.update((s.len() as u32).to_be_bytes());
        h.update(s.as_bytes());
    }
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(seq.to_be_bytes());
    h.update(prev);
    text(&mut h, &record.slo);
    text(&mut h, &record.dataset.namespace);
    text(&mut h, &record.dataset.name);
    text(&mut h, &record.time.to_string());
    text(&mut h, site_of(&record.key).1);
    text(&mut h, &record.policy_sha256);
    match &record.outcome {
        Outcome::Measured => h.update([0]),
        Outcome::Error { code, message } => {
            h.update([1]);
            text(&mut h, code);
            text(&mut h, message);
        }
    }
    h.update((record.events.len() as u32).to_be_bytes());
    for e in &record.events {
        h.update(e.good.to_be_bytes());
        h.update(e.total.to_be_bytes());
    }
    h.update((record.objectives.len() as u32).to_be_bytes());
    for o in &record.objectives {
        text(&mut h, o);
    }
    // Not finite: stored as null, so it reads back as none.
    match record.value.filter(|v| v.is_finite()) {
        None => h.update([0]),
        Some(v) => {
            h.update([1]);
            h.update(settled(v).to_bits().to_be_bytes());
        }
    }
    text(&mut h, &record.detail);
    h.finalize().into()
}

/// `v` as it reads back from the ledger's JSON. Some numbers read back one
/// step off ([`crate::model::number_read_back`]), so a value is stored
/// settled: written and read until it reads back as itself. The hash binds
/// the settled bits, which any correct parser gets from the exported text.
pub fn settled(mut v: f64) -> f64 {
    for _ in 0..8 {
        match crate::model::number_read_back(v) {
            Some(back) if back.to_bits() != v.to_bits() => v = back,
            // Not finite: stored as null.
            _ => return v,
        }
    }
    v
}

/// The link of `record` as number `seq` after `prev`.
pub fn link(record: &EvalRecord, seq: u64, prev: &[u8; 32]) -> Link {
    Link {
        seq,
        prev: hex32(prev),
        hash: hex32(&link_hash(record, seq, prev)),
    }
}

/// Reads a 64-digit hex hash.
pub fn parse_hash(hex_text: &str) -> Option<[u8; 32]> {
    let mut out = [0; 32];
    hex::decode_to_slice(hex_text, &mut out).ok()?;
    Some(out)
}

/// Whether `link` is `record`'s: its hash recomputes from its seq and prev.
pub fn recomputes(record: &EvalRecord, link: &Link) -> bool {
    parse_hash(&link.prev)
        .is_some_and(|prev| hex::encode(link_hash(record, link.seq, &prev)) == link.hash)
}

/// A chain's last link (its head) or last pruned link (its anchor): the
/// sequence number, then the hash, 40 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tip {
    /// Its sequence number; 0 for an empty chain.
    pub seq: u64,
    /// Its hash; [`GENESIS`] for an empty chain.
    pub hash: [u8; 32],
}

impl Tip {
    /// An empty chain's.
    pub const EMPTY: Tip = Tip {
        seq: 0,
        hash: GENESIS,
    };

    pub(super) fn encode(&self) -> Vec<u8> {
        [&self.seq.to_be_bytes()[..], &self.hash].concat()
    }

    pub(super) fn decode(key: &[u8], bytes: &[u8]) -> Result<Self, LedgerError> {
        let corrupt = || LedgerError::Corrupt {
            tree: "meta".into(),
            key: hex::encode(key),
            reason: "not a chain head: 40 bytes expected".into(),
        };
        let (seq, hash) = bytes.split_at_checked(8).ok_or_else(corrupt)?;
        Ok(Tip {
            seq: u64::from_be_bytes(seq.try_into().map_err(|_| corrupt())?),
            hash: hash.try_into().map_err(|_| corrupt())?,
        })
    }

    fn of(link: &Link) -> Option<Tip> {
        Some(Tip {
            seq: link.seq,
            hash: parse_hash(&link.hash)?,
        })
    }
}

/// How a link was filed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filed {
    /// Next in its chain, or (an agent's) a late link filling an empty
    /// place below its chain's head: a redelivery, not a problem.
    Linked,
    /// An agent's link ahead of central's head for its chain, leaving a
    /// gap: the records between are on their way again, or lost. Kept with
    /// the agent's link; a gap that stays is named by `ledger verify`.
    Gap {
        /// The chain's head before it.
        head: u64,
        /// The link's sequence number.
        seq: u64,
    },
    /// An agent's link whose seq another record already holds (its ledger
    /// was rebuilt, or migrated apart from central's): the record is kept
    /// outside the chain, logged as an error, and `verify` names it.
    Fork {
        /// The link's sequence number.
        seq: u64,
    },
    /// An agent's link next after central's head whose prev is not the
    /// head's hash: the two disagree on the link before. Filed with the
    /// agent's link; `verify` names the break.
    BrokenLink {
        /// The link's sequence number.
        seq: u64,
    },
}

/// The heads of the chains one transaction extends, read once each, and
/// the runs of the ledger's own chains it files (see `chain_index`).
#[derive(Default)]
pub(super) struct Heads<'a> {
    tips: HashMap<(&'a str, &'a str), Tip>,
    /// Per own chain, the run being filed: its first seq and record keys.
    runs: HashMap<(&'a str, &'a str), (u64, Vec<Entry>)>,
    /// Files each link under a key of its own, as layout 3 and 4 did.
    key_per_link: bool,
}

type TxResult<T> = Result<T, ConflictableTransactionError<LedgerError>>;

impl<'a> Heads<'a> {
    /// Heads that file each link under a key of its own: the migration to
    /// layout 3 writes what layout 3 reads.
    pub(super) fn key_per_link() -> Self {
        Heads {
            key_per_link: true,
            ..Heads::default()
        }
    }

    fn tip(&mut self, meta: &TransactionalTree, slo: &'a str, site: &'a str) -> TxResult<Tip> {
        if let Some(tip) = self.tips.get(&(slo, site)) {
            return Ok(*tip);
        }
        let key = keys::ChainMetaKey::Head(slo, site).encode();
        let tip = match meta.get(&key)? {
            Some(bytes) => {
                Tip::decode(&key, &bytes).map_err(ConflictableTransactionError::Abort)?
            }
            None => Tip::EMPTY,
        };
        self.tips.insert((slo, site), tip);
        Ok(tip)
    }

    /// Gives `record` (stored under `key`) the next link of its chain and
    /// indexes it. With `keep` (read from the stream), an agent's record
    /// keeps the link it carries, indexed at its seq: the stream may deliver
    /// a record again after later ones (a central killed before its ack),
    /// so a record ahead of the head leaves a gap that the late ones fill.
    /// A draft on the head read here gives the link without hashing again.
    pub(super) fn file(
        &mut self,
        meta: &TransactionalTree,
        chains: &TransactionalTree,
        record: &'a EvalRecord,
        key: &[u8],
        keep: bool,
        drafted: Option<&Drafted>,
    ) -> TxResult<(Link, Filed)> {
        let (site, _) = site_of(&record.key);
        let head = self.tip(meta, &record.slo, site)?;
        if let (Some(theirs), true) = (&record.chain, keep && !site.is_empty()) {
            let index = keys::ChainKey {
                slo: &record.slo,
                site,
                seq: theirs.seq,
            }
            .encode();
            let anchor_key = keys::ChainMetaKey::Anchor(&record.slo, site).encode();
            let anchored = match meta.get(&anchor_key)? {
                Some(bytes) => {
                    Tip::decode(&anchor_key, &bytes)
                        .map_err(ConflictableTransactionError::Abort)?
                        .seq
                }
                None => 0,
            };
            // Seq 0, one folded into the anchor, or the last seq (no link can
            // follow it) has no place a verify walks: outside the chain.
            let placeless = theirs.seq <= anchored || theirs.seq == u64::MAX;
            if placeless || chains.get(&index)?.is_some() {
                // Another record holds its place: filed outside the chain,
                // which `verify` reports as inserted.
                return Ok((theirs.clone(), Filed::Fork { seq: theirs.seq }));
            }
            chains.insert(index, encode_run(&[Entry::Record(key.to_vec())]))?;
            // `theirs.seq` is below u64::MAX (placeless otherwise), so the
            // head it may follow is too.
            let next = head.seq.saturating_add(1);
            let filed = match theirs.seq.cmp(&next) {
                // Ahead: the one gap of a reordering, counted once here.
                std::cmp::Ordering::Greater => Filed::Gap {
                    head: head.seq,
                    seq: theirs.seq,
                },
                std::cmp::Ordering::Equal if theirs.prev != hex::encode(head.hash) => {
                    Filed::BrokenLink { seq: theirs.seq }
                }
                // Next, or late into an empty place below the head.
                _ => Filed::Linked,
            };
            if theirs.seq > head.seq
                && let Some(tip) = Tip::of(theirs)
            {
                self.tips.insert((&record.slo, site), tip);
            }
            return Ok((theirs.clone(), filed));
        }
        let (link, hash) = match drafted {
            Some(draft) if draft.after == head && draft.key == key => {
                (draft.link.clone(), draft.hash)
            }
            _ => next_link(record, head),
        };
        let seq = link.seq;
        let entry = Entry::Record(key.to_vec());
        if site.is_empty() && !self.key_per_link {
            // Follows the run's last link: this transaction filed it.
            let run = self
                .runs
                .entry((&record.slo, site))
                .or_insert((seq, Vec::new()));
            if run.1.len() == RUN_LIMIT {
                Self::put_run(chains, &record.slo, site, run)?;
                *run = (seq, Vec::new());
            }
            run.1.push(entry);
        } else {
            Self::put_run(chains, &record.slo, site, &(seq, vec![entry]))?;
        }
        self.tips.insert((&record.slo, site), Tip { seq, hash });
        Ok((link, Filed::Linked))
    }

    fn put_run(
        chains: &TransactionalTree,
        slo: &str,
        site: &str,
        (first, entries): &(u64, Vec<Entry>),
    ) -> TxResult<()> {
        let index = keys::ChainKey {
            slo,
            site,
            seq: *first,
        };
        chains.insert(index.encode(), encode_run(entries))?;
        Ok(())
    }

    /// Writes every head moved, and the runs filed.
    pub(super) fn store(
        &self,
        meta: &TransactionalTree,
        chains: &TransactionalTree,
    ) -> TxResult<()> {
        for ((slo, site), tip) in &self.tips {
            meta.insert(keys::ChainMetaKey::Head(slo, site).encode(), tip.encode())?;
        }
        for ((slo, site), run) in &self.runs {
            Self::put_run(chains, slo, site, run)?;
        }
        Ok(())
    }
}

impl Ledger {
    /// A chain's head, or the empty tip.
    pub fn chain_head(&self, slo: &str, site: &str) -> Result<Tip, LedgerError> {
        self.chain_tip(keys::ChainMetaKey::Head(slo, site))
    }

    pub(super) fn chain_tip(&self, which: keys::ChainMetaKey<'_>) -> Result<Tip, LedgerError> {
        let key = which.encode();
        match self.meta.get(&key)? {
            Some(bytes) => Tip::decode(&key, &bytes),
            None => Ok(Tip::EMPTY),
        }
    }

    /// Every chain with a head: (SLO, site), sorted.
    pub fn chains(&self) -> Result<Vec<(String, String)>, LedgerError> {
        let mut out = Vec::new();
        for item in self.meta.scan_prefix(keys::ChainMetaKey::HEAD_PREFIX) {
            let (key, _) = item?;
            match keys::ChainMetaKey::parse_head(&key) {
                Some((slo, site)) => out.push((slo.to_string(), site.to_string())),
                None => return Err(LedgerError::bad_key("meta", &key)),
            }
        }
        Ok(out)
    }

    /// Test-only raw access: writes `record` under `key` in `evaluations`
    /// as is (checksum made), touching no bucket, chain or head. For tests
    /// of tamper evidence; never call it elsewhere.
    #[doc(hidden)]
    pub fn raw_put_record(&self, key: &[u8], record: &EvalRecord) -> Result<(), LedgerError> {
        self.evaluations.insert(key, codec::encode(record))?;
        Ok(())
    }

    /// Test-only raw access: removes the record under `key`, and nothing else.
    #[doc(hidden)]
    pub fn raw_remove_record(&self, key: &[u8]) -> Result<(), LedgerError> {
        self.evaluations.remove(key)?;
        Ok(())
    }

    /// Test-only raw access: every (key, record) of `evaluations`, in key order.
    #[doc(hidden)]
    pub fn raw_records(&self) -> Result<Vec<(Vec<u8>, EvalRecord)>, LedgerError> {
        self.evaluations
            .iter()
            .map(|item| {
                let (key, bytes) = item?;
                Ok((key.to_vec(), codec::decode("evaluations", &key, &bytes)?))
            })
            .collect()
    }
}
