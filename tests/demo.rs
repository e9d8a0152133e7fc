//! `dataslo demo`: thirty simulated days in which every incident raises an
//! alert on the right SLO, and a data directory `status` can read afterwards.

use dataslo::demo::simulate;
use dataslo::model::TransitionState;
use std::process::Command;

#[test]
fn every_incident_of_the_demo_fires_an_alert_and_status_reads_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let end: jiff::Timestamp = "2026-11-26T00:00:00Z".parse().unwrap();
    let report = simulate(dir.path(), 30, end).unwrap();
    assert!(
        report.evaluations > 15_000,
        "{} evaluations",
        report.evaluations
    );

    let fired = |slo: &str, day: &str| {
        report.transitions.iter().any(|t| {
            t.slo == slo && t.to == TransitionState::Firing && t.at.to_string().starts_with(day)
        })
    };
    assert!(fired("orders-fresh", "2026-11-04"), "late load");
    assert!(fired("inventory-fresh", "2026-11-11"), "stalled pipeline");
    assert!(fired("events-volume", "2026-11-16"), "volume drop");
    assert!(fired("customers-email-nulls", "2026-11-20"), "null spike");
    assert!(fired("payments-schema", "2026-11-23"), "schema change");
    assert!(
        !fired("orders-volume", "2026-11"),
        "a healthy SLO stays quiet"
    );
    let resolved = report
        .transitions
        .iter()
        .filter(|t| t.to == TransitionState::Resolved)
        .count();
    assert!(resolved >= 5, "incidents end: {resolved} resolutions");

    let status = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args([
            "status",
            "--format",
            "json",
            "--at",
            "2026-11-26T00:00:00Z",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let slos = json["slos"].as_array().unwrap();
    assert_eq!(slos.len(), 6);
    let payments = slos.iter().find(|s| s["slo"] == "payments-schema").unwrap();
    assert!(
        payments["objectives"][0]["budget_remaining"]
            .as_f64()
            .unwrap()
            < 0.0,
        "the schema change overspent its budget"
    );

    let table = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["status", "--at", "2026-11-26T00:00:00Z", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("payments-schema") && text.contains("99% 30d"),
        "{text}"
    );
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }

    let export = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args([
            "ledger",
            "export",
            "--slo",
            "payments-schema",
            "--since",
            "2026-11-23T00:00:00Z",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .filter(|l| !l.starts_with(r#"{"chain":"#)) // chain headers
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        assert_eq!(line["slo"], "payments-schema");
        assert!(line["time"].as_str().unwrap() >= "2026-11-23");
        for key in [
            "dataset",
            "good",
            "total",
            "value",
            "outcome",
            "policy_sha256",
        ] {
            assert!(line.get(key).is_some(), "export line lacks {key}: {line}");
        }
    }
    assert!(
        lines.iter().any(|l| l["outcome"] == "bad"),
        "the schema change is in the export"
    );

    let verify = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["ledger", "verify", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
