//! A policy's answers are held to the contract beyond their WIT types:
//! `describe` lists 1 to 64 unique, short, printable SLI names under a short,
//! printable name and version, and `evaluate` emits only SLIs it listed. A
//! breach is an `invalid_output` error at load (for `describe`) or of that
//! evaluation, through the library, `eval`, `inspect`, `PUT /v1/policies` and
//! the scheduler; the next good policy is unaffected.

use crate::server::{ACME, JSON, OBS, get, post, put, start};
use crate::support::{evaluate, forger, forger_file, observation, runtime};
use dataslo::runtime::{EvalErrorKind, LoadErrorKind};
use std::process::Command;

/// Each `describe` breach, and what its refusal says.
const BREACHES: [(&str, &str); 8] = [
    ("sli-duplicate", "lists the SLI `ok` twice"),
    ("sli-empty", "an empty SLI name"),
    ("sli-none", "lists 0 SLIs; a policy lists 1 to 64"),
    ("sli-many-empty", "lists 20000 SLIs; a policy lists 1 to 64"),
    ("sli-many", "lists 1000 SLIs; a policy lists 1 to 64"),
    ("name-huge", "a name of 300000 bytes; the limit is 64"),
    (
        "name-hostile",
        "a name with a control or bidi character (U+001B at byte 7)",
    ),
    ("none", ""),
];

#[test]
fn each_describe_breach_is_refused_at_load_as_invalid_output() {
    for (mode, says) in BREACHES {
        let loaded = runtime().load(mode, &forger(mode));
        if mode == "none" {
            let policy = loaded.expect("the good forger loads");
            evaluate(&policy, "{}", &observation("")).expect("and evaluates");
            continue;
        }
        let error = loaded.err().unwrap_or_else(|| panic!("{mode} loaded"));
        match &error.kind {
            LoadErrorKind::Describe(EvalErrorKind::InvalidOutput(message)) => {
                assert!(message.contains(says), "{mode}: {message}")
            }
            other => panic!("{mode}: {other}"),
        }
        assert_eq!(error.kind.error_code().as_str(), "invalid_output");
    }
}

#[test]
fn an_unlisted_sli_is_an_invalid_output_of_the_evaluation() {
    let policy = runtime()
        .load("unlisted", &forger("sli-unlisted"))
        .expect("describe is fine");
    let error = evaluate(&policy, "{}", &observation("")).expect_err("refused");
    assert_eq!(
        error.kind,
        EvalErrorKind::InvalidOutput(
            "measurement `ghost` is not an SLI that describe() lists (ok)".into()
        )
    );
}

#[test]
fn a_listed_placeholder_admits_the_names_it_stands_for() {
    let null_rate = runtime().load_builtin("null-rate").expect("built-in");
    let obs = observation(r#""row_count": 10, "columns": {"email": {"null_count": 1}}"#);
    let done = evaluate(
        &null_rate,
        r#"{"columns": ["email"], "max_null_fraction": 0.5}"#,
        &obs,
    )
    .expect("null_rate:email is null_rate:<column>");
    assert_eq!(done.measurements[0].sli, "null_rate:email");
}

#[test]
fn eval_and_inspect_refuse_a_breach_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("obs.json");
    std::fs::write(&obs, OBS).unwrap();
    let dataslo = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dataslo"))
            .args(args)
            .output()
            .expect("run dataslo")
    };
    for (mode, says) in [
        ("sli-many-empty", "describe() lists 20000 SLIs"),
        (
            "sli-unlisted",
            "measurement `ghost` is not an SLI that describe() lists",
        ),
    ] {
        let policy = forger_file(dir.path(), mode);
        let out = dataslo(&[
            "eval",
            "--policy",
            policy.to_str().unwrap(),
            "--observation",
            obs.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{mode}: {stderr}");
        assert!(stderr.contains("error[invalid_output]"), "{mode}: {stderr}");
        assert!(stderr.contains(says), "{mode}: {stderr}");
    }
    let policy = forger_file(dir.path(), "name-huge");
    let out = dataslo(&["inspect", policy.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error[invalid_output]") && stderr.contains("a name of 300000 bytes"),
        "{stderr}"
    );
    assert!(out.stdout.len() < 4096, "the name is not printed");
}

#[test]
fn serve_refuses_a_breaching_upload_and_records_an_unlisted_sli_as_invalid_output() {
    let s = start();
    let wasm = "application/wasm";
    for (mode, says) in &BREACHES[..7] {
        let (status, body) = put(&s, "/v1/policies/bad", ACME, wasm, &forger(mode));
        assert_eq!(status, 422, "{mode}: {body}");
        assert_eq!(body["error"], "invalid_policy", "{mode}: {body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("invalid output") && detail.contains(says),
            "{mode}: {body}"
        );
    }
    let (status, body) = put(
        &s,
        "/v1/policies/ghost",
        ACME,
        wasm,
        &forger("sli-unlisted"),
    );
    assert_eq!(status, 201, "{body}");
    let slo = r#"apiVersion: openslo/v1
kind: SLO
metadata: { name: ghostly }
spec:
  indicator:
    metadata: { name: ok }
    spec:
      ratioMetric:
        good: { metricSource: { type: dataslo } }
        total: { metricSource: { type: dataslo, spec: { dataset: { namespace: "postgres://prod", name: orders }, policy: "uploaded:ghost", sli: ok, trigger: observation } } }
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.9 }]
"#;
    let (status, applied) = put(&s, "/v1/slos", ACME, "application/yaml", slo.as_bytes());
    assert_eq!(status, 200, "{applied}");
    let (status, accepted) = post(&s, "/v1/observations?wait=evaluated", ACME, JSON, OBS);
    assert_eq!(status, 200, "{accepted}");
    let (_, events) = get(&s, "/v1/slos/ghostly/events", ACME);
    assert_eq!(events[0]["outcome"]["kind"], "error", "{events}");
    assert_eq!(events[0]["outcome"]["code"], "invalid_output", "{events}");
    let (_, events) = get(&s, "/v1/slos/orders-volume/events", ACME);
    assert_eq!(
        events[0]["outcome"]["kind"], "measured",
        "the next SLO: {events}"
    );
}
