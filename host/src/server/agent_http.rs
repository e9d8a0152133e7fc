//! The agent's HTTP endpoints: with `[agent] token_sha256`, `dataslo agent`
//! takes observations on `[server] listen` as `serve` does, for its one
//! tenant, and refuses changes of its SLOs and policies (central's).

use super::{ServerSettings, serve_agent};
use crate::config::{Config, ServerConfig};
use crate::service::Service;
use std::sync::Arc;

/// Why the agent's endpoints cannot start.
#[derive(Debug, thiserror::Error)]
pub enum AgentHttpError {
    /// A listen address but no token: every request would get 401.
    #[error(
        "[server] listen is {listen} but [agent] token_sha256 is empty: the agent's HTTP \
         endpoints take only the tokens listed there"
    )]
    NoTokens {
        /// `[server] listen`.
        listen: String,
    },
    /// The address cannot be bound.
    #[error("cannot listen on {listen}: {error}")]
    Listen {
        /// `[server] listen`.
        listen: String,
        /// Why.
        error: std::io::Error,
    },
}

/// The running server, stopped by [`AgentHttp::stop`].
pub struct AgentHttp {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl AgentHttp {
    /// Starts the endpoints, with `pages` beside the API, when the config
    /// gives the agent tokens; `None` otherwise. A `[server] listen` without
    /// tokens is refused.
    pub async fn start(
        config: &Config,
        service: &Arc<Service>,
        pages: axum::Router<Arc<Service>>,
    ) -> Result<Option<AgentHttp>, AgentHttpError> {
        let Some(agent) = config.agent.as_ref().filter(|a| !a.token_sha256.is_empty()) else {
            if config.server.listen != ServerConfig::default().listen {
                return Err(AgentHttpError::NoTokens {
                    listen: config.server.listen.clone(),
                });
            }
            return Ok(None);
        };
        let listener = tokio::net::TcpListener::bind(&config.server.listen)
            .await
            .map_err(|error| AgentHttpError::Listen {
                listen: config.server.listen.clone(),
                error,
            })?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(serve_agent(
            listener,
            service.clone(),
            ServerSettings::from_config(config),
            agent.max_unpublished,
            pages,
            async move {
                let _ = stopped.await;
            },
        ));
        tracing::info!(listen = %config.server.listen, "the agent takes observations over HTTP");
        Ok(Some(AgentHttp { stop, task }))
    }

    /// Stops accepting and lets requests in flight finish, within
    /// `[server] shutdown_grace`.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "the agent's HTTP server stopped"),
            Err(error) => tracing::warn!(%error, "the agent's HTTP server failed"),
        }
    }
}
