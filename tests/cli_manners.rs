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

/// The subcommands `dataslo HELP_ARGS --help` lists, as paths
/// (`ledger verify`), groups opened up.
fn command_paths(parent: &[&str]) -> Vec<String> {
    let mut args: Vec<&str> = parent.to_vec();
    args.push("--help");
    let help = stdout_of(&dataslo(&args));
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|name| name != "help")
        .collect();
    let mut paths = Vec::new();
    for name in names {
        let mut path: Vec<&str> = parent.to_vec();
        path.push(&name);
        let inner = command_paths(&path);
        if inner.is_empty() {
            paths.push(path.join(" "));
        } else {
            paths.extend(inner);
        }
    }
    paths
}

/// Standard output as JSON: one document, or NDJSON (one per line).
fn json_documents(out: &std::process::Output) -> Vec<serde_json::Value> {
    let stdout = stdout_of(out);
    if let Ok(value) = serde_json::from_str(&stdout) {
        return vec![value];
    }
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {stdout}")))
        .collect()
}

/// A command's path, the arguments it succeeds with (none for a
/// long-running one) and arguments it refuses.
type Walked<'a> = (&'a str, Option<Vec<&'a str>>, Vec<&'a str>);

/// Commands with no data output of their own, or owned elsewhere.
const NOT_WALKED: [&str; 3] = ["completions", "new", "replay"];

