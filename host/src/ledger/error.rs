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
    /// Another process (`run`, `serve`) has the ledger open: one process
    /// holds a ledger at a time.
    #[error("the ledger in {dir} is held by another dataslo process (run or serve)")]
    Busy {
        /// The ledger's directory.
        dir: String,
    },
    /// The ledger was written in an older layout: `dataslo ledger migrate`
    /// brings it to this build's.
    #[error(
        "ledger {dir} is at layout {found}, this dataslo reads layout {reads}: run `dataslo ledger migrate --data-dir {data_dir}`"
    )]
    OlderLayout {
        /// The ledger's directory.
        dir: String,
        /// The data directory it lives in, for `--data-dir`.
        data_dir: String,
        /// The ledger's layout.
        found: u32,
        /// The layout this build reads.
        reads: u32,
    },
    /// The ledger was written by a newer dataslo; layouts only migrate up.
    #[error(
        "ledger {dir} is at layout {found}, written by a newer dataslo: this dataslo reads layout {reads}, and `dataslo ledger migrate` cannot migrate a ledger down"
    )]
    NewerLayout {
        /// The ledger's directory.
        dir: String,
        /// The ledger's layout.
        found: u32,
        /// The layout this build reads.
        reads: u32,
    },
    /// The stored layout version is not one.
    #[error("ledger {dir} has an unreadable layout version (hex {value})")]
    UnreadableLayout {
        /// The ledger's directory.
        dir: String,
        /// The stored value, hex.
        value: String,
    },
    /// There is no ledger to migrate.
    #[error("no ledger in {dir}: nothing to migrate")]
    NoLedger {
        /// Where it was looked for.
        dir: String,
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

impl LedgerError {
    /// A stored value that is not of its key's form.
    pub(super) fn bad_value(tree: &str, key: &[u8], reason: &str) -> Self {
        LedgerError::Corrupt {
            tree: tree.into(),
            key: hex::encode(key),
            reason: reason.into(),
        }
    }

    /// A stored key that is not of its tree's form.
    pub(super) fn bad_key(tree: &str, key: &[u8]) -> Self {
        LedgerError::Corrupt {
            tree: tree.into(),
            key: hex::encode(key),
            reason: "the key does not parse".into(),
        }
    }
}
