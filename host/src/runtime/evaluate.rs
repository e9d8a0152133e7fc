//! Calling a policy: a fresh store per call, limits armed, failures classified.

use super::bindings::{self, Level};
use super::contract;
use super::convert;
use super::engine::Runtime;
use super::error::{EvalError, EvalErrorKind, GuestError, TrapKind};
use super::history::{History, HistoryError, no_history};
use super::instance::{ContractVersion, Instance, WitObservation};
use super::limits::Limits;
use super::loader::{Policy, PolicyInfo};
use super::sandbox::{LogFlood, Sandbox};
use super::ticker::Ticker;
use crate::model;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use wasmtime::{Store, Trap};

/// One evaluation's inputs.
pub struct EvaluationInput<'a> {
    /// The SLO's JSON config for the policy.
    pub config: &'a str,
    /// The observation to check.
    pub observation: &'a model::Observation,
    /// Earlier observations of the dataset, read if the policy asks.
    pub history: History,
    /// The evaluation's "now": `evaluate`'s `now` (0.2.0) and the guest's wall clock.
    pub now: jiff::Timestamp,
    /// Limits for this call; the runtime's defaults when `None`.
    pub limits: Option<&'a Limits>,
}

/// A successful evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// What the policy measured.
    pub measurements: Vec<model::Measurement>,
    /// What it logged (through `log`, stdout and stderr).
    pub logs: Vec<LogLine>,
    /// Fresh store, instantiation and call (in a [`super::Session`], the call).
    pub duration: Duration,
}

/// One line a policy logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// Its severity; stdout is `info`, stderr is `warn`.
    pub level: PolicyLevel,
    /// The text, truncated to the limit.
    pub message: String,
}

/// Writes a policy's log line to the process's log (target
/// `dataslo::policy`), escaped: its text is the policy's.
pub fn log_policy_line(line: &LogLine) {
    let message = crate::model::escape_control(&line.message);
    match line.level {
        PolicyLevel::Trace => tracing::trace!(target: "dataslo::policy", %message),
        PolicyLevel::Debug => tracing::debug!(target: "dataslo::policy", %message),
        PolicyLevel::Info => tracing::info!(target: "dataslo::policy", %message),
        PolicyLevel::Warn => tracing::warn!(target: "dataslo::policy", %message),
        PolicyLevel::Error => tracing::error!(target: "dataslo::policy", %message),
    }
}

/// A log line's severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyLevel {
    /// Trace.
    Trace,
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warn.
    Warn,
    /// Error.
    Error,
}

impl From<Level> for PolicyLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::Trace => PolicyLevel::Trace,
            Level::Debug => PolicyLevel::Debug,
            Level::Info => PolicyLevel::Info,
            Level::Warn => PolicyLevel::Warn,
            Level::Error => PolicyLevel::Error,
        }
    }
}

impl std::fmt::Display for PolicyLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string));
        f.write_str(text.as_deref().unwrap_or("?"))
    }
}

impl Runtime {
    /// Runs `evaluate` once, in a fresh instance.
    pub fn evaluate(
        &self,
        policy: &Policy,
        input: EvaluationInput<'_>,
    ) -> Result<Evaluation, EvalError> {
        let limits = input.limits.unwrap_or(&self.limits);
        let call = Prepared::new(
            policy.sha256,
            policy.imports_wasi,
            policy.pre.version(),
            &input,
        );
        let started = Instant::now();
        let (answer, logs) = self.call(
            policy,
            limits,
            call.now,
            call.seed,
            input.history,
            |store, instance| instance.evaluate(store, input.config, &call.observation, call.now),
        )?;
        finish(answer, logs, &policy.info.slis, limits, started).map_err(|kind| fail(policy, kind))
    }

    /// Runs `validate-config` once, in a fresh instance.
    pub fn validate_config(&self, policy: &Policy, config: &str) -> Result<(), EvalError> {
        let limits = &self.limits;
        let (answer, _) = self.call(
            policy,
            limits,
            0,
            policy.sha256,
            no_history(),
            |store, instance| instance.validate_config(store, config),
        )?;
        answer.map_err(|e| fail(policy, guest_error(e, limits)))
    }

