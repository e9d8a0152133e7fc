//! The host's data model: observations and measurements, and their JSON forms;
//! the policy references SLOs and commands name policies with; the names of
//! alerts and of the notifiers they go to, as stored; the time sanity rule
//! every entry point applies; untrusted text escaped for each medium it
//! leaves by (terminal, log record, HTML, JSON).
//!
//! Plain data with serde. It depends on nothing else in the crate; everything
//! else (runtime, CLI, ledger, alert, server) depends on it.

mod alert;
mod batch;
mod error;
mod field_error;
mod json;
mod measurement;
mod notifier;
mod observation;
mod oci_ref;
mod op;
mod policy_ref;
mod shared_text;
mod text;
mod time_sanity;

pub use alert::{AlertName, AlertWindow, NameError, Severity, TransitionState};
pub use batch::parse_observations;
pub use error::ModelError;
pub use field_error::{FieldError, from_json, from_value, join as join_field};
pub use json::{escape_json, number_read_back, to_json, to_json_pretty};
pub use measurement::{Measurement, SumOverflow, sum_events};
pub use notifier::Notifier;
pub use observation::{
    Assertion, ColumnMetrics, DatasetRef, Observation, Quantiles, RunState, SchemaField,
    parse_history, parse_observation, parse_observation_at, quantiles_from_map,
};
pub use oci_ref::{OCI_SCHEME, OciRef, OciRefError, OciTarget};
pub use op::Op;
pub use policy_ref::{PolicyRef, PolicyRefError};
pub use shared_text::SharedText;
pub use text::{escape_control, escape_html, escape_log_record, is_unsafe_char};
pub use time_sanity::{TimeFields, TimeSanity};
