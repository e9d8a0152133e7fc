//! `ledger audit`: an export checked offline, line by line, against the
//! chains its header lines declare and the links its lines carry. A line
//! edited, deleted, inserted, reordered or moved to another chain fails at
//! that line; a chain cut at its end fails at the end of the file.

use super::chain::{GENESIS, link_hash, parse_hash, site_of};
use super::chain_verify::BreakKind;
use super::export::{ChainHeader, ExportLine, HeaderLine, PrunedLine};
use serde::Serialize;
use std::collections::HashMap;

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
    /// Its line number, from 1; for a chain cut at its end, the chain's
    /// last line in the file (its header's, when it has no other).
    pub line: usize,
    /// Whether the break was found at the end of the file: the chain's
    /// links stop before its header's `to_seq`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub at_end: bool,
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

/// (tenant, SLO, site).
type ChainId = (String, String, String);

/// One chain as the audit reads it.
struct Chain {
    /// Its header, and the header's line.
    header: (ChainHeader, usize),
    /// Its last link read: seq, hash and line.
    last: Option<(u64, String, usize)>,
}

/// A link as a line shows it.
struct Shown {
    id: ChainId,
    seq: u64,
    prev: String,
    hash: String,
}

struct Audit {
    chains: HashMap<ChainId, Chain>,
    /// Declared chains in header order, to check their ends.
    declared: Vec<ChainId>,
}

/// Checks an export; stops at the first line that does not check out.
/// Blank lines are skipped. Every link must belong to a chain a header
/// line before it declares (`ledger export` writes them first), and each
/// chain must run from its header's `from_seq` after `from_prev` to exactly
/// its `to_seq` and `to_hash`. Without headers a cut at either end would go
/// unseen, so a link before any header fails at line 1.
pub fn audit(input: impl std::io::BufRead) -> std::io::Result<AuditReport> {
    let mut state = Audit {
        chains: HashMap::new(),
        declared: Vec::new(),
    };
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
        if let Some(b) = state.check_line(i + 1, &text) {
            report.first_break = Some(b);
            break;
        }
    }
    if report.first_break.is_none() {
        report.first_break = state.check_ends();
    }
    report.valid = report.first_break.is_none();
    report.chains = state.chains.len();
    Ok(report)
}

fn broken(
    line: usize,
    id: Option<&ChainId>,
    seq: Option<u64>,
    expected: String,
    found: String,
    kind: BreakKind,
) -> Option<AuditBreak> {
    Some(AuditBreak {
        line,
        at_end: false,
        tenant: id.map(|c| c.0.clone()),
        slo: id.map(|c| c.1.clone()),
        site: id.map(|c| c.2.clone()),
        seq,
        expected,
        found,
        kind,
    })
}

