//! `ledger export`'s lines, and `ledger audit`: an export checked offline,
//! line by line, against the hash chains its lines carry. Each SLO's
//! records are exported in chain order (site, then sequence number), so a
//! deleted, reordered or edited line breaks the audit at that line.

use super::chain::{GENESIS, link_hash, parse_hash, site_of};
use super::chain_verify::BreakKind;
use super::evaluations::{EvalRecord, Events, Outcome};
use crate::model::DatasetRef;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
    fn record(&self) -> Result<EvalRecord, String> {
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

/// What `ledger audit` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// Whether every line checked out: exit 0.
    pub valid: bool,
    /// Lines read (up to the first break).
    pub lines: usize,
    /// Chains (tenant, SLO, site) seen.
    pub chains: usize,
    /// The first tampered line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_break: Option<AuditBreak>,
}

/// The first line that does not check out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditBreak {
    /// Its line number, from 1.
    pub line: usize,
    /// Its chain's tenant, SLO and site, when the line reads.
    pub tenant: Option<String>,
    /// The SLO.
    pub slo: Option<String>,
    /// The site ("" for the exporting ledger's own records).
    pub site: Option<String>,
    /// Its sequence number.
    pub seq: Option<u64>,
    /// What the chain expects.
    pub expected: String,
    /// What the line holds.
    pub found: String,
    /// What it looks like.
    pub kind: BreakKind,
}

/// Checks an export, line by line; stops at the first line that does not
/// check out. Blank lines are skipped. Each chain's first line is taken as
/// its start (an export `--since` a time begins mid-chain); one at seq 1
/// must follow the genesis hash.
pub fn audit(input: impl std::io::BufRead) -> std::io::Result<AuditReport> {
    let mut tips: HashMap<(String, String, String), (u64, String)> = HashMap::new();
    let mut report = AuditReport {
        valid: true,
        lines: 0,
        chains: 0,
        first_break: None,
    };
    for (i, text) in input.lines().enumerate() {
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        report.lines += 1;
        if let Some(b) = check_line(i + 1, &text, &mut tips) {
            report.valid = false;
            report.first_break = Some(b);
            break;
        }
    }
    report.chains = tips.len();
    Ok(report)
}

type Tips = HashMap<(String, String, String), (u64, String)>;

fn check_line(number: usize, text: &str, tips: &mut Tips) -> Option<AuditBreak> {
    let broken = |line: Option<&ExportLine>, expected: String, found: String, kind| {
        Some(AuditBreak {
            line: number,
            tenant: line.map(|l| l.tenant.clone()),
            slo: line.map(|l| l.slo.clone()),
            site: line.map(|l| site_of(&l.key).0.to_string()),
            seq: line.and_then(|l| l.seq),
            expected,
            found,
            kind,
        })
    };
    let line: ExportLine = match serde_json::from_str(text) {
        Ok(l) => l,
        Err(e) => {
            return broken(
                None,
                "an exported record".into(),
                format!("{e}"),
                BreakKind::Edited,
            );
        }
    };
    let l = Some(&line);
    let (Some(seq), Some(prev_hex), Some(hash)) = (line.seq, &line.prev, &line.hash) else {
        return broken(
            l,
            "seq, prev and hash".into(),
            "no link".into(),
            BreakKind::Edited,
        );
    };
    let record = match line.record() {
        Ok(r) => r,
        Err(why) => return broken(l, "a consistent line".into(), why, BreakKind::Edited),
    };
    let Some(prev) = parse_hash(prev_hex) else {
        return broken(l, "a hex prev".into(), prev_hex.clone(), BreakKind::Edited);
    };
    let recomputed = hex::encode(link_hash(&record, seq, &prev));
    if &recomputed != hash {
        return broken(l, recomputed, hash.clone(), BreakKind::Edited);
    }
    let id = (
        line.tenant.clone(),
        line.slo.clone(),
        site_of(&line.key).0.to_string(),
    );
    match tips.get(&id) {
        Some((last, last_hash)) => {
            if seq > last + 1 {
                return broken(
                    l,
                    format!("seq {}", last + 1),
                    format!("seq {seq}"),
                    BreakKind::Deleted,
                );
            }
            if seq <= *last {
                return broken(
                    l,
                    format!("seq {}", last + 1),
                    format!("seq {seq}"),
                    BreakKind::Reordered,
                );
            }
            if prev_hex != last_hash {
                return broken(l, last_hash.clone(), prev_hex.clone(), BreakKind::Inserted);
            }
        }
        None if seq == 1 && prev != GENESIS => {
            return broken(l, hex::encode(GENESIS), prev_hex.clone(), BreakKind::Edited);
        }
        None => {}
    }
    tips.insert(id, (seq, hash.clone()));
    None
}
