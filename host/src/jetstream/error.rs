//! What can go wrong between a process and NATS, naming the server, subject
//! or stream.

/// A NATS operation failed.
#[derive(Debug, thiserror::Error)]
pub enum JetStreamError {
    /// The creds file could not be read.
    #[error("cannot read the NATS creds file {file}: {error}")]
    Creds {
        /// The file.
        file: String,
        /// Why.
        error: std::io::Error,
    },
    /// No connection (given up, or refused outright).
    #[error("cannot connect to NATS at {url}: {error}")]
    Connect {
        /// The server.
        url: String,
        /// Why.
        error: String,
    },
    /// The stream or a consumer could not be made or read.
    #[error("JetStream {what}: {error}")]
    Stream {
        /// What was asked, e.g. `stream DATASLO_RECORDS`.
        what: String,
        /// Why.
        error: String,
    },
    /// A bucket central makes is not there yet.
    #[error(
        "{what} does not exist yet: central (`serve` with [nats] url) creates it for its tenants"
    )]
    Absent {
        /// The bucket, e.g. `KV bucket dataslo-slo-sets-acme`.
        what: String,
    },
    /// A publish was not acknowledged.
    #[error("publishing to {subject}: {error}")]
    Publish {
        /// The subject.
        subject: String,
        /// Why.
        error: String,
    },
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
}
