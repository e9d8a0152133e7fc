//! Running cases through the sandbox: the call path of `dataslo eval`
//! (`validate-config`, then `evaluate` in a fresh instance), one case at a time.

use super::{Case, CaseFile, compare};
use crate::runtime::{EvalError, EvalErrorKind, EvaluationInput, GuestError, Policy, Runtime};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseOutcome {
    /// The case file, relative to the project.
    pub file: String,
    /// The case's name.
    pub case: String,
    /// Whether the policy answered as expected.
    pub passed: bool,
    /// What it answered, or every way it differed.
    pub detail: String,
    /// Both calls, in microseconds.
    pub duration_us: u128,
}

/// Every case's result, for one policy.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// The component, as found.
    pub policy: String,
    /// The component's sha256.
    pub sha256: String,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Each case, in file and case order.
    pub cases: Vec<CaseOutcome>,
}

impl TestReport {
    /// Whether every case passed.
    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }
}

/// Runs every case of `files` against `policy`. File names are shown
/// relative to `project`.
pub fn run_cases(
    runtime: &Runtime,
    policy: &Policy,
    project: &Path,
    files: &[CaseFile],
) -> TestReport {
    let mut cases = Vec::new();
    for file in files {
        let shown = file
            .path
            .strip_prefix(project)
            .unwrap_or(&file.path)
            .display()
            .to_string();
        for case in &file.cases {
            let started = Instant::now();
            let answer = answer(runtime, policy, case);
            let verdict = match &answer {
                Ok(measured) => compare(&case.expect, Ok(measured)),
                Err(e) => compare(&case.expect, Err((e.error_code(), &message_of(e)))),
            };
            let (passed, detail) = match verdict {
                Ok(detail) => (true, detail),
                Err(detail) => (false, detail),
            };
            cases.push(CaseOutcome {
                file: shown.clone(),
                case: case.name.clone(),
                passed,
                detail,
                duration_us: started.elapsed().as_micros(),
            });
        }
    }
    let passed = cases.iter().filter(|c| c.passed).count();
    TestReport {
        policy: policy.label().to_string(),
        sha256: policy.sha256_hex(),
        passed,
        failed: cases.len() - passed,
        cases,
    }
}

fn answer(
    runtime: &Runtime,
    policy: &Policy,
    case: &Case,
) -> Result<Vec<crate::model::Measurement>, EvalError> {
    runtime.validate_config(policy, &case.config)?;
    let evaluation = runtime.evaluate(
        policy,
        EvaluationInput {
            config: &case.config,
            observation: &case.observation,
            history: Arc::new(case.history.clone()),
            now: case.now,
            limits: None,
        },
    )?;
    Ok(evaluation.measurements)
}

/// The error's message without the policy's name; a policy's own error
/// without the kind, which the detail names already.
fn message_of(e: &EvalError) -> String {
    match &e.kind {
        EvalErrorKind::Guest(
            GuestError::InvalidConfig(m) | GuestError::MissingMetadata(m) | GuestError::Internal(m),
        ) => m.clone(),
        kind => kind.to_string(),
    }
}
