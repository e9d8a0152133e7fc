//! Tenants: their token hashes, and their scheduler over their own ledger trees.

use crate::config::{Config, TenantConfig};
use crate::executor::Executor;
use crate::ledger::Ledger;
use crate::registry::Registry;
use crate::runtime::Runtime;
use crate::scheduler::{Armed, Known, Scheduler};
use crate::slo::{Slo, load_files, parse_text};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
    /// Its uploaded policies.
    pub registry: Registry,
    pub(super) runtime: Arc<Runtime>,
    /// The SLOs of its config files; those sent to the API come on top.
    pub(super) config_slos: Vec<Slo>,
    pub(super) max_policies: Option<usize>,
    /// One change of SLOs or policies at a time.
    pub(super) changes: Mutex<()>,
}

/// Everything the handlers share.
pub struct AppState {
    /// The tenants.
    pub tenants: Vec<Arc<Tenant>>,
    /// Largest uploaded policy, in bytes.
    pub max_policy_bytes: usize,
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
    /// Validates `config`, then builds every tenant of it over the ledger
    /// database in its data directory.
    pub fn from_config(
        config: &Config,
        runtime: Arc<Runtime>,
        ledger: &Ledger,
    ) -> Result<Self, TenantError> {
        config.validate().map_err(|e| TenantError {
            tenant: "(config)".into(),
            message: e.to_string(),
        })?;
        let executor = Executor::with_workers(config.workers)
            .map(Arc::new)
            .map_err(|e| TenantError {
                tenant: "(all)".into(),
                message: format!("cannot start the evaluation threads: {e}"),
            })?;
        let mut tenants = Vec::new();
        for t in &config.tenants {
            let mut tenant = Tenant::new(
                t,
                runtime.clone(),
                ledger,
                config.history_depth,
                config.data_dir.join("policies").join(&t.name),
            )?;
            tenant.scheduler.set_executor(executor.clone());
            tenants.push(Arc::new(tenant));
        }
        Ok(AppState {
            tenants,
            max_policy_bytes: config.server.max_policy_bytes,
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

    /// Loads the tenant's uploaded policies (from `policy_dir`) and SLOs (its
    /// config files, then those sent to the API) and arms them; its ledger
    /// trees are its own. `config` is one of a validated [`Config`]'s.
    pub fn new(
        config: &TenantConfig,
        runtime: Arc<Runtime>,
        ledger: &Ledger,
        history_depth: usize,
        policy_dir: PathBuf,
    ) -> Result<Self, TenantError> {
        let fail = |message: String| TenantError {
            tenant: config.name.clone(),
            message,
        };
        let catalog = load_files(&config.slo_files);
        if let Some(e) = catalog.errors.first() {
            return Err(fail(e.to_string()));
        }
        let ledger = ledger
            .for_tenant(&config.name)
            .map_err(|e| fail(e.to_string()))?;
        let registry = Registry::open(&runtime, ledger.clone(), policy_dir)
            .map_err(|e| fail(e.to_string()))?;
        let config_slos = catalog.slos;
        let mut slos = config_slos.clone();
        let uploaded = ledger.uploaded_slos().map_err(|e| fail(e.to_string()))?;
        if let Some(text) = uploaded {
            let sent = parse_text(&text, UPLOADED_SLOS_FILE);
            if let Some(e) = sent.errors.first() {
                return Err(fail(e.to_string()));
            }
            slos.extend(sent.slos);
        }
        let limits = &config.limits;
        let mut call_limits = runtime.limits().clone();
        if let Some(deadline) = limits.deadline {
            call_limits.deadline = deadline;
        }
        if let Some(mib) = limits.memory_mib {
            call_limits.memory_bytes = mib << 20;
        }
        let (armed, errors) =
            Armed::with_known(&runtime, slos, Some(Path::new(".")), registry.known());
        if let Some(e) = errors.first() {
            return Err(fail(e.to_string()));
        }
        if let Some(max) = limits.max_policies {
            let used = distinct_policies(&armed);
            if used > max {
                return Err(fail(format!(
                    "its SLOs use {used} policies, over its limit of {max}"
                )));
            }
        }
        // `Config::validate` refuses a rate of 0.
        let rate = limits
            .requests_per_second
            .and_then(std::num::NonZeroU32::new)
            .map(|rps| governor::RateLimiter::direct(governor::Quota::per_second(rps)));
        let mut scheduler = Scheduler::new(runtime.clone(), ledger, armed, history_depth);
        scheduler.set_limits(call_limits);
        Ok(Tenant {
            name: config.name.clone(),
            token_hashes: config.token_sha256.clone(),
            scheduler,
            max_body_bytes: limits.max_body_bytes,
            rate,
            registry,
            runtime,
            config_slos,
            max_policies: limits.max_policies,
            changes: Mutex::new(()),
        })
    }
}

/// The file name errors give for SLOs sent to `PUT /v1/slos`.
pub const UPLOADED_SLOS_FILE: &str = "PUT /v1/slos";

/// How many distinct policies `armed` use.
pub(super) fn distinct_policies(armed: &[Armed]) -> usize {
    armed
        .iter()
        .map(|a| a.slo.policy.spec.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// The policies `armed` use, by spec, to arm SLOs again without loading them again.
pub(super) fn known_from(armed: &[Armed]) -> Known {
    armed
        .iter()
        .map(|a| (a.slo.policy.spec.clone(), a.policy.clone()))
        .collect()
}
