//! A reused instance: one policy instantiated once, `evaluate` called on it
//! many times.
//!
//! The trade-off: **no isolation between the calls of one session**. Whatever
//! a call leaves in the guest's memory (globals, caches, leaks, a corrupted
//! heap) is there for the next one, and its memory only grows, so the memory
//! limit bounds the whole session rather than each call. Use it only for one
//! SLO's own repeated evaluations, or for benchmarks; [`Runtime::evaluate`]
//! (a fresh instance per call) stays the default.
//!
//! What each call still gets, as in [`Runtime::evaluate`]: its own deadline
//! (the epoch deadline is re-armed), virtual clock, random seed, history and
//! logs, and the same checks on its answer. A call that fails inside wasmtime
//! (a trap, the deadline, the memory limit, a log flood) poisons the session:
//! later calls refuse with [`EvalErrorKind::Poisoned`] instead of running on
//! an instance left in an unknown state.

use super::engine::Runtime;
use super::error::{EvalError, EvalErrorKind};
use super::evaluate::{self, Evaluation, EvaluationInput, Prepared};
use super::history::no_history;
use super::instance::{ContractVersion, Instance};
use super::limits::Limits;
use super::loader::Policy;
use super::pool::Permit;
use super::sandbox::Sandbox;
use super::ticker::Ticker;
use std::time::Instant;
use wasmtime::Store;

/// One policy instance kept for many [`Session::evaluate`] calls. See the
/// module documentation for what it gives up.
pub struct Session {
    label: String,
    sha256: [u8; 32],
    imports_wasi: bool,
    /// The SLIs `describe` listed, which answers must stay within.
    slis: Vec<String>,
    limits: Limits,
    store: Store<Sandbox>,
    instance: Instance,
    version: ContractVersion,
    /// Why the session is unusable, once a call broke its instance.
    poisoned: Option<EvalErrorKind>,
    /// The pool slot its instance holds, counted like a call's. Declared
    /// after the store, so it is released after the store is dropped.
    _slot: Option<Permit>,
}

impl Runtime {
    /// Instantiates `policy` once for many calls, with `limits` (the runtime's
    /// defaults when `None`) for every call of the session.
    pub fn session(&self, policy: &Policy, limits: Option<&Limits>) -> Result<Session, EvalError> {
        let limits = limits.unwrap_or(&self.limits).clone();
        let slot = self.slots.as_ref().map(|slots| slots.acquire());
        let started = Instant::now();
        let mut store = self.store(&limits, 0, policy.sha256, no_history());
        let instance = policy.pre.instantiate(&mut store).map_err(|error| {
            let kind = evaluate::classify(&error, store.data_mut(), &limits, started.elapsed());
            evaluate::fail(policy, kind)
        })?;
        Ok(Session {
            label: policy.label.clone(),
            sha256: policy.sha256,
            imports_wasi: policy.imports_wasi,
            slis: policy.info.slis.clone(),
            limits,
            store,
            instance,
            version: policy.pre.version(),
            poisoned: None,
            _slot: slot,
        })
    }
}

impl Session {
    /// Runs `evaluate` on the session's instance.
    ///
    /// `input.limits` must be `None` or equal to the session's limits: the
    /// memory limit is a property of the instance, fixed when it was created.
    pub fn evaluate(&mut self, input: EvaluationInput<'_>) -> Result<Evaluation, EvalError> {
        if let Some(cause) = &self.poisoned {
            return Err(self.fail(EvalErrorKind::Poisoned(cause.to_string())));
        }
        if input.limits.is_some_and(|l| *l != self.limits) {
            return Err(self.fail(EvalErrorKind::Host(
                "a session's limits are fixed when it is created; \
                 give none per call, or start another session"
                    .into(),
            )));
        }
        let call = Prepared::new(self.sha256, self.imports_wasi, self.version, &input);
        self.store
            .data_mut()
            .reset(call.now, call.seed, input.history);
        self.store
            .set_epoch_deadline(Ticker::ticks_for(self.limits.deadline));

        let started = Instant::now();
        let result =
            self.instance
                .evaluate(&mut self.store, input.config, &call.observation, call.now);
        match result {
            Ok(answer) => {
                let logs = evaluate::take_logs(self.store.data_mut());
                evaluate::finish(answer, logs, &self.slis, &self.limits, started)
                    .map_err(|kind| self.fail(kind))
            }
            Err(error) => {
                let kind = evaluate::classify(
                    &error,
                    self.store.data_mut(),
                    &self.limits,
                    started.elapsed(),
                );
                self.poisoned = Some(kind.clone());
                Err(self.fail(kind))
            }
        }
    }

    /// Whether an earlier call broke the instance, so every call now refuses.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    /// The limits every call of this session runs with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn fail(&self, kind: EvalErrorKind) -> EvalError {
        EvalError {
            policy: self.label.clone(),
            slo: None,
            kind,
        }
    }
}
