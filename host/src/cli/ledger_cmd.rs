//! `dataslo ledger verify`, `dataslo ledger export` and `dataslo ledger migrate`.

use super::Failure;
use super::setup::{SetupArgs, ledger};
use crate::ledger::{Mismatch, Outcome};
use serde::Serialize;
use std::io::Write;

pub fn verify(setup: &SetupArgs) -> Result<(), Failure> {
    let ledger = ledger(&setup.config(&[])?)?;
    let report = ledger.verify().map_err(|e| Failure::Input(e.to_string()))?;
    for m in &report.mismatches {
        match m {
            Mismatch::Corrupt(message) => println!("corrupt   {message}"),
            Mismatch::Bucket {
                slo,
                level,
                index,
                expected,
                stored,
            } => {
                let unit = ["minute", "hour", "day"]
                    .get(usize::from(*level))
                    .copied()
                    .unwrap_or("?");
                println!(
                    "mismatch  SLO {slo} {unit} {index}: records give {expected:?}, bucket holds {stored:?}"
                )
            }
        }
    }
    println!(
        "{} record(s), {} bucket(s), {} observation(s), {} problem(s)",
        report.records,
        report.buckets,
        report.observations,
        report.mismatches.len()
    );
    if report.mismatches.is_empty() {
        Ok(())
    } else {
        Err(Failure::Policy {
            code: "ledger_mismatch",
            message: format!("{} problem(s) found", report.mismatches.len()),
        })
    }
}

/// One line of `ledger export`.
#[derive(Serialize)]
struct ExportLine<'a> {
    slo: &'a str,
    dataset: &'a crate::model::DatasetRef,
    time: jiff::Timestamp,
    good: Option<u64>,
    total: Option<u64>,
    value: Option<f64>,
    outcome: &'a str,
    error: Option<&'a str>,
    detail: &'a str,
    key: &'a str,
    policy_sha256: &'a str,
}

pub fn export(setup: &SetupArgs, slo: Option<&str>, since: Option<&str>) -> Result<(), Failure> {
    let since = since
        .map(|t| {
            t.parse::<jiff::Timestamp>()
                .map_err(|e| Failure::Input(format!("--since {t:?}: {e}")))
        })
        .transpose()?;
    let ledger = ledger(&setup.config(&[])?)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for record in ledger.records(slo, since) {
        let r = record.map_err(|e| Failure::Input(e.to_string()))?;
        let first = r.events.first();
        let (outcome, error) = match &r.outcome {
            Outcome::Measured if first.is_some_and(|e| e.good == e.total) => ("good", None),
            Outcome::Measured => ("bad", None),
            Outcome::Error { code, .. } => ("error", Some(code.as_str())),
        };
        let line = ExportLine {
            slo: &r.slo,
            dataset: &r.dataset,
            time: r.time,
            good: first.map(|e| e.good),
            total: first.map(|e| e.total),
            value: r.value,
            outcome,
            error,
            detail: &r.detail,
            key: &r.key,
            policy_sha256: &r.policy_sha256,
        };
        let text = serde_json::to_string(&line).unwrap_or_default();
        writeln!(out, "{text}").map_err(|e| Failure::Input(format!("cannot write: {e}")))?;
    }
    out.flush()
        .map_err(|e| Failure::Input(format!("cannot write: {e}")))
}

pub fn migrate(setup: &SetupArgs) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    let done = crate::ledger::migrate(&config.data_dir.join("ledger"))
        .map_err(|e| Failure::Input(e.to_string()))?;
    let dir = done.dir.display();
    for (from, what) in &done.steps {
        println!("layout {from} -> {}: {what}", from + 1);
    }
    if done.steps.is_empty() {
        let recorded = if done.recorded {
            " (layout version recorded)"
        } else {
            ""
        };
        println!("ledger {dir} already at layout {}{recorded}", done.to);
    } else {
        println!(
            "ledger {dir} migrated from layout {} to layout {}",
            done.from, done.to
        );
    }
    Ok(())
}
