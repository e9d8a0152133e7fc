//! What central found wrong with the chains of its agents' records: a
//! count per site and kind (`dataslo_chain_problems_total`), and the records
//! it refused, kept beside the ledger rather than dropped. An agent had them
//! acknowledged by the stream, so they are never lost; they are never filed
//! into a chain, their buckets or the feed either.

use super::{Ledger, LedgerError, codec, keys};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use std::collections::BTreeMap;

/// A kind of chain problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainProblem {
    /// An agent's record whose hash does not recompute: changed after its
    /// agent filed it. Refused and kept.
    BrokenHash,
    /// An agent's record that carries no chain. Refused and kept.
    Unchained,
    /// An agent's link ahead of its chain's head: filed, and the records
    /// between are on their way again or lost. A late one filling the gap
    /// is not counted again.
    Gap,
    /// An agent's link whose seq another record holds: filed outside the chain.
    Fork,
    /// An agent's link next after its chain's head whose prev is not the
    /// head's hash: filed, and `verify` names the break.
    BrokenLink,
}

impl ChainProblem {
    /// Every kind, in the order the metric lists them.
    pub const ALL: [ChainProblem; 5] = [
        ChainProblem::BrokenHash,
        ChainProblem::Unchained,
        ChainProblem::Gap,
        ChainProblem::Fork,
        ChainProblem::BrokenLink,
    ];

    /// The label value of `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChainProblem::BrokenHash => "broken_hash",
            ChainProblem::Unchained => "unchained",
            ChainProblem::Gap => "gap",
            ChainProblem::Fork => "fork",
            ChainProblem::BrokenLink => "broken_link",
        }
    }
}

/// A record central refused, as it arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedRecord {
    /// The stream sequence it was delivered at.
    pub stream_sequence: u64,
    /// Its subject.
    pub subject: String,
    /// The site its subject names (empty when it names none).
    pub site: String,
    /// Its SLO, when the payload names one.
    pub slo: Option<String>,
    /// Its key, when the payload names one.
    pub key: Option<String>,
    /// The chain problem it has, if that is why it was refused.
    pub problem: Option<ChainProblem>,
    /// Why it was refused.
    pub reason: String,
    /// When central refused it.
    pub refused_at: jiff::Timestamp,
    /// The message's payload, exactly as it arrived.
    #[serde(flatten)]
    pub payload: RawPayload,
}

/// A payload kept byte for byte: `"payload"`, its text, when it is UTF-8;
/// else `"payload_base64"`, its bytes in standard base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RawPayload {
    /// UTF-8: the text itself.
    #[serde(rename = "payload")]
    Text(String),
    /// Anything else: base64 of the bytes.
    #[serde(rename = "payload_base64")]
    Base64(String),
}

impl RawPayload {
    /// `bytes`, kept exactly.
    pub fn of(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => RawPayload::Text(text.to_string()),
            Err(_) => RawPayload::Base64(STANDARD.encode(bytes)),
        }
    }

    /// The bytes as they arrived (None for base64 edited into something
    /// that does not decode).
    pub fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            RawPayload::Text(text) => Some(text.as_bytes().to_vec()),
            RawPayload::Base64(b64) => STANDARD.decode(b64).ok(),
        }
    }

    /// The text, when the payload is UTF-8.
    pub fn text(&self) -> Option<&str> {
        match self {
            RawPayload::Text(text) => Some(text),
            RawPayload::Base64(_) => None,
        }
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<LedgerError>>;

/// Adds one to the count of `problem` in `site`'s records, in a transaction on `meta`.
pub(super) fn count(meta: &TransactionalTree, site: &str, problem: ChainProblem) -> TxResult<()> {
    let key = keys::chain_problem(site, problem.as_str());
    let now = meta
        .get(&key)?
        .and_then(|v| keys::parse_sequence(&v))
        .unwrap_or(0);
    meta.insert(key, &keys::sequence(now.saturating_add(1)))?;
    Ok(())
}

impl Ledger {
    /// Keeps `refused` (each once, by its stream sequence and payload: a
    /// redelivery is not kept or counted again, while another record at a
    /// recreated stream's same sequence is) and counts the chain problems
    /// among them.
    pub fn keep_refused(&self, refused: &[RefusedRecord]) -> Result<(), LedgerError> {
        if refused.is_empty() {
            return Ok(());
        }
        (&self.meta,)
            .transaction(|(meta,)| {
                for r in refused {
                    let sha = Sha256::digest(r.payload.bytes().unwrap_or_default());
                    let key = keys::refused_record(r.stream_sequence, &sha.into());
                    if meta.get(&key)?.is_some() {
                        continue;
                    }
                    meta.insert(key, codec::encode(r))?;
                    if let Some(problem) = r.problem {
                        count(meta, &r.site, problem)?;
                    }
                }
                Ok(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(e) => e,
                sled::transaction::TransactionError::Storage(e) => e.into(),
            })
    }

    /// The records central refused and keeps, in stream order.
    pub fn refused_records(&self) -> Result<Vec<RefusedRecord>, LedgerError> {
        self.meta
            .scan_prefix(keys::REFUSED_PREFIX)
            .map(|item| {
                let (key, bytes) = item?;
                codec::decode("meta", &key, &bytes)
            })
            .collect()
    }

    /// How many chain problems of each kind central found, by (site, kind).
    pub fn chain_problems(&self) -> Result<BTreeMap<(String, String), u64>, LedgerError> {
        let mut out = BTreeMap::new();
        for item in self.meta.scan_prefix(keys::CHAIN_PROBLEM_PREFIX) {
            let (key, value) = item?;
            if let (Some((site, kind)), Some(n)) = (
                keys::parse_chain_problem(&key),
                keys::parse_sequence(&value),
            ) {
                out.insert((site.to_string(), kind.to_string()), n);
            }
        }
        Ok(out)
    }
}
