//! The SLO with the other policy and config, armed as `run` arms it.

use super::{ReplayError, Request};
use crate::model::PolicyRef;
use crate::runtime::Known;
use crate::scheduler::{Armed, Gate};
use crate::slo::PinnedPolicy;

/// The SLO with the other policy and config, armed: its policy loaded (a
/// pin only holds for the SLO's own policy) and the config validated by it.
pub(super) fn arm(request: &Request<'_>) -> Result<Armed, ReplayError> {
    let mut slo = request.slo.clone();
    if let Some(spec) = request.policy {
        let parsed: PolicyRef = spec.parse().map_err(|error| ReplayError::PolicyRef {
            spec: spec.to_string(),
            error,
        })?;
        slo.policy = PinnedPolicy {
            spec: parsed,
            sha256: None,
        };
    }
    if let Some(config) = request.policy_config {
        serde_json::from_str::<serde_json::Value>(config).map_err(|e| {
            ReplayError::ConfigNotJson {
                error: e.to_string(),
            }
        })?;
        slo.config = config.to_string();
    }
    if let PolicyRef::Uploaded(name) = &slo.policy.spec {
        return Err(ReplayError::Uploaded {
            slo: slo.name.clone(),
            name: name.clone(),
        });
    }
    // Replay runs the policy as `run` would: only when `run` would trust it.
    let gate = request
        .trust
        .map(|check| Gate::new(check, Some(request.files), None));
    let policy = Armed::policy_for(
        request.runtime,
        &slo,
        Some(request.files),
        &mut Known::new(),
        gate.as_ref(),
    )
    .map_err(|source| ReplayError::Policy {
        slo: slo.name.clone(),
        source,
    })?;
    Ok(Armed::new(slo, policy))
}
