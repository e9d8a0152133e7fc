//! Why a replay cannot be made, naming the SLO, the flag or the file.

use crate::ledger::LedgerError;
use crate::model::PolicyRefError;
use crate::scheduler::ArmFailure;

/// A replay that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// `--slo` names no SLO of the definitions in force.
    #[error("no SLO named {name:?}{}", hint(closest.as_deref(), known))]
    UnknownSlo {
        /// The name given.
        name: String,
        /// The nearest name, when it looks like a typo.
        closest: Option<String>,
        /// Every SLO name, sorted.
        known: Vec<String>,
    },
    /// An SLO file (or a saved one) does not parse.
    #[error("the SLO definitions do not parse: {}", errors.join("; "))]
    InvalidSlos {
        /// One line per problem.
        errors: Vec<String>,
    },
    /// No SLO file was given and the ledger saved none.
    #[error("no SLO definitions: give the SLO files, or run `dataslo run` with them once")]
    NoSlos,
    /// `--policy-config` is not JSON.
    #[error("--policy-config is not JSON: {error}")]
    ConfigNotJson {
        /// The parser's message.
        error: String,
    },
    /// `--policy` is not a policy reference.
    #[error("--policy {spec:?}: {error}")]
    PolicyRef {
        /// As given.
        spec: String,
        /// Why.
        error: PolicyRefError,
    },
    /// An `uploaded:` policy: those live on a server.
    #[error(
        "SLO `{slo}`: policy `uploaded:{name}` lives on a server; give its component file with --policy"
    )]
    Uploaded {
        /// The SLO.
        slo: String,
        /// The upload's name.
        name: String,
    },
    /// The policy does not load, its file is missing, or it refuses the config.
    #[error("SLO `{slo}`: {source}")]
    Policy {
        /// The SLO.
        slo: String,
        /// Why.
        source: ArmFailure,
    },
    /// Nothing to replay: no observation of the dataset is retained in the span.
    #[error(
        "SLO `{slo}`: no observation of {dataset} is retained{} (see observation_retention in docs/configuration.md)",
        since.map(|t| format!(" at or after {t}")).unwrap_or_default()
    )]
    NoObservations {
        /// The SLO.
        slo: String,
        /// Its dataset, `namespace/name`.
        dataset: String,
        /// `--since`, when given.
        since: Option<jiff::Timestamp>,
    },
    /// `--apply` of a replay already applied.
    #[error(
        "--apply: the ledger already holds the series `{series}` (this policy and config were applied before)"
    )]
    AlreadyApplied {
        /// The series' name.
        series: String,
    },
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

fn hint(closest: Option<&str>, known: &[String]) -> String {
    match closest {
        Some(name) => format!("; did you mean {name:?}?"),
        None if known.is_empty() => String::new(),
        None => format!("; known: {}", known.join(", ")),
    }
}
