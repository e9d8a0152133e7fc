//! Glue between [`crate::export_policy!`] and the WIT exports. Not part of the API.

use crate::context::HostHistory;
use crate::{
    Context, Measurement, Observation, Policy, PolicyError, PolicyInfo, Timestamp, parse_config,
};

/// The wit-bindgen runtime, reached through this crate so authors need no
/// dependency on wit-bindgen.
pub use wit_bindgen::rt;

/// `describe` for `P`.
pub fn describe<P: Policy>() -> PolicyInfo {
    info::<P>()
}

/// The [`PolicyInfo`] of `P`, natively too.
pub fn info<P: Policy>() -> PolicyInfo {
    PolicyInfo {
        name: P::NAME.into(),
        version: P::VERSION.into(),
        description: P::DESCRIPTION.into(),
        slis: P::SLIS.iter().map(|s| (*s).into()).collect(),
        config_schema: P::CONFIG_SCHEMA.into(),
    }
}

/// `validate-config` for `P`.
pub fn validate_config<P: Policy>(config: &str) -> Result<(), PolicyError> {
    parse_config::<P>(config).map(drop)
}

/// `evaluate` for `P`, at the `now` the host passes through the contract.
pub fn evaluate<P: Policy>(
    config: &str,
    obs: Observation,
    now: Timestamp,
) -> Result<Vec<Measurement>, PolicyError> {
    let policy = parse_config::<P>(config)?;
    let ctx = Context::new(now, &HostHistory);
    policy.evaluate(&obs, &ctx)
}
