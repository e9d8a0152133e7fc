//! The agent's HTTP endpoints: with `[agent] token_sha256`, `dataslo agent`
//! takes observations on `[server] listen` as `serve` does, for its one
//! tenant, and refuses changes of its SLOs and policies (central's).

use super::Failure;
use crate::config::{Config, ServerConfig};
use crate::server::{ServerSettings, serve_agent};
use crate::service::Service;
use std::sync::Arc;

/// The running server, stopped by [`Http::stop`].
pub(super) struct Http {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts the endpoints when the config gives the agent tokens; `None`
/// otherwise. A `[server] listen` without tokens is refused: every request
/// would get 401.
pub(super) async fn start(
    config: &Config,
    service: &Arc<Service>,
) -> Result<Option<Http>, Failure> {
    let tokens = config.agent.as_ref().map_or(0, |a| a.token_sha256.len());
    if tokens == 0 {
        if config.server.listen != ServerConfig::default().listen {
            return Err(Failure::Input(format!(
                "[server] listen is {} but [agent] token_sha256 is empty: the agent's HTTP \
                 endpoints take only the tokens listed there",
                config.server.listen
            )));
        }
        return Ok(None);
    }
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .map_err(|e| Failure::Input(format!("cannot listen on {}: {e}", config.server.listen)))?;
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(serve_agent(
        listener,
        service.clone(),
        ServerSettings::from_config(config),
        crate::dashboard::router(),
        async move {
            let _ = stopped.await;
        },
    ));
    tracing::info!(listen = %config.server.listen, "the agent takes observations over HTTP");
    Ok(Some(Http { stop, task }))
}

impl Http {
    /// Stops accepting and lets requests in flight finish, within
    /// `[server] shutdown_grace`.
    pub(super) async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "the agent's HTTP server stopped"),
            Err(error) => tracing::warn!(%error, "the agent's HTTP server failed"),
        }
    }
}
