//! The case files of `dataslo test` (`tests/*.yaml`, docs/policy-tests.md),
//! run natively against a [`Policy`]: the same cases an author's `cargo
//! test` and `dataslo test` run, the first without Wasm, the second in the
//! sandbox.

use super::Harness;
use super::observation_json::{observation_from_json, parse_case_time};
use crate::{Measurement, Observation, Policy, PolicyError};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// Error kinds only the sandbox gives (a trap, a limit, a broken answer):
/// a case expecting one is skipped natively. The host's table of kinds is
/// `host/src/runtime/error.rs`.
const SANDBOX_KINDS: [&str; 6] = [
    "trap",
    "deadline",
    "memory_limit",
    "output_too_large",
    "log_flood",
    "invalid_output",
];

/// The kinds of [`PolicyError`], as the host names them.
const POLICY_KINDS: [&str; 3] = ["invalid_config", "missing_metadata", "policy_error"];

/// How far a value may be from the expected one when the case gives no
/// tolerance (as in `dataslo test`).
const DEFAULT_TOLERANCE: f64 = 1e-9;

/// A case file that cannot be read: the message names the file, and the
/// line or the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFileError(pub String);

impl fmt::Display for CaseFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CaseFileError {}

/// One case's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// How it went.
    pub outcome: Outcome,
}

/// How a case went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The policy answered as expected; what it answered.
    Passed(String),
    /// Every way the answer differed.
    Failed(String),
    /// The case expects an error only the sandbox gives (e.g. `deadline`).
    Skipped(String),
}

#[derive(Deserialize)]
#[serde(crate = "crate::serde", deny_unknown_fields)]
struct RawCase {
    name: String,
    #[serde(default)]
    config: Option<serde_json::Value>,
    observation: serde_json::Value,
    #[serde(default)]
    history: Vec<serde_json::Value>,
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    measurements: Option<Vec<Expected>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(crate = "crate::serde", deny_unknown_fields)]
struct Expected {
    sli: String,
    good: u64,
    total: u64,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    tolerance: Option<f64>,
}

/// Runs every case of the file at `path` against `P`, natively.
pub fn run_case_file<P: Policy>(path: impl AsRef<Path>) -> Result<Vec<CaseResult>, CaseFileError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CaseFileError(format!("cannot read {}: {e}", path.display())))?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<RawCase> = serde_yaml_ng::from_str(&text)
        .map_err(|e| CaseFileError(format!("{}: {e}", path.display())))?;
    let mut results: Vec<CaseResult> = Vec::with_capacity(raw.len());
    for case in raw {
        let fail = |reason: String| {
            CaseFileError(format!(
                "{}: case `{}`: {reason}",
                path.display(),
                case.name
            ))
        };
        if results.iter().any(|r| r.name == case.name) {
            return Err(fail("a case of this name comes earlier in the file".into()));
        }
        let outcome = run_case::<P>(&case).map_err(fail)?;
        results.push(CaseResult {
            name: case.name,
            outcome,
        });
    }
    Ok(results)
}

/// Runs every case of the file at `path` against `P`, and panics naming
/// each case that failed (for a `#[test]`).
pub fn assert_case_file<P: Policy>(path: impl AsRef<Path>) {
    let path = path.as_ref();
    let results = run_case_file::<P>(path).unwrap_or_else(|e| panic!("{e}"));
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed(why) => Some(format!("  {}: {}: {why}", path.display(), r.name)),
            _ => None,
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} case(s) failed:\n{}",
        failed.len(),
        results.len(),
        failed.join("\n")
    );
}

/// Runs every `*.yaml` case file of `dir` (a policy's `tests/`) against
/// `P`, and panics naming each case that failed, or when there is none.
pub fn assert_cases_in<P: Policy>(dir: impl AsRef<Path>) {
    let dir = dir.as_ref();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no *.yaml case file in {}",
        dir.display()
    );
    for file in files {
        assert_case_file::<P>(file);
    }
}

