//! Group commit across callers: concurrent flushes share one `sled` flush.
//! A caller waits for a flush that began after its call; while one runs,
//! later callers queue for the next, which then covers all of them.

use super::LedgerError;
use std::sync::{Condvar, Mutex, PoisonError};

#[derive(Default)]
struct Generations {
    /// Flush requests so far.
    requested: u64,
    /// Requests covered by a finished flush.
    completed: u64,
    /// Whether a flush is running.
    running: bool,
    /// The error of the last flush, for the callers it covered.
    failed: Option<(u64, String)>,
}

/// Shared by every `Ledger` handle of one database.
#[derive(Default)]
pub struct GroupCommit {
    state: Mutex<Generations>,
    done: Condvar,
}

impl GroupCommit {
    /// Returns once a flush that started after this call has finished.
    pub fn flush(&self, db: &sled::Db) -> Result<(), LedgerError> {
        let mut g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        g.requested += 1;
        let ticket = g.requested;
        loop {
            if g.completed >= ticket {
                return match &g.failed {
                    Some((upto, error)) if *upto >= ticket => {
                        Err(LedgerError::Storage(error.clone()))
                    }
                    _ => Ok(()),
                };
            }
            if !g.running {
                g.running = true;
                let covers = g.requested;
                drop(g);
                let result = db.flush();
                g = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                g.running = false;
                g.completed = covers;
                g.failed = result.err().map(|e| (covers, e.to_string()));
                self.done.notify_all();
                continue;
            }
            g = self.done.wait(g).unwrap_or_else(PoisonError::into_inner);
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
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let commits = Arc::new(GroupCommit::default());
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
        assert_eq!((g.requested, g.completed, g.running), (160, 160, false));
    }
}
