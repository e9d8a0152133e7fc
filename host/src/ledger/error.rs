use thiserror::Error;

/// A ledger failure.
#[derive(Debug, Error)]
pub enum LedgerError {
    /// The database could not be opened.
    #[error("cannot open the ledger in {dir}: {error}")]
    Open {
        /// The data directory.
        dir: String,
        /// sled's message.
        error: String,
    },
    /// sled failed.
    #[error("ledger storage error: {0}")]
    Storage(String),
    /// A stored value failed its checksum or did not decode.
    #[error("corrupt ledger record in {tree} at key {key}: {reason}")]
    Corrupt {
        /// Which tree.
        tree: String,
        /// The key, hex.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

impl From<sled::Error> for LedgerError {
    fn from(e: sled::Error) -> Self {
        LedgerError::Storage(e.to_string())
    }
}
