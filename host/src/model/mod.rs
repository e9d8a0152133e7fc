//! The host's data model: observations and measurements, and their JSON forms,
//! and the policy references SLOs and commands name policies with.
//!
//! Plain data with serde. It depends on nothing else in the crate; everything
//! else (runtime, CLI, later the ledger and server) depends on it.

mod batch;
mod error;
mod measurement;
mod observation;
mod policy_ref;
mod text;

pub use batch::parse_observations;
pub use error::ModelError;
pub use measurement::Measurement;
pub use text::escape_control;
pub use observation::{
    ColumnMetrics, DatasetRef, Observation, Quantiles, SchemaField, parse_history,
    parse_observation, quantiles_from_map,
};
pub use policy_ref::{PolicyRef, PolicyRefError};
