//! Write [dataslo](https://example.invalid/dataslo) policies in Rust.
//!
//! A policy is a config struct plus one [`Policy`] impl, exported with
//! [`export_policy!`]. The SDK parses the JSON config into the struct (a bad
//! config becomes [`PolicyError::InvalidConfig`] with serde's message), hands the
//! policy an [`Observation`] and a [`Context`] (the evaluation's "now", history
//! and logging), and turns its answer into the WIT contract,
//! `dataslo:policy@0.2.0` (`wit/policy.wit`). An observation carries the
//! data-quality [`Assertion`]s checked on it and the producing run's
//! [`RunState`] when its source knows them; "now" comes through the contract,
//! so a policy reads no clock.
//!
//! ```
//! use dataslo_guest::prelude::*;
//!
//! /// Good when the table has at least `min_rows` rows.
//! #[derive(Deserialize)]
//! #[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
//! struct MinRows {
//!     min_rows: u64,
//! }
//!
//! impl Policy for MinRows {
//!     const NAME: &'static str = "min-rows";
//!     const DESCRIPTION: &'static str = "Good when the row count is at least min_rows.";
//!     const SLIS: &'static [&'static str] = &["min_rows"];
//!     const CONFIG_SCHEMA: &'static str = r#"{"type":"object","required":["min_rows"],
//!         "properties":{"min_rows":{"type":"integer","minimum":0}}}"#;
//!
//!     fn evaluate(&self, obs: &Observation, _ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
//!         let rows = obs.require_row_count()?;
//!         let ok = rows >= self.min_rows;
//!         Ok(vec![Measurement::check("min_rows", ok, format!("{rows} rows, need {}", self.min_rows))
//!             .with_value(rows as f64)])
//!     }
//! }
//!
//! export_policy!(MinRows);
//! # fn main() {}
//! ```
//!
//! Policy logic is tested natively, without Wasm, through [`testing::Harness`].
//!
//! This crate may depend on nothing of the host; the host never depends on it.
#![deny(missing_docs)]

extern crate self as dataslo_guest;

mod config;
mod context;
mod duration;
#[doc(hidden)]
pub mod export;
#[cfg(all(target_arch = "wasm32", not(target_os = "wasi")))]
mod heap;
mod measurement;
mod observation;
mod ratio;
pub mod testing;
mod text;
mod time;

pub use config::parse_config;
pub use context::{Context, History};
pub use duration::HumanDuration;
pub use ratio::{fraction, ratio_or};
pub use text::DetailText;
pub use time::{Timestamp, format_timestamp, parse_timestamp};
pub use types::{
    Assertion, ColumnMetrics, DatasetId, Level, Measurement, Observation, PolicyError, PolicyInfo,
    Quantile, RunState, SchemaField,
};

/// Re-exported so that authors need no dependency of their own; derive with
/// `#[serde(crate = "dataslo_guest::serde")]`.
pub use serde;
/// Re-exported for building and reading JSON, e.g. in config schemas or tests.
pub use serde_json;

/// Everything a policy usually needs, in one `use`.
pub mod prelude {
    pub use crate::{
        Assertion, ColumnMetrics, Context, DetailText, HumanDuration, Level, Measurement,
        Observation, Policy, PolicyError, RunState, SchemaField, Timestamp, export_policy,
        fraction, ratio_or,
    };
    pub use serde::Deserialize;
}

/// The WIT bindings. Not part of the API: use the re-exports above.
#[doc(hidden)]
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "policy",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "dataslo_guest::bindings",
        runtime_path: "dataslo_guest::export::rt",
        additional_derives: [PartialEq],
    });
}

use bindings::dataslo::policy::types;

/// Without WASI, std's allocator would grow memory on every fresh instance
/// (see `heap.rs`). A policy built for `wasm32-unknown-unknown` must not set
/// a global allocator of its own.
#[cfg(all(target_arch = "wasm32", not(target_os = "wasi")))]
#[global_allocator]
static HEAP: heap::Heap = heap::Heap::new();

/// A dataslo policy. Implement it on the config struct.
///
/// The config struct is deserialised from the SLO's JSON config, so a field it
/// lacks or a value of the wrong type is reported as invalid config before any
/// evaluation runs.
pub trait Policy: serde::de::DeserializeOwned {
    /// Short name, e.g. `freshness`.
    const NAME: &'static str;
    /// The policy's own version.
    const VERSION: &'static str = "0.1.0";
    /// One or two sentences for humans.
    const DESCRIPTION: &'static str;
    /// The SLI names `evaluate` may emit.
    const SLIS: &'static [&'static str];
    /// A JSON Schema of the config, as JSON text.
    const CONFIG_SCHEMA: &'static str = r#"{"type":"object"}"#;

    /// Checks what serde cannot, e.g. that `min <= max`. Runs once at load time.
    fn validate(&self) -> Result<(), PolicyError> {
        Ok(())
    }

    /// Measures one observation.
    fn evaluate(&self, obs: &Observation, ctx: &Context) -> Result<Vec<Measurement>, PolicyError>;
}

/// Exports a [`Policy`] as the component's `dataslo:policy/check` interface.
///
/// Use it once per crate, at the top level: `export_policy!(MyConfig);`.
#[macro_export]
macro_rules! export_policy {
    ($policy:ty) => {
        #[doc(hidden)]
        struct __DatasloExport;

        impl $crate::bindings::exports::dataslo::policy::check::Guest for __DatasloExport {
            fn describe() -> $crate::PolicyInfo {
                $crate::export::describe::<$policy>()
            }
            fn validate_config(config: String) -> Result<(), $crate::PolicyError> {
                $crate::export::validate_config::<$policy>(&config)
            }
            fn evaluate(
                config: String,
                observation: $crate::Observation,
                now: $crate::Timestamp,
            ) -> Result<Vec<$crate::Measurement>, $crate::PolicyError> {
                $crate::export::evaluate::<$policy>(&config, observation, now)
            }
        }

        // Native builds (unit tests) must not export the WIT symbols: their
        // names are not valid in a native shared object.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_world!(__DatasloExport with_types_in $crate::bindings);

        // Natively nothing calls the export; this keeps the policy "used".
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn(String, $crate::Observation, $crate::Timestamp) -> Result<Vec<$crate::Measurement>, $crate::PolicyError> =
            <__DatasloExport as $crate::bindings::exports::dataslo::policy::check::Guest>::evaluate;
    };
}
