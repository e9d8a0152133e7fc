//! `ledger export`: per tenant, one header line per chain (where its
//! exported links start, and its head), then each chain's links in
//! sequence order: a record's line, or a pruned link's line where
//! retention removed the record. [`super::audit`] checks such an export
//! offline (docs/ledger-chain.md).

use super::chain::parse_hash;
use super::chain_index::{Entry, Lookup};
use super::evaluations::{EvalRecord, Events, Outcome};
use super::{Ledger, LedgerError, codec, keys};
use crate::model::DatasetRef;
use serde::{Deserialize, Serialize};
use std::io::Write;

/// One line of `ledger export`: the record, its tenant, and its link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportLine {
    /// The tenant.
    pub tenant: String,
    /// The SLO.
    pub slo: String,
    /// Its dataset.
    pub dataset: DatasetRef,
    /// The evaluation's time.
    pub time: jiff::Timestamp,
    /// The first objective's good events (absent for errors).
    pub good: Option<u64>,
    /// The first objective's events.
    pub total: Option<u64>,
    /// The measured value.
    pub value: Option<f64>,
    /// `good`, `bad` or `error`.
    pub outcome: String,
    /// The error's code.
    pub error: Option<String>,
    /// The measurement's detail, or the error.
    pub detail: String,
    /// The idempotency key (`<site>.<key>` for an agent's record).
    pub key: String,
    /// sha256 of the policy.
    pub policy_sha256: String,
    /// Every objective's events.
    #[serde(default)]
    pub events: Vec<Events>,
    /// The objectives' identities, when the record has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<String>,
    /// The error's message (errors only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Its sequence number in its chain.
    pub seq: Option<u64>,
    /// The previous link's hash.
    pub prev: Option<String>,
    /// Its hash.
    pub hash: Option<String>,
}

impl ExportLine {
    /// The line of `record`, of `tenant`.
    pub fn of(tenant: &str, r: &EvalRecord) -> Self {
        let first = r.events.first();
        let (outcome, error, message) = match &r.outcome {
            Outcome::Measured if first.is_some_and(|e| e.good == e.total) => ("good", None, None),
            Outcome::Measured => ("bad", None, None),
            Outcome::Error { code, message } => {
                ("error", Some(code.clone()), Some(message.clone()))
            }
        };
        ExportLine {
            tenant: tenant.to_string(),
            slo: r.slo.clone(),
            dataset: r.dataset.clone(),
            time: r.time,
            good: first.map(|e| e.good),
            total: first.map(|e| e.total),
            value: r.value,
            outcome: outcome.into(),
            error,
            detail: r.detail.clone(),
            key: r.key.clone(),
            policy_sha256: r.policy_sha256.clone(),
            events: r.events.clone(),
            objectives: r.objectives.clone(),
            message,
            seq: r.chain.as_ref().map(|l| l.seq),
            prev: r.chain.as_ref().map(|l| l.prev.clone()),
            hash: r.chain.as_ref().map(|l| l.hash.clone()),
        }
    }

    /// The record the line stands for, when its summary fields agree with it.
    pub(super) fn record(&self) -> Result<EvalRecord, String> {
        let first = self.events.first();
        let label = match first {
            _ if self.error.is_some() => "error",
            Some(e) if e.good == e.total => "good",
            Some(_) => "bad",
            None => "bad",
        };
        if self.outcome != label {
            return Err(format!(
                "outcome {:?} where its events say {label:?}",
                self.outcome
            ));
        }
        if (self.good, self.total) != (first.map(|e| e.good), first.map(|e| e.total)) {
            return Err("good and total differ from the first objective's events".into());
        }
        let outcome = match &self.error {
            Some(code) => Outcome::Error {
                code: code.clone(),
                message: self.message.clone().unwrap_or_default(),
            },
            None => Outcome::Measured,
        };
        Ok(EvalRecord {
            slo: self.slo.clone(),
            dataset: self.dataset.clone(),
            time: self.time,
            key: self.key.clone(),
            outcome,
            events: self.events.clone(),
            objectives: self.objectives.clone(),
            value: self.value,
            detail: self.detail.clone(),
            policy_sha256: self.policy_sha256.clone(),
            chain: None,
        })
    }
}

/// The line that declares one chain of an export, before any of its links:
/// `{"chain": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderLine {
    /// The chain.
    pub chain: ChainHeader,
}

/// Which links of a chain an export holds: from `from_seq` (after
/// `from_prev`) to the chain's head, `to_seq` and `to_hash`. A chain with
/// nothing to export has `from_seq` one past `to_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHeader {
    /// The tenant.
    pub tenant: String,
    /// The SLO.
    pub slo: String,
    /// The site ("" for the exporting ledger's own records).
    pub site: String,
    /// The first exported link's seq.
    pub from_seq: u64,
    /// Its prev (hex).
    pub from_prev: String,
    /// The chain's head: its seq.
    pub to_seq: u64,
    /// And its hash (hex).
    pub to_hash: String,
}

/// A link whose record retention removed; its chain's index keeps its prev
/// and hash, so the chain around it still checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunedLine {
    /// The tenant.
    pub tenant: String,
    /// The SLO.
    pub slo: String,
    /// The site.
    pub site: String,
    /// Its seq.
    pub seq: u64,
    /// The previous link's hash.
    pub prev: String,
    /// Its hash.
    pub hash: String,
    /// Always true: what tells this line from a record's.
    pub pruned: bool,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Writing the export failed.
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

impl From<sled::Error> for ExportError {
    fn from(e: sled::Error) -> Self {
        ExportError::Ledger(e.into())
    }
}

