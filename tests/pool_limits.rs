//! What one policy instance may hold in the pooling allocator: a component of
//! more core instances than a Rust guest's (12, as languages with a runtime
//! of their own have) loads and runs under the defaults through `eval`,
//! `inspect`, the scheduler and `PUT /v1/policies`; one over a limit is
//! refused with a `pool_limit` error naming the `[engine]` setting to raise,
//! and the next good evaluation is unaffected. `--engine-config FILE` gives
//! `eval` and `inspect` that file's `[engine]`.

use crate::server::{ACME, JSON, get, post, put, start};
use crate::support::*;
use dataslo::ledger::Outcome;
use dataslo::runtime::{
    CORE_INSTANCES_PER_COMPONENT, ErrorCode, EvaluationInput, LoadErrorKind, Runtime, footprint,
    no_history,
};
use std::path::Path;
use std::sync::Arc;

const TEMPLATE: &str = include_str!("fixtures-wat/many-instances.wat");

/// The `many-instances` policy holding `n` core instances in all.
fn many_instances(n: u32) -> Vec<u8> {
    let extra = "  (core instance (instantiate $tiny))\n".repeat(n as usize - 1);
    wat::parse_str(TEMPLATE.replace("  ;; INSTANCES\n", &extra)).expect("the fixture parses")
}

/// Over the default limit by a margin.
fn over_the_limit() -> u32 {
    CORE_INSTANCES_PER_COMPONENT + 8
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

fn eval_args<'a>(policy: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "eval",
        "--policy",
        policy,
        "--observation",
        "examples/orders.json",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    args
}

/// The measurement `builtin:volume` gives: evaluations after a refusal go on.
fn a_good_evaluation(runtime: &Runtime) {
    let policy = runtime.load_builtin("volume").expect("volume loads");
    let obs = observation(r#""row_count": 50"#);
    let out = runtime
        .evaluate(
            &policy,
            EvaluationInput {
                config: r#"{"min_rows":10}"#,
                observation: &obs,
                history: no_history(),
                now: now(),
                limits: None,
            },
        )
        .expect("a good evaluation");
    assert_eq!(out.measurements[0].good, 1);
}

#[test]
fn a_component_of_twelve_core_instances_loads_and_measures_under_the_defaults() {
    let bytes = many_instances(12);
    let counted = footprint(&bytes).expect("a component");
    assert_eq!(
        (counted.core_instances, counted.memories, counted.tables),
        (12, 1, 0),
        "over the 8 a pool slot used to hold"
    );
    let policy = runtime().load("many", &bytes).expect("loads");
    assert_eq!(policy.info().name, "many-instances");
    let out = evaluate(&policy, "{}", &observation("")).expect("evaluates");
    assert_eq!(out.measurements[0].sli, "rows");
    assert_eq!(out.measurements[0].value, Some(12.0));

    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "many.wasm", &bytes);
    let out = dataslo(&eval_args(&file, &[]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["measurements"][0]["sli"], "rows");
    let out = dataslo(&["inspect", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("many-instances 0.1.0"));
}

#[test]
fn a_component_over_the_core_instance_limit_is_a_pool_limit_naming_the_setting() {
    let n = over_the_limit();
    let bytes = many_instances(n);
    let err = runtime().load("too-many", &bytes).err().expect("refused");
    assert_eq!(
        err.kind,
        LoadErrorKind::PoolLimit {
            what: "core instances",
            found: n.into(),
            limit: CORE_INSTANCES_PER_COMPONENT.into(),
            setting: "core_instances_per_component",
        }
    );
    assert_eq!(err.kind.error_code(), ErrorCode::PoolLimit);
    let message = err.to_string();
    assert!(
        message.contains(&format!("holds {n} core instances"))
            && message.contains("`core_instances_per_component` in the `[engine]` table"),
        "{message}"
    );
    a_good_evaluation(runtime());

    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "too-many.wasm", &bytes);
    for args in [eval_args(&file, &[]), vec!["inspect", &file]] {
        let out = dataslo(&args);
        let text = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert!(
            text.starts_with("error[pool_limit]") && text.contains("core_instances_per_component"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn memories_and_tables_beyond_a_slot_are_named_by_their_settings() {
    // (component, the setting named, found): counted before compiling, or
    // refused by wasmtime's own pool checks when compiling.
    let cases = [
        (
            r#"(component (core module $m (memory 1))
                 (core instance (instantiate $m)) (core instance (instantiate $m))
                 (core instance (instantiate $m)))"#,
            "memories_per_component",
            3,
        ),
        (
            r#"(component (core module $m (table 1 funcref))
                 (component $c (core module $n (table 1 funcref)) (core instance (instantiate $n)))
                 (instance (instantiate $c)) (instance (instantiate $c)) (instance (instantiate $c))
                 (core instance (instantiate $m)) (core instance (instantiate $m)))"#,
            "tables_per_component",
            5,
        ),
        (
            r#"(component (core module $m (table 30000 funcref)) (core instance (instantiate $m)))"#,
            "table_elements",
            30_000,
        ),
        (
            r#"(component (core module $m (memory 5000)) (core instance (instantiate $m)))"#,
            "memory_mib",
            5000 << 16,
        ),
    ];
    for (wat, named, count) in cases {
        let bytes = wat::parse_str(wat).unwrap();
        let err = runtime().load("odd", &bytes).err().expect("refused");
        match &err.kind {
            LoadErrorKind::PoolLimit { setting, found, .. } => {
                assert_eq!((*setting, *found), (named, count), "{err}")
            }
            other => panic!("{named}: expected a pool limit, got {other:?}"),
        }
        assert!(err.to_string().contains(named), "{err}");
    }
    a_good_evaluation(runtime());
}

#[test]
fn a_lowered_limit_in_the_engine_config_refuses_what_the_defaults_accept() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "many.wasm", &many_instances(12));
    let engine = dir.path().join("engine.toml");
    std::fs::write(
        &engine,
        "[engine]\ncore_instances_per_component = 8\ncache = false\n",
    )
    .unwrap();
    let engine = engine.display().to_string();
    // `--config` stays the policy's config.
    let policy_config = ["--config", r#"{"anything":1}"#];
    let accepted = dataslo(&eval_args(&file, &policy_config));
    assert_eq!(accepted.status.code(), Some(0), "{}", stderr_of(&accepted));
    let lowered = [&policy_config[..], &["--engine-config", &engine]].concat();
    for args in [
        eval_args(&file, &lowered),
        vec!["inspect", &file, "--engine-config", &engine],
    ] {
        let out = dataslo(&args);
        let text = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert!(
            text.starts_with("error[pool_limit]")
                && text.contains("holds 12 core instances")
                && text.contains("limit of 8")
                && text.contains("core_instances_per_component")
                && text.contains(&engine),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn an_engine_config_that_cannot_be_used_is_refused_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "many.wasm", &many_instances(2));
    let cases = [
        (
            "[engine]\ncore_instances_per_component = 0\n",
            "engine.core_instances_per_component: 0 is not between 1 and",
        ),
        (
            "[engine]\ntables_per_componnet = 4\n",
            "tables_per_componnet",
        ),
        (
            "[engine]\nallocator = \"on-demand\"\nmemories_per_component = 4\n",
            "engine.memories_per_component: applies only to allocator = \"pooling\"",
        ),
    ];
    for (i, (text, expected)) in cases.into_iter().enumerate() {
        let engine = dir.path().join(format!("engine-{i}.toml"));
        std::fs::write(&engine, text).unwrap();
        let engine = engine.display().to_string();
        let out = dataslo(&eval_args(&file, &["--engine-config", &engine]));
        let said = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(
            said.contains(&engine) && said.contains(expected),
            "{text}: {said}"
        );
    }
}

/// An SLO on orders of the policy file `policy`, whose SLI is `rows`.
fn rows_slo(name: &str, policy: &str) -> String {
    format!(
        r#"
apiVersion: openslo/v1
kind: SLO
metadata: {{ name: {name} }}
spec:
  indicator:
    metadata: {{ name: r }}
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "{policy}", config: {{}}, sli: rows, trigger: observation }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: gte, value: 10, target: 0.9 }}]
"#
    )
}

