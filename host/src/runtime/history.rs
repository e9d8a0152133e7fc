//! Earlier observations for the `history` import, read only when a policy
//! asks: most policies never do, and reading and decoding up to a hundred
//! stored observations per evaluation was most of its cost.

use crate::model::Observation;
use std::borrow::Cow;
use std::sync::{Arc, LazyLock};
use thiserror::Error;

/// Where a call's history comes from.
pub trait HistorySource: Send + Sync {
    /// Up to `n` observations of the dataset before the evaluated one,
    /// newest first.
    fn newest(&self, n: usize) -> Result<Cow<'_, [Observation]>, HistoryError>;
}

/// The history could not be read. The call fails as a host failure: the
/// policy did nothing wrong.
#[derive(Debug, Clone, Error)]
#[error("history unavailable: {0}")]
pub struct HistoryError(pub String);

/// A call's history, shared with the store that runs it.
pub type History = Arc<dyn HistorySource>;

/// Observations already in memory, newest first.
impl HistorySource for Vec<Observation> {
    fn newest(&self, n: usize) -> Result<Cow<'_, [Observation]>, HistoryError> {
        Ok(Cow::Borrowed(&self[..n.min(self.len())]))
    }
}

/// No history at all.
pub fn no_history() -> History {
    static NONE: LazyLock<History> = LazyLock::new(|| Arc::new(Vec::new()));
    NONE.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_observation;

    #[test]
    fn loaded_history_gives_at_most_what_is_asked() {
        let text =
            r#"{"dataset":{"namespace":"n","name":"d"},"observed_at":"2026-01-01T00:00:00Z"}"#;
        let obs = parse_observation(text, "t").unwrap();
        let history = vec![obs.clone(), obs.clone(), obs];
        assert_eq!(history.newest(2).unwrap().len(), 2);
        assert_eq!(history.newest(10).unwrap().len(), 3);
        assert!(no_history().newest(5).unwrap().is_empty());
    }
}
