//! An observation with a bad value, in JSON (`eval`, `observe`) or in the
//! YAML of a case file (`dataslo test`), is refused naming the file, the
//! line and the field path in the user's own key names.

use crate::support::*;
use std::path::Path;

/// An observation as JSON, one field a line, `order_id` the metrics of column `order_id` (line 8).
fn json_observation(order_id: &str) -> String {
    format!(
        "{{\n  \"dataset\": {{\"namespace\": \"n\", \"name\": \"orders\"}},\n  \"observed_at\": \"2026-11-26T08:00:00Z\",\n  \"last_modified\": \"2026-11-26T07:00:00Z\",\n  \"columns\": {{\n    \"amount\": {{\"null_count\": 0}},\n    \"order_id\": {{\n      {order_id}\n    }}\n  }}\n}}\n"
    )
}

/// `dataslo eval` of `json` (written to obs.json): its stderr.
fn eval_error(dir: &Path, json: &str) -> String {
    let file = dir.join("obs.json");
    std::fs::write(&file, json).unwrap();
    let out = dataslo(&[
        "eval",
        "--policy",
        "builtin:freshness",
        "--config",
        r#"{"max_age":"2h"}"#,
        "--observation",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    stderr_of(&out)
}

/// `dataslo test` of a project whose one case has `order_id` as the
/// metrics of column `order_id` (YAML, one key a line): its stderr.
fn case_error(dir: &Path, order_id: &str) -> String {
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("freshness.wasm"),
        dataslo::runtime::builtin_bytes("freshness").unwrap(),
    )
    .unwrap();
    let cases = format!(
        "- name: orders\n  config: {{max_age: 2h}}\n  observation:\n    dataset: {{namespace: n, name: orders}}\n    observed_at: 2026-11-26T08:00:00Z\n    columns:\n      amount: {{null_count: 0}}\n      order_id:\n        {order_id}\n  error: trap\n"
    );
    std::fs::write(dir.join("tests/cases.yaml"), cases).unwrap();
    let out = dataslo(&["test", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    stderr_of(&out)
}

#[test]
fn a_misspelt_column_metric_key_names_the_column_path_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let json = eval_error(dir.path(), &json_observation("\"distinct\": 5"));
    assert!(
        json.contains("obs.json:8: columns.order_id.distinct: unknown field `distinct`"),
        "{json}"
    );
    let yaml = case_error(dir.path(), "distinct: 5");
    assert!(
        yaml.contains(
            "cases.yaml:9: observation.columns.order_id.distinct: unknown field `distinct`"
        ),
        "{yaml}"
    );
    assert!(yaml.contains("case `orders`"), "{yaml}");
}

#[test]
fn a_negative_count_names_its_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let json = eval_error(dir.path(), &json_observation("\"null_count\": -3"));
    assert!(
        json.contains("obs.json:8: columns.order_id.null_count: invalid value: integer `-3`"),
        "{json}"
    );
    let yaml = case_error(dir.path(), "null_count: -3");
    assert!(
        yaml.contains(
            "cases.yaml:9: observation.columns.order_id.null_count: invalid value: integer `-3`"
        ),
        "{yaml}"
    );
}

#[test]
fn a_string_where_a_number_goes_names_its_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let json = eval_error(
        dir.path(),
        &json_observation("\"distinct_count\": \"many\""),
    );
    assert!(
        json.contains("obs.json:8: columns.order_id.distinct_count: invalid type: string \"many\""),
        "{json}"
    );
    let yaml = case_error(dir.path(), "distinct_count: many");
    assert!(
        yaml.contains("cases.yaml:9: observation.columns.order_id.distinct_count: invalid type: string \"many\""),
        "{yaml}"
    );
}

#[test]
fn observe_names_the_ndjson_line_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        r#"{"dataset":{"namespace":"n","name":"orders"},"observed_at":"2026-11-26T08:00:00Z"}"#;
    let bad = r#"{"dataset":{"namespace":"n","name":"orders"},"observed_at":"2026-11-26T08:00:00Z","columns":{"order_id":{"null_count":-1}}}"#;
    let file = dir.path().join("in.ndjson");
    std::fs::write(&file, format!("{good}\n\n{bad}\n")).unwrap();
    let data = dir.path().join("data");
    let out = dataslo(&[
        "observe",
        "--data-dir",
        data.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("in.ndjson:3: columns.order_id.null_count: invalid value: integer `-1`"),
        "{stderr}"
    );
}
