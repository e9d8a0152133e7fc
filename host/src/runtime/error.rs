//! Every way loading or calling a policy can fail, as typed errors that name
//! the policy (and the SLO, when there is one).

use std::fmt;
use std::time::Duration;
use thiserror::Error;

/// A policy could not be loaded. Nothing was run except, at most, `describe`.
#[derive(Debug, Error)]
#[error("policy `{policy}`: {kind}")]
pub struct LoadError {
    /// The policy as the user named it (a path or `builtin:NAME`).
    pub policy: String,
    /// What went wrong.
    pub kind: LoadErrorKind,
}

/// Why a policy could not be loaded.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LoadErrorKind {
    /// The bytes are a core WebAssembly module.
    #[error(
        "not a component: this is a core WebAssembly module; build the policy for \
         wasm32-wasip2 (or wrap the module with `wasm-tools component new`)"
    )]
    NotAComponent,
    /// The bytes are not valid WebAssembly (random, truncated, damaged).
    #[error("corrupt bytes: {0}")]
    Corrupt(String),
    /// A component, but not of the world this host implements.
    #[error("interface mismatch: expected {expected}, found {found}")]
    InterfaceMismatch {
        /// What this host implements.
        expected: String,
        /// What the component has.
        found: String,
    },
    /// `builtin:NAME` names no built-in.
    #[error("no such built-in; the built-ins are: {available}")]
    UnknownBuiltin {
        /// The built-ins' names, comma-separated.
        available: String,
    },
    /// `describe()` failed or answered nonsense.
    #[error("describe() failed: {0}")]
    Describe(EvalErrorKind),
}

/// A call into a policy failed. The next call is unaffected.
#[derive(Debug, Error)]
pub struct EvalError {
    /// The policy called.
    pub policy: String,
    /// The SLO it was called for, if any.
    pub slo: Option<String>,
    /// What went wrong.
    pub kind: EvalErrorKind,
}

impl EvalError {
    /// Names the SLO this call was made for.
    pub fn for_slo(mut self, slo: impl Into<String>) -> Self {
        self.slo = Some(slo.into());
        self
    }

    /// A short stable name of the kind, for metrics and JSON.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy `{}`", self.policy)?;
        if let Some(slo) = &self.slo {
            write!(f, " (SLO `{slo}`)")?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EvalErrorKind {
    /// The policy answered with its own typed error.
    #[error("{0}")]
    Guest(GuestError),
    /// The guest trapped: a panic, `unreachable`, a stack overflow, a bad access.
    #[error("trap ({kind}){}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Trap {
        /// Which trap.
        kind: TrapKind,
        /// The panic message or wasmtime's description.
        message: String,
    },
    /// The call ran past its CPU deadline and was interrupted.
    #[error("deadline exceeded: stopped after {elapsed:?} (limit {limit:?})")]
    Deadline {
        /// The deadline in force.
        limit: Duration,
        /// How long it had run when stopped.
        elapsed: Duration,
    },
    /// The guest tried to grow its memory past the limit.
    #[error("memory limit exceeded: asked for {requested} bytes, limit {limit}")]
    MemoryLimit {
        /// The limit in force.
        limit: usize,
        /// The size the guest asked to grow to.
        requested: usize,
    },
    /// The answer is larger than allowed.
    #[error("output too large: {size} bytes, limit {limit}")]
    OutputTooLarge {
        /// Bytes in the answer.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The guest called `log` more often than allowed.
    #[error("log flood: more than {limit} log lines")]
    LogFlood {
        /// The limit in force.
        limit: usize,
    },
    /// The answer breaks the contract (e.g. good > total).
    #[error("invalid output: {0}")]
    InvalidOutput(String),
    /// The host could not set up the call (e.g. instantiation failed).
    #[error("host failure: {0}")]
    Host(String),
    /// A [`super::Session`] whose instance an earlier call broke; it runs
    /// nothing more. Carries that call's error.
    #[error("session poisoned: an earlier call failed ({0}); start a new session")]
    Poisoned(String),
}

impl EvalErrorKind {
    /// A short stable name of the kind.
    pub fn code(&self) -> &'static str {
        match self {
            EvalErrorKind::Guest(GuestError::InvalidConfig(_)) => "invalid_config",
            EvalErrorKind::Guest(GuestError::MissingMetadata(_)) => "missing_metadata",
            EvalErrorKind::Guest(GuestError::Internal(_)) => "policy_error",
            EvalErrorKind::Trap { .. } => "trap",
            EvalErrorKind::Deadline { .. } => "deadline",
            EvalErrorKind::MemoryLimit { .. } => "memory_limit",
            EvalErrorKind::OutputTooLarge { .. } => "output_too_large",
            EvalErrorKind::LogFlood { .. } => "log_flood",
            EvalErrorKind::InvalidOutput(_) => "invalid_output",
            EvalErrorKind::Host(_) => "host_failure",
            EvalErrorKind::Poisoned(_) => "session_poisoned",
        }
    }
}

/// The policy's own `policy-error`, on the host side.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GuestError {
    /// The config was refused.
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    /// The observation lacks the named field.
    #[error("missing metadata: {0}")]
    MissingMetadata(String),
    /// Any other failure inside the policy.
    #[error("policy error: {0}")]
    Internal(String),
}

/// Which trap a guest hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    /// A Rust panic (or another language's abort): `unreachable` after a message.
    Panic,
    /// `unreachable` with no panic message.
    Unreachable,
    /// The guest's call stack overflowed.
    StackOverflow,
    /// Any other trap (bad memory access, division by zero, ...).
    Other,
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrapKind::Panic => "panic",
            TrapKind::Unreachable => "unreachable",
            TrapKind::StackOverflow => "stack overflow",
            TrapKind::Other => "other",
        })
    }
}
