//! `dataslo serve`: the HTTP API (axum) over one scheduler and ledger per
//! tenant. Every request names its tenant with `Authorization: Bearer <token>`;
//! the config stores only sha256 hashes of tokens, and a tenant's requests
//! reach only its own SLOs, observations and ledger trees.
//!
//! The listener and the shutdown signal are passed in, so tests bind
//! `127.0.0.1:0` and stop the server when they are done. `listen` serves the
//! connections within `[server]`'s timeouts and connection limit (`watch`
//! keeps each connection's clock); `health` answers the health checks and
//! refuses requests once the ledger's storage has failed. `agent_http` and
//! `edge` serve the API as `dataslo agent` does, `backlog` bounding its
//! ingest by its unpublished records.
//!
//! Depends on service, metrics, status, openlineage, registry (upload
//! names and their errors), runtime (the built-ins' names, the kinds of
//! load errors), trust (upload signatures), ledger, model and config. The pages beside the API (the
//! dashboard's) are handed in by the caller, so the server and the dashboard
//! do not depend on each other.

mod agent_http;
mod agents;
mod backlog;
mod changes;
mod edge;
mod encoding;
mod error;
mod extract;
mod health;
mod json;
mod listen;
mod metrics;
mod routes;
mod watch;

pub use agent_http::{AgentHttp, AgentHttpError};
pub use backlog::RETRY_AFTER_SECONDS;
pub use edge::serve_agent;
pub use error::{ApiCode, ApiError};
pub use routes::router;

use crate::config::Config;
use crate::service::Service;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The server's own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSettings {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest uploaded policy, in bytes.
    pub max_policy_bytes: usize,
    /// Time to send a request's headers, from their first byte.
    pub header_timeout: Duration,
    /// Time to send a request's body, from the end of its headers (then 408).
    pub body_timeout: Duration,
    /// A connection with nothing moving and no request in hand is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// After `shutdown`, how long requests in flight may take.
    pub shutdown_grace: Duration,
}

impl ServerSettings {
    /// The `[server]` limits of `config`.
    pub fn from_config(config: &Config) -> Self {
        let server = &config.server;
        ServerSettings {
            max_body_bytes: server.max_body_bytes,
            max_policy_bytes: server.max_policy_bytes,
            header_timeout: server.header_timeout,
            body_timeout: server.body_timeout,
            idle_timeout: server.idle_timeout,
            max_connections: server.max_connections,
            shutdown_grace: server.shutdown_grace,
        }
    }
}

/// Serves `service` on `listener`, with `pages` beside the API, until
/// `shutdown` completes; then requests in flight get `shutdown_grace` to
/// finish before their connections are closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    settings: ServerSettings,
    pages: axum::Router<Arc<Service>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(service, settings, pages);
    listen::serve_connections(listener, app, settings, shutdown).await
}
