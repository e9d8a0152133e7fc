//! The case files of a policy project, `tests/*.yaml` (`docs/policy-tests.md`):
//! a YAML list of cases, each a config, an observation (the observation JSON
//! format, written as YAML), its history and "now", and what the policy must
//! answer. Unknown keys are refused with their line.

use super::TestError;
use crate::model::{FieldError, ModelError, Observation, from_value, join_field};
use crate::runtime::ErrorCode;
use crate::slo::{check_yaml, yaml_line};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The error kinds a case may expect: those one evaluation can end in (the
/// others are about loading a policy or about SLOs).
pub const CASE_ERROR_KINDS: [ErrorCode; 9] = [
    ErrorCode::InvalidConfig,
    ErrorCode::MissingMetadata,
    ErrorCode::PolicyError,
    ErrorCode::Trap,
    ErrorCode::Deadline,
    ErrorCode::MemoryLimit,
    ErrorCode::OutputTooLarge,
    ErrorCode::LogFlood,
    ErrorCode::InvalidOutput,
];

/// One case file, read and checked.
#[derive(Debug, Clone)]
pub struct CaseFile {
    /// The file, as found.
    pub path: PathBuf,
    /// Its cases, in order.
    pub cases: Vec<Case>,
}

/// One case: an evaluation and the answer it must give.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case's name, unique in its file.
    pub name: String,
    /// The policy's config, as JSON text.
    pub config: String,
    /// The observation evaluated.
    pub observation: Observation,
    /// Earlier observations, newest first.
    pub history: Vec<Observation>,
    /// The evaluation's "now".
    pub now: jiff::Timestamp,
    /// What the policy must answer.
    pub expect: Expect,
}

/// What a case expects.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// Exactly these measurements, in any order.
    Measurements(Vec<ExpectedMeasurement>),
    /// An error of this kind.
    Error(ErrorCode),
}

/// One expected measurement.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedMeasurement {
    /// The SLI's name.
    pub sli: String,
    /// Good events.
    pub good: u64,
    /// All events.
    pub total: u64,
    /// The raw figure; not checked when absent.
    #[serde(default)]
    pub value: Option<f64>,
    /// How far the value may be from `value`; [`super::DEFAULT_TOLERANCE`] when absent.
    #[serde(default)]
    pub tolerance: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
    measurements: Option<Vec<ExpectedMeasurement>>,
    #[serde(default)]
    error: Option<String>,
}

