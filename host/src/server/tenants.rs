//! Tenants: their token hashes, and their scheduler over their own ledger trees.

use crate::config::{Config, TenantConfig};
use crate::ledger::Ledger;
use crate::runtime::Runtime;
use crate::scheduler::{Armed, Scheduler};
use crate::slo::load_files;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

/// One tenant of the service.
pub struct Tenant {
    /// Its name.
    pub name: String,
    token_hashes: Vec<String>,
    /// Its scheduler, over its own ledger trees.
    pub scheduler: Scheduler,
    /// Its largest request body, if smaller than the server's.
    pub max_body_bytes: Option<usize>,
    rate: Option<governor::DefaultDirectRateLimiter>,
}

/// Everything the handlers share.
pub struct AppState {
    /// The tenants.
    pub tenants: Vec<Arc<Tenant>>,
    /// sha256 hashes of the admin tokens.
    pub admin_token_hashes: Vec<String>,
}

/// A tenant that cannot be set up.
#[derive(Debug, thiserror::Error)]
#[error("tenant `{tenant}`: {message}")]
pub struct TenantError {
    /// The tenant.
    pub tenant: String,
    /// What is wrong.
    pub message: String,
}

/// The sha256 of a token, in hex, as stored in the config.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl AppState {
    /// Builds every tenant of `config` over the ledger database in its data directory.
    pub fn from_config(
        config: &Config,
        runtime: Arc<Runtime>,
        ledger: &Ledger,
    ) -> Result<Self, TenantError> {
        let mut tenants = Vec::new();
        for t in &config.tenants {
            tenants.push(Arc::new(Tenant::new(
                t,
                runtime.clone(),
                ledger,
                config.history_depth,
            )?));
        }
        let bad_hash = |h: &String| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit());
        if config.server.admin_token_sha256.iter().any(bad_hash) {
            return Err(TenantError {
                tenant: "(admin)".into(),
                message: "server.admin_token_sha256 holds sha256 hashes: 64 hex digits each".into(),
            });
        }
        Ok(AppState {
            tenants,
            admin_token_hashes: config.server.admin_token_sha256.clone(),
        })
    }

    /// Whether `token` is an admin token.
    pub fn is_admin(&self, token: &str) -> bool {
        let hash = token_hash(token);
        self.admin_token_hashes
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&hash))
    }

    /// The tenant whose token this is.
    pub fn tenant_for_token(&self, token: &str) -> Option<Arc<Tenant>> {
        let hash = token_hash(token);
        self.tenants
            .iter()
            .find(|t| t.token_hashes.iter().any(|h| h.eq_ignore_ascii_case(&hash)))
            .cloned()
    }
}

impl Tenant {
    /// Whether a request may go ahead now under the tenant's rate.
    pub fn admit(&self) -> bool {
        self.rate.as_ref().is_none_or(|r| r.check().is_ok())
    }

    /// Loads the tenant's SLOs and arms them; its ledger trees are its own.
    pub fn new(
        config: &TenantConfig,
        runtime: Arc<Runtime>,
        ledger: &Ledger,
        history_depth: usize,
    ) -> Result<Self, TenantError> {
        let fail = |message: String| TenantError {
            tenant: config.name.clone(),
            message,
        };
        let valid_name = !config.name.is_empty()
            && config
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_name {
            return Err(fail(
                "a tenant name is lowercase letters, digits and dashes".into(),
            ));
        }
        if config
            .token_sha256
            .iter()
            .any(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(fail(
                "token_sha256 holds sha256 hashes: 64 hex digits each".into(),
            ));
        }
        let catalog = load_files(&config.slo_files);
        if let Some(e) = catalog.errors.first() {
            return Err(fail(e.to_string()));
        }
        let limits = &config.limits;
        if let Some(max) = limits.max_policies {
            let distinct: std::collections::BTreeSet<_> = catalog
                .slos
                .iter()
                .map(|s| s.policy.spec.as_str())
                .collect();
            if distinct.len() > max {
                return Err(fail(format!(
                    "its SLOs use {} policies, over its limit of {max}",
                    distinct.len()
                )));
            }
        }
        let mut call_limits = runtime.limits().clone();
        if let Some(deadline) = limits.deadline {
            call_limits.deadline = deadline;
        }
        if let Some(mib) = limits.memory_mib {
            call_limits.memory_bytes = mib << 20;
        }
        let (armed, errors) = Armed::all(&runtime, catalog.slos, Path::new("."));
        if let Some(e) = errors.first() {
            return Err(fail(e.to_string()));
        }
        let rate = match limits.requests_per_second {
            Some(rps) => {
                let rps = std::num::NonZeroU32::new(rps)
                    .ok_or_else(|| fail("requests_per_second must be at least 1".into()))?;
                Some(governor::RateLimiter::direct(governor::Quota::per_second(
                    rps,
                )))
            }
            None => None,
        };
        let ledger = ledger
            .for_tenant(&config.name)
            .map_err(|e| fail(e.to_string()))?;
        let mut scheduler = Scheduler::new(runtime, ledger, armed, history_depth);
        scheduler.set_limits(call_limits);
        Ok(Tenant {
            name: config.name.clone(),
            token_hashes: config.token_sha256.clone(),
            scheduler,
            max_body_bytes: limits.max_body_bytes,
            rate,
        })
    }
}
