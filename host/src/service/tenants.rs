//! The tenants of one process and who may act for them: `serve` has those of
//! its config, `run` the one tenant `default`.

use super::clock::ClockSettings;
use super::error::ServiceError;
use super::slo_set;
use super::tenant::{Shared, Tenant, token_hash};
use crate::config::{Config, TenantConfig};
use crate::executor::Executor;
use crate::ledger::{DEFAULT_TENANT, Ledger, LedgerError, StorageHealth};
use crate::runtime::Runtime;
use std::sync::Arc;

/// Every tenant of a process, over one ledger database.
pub struct Service {
    /// The tenants, in config order.
    pub tenants: Vec<Arc<Tenant>>,
    admin_token_hashes: Vec<String>,
    ledger: Ledger,
}

/// Opens the ledger database in the config's data directory (default tenant's trees).
pub fn open_ledger(config: &Config) -> Result<Ledger, ServiceError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|error| ServiceError::Io {
        what: format!("cannot create {}", config.data_dir.display()),
        error,
    })?;
    Ok(Ledger::open(
        &config.data_dir.join("ledger"),
        DEFAULT_TENANT,
        config.history_depth,
    )?
    .with_observation_retention(config.observation_retention))
}

/// The sandbox, with the config's limits and engine.
pub fn open_runtime(config: &Config) -> Result<Arc<Runtime>, ServiceError> {
    Runtime::with_engine(config.runtime_limits(), config.engine_options())
        .map(Arc::new)
        .map_err(|e| ServiceError::Runtime(e.to_string()))
}

fn shared(config: &Config, runtime: Arc<Runtime>) -> Result<Shared, ServiceError> {
    let executor = Executor::with_workers(config.workers).map_err(|error| ServiceError::Io {
        what: "cannot start the evaluation threads".into(),
        error,
    })?;
    Ok(Shared {
        runtime,
        executor: Some(Arc::new(executor)),
        history_depth: config.history_depth,
        policy_dir: config.data_dir.join("policies"),
        clock: ClockSettings::from_config(config),
        max_future_skew: config.max_future_skew,
        site: config.agent.as_ref().map(|a| a.site.clone()),
        oci: crate::oci::Oci::new(
            Some(config.data_dir.join("oci")),
            config.oci.insecure_registries.clone(),
        ),
    })
}

impl Service {
    /// `serve`'s tenants, from `config`, over `ledger`'s database.
    pub fn from_config(
        config: &Config,
        runtime: Arc<Runtime>,
        ledger: &Ledger,
    ) -> Result<Self, ServiceError> {
        config.validate()?;
        let shared = shared(config, runtime)?;
        let tenants = config
            .tenants
            .iter()
            .map(|t| Tenant::build(t, &shared, ledger).map(Arc::new))
            .collect::<Result<_, _>>()?;
        Ok(Service {
            tenants,
            admin_token_hashes: config.server.admin_token_sha256.clone(),
            ledger: ledger.clone(),
        })
    }

    /// `run`'s one tenant, `default`: the config's SLO files, or, when there
    /// are none, those the ledger saw last. It must have at least one SLO.
    pub fn single(config: &Config) -> Result<Self, ServiceError> {
        Self::single_with(config, false)
    }

    /// As [`Service::single`]; with `may_be_empty`, with no SLO at all (an
    /// agent waiting for its first SLO set).
    pub fn single_with(config: &Config, may_be_empty: bool) -> Result<Self, ServiceError> {
        config.validate()?;
        let ledger = open_ledger(config)?;
        let slos = slo_set::load(config, &ledger)?;
        if slos.is_empty() && !may_be_empty {
            return Err(ServiceError::NoSlos);
        }
        let shared = shared(config, open_runtime(config)?)?;
        let tenant = TenantConfig {
            name: DEFAULT_TENANT.into(),
            // An agent's HTTP endpoints take the tokens of its `[agent]`.
            token_sha256: config
                .agent
                .as_ref()
                .map(|a| a.token_sha256.clone())
                .unwrap_or_default(),
            slo_files: config.slo_files.clone(),
            limits: Default::default(),
            trusted_keys: config.trusted_keys.clone(),
            revoked_keys: config.revoked_keys.clone(),
        };
        let tenant = Tenant::with_slos(&tenant, &shared, ledger.clone(), slos.clone(), slos)?;
        Ok(Service {
            tenants: vec![Arc::new(tenant)],
            admin_token_hashes: Vec::new(),
            ledger,
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
            .find(|t| t.has_token_hash(&hash))
            .cloned()
    }

    /// Every tenant's clock pass, every `every`, on the blocking pool, one
    /// tenant after another; never returns (abort the task to stop it).
    pub async fn run_clock(self: Arc<Self>, every: std::time::Duration) {
        let mut interval = tokio::time::interval(every);
        let mut failed = false;
        loop {
            interval.tick().await;
            // No pass touches a ledger whose storage failed; said once.
            match self.storage().error() {
                Some(error) if !failed => {
                    tracing::error!(%error, "clock passes stop: the ledger's storage failed");
                    failed = true;
                    continue;
                }
                Some(_) => continue,
                None if failed => {
                    tracing::info!("clock passes resume: the ledger's storage answers again");
                    failed = false;
                }
                None => {}
            }
            for tenant in self.tenants.clone() {
                let name = tenant.name.clone();
                let work =
                    tokio::task::spawn_blocking(move || tenant.clock_pass(jiff::Timestamp::now()));
                match work.await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => tracing::error!(tenant = %name, %error, "clock pass failed"),
                    Err(error) => tracing::error!(tenant = %name, %error, "clock pass panicked"),
                }
            }
        }
    }

    /// Whether the ledger's storage works (every tenant shares it), known
    /// without calling sled.
    pub fn storage(&self) -> StorageHealth {
        self.ledger.health()
    }

    /// Makes everything every tenant wrote durable (one database, one flush).
    pub fn flush(&self) -> Result<(), LedgerError> {
        self.ledger.flush()
    }
}
