//! `dataslo serve --config dataslo.toml`: the HTTP API and the dashboard over
//! every tenant, with each tenant's clock pass running beside them, and with
//! `[nats] url`, each tenant's records from its agents filed into its ledger.
//!
//! On SIGTERM or SIGINT it stops accepting, lets requests in flight finish,
//! flushes and exits, all within `[server] shutdown_grace`: a request, a
//! clock pass or a flush that hangs (a dead disk, a notifier that never
//! answers) is left behind rather than waited for. Everything acknowledged
//! was flushed before its answer, so nothing acknowledged is lost.

use super::Failure;
use super::setup::{SetupArgs, ledger};
use crate::ledger::LedgerError;
use crate::server::{ServerSettings, serve};
use crate::service::{Service, open_runtime};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Of the grace, the part kept for the final flush: a quarter, at most 1 s.
fn flush_reserve(grace: Duration) -> Duration {
    (grace / 4).min(Duration::from_secs(1))
}

pub fn run(setup: &SetupArgs) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    if config.tenants.is_empty() {
        return Err(Failure::Input(
            "serve needs at least one [[tenants]] entry in the config".into(),
        ));
    }
    let ledger = ledger(&config)?;
    crate::service::announce_holder(&config.data_dir, "serve")?;
    let service = Arc::new(Service::from_config(
        &config,
        open_runtime(&config)?,
        &ledger,
    )?);
    // `status` and `ledger …` ask through it while this process holds the ledger.
    let _control = crate::service::control::Control::start(&config.data_dir, service.clone())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Input(format!("cannot start the server runtime: {e}")))?;
    let grace = config.server.shutdown_grace;
    let stopping = Arc::new(OnceLock::new());
    let flushed = rt.block_on(async {
        // From the start: a SIGTERM while NATS is set up still stops cleanly.
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| Failure::Input(format!("cannot watch SIGTERM: {e}")))?;
        let listener = tokio::net::TcpListener::bind(&config.server.listen)
            .await
            .map_err(|e| {
                Failure::Input(format!("cannot listen on {}: {e}", config.server.listen))
            })?;
        // Before the clock: a replica ticks only once it holds the tick lease.
        let consumers = consume_from_nats(&config, &service).await?;
        // Each tenant's SLO set to its agents, their heartbeats back.
        let edge = crate::service::central_sync::sync_with_agents(&config, &service)
            .await
            .map_err(|e| Failure::Input(e.to_string()))?;
        let clock = tokio::spawn(service.clone().run_clock(config.poll_interval));
        tracing::info!(
            tenants = service.tenants.len(),
            listen = %config.server.listen,
            "dataslo serve started"
        );
        let signalled = stopping.clone();
        let shutdown = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            let _ = signalled.set(Instant::now());
            tracing::info!(?grace, "stopping: finishing the requests in flight");
        };
        let settings = ServerSettings {
            shutdown_grace: grace - flush_reserve(grace),
            ..ServerSettings::from_config(&config)
        };
        let pages = crate::dashboard::router();
        serve(listener, service.clone(), settings, pages, shutdown)
            .await
            .map_err(|e| Failure::Input(format!("server: {e}")))?;
        // A clock pass stuck in a notifier or the ledger is not waited for.
        clock.abort();
        // Records fetched but not flushed are not acknowledged: delivered again.
        for consumer in consumers {
            consumer.abort();
        }
        for task in edge {
            task.abort();
        }
        let left = stopping
            .get()
            .map_or(grace, |at: &Instant| grace.saturating_sub(at.elapsed()));
        drain_log(&service, left / 2).await;
        let left = stopping
            .get()
            .map_or(grace, |at: &Instant| grace.saturating_sub(at.elapsed()));
        Ok::<_, Failure>(final_flush(&service, left).await)
    })?;
    // Threads still blocked (a stuck flush, a notifier) are left behind.
    rt.shutdown_timeout(Duration::from_millis(100));
    match flushed {
        Ok(()) => {
            tracing::info!("dataslo serve stopped cleanly");
            Ok(())
        }
        Err(e) => {
            // Dropping sled's database flushes it again, which may hang on
            // the storage that just failed: the process ends without it.
            std::mem::forget(service);
            std::mem::forget(ledger);
            Err(Failure::Input(format!("stopped, but {e}")))
        }
    }
}

/// With `[nats] url`, per tenant: a consumer filing the stream's records
/// into its ledger, a publisher of its own, and the tick lease.
async fn consume_from_nats(
    config: &crate::config::Config,
    service: &Arc<Service>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Failure> {
    if config.nats.url.is_none() {
        return Ok(Vec::new());
    }
    crate::service::start_replica(config, service)
        .await
        .map_err(|e| Failure::Input(e.to_string()))
}

/// Evaluates what the tenants' ingest logs still hold, for at most `left`;
/// what is left then is evaluated at the next start, from the cursor.
async fn drain_log(service: &Arc<Service>, left: Duration) {
    if service.storage().error().is_some() {
        return;
    }
    let draining = service.clone();
    let drain = tokio::task::spawn_blocking(move || {
        for tenant in &draining.tenants {
            if let Err(error) = tenant.scheduler.evaluate_log() {
                tracing::warn!(tenant = %tenant.name, %error, "the ingest log is evaluated at the next start");
            }
        }
    });
    if tokio::time::timeout(left, drain).await.is_err() {
        tracing::warn!(
            "stopping before the ingest log is evaluated; the next start resumes from its cursor"
        );
    }
}

/// Flushes every tenant's ledger within `left`, unless its storage failed.
async fn final_flush(service: &Arc<Service>, left: Duration) -> Result<(), LedgerError> {
    if let Some(e) = service.storage().error() {
        return Err(e);
    }
    let flushing = service.clone();
    let flush = tokio::task::spawn_blocking(move || flushing.flush());
    match tokio::time::timeout(left.max(Duration::from_millis(100)), flush).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(LedgerError::Storage(format!("the final flush failed: {e}"))),
        Err(_) => Err(LedgerError::FlushStalled {
            seconds: left.as_secs(),
        }),
    }
}
