//! `--apply`: the replayed evaluations written to the ledger as a new
//! series beside the SLO's, named `SLO@REV`, where REV names the policy and
//! config they were made with. The SLO's own records, buckets and alerts are
//! left as they were: its past is never rewritten.

use super::{Applied, ReplayError, Replayed};
use crate::budget::sync_series;
use crate::ledger::{EvalRecord, Ledger};
use crate::slo::Slo;
use sha2::{Digest, Sha256};

/// Records per ledger transaction, as the scheduler writes them.
const BATCH: usize = 500;

/// The series a replay of `slo` with the policy `policy_sha256` and
/// `config` is applied as: `NAME@` and 8 hex digits of their digest.
pub fn series_name(slo: &str, policy_sha256: &str, config: &str) -> String {
    let mut h = Sha256::new();
    h.update(policy_sha256.as_bytes());
    h.update([0]);
    h.update(config.as_bytes());
    format!("{slo}@{}", &hex::encode(h.finalize())[..8])
}

/// Writes `replayed`'s evaluations to `ledger` as the series
/// [`series_name`] (its objectives recorded, its buckets built), durably.
/// Refused when that series already has records.
pub fn apply(ledger: &Ledger, replayed: &mut Replayed) -> Result<Applied, ReplayError> {
    let series = series_name(
        &replayed.report.slo,
        &replayed.report.new.policy_sha256,
        &replayed.slo.config,
    );
    if ledger.last_record(&series)?.is_some() {
        return Err(ReplayError::AlreadyApplied { series });
    }
    let renamed = Slo {
        name: series.clone(),
        ..replayed.slo.clone()
    };
    sync_series(ledger, &renamed, replayed.report.from)?;
    let records: Vec<EvalRecord> = replayed
        .scratch
        .records(Some(&replayed.report.slo), None)
        .map(|r| {
            r.map(|record| EvalRecord {
                slo: series.clone(),
                ..record
            })
        })
        .collect::<Result<_, _>>()?;
    for chunk in records.chunks(BATCH) {
        ledger.record_batch(chunk)?;
    }
    ledger.flush()?;
    let applied = Applied {
        series,
        records: records.len(),
    };
    replayed.report.applied = Some(applied.clone());
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_name_changes_with_the_policy_and_the_config_only() {
        let a = series_name("orders-fresh", "ab", r#"{"max_age":"1h"}"#);
        assert!(a.starts_with("orders-fresh@") && a.len() == "orders-fresh@".len() + 8);
        assert_eq!(a, series_name("orders-fresh", "ab", r#"{"max_age":"1h"}"#));
        assert_ne!(a, series_name("orders-fresh", "ab", r#"{"max_age":"2h"}"#));
        assert_ne!(a, series_name("orders-fresh", "cd", r#"{"max_age":"1h"}"#));
    }
}
