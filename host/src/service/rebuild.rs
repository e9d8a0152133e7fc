//! `ledger rebuild`: central's ledger of each tenant in scope, filled from
//! the stream `DATASLO_RECORDS` (see docs/distributed.md, "Rebuilding a
//! ledger from the stream"). The stream carries records, not alert history:
//! the alerts start from what the records give now, and notify nobody.

use super::error::ServiceError;
use super::slo_set;
use super::tenants::open_ledger;
use crate::config::{Config, TenantConfig};
use crate::jetstream::{JetStreamError, connect, replay_records, stream::STREAM};
use crate::ledger::{Ledger, LedgerError};
use std::path::PathBuf;

/// Why a rebuild cannot run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// No `[nats] url`.
    #[error("ledger rebuild reads the stream {STREAM}: set [nats] url in the config")]
    NoNats,
    /// An agent's config.
    #[error(
        "ledger rebuild fills central's ledger: an agent's ledger also holds its observations \
         and unpublished records, which the stream does not carry"
    )]
    AgentLedger,
    /// No `[[tenants]]`.
    #[error("ledger rebuild needs the [[tenants]] of central's config")]
    NoTenants,
    /// A `--tenant` the config does not have.
    #[error("no tenant {name:?} in the config's [[tenants]]; known: {}", known.join(", "))]
    UnknownTenant {
        /// As asked.
        name: String,
        /// The config's tenants.
        known: Vec<String>,
    },
    /// The ledger already holds records of a tenant in scope.
    #[error(
        "the ledger in {} already holds records of tenant {tenant}: rebuild fills an empty \
         ledger (give a new data_dir, or --data-dir)",
        dir.display()
    )]
    NotEmpty {
        /// The ledger's folder.
        dir: PathBuf,
        /// The tenant.
        tenant: String,
    },
    /// The ledger or the tenant's SLOs cannot be opened.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// A tenant's ledger failed.
    #[error("tenant {tenant}: {error}")]
    Ledger {
        /// The tenant.
        tenant: String,
        /// Why.
        error: LedgerError,
    },
    /// The runtime cannot start.
    #[error("cannot start: {0}")]
    Runtime(std::io::Error),
    /// NATS cannot be reached.
    #[error(transparent)]
    Connect(JetStreamError),
    /// Reading a tenant's records from the stream failed.
    #[error("tenant {tenant}: {error}")]
    Replay {
        /// The tenant.
        tenant: String,
        /// Why.
        error: JetStreamError,
    },
}

/// What the rebuild of one tenant filed (as `ledger rebuild --format json` prints it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rebuilt {
    /// The tenant.
    pub tenant: String,
    /// The ledger's folder.
    pub dir: PathBuf,
    /// Records new to the ledger.
    pub records: u64,
    /// Records it held already.
    pub duplicates: u64,
    /// Messages that are no record of the tenant.
    pub skipped: u64,
}

/// Fills the ledger of `config` from the stream, for the tenants of
/// `requested` (every `[[tenants]]` entry when empty), telling `done` of
/// each as it ends. Every tenant is checked empty before any is written.
pub fn rebuild_ledger(
    config: &Config,
    requested: &[String],
    mut done: impl FnMut(&Rebuilt),
) -> Result<(), RebuildError> {
    if config.nats.url.is_none() {
        return Err(RebuildError::NoNats);
    }
    let tenants = in_scope(config, requested)?;
    let dir = config.data_dir.join("ledger");
    let ledger = open_ledger(config)?;
    for tenant in &tenants {
        if let Some(trees) = trees(&ledger, &tenant.name)?
            && trees.records(None, None).next().is_some()
        {
            return Err(RebuildError::NotEmpty {
                dir,
                tenant: tenant.name.clone(),
            });
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RebuildError::Runtime)?;
    // The JetStream context spawns onto the runtime it is made in.
    let _entered = rt.enter();
    let client = rt
        .block_on(connect(&config.nats, "dataslo-ledger-rebuild"))
        .map_err(RebuildError::Connect)?;
    let js = async_nats::jetstream::new(client);
    for tenant in &tenants {
        let storage = |error| RebuildError::Ledger {
            tenant: tenant.name.clone(),
            error,
        };
        let trees = ledger.for_tenant(&tenant.name).map_err(storage)?;
        let slos = slo_set::of_tenant(tenant, &trees)?;
        // The buckets count the records as `serve` will count them.
        let now = jiff::Timestamp::now();
        for slo in &slos {
            crate::budget::sync_series(&trees, slo, now).map_err(storage)?;
        }
        let replayed = rt
            .block_on(replay_records(&js, &tenant.name, &trees))
            .map_err(|error| RebuildError::Replay {
                tenant: tenant.name.clone(),
                error,
            })?;
        let now = jiff::Timestamp::now();
        for slo in &slos {
            crate::alert::evaluate(&trees, slo, now, &[], config.lateness_horizon)
                .map_err(storage)?;
        }
        trees.flush().map_err(storage)?;
        done(&Rebuilt {
            tenant: tenant.name.clone(),
            dir: dir.clone(),
            records: replayed.records,
            duplicates: replayed.duplicates,
            skipped: replayed.refused,
        });
    }
    Ok(())
}

/// The trees of `tenant`, if the ledger has any.
fn trees(ledger: &Ledger, tenant: &str) -> Result<Option<Ledger>, RebuildError> {
    if !ledger.tenants().iter().any(|t| t == tenant) {
        return Ok(None);
    }
    ledger
        .for_tenant(tenant)
        .map(Some)
        .map_err(|error| RebuildError::Ledger {
            tenant: tenant.to_string(),
            error,
        })
}

/// The tenants of `requested`, else every `[[tenants]]` entry. An agent's
/// config is refused: its ledger also holds observations and unpublished
/// records, which the stream does not carry.
fn in_scope<'a>(
    config: &'a Config,
    requested: &[String],
) -> Result<Vec<&'a TenantConfig>, RebuildError> {
    if config.tenants.is_empty() {
        return Err(match config.agent {
            Some(_) => RebuildError::AgentLedger,
            None => RebuildError::NoTenants,
        });
    }
    if requested.is_empty() {
        return Ok(config.tenants.iter().collect());
    }
    requested
        .iter()
        .map(|name| {
            config
                .tenants
                .iter()
                .find(|t| t.name == *name)
                .ok_or_else(|| RebuildError::UnknownTenant {
                    name: name.clone(),
                    known: config.tenants.iter().map(|t| t.name.clone()).collect(),
                })
        })
        .collect()
}
