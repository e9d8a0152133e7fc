//! `dataslo new`: a project in each language that `dataslo test` builds and
//! passes as written, and fails with exit 1 once an expected value in its
//! case file is wrong. The JavaScript and Python tests need their toolchain
//! on PATH (.ci/run installs both) and are skipped without it.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the real `dataslo ARGS` in `dir`. Rust projects build into one
/// target dir under the workspace's, shared between runs, so that
/// wit-bindgen and serde compile once.
fn dataslo_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", workspace().join("target/policy-new"))
        .output()
        .expect("run dataslo")
}

/// An engine config with a deadline a debug build on a busy machine keeps
/// (this is about building and running, not speed), and a compile cache.
fn engine_config(dir: &Path) -> String {
    let path = dir.join("engine.toml");
    let data = dir.join("data").display().to_string();
    std::fs::write(
        &path,
        format!("data_dir = {data:?}\n[limits]\ndeadline = \"10s\"\n"),
    )
    .expect("write engine.toml");
    path.display().to_string()
}

/// `tool` on PATH, or `None` having said the test is skipped.
fn on_path(tool: &str) -> Option<PathBuf> {
    let found = std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(tool))
        .find(|exe| exe.is_file());
    if found.is_none() {
        eprintln!("SKIPPED: no `{tool}` on PATH (.ci/run installs it)");
    }
    found
}

/// `dataslo new NAME EXTRA` then `dataslo test NAME`: every case passes, and
/// the README's `dataslo eval` of the built `component` (a path in the
/// project, or under the shared target dir) on its `obs.json` is good; then
/// one expected value made wrong: exit 1, naming the case.
fn new_project_passes_then_fails_on_a_wrong_value(name: &str, extra: &[&str], component: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine_config(dir.path());
    let mut args = vec!["new", name];
    args.extend_from_slice(extra);
    let out = dataslo_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("dataslo test"),
        "{}",
        stdout_of(&out)
    );

    let test = || dataslo_in(dir.path(), &["test", name, "--engine-config", &engine]);
    let out = test();
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}");

    let project = dir.path().join(name);
    let component = project.join(component).display().to_string();
    let config = r#"{"min_rows": 1000}"#;
    let args = [
        "eval",
        "--policy",
        &component,
        "--config",
        config,
        "--observation",
        "obs.json",
    ];
    let out = dataslo_in(
        &project,
        &[&args[..], &["--engine-config", &engine, "--format", "json"]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let m = &answer["measurements"][0];
    assert_eq!(
        (&m["sli"], &m["good"], &m["total"]),
        (&"min_rows".into(), &1.into(), &1.into()),
        "{answer}"
    );

    let cases = dir.path().join(name).join("tests/cases.yaml");
    let text = std::fs::read_to_string(&cases).expect("read the cases");
    assert!(text.contains("value: 1200}"), "{text}");
    std::fs::write(&cases, text.replacen("value: 1200}", "value: 1201}", 1))
        .expect("write the cases");
    let out = test();
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", stderr_of(&out));
    assert!(
        stdout.contains("1200 rows pass a floor of 1000"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL") && stdout.contains("3 passed, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn a_new_rust_project_with_the_sdk_it_carries_builds_and_passes_its_cases() {
    let built = workspace().join("target/policy-new/wasm32-wasip2/release/rows_floor.wasm");
    new_project_passes_then_fails_on_a_wrong_value("rows-floor", &[], &built.display().to_string());
}

#[test]
fn a_new_rust_project_on_a_checkouts_sdk_builds_and_passes_its_cases() {
    let sdk = workspace().join("guest-sdk").display().to_string();
    let built =
        workspace().join("target/policy-new/wasm32-wasip2/release/rows_floor_checkout.wasm");
    new_project_passes_then_fails_on_a_wrong_value(
        "rows-floor-checkout",
        &["--sdk-path", &sdk],
        &built.display().to_string(),
    );
}

#[test]
fn a_new_javascript_project_builds_with_componentize_js_and_passes_its_cases() {
    if on_path("componentize-js").is_none() {
        return;
    }
    new_project_passes_then_fails_on_a_wrong_value(
        "rows-js",
        &["--lang", "javascript"],
        "target/policy.wasm",
    );
}

#[test]
fn a_new_python_project_builds_with_componentize_py_and_passes_its_cases() {
    if on_path("componentize-py").is_none() {
        return;
    }
    new_project_passes_then_fails_on_a_wrong_value(
        "rows_py",
        &["--lang", "python"],
        "target/policy.wasm",
    );
}

#[test]
fn new_refuses_a_folder_that_holds_something_and_a_bad_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    std::fs::write(dir.path().join("taken/notes.txt"), "mine").unwrap();
    let out = dataslo_in(dir.path(), &["new", "taken"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("already exists and is not empty"),
        "{}",
        stderr_of(&out)
    );
    let out = dataslo_in(dir.path(), &["new", "My Policy", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(error["error"]["kind"], "input", "{error}");
    let out = dataslo_in(dir.path(), &["new", "My.Policy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("is not a policy name"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_missing_toolchain_is_an_input_error_naming_the_tool_and_its_install() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dataslo_in(dir.path(), &["new", "rows-js", "--lang", "javascript"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("npm install"),
        "{}",
        stdout_of(&out)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["test", "rows-js", "--format", "json"])
        .current_dir(dir.path())
        .env("PATH", "")
        .output()
        .expect("run dataslo");
    assert_eq!(out.status.code(), Some(2));
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(error["error"]["kind"], "input", "{error}");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`componentize-js` is not installed") && message.contains("npm install"),
        "{message}"
    );
}

#[test]
fn new_help_shows_examples_and_json_lists_what_it_wrote() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dataslo_in(dir.path(), &["new", "--help"]);
    let help = stdout_of(&out);
    assert!(
        help.contains("Examples:") && help.contains("dataslo new min-rows --lang python"),
        "{help}"
    );
    let out = dataslo_in(
        dir.path(),
        &["new", "rows", "--lang", "python", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(made["lang"], "python", "{made}");
    assert_eq!(made["install"], "pip install -r requirements.txt", "{made}");
    for file in made["files"].as_array().expect("files") {
        let file = file.as_str().expect("a path");
        assert!(dir.path().join("rows").join(file).is_file(), "{file}");
    }
}
