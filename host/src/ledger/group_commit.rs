//! Group commit across callers: concurrent flushes share one `sled` flush.
//! A caller waits for a flush that began after its call; while one runs,
//! later callers queue for the next, which then covers all of them.
//!
//! It also knows whether the storage still works ([`StorageHealth`]): after a
//! failed write no flush is started, and a caller does not wait for a flush
//! that the device never finishes.

use super::LedgerError;
use super::health::{StorageHealth, sled_failure};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A flush running this long counts as stalled: its waiters give up.
const FLUSH_STALL: Duration = Duration::from_secs(20);
/// How often a waiter looks at the storage's health.
const WAIT_STEP: Duration = Duration::from_millis(100);

#[derive(Default)]
struct Generations {
    /// Flush requests so far.
    requested: u64,
    /// Requests covered by a finished flush.
    completed: u64,
    /// When the running flush began, if one runs.
    running: Option<Instant>,
    /// The error of the last flush, for the callers it covered.
    failed: Option<(u64, String)>,
}

/// Shared by every `Ledger` handle of one database.
pub struct GroupCommit {
    state: Mutex<Generations>,
    done: Condvar,
    /// The config the database was opened with: it shares sled's error cell.
    config: sled::Config,
    /// The ledger's directory, for messages.
    dir: String,
}

impl GroupCommit {
    /// For the database opened with `config`, in `dir`.
    pub fn new(config: sled::Config, dir: String) -> Self {
        GroupCommit {
            state: Mutex::default(),
            done: Condvar::new(),
            config,
            dir,
        }
    }

    /// Flush requests answered so far, for the tests.
    #[cfg(test)]
    pub(super) fn answered(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .completed
    }

    /// Whether the storage works, without calling sled.
    pub fn health(&self) -> StorageHealth {
        let failure = sled_failure(&self.config, &self.dir);
        if failure != StorageHealth::Ok {
            return failure;
        }
        let g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match g.running {
            Some(since) if since.elapsed() >= FLUSH_STALL => StorageHealth::Stalled {
                seconds: since.elapsed().as_secs(),
            },
            _ => StorageHealth::Ok,
        }
    }

    /// Returns once a flush that started after this call has finished, or
    /// at once with the storage's failure.
    pub fn flush(&self, db: &sled::Db) -> Result<(), LedgerError> {
        if let Some(e) = sled_failure(&self.config, &self.dir).error() {
            return Err(e);
        }
        let mut g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        g.requested += 1;
        let ticket = g.requested;
        loop {
            if g.completed >= ticket {
                let error = match &g.failed {
                    Some((upto, error)) if *upto >= ticket => error.clone(),
                    _ => return Ok(()),
                };
                drop(g);
                // A full device says so, rather than sled's wording of it.
                let failure = sled_failure(&self.config, &self.dir).error();
                return Err(failure.unwrap_or(LedgerError::Storage(error)));
            }
            match g.running {
                None => {
                    g.running = Some(Instant::now());
                    let covers = g.requested;
                    drop(g);
                    let result = db.flush();
                    g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                    g.running = None;
                    g.completed = covers;
                    g.failed = result.err().map(|e| (covers, e.to_string()));
                    self.done.notify_all();
                    continue;
                }
                // sled may never wake a flush whose write failed: wait in
                // steps, and give up once the storage is known to fail.
                Some(since) => {
                    drop(g);
                    if let Some(e) = sled_failure(&self.config, &self.dir).error() {
                        return Err(e);
                    }
                    if since.elapsed() >= FLUSH_STALL {
                        return Err(LedgerError::FlushStalled {
                            seconds: since.elapsed().as_secs(),
                        });
                    }
                    g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                    if g.running.is_some() && g.completed < ticket {
                        g = self
                            .done
                            .wait_timeout(g, WAIT_STEP)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn concurrent_callers_all_return_after_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let config = sled::Config::new().path(dir.path());
        let db = config.open().unwrap();
        let commits = Arc::new(GroupCommit::new(config, "test".into()));
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let (db, commits) = (db.clone(), commits.clone());
                std::thread::spawn(move || {
                    for i in 0..20u8 {
                        db.insert([t, i], &[1]).unwrap();
                        commits.flush(&db).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let g = commits.state.lock().unwrap();
        assert_eq!((g.requested, g.completed), (160, 160));
        assert!(g.running.is_none());
        drop(g);
        assert_eq!(commits.health(), StorageHealth::Ok);
    }
}
