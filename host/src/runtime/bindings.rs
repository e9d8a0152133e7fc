//! Host bindings generated from `wit/`, the single source of the contract:
//! one module per contract version the host loads. The host's code speaks
//! the newest; [`super::instance`] converts to and from the older ones.

/// `dataslo:policy@0.2.0`, from `wit/policy.wit`.
pub mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "policy",
        imports: { default: trappable },
    });
}

/// `dataslo:policy@0.1.0`, from `wit/v0.1.0/policy.wit`.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "policy",
        imports: { default: trappable },
    });
}

pub use v0_2::dataslo::policy::types::{
    Assertion, ColumnMetrics, DatasetId, Level, Measurement, Observation, PolicyError, PolicyInfo,
    Quantile, RunState, SchemaField,
};
