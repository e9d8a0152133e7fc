use thiserror::Error;

/// A ledger failure.
#[derive(Debug, Clone, Error)]
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
    /// The disk is too full to open the ledger safely.
    #[error(
        "the filesystem holding the ledger in {dir} has {free} bytes free; dataslo opens a \
         ledger only with at least 2 MiB free (sled could damage it): free some space and retry"
    )]
    NoRoomToOpen {
        /// The ledger's directory.
        dir: String,
        /// Bytes free.
        free: u64,
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
    /// The device under the ledger is full, or a write to it failed: this
    /// process writes nothing more (see [`super::StorageHealth`]).
    #[error("{cause}; writes are refused until dataslo is restarted with the storage fixed")]
    StorageFailed {
        /// Whether the device is full (or over its quota).
        full: bool,
        /// What failed.
        cause: String,
    },
    /// A flush has not finished: the device does not answer.
    #[error("a ledger flush has been running for {seconds} s: the storage does not answer")]
    FlushStalled {
        /// Seconds since the flush began.
        seconds: u64,
    },
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
        match &e {
            sled::Error::Io(io) if super::health::is_full(io) => LedgerError::StorageFailed {
                full: true,
                cause: format!("no space left on the ledger's device ({io})"),
            },
            _ => LedgerError::Storage(e.to_string()),
        }
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

    /// Whether the storage failed (full, broken or not answering), rather
    /// than a record being wrong: the caller may retry elsewhere or later.
    pub fn is_storage_failure(&self) -> bool {
        matches!(
            self,
            LedgerError::StorageFailed { .. } | LedgerError::FlushStalled { .. }
        )
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
