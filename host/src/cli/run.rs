//! `dataslo run`: the scheduler and ledger on one machine, until SIGINT/SIGTERM.

use super::Failure;
use super::args::Format;
use super::setup::SetupArgs;
use crate::model::to_json;
use crate::service::{ClockReport, Service, SpoolReport, Tenant, ingest_spool};
use std::path::Path;
use std::sync::Arc;

pub fn run(
    setup: &SetupArgs,
    slo_files: &[std::path::PathBuf],
    once: bool,
    format: Format,
) -> Result<(), Failure> {
    let config = setup.config(slo_files)?;
    let service = Arc::new(Service::single(&config)?);
    let Some(tenant) = service.tenants.first().cloned() else {
        return Err(crate::service::ServiceError::NoSlos.into());
    };
    crate::service::announce_holder(&config.data_dir, "run")?;
    // `status` and `ledger …` ask through it while this process holds the ledger.
    let _control = crate::service::control::Control::start(&config.data_dir, service.clone())?;
    let spool = config.spool();
    std::fs::create_dir_all(&spool)
        .map_err(|e| Failure::Input(format!("cannot create {}: {e}", spool.display())))?;
    tracing::info!(
        slos = tenant.scheduler.slos().len(),
        ledger = %config.data_dir.display(),
        spool = %spool.display(),
        "dataslo run started"
    );
    let pass = tenant.scheduler.evaluate_log().map_err(storage)?;
    if pass.recorded > 0 {
        tracing::info!(
            recorded = pass.recorded,
            errors = pass.errors,
            "pending observations evaluated"
        );
    }
    if once {
        let (spool, clock) = pass_once(&tenant, &spool)?;
        if format == Format::Json {
            let summary = serde_json::json!({
                "pending": pass,
                "spool": spool,
                "ticked": clock.ticked,
                "transitions": clock.transitions,
            });
            println!("{}", to_json(&summary).unwrap_or_default());
        }
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Input(format!("cannot start the scheduler: {e}")))?;
    rt.block_on(async {
        let mut interval = tokio::time::interval(config.poll_interval);
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| Failure::Input(format!("cannot watch SIGTERM: {e}")))?;
        loop {
            tokio::select! {
                _ = interval.tick() => drop(pass_once(&tenant, &spool)?),
                _ = tokio::signal::ctrl_c() => break,
                _ = terminate.recv() => break,
            }
        }
        // Passes run to completion before the select sees a signal, so only
        // the final flush is left.
        service.flush().map_err(storage)?;
        tracing::info!("dataslo run stopped cleanly");
        Ok(())
    })
}

pub(super) fn storage(e: crate::ledger::LedgerError) -> Failure {
    Failure::Input(e.to_string())
}

/// One pass: the spool, then the clock.
pub(super) fn pass_once(
    tenant: &Arc<Tenant>,
    spool: &Path,
) -> Result<(SpoolReport, ClockReport), Failure> {
    let now = jiff::Timestamp::now();
    let spooled = ingest_spool(tenant, spool, &tenant.time_sanity(now))?;
    let clock = tenant.clock_pass(now).map_err(storage)?;
    Ok((spooled, clock))
}
