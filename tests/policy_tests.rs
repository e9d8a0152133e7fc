//! `dataslo test`: a policy's case files (`tests/*.yaml`) run through the
//! sandbox by the real binary, with exit codes 0 (every case passed), 1 (a
//! case failed) and 2 (bad input).

use crate::support::*;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `dataslo test ARGS` from the workspace root. A policy crate is built
/// into the tests' own target dir: the workspace's may be locked by the
/// cargo running these tests.
pub(crate) fn dataslo_test(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .arg("test")
        .args(args)
        .current_dir(workspace())
        .env("CARGO_TARGET_DIR", workspace().join("target/test-guests"))
        .output()
        .expect("run dataslo test")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder holding the built-in freshness component and freshness's own
/// case file, with `edit` applied to the cases.
fn freshness_copy(dir: &Path, edit: impl Fn(String) -> String) {
    let bytes = dataslo::runtime::builtin_bytes("freshness").expect("freshness is built in");
    std::fs::write(dir.join("freshness.wasm"), bytes).expect("write the component");
    let cases =
        std::fs::read_to_string(workspace().join("policies/freshness/tests/freshness.yaml"))
            .expect("read freshness's cases");
    std::fs::create_dir(dir.join("tests")).expect("make tests/");
    std::fs::write(dir.join("tests/freshness.yaml"), edit(cases)).expect("write the cases");
}

const FRESH_CASE: &str = "dbt's stg_customers an hour after its run is fresh";

#[test]
fn the_freshness_crate_passes_its_own_cases_in_the_sandbox() {
    let out = dataslo_test(&["policies/freshness"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains(FRESH_CASE), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("6 passed, 0 failed"), "{stdout}");
}

#[test]
fn the_results_are_json_for_scripts() {
    let out = dataslo_test(&["policies/freshness", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["passed"], 6, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    let cases = report["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 6);
    assert_eq!(cases[0]["file"], "tests/freshness.yaml");
    assert_eq!(cases[0]["case"], FRESH_CASE);
    assert_eq!(cases[0]["passed"], true);
    assert_eq!(
        cases[4]["detail"]
            .as_str()
            .map(|d| d.starts_with("invalid_config")),
        Some(true)
    );
}

#[test]
fn a_wrong_expected_value_fails_the_run_naming_the_case_in_the_table_and_the_junit_xml() {
    let dir = tempfile::tempdir().expect("temp dir");
    freshness_copy(dir.path(), |cases| {
        cases.replacen("value: 3600}", "value: 3601}", 1)
    });
    let junit = dir.path().join("junit.xml");
    let out = dataslo_test(&[
        dir.path().to_str().expect("utf-8 path"),
        "--junit",
        junit.to_str().expect("utf-8 path"),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let row = stdout
        .lines()
        .find(|l| l.contains(FRESH_CASE))
        .unwrap_or_else(|| panic!("no row for the case:\n{stdout}"));
    assert!(row.contains("FAIL"), "{row}");
    assert!(
        row.contains("`freshness`: value 3600, expected 3601"),
        "{row}"
    );
    assert!(stdout.contains("5 passed, 1 failed"), "{stdout}");
    assert!(text(&out.stderr).contains("1 of 6 case(s) failed"));

    let xml = std::fs::read_to_string(&junit).expect("the JUnit XML is written");
    assert!(xml.contains("tests=\"6\" failures=\"1\""), "{xml}");
    let case = xml
        .split("<testcase ")
        .find(|c| c.contains("name=\"dbt&apos;s stg_customers an hour after its run is fresh\""))
        .unwrap_or_else(|| panic!("no testcase for the case:\n{xml}"));
    assert!(
        case.contains("<failure message=\"`freshness`: value 3600, expected 3601"),
        "{case}"
    );
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
}

#[test]
fn a_case_file_with_an_unknown_key_is_bad_input_naming_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    freshness_copy(dir.path(), |cases| cases.replacen("  now:", "  when:", 1));
    let out = dataslo_test(&[dir.path().to_str().expect("utf-8 path")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tests/freshness.yaml"), "{stderr}");
    assert!(stderr.contains("unknown field `when`"), "{stderr}");
    assert!(stderr.contains("line 8"), "{stderr}");
}
