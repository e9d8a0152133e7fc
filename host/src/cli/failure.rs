use crate::model::escape_control;
use crate::runtime::{EvalError, LoadError, LoadErrorKind};
use crate::service::ServiceError;
use std::fmt;

/// Why a command failed, and the exit code that says so: 2 for bad arguments
/// or unreadable input, 1 for a policy that failed to load or evaluate.
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments or unreadable input (exit 2).
    Input(String),
    /// The policy failed (exit 1); the code is the error kind's stable name.
    Policy {
        /// Stable name of the error kind.
        code: &'static str,
        /// The typed error, rendered.
        message: String,
    },
    /// A failure the command's own output already reports (exit 1), such as
    /// `slo validate`'s invalid documents or `test`'s failed cases: with
    /// `--format json` that report is the whole of stdout, so no error
    /// object follows it.
    Reported {
        /// Stable name of the failure.
        code: &'static str,
        /// What failed, in one line.
        message: String,
    },
}

impl Failure {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Policy { .. } | Failure::Reported { .. } => 1,
        }
    }

    /// The stable name of the failure's kind: `input` for bad arguments or
    /// unreadable input, else the policy's error code.
    pub fn kind(&self) -> &str {
        match self {
            Failure::Input(_) => "input",
            Failure::Policy { code, .. } | Failure::Reported { code, .. } => code,
        }
    }

    /// The failure's message, without the `error:` prefix.
    pub fn message(&self) -> &str {
        match self {
            Failure::Input(message)
            | Failure::Policy { message, .. }
            | Failure::Reported { message, .. } => message,
        }
    }

    /// The failure as `--format json` prints it on stdout: one line,
    /// `{"error": {"kind": ..., "message": ...}}`; none when the command's
    /// own report already carries it.
    pub fn json_line(&self) -> Option<String> {
        if let Failure::Reported { .. } = self {
            return None;
        }
        let value = serde_json::json!({
            "error": {"kind": self.kind(), "message": self.message()}
        });
        Some(value.to_string())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Input(message) => write!(f, "error: {message}"),
            Failure::Policy { code, message } | Failure::Reported { code, message } => {
                write!(f, "error[{code}]: {message}")
            }
        }
    }
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        // Every problem on its own line first; the last line says how many.
        // They quote SLO files and what policies answered.
        match &e {
            ServiceError::InvalidSlos { errors } => {
                for error in errors {
                    eprintln!("invalid   {}", escape_control(error));
                }
            }
            ServiceError::Arm { errors, .. } => {
                for error in errors {
                    eprintln!("error     {}", escape_control(&error.to_string()));
                }
            }
            _ => {}
        }
        Failure::Input(e.to_string())
    }
}

impl From<EvalError> for Failure {
    fn from(e: EvalError) -> Self {
        Failure::Policy {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        // Naming a built-in that does not exist is a bad argument.
        if let LoadErrorKind::UnknownBuiltin { .. } = e.kind {
            return Failure::Input(e.to_string());
        }
        Failure::Policy {
            code: e.kind.error_code().as_str(),
            message: e.to_string(),
        }
    }
}
