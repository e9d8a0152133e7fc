//! `ledger verify`: recompute every bucket from the raw records (counted
//! under their SLO's series) and report each mismatch and each corrupt value,
//! each record or bucket with more good events than events, and each bucket
//! whose records sum past `u64::MAX` (saturated there); and walk the hash
//! chains (`chain_verify`), naming each chain's first broken link.

use super::buckets::{Bucket, Level, index_of};
use super::chain_verify::ChainBreak;
use super::evaluations::{EvalRecord, minute_of};
use super::series::{Series, counted};
use super::{Ledger, LedgerError, codec, keys};
use std::collections::BTreeMap;

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mismatch {
    /// A value failed its checksum or did not decode.
    Corrupt(String),
    /// A bucket differs from the sum of its records.
    Bucket {
        /// The SLO.
        slo: String,
        /// Bucket level: 0 minute, 1 hour, 2 day.
        level: u8,
        /// Index at that level (minutes, hours or days since the epoch).
        index: i64,
        /// What the records add up to (`None`: no records).
        expected: Option<Bucket>,
        /// What is stored (`None`: missing).
        stored: Option<Bucket>,
    },
    /// A record counts more good events than events.
    RecordGoodAboveTotal {
        /// The SLO.
        slo: String,
        /// The record's time.
        time: jiff::Timestamp,
        /// The record's idempotency key.
        key: String,
        /// The objective's position in the record's events.
        objective: usize,
        /// Its good events.
        good: u64,
        /// Its events.
        total: u64,
    },
    /// A stored bucket holds more good events than events.
    BucketGoodAboveTotal {
        /// The SLO.
        slo: String,
        /// Bucket level: 0 minute, 1 hour, 2 day.
        level: u8,
        /// Index at that level.
        index: i64,
        /// The objective's position in the bucket's events.
        objective: usize,
        /// Its good events.
        good: u64,
        /// Its events.
        total: u64,
    },
    /// The records of a bucket sum past `u64::MAX`: it holds the ceiling,
    /// not their sum.
    Saturated {
        /// The SLO.
        slo: String,
        /// Bucket level: 0 minute, 1 hour, 2 day.
        level: u8,
        /// Index at that level.
        index: i64,
    },
    /// The first broken link of a chain (or a record outside the chains).
    Chain(ChainBreak),
}

/// A bucket recomputed from its records: its SLO, level, index, sums, and
/// whether a sum saturated.
struct Expected {
    slo: String,
    level: u8,
    index: i64,
    bucket: Bucket,
    saturated: bool,
}

/// The result of a verification.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct VerifyReport {
    /// Records read.
    pub records: usize,
    /// Buckets read.
    pub buckets: usize,
    /// Observations read.
    pub observations: usize,
    /// Links of the hash chains walked.
    #[serde(default)]
    pub links: usize,
    /// Every problem.
    pub mismatches: Vec<Mismatch>,
    /// Each chain's head, to compare with an export's chain headers.
    #[serde(default)]
    pub heads: Vec<super::ChainHead>,
    /// Agents' records central refused (no chain, a broken hash, invalid)
    /// and keeps outside the ledger: listed, not problems of the ledger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<super::RefusedRecord>,
}

