//! The command line's manners: errors as JSON under `--format json`, shell
//! completions, and examples in `--help`.

use crate::support::*;

/// The one JSON line a failed `--format json` command leaves on stdout.
fn error_object(out: &std::process::Output) -> serde_json::Value {
    let stdout = stdout_of(out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stdout, got {stdout:?}");
    let value: serde_json::Value = serde_json::from_str(lines[0]).expect("stdout is JSON");
    assert!(
        value["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{value}"
    );
    value
}

#[test]
fn an_unreadable_input_under_format_json_is_an_input_error_object_with_exit_2() {
    let out = dataslo(&[
        "eval",
        "--policy",
        "builtin:freshness",
        "--observation",
        "no/such/observation.json",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let value = error_object(&out);
    assert_eq!(value["error"]["kind"], "input", "{value}");
    assert!(
        value["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no/such/observation.json")),
        "{value}"
    );
    // People still read the plain line on stderr.
    assert!(stderr_of(&out).contains("error: "), "{}", stderr_of(&out));
}

#[test]
fn a_policy_refusing_its_config_under_format_json_names_the_policy_error_kind_with_exit_1() {
    let out = dataslo(&[
        "eval",
        "--policy",
        "builtin:freshness",
        "--config",
        r#"{"max_agee":"2h"}"#,
        "--observation",
        "examples/orders.json",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let value = error_object(&out);
    assert_eq!(value["error"]["kind"], "invalid_config", "{value}");
    assert!(
        stderr_of(&out).contains("error[invalid_config]"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_bad_time_for_status_under_format_json_is_an_input_error_object() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let out = dataslo(&[
        "status",
        "--data-dir",
        data_dir,
        "--at",
        "yesterday",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(error_object(&out)["error"]["kind"], "input");
}

#[test]
fn arguments_clap_refuses_under_format_json_are_a_usage_error_object_with_exit_2() {
    let out = dataslo(&["eval", "--observation", "x.json", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let value = error_object(&out);
    assert_eq!(value["error"]["kind"], "usage", "{value}");
    assert!(
        value["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--policy")),
        "{value}"
    );
}

#[test]
fn failures_without_format_json_leave_stdout_empty() {
    let out = dataslo(&[
        "eval",
        "--policy",
        "builtin:freshness",
        "--observation",
        "no/such/observation.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout_of(&out), "");
}

#[test]
fn bash_completions_name_the_subcommands() {
    let out = dataslo(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let script = stdout_of(&out);
    assert!(script.contains("complete "), "{script}");
    for subcommand in ["eval", "run", "serve", "agent", "validate", "completions"] {
        assert!(script.contains(subcommand), "no {subcommand} in {script}");
    }
}

#[test]
fn eval_help_shows_an_example_line() {
    let out = dataslo(&["eval", "--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let help = stdout_of(&out);
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.lines().any(|l| l
            .trim_start()
            .starts_with("dataslo eval --policy builtin:freshness")),
        "{help}"
    );
}

#[test]
fn the_demo_writes_no_progress_line_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("demo");
    let out = dataslo(&[
        "demo",
        "--days",
        "2",
        "--data-dir",
        data_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("alert timeline"),
        "{}",
        stdout_of(&out)
    );
    let stderr = stderr_of(&out);
    assert!(!stderr.contains("simulating day"), "{stderr}");
    assert!(!stderr.contains('\r'), "{stderr}");
}