/// Reads every `*.yaml` (and `*.yml`) of `dir`, sorted by name. A folder
/// without one is an error: a test run that tests nothing passes nothing.
pub fn read_case_dir(dir: &Path) -> Result<Vec<CaseFile>, TestError> {
    let entries = std::fs::read_dir(dir).map_err(|error| TestError::Read {
        path: dir.to_path_buf(),
        error,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    let files = paths
        .iter()
        .map(|p| read_case_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    if files.iter().all(|f| f.cases.is_empty()) {
        return Err(TestError::NoCases {
            dir: dir.to_path_buf(),
        });
    }
    Ok(files)
}

/// Reads one case file.
pub fn read_case_file(path: &Path) -> Result<CaseFile, TestError> {
    let text = std::fs::read_to_string(path).map_err(|error| TestError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parse_case_file(&text, path)
}

/// Reads the cases of `text`, a case file's content; errors name `path`.
pub fn parse_case_file(text: &str, path: &Path) -> Result<CaseFile, TestError> {
    check_yaml(text).map_err(|error| TestError::YamlLimits {
        file: path.to_path_buf(),
        error,
    })?;
    let raw: Vec<RawCase> = if text.trim().is_empty() {
        Vec::new()
    } else {
        serde_yaml_ng::from_str(text).map_err(|error| TestError::Yaml {
            file: path.to_path_buf(),
            error,
        })?
    };
    let mut cases: Vec<Case> = Vec::with_capacity(raw.len());
    for (index, raw) in raw.into_iter().enumerate() {
        let at = Located {
            file: path,
            text,
            index,
        };
        let case = check_case(&at, raw)?;
        if cases.iter().any(|c| c.name == case.name) {
            return Err(TestError::Case {
                file: path.to_path_buf(),
                case: case.name,
                reason: "a case of this name comes earlier in the file".into(),
            });
        }
        cases.push(case);
    }
    Ok(CaseFile {
        path: path.to_path_buf(),
        cases,
    })
}

/// A case in its file, to name the line of a field.
struct Located<'a> {
    file: &'a Path,
    text: &'a str,
    index: usize,
}

fn check_case(at: &Located<'_>, raw: RawCase) -> Result<Case, TestError> {
    let file = at.file;
    let fail = |reason: String| TestError::Case {
        file: file.to_path_buf(),
        case: raw.name.clone(),
        reason,
    };
    if raw.name.trim().is_empty() {
        return Err(fail("`name` must not be empty".into()));
    }
    let config = match &raw.config {
        None => "{}".to_string(),
        Some(value) => serde_json::to_string(value).map_err(|e| fail(format!("config: {e}")))?,
    };
    let observation_at = |value: &serde_json::Value, field: &str| {
        observation_of(value, field, at).map_err(|error| TestError::Observation {
            case: raw.name.clone(),
            error,
        })
    };
    let observation = observation_at(&raw.observation, "observation")?;
    let history = raw
        .history
        .iter()
        .enumerate()
        .map(|(i, v)| observation_at(v, &format!("history[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let now = match &raw.now {
        None => observation.observed_at,
        Some(text) => text
            .parse::<jiff::Timestamp>()
            .map_err(|e| fail(format!("now: {text:?} is not an RFC 3339 timestamp: {e}")))?,
    };
    let expect = match (raw.measurements, &raw.error) {
        (Some(list), None) => {
            if let Some(bad) = list
                .iter()
                .find(|m| m.tolerance.is_some_and(|t| t.is_nan() || t < 0.0))
            {
                return Err(fail(format!(
                    "measurements: `{}`: tolerance must be a number >= 0",
                    bad.sli
                )));
            }
            Expect::Measurements(list)
        }
        (None, Some(kind)) => Expect::Error(error_kind(kind).map_err(&fail)?),
        (Some(_), Some(_)) => {
            return Err(fail(
                "give either `measurements` or `error`, not both".into(),
            ));
        }
        (None, None) => {
            return Err(fail(
                "expects nothing: give `measurements` (a list, may be empty) or `error`".into(),
            ));
        }
    };
    Ok(Case {
        name: raw.name,
        config,
        observation,
        history,
        now,
        expect,
    })
}

/// The observation at `field` of the case; an error names the field path
/// and its line in the case file.
fn observation_of(
    value: &serde_json::Value,
    field: &str,
    at: &Located<'_>,
) -> Result<Observation, FieldError> {
    let file = at.file.display().to_string();
    let checked = from_value::<Observation>(value, &file)
        .map_err(ModelError::from)
        .and_then(|o| o.check(&file).map(|()| o));
    checked.map_err(|e| {
        let e = match e {
            ModelError::Field(e) => e,
            ModelError::Invalid {
                source_name,
                field,
                reason,
            } => FieldError {
                file: source_name,
                field,
                line: None,
                reason,
            },
        };
        let e = e.under(field);
        let line = yaml_line(at.text, &join_field(&format!("[{}]", at.index), &e.field));
        FieldError { line, ..e }
    })
}

fn error_kind(kind: &str) -> Result<ErrorCode, String> {
    kind.parse::<ErrorCode>()
        .ok()
        .filter(|code| CASE_ERROR_KINDS.contains(code))
        .ok_or_else(|| {
            let known: Vec<&str> = CASE_ERROR_KINDS.iter().map(|c| c.as_str()).collect();
            format!(
                "error: {kind:?} is no error kind of an evaluation; one of: {}",
                known.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<CaseFile, TestError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cases.yaml");
        std::fs::write(&path, text).unwrap();
        read_case_file(&path)
    }

    const OBS: &str =
        "  observation: {dataset: {namespace: n, name: t}, observed_at: 2026-11-26T08:00:00Z}\n";

    #[test]
    fn a_case_reads_with_its_config_as_json_and_now_defaulting_to_observed_at() {
        let file = read(&format!(
            "- name: fresh\n  config: {{max_age: 2h}}\n{OBS}  measurements:\n    - {{sli: freshness, good: 1, total: 1, value: 60}}\n"
        ))
        .unwrap();
        let case = &file.cases[0];
        assert_eq!(case.config, r#"{"max_age":"2h"}"#);
        assert_eq!(case.now, case.observation.observed_at);
        assert!(matches!(&case.expect, Expect::Measurements(m) if m[0].value == Some(60.0)));
    }

    #[test]
    fn an_unknown_key_is_refused_with_the_file_and_its_line() {
        let err = read(&format!("- name: a\n{OBS}  measurment: []\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cases.yaml"), "{err}");
        assert!(err.contains("unknown field `measurment`"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn an_unknown_error_kind_is_refused_naming_the_kinds() {
        let err = read(&format!("- name: a\n{OBS}  error: missing\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("case `a`"), "{err}");
        assert!(err.contains("missing_metadata"), "{err}");
    }

    #[test]
    fn a_case_expecting_nothing_or_both_is_refused() {
        assert!(read(&format!("- name: a\n{OBS}")).is_err());
        let both = format!("- name: a\n{OBS}  error: trap\n  measurements: []\n");
        assert!(read(&both).unwrap_err().to_string().contains("not both"));
    }

    #[test]
    fn a_bad_observation_names_the_case_and_the_field() {
        let err = read(
            "- name: a\n  observation: {dataset: {namespace: n, name: t}, observed_at: x}\n  error: trap\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("case `a`"), "{err}");
        assert!(err.contains("observation"), "{err}");
    }
}
