//! `dataslo ledger rebuild --config F [--tenant T]`: central's ledger of
//! each tenant in scope, filled from the stream `DATASLO_RECORDS` (see
//! docs/distributed.md, "Rebuilding a ledger from the stream").

use super::Failure;
use super::setup::{SetupArgs, ledger};
use super::tenant_scope::trees;
use crate::config::{Config, TenantConfig};
use crate::jetstream::{connect, replay_records, stream::STREAM};
use crate::service::slo_set;

pub fn run(setup: &SetupArgs, requested: &[String]) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    if config.nats.url.is_none() {
        return Err(Failure::Input(format!(
            "ledger rebuild reads the stream {STREAM}: set [nats] url in the config"
        )));
    }
    let tenants = in_scope(&config, requested)?;
    let dir = config.data_dir.join("ledger");
    let ledger = ledger(&config)?;
    // Every tenant is checked before any is written.
    for tenant in &tenants {
        if let Some(trees) = trees(&ledger, &tenant.name)?
            && trees.records(None, None).next().is_some()
        {
            return Err(Failure::Input(format!(
                "the ledger in {} already holds records of tenant {}: rebuild fills an empty \
                 ledger (give a new data_dir, or --data-dir)",
                dir.display(),
                tenant.name
            )));
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Input(format!("cannot start: {e}")))?;
    // The JetStream context spawns onto the runtime it is made in.
    let _entered = rt.enter();
    let client = rt
        .block_on(connect(&config.nats, "dataslo-ledger-rebuild"))
        .map_err(|e| Failure::Input(e.to_string()))?;
    let js = async_nats::jetstream::new(client);
    let storage = |e: crate::ledger::LedgerError| Failure::Input(e.to_string());
    for tenant in &tenants {
        let trees = ledger.for_tenant(&tenant.name).map_err(storage)?;
        let slos = slo_set::of_tenant(tenant, &trees)?;
        // The buckets count the records as `serve` will count them.
        let now = jiff::Timestamp::now();
        for slo in &slos {
            crate::budget::sync_series(&trees, slo, now).map_err(storage)?;
        }
        let done = rt
            .block_on(replay_records(&js, &tenant.name, &trees))
            .map_err(|e| Failure::Input(format!("tenant {}: {e}", tenant.name)))?;
        // The stream carries records, not alert history: the alerts start
        // from what the records give now, and notify nobody.
        let now = jiff::Timestamp::now();
        for slo in &slos {
            crate::alert::evaluate(&trees, slo, now, &[], config.lateness_horizon)
                .map_err(storage)?;
        }
        trees.flush().map_err(storage)?;
        println!(
            "tenant {}: {} record(s) from stream {STREAM} into {} ({} duplicate(s), {} skipped)",
            tenant.name,
            done.records,
            dir.display(),
            done.duplicates,
            done.refused
        );
    }
    Ok(())
}

/// The tenants of `--tenant`, else every `[[tenants]]` entry. An agent's
/// config is refused: its ledger also holds observations and unpublished
/// records, which the stream does not carry.
fn in_scope<'a>(
    config: &'a Config,
    requested: &[String],
) -> Result<Vec<&'a TenantConfig>, Failure> {
    if config.tenants.is_empty() {
        return Err(Failure::Input(match config.agent {
            Some(_) => "ledger rebuild fills central's ledger: an agent's ledger also holds its \
                        observations and unpublished records, which the stream does not carry"
                .into(),
            None => "ledger rebuild needs the [[tenants]] of central's config".into(),
        }));
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
                .ok_or_else(|| {
                    let known: Vec<&str> = config.tenants.iter().map(|t| t.name.as_str()).collect();
                    Failure::Input(format!(
                        "no tenant {name:?} in the config's [[tenants]]; known: {}",
                        known.join(", ")
                    ))
                })
        })
        .collect()
}