impl Audit {
    fn check_line(&mut self, number: usize, text: &str) -> Option<AuditBreak> {
        let unreadable = |what: &str, e: serde_json::Error| {
            broken(
                number,
                None,
                None,
                what.into(),
                e.to_string(),
                BreakKind::Edited,
            )
        };
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return unreadable("an exported line", e),
        };
        if value.get("chain").is_some() {
            return match serde_json::from_str::<HeaderLine>(text) {
                Ok(h) => self.declare(number, h.chain),
                Err(e) => unreadable("a chain header", e),
            };
        }
        if value.get("pruned").is_some() {
            let line: PrunedLine = match serde_json::from_str(text) {
                Ok(l) => l,
                Err(e) => return unreadable("a pruned link", e),
            };
            let shown = Shown {
                id: (line.tenant, line.slo, line.site),
                seq: line.seq,
                prev: line.prev,
                hash: line.hash,
            };
            if !line.pruned
                || parse_hash(&shown.prev).is_none()
                || parse_hash(&shown.hash).is_none()
            {
                return broken(
                    number,
                    Some(&shown.id),
                    Some(shown.seq),
                    "a pruned link: \"pruned\": true, hex prev and hash".into(),
                    text.into(),
                    BreakKind::Edited,
                );
            }
            return self.follow(number, shown);
        }
        let line: ExportLine = match serde_json::from_str(text) {
            Ok(l) => l,
            Err(e) => return unreadable("an exported record", e),
        };
        let id = (
            line.tenant.clone(),
            line.slo.clone(),
            site_of(&line.key).0.to_string(),
        );
        let at = |expected: String, found: String, kind| {
            broken(number, Some(&id), line.seq, expected, found, kind)
        };
        let (Some(seq), Some(prev_hex), Some(hash)) = (line.seq, &line.prev, &line.hash) else {
            return at(
                "seq, prev and hash".into(),
                "no link".into(),
                BreakKind::Edited,
            );
        };
        let record = match line.record() {
            Ok(r) => r,
            Err(why) => return at("a consistent line".into(), why, BreakKind::Edited),
        };
        let Some(prev) = parse_hash(prev_hex) else {
            return at("a hex prev".into(), prev_hex.clone(), BreakKind::Edited);
        };
        let recomputed = hex::encode(link_hash(&record, seq, &prev));
        if &recomputed != hash {
            return at(recomputed, hash.clone(), BreakKind::Edited);
        }
        self.follow(
            number,
            Shown {
                id,
                seq,
                prev: prev_hex.clone(),
                hash: hash.clone(),
            },
        )
    }

    /// A header: before any line of its chain, once per chain.
    fn declare(&mut self, number: usize, h: ChainHeader) -> Option<AuditBreak> {
        let id = (h.tenant.clone(), h.slo.clone(), h.site.clone());
        let at = |expected: &str, found: String, kind| {
            broken(number, Some(&id), None, expected.into(), found, kind)
        };
        if self.chains.contains_key(&id) {
            return at(
                "one header per chain",
                "a second one".into(),
                BreakKind::Inserted,
            );
        }
        let (Some(from_prev), Some(_)) = (parse_hash(&h.from_prev), parse_hash(&h.to_hash)) else {
            return at(
                "hex from_prev and to_hash",
                format!("{} and {}", h.from_prev, h.to_hash),
                BreakKind::Edited,
            );
        };
        if h.from_seq == 0 || h.from_seq > h.to_seq.saturating_add(1) {
            return at(
                "1 <= from_seq <= to_seq + 1",
                format!("from_seq {} to_seq {}", h.from_seq, h.to_seq),
                BreakKind::Edited,
            );
        }
        if h.from_seq == 1 && from_prev != GENESIS {
            return at(
                &hex::encode(GENESIS),
                h.from_prev.clone(),
                BreakKind::Edited,
            );
        }
        // A chain with nothing exported ends where it starts.
        let last = (h.from_seq > h.to_seq).then(|| (h.to_seq, h.to_hash.clone(), number));
        if last.as_ref().is_some_and(|l| l.1 != h.from_prev) {
            return at(
                "from_prev equal to to_hash when nothing is exported",
                h.from_prev.clone(),
                BreakKind::Edited,
            );
        }
        self.declared.push(id.clone());
        self.chains.insert(
            id,
            Chain {
                header: (h, number),
                last,
            },
        );
        None
    }

    /// A link: it must follow the one before it in its chain (or, first
    /// in its chain, its header's start), and stay within its header.
    fn follow(&mut self, number: usize, shown: Shown) -> Option<AuditBreak> {
        let Shown {
            id,
            seq,
            prev,
            hash,
        } = shown;
        let at = |expected: String, found: String, kind| {
            broken(number, Some(&id), Some(seq), expected, found, kind)
        };
        if self.declared.is_empty() {
            // The headers were deleted: nothing says where a chain starts or
            // ends, so a cut at either end could not be seen.
            let mut b = at(
                "chain headers before the first link".into(),
                "no chain headers".into(),
                BreakKind::Deleted,
            )?;
            b.line = 1;
            return Some(b);
        }
        let Some(chain) = self.chains.get_mut(&id) else {
            return at(
                "a line of a chain its header declares".into(),
                format!(
                    "tenant {} SLO {} site {:?}, which no header declares (its tenant, SLO or key edited?)",
                    id.0, id.1, id.2
                ),
                BreakKind::Edited,
            );
        };
        // The (seq, hash) this link must follow.
        let (last, last_hash) = match (&chain.last, &chain.header) {
            (Some((s, h, _)), _) => (*s, h.clone()),
            (None, (h, _)) => (h.from_seq - 1, h.from_prev.clone()),
        };
        // A crafted seq u64::MAX has no successor: nothing may follow it.
        let Some(next) = last.checked_add(1) else {
            return at(
                format!("nothing after seq {last}"),
                format!("seq {seq}"),
                BreakKind::Inserted,
            );
        };
        let expected = format!("seq {next}");
        if seq > next {
            return at(expected, format!("seq {seq}"), BreakKind::Deleted);
        }
        if seq < next {
            return at(expected, format!("seq {seq}"), BreakKind::Reordered);
        }
        if prev != last_hash {
            let kind = match last {
                0 => BreakKind::Edited, // seq 1 after anything but zeros
                _ => BreakKind::Inserted,
            };
            return at(last_hash, prev, kind);
        }
        let h = &chain.header.0;
        if seq > h.to_seq {
            return at(
                format!("the chain's head, seq {}", h.to_seq),
                format!("seq {seq}"),
                BreakKind::Inserted,
            );
        }
        if seq == h.to_seq && hash != h.to_hash {
            return at(h.to_hash.clone(), hash, BreakKind::Edited);
        }
        chain.last = Some((seq, hash, number));
        None
    }

    /// At the end of the file: every declared chain reached its head.
    fn check_ends(&self) -> Option<AuditBreak> {
        for id in &self.declared {
            let Some(Chain {
                header: (h, header_line),
                last,
            }) = self.chains.get(id)
            else {
                continue;
            };
            let (seq, line) = match last {
                Some((seq, _, line)) => (*seq, *line),
                None => (h.from_seq - 1, *header_line),
            };
            if seq < h.to_seq {
                let mut b = broken(
                    line,
                    Some(id),
                    Some(seq + 1),
                    format!("links up to the head, seq {}", h.to_seq),
                    format!("the last is seq {seq}, at line {line}"),
                    BreakKind::Deleted,
                )?;
                b.at_end = true;
                return Some(b);
            }
        }
        None
    }
}
