//! The host's data model: observations and measurements, and their JSON forms;
//! the names of alerts and of the notifiers they go to, as stored.
//!
//! Plain data with serde. It depends on nothing else in the crate; everything
//! else (runtime, CLI, ledger, alert, server) depends on it.

mod alert;
mod error;
mod measurement;
mod notifier;
mod observation;

pub use alert::{AlertName, AlertWindow, NameError, Severity, TransitionState};
pub use error::ModelError;
pub use measurement::Measurement;
pub use notifier::Notifier;
pub use observation::{
    ColumnMetrics, DatasetRef, Observation, Quantiles, SchemaField, parse_history,
    parse_observation, quantiles_from_map,
};
