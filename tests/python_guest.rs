//! A policy written in Python (tests/fixtures-py/freshness, built by
//! componentize-py): its 14 core instances, which a pool slot once refused,
//! load under the default engine; `eval` gives its measurement and the
//! scheduler records it. Skipped when componentize-py is not installed.
//!
//! Compiling the 18 MB component takes seconds, so these tests share a
//! compile cache under target/fixtures-py, with the default engine settings.

use crate::support::python::python_guest;
use crate::support::*;
use dataslo::ledger::Outcome;
use dataslo::runtime::{CORE_INSTANCES_PER_COMPONENT, EngineOptions, Limits, Runtime, footprint};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// The folder whose `cache` holds the compiled Python guest.
fn shared_data_dir() -> std::path::PathBuf {
    workspace().join("target/fixtures-py")
}

/// `dataslo eval` of the Python freshness policy on examples/orders.json
/// (modified 90 minutes before its `observed_at`), with `engine` as
/// `--engine-config`.
fn eval(policy: &str, engine: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args([
            "eval",
            "--policy",
            policy,
            "--config",
            r#"{"max_age":7200}"#,
        ])
        .args(["--observation", "examples/orders.json"])
        .args(["--now", "2026-11-26T08:00:00Z", "--format", "json"])
        .args(["--engine-config", engine])
        .current_dir(workspace())
        .output()
        .expect("run dataslo")
}

#[test]
fn a_python_policy_loads_under_the_default_engine_and_eval_gives_its_measurement() {
    let Some(wasm) = python_guest("freshness") else {
        return;
    };
    let counted = footprint(&std::fs::read(&wasm).unwrap()).expect("a component");
    assert!(
        counted.core_instances > 8 && counted.core_instances <= CORE_INSTANCES_PER_COMPONENT,
        "{counted:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let policy = wasm.display().to_string();

    // Every [engine] setting is the default; the cache's place is set, and a
    // deadline that a debug build on a loaded machine keeps (about 30 ms here).
    let defaults = dir.path().join("defaults.toml");
    std::fs::write(
        &defaults,
        format!(
            "data_dir = {:?}\n[limits]\ndeadline = \"5s\"\n",
            shared_data_dir().display().to_string()
        ),
    )
    .unwrap();
    let out = eval(&policy, &defaults.display().to_string());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &answer["measurements"][0];
    assert_eq!(
        (&m["sli"], &m["good"], &m["total"], &m["value"]),
        (
            &"freshness".into(),
            &1.into(),
            &1.into(),
            &serde_json::json!(5400.0)
        ),
        "{answer}"
    );

    // Under the limit a slot had before, it is refused, naming the setting.
    let old = dir.path().join("old.toml");
    std::fs::write(&old, "[engine]\ncore_instances_per_component = 8\n").unwrap();
    let out = eval(&policy, &old.display().to_string());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "holds {} core instances, over the pooling allocator's limit of 8",
            counted.core_instances
        )) && said.contains("core_instances_per_component"),
        "{said}"
    );
}

#[test]
fn the_scheduler_records_a_python_policys_measurements() {
    let Some(wasm) = python_guest("freshness") else {
        return;
    };
    // A long deadline: this is about loading and running, not speed.
    let limits = Limits {
        deadline: Duration::from_secs(10),
        ..Limits::default()
    };
    let options = EngineOptions {
        cache_dir: Some(shared_data_dir().join("cache")),
        ..EngineOptions::default()
    };
    let runtime = Arc::new(Runtime::with_engine(limits, options).unwrap());
    let yaml = format!(
        r#"
apiVersion: openslo/v1
kind: SLO
metadata: {{ name: orders-fresh-py }}
spec:
  indicator:
    metadata: {{ name: f }}
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "{}", config: {{ max_age: 7200 }}, sli: freshness, trigger: observation }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: lte, value: 7200, target: 0.9 }}]
"#,
        wasm.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let scheduler = scheduler_with(&runtime, &yaml, dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
    let fresh = r#""last_modified":"2026-11-26T07:00:00Z""#;
    let stale = r#""observed_at":"2026-11-26T11:00:00Z","last_modified":"2026-11-26T07:00:00Z""#;
    let batch = [
        observation(fresh),
        dataslo::model::parse_observation(
            &format!(r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},{stale}}}"#),
            "test",
        )
        .unwrap(),
    ];
    let (_, pass) = scheduler.ingest(&batch).unwrap();
    assert_eq!(pass.recorded, 2);
    let records: Vec<_> = scheduler
        .ledger()
        .records(Some("orders-fresh-py"), None)
        .map(Result::unwrap)
        .collect();
    let seen: Vec<_> = records
        .iter()
        .map(|r| (&r.outcome, r.value, r.events[0].good))
        .collect();
    assert_eq!(
        seen,
        [
            (&Outcome::Measured, Some(3600.0), 1),
            (&Outcome::Measured, Some(14400.0), 0)
        ],
        "{records:?}"
    );
}
