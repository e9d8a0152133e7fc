//! `slo validate` checks what `run` would refuse: each SLO's policy loaded as
//! `run` loads it, its config validated by the policy in the sandbox and its
//! `sli` one the policy declares. Each refusal names the file, the document
//! and the field, and a misspelt name the closest valid one; names dataslo
//! reads past are warnings.

use crate::support::{forger_file, stderr_of, stdout_of};
use std::path::Path;
use std::process::{Command, Output};

/// The dataslo source's spec, in a thresholdMetric SLO.
const SOURCE: &str = "spec.indicator.spec.thresholdMetric.metricSource.spec";

/// A thresholdMetric SLO named `name` reading `policy` with `config` and `sli`.
fn slo(name: &str, policy: &str, config: &str, sli: &str) -> String {
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: {name} }}
spec:
  indicator:
    metadata: {{ name: {name}-sli }}
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "{policy}", config: {config}, sli: "{sli}", trigger: observation }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: lte, value: 7200, target: 0.9 }}]
"#
    )
}

/// A freshness SLO that `run` arms.
fn fresh(name: &str) -> String {
    slo(name, "builtin:freshness", "{ max_age: 2h }", "freshness")
}

/// `dataslo slo validate ARGS` in `dir`, as a user there would run it.
fn validate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["slo", "validate"])
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("run dataslo")
}

/// Writes `documents` as `slos.yaml` in `dir`, one YAML document each.
fn write(dir: &Path, documents: &[String]) {
    std::fs::write(dir.join("slos.yaml"), documents.join("---\n")).unwrap();
}

/// The line of `out` that starts with `lead` and holds `needle`.
fn line<'a>(out: &'a str, lead: &str, needle: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(lead) && l.contains(needle))
        .unwrap_or_else(|| panic!("no {lead:?} line with {needle:?} in:\n{out}"))
}

/// Validates `bad` after a good SLO: exit 1, the good one still ok, and the
/// bad one's line (document 2).
fn refused(bad: String) -> String {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[fresh("good"), bad]);
    let out = validate(dir.path(), &["slos.yaml"]);
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", stderr_of(&out));
    line(&stdout, "ok ", "SLO `good`");
    assert!(
        stdout.contains("1 evaluable, 0 not evaluable, 1 invalid"),
        "{stdout}"
    );
    line(&stdout, "invalid ", "slos.yaml (document 2, `bad`)").to_string()
}

#[test]
fn a_missing_policy_file_is_refused_at_the_policy_field() {
    let error = refused(slo("bad", "policies/absent.wasm", "{}", "ok"));
    assert!(
        error.contains(&format!(
            "{SOURCE}.policy: cannot read policy policies/absent.wasm"
        )),
        "{error}"
    );
}

#[test]
fn a_misspelt_config_key_is_refused_with_the_closest_key() {
    let error = refused(slo(
        "bad",
        "builtin:freshness",
        "{ max_ag: 2h }",
        "freshness",
    ));
    assert!(
        error.contains(&format!("{SOURCE}.config.max_ag: ")),
        "{error}"
    );
    assert!(error.contains("unknown field `max_ag`"), "{error}");
    assert!(error.ends_with("did you mean `max_age`?"), "{error}");
}

#[test]
fn an_out_of_range_value_is_refused_naming_its_key() {
    let negative = refused(slo(
        "bad",
        "builtin:freshness",
        "{ max_age: -5 }",
        "freshness",
    ));
    assert!(
        negative.contains(&format!("{SOURCE}.config.max_age: ")),
        "{negative}"
    );
    assert!(negative.contains("cannot be negative"), "{negative}");
    let fraction = refused(slo(
        "bad",
        "builtin:null-rate",
        "{ columns: [email], max_null_fraction: 1.5 }",
        "null_rate:email",
    ));
    assert!(
        fraction.contains(&format!("{SOURCE}.config.max_null_fraction: ")),
        "{fraction}"
    );
    assert!(
        fraction.contains("must be in [0, 1], got 1.5"),
        "{fraction}"
    );
}

#[test]
fn a_misspelt_sli_is_refused_with_the_sli_the_policy_declares() {
    let error = refused(slo(
        "bad",
        "builtin:freshness",
        "{ max_age: 2h }",
        "freshnes",
    ));
    assert!(
        error.contains(&format!(
            "{SOURCE}.sli: `freshnes` is not an SLI of builtin:freshness (it declares freshness)"
        )),
        "{error}"
    );
    assert!(error.ends_with("did you mean `freshness`?"), "{error}");
}

