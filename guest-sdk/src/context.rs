//! What a policy may ask of its host during an evaluation: the time, history
//! and logging. Behind a trait so the same code runs in Wasm and in native tests.

use crate::{Level, Observation, Timestamp};

/// Earlier observations of the dataset being evaluated.
pub trait History {
    /// Up to `limit` earlier observations, newest first.
    fn recent(&self, limit: u32) -> Vec<Observation>;
    /// Writes a log line.
    fn log(&self, level: Level, message: &str);
}

/// The evaluation's context: its "now", the dataset's history and a log.
pub struct Context<'a> {
    now: Timestamp,
    history: &'a dyn History,
}

impl<'a> Context<'a> {
    /// A context at `now` over `history`. Policies receive one; tests build one
    /// through [`crate::testing::Harness`].
    pub fn new(now: Timestamp, history: &'a dyn History) -> Self {
        Context { now, history }
    }

    /// The evaluation's "now" in nanoseconds since the epoch. In Wasm the host
    /// passes it to `evaluate`, so evaluations replay exactly.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Up to `limit` earlier observations of this dataset, newest first.
    pub fn history(&self, limit: u32) -> Vec<Observation> {
        self.history.recent(limit)
    }

    /// The newest earlier observation, if any.
    pub fn previous(&self) -> Option<Observation> {
        self.history.recent(1).into_iter().next()
    }

    /// Writes a log line. The host bounds how much a policy may log.
    pub fn log(&self, level: Level, message: &str) {
        self.history.log(level, message);
    }
}

/// The history import of the running component.
pub(crate) struct HostHistory;

impl History for HostHistory {
    fn recent(&self, limit: u32) -> Vec<Observation> {
        crate::bindings::dataslo::policy::host::history(limit)
    }
    fn log(&self, level: Level, message: &str) {
        crate::bindings::dataslo::policy::host::log(level, message);
    }
}
