//! `ledger verify`'s walk of the hash chains: per SLO and site, from the
//! anchor (or the start) to the head, the first broken link, and each
//! record no chain holds.

use super::chain::{GENESIS, Tip, link_hash, parse_hash, recomputes, site_of};
use super::chain_index::{Entry, Lookup};
use super::evaluations::EvalRecord;
use super::{Ledger, LedgerError, codec, keys};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What a broken link looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The record no longer hashes to its link: its content (or link) changed.
    Edited,
    /// A link is missing: its record (or index entry) was removed.
    Deleted,
    /// A record that no chain holds, or one whose link does not follow the
    /// link before it.
    Inserted,
    /// The record found at a place in the chain carries another place's link.
    Reordered,
}

/// The first broken link of one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    /// The SLO.
    pub slo: String,
    /// The site; "" for the ledger's own records.
    pub site: String,
    /// The sequence number where the chain breaks.
    pub seq: u64,
    /// The record there, when there is one: its time.
    pub time: Option<jiff::Timestamp>,
    /// And its idempotency key.
    pub key: Option<String>,
    /// What the chain expects there (a hash, or `seq N`).
    pub expected: String,
    /// What is there.
    pub found: String,
    /// What it looks like.
    pub kind: BreakKind,
}

/// A chain's head as `ledger verify --format json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The SLO.
    pub slo: String,
    /// The site; "" for the ledger's own records.
    pub site: String,
    /// Its last seq.
    pub seq: u64,
    /// Its last hash (hex).
    pub hash: String,
}

impl Ledger {
    /// Every chain's head.
    pub(super) fn chain_heads(&self) -> Result<Vec<ChainHead>, LedgerError> {
        let mut heads = Vec::new();
        for (slo, site) in self.chains()? {
            let tip = self.chain_head(&slo, &site)?;
            heads.push(ChainHead {
                slo,
                site,
                seq: tip.seq,
                hash: hex::encode(tip.hash),
            });
        }
        Ok(heads)
    }

    /// The first break of every chain, then every record outside the chains
    /// (one per chain); and how many links were walked.
    pub(super) fn verify_chains(&self) -> Result<(Vec<ChainBreak>, usize), LedgerError> {
        let mut breaks = Vec::new();
        let mut broken = BTreeSet::new();
        let mut links = 0;
        for (slo, site) in self.chains()? {
            let (found, walked) = self.first_break(&slo, &site)?;
            links += walked;
            if let Some(b) = found {
                broken.insert((slo, site));
                breaks.push(b);
            }
        }
        let mut index = Lookup::default();
        for item in self.evaluations.iter() {
            let (key, bytes) = item?;
            // A corrupt record is reported by the checksum pass.
            let Ok(record) = codec::decode::<EvalRecord>("evaluations", &key, &bytes) else {
                continue;
            };
            let site = site_of(&record.key).0.to_string();
            if broken.contains(&(record.slo.clone(), site.clone())) {
                continue;
            }
            let held = match &record.chain {
                Some(link) => {
                    index.entry(self, &record.slo, &site, link.seq)?
                        == Some(Entry::Record(key.to_vec()))
                }
                None => false,
            };
            if !held {
                broken.insert((record.slo.clone(), site.clone()));
                breaks.push(ChainBreak {
                    slo: record.slo.clone(),
                    site,
                    seq: record.chain.as_ref().map_or(0, |l| l.seq),
                    time: Some(record.time),
                    key: Some(record.key.clone()),
                    expected: "no record outside the chain".into(),
                    found: match &record.chain {
                        Some(link) => format!("a record claiming seq {}", link.seq),
                        None => "a record without a link".into(),
                    },
                    kind: BreakKind::Inserted,
                });
            }
        }
        Ok((breaks, links))
    }

