//! Typed config: JSON text into the author's struct.

use crate::{Policy, PolicyError};

/// Parses `json` into the policy's config and runs its [`Policy::validate`].
///
/// A serde failure becomes [`PolicyError::InvalidConfig`] carrying serde's
/// message, which names the field and position.
pub fn parse_config<P: Policy>(json: &str) -> Result<P, PolicyError> {
    let config: P = serde_json::from_str(json)
        .map_err(|e| PolicyError::InvalidConfig(format!("{}: {e}", P::NAME)))?;
    config.validate()?;
    Ok(config)
}