#[test]
fn every_command_under_format_json_prints_json_on_success_and_an_error_object_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let data = path("data");
    // A policy project: the built-in freshness component and its cases.
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("tests")).unwrap();
    std::fs::write(
        project.join("freshness.wasm"),
        dataslo::runtime::builtin_bytes("freshness").unwrap(),
    )
    .unwrap();
    std::fs::copy(
        workspace().join("policies/freshness/tests/freshness.yaml"),
        project.join("tests/freshness.yaml"),
    )
    .unwrap();
    let component = path("project/freshness.wasm");
    let demo = path("demo");
    let key = path("team.key");
    const PUBLIC: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    let project = path("project");
    // An export with no lines audits clean.
    let export = path("export.ndjson");
    std::fs::write(&export, "").unwrap();
    let manifest = "tests/data/dbt/btc/manifest.json";
    let sources = "tests/data/dbt/btc/sources.json";
    let eval = [
        "eval",
        "--policy",
        "builtin:freshness",
        "--config",
        r#"{"max_age":"2h"}"#,
        "--now",
        "2026-11-26T08:00:00Z",
        "--observation",
    ];
    // In order: `observe` fills the ledger `run`, `status` and `ledger` read.
    // (path, arguments that succeed, arguments that are refused); long-running
    // commands are only refused.
    let walk: Vec<Walked> = vec![
        (
            "eval",
            Some([&eval[..], &["examples/orders.json"]].concat()),
            [&eval[..], &["no/such.json"]].concat(),
        ),
        (
            "test",
            Some(vec!["test", &project]),
            vec!["test", "no/such/project"],
        ),
        (
            "policies",
            Some(vec!["policies"]),
            vec!["policies", "surplus"],
        ),
        (
            "observe",
            Some(vec!["observe", "--data-dir", &data, "examples/orders.json"]),
            vec!["observe", "--data-dir", &data, "no/such.json"],
        ),
        (
            "run",
            Some(vec![
                "run",
                "--data-dir",
                &data,
                "--once",
                "examples/slos.yaml",
            ]),
            vec!["run", "--config", "no/such.toml"],
        ),
        ("agent", None, vec!["agent", "--config", "no/such.toml"]),
        ("serve", None, vec!["serve", "--data-dir", &data]),
        (
            "status",
            Some(vec!["status", "--data-dir", &data]),
            vec!["status", "--data-dir", &data, "--at", "yesterday"],
        ),
        (
            "ledger verify",
            Some(vec!["ledger", "verify", "--data-dir", &data]),
            vec!["ledger", "verify", "--config", "no/such.toml"],
        ),
        (
            "ledger export",
            Some(vec!["ledger", "export", "--data-dir", &data]),
            vec![
                "ledger",
                "export",
                "--data-dir",
                &data,
                "--since",
                "yesterday",
            ],
        ),
        (
            "ledger rebuild",
            None,
            vec!["ledger", "rebuild", "--data-dir", &data],
        ),
        (
            "ledger audit",
            Some(vec!["ledger", "audit", &export]),
            vec!["ledger", "audit", "no/such.ndjson"],
        ),
        (
            "ledger migrate",
            Some(vec!["ledger", "migrate", "--data-dir", &data]),
            vec!["ledger", "migrate", "--config", "no/such.toml"],
        ),
        (
            "import dbt",
            Some(vec![
                "import",
                "dbt",
                "--manifest",
                manifest,
                "--sources",
                sources,
                "--namespace",
                "snowflake://acct",
            ]),
            vec![
                "import",
                "dbt",
                "--manifest",
                "no/such.json",
                "--sources",
                sources,
                "--namespace",
                "x",
            ],
        ),
        (
            "slo validate",
            Some(vec!["slo", "validate", "examples/slos.yaml"]),
            vec!["slo", "validate", "no/such.yaml"],
        ),
        (
            "inspect",
            Some(vec!["inspect", &component]),
            vec!["inspect", "no/such.wasm"],
        ),
        // Success needs a registry: tests/oci.rs pushes and pulls with JSON.
        (
            "policy push",
            None,
            vec!["policy", "push", "no/such.wasm", "oci://127.0.0.1:9/p:1"],
        ),
        ("policy pull", None, vec!["policy", "pull", "oci://"]),
        (
            "policy keygen",
            Some(vec!["policy", "keygen", "-o", &key]),
            vec!["policy", "keygen", "-o", &key],
        ),
        (
            "policy sign",
            Some(vec!["policy", "sign", &component, "--key", &key]),
            vec!["policy", "sign", "no/such.wasm", "--key", &key],
        ),
        // The built-in's bytes: trusted by digest, whatever key is given.
        (
            "policy verify",
            Some(vec!["policy", "verify", &component, "--trust", PUBLIC]),
            vec!["policy", "verify", "no/such.wasm", "--trust", PUBLIC],
        ),
        (
            "demo",
            Some(vec!["demo", "--days", "1", "--data-dir", &demo]),
            vec!["demo", "--days", "1", "--data-dir", &demo],
        ),
    ];
    let walked: Vec<&str> = walk.iter().map(|(name, _, _)| *name).collect();
    for command in command_paths(&[]) {
        assert!(
            walked.contains(&command.as_str()) || NOT_WALKED.contains(&command.as_str()),
            "`{command}` is not walked: give it --format json and a line here"
        );
    }
    for (name, success, refused) in &walk {
        if let Some(args) = success {
            let out = dataslo(&[&args[..], &["--format", "json"]].concat());
            assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr_of(&out));
            let documents = json_documents(&out);
            assert!(!documents.is_empty(), "{name}: nothing on stdout");
            assert!(
                documents.iter().all(|d| d["error"]["kind"].is_null()),
                "{name}: {documents:?}"
            );
        }
        let out = dataslo(&[&refused[..], &["--format", "json"]].concat());
        assert_ne!(out.status.code(), Some(0), "{name}: {}", stdout_of(&out));
        let documents = json_documents(&out);
        assert_eq!(documents.len(), 1, "{name}: {}", stdout_of(&out));
        let answer = &documents[0];
        // `slo validate` reports an unreadable file in its own report.
        let reported = answer["valid"] == false && answer["errors"][0]["message"].is_string();
        let error = answer["error"]["kind"].is_string() && answer["error"]["message"].is_string();
        assert!(error || reported, "{name}: {answer}");
    }
}