fn orders_at(at: &str) -> dataslo::model::Observation {
    let text = format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":50}}"#
    );
    dataslo::model::parse_observation(&text, "test").unwrap()
}

#[test]
fn the_scheduler_runs_a_many_instance_policy_and_will_not_arm_one_over_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Arc::new(Runtime::new(Default::default()).unwrap());
    let many = write(dir.path(), "many.wasm", &many_instances(12));
    let too_many = write(
        dir.path(),
        "too-many.wasm",
        &many_instances(over_the_limit()),
    );

    let errors = scheduler_with(
        &runtime,
        &rows_slo("too-many", &too_many),
        &dir.path().join("refused"),
    )
    .err()
    .expect("not armed");
    assert_eq!(errors[0].slo, "too-many");
    assert!(
        errors[0].message.contains("core_instances_per_component"),
        "{}",
        errors[0].message
    );

    let scheduler = scheduler_with(&runtime, &rows_slo("many", &many), &dir.path().join("ok"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (_, pass) = scheduler
        .ingest(&[orders_at("2026-11-26T07:00:00Z")])
        .unwrap();
    assert_eq!(pass.recorded, 1);
    let records: Vec<_> = scheduler
        .ledger()
        .records(Some("many"), None)
        .map(Result::unwrap)
        .collect();
    assert_eq!(records[0].outcome, Outcome::Measured, "{records:?}");
    assert_eq!(records[0].value, Some(12.0));
}

#[test]
fn an_upload_over_the_pool_limit_is_refused_naming_the_setting_and_evaluations_go_on() {
    const WASM: &str = "application/wasm";
    const YAML: &str = "application/yaml";
    let s = start();
    let (status, stored) = put(&s, "/v1/policies/many", ACME, WASM, &many_instances(12));
    assert_eq!(status, 201, "{stored}");
    let yaml = rows_slo("orders-many", "uploaded:many");
    let (status, applied) = put(&s, "/v1/slos", ACME, YAML, yaml.as_bytes());
    assert_eq!(status, 200, "{applied}");

    let n = over_the_limit();
    let (status, refused) = put(&s, "/v1/policies/too-many", ACME, WASM, &many_instances(n));
    assert_eq!(
        (status, refused["error"].as_str()),
        (422, Some("invalid_policy"))
    );
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!(
            "pool limit: the component holds {n} core instances"
        )) && detail.contains("core_instances_per_component"),
        "{detail}"
    );
    let (_, listed) = get(&s, "/v1/policies", ACME);
    let names: Vec<_> = listed["uploaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["many"], "nothing stored");

    let obs = r#"{"dataset":{"namespace":"postgres://prod","name":"orders"},"observed_at":"2026-11-26T07:00:00Z","row_count":50}"#;
    let (_, accepted) = post(&s, "/v1/observations?wait=evaluated", ACME, JSON, obs);
    assert_eq!(accepted["evaluations"], 2, "{accepted}");
    let (_, events) = get(&s, "/v1/slos/orders-many/events", ACME);
    assert_eq!(events[0]["outcome"]["kind"], "measured", "{events}");
    assert_eq!(events[0]["value"], 12.0);
}