fn run_case<P: Policy>(case: &RawCase) -> Result<Outcome, String> {
    let config = match &case.config {
        None => "{}".to_string(),
        Some(value) => value.to_string(),
    };
    let observation =
        observation_from_json(&case.observation).map_err(|e| format!("observation: {e}"))?;
    let history = case
        .history
        .iter()
        .enumerate()
        .map(|(i, v)| observation_from_json(v).map_err(|e| format!("history[{i}]: {e}")))
        .collect::<Result<Vec<Observation>, String>>()?;
    let now = match &case.now {
        None => observation.observed_at,
        Some(text) => parse_case_time(text).map_err(|e| format!("now: {e}"))?,
    };
    if let Some(bad) = case
        .measurements
        .iter()
        .flatten()
        .find(|m| m.tolerance.is_some_and(|t| t.is_nan() || t < 0.0))
    {
        return Err(format!(
            "measurements: `{}`: tolerance must be a number >= 0",
            bad.sli
        ));
    }
    let harness = Harness::new(now).with_history(history);
    let answer = harness
        .validate::<P>(&config)
        .and_then(|()| harness.evaluate::<P>(&config, &observation));
    match (&case.measurements, &case.error) {
        (Some(expected), None) => Ok(match answer {
            Ok(measured) => {
                let problems = differences(expected, &measured);
                if problems.is_empty() {
                    Outcome::Passed(format!("{} measurement(s)", measured.len()))
                } else {
                    Outcome::Failed(problems.join("; "))
                }
            }
            Err(e) => Outcome::Failed(format!(
                "expected measurements, got error {}: {}",
                kind_of(&e),
                e
            )),
        }),
        (None, Some(kind)) if SANDBOX_KINDS.contains(&kind.as_str()) => Ok(Outcome::Skipped(
            format!("`{kind}` arises only in the sandbox: run `dataslo test`"),
        )),
        (None, Some(kind)) if POLICY_KINDS.contains(&kind.as_str()) => Ok(match answer {
            Err(e) if kind_of(&e) == kind => Outcome::Passed(format!("{kind}: {e}")),
            Err(e) => Outcome::Failed(format!(
                "expected error {kind}, got error {}: {e}",
                kind_of(&e)
            )),
            Ok(measured) => Outcome::Failed(format!(
                "expected error {kind}, got {} measurement(s)",
                measured.len()
            )),
        }),
        (None, Some(kind)) => Err(format!(
            "error: {kind:?} is no error kind of an evaluation; one of: {}, {}",
            POLICY_KINDS.join(", "),
            SANDBOX_KINDS.join(", ")
        )),
        (Some(_), Some(_)) => Err("give either `measurements` or `error`, not both".into()),
        (None, None) => {
            Err("expects nothing: give `measurements` (a list, may be empty) or `error`".into())
        }
    }
}

fn kind_of(e: &PolicyError) -> &'static str {
    match e {
        PolicyError::InvalidConfig(_) => "invalid_config",
        PolicyError::MissingMetadata(_) => "missing_metadata",
        PolicyError::Internal(_) => "policy_error",
    }
}

