//! Host bindings generated from `wit/`, the single source of the contract.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "policy",
    imports: { default: trappable },
});

pub use self::dataslo::policy::types::{
    ColumnMetrics, DatasetId, Level, Measurement, Observation, PolicyError, PolicyInfo, Quantile,
    SchemaField,
};