    /// Walks one chain from its anchor; its first break, and the links read.
    fn first_break(
        &self,
        slo: &str,
        site: &str,
    ) -> Result<(Option<ChainBreak>, usize), LedgerError> {
        let anchor = self.chain_tip(keys::ChainMetaKey::Anchor(slo, site))?;
        let head = self.chain_tip(keys::ChainMetaKey::Head(slo, site))?;
        let at = |seq, record: Option<&EvalRecord>, expected: String, found: String, kind| {
            Some(ChainBreak {
                slo: slo.to_string(),
                site: site.to_string(),
                seq,
                time: record.map(|r| r.time),
                key: record.map(|r| r.key.clone()),
                expected,
                found,
                kind,
            })
        };
        let mut prev = anchor.hash;
        let mut next = anchor.seq + 1;
        let mut walked = 0;
        for link in self.chain_links(slo, site) {
            let (seq, entry) = link?;
            if seq < next {
                continue; // behind the anchor
            }
            walked += 1;
            if seq != next {
                let b = at(
                    next,
                    None,
                    format!("seq {next}"),
                    format!("seq {seq}"),
                    BreakKind::Deleted,
                );
                return Ok((b, walked));
            }
            let record_key = match entry {
                Some(Entry::Pruned { prev: p, hash }) => {
                    if p != prev {
                        let b = at(
                            seq,
                            None,
                            hex::encode(prev),
                            hex::encode(p),
                            BreakKind::Edited,
                        );
                        return Ok((b, walked));
                    }
                    prev = hash;
                    next += 1;
                    continue;
                }
                Some(Entry::Record(k)) => k,
                None => {
                    let b = at(
                        seq,
                        None,
                        "an index entry".into(),
                        "an unreadable one".into(),
                        BreakKind::Edited,
                    );
                    return Ok((b, walked));
                }
            };
            let Some(bytes) = self.evaluations.get(&record_key)? else {
                let name = keys::RecordKey::parse(&record_key).map(|k| k.key.to_string());
                let b = Some(ChainBreak {
                    slo: slo.to_string(),
                    site: site.to_string(),
                    seq,
                    time: keys::RecordKey::parse(&record_key)
                        .and_then(|k| jiff::Timestamp::from_nanosecond(k.time.into()).ok()),
                    key: name,
                    expected: "a record".into(),
                    found: "none".into(),
                    kind: BreakKind::Deleted,
                });
                return Ok((b, walked));
            };
            let record = match codec::decode::<EvalRecord>("evaluations", &record_key, &bytes) {
                Ok(r) => r,
                Err(e) => {
                    let b = at(
                        seq,
                        None,
                        "a readable record".into(),
                        e.to_string(),
                        BreakKind::Edited,
                    );
                    return Ok((b, walked));
                }
            };
            let recomputed = hex::encode(link_hash(&record, seq, &prev));
            let Some(link) = record.chain.as_ref() else {
                let b = at(
                    seq,
                    Some(&record),
                    recomputed,
                    "no link".into(),
                    BreakKind::Edited,
                );
                return Ok((b, walked));
            };
            let kind = if link.seq != seq {
                Some((
                    format!("seq {seq}"),
                    format!("seq {}", link.seq),
                    BreakKind::Reordered,
                ))
            } else if link.prev != hex::encode(prev) {
                let kind = match recomputes(&record, link) {
                    true => BreakKind::Inserted,
                    false => BreakKind::Edited,
                };
                Some((hex::encode(prev), link.prev.clone(), kind))
            } else if link.hash != recomputed {
                Some((recomputed, link.hash.clone(), BreakKind::Edited))
            } else {
                None
            };
            if let Some((expected, found, kind)) = kind {
                return Ok((at(seq, Some(&record), expected, found, kind), walked));
            }
            prev = parse_hash(&link.hash).unwrap_or(GENESIS);
            next += 1;
        }
        let last = next - 1;
        let b = if last < head.seq {
            at(
                next,
                None,
                format!("links up to the head, seq {}", head.seq),
                format!("the last is seq {last}"),
                BreakKind::Deleted,
            )
        } else if last > head.seq {
            at(
                head.seq + 1,
                None,
                format!("the head, seq {}", head.seq),
                format!("links up to seq {last}"),
                BreakKind::Inserted,
            )
        } else if (Tip {
            seq: last,
            hash: prev,
        }) != head
        {
            at(
                last,
                None,
                hex::encode(head.hash),
                hex::encode(prev),
                BreakKind::Edited,
            )
        } else {
            None
        };
        Ok((b, walked))
    }
}
