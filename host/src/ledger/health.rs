//! Whether the storage under the ledger still works, known without calling
//! sled. After a failed write (a full disk) sled 0.34 keeps the error and
//! returns it from every later write; some reads then loop in its log
//! writer, so a process that saw the failure must not touch the database
//! again: it reports the failure and refuses work until it is restarted.

use super::LedgerError;

/// The storage under a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageHealth {
    /// Writes and flushes succeed.
    Ok,
    /// A write failed; nothing more is written by this process.
    Failed {
        /// Whether the device is full (or over its quota).
        full: bool,
        /// What failed, naming the ledger's directory.
        cause: String,
    },
    /// A flush has been running this long: the device does not answer.
    Stalled {
        /// Seconds since the flush began.
        seconds: u64,
    },
}

impl StorageHealth {
    /// The error a caller gets instead of an operation, unless healthy.
    pub fn error(&self) -> Option<LedgerError> {
        match self {
            StorageHealth::Ok => None,
            StorageHealth::Failed { full, cause } => Some(LedgerError::StorageFailed {
                full: *full,
                cause: cause.clone(),
            }),
            StorageHealth::Stalled { seconds } => {
                Some(LedgerError::FlushStalled { seconds: *seconds })
            }
        }
    }
}

/// Whether `e` says the device is full or over quota.
pub(super) fn is_full(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(e.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
}

/// sled's poisoned state, read from the `sled::Config` the database was
/// opened with: it shares the error cell with the running database.
pub(super) fn sled_failure(config: &sled::Config, dir: &str) -> StorageHealth {
    match config.global_error() {
        Ok(()) => StorageHealth::Ok,
        Err(sled::Error::Io(e)) if is_full(&e) => StorageHealth::Failed {
            full: true,
            cause: format!("no space left on the device of the ledger {dir}"),
        },
        Err(e) => StorageHealth::Failed {
            full: false,
            cause: format!("writing the ledger {dir} failed: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_device_is_told_from_other_failures() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert!(is_full(&full));
        // sled clones its stored error keeping only the kind.
        let cloned = std::io::Error::new(full.kind(), format!("{full:?}"));
        assert!(is_full(&cloned));
        assert!(!is_full(&std::io::Error::from_raw_os_error(libc::EIO)));
    }

    #[test]
    fn a_healthy_database_reports_ok() {
        let dir = tempfile::tempdir().unwrap();
        let config = sled::Config::new().path(dir.path());
        let _db = config.open().unwrap();
        assert_eq!(sled_failure(&config, "x"), StorageHealth::Ok);
        assert!(StorageHealth::Ok.error().is_none());
    }
}