impl Ledger {
    /// Writes `tenant`'s export (its SLOs, or only `slo`) to `out`: a header
    /// per chain, then each chain's links from its first link whose record
    /// is at or after `since` (or from its anchor) up to its head, whatever
    /// their times, so each chain's exported part is contiguous; then the
    /// records no chain holds (at or after `since`), which `ledger verify`
    /// names as inserted and the audit fails. Returns the lines written.
    pub fn export(
        &self,
        tenant: &str,
        slo: Option<&str>,
        since: Option<jiff::Timestamp>,
        out: &mut impl Write,
    ) -> Result<usize, ExportError> {
        // Retention waits until the last line: what the headers say is what
        // the links show.
        let _reading = self
            .prune_lock
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut plans = Vec::new();
        for (name, site) in self.chains()? {
            if slo.is_none_or(|s| s == name) {
                plans.push(self.plan(tenant, &name, &site, since)?);
            }
        }
        let mut lines = 0;
        for plan in &plans {
            write_line(
                out,
                &HeaderLine {
                    chain: plan.clone(),
                },
            )?;
            lines += 1;
        }
        for plan in &plans {
            lines += self.export_links(plan, out)?;
        }
        let records = self.records(slo, since);
        let mut index = Lookup::default();
        for record in records {
            let record = record?;
            let key = keys::RecordKey::new(&record.slo, record.time, &record.key).encode();
            // Those a chain holds are exported with it, or were filed after
            // its header.
            if !self.in_chain(&mut index, &key, &record)? {
                write_line(out, &ExportLine::of(tenant, &record))?;
                lines += 1;
            }
        }
        Ok(lines)
    }

    /// Whether the chain index holds `record` (stored under `key`) at its seq.
    fn in_chain(
        &self,
        index: &mut Lookup,
        key: &[u8],
        record: &EvalRecord,
    ) -> Result<bool, LedgerError> {
        let Some(link) = &record.chain else {
            return Ok(false);
        };
        let site = super::chain::site_of(&record.key).0;
        let entry = index.entry(self, &record.slo, site, link.seq)?;
        Ok(entry == Some(Entry::Record(key.to_vec())))
    }

    /// Where a chain's export starts and ends.
    fn plan(
        &self,
        tenant: &str,
        slo: &str,
        site: &str,
        since: Option<jiff::Timestamp>,
    ) -> Result<ChainHeader, LedgerError> {
        let anchor = self.chain_tip(keys::ChainMetaKey::Anchor(slo, site))?;
        let head = self.chain_head(slo, site)?;
        let mut from = (anchor.seq + 1, hex::encode(anchor.hash));
        if let Some(since) = since {
            // Nothing at or after `since`: an empty range past the head.
            from = (head.seq + 1, hex::encode(head.hash));
            let since = since.as_nanosecond();
            for link in self.chain_links(slo, site) {
                let (seq, entry) = link?;
                let Some(Entry::Record(record_key)) = entry else {
                    continue; // a pruned link has no time: it only follows
                };
                let at = keys::RecordKey::parse(&record_key)
                    .ok_or_else(|| LedgerError::bad_key("chains", &record_key))?
                    .time;
                if seq <= anchor.seq || i128::from(at) < since {
                    continue;
                }
                // Its prev: the record's own link, or its entry's once pruned.
                // A record missing or unlinked otherwise cannot start the
                // range: the next link does, and `ledger verify` names it.
                let prev = match self.evaluations.get(&record_key)? {
                    Some(bytes) => codec::decode::<EvalRecord>("evaluations", &record_key, &bytes)?
                        .chain
                        .and_then(|l| parse_hash(&l.prev).map(|_| l.prev)),
                    None => match self.chain_entry(slo, site, seq)? {
                        Some(Entry::Pruned { prev, .. }) => Some(hex::encode(prev)),
                        _ => None,
                    },
                };
                if let Some(prev) = prev {
                    from = (seq, prev);
                    break;
                }
            }
        }
        Ok(ChainHeader {
            tenant: tenant.to_string(),
            slo: slo.to_string(),
            site: site.to_string(),
            from_seq: from.0,
            from_prev: from.1,
            to_seq: head.seq,
            to_hash: hex::encode(head.hash),
        })
    }

    /// Writes a chain's links from its header's start to its head, in seq
    /// order.
    fn export_links(&self, h: &ChainHeader, out: &mut impl Write) -> Result<usize, ExportError> {
        let mut lines = 0;
        for link in self.chain_links(&h.slo, &h.site) {
            let (seq, mut entry) = link?;
            if seq < h.from_seq {
                continue;
            }
            if seq > h.to_seq {
                break; // filed after the header was written
            }
            if let Some(Entry::Record(record_key)) = &entry {
                match self.evaluations.get(record_key)? {
                    Some(bytes) => {
                        let record: EvalRecord = codec::decode("evaluations", record_key, &bytes)?;
                        write_line(out, &ExportLine::of(&h.tenant, &record))?;
                        lines += 1;
                        continue;
                    }
                    // Pruned since the index was read: its entry now says so.
                    None => entry = self.chain_entry(&h.slo, &h.site, seq)?,
                }
            }
            if let Some(Entry::Pruned { prev, hash }) = entry {
                write_line(
                    out,
                    &PrunedLine {
                        tenant: h.tenant.clone(),
                        slo: h.slo.clone(),
                        site: h.site.clone(),
                        seq,
                        prev: hex::encode(prev),
                        hash: hex::encode(hash),
                        pruned: true,
                    },
                )?;
                lines += 1;
            }
            // Anything else is a gap `ledger verify` names; the audit does too.
        }
        Ok(lines)
    }
}

fn write_line(out: &mut impl Write, line: &impl Serialize) -> Result<(), ExportError> {
    let text = crate::model::to_json(line).unwrap_or_default();
    writeln!(out, "{text}")?;
    Ok(())
}
