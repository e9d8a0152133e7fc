//! Time sanity at every entry point: an observation dated more than
//! `max_future_skew` ahead of the receiver's clock is refused, naming the
//! field, by `/v1/observations`, `/api/v1/lineage`, `dataslo observe` and the
//! spool; and a scheduled tick reads the newest observation not after it, so
//! one dated ahead cannot blind an SLO.

use crate::server::{ACME, JSON, post, start};
use crate::support::{scheduler_for, test_data};
use dataslo::model::parse_observation;
use std::process::Command;

/// An observation of the test server's dataset at `at`.
fn obs(at: &str) -> String {
    format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":50}}"#
    )
}

/// A time `minutes` from the wall clock, as every receiver reads it.
fn in_minutes(minutes: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(minutes);
    t.round(jiff::Unit::Second).unwrap().to_string()
}

/// The real OpenLineage COMPLETE event of the spec's example, at `at`.
fn lineage_event(at: &str) -> String {
    let text = std::fs::read_to_string(test_data("openlineage/example_full_event.json")).unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&text).unwrap();
    event["eventTime"] = at.into();
    event.to_string()
}

#[test]
fn the_observation_endpoint_refuses_a_time_ahead_of_its_clock_naming_the_field() {
    let s = start();
    let (status, body) = post(&s, "/v1/observations", ACME, JSON, &obs(&in_minutes(60)));
    assert_eq!(status, 400, "{body}");
    let message = body["detail"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("body: observed_at: ")
            && message.contains("ahead of the receiver's clock")
            && message.contains("max_future_skew = 5m"),
        "{message}"
    );
    let (status, body) = post(
        &s,
        "/v1/observations",
        ACME,
        JSON,
        &obs("2300-01-01T00:00:00Z"),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("body:1: observed_at: 2300")
    );
    let (status, body) = post(&s, "/v1/observations", ACME, JSON, &obs(&in_minutes(2)));
    assert_eq!(status, 200, "within the skew: {body}");
}

#[test]
fn the_lineage_endpoint_refuses_an_event_time_in_2300_as_the_observation_endpoint_does() {
    let s = start();
    let (status, body) = post(
        &s,
        "/api/v1/lineage",
        ACME,
        JSON,
        &lineage_event("2300-01-01T00:00:00Z"),
    );
    assert_eq!(status, 400, "{body}");
    let message = body["detail"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("body: eventTime: 2300-01-01T00:00:00Z is "),
        "{message}"
    );
    let (status, body) = post(
        &s,
        "/api/v1/lineage",
        ACME,
        JSON,
        &lineage_event(&in_minutes(0)),
    );
    assert_eq!(status, 200, "{body}");
}

fn observe(dir: &std::path::Path, args: &[&str], text: &str) -> std::process::Output {
    let file = dir.join("in.json");
    std::fs::write(&file, text).unwrap();
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .arg("observe")
        .args(args)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg(&file)
        .output()
        .unwrap()
}

#[test]
fn observe_refuses_a_time_ahead_of_the_clock_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let batch = format!("{}\n{}\n", obs(&in_minutes(0)), obs("2300-01-01T00:00:00Z"));
    let out = observe(dir.path(), &[], &batch);
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("observed_at: 2300-01-01T00:00:00Z"),
        "{stderr}"
    );
    let out = observe(dir.path(), &[], &obs(&in_minutes(30)));
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("observed_at: ") && stderr.contains("max_future_skew"),
        "{stderr}"
    );
    let out = observe(
        dir.path(),
        &["--openlineage"],
        &lineage_event("2300-01-01T00:00:00Z"),
    );
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("eventTime: 2300-01-01T00:00:00Z"),
        "{stderr}"
    );
    let out = observe(dir.path(), &[], &obs(&in_minutes(0)));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "acknowledged 1 observation(s), 1 new",
        "the refused batches stored nothing"
    );
}

#[test]
fn a_spool_file_with_a_time_ahead_of_the_clock_is_rejected_whole() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(
        dir.path().join("slos.yaml"),
        include_str!("support/orders-volume.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("dataslo.toml"),
        "data_dir = \"data\"\nspool_dir = \"spool\"\nslo_files = [\"slos.yaml\"]\nmax_future_skew = \"1m\"\n",
    )
    .unwrap();
    std::fs::write(
        spool.join("1.ndjson"),
        format!("{}\n{}\n", obs(&in_minutes(0)), obs(&in_minutes(10))),
    )
    .unwrap();
    std::fs::write(spool.join("2.ndjson"), obs(&in_minutes(-1))).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["run", "--once", "--config"])
        .arg(dir.path().join("dataslo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(spool.join("rejected/1.ndjson").is_file(), "rejected whole");
    assert!(
        !spool.join("2.ndjson").exists(),
        "the sane file is ingested"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("observed_at") && stderr.contains("max_future_skew = 1m"),
        "the reason is logged: {stderr}"
    );
}

const FRESHNESS: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: fresh }
spec:
  indicator:
    metadata: { name: f }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: { dataset: { namespace: "postgres://prod", name: orders }, policy: "builtin:freshness", config: { max_age: 2h }, sli: freshness, trigger: { schedule: 30m } }
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: 7200, target: 0.9 }]
"#;

#[test]
fn an_observation_dated_ahead_of_a_tick_does_not_blind_the_scheduled_slo() {
    let dir = tempfile::tempdir().unwrap();
    let s = scheduler_for(FRESHNESS, dir.path());
    let at = |t: &str| {
        parse_observation(
            &format!(
                r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{t}","last_modified":"{t}"}}"#
            ),
            "t",
        )
        .unwrap()
    };
    // One that slipped in dated ahead (a clock off at its source), and the
    // real ones before it.
    s.ingest(&[
        at("2026-11-26T00:00:00Z"),
        at("2026-11-26T01:00:00Z"),
        at("2030-01-01T00:00:00Z"),
    ])
    .unwrap();
    let pass = s
        .tick("2026-11-26T02:00:00Z".parse().unwrap(), 100)
        .unwrap();
    assert_eq!(
        (pass.recorded, pass.errors),
        (1, 0),
        "measured, not blinded"
    );
    let record = s.ledger().last_record("fresh").unwrap().unwrap();
    assert_eq!(
        record.value,
        Some(3600.0),
        "the newest observation not after the tick: 01:00"
    );
}