    /// Runs `describe` once, in a fresh instance, and checks its answer.
    pub(super) fn describe(&self, policy: &Policy) -> Result<PolicyInfo, EvalError> {
        let limits = &self.limits;
        let (info, _) = self.call(
            policy,
            limits,
            0,
            policy.sha256,
            no_history(),
            |store, instance| instance.describe(store),
        )?;
        let size = info.name.len()
            + info.version.len()
            + info.description.len()
            + info.config_schema.len()
            + info.slis.iter().map(String::len).sum::<usize>();
        if size > limits.output_bytes {
            return Err(fail(
                policy,
                EvalErrorKind::OutputTooLarge {
                    size,
                    limit: limits.output_bytes,
                },
            ));
        }
        contract::check_info(&info).map_err(|kind| fail(policy, kind))?;
        let config_schema = serde_json::from_str(&info.config_schema).map_err(|e| {
            fail(
                policy,
                EvalErrorKind::InvalidOutput(format!("describe() config-schema is not JSON: {e}")),
            )
        })?;
        Ok(PolicyInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            slis: info.slis,
            config_schema,
        })
    }

    /// A fresh store and instance, limits armed, then `f`. Every failure is
    /// classified; the store is dropped before returning.
    fn call<R>(
        &self,
        policy: &Policy,
        limits: &Limits,
        now: i64,
        seed: [u8; 32],
        history: History,
        f: impl FnOnce(&mut Store<Sandbox>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<(R, Vec<LogLine>), EvalError> {
        // Declared before the store, so the slot is freed after the store is.
        let _permit = self.slots.as_ref().map(|slots| slots.acquire());
        let started = Instant::now();
        let mut store = self.store(limits, now, seed, history);

        let result = policy
            .pre
            .instantiate(&mut store)
            .and_then(|instance| f(&mut store, &instance));
        match result {
            Ok(answer) => Ok((answer, take_logs(store.data_mut()))),
            Err(error) => Err(fail(
                policy,
                classify(&error, store.data_mut(), limits, started.elapsed()),
            )),
        }
    }

    /// A fresh store with its limits armed.
    pub(super) fn store(
        &self,
        limits: &Limits,
        now: i64,
        seed: [u8; 32],
        history: History,
    ) -> Store<Sandbox> {
        let sandbox = Sandbox::new(limits, self.options.memory_cap(), now, seed, history);
        let mut store = Store::new(&self.engine, sandbox);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(Ticker::ticks_for(limits.deadline));
        store.epoch_deadline_trap();
        store
    }
}

/// What an `evaluate` call sends, computed from its input.
pub(super) struct Prepared {
    /// The virtual "now", in nanoseconds.
    pub now: i64,
    /// Seeds the guest's random bytes: the same evaluation replays exactly.
    /// Only a guest importing WASI can read it; for the others it is the
    /// policy's hash, unhashed (a sha256 per call saved).
    pub seed: [u8; 32],
    /// The observation as a WIT record of the policy's contract version.
    pub observation: WitObservation,
}

impl Prepared {
    pub fn new(
        policy_sha256: [u8; 32],
        imports_wasi: bool,
        version: ContractVersion,
        input: &EvaluationInput<'_>,
    ) -> Self {
        let now = convert::nanos(input.now);
        let seed = if imports_wasi {
            let mut seed = Sha256::new();
            seed.update(policy_sha256);
            seed.update(now.to_le_bytes());
            seed.update(input.observation.dataset.namespace.as_bytes());
            seed.update([0]);
            seed.update(input.observation.dataset.name.as_bytes());
            seed.update([0]);
            seed.update(input.config.as_bytes());
            seed.finalize().into()
        } else {
            policy_sha256
        };
        Prepared {
            now,
            seed,
            observation: WitObservation::new(input.observation, version),
        }
    }
}

/// Checks and converts the answer of a call that returned.
pub(super) fn finish(
    answer: Result<Vec<bindings::Measurement>, bindings::PolicyError>,
    logs: Vec<LogLine>,
    listed: &[String],
    limits: &Limits,
    started: Instant,
) -> Result<Evaluation, EvalErrorKind> {
    let measurements = answer.map_err(|e| guest_error(e, limits))?;
    contract::check_measurements(&measurements, listed, limits)?;
    let measurements: Vec<model::Measurement> =
        measurements.into_iter().map(convert::measurement).collect();
    contract::check_sums(&measurements)?;
    Ok(Evaluation {
        measurements,
        logs,
        duration: started.elapsed(),
    })
}

pub(super) fn fail(policy: &Policy, kind: EvalErrorKind) -> EvalError {
    EvalError {
        policy: policy.label.clone(),
        slo: None,
        kind,
    }
}

pub(super) fn take_logs(state: &mut Sandbox) -> Vec<LogLine> {
    let mut logs: Vec<LogLine> = state
        .log
        .lines
        .drain(..)
        .map(|line| LogLine {
            level: line.level.into(),
            message: line.message,
        })
        .collect();
    let Some((stdout, stderr)) = state.stdio() else {
        return logs;
    };
    for (pipe, level, name) in [
        (stdout, PolicyLevel::Info, "stdout"),
        (stderr, PolicyLevel::Warn, "stderr"),
    ] {
        let (text, dropped) = pipe.take();
        logs.extend(text.lines().map(|l| LogLine {
            level,
            message: format!("{name}: {l}"),
        }));
        if dropped > 0 {
            logs.push(LogLine {
                level: PolicyLevel::Warn,
                message: format!("{name}: {dropped} more bytes dropped"),
            });
        }
    }
    logs
}

pub(super) fn classify(
    error: &wasmtime::Error,
    state: &mut Sandbox,
    limits: &Limits,
    elapsed: Duration,
) -> EvalErrorKind {
    if let Some(requested) = state.limiter.memory_refused {
        return EvalErrorKind::MemoryLimit {
            limit: state.limiter.memory_bytes(),
            requested,
        };
    }
    if let Some(flood) = error.downcast_ref::<LogFlood>() {
        return EvalErrorKind::LogFlood { limit: flood.limit };
    }
    if let Some(unavailable) = error.downcast_ref::<HistoryError>() {
        return EvalErrorKind::Host(unavailable.to_string());
    }
    let (mut stderr, _) = state
        .stdio()
        .map_or((String::new(), 0), |(_, stderr)| stderr.take());
    // A guest without WASI reports its panic through `panic-bytes` (the
    // SDK's hook), or, built with an SDK before it, through `log`.
    let panic = std::mem::take(&mut state.log.panic);
    stderr.push_str(&String::from_utf8_lossy(&panic));
    if let Some(line) = state
        .log
        .lines
        .iter()
        .find(|l| l.message.contains("panicked at"))
    {
        stderr.push_str(&line.message);
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => EvalErrorKind::Deadline {
            limit: limits.deadline,
            elapsed,
        },
        Some(Trap::StackOverflow) => EvalErrorKind::Trap {
            kind: TrapKind::StackOverflow,
            message: String::new(),
        },
        Some(Trap::UnreachableCodeReached) => match panic_message(&stderr) {
            Some(message) => EvalErrorKind::Trap {
                kind: TrapKind::Panic,
                message,
            },
            None => EvalErrorKind::Trap {
                kind: TrapKind::Unreachable,
                message: String::new(),
            },
        },
        Some(trap) => EvalErrorKind::Trap {
            kind: TrapKind::Other,
            message: trap.to_string(),
        },
        // Not a trap: instantiation or lifting failed, e.g. a list pointer out of bounds.
        None => EvalErrorKind::Trap {
            kind: TrapKind::Other,
            message: format!("{error:#}"),
        },
    }
}

/// The panic message Rust's std printed to stderr, if any.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at")?;
    let text: String = stderr[start..]
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    Some(super::sandbox::truncate(text, 512))
}

fn guest_error(error: bindings::PolicyError, limits: &Limits) -> EvalErrorKind {
    let cap = |m: String| super::sandbox::truncate(m, limits.log_line_bytes.max(256));
    EvalErrorKind::Guest(match error {
        bindings::PolicyError::InvalidConfig(m) => GuestError::InvalidConfig(cap(m)),
        bindings::PolicyError::MissingMetadata(m) => GuestError::MissingMetadata(cap(m)),
        bindings::PolicyError::Internal(m) => GuestError::Internal(cap(m)),
    })
}