#[test]
fn an_sli_matching_a_declared_placeholder_or_summing_its_parts_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let config = "{ columns: [email], max_null_fraction: 0.1 }";
    write(
        dir.path(),
        &[
            slo("one", "builtin:null-rate", config, "null_rate:email"),
            slo("all", "builtin:null-rate", config, "null_rate"),
        ],
    );
    let out = validate(dir.path(), &["slos.yaml"]);
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("2 evaluable, 0 not evaluable, 0 invalid"),
        "{stdout}"
    );
}

#[test]
fn a_policy_file_is_read_from_the_working_directory_and_held_to_its_pin() {
    let dir = tempfile::tempdir().unwrap();
    forger_file(dir.path(), "none");
    let policy = "forger-none.wasm";
    let pinned = slo("bad", policy, "{}", "ok").replace(
        "trigger: observation",
        &format!("sha256: {}, trigger: observation", "0".repeat(64)),
    );
    write(dir.path(), &[slo("good", policy, "{}", "ok"), pinned]);
    let out = validate(dir.path(), &["slos.yaml"]);
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    line(&stdout, "ok ", "SLO `good`");
    let error = line(&stdout, "invalid ", "(document 2, `bad`)");
    assert!(
        error.contains(&format!("{SOURCE}.sha256: policy {policy} has sha256 ")),
        "{error}"
    );
}

#[test]
fn an_unknown_builtin_is_refused_with_the_closest_builtin() {
    let error = refused(slo(
        "bad",
        "builtin:freshnes",
        "{ max_age: 2h }",
        "freshness",
    ));
    assert!(error.contains(&format!("{SOURCE}.policy: ")), "{error}");
    assert!(
        error.ends_with("did you mean `builtin:freshness`?"),
        "{error}"
    );
}

#[test]
fn unknown_api_versions_kinds_and_metric_types_are_warnings_with_the_closest_name() {
    let dir = tempfile::tempdir().unwrap();
    let wrong_type = fresh("typed").replace("type: dataslo", "type: datasloo");
    write(
        dir.path(),
        &[
            fresh("good"),
            fresh("versioned").replace("openslo/v1", "openslo/v1beta"),
            fresh("kinded").replace("kind: SLO", "kind: Slo"),
            wrong_type,
        ],
    );
    let out = validate(dir.path(), &["slos.yaml"]);
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "warnings only: {stdout}");
    for (document, field, suggestion) in [
        ("(document 2, `versioned`)", "apiVersion", "openslo/v1"),
        ("(document 3, `kinded`)", "kind", "SLO"),
        (
            "(document 4, `typed`)",
            "spec.indicator.spec.thresholdMetric.metricSource.type",
            "dataslo",
        ),
    ] {
        let warning = line(&stdout, "warning ", document);
        assert!(
            warning.contains(&format!("slos.yaml {document}: {field}: ")),
            "{warning}"
        );
        assert!(
            warning.ends_with(&format!("did you mean `{suggestion}`?")),
            "{warning}"
        );
    }
    assert!(
        stdout.contains("1 evaluable, 3 not evaluable, 0 invalid, 3 warning(s)"),
        "{stdout}"
    );
}

#[test]
fn an_uploaded_policy_is_a_warning_that_the_server_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[slo("up", "uploaded:mine", "{ x: 1 }", "anything")],
    );
    let out = validate(dir.path(), &["slos.yaml"]);
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let warning = line(&stdout, "warning ", "(document 1, `up`)");
    assert!(
        warning.contains(&format!(
            "{SOURCE}.policy: uploaded:mine lives on the server"
        )),
        "{warning}"
    );
}

#[test]
fn an_oci_policy_is_a_warning_that_it_is_resolved_when_armed() {
    let dir = tempfile::tempdir().unwrap();
    let reference = "oci://127.0.0.1:5000/policies/freshness:1";
    write(
        dir.path(),
        &[slo("shipped", reference, "{ x: 1 }", "anything")],
    );
    let out = validate(dir.path(), &["slos.yaml"]);
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let warning = line(&stdout, "warning ", "(document 1, `shipped`)");
    assert!(
        warning.contains(&format!(
            "{SOURCE}.policy: {reference} is resolved when `run` or `serve` arms the SLO"
        )),
        "{warning}"
    );
}

