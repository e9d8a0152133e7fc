//! `dataslo serve --config dataslo.toml`: the HTTP API and the dashboard over
//! every tenant, with each tenant's clock pass running beside them.

use super::Failure;
use super::setup::{SetupArgs, ledger};
use crate::server::{ServerSettings, serve};
use crate::service::{Service, open_runtime};
use std::sync::Arc;

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
        tracing::info!(
            tenants = service.tenants.len(),
            listen = %config.server.listen,
            "dataslo serve started"
        );
        let clock = tokio::spawn(service.clone().run_clock(config.poll_interval));
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
        let settings = ServerSettings::from_config(&config);
        let pages = crate::dashboard::router();
        serve(listener, service.clone(), settings, pages, shutdown)
            .await
            .map_err(|e| Failure::Input(format!("server: {e}")))?;
        clock.abort();
        service.flush().map_err(|e| Failure::Input(e.to_string()))?;
        tracing::info!("dataslo serve stopped cleanly");
        Ok(())
    })
}
