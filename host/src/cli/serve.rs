//! `dataslo serve --config dataslo.toml`: the HTTP API plus, per tenant, the
//! clock-driven work of `run` (ticks, alerts, notifications).

use super::Failure;
use super::setup::{SetupArgs, ledger};
use crate::runtime::Runtime;
use crate::server::{AppState, serve};
use std::sync::Arc;

pub fn run(setup: &SetupArgs) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    if config.tenants.is_empty() {
        return Err(Failure::Input(
            "serve needs at least one [[tenants]] entry in the config".into(),
        ));
    }
    let runtime = Runtime::with_engine(config.runtime_limits(), config.engine_options())
        .map_err(|e| Failure::Input(e.to_string()))?;
    let runtime = Arc::new(runtime);
    let ledger = ledger(&config)?;
    let state = Arc::new(
        AppState::from_config(&config, runtime, &ledger)
            .map_err(|e| Failure::Input(e.to_string()))?,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Input(format!("cannot start the server runtime: {e}")))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&config.server.listen)
            .await
            .map_err(|e| {
                Failure::Input(format!("cannot listen on {}: {e}", config.server.listen))
            })?;
        eprintln!(
            "dataslo serve: {} tenant(s) on http://{}",
            state.tenants.len(),
            config.server.listen
        );
        let clock = tokio::spawn(clock_loop(
            state.clone(),
            config.poll_interval,
            crate::alert::notifiers(&config.notifiers),
        ));
        let shutdown = async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => return std::future::pending().await,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        serve(
            listener,
            state.clone(),
            config.server.max_body_bytes,
            shutdown,
        )
        .await
        .map_err(|e| Failure::Input(format!("server: {e}")))?;
        clock.abort();
        for tenant in &state.tenants {
            tenant
                .scheduler
                .ledger()
                .flush()
                .map_err(|e| Failure::Input(e.to_string()))?;
        }
        eprintln!("dataslo serve: stopped cleanly");
        Ok(())
    })
}

/// Ticks, alerts and notifications for every tenant, on the blocking pool.
async fn clock_loop(
    state: Arc<AppState>,
    every: std::time::Duration,
    targets: Vec<crate::model::Notifier>,
) {
    let mut interval = tokio::time::interval(every);
    let mut refresh = crate::alert::alertmanager::RefreshClock::default();
    loop {
        interval.tick().await;
        let refresh_due = refresh.due(jiff::Timestamp::now());
        for tenant in state.tenants.clone() {
            let targets = targets.clone();
            let work = tokio::task::spawn_blocking(move || {
                let now = jiff::Timestamp::now();
                tenant.scheduler.tick(now, 10_000)?;
                for t in tenant.scheduler.evaluate_alerts(now, &targets)? {
                    eprintln!(
                        "alert {} {}/{} {} ({}): {}",
                        t.to, tenant.name, t.slo, t.alert, t.severity, t.summary
                    );
                }
                let ledger = tenant.scheduler.ledger();
                let delivered =
                    crate::alert::deliver_outbox(ledger, now, std::time::Duration::from_secs(5))?;
                if refresh_due {
                    let slos = tenant.scheduler.slos();
                    let slos = slos.iter().map(|a| &a.slo);
                    let timeout = std::time::Duration::from_secs(5);
                    let done =
                        crate::alert::alertmanager::refresh(ledger, slos, &targets, now, timeout)?;
                    for error in done.errors {
                        eprintln!(
                            "dataslo serve: {}: alertmanager refresh: {error}",
                            tenant.name
                        );
                    }
                }
                Ok::<_, crate::ledger::LedgerError>(delivered)
            });
            if let Ok(Err(e)) = work.await {
                eprintln!("dataslo serve: {e}");
            }
        }
    }
}
