//! Two contract versions side by side: a component built against
//! `dataslo:policy@0.1.0` (`wit/v0.1.0/policy.wit`) keeps loading and running
//! unchanged, next to those of 0.2.0 (`wit/policy.wit`), whose observation
//! carries data-quality assertions and the producing run's state.

use crate::support::{evaluate, evaluate_with, guest_bytes, guest_path, now, observation, runtime};
use dataslo::ledger::{Ledger, Outcome};
use dataslo::model::Measurement;
use dataslo::runtime::{LogLine, Policy, PolicyLevel};
use std::process::Command;

fn load(name: &str) -> Policy {
    runtime()
        .load(name, &guest_bytes(name))
        .unwrap_or_else(|e| panic!("{name} loads: {e}"))
}

fn measured<'a>(measurements: &'a [Measurement], sli: &str) -> &'a Measurement {
    measurements
        .iter()
        .find(|m| m.sli == sli)
        .unwrap_or_else(|| panic!("no `{sli}` in {measurements:?}"))
}

#[test]
fn a_component_of_either_version_loads_and_says_which() {
    assert_eq!(load("v010-freshness").contract_version(), "0.1.0");
    assert_eq!(load("contract-echo").contract_version(), "0.2.0");
    let builtin = runtime().load_builtin("freshness").unwrap();
    assert_eq!(builtin.contract_version(), "0.2.0");
}

#[test]
fn a_version_0_1_component_measures_at_its_wall_clock_with_history_and_log() {
    let policy = load("v010-freshness");
    // 30 minutes old at the evaluation's now, by the WASI wall clock.
    let obs = observation(
        r#""last_modified":"2026-11-26T07:30:00Z","assertions":[{"name":"x","success":false}],"run_state":"fail""#,
    );
    let earlier = vec![observation(""), observation("")];
    let eval = evaluate_with(&policy, r#"{"max_age_secs":3600}"#, &obs, earlier, None).unwrap();
    let m = measured(&eval.measurements, "freshness");
    assert_eq!((m.good, m.total, m.value), (1, 1, Some(1800.0)));
    assert_eq!(
        eval.logs,
        vec![LogLine {
            level: PolicyLevel::Info,
            message: "age 1800s, 1 earlier".into()
        }]
    );
    let strict = evaluate(&policy, r#"{"max_age_secs":60}"#, &obs).unwrap();
    assert_eq!(measured(&strict.measurements, "freshness").good, 0);
}

#[test]
fn a_version_0_2_guest_sees_the_assertions_the_run_state_and_now() {
    let policy = load("contract-echo");
    let obs = observation(
        r#""assertions":[{"name":"not_null","column":"id","success":true},{"name":"unique","column":"id","success":false},{"name":"row_count","success":true}],"run_state":"complete""#,
    );
    let eval = evaluate(&policy, "{}", &obs).unwrap();
    let assertions = measured(&eval.measurements, "assertions");
    assert_eq!((assertions.good, assertions.total), (2, 3));
    assert_eq!(assertions.detail, "unique(id)");
    let state = measured(&eval.measurements, "run_state");
    assert_eq!((state.good, state.detail.as_str()), (1, "complete"));
    let at = measured(&eval.measurements, "now");
    assert_eq!(at.value, Some(now().as_second() as f64));

    let bare = evaluate(&policy, "{}", &observation("")).unwrap();
    assert_eq!(measured(&bare.measurements, "assertions").total, 0);
    assert_eq!(measured(&bare.measurements, "run_state").detail, "none");
}

#[test]
fn a_version_0_2_guest_without_wasi_knows_now_from_the_contract() {
    let bytes = wat::parse_str(include_str!("fixtures-wat/no-wasi-now.wat")).unwrap();
    let policy = runtime().load("no-wasi-now", &bytes).unwrap();
    assert_eq!(policy.contract_version(), "0.2.0");
    assert_eq!(
        policy.interface().imports,
        vec!["dataslo:policy/types@0.2.0".to_string()]
    );
    let eval = evaluate(&policy, "{}", &observation("")).unwrap();
    let at = measured(&eval.measurements, "now");
    assert_eq!(at.value, Some(now().as_second() as f64));
}

#[test]
fn assertions_and_run_state_come_from_an_openlineage_event() {
    let event = r#"{"eventType":"FAIL","eventTime":"2026-11-26T08:00:00Z","run":{"runId":"r"},"job":{"namespace":"j","name":"n"},
        "inputs":[{"namespace":"postgres://prod","name":"orders","inputFacets":{"dataQualityAssertions":{"assertions":[
            {"assertion":"not_null","column":"id","success":true},
            {"assertion":"accepted_values","column":"status","success":false},
            {"assertion":"no_name"},
            {"assertion":"row_count","success":true}]}}}]}"#;
    let observations = dataslo::openlineage::observations_from(event, "event.json").unwrap();
    let [obs] = observations.as_slice() else {
        panic!("one observation: {observations:?}")
    };
    let eval = evaluate(&load("contract-echo"), "{}", obs).unwrap();
    let assertions = measured(&eval.measurements, "assertions");
    assert_eq!((assertions.good, assertions.total), (2, 3));
    assert_eq!(assertions.detail, "accepted_values(status)");
    assert_eq!(measured(&eval.measurements, "run_state").detail, "fail");
}

const SLOS: &str = r#"apiVersion: openslo/v1
kind: SLO
metadata: { name: fresh-v010 }
spec:
  indicator:
    metadata: { name: f }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: { dataset: { namespace: "postgres://prod", name: orders }, policy: "V010", config: { max_age_secs: 3600 }, sli: freshness, trigger: observation }
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: 3600, target: 0.9 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: fresh-v020 }
spec:
  indicator:
    metadata: { name: f }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: { dataset: { namespace: "postgres://prod", name: orders }, policy: "builtin:freshness", config: { max_age: 1h }, sli: freshness, trigger: observation }
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: 3600, target: 0.9 }]
"#;

#[test]
fn a_version_0_1_and_a_version_0_2_policy_run_side_by_side_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let slos = SLOS.replace("V010", &guest_path("v010-freshness").display().to_string());
    std::fs::write(dir.path().join("slo.yaml"), slos).unwrap();
    let spool = dir.path().join("data/spool");
    std::fs::create_dir_all(&spool).unwrap();
    // 30 minutes, then 2 hours old when observed.
    for (file, observed, modified) in [
        ("a.json", "2026-11-26T01:00:00Z", "2026-11-26T00:30:00Z"),
        ("b.json", "2026-11-26T05:00:00Z", "2026-11-26T03:00:00Z"),
    ] {
        let text = format!(
            r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{observed}","last_modified":"{modified}"}}"#
        );
        std::fs::write(spool.join(file), text).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["run", "--once", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg(dir.path().join("slo.yaml"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    let ledger = Ledger::open(&dir.path().join("data/ledger"), "default", 100)
        .unwrap()
        .for_tenant("default")
        .unwrap();
    for slo in ["fresh-v010", "fresh-v020"] {
        let mut records: Vec<_> = ledger
            .records(Some(slo), None)
            .map(|r| r.unwrap())
            .collect();
        records.sort_by_key(|r| r.time);
        let seen: Vec<_> = records
            .iter()
            .map(|r| {
                assert_eq!(r.outcome, Outcome::Measured, "{slo}: {}", r.detail);
                (r.value, r.events[0].good, r.events[0].total)
            })
            .collect();
        assert_eq!(
            seen,
            vec![(Some(1800.0), 1, 1), (Some(7200.0), 0, 1)],
            "{slo}"
        );
    }
}
