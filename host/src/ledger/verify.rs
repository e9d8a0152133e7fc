//! `ledger verify`: recompute every bucket from the raw records and report
//! each mismatch and each corrupt value.

use super::evaluations::{Bucket, EvalRecord, bucket_key, minute_of};
use super::{Ledger, LedgerError, codec};
use std::collections::BTreeMap;

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// A value failed its checksum or did not decode.
    Corrupt(String),
    /// A bucket differs from the sum of its records.
    Bucket {
        /// The SLO.
        slo: String,
        /// Minutes since the epoch.
        minute: i64,
        /// What the records add up to (`None`: no records).
        expected: Option<Bucket>,
        /// What is stored (`None`: missing).
        stored: Option<Bucket>,
    },
}

/// The result of a verification.
#[derive(Debug, Default)]
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
        let mut expected: BTreeMap<Vec<u8>, (String, i64, Bucket)> = BTreeMap::new();
        for item in self.evaluations.iter() {
            let (key, bytes) = item?;
            report.records += 1;
            match codec::decode::<EvalRecord>("evaluations", &key, &bytes) {
                Ok(record) => {
                    let minute = minute_of(record.time);
                    let entry = expected
                        .entry(bucket_key(&record.slo, minute))
                        .or_insert_with(|| (record.slo.clone(), minute, Bucket::default()));
                    entry.2.add(&record);
                }
                Err(e) => report.mismatches.push(Mismatch::Corrupt(e.to_string())),
            }
        }
        for item in self.buckets.iter() {
            let (key, bytes) = item?;
            report.buckets += 1;
            let stored = match codec::decode::<Bucket>("buckets", &key, &bytes) {
                Ok(b) => b,
                Err(e) => {
                    report.mismatches.push(Mismatch::Corrupt(e.to_string()));
                    expected.remove(key.as_ref());
                    continue;
                }
            };
            match expected.remove(key.as_ref()) {
                Some((_, _, want)) if want == stored => {}
                Some((slo, minute, want)) => report.mismatches.push(Mismatch::Bucket {
                    slo,
                    minute,
                    expected: Some(want),
                    stored: Some(stored),
                }),
                None => report.mismatches.push(Mismatch::Bucket {
                    slo: hex::encode(&key),
                    minute: super::keys::read_i64(&key[key.len().saturating_sub(8)..]).unwrap_or(0),
                    expected: None,
                    stored: Some(stored),
                }),
            }
        }
        for (_, (slo, minute, want)) in expected {
            report.mismatches.push(Mismatch::Bucket {
                slo,
                minute,
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
