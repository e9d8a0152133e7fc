//! Every way loading or calling a policy can fail, as typed errors that name
//! the policy (and the SLO, when there is one).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use thiserror::Error;

/// The stable name of each way evaluating an SLO can fail, as error records,
/// `/metrics` outcomes and the CLI's `error[CODE]` show it. This is the one
/// table of them: every code is written here and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// [`GuestError::InvalidConfig`].
    InvalidConfig,
    /// [`GuestError::MissingMetadata`].
    MissingMetadata,
    /// [`GuestError::Internal`].
    PolicyError,
    /// [`EvalErrorKind::Trap`].
    Trap,
    /// [`EvalErrorKind::Deadline`].
    Deadline,
    /// [`EvalErrorKind::MemoryLimit`].
    MemoryLimit,
    /// [`EvalErrorKind::OutputTooLarge`].
    OutputTooLarge,
    /// [`EvalErrorKind::LogFlood`].
    LogFlood,
    /// [`EvalErrorKind::InvalidOutput`].
    InvalidOutput,
    /// [`EvalErrorKind::Host`], [`LoadErrorKind::CompileFailed`].
    HostFailure,
    /// [`EvalErrorKind::Poisoned`].
    SessionPoisoned,
    /// [`LoadErrorKind::NotAComponent`].
    NotAComponent,
    /// [`LoadErrorKind::Corrupt`].
    Corrupt,
    /// [`LoadErrorKind::InterfaceMismatch`].
    InterfaceMismatch,
    /// [`LoadErrorKind::UnknownBuiltin`].
    UnknownBuiltin,
    /// [`LoadErrorKind::PoolLimit`].
    PoolLimit,
    /// [`LoadErrorKind::CompileLimit`].
    CompileLimit,
    /// The scheduler had no observation of the dataset to evaluate.
    NoObservation,
    /// The policy measured, but not the SLO's SLI.
    NoMeasurement,
}

impl ErrorCode {
    /// Every code, for reading them back.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::InvalidConfig,
        ErrorCode::MissingMetadata,
        ErrorCode::PolicyError,
        ErrorCode::Trap,
        ErrorCode::Deadline,
        ErrorCode::MemoryLimit,
        ErrorCode::OutputTooLarge,
        ErrorCode::LogFlood,
        ErrorCode::InvalidOutput,
        ErrorCode::HostFailure,
        ErrorCode::SessionPoisoned,
        ErrorCode::NotAComponent,
        ErrorCode::Corrupt,
        ErrorCode::InterfaceMismatch,
        ErrorCode::UnknownBuiltin,
        ErrorCode::PoolLimit,
        ErrorCode::CompileLimit,
        ErrorCode::NoObservation,
        ErrorCode::NoMeasurement,
    ];

    /// The code as stored and shown, e.g. `deadline`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::MissingMetadata => "missing_metadata",
            ErrorCode::PolicyError => "policy_error",
            ErrorCode::Trap => "trap",
            ErrorCode::Deadline => "deadline",
            ErrorCode::MemoryLimit => "memory_limit",
            ErrorCode::OutputTooLarge => "output_too_large",
            ErrorCode::LogFlood => "log_flood",
            ErrorCode::InvalidOutput => "invalid_output",
            ErrorCode::HostFailure => "host_failure",
            ErrorCode::SessionPoisoned => "session_poisoned",
            ErrorCode::NotAComponent => "not_a_component",
            ErrorCode::Corrupt => "corrupt",
            ErrorCode::InterfaceMismatch => "interface_mismatch",
            ErrorCode::UnknownBuiltin => "unknown_builtin",
            ErrorCode::PoolLimit => "pool_limit",
            ErrorCode::CompileLimit => "compile_limit",
            ErrorCode::NoObservation => "no_observation",
            ErrorCode::NoMeasurement => "no_measurement",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A text that is no [`ErrorCode`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0:?} is not an evaluation error code")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, UnknownErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_string()))
    }
}

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
    /// The component needs more of something than a pool slot holds.
    #[error(
        "pool limit: the component holds {found} {what}, over the pooling allocator's \
         limit of {limit}; raise `{setting}` in the `[engine]` table of dataslo.toml"
    )]
    PoolLimit {
        /// What is counted, e.g. `core instances`.
        what: &'static str,
        /// How many the component holds (or how large it is).
        found: u64,
        /// The limit in force.
        limit: u64,
        /// The `[engine]` setting that raises the limit, e.g. `core_instances_per_component`.
        setting: &'static str,
    },
    /// Compiling the component would pass, or passed, a compile limit.
    #[error(
        "compile limit: {found}, over `{setting}` = {limit} (the `[engine]` table of dataslo.toml)"
    )]
    CompileLimit {
        /// The `[engine]` setting, e.g. `compile_memory_mib`.
        setting: &'static str,
        /// Its value in force, as the setting is written.
        limit: String,
        /// What passed it.
        found: String,
    },
    /// The compile child failed for a reason that is no limit: it could
    /// not start, or crashed.
    #[error("compiler failure: {0}")]
    CompileFailed(String),
}

