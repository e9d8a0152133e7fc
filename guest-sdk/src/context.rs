//! What a policy may ask of its host during an evaluation: the time, history
//! and logging. In Wasm they are the host's imports; in native tests, a
//! [`History`] the harness gives.

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
    history: Source<'a>,
}

/// Where history and log lines go. The host's imports are called directly,
/// not through a `dyn History`, so a policy that never asks for history or
/// logs does not import them: a component whose imports take no strings or
/// lists is one core instance instead of three, and instantiates faster.
enum Source<'a> {
    Host,
    Given(&'a dyn History),
}

impl<'a> Context<'a> {
    /// A context at `now` over `history`. Policies receive one; tests build one
    /// through [`crate::testing::Harness`].
    pub fn new(now: Timestamp, history: &'a dyn History) -> Self {
        Context {
            now,
            history: Source::Given(history),
        }
    }

    /// The context of an evaluation the host called.
    pub(crate) fn host(now: Timestamp) -> Self {
        Context {
            now,
            history: Source::Host,
        }
    }

    /// The evaluation's "now" in nanoseconds since the epoch. In Wasm the host
    /// passes it to `evaluate`, so evaluations replay exactly.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Up to `limit` earlier observations of this dataset, newest first.
    pub fn history(&self, limit: u32) -> Vec<Observation> {
        match self.history {
            Source::Host => crate::bindings::dataslo::policy::host::history(limit),
            Source::Given(history) => history.recent(limit),
        }
    }

    /// The newest earlier observation, if any.
    pub fn previous(&self) -> Option<Observation> {
        self.history(1).into_iter().next()
    }

    /// Writes a log line. The host bounds how much a policy may log.
    pub fn log(&self, level: Level, message: &str) {
        match self.history {
            Source::Host => crate::bindings::dataslo::policy::host::log(level, message),
            Source::Given(history) => history.log(level, message),
        }
    }
}
