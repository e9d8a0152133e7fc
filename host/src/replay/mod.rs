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
mod error;
mod report;
mod select;

pub use apply::{apply, series_name};
pub use error::ReplayError;
pub use report::{AlertChange, Applied, Figures, Report, Side};
pub use select::{definitions, find};

use crate::budget::sync_series;
use crate::ledger::{Ledger, LedgerError, Transition};
use crate::model::{Observation, PolicyRef};
use crate::runtime::{Known, Runtime};
use crate::scheduler::{Armed, Scheduler, tick_key};
use crate::slo::{Indicator, PinnedPolicy, Slo, Trigger};
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
    /// `--policy`: a file, `builtin:NAME` or `uploaded:NAME`; `None`: the SLO's.
    pub policy: Option<&'a str>,
    /// `--policy-config`: JSON; `None`: the SLO's.
    pub policy_config: Option<&'a str>,
    /// Replay only evaluations at or after this time; `None`: all retained.
    pub since: Option<jiff::Timestamp>,
    /// Where relative policy files are found.
    pub files: &'a Path,
    /// The history a policy may read, as `history_depth`.
    pub history_depth: usize,
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
    let armed = arm(request)?;
    let observations = ledger.observations_of(&slo.dataset)?;
    let first = observations.first().map(|o| o.observed_at);
    let from = match (first, request.since) {
        (Some(first), Some(since)) => Some(first.max(since)),
        (first, None) => first,
        (None, Some(_)) => None,
    };
    let steps = match from {
        Some(from) => steps(ledger, slo, &observations, from)?,
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
    let transitions = evaluate(
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

/// The SLO with the other policy and config, armed: its policy loaded (a
/// pin only holds for the SLO's own policy) and the config validated by it.
fn arm(request: &Request<'_>) -> Result<Armed, ReplayError> {
    let mut slo = request.slo.clone();
    if let Some(spec) = request.policy {
        let parsed: PolicyRef = spec.parse().map_err(|error| ReplayError::PolicyRef {
            spec: spec.to_string(),
            error,
        })?;
        slo.policy = PinnedPolicy {
            spec: parsed,
            sha256: None,
        };
    }
    if let Some(config) = request.policy_config {
        serde_json::from_str::<serde_json::Value>(config).map_err(|e| {
            ReplayError::ConfigNotJson {
                error: e.to_string(),
            }
        })?;
        slo.config = config.to_string();
    }
    let policy = Armed::policy_for(
        request.runtime,
        &slo,
        Some(request.files),
        &mut Known::new(),
    )
    .map_err(|source| ReplayError::Policy {
        slo: slo.name.clone(),
        source,
    })?;
    Ok(Armed { slo, policy })
}

/// The evaluation times from `from` on: each observation's (observation
/// trigger), or each tick the ledger recorded (schedule), or, for a
/// scheduled SLO that recorded none, every tick up to the last observation.
fn steps(
    ledger: &Ledger,
    slo: &Slo,
    observations: &[Observation],
    from: jiff::Timestamp,
) -> Result<Vec<jiff::Timestamp>, LedgerError> {
    let mut times: Vec<jiff::Timestamp> = match slo.trigger {
        Trigger::Observation => observations
            .iter()
            .map(|o| o.observed_at)
            .filter(|t| *t >= from)
            .collect(),
        Trigger::Schedule(every) => {
            let mut ticks = Vec::new();
            for record in ledger.records(Some(&slo.name), Some(from)) {
                let record = record?;
                let ns = i64::try_from(record.time.as_nanosecond()).unwrap_or(i64::MAX);
                if record.key == tick_key(ns) {
                    ticks.push(record.time);
                }
            }
            if ticks.is_empty() {
                ticks = grid(every, from, observations.last().map(|o| o.observed_at));
            }
            ticks
        }
    };
    times.sort();
    times.dedup();
    Ok(times)
}

/// The ticks of period `every` from `from` to `to`.
fn grid(
    every: std::time::Duration,
    from: jiff::Timestamp,
    to: Option<jiff::Timestamp>,
) -> Vec<jiff::Timestamp> {
    let Some(to) = to else { return Vec::new() };
    let step = i128::try_from(every.as_nanos()).unwrap_or(i128::MAX).max(1);
    let mut t = (from.as_nanosecond() + step - 1).div_euclid(step) * step;
    let mut out = Vec::new();
    while t <= to.as_nanosecond() {
        match jiff::Timestamp::from_nanosecond(t) {
            Ok(at) => out.push(at),
            Err(_) => break,
        }
        t += step;
    }
    out
}

/// Runs the armed SLO over the observations in `scratch`, step by step,
/// with the real scheduler, judging alerts after each step; returns the
/// alert transitions.
fn evaluate(
    request: &Request<'_>,
    armed: &Armed,
    scratch: &Ledger,
    observations: &[Observation],
    from: jiff::Timestamp,
    steps: &[jiff::Timestamp],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Transition>, LedgerError> {
    // Those before the span are history only: stored, never evaluated.
    let start = observations.partition_point(|o| o.observed_at < from);
    let (before, during) = observations.split_at(start);
    if !before.is_empty() {
        scratch.put_observations(before)?;
        let last = scratch.ingest_next()?.saturating_sub(1);
        scratch.record_batch_at(&[], Some(last))?;
        scratch.forget_logged(last)?;
    }
    sync_series(scratch, &armed.slo, from)?;
    let mut scheduler = Scheduler::new(
        request.runtime.clone(),
        scratch.clone(),
        vec![armed.clone()],
        request.history_depth,
    );
    scheduler.set_durable(false);
    let mut transitions = Vec::new();
    let mut next = 0;
    for (done, &at) in steps.iter().enumerate() {
        let due = during[next..].partition_point(|o| o.observed_at <= at);
        scheduler.ingest(&during[next..next + due])?;
        next += due;
        if let Trigger::Schedule(_) = armed.slo.trigger {
            scheduler.tick(at, 1)?;
        }
        // Nothing is late in a replay: records come in time order.
        transitions.extend(scheduler.evaluate_alerts(at, &[], std::time::Duration::ZERO)?);
        progress(done + 1, steps.len());
    }
    Ok(transitions)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_grid_starts_at_the_first_tick_not_before_from_and_ends_at_to() {
        let five = std::time::Duration::from_secs(300);
        let ticks = grid(
            five,
            t("2026-11-26T08:02:00Z"),
            Some(t("2026-11-26T08:15:00Z")),
        );
        let expected: Vec<_> = ["08:05", "08:10", "08:15"]
            .iter()
            .map(|hm| t(&format!("2026-11-26T{hm}:00Z")))
            .collect();
        assert_eq!(ticks, expected);
        assert!(grid(five, t("2026-11-26T08:02:00Z"), None).is_empty());
    }
}