impl LoadErrorKind {
    /// The kind's code; a failed `describe()` has the code of its failure.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            LoadErrorKind::NotAComponent => ErrorCode::NotAComponent,
            LoadErrorKind::Corrupt(_) => ErrorCode::Corrupt,
            LoadErrorKind::InterfaceMismatch { .. } => ErrorCode::InterfaceMismatch,
            LoadErrorKind::UnknownBuiltin { .. } => ErrorCode::UnknownBuiltin,
            LoadErrorKind::Describe(kind) => kind.error_code(),
            LoadErrorKind::PoolLimit { .. } => ErrorCode::PoolLimit,
            LoadErrorKind::CompileLimit { .. } => ErrorCode::CompileLimit,
            LoadErrorKind::CompileFailed(_) => ErrorCode::HostFailure,
        }
    }
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

    /// The kind's code.
    pub fn error_code(&self) -> ErrorCode {
        self.kind.error_code()
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
        self.error_code().as_str()
    }

    /// The kind's code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            EvalErrorKind::Guest(GuestError::InvalidConfig(_)) => ErrorCode::InvalidConfig,
            EvalErrorKind::Guest(GuestError::MissingMetadata(_)) => ErrorCode::MissingMetadata,
            EvalErrorKind::Guest(GuestError::Internal(_)) => ErrorCode::PolicyError,
            EvalErrorKind::Trap { .. } => ErrorCode::Trap,
            EvalErrorKind::Deadline { .. } => ErrorCode::Deadline,
            EvalErrorKind::MemoryLimit { .. } => ErrorCode::MemoryLimit,
            EvalErrorKind::OutputTooLarge { .. } => ErrorCode::OutputTooLarge,
            EvalErrorKind::LogFlood { .. } => ErrorCode::LogFlood,
            EvalErrorKind::InvalidOutput(_) => ErrorCode::InvalidOutput,
            EvalErrorKind::Host(_) => ErrorCode::HostFailure,
            EvalErrorKind::Poisoned(_) => ErrorCode::SessionPoisoned,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_reads_back_as_itself_and_no_two_share_a_name() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse(), Ok(code));
            assert!(seen.insert(code.as_str()), "{code} twice");
        }
        assert_eq!(
            "timeout".parse::<ErrorCode>(),
            Err(UnknownErrorCode("timeout".into()))
        );
    }

    #[test]
    fn a_failed_describe_has_the_code_of_its_failure() {
        let kind = LoadErrorKind::Describe(EvalErrorKind::Deadline {
            limit: Duration::from_millis(100),
            elapsed: Duration::from_millis(120),
        });
        assert_eq!(kind.error_code(), ErrorCode::Deadline);
        assert_eq!(
            LoadErrorKind::NotAComponent.error_code().as_str(),
            "not_a_component"
        );
    }
}
