//! SLO YAML as a hostile tenant may write it: a duplicate key is refused, and
//! a text too large, too deep or whose aliases expand too far is refused
//! before it is parsed, cheaply, with an error naming the limit. One reader:
//! SLO files, `dataslo slo validate` and `PUT /v1/slos` alike.

use crate::server::{ACME, get, put, start};
use dataslo::slo::{
    MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_EXPANDED_BYTES, MAX_YAML_VALUES, YamlError, parse_text,
};
use std::process::Command;
use std::time::{Duration, Instant};

const YAML: &str = "application/yaml";

/// A valid SLO of acme's dataset, `objectives` written in block style.
fn slo(objectives: &str) -> String {
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: orders-rows }}
spec:
  indicator:
    metadata: {{ name: rows }}
    spec:
      thresholdMetric:
        metricSource: {{ type: dataslo, spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "builtin:volume", config: {{ min_rows: 10 }}, sli: volume, trigger: observation }} }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives:
{objectives}"#
    )
}

fn duplicate_target() -> String {
    slo("    - op: gte\n      value: 10\n      target: 0.9\n      target: 0.5\n")
}

/// Flow mappings nested `levels` deep: libyaml's scanner is quadratic in
/// that nesting (30,000 levels, 120 KB, took 15 s before the limit).
fn deep(levels: usize) -> String {
    format!(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {}",
        "{a: ".repeat(levels)
    )
}

/// Each anchor repeats the one before ten times, over a long string.
fn alias_bomb() -> String {
    let mut text = format!(
        "apiVersion: openslo/v1\nkind: SLO\nx0: &x0 \"{}\"\n",
        "y".repeat(1000)
    );
    for i in 1..8 {
        let refs = vec![format!("*x{}", i - 1); 10].join(", ");
        text.push_str(&format!("x{i}: &x{i} [{refs}]\n"));
    }
    text
}

fn yaml_error(text: &str) -> YamlError {
    let catalog = parse_text(text, "slos.yaml");
    assert_eq!(catalog.errors.len(), 1, "{:#?}", catalog.errors);
    catalog.errors[0].yaml.clone().expect("a YAML error")
}

#[test]
fn a_duplicate_key_is_refused_naming_the_key_and_its_mapping() {
    let catalog = parse_text(&duplicate_target(), "slos.yaml");
    assert!(catalog.slos.is_empty());
    let error = &catalog.errors[0];
    assert_eq!(
        error.yaml,
        Some(YamlError::DuplicateKey {
            key: "target".into(),
            line: Some(13)
        })
    );
    assert_eq!(
        error.to_string(),
        "slos.yaml (document 1): spec.objectives[0]: duplicate key `target` in the mapping at line 13"
    );
    assert!(
        parse_text(&slo("    - { op: gte, value: 10, target: 0.9 }\n"), "s")
            .errors
            .is_empty()
    );
}

#[test]
fn limits_are_checked_before_the_parse_and_name_the_limit() {
    let started = Instant::now();
    assert_eq!(
        yaml_error(&deep(30_000)),
        YamlError::TooDeep {
            line: 3,
            limit: MAX_YAML_DEPTH
        }
    );
    assert!(matches!(
        yaml_error(&alias_bomb()),
        YamlError::TooManyValues {
            limit: MAX_YAML_VALUES,
            ..
        } | YamlError::TooMuchText {
            limit: MAX_YAML_EXPANDED_BYTES,
            ..
        }
    ));
    let large = format!(
        "{}\n# {}\n",
        slo("    - { op: gte, value: 10, target: 0.9 }"),
        "x".repeat(MAX_YAML_BYTES)
    );
    assert_eq!(
        yaml_error(&large),
        YamlError::TooLarge {
            bytes: large.len() as u64,
            limit: MAX_YAML_BYTES
        }
    );
    // A wall-clock bound that catches a stall, not a measure of speed.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn slo_validate_refuses_duplicates_and_limits_and_does_not_read_a_huge_file() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("duplicate.yaml", duplicate_target()),
        ("deep.yaml", deep(30_000)),
        ("bomb.yaml", alias_bomb()),
    ];
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let huge = dir.path().join("huge.yaml");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(10 * MAX_YAML_BYTES as u64)
        .unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["slo", "validate"])
        .args(files.iter().map(|(name, _)| dir.path().join(name)))
        .arg(&huge)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for expected in [
        "duplicate.yaml (document 1): spec.objectives[0]: duplicate key `target`",
        "deep.yaml (document 0): line 3: nested deeper than the limit of 64 levels",
        "bomb.yaml (document 0): line 7: more than the limit of 4194304 bytes of text, aliases expanded",
        "huge.yaml (document 0): 10485760 bytes is over the limit of 1048576 bytes of YAML",
        "0 evaluable, 0 not evaluable, 4 invalid",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn put_slos_refuses_duplicates_and_limits_with_422_and_keeps_the_running_set() {
    let s = start();
    let started = Instant::now();
    for (body, in_detail) in [
        (duplicate_target(), "duplicate key `target`".to_string()),
        // Within the test server's 64 KiB body limit.
        (
            deep(15_000),
            format!("nested deeper than the limit of {MAX_YAML_DEPTH} levels"),
        ),
        (alias_bomb(), "aliases expanded".to_string()),
    ] {
        let (status, answer) = put(&s, "/v1/slos", ACME, YAML, body.as_bytes());
        assert_eq!(
            (status, answer["error"].as_str()),
            (422, Some("invalid_slo")),
            "{answer}"
        );
        let detail = answer["detail"].as_str().unwrap();
        assert!(detail.contains(&in_detail), "{in_detail:?} not in {detail}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let (_, list) = get(&s, "/v1/slos", ACME);
    assert_eq!(list["slos"].as_array().unwrap().len(), 1, "{list}");
}
