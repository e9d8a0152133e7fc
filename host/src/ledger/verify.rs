//! `ledger verify`: recompute every bucket from the raw records (counted
//! under their SLO's series) and report each mismatch and each corrupt value.

use super::buckets::{Bucket, Level, index_of};
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
    /// Every problem.
    pub mismatches: Vec<Mismatch>,
}

impl Ledger {
    /// Recomputes the buckets from the records and compares; checks every checksum.
    pub fn verify(&self) -> Result<VerifyReport, LedgerError> {
        let mut report = VerifyReport::default();
        let mut expected: BTreeMap<Vec<u8>, (String, u8, i64, Bucket)> = BTreeMap::new();
        let mut series: BTreeMap<String, Option<Series>> = BTreeMap::new();
        for item in self.evaluations.iter() {
            let (key, bytes) = item?;
            report.records += 1;
            match codec::decode::<EvalRecord>("evaluations", &key, &bytes) {
                Ok(record) => {
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
                            .or_insert_with(|| {
                                (record.slo.clone(), level as u8, index, Bucket::default())
                            });
                        entry.3.add_counted(&record, &events);
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
            match expected.remove(key.as_ref()) {
                Some((_, _, _, want)) if want == stored => {}
                Some((slo, level, index, want)) => report.mismatches.push(Mismatch::Bucket {
                    slo,
                    level,
                    index,
                    expected: Some(want),
                    stored: Some(stored),
                }),
                None => report.mismatches.push(match keys::BucketKey::parse(&key) {
                    Some(b) => Mismatch::Bucket {
                        slo: b.slo.to_string(),
                        level: b.level as u8,
                        index: b.index,
                        expected: None,
                        stored: Some(stored),
                    },
                    None => Mismatch::Corrupt(LedgerError::bad_key("buckets", &key).to_string()),
                }),
            }
        }
        for (_, (slo, level, index, want)) in expected {
            report.mismatches.push(Mismatch::Bucket {
                slo,
                level,
                index,
                expected: Some(want),
                stored: None,
            });
        }
        for item in self.observations.iter() {
            let (key, bytes) = item?;
            report.observations += 1;
            if let Err(e) = codec::decode::<crate::model::Observation>("observations", &key, &bytes)
            {
                report.mismatches.push(Mismatch::Corrupt(e.to_string()));
            }
        }
        Ok(report)
    }
}