#[test]
fn format_json_lists_files_slos_errors_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            fresh("good"),
            slo("bad", "builtin:freshness", "{ max_ag: 2h }", "freshness"),
            fresh("kinded").replace("kind: SLO", "kind: Slo"),
        ],
    );
    let out = validate(dir.path(), &["slos.yaml", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let report: serde_json::Value =
        serde_json::from_str(&stdout_of(&out)).expect("one JSON object on stdout");
    assert_eq!(report["valid"], false);
    assert_eq!(report["files"], serde_json::json!(["slos.yaml"]));
    let slos = report["slos"].as_array().unwrap();
    assert_eq!(slos.len(), 2);
    assert_eq!(slos[0]["name"], "good");
    assert_eq!(slos[0]["verdict"], "ok");
    assert_eq!(slos[0]["policy"], "builtin:freshness");
    assert_eq!(slos[0]["sli"], "freshness");
    assert_eq!(slos[0]["trigger"], "observation");
    assert_eq!(slos[0]["dataset"]["name"], "orders");
    assert_eq!(slos[0]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(slos[1]["verdict"], "invalid");
    assert_eq!(
        report["errors"],
        serde_json::json!([{
            "file": "slos.yaml",
            "document": 2,
            "name": "bad",
            "field": format!("{SOURCE}.config.max_ag"),
            "message": report["errors"][0]["message"],
            "suggestion": "max_age",
        }])
    );
    assert_eq!(report["warnings"][0]["field"], "kind");
    assert_eq!(report["warnings"][0]["document"], 3);
    assert_eq!(report["warnings"][0]["suggestion"], "SLO");
    assert_eq!(report["skipped"][0]["kind"], "Slo");
}

/// A freshness SLO whose config is `max_age` and whose objective is `op value`.
fn freshness_objective(name: &str, max_age: &str, op: &str, value: &str) -> String {
    slo(
        name,
        "builtin:freshness",
        &format!("{{ max_age: {max_age} }}"),
        "freshness",
    )
    .replace("op: lte, value: 7200", &format!("op: {op}, value: {value}"))
}

#[test]
fn a_threshold_contradicting_the_policys_verdict_on_its_examples_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[freshness_objective("late", "1h", "lt", "7200")],
    );
    let out = validate(dir.path(), &["slos.yaml"]);
    let stdout = stdout_of(&out);
    // A warning: `run` arms it as written.
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr_of(&out));
    line(&stdout, "ok ", "SLO `late`");
    let warning = line(&stdout, "warning ", "slos.yaml (document 1, `late`)");
    for needle in [
        "spec.objectives[0].value",
        "objective `objective 1`",
        "example `dbt's stg_customers 90 minutes after its run is fresh within 2h`",
        "policies/freshness/tests/freshness.yaml",
        "the policy says bad",
        "`lt 7200`",
        "value 5400 as good",
        "docs/measurements.md",
    ] {
        assert!(warning.contains(needle), "no {needle:?} in {warning}");
    }
    assert!(stdout.contains("1 warning(s)"), "{stdout}");
}

#[test]
fn a_threshold_agreeing_with_the_policy_on_every_example_is_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[freshness_objective("agreed", "2h", "lte", "7200")],
    );
    let out = validate(dir.path(), &["slos.yaml", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
    assert_eq!(report["slos"][0]["verdict"], "ok", "{report}");
}

#[test]
fn a_policy_files_examples_are_the_case_files_of_its_crate() {
    let dir = tempfile::tempdir().unwrap();
    // A policy crate as `dataslo test` lays it out, its component built into
    // the crate's own target folder.
    let project = dir.path().join("my-freshness");
    let release = project.join("target/wasm32-wasip2/release");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::create_dir_all(project.join("tests")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"my-freshness\"\n",
    )
    .unwrap();
    std::fs::write(
        release.join("my_freshness.wasm"),
        dataslo::runtime::builtin_bytes("freshness").unwrap(),
    )
    .unwrap();
    let case = "- name: ninety minutes old\n  now: 2026-11-26T09:30:00Z\n  observation: {dataset: {namespace: n, name: t}, observed_at: 2026-11-26T08:00:00Z, last_modified: 2026-11-26T08:00:00Z}\n  measurements: [{sli: freshness, good: 1, total: 1}]\n";
    std::fs::write(project.join("tests/cases.yaml"), case).unwrap();
    let policy = "my-freshness/target/wasm32-wasip2/release/my_freshness.wasm";
    let late = slo("late", policy, "{ max_age: 1h }", "freshness")
        .replace("op: lte, value: 7200", "op: lt, value: 7200");
    write(dir.path(), &[late]);
    let out = validate(dir.path(), &["slos.yaml"]);
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr_of(&out));
    let warning = line(&stdout, "warning ", "`late`");
    assert!(
        warning.contains("example `ninety minutes old` (my-freshness/tests/cases.yaml)"),
        "{warning}"
    );

    // Without case files beside it, the component has no examples: no warning.
    std::fs::remove_dir_all(project.join("tests")).unwrap();
    let out = validate(dir.path(), &["slos.yaml"]);
    let stdout = stdout_of(&out);
    assert!(stdout.contains("0 warning(s)"), "{stdout}");
}
