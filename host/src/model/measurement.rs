use serde::{Deserialize, Serialize};

/// One SLI value from one evaluation, as printed and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The SLI's name.
    pub sli: String,
    /// Good events.
    pub good: u64,
    /// All events.
    pub total: u64,
    /// The raw figure, if the policy gave one.
    pub value: Option<f64>,
    /// A human explanation.
    pub detail: String,
}