fn differences(expected: &[Expected], measured: &[Measurement]) -> Vec<String> {
    let mut used = vec![false; measured.len()];
    let mut problems = Vec::new();
    for want in expected {
        let found = measured
            .iter()
            .enumerate()
            .find(|(i, m)| !used[*i] && m.sli == want.sli);
        let Some((i, got)) = found else {
            problems.push(format!("no measurement of SLI `{}`", want.sli));
            continue;
        };
        used[i] = true;
        if (got.good, got.total) != (want.good, want.total) {
            problems.push(format!(
                "`{}`: good/total {}/{}, expected {}/{}",
                want.sli, got.good, got.total, want.good, want.total
            ));
        }
        if let Some(value) = want.value {
            let tolerance = want.tolerance.unwrap_or(DEFAULT_TOLERANCE);
            match got.value {
                None => problems.push(format!("`{}`: no value, expected {value}", want.sli)),
                Some(v) if (v - value).abs() > tolerance => problems.push(format!(
                    "`{}`: value {v}, expected {value} ± {tolerance}",
                    want.sli
                )),
                Some(_) => {}
            }
        }
    }
    for (m, _) in measured.iter().zip(&used).filter(|(_, used)| !**used) {
        problems.push(format!(
            "unexpected measurement `{}` {}/{}",
            m.sli, m.good, m.total
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// Good when `row_count >= min_rows`; an error when `fail` is set.
    #[derive(Deserialize)]
    #[serde(crate = "crate::serde", deny_unknown_fields)]
    struct MinRows {
        min_rows: u64,
    }

    impl Policy for MinRows {
        const NAME: &'static str = "min-rows";
        const DESCRIPTION: &'static str = "";
        const SLIS: &'static [&'static str] = &["min_rows"];
        fn evaluate(
            &self,
            obs: &Observation,
            _: &Context,
        ) -> Result<Vec<Measurement>, PolicyError> {
            let rows = obs.require_row_count()?;
            Ok(vec![
                Measurement::check("min_rows", rows >= self.min_rows, "").with_value(rows as f64),
            ])
        }
    }

    fn file(text: &str) -> (tempfile_free::Dir, PathBuf) {
        let dir = tempfile_free::Dir::new();
        let path = dir.0.join("cases.yaml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    /// A temporary folder without a dependency on `tempfile`.
    mod tempfile_free {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                use std::sync::atomic::{AtomicU32, Ordering};
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let path = std::env::temp_dir().join(format!(
                    "dataslo-guest-cases-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    const CASES: &str = "\
- name: enough rows
  config: {min_rows: 10}
  observation:
    dataset: {namespace: n, name: t}
    observed_at: 2026-11-26T08:00:00Z
    row_count: 12
  measurements:
    - {sli: min_rows, good: 1, total: 1, value: 12}
- name: no row count
  config: {min_rows: 10}
  observation: {dataset: {namespace: n, name: t}, observed_at: 2026-11-26T08:00:00Z}
  error: missing_metadata
- name: a bad config
  config: {min_rows: -1}
  observation: {dataset: {namespace: n, name: t}, observed_at: 2026-11-26T08:00:00Z}
  error: invalid_config
- name: too slow
  observation: {dataset: {namespace: n, name: t}, observed_at: 2026-11-26T08:00:00Z}
  error: deadline
";

    #[test]
    fn the_cases_of_a_file_run_natively_and_sandbox_only_kinds_are_skipped() {
        let (_dir, path) = file(CASES);
        let results = run_case_file::<MinRows>(&path).unwrap();
        let outcomes: Vec<_> = results.iter().map(|r| &r.outcome).collect();
        assert!(matches!(outcomes[0], Outcome::Passed(_)), "{outcomes:?}");
        assert!(matches!(outcomes[1], Outcome::Passed(_)), "{outcomes:?}");
        assert!(matches!(outcomes[2], Outcome::Passed(_)), "{outcomes:?}");
        assert!(matches!(outcomes[3], Outcome::Skipped(_)), "{outcomes:?}");
        assert_case_file::<MinRows>(&path);
    }

    #[test]
    fn a_wrong_expected_value_fails_naming_the_difference() {
        let (_dir, path) = file(&CASES.replace("value: 12", "value: 13"));
        let results = run_case_file::<MinRows>(&path).unwrap();
        assert_eq!(
            results[0].outcome,
            Outcome::Failed("`min_rows`: value 12, expected 13 ± 0.000000001".into())
        );
    }

    #[test]
    fn an_unknown_key_is_refused_with_the_file_and_line() {
        let (_dir, path) = file(&CASES.replace("  measurements:", "  measurement:"));
        let err = run_case_file::<MinRows>(&path).unwrap_err().0;
        assert!(err.contains("cases.yaml"), "{err}");
        assert!(err.contains("unknown field `measurement`"), "{err}");
        assert!(err.contains("line 7"), "{err}");
    }
}