impl Ledger {
    /// Recomputes the buckets from the records and compares; checks every checksum.
    pub fn verify(&self) -> Result<VerifyReport, LedgerError> {
        let mut report = VerifyReport::default();
        let mut expected: BTreeMap<Vec<u8>, Expected> = BTreeMap::new();
        let mut series: BTreeMap<String, Option<Series>> = BTreeMap::new();
        for item in self.evaluations.iter() {
            let (key, bytes) = item?;
            report.records += 1;
            match codec::decode::<EvalRecord>("evaluations", &key, &bytes) {
                Ok(record) => {
                    for (objective, e) in record.events.iter().enumerate() {
                        if e.good > e.total {
                            report.mismatches.push(Mismatch::RecordGoodAboveTotal {
                                slo: record.slo.clone(),
                                time: record.time,
                                key: record.key.clone(),
                                objective,
                                good: e.good,
                                total: e.total,
                            });
                        }
                    }
                    if !series.contains_key(&record.slo) {
                        let found = self.series(&record.slo).unwrap_or_else(|e| {
                            report.mismatches.push(Mismatch::Corrupt(e.to_string()));
                            None
                        });
                        series.insert(record.slo.clone(), found);
                    }
                    let events = counted(series[&record.slo].as_ref(), &record);
                    let minute = minute_of(record.time);
                    for level in Level::ALL {
                        let index = index_of(minute, level);
                        let entry = expected
                            .entry(
                                keys::BucketKey {
                                    slo: &record.slo,
                                    level,
                                    index,
                                }
                                .encode(),
                            )
                            .or_insert_with(|| Expected {
                                slo: record.slo.clone(),
                                level: level as u8,
                                index,
                                bucket: Bucket::default(),
                                saturated: false,
                            });
                        entry.saturated |= entry.bucket.add_counted(&record, &events);
                    }
                }
                Err(e) => report.mismatches.push(Mismatch::Corrupt(e.to_string())),
            }
        }
        for item in self.buckets.iter() {
            let (key, bytes) = item?;
            report.buckets += 1;
            let stored = match Bucket::decode(&key, &bytes) {
                Ok(b) => b,
                Err(e) => {
                    report.mismatches.push(Mismatch::Corrupt(e.to_string()));
                    expected.remove(key.as_ref());
                    continue;
                }
            };
            let Some(name) = keys::BucketKey::parse(&key) else {
                report.mismatches.push(Mismatch::Corrupt(
                    LedgerError::bad_key("buckets", &key).to_string(),
                ));
                expected.remove(key.as_ref());
                continue;
            };
            for (objective, e) in stored.events.iter().enumerate() {
                if e.good > e.total {
                    report.mismatches.push(Mismatch::BucketGoodAboveTotal {
                        slo: name.slo.to_string(),
                        level: name.level as u8,
                        index: name.index,
                        objective,
                        good: e.good,
                        total: e.total,
                    });
                }
            }
            match expected.remove(key.as_ref()) {
                Some(want) => {
                    let Expected {
                        slo,
                        level,
                        index,
                        bucket,
                        saturated,
                    } = want;
                    if saturated {
                        report.mismatches.push(Mismatch::Saturated {
                            slo: slo.clone(),
                            level,
                            index,
                        });
                    }
                    if bucket != stored {
                        report.mismatches.push(Mismatch::Bucket {
                            slo,
                            level,
                            index,
                            expected: Some(bucket),
                            stored: Some(stored),
                        });
                    }
                }
                None => report.mismatches.push(Mismatch::Bucket {
                    slo: name.slo.to_string(),
                    level: name.level as u8,
                    index: name.index,
                    expected: None,
                    stored: Some(stored),
                }),
            }
        }
        for (_, want) in expected {
            if want.saturated {
                report.mismatches.push(Mismatch::Saturated {
                    slo: want.slo.clone(),
                    level: want.level,
                    index: want.index,
                });
            }
            report.mismatches.push(Mismatch::Bucket {
                slo: want.slo,
                level: want.level,
                index: want.index,
                expected: Some(want.bucket),
                stored: None,
            });
        }
        let (breaks, links) = self.verify_chains()?;
        report.links = links;
        report.heads = self.chain_heads()?;
        report
            .mismatches
            .extend(breaks.into_iter().map(Mismatch::Chain));
        for item in self.observations.iter() {
            let (key, bytes) = item?;
            report.observations += 1;
            if let Err(e) = codec::decode::<crate::model::Observation>("observations", &key, &bytes)
            {
                report.mismatches.push(Mismatch::Corrupt(e.to_string()));
            }
        }
        match self.refused_records() {
            Ok(refused) => report.refused = refused,
            Err(e) => report.mismatches.push(Mismatch::Corrupt(e.to_string())),
        }
        Ok(report)
    }
}
