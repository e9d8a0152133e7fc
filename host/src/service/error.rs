//! What can stop a service from being built.

use crate::ledger::LedgerError;
use crate::scheduler::ArmError;

/// A process that cannot start, naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A tenant cannot be set up.
    #[error("tenant `{tenant}`: {message}")]
    Tenant {
        /// The tenant.
        tenant: String,
        /// What is wrong.
        message: String,
    },
    /// Some SLOs cannot be armed; every one is listed.
    #[error(
        "tenant `{tenant}`: {} SLO(s) cannot be armed, first: {}",
        errors.len(),
        errors.first().map(ToString::to_string).unwrap_or_default()
    )]
    Arm {
        /// The tenant.
        tenant: String,
        /// Each SLO's problem.
        errors: Vec<ArmError>,
    },
    /// SLO documents are invalid; every one is listed.
    #[error(
        "{} invalid SLO document(s), first: {}",
        errors.len(),
        errors.first().map(String::as_str).unwrap_or_default()
    )]
    InvalidSlos {
        /// Each document's problem, with its file and field.
        errors: Vec<String>,
    },
    /// `dataslo agent` with a config that has no `[agent]`.
    #[error("agent needs an [agent] section (site, tenant) and [nats] url in the config")]
    NotAnAgent,
    /// A single-machine process was given no SLO.
    #[error("no SLOs: give SLO files, set slo_files in dataslo.toml, or run once with them")]
    NoSlos,
    /// The sandbox could not start.
    #[error("cannot start the sandbox: {0}")]
    Runtime(String),
    /// A folder or the worker threads could not be made.
    #[error("{what}: {error}")]
    Io {
        /// What was being made, e.g. the folder's name.
        what: String,
        /// Why.
        error: std::io::Error,
    },
    /// The config's values do not fit together (a config built in code is
    /// checked as a loaded one is).
    #[error("config: {0}")]
    Config(#[from] crate::config::ValidationError),
    /// The process holding the ledger did not take a handed-over file.
    #[error(
        "no answer for {file} within {waited:?}: is a `dataslo run` running on this data \
         directory? (`serve` takes observations over HTTP: POST /v1/observations)"
    )]
    NoAnswer {
        /// The spool file left for it.
        file: String,
        /// How long we waited.
        waited: std::time::Duration,
    },
    /// The process holding the ledger refused the observations handed over.
    #[error("refused: {reason}")]
    Refused {
        /// Why, naming the file and field.
        reason: String,
    },
    /// The running process's control socket did not answer.
    #[error("asking the process that holds the ledger ({socket}): {reason}")]
    Control {
        /// The socket.
        socket: String,
        /// Why.
        reason: String,
    },
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// NATS failed at the start of a central replica.
    #[error(transparent)]
    JetStream(crate::jetstream::JetStreamError),
    /// A central replica's generated name (`<data_dir>/replica-id`) cannot
    /// be read or kept.
    #[error("the replica name in {file}: {reason}")]
    ReplicaId {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}
