//! `dataslo replay`: an SLO's stored observations evaluated again with
//! another policy or config, old figures against new.
//!
//! The observations are those the ledger retains for the SLO's dataset
//! (`observation_retention`), in observed order. Each is evaluated as the
//! scheduler would have: an observation-triggered SLO at its `observed_at`,
//! with the observations before it as history; a scheduled SLO at each tick
//! the ledger recorded, against the newest observation not after it. Alerts
//! are judged after each evaluation. Everything is computed by the real
//! scheduler, budget and alert code into a scratch ledger that is dropped
//! afterwards; the ledger itself is only read, unless [`apply`] writes the
//! new evaluations as a new series (`SLO@REV`).
//!
//! Depends on scheduler, budget, ledger, runtime, slo and model.

mod apply;
mod arm;
mod error;
mod evaluate;
mod report;
mod select;
mod steps;

pub use apply::{apply, series_name};
pub use error::ReplayError;
pub use report::{AlertChange, Applied, Figures, Report, Side};
pub use select::{definitions, find};

use crate::ledger::{Ledger, LedgerError};
use crate::runtime::Runtime;
use crate::slo::{Indicator, Slo, Trigger};
use std::path::Path;
use std::sync::Arc;

/// What to replay, and with what.
pub struct Request<'a> {
    /// The ledger holding the SLO's observations and records.
    pub ledger: &'a Ledger,
    /// The sandbox.
    pub runtime: &'a Arc<Runtime>,
    /// The SLO, as defined now.
    pub slo: &'a Slo,
    /// `--policy`: a component file or `builtin:NAME`; `None`: the SLO's.
    pub policy: Option<&'a str>,
    /// `--policy-config`: JSON; `None`: the SLO's.
    pub policy_config: Option<&'a str>,
    /// Replay only evaluations at or after this time; `None`: all retained.
    pub since: Option<jiff::Timestamp>,
    /// Where relative policy files are found.
    pub files: &'a Path,
    /// The history a policy may read, as `history_depth`.
    pub history_depth: usize,
    /// Under `trusted_keys`: the policy is judged as `run` judges it,
    /// before anything of it runs.
    pub trust: Option<&'a crate::scheduler::TrustCheck>,
}

/// A replay made: its report, and the scratch ledger holding the new
/// evaluations (for [`apply`]).
pub struct Replayed {
    /// Old against new.
    pub report: Report,
    /// The SLO as replayed: the other policy and config.
    pub slo: Slo,
    scratch: Ledger,
}

/// Replays `request`, calling `progress(done, total)` after each evaluation.
pub fn replay(
    request: &Request<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Replayed, ReplayError> {
    let Request { ledger, slo, .. } = *request;
    let armed = arm::arm(request)?;
    let observations = ledger.observations_of(&slo.dataset)?;
    let first = observations.first().map(|o| o.observed_at);
    let from = match (first, request.since) {
        (Some(first), Some(since)) => Some(first.max(since)),
        (first, None) => first,
        (None, Some(_)) => None,
    };
    let steps = match from {
        Some(from) => steps::steps(ledger, slo, &observations, from)?,
        None => Vec::new(),
    };
    let (Some(from), Some(&to)) = (from, steps.last()) else {
        return Err(ReplayError::NoObservations {
            slo: slo.name.clone(),
            dataset: format!("{}/{}", slo.dataset.namespace, slo.dataset.name),
            since: request.since,
        });
    };
    let scratch = Ledger::scratch(ledger.tenant(), request.history_depth)?;
    let transitions = evaluate::evaluate(
        request,
        &armed,
        &scratch,
        &observations,
        from,
        &steps,
        progress,
    )?;
    let old_transitions = ledger.transitions()?;
    let new_slo = armed.slo.clone();
    let report = Report {
        slo: slo.name.clone(),
        dataset: slo.dataset.clone(),
        trigger: match slo.trigger {
            Trigger::Observation => "observation".into(),
            Trigger::Schedule(every) => {
                format!("schedule {}", humantime::format_duration(every))
            }
        },
        from,
        to,
        evaluations: steps.len(),
        observations: observations.len(),
        old: Side {
            policy: slo.policy.spec.to_string(),
            policy_sha256: old_policy_sha256(ledger, slo, from)?,
            config: json(&slo.config),
            objectives: report::figures(ledger, slo, from, to)?,
            alerts: AlertChange::of(&old_transitions, &slo.name, from, to),
        },
        new: Side {
            policy: new_slo.policy.spec.to_string(),
            policy_sha256: armed.policy.sha256_hex(),
            config: json(&new_slo.config),
            objectives: report::figures(&scratch, &new_slo, from, to)?,
            alerts: AlertChange::of(&transitions, &slo.name, from, to),
        },
        note: (slo.indicator == Indicator::Threshold && request.policy_config.is_some()).then(
            || {
                "a thresholdMetric's events are the objective's op and value judging the \
                 measured value: a limit in the policy's config decides none of them \
                 (docs/measurements.md)"
                    .to_string()
            },
        ),
        applied: None,
    };
    Ok(Replayed {
        report,
        slo: new_slo,
        scratch,
    })
}

/// The policy the newest record in the span names.
fn old_policy_sha256(
    ledger: &Ledger,
    slo: &Slo,
    from: jiff::Timestamp,
) -> Result<String, LedgerError> {
    let mut sha = String::new();
    for record in ledger.records(Some(&slo.name), Some(from)) {
        let record = record?;
        if !record.policy_sha256.is_empty() {
            sha = record.policy_sha256;
        }
    }
    Ok(sha)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
}
