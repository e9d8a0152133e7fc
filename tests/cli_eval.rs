//! The `dataslo` command line: `eval`, `policies` and `inspect`, run as a
//! user runs them, with exit codes 0 (ran), 1 (policy failed), 2 (bad input).

use crate::support::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn dataslo_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(workspace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dataslo");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn freshness_at(now: &str) -> serde_json::Value {
    let out = dataslo(&[
        "eval",
        "--policy",
        "builtin:freshness",
        "--config",
        r#"{"max_age":"2h"}"#,
        "--observation",
        "examples/orders.json",
        "--now",
        now,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    serde_json::from_str(&stdout_of(&out)).expect("JSON output")
}

#[test]
fn freshness_on_the_example_is_good_up_to_the_limit_and_bad_past_it() {
    // examples/orders.json was last modified at 06:30Z.
    let inside = freshness_at("2026-11-26T08:30:00Z");
    assert_eq!(inside["measurements"][0]["good"], 1);
    assert_eq!(inside["measurements"][0]["value"], 7200.0);
    let outside = freshness_at("2026-11-26T08:30:01Z");
    assert_eq!(outside["measurements"][0]["good"], 0);
    assert_eq!(outside["measurements"][0]["total"], 1);
}

#[test]
fn json_output_has_the_documented_shape() {
    let out = freshness_at("2026-11-26T08:00:00Z");
    assert_eq!(out["policy"], "builtin:freshness");
    assert_eq!(out["sha256"].as_str().map(str::len), Some(64));
    assert!(out["duration_us"].as_u64().is_some());
    let m = &out["measurements"][0];
    for key in ["sli", "good", "total", "value", "detail"] {
        assert!(m.get(key).is_some(), "measurement lacks {key}: {m}");
    }
}

#[test]
fn the_table_shows_the_verdict() {
    let out = dataslo(&[
        "eval",
        "--policy",
        "builtin:volume",
        "--config",
        r#"{"min_rows":2000000}"#,
        "--observation",
        "examples/orders.json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    assert!(
        text.contains("SLI") && text.contains("BAD") && text.contains("1204331 rows"),
        "{text}"
    );
}

#[test]
fn an_evaluation_failure_exits_1_with_the_typed_error_on_stderr() {
    let obs =
        r#"{"dataset":{"namespace":"s3://b","name":"t"},"observed_at":"2026-11-26T08:00:00Z"}"#;
    let out = dataslo_stdin(
        &[
            "eval",
            "--policy",
            "builtin:freshness",
            "--config",
            r#"{"max_age":"1h"}"#,
            "--observation",
            "-",
        ],
        obs,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains(
            "error[missing_metadata]: policy `builtin:freshness`: missing metadata: last_modified"
        ),
        "{}",
        stderr_of(&out)
    );
    let bad_config = dataslo(&[
        "eval",
        "--policy",
        "builtin:freshness",
        "--config",
        r#"{"max_age":3.5}"#,
        "--observation",
        "examples/orders.json",
    ]);
    assert_eq!(bad_config.status.code(), Some(1));
    assert!(
        stderr_of(&bad_config).contains("invalid_config"),
        "{}",
        stderr_of(&bad_config)
    );
}

#[test]
fn bad_arguments_and_unreadable_input_exit_2_naming_the_culprit() {
    let cases: [(&[&str], &str); 6] = [
        (&["eval", "--policy", "builtin:freshness"], "--observation"),
        (
            &[
                "eval",
                "--policy",
                "builtin:freshness",
                "--observation",
                "nope.json",
            ],
            "nope.json",
        ),
        (
            &[
                "eval",
                "--policy",
                "missing.wasm",
                "--observation",
                "examples/orders.json",
            ],
            "missing.wasm",
        ),
        (
            &[
                "eval",
                "--policy",
                "builtin:nope",
                "--observation",
                "examples/orders.json",
            ],
            "builtin:nope",
        ),
        (
            &[
                "eval",
                "--policy",
                "builtin:freshness",
                "--config",
                "{max_age",
                "--observation",
                "examples/orders.json",
            ],
            "--config",
        ),
        (
            &[
                "eval",
                "--policy",
                "builtin:freshness",
                "--observation",
                "examples/orders.json",
                "--now",
                "noon",
            ],
            "--now",
        ),
    ];
    for (args, culprit) in cases {
        let out = dataslo(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains(culprit),
            "{args:?}: stderr should name {culprit}: {}",
            stderr_of(&out)
        );
    }
}

#[test]
fn an_unknown_observation_field_is_rejected_by_name() {
    let obs = r#"{"dataset":{"namespace":"s3://b","name":"t"},"observed_at":"2026-11-26T08:00:00Z","rows":5}"#;
    let out = dataslo_stdin(
        &[
            "eval",
            "--policy",
            "builtin:volume",
            "--config",
            r#"{"min_rows":1}"#,
            "--observation",
            "-",
        ],
        obs,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("unknown field `rows`"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn history_feeds_schema_drift_in_previous_mode() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.json");
    std::fs::write(
        &history,
        r#"[{"dataset":{"namespace":"postgres://prod:5432","name":"analytics.orders"},
            "observed_at":"2026-11-25T08:00:00Z",
            "schema":[{"name":"order_id","type":"BIGINT"},{"name":"customer_email","type":"TEXT"},
                      {"name":"amount","type":"NUMERIC(12,2)"},{"name":"created_at","type":"TIMESTAMP"}]}]"#,
    )
    .unwrap();
    let out = dataslo(&[
        "eval",
        "--policy",
        "builtin:schema-drift",
        "--config",
        r#"{"mode":"previous"}"#,
        "--observation",
        "examples/orders.json",
        "--history",
        history.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(
        json["measurements"][0]["detail"],
        "retyped: created_at TIMESTAMP -> TIMESTAMPTZ"
    );
}

#[test]
fn policies_lists_the_builtins_with_their_description() {
    let out = dataslo(&["policies", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let list: Vec<serde_json::Value> = serde_json::from_str(&stdout_of(&out)).unwrap();
    let names: Vec<_> = list
        .iter()
        .map(|p| p["policy"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "builtin:assertions",
            "builtin:distribution-drift",
            "builtin:freshness",
            "builtin:null-rate",
            "builtin:partition-completeness",
            "builtin:schema-drift",
            "builtin:uniqueness",
            "builtin:volume",
            "builtin:volume-anomaly",
        ]
    );
    assert!(
        list.iter()
            .all(|p| p["config_schema"]["type"] == "object" && p["sha256"].as_str().is_some())
    );
    assert!(stdout_of(&dataslo(&["policies"])).contains("builtin:schema-drift"));
}

#[test]
fn inspect_shows_hash_world_describe_and_imports_without_evaluating() {
    let path = guest_path("min-rows").to_str().unwrap().to_string();
    let out = dataslo(&["inspect", &path, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(json["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(json["world"], "dataslo:policy/policy@0.2.0");
    assert_eq!(json["version"], "0.2.0");
    assert_eq!(json["describe"]["name"], "min-rows");
    let imports: Vec<_> = json["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i.as_str())
        .collect();
    assert!(
        imports.contains(&"dataslo:policy/types@0.2.0"),
        "{imports:?}"
    );
    assert!(
        imports
            .iter()
            .all(|i| i.starts_with("wasi:") || i.starts_with("dataslo:policy/")),
        "{imports:?}"
    );
    assert!(stdout_of(&dataslo(&["inspect", &path])).contains("imports"));
}

#[test]
fn inspect_of_another_version_reports_it_and_exits_1() {
    let path = guest_path("wrong-version").to_str().unwrap().to_string();
    let out = dataslo(&["inspect", &path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout_of(&out).contains("dataslo:policy/policy@0.3.0"),
        "{}",
        stdout_of(&out)
    );
    assert!(
        stderr_of(&out).contains("interface_mismatch"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn the_documented_policy_is_the_example_crate_and_runs_through_eval() {
    let guide = std::fs::read_to_string(workspace().join("docs/writing-policies.md")).unwrap();
    let source = std::fs::read_to_string(workspace().join("examples/min-rows/src/lib.rs")).unwrap();
    assert!(
        guide.contains(source.trim()),
        "docs/writing-policies.md must show examples/min-rows/src/lib.rs verbatim"
    );
    assert!(
        source.lines().count() < 30,
        "the example policy stays under 30 lines"
    );

    let path = guest_path("min-rows").to_str().unwrap().to_string();
    let out = dataslo(&[
        "eval",
        "--policy",
        &path,
        "--config",
        r#"{"min_rows":1000}"#,
        "--observation",
        "examples/orders.json",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(json["measurements"][0]["good"], 1);
    assert_eq!(json["measurements"][0]["detail"], "1204331 rows, need 1000");
}

#[test]
fn version_names_the_contracts_it_loads_and_its_wasmtime() {
    let out = dataslo(&["--version"]);
    assert!(out.status.success());
    let line = stdout_of(&out);
    assert!(line.starts_with("dataslo "), "{line}");
    for contract in [
        "dataslo:policy@0.2.0",
        "dataslo:policy@0.1.0",
        "wasmtime 48.",
    ] {
        assert!(line.contains(contract), "{contract} in {line}");
    }
}
