//! `dataslo serve`: the HTTP API (axum) over one scheduler and ledger per
//! tenant. Every request names its tenant with `Authorization: Bearer <token>`;
//! the config stores only sha256 hashes of tokens, and a tenant's requests
//! reach only its own SLOs, observations and ledger trees.
//!
//! The listener and the shutdown signal are passed in, so tests bind
//! `127.0.0.1:0` and stop the server when they are done.
//!
//! Depends on service, metrics, status, openlineage, registry (upload
//! names and their errors), runtime (the built-ins' names), ledger, model
//! and config. The pages beside the API (the dashboard's) are handed in by
//! the caller, so the server and the dashboard do not depend on each other.

mod changes;
mod encoding;
mod error;
mod extract;
mod metrics;
mod routes;

pub use error::{ApiCode, ApiError};
pub use routes::router;

use crate::config::Config;
use crate::service::Service;
use std::future::Future;
use std::sync::Arc;

/// The server's own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSettings {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest uploaded policy, in bytes.
    pub max_policy_bytes: usize,
}

impl ServerSettings {
    /// The `[server]` limits of `config`.
    pub fn from_config(config: &Config) -> Self {
        ServerSettings {
            max_body_bytes: config.server.max_body_bytes,
            max_policy_bytes: config.server.max_policy_bytes,
        }
    }
}

/// Serves `service` on `listener`, with `pages` beside the API, until
/// `shutdown` completes, then drains the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    settings: ServerSettings,
    pages: axum::Router<Arc<Service>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(service, settings, pages))
        .with_graceful_shutdown(shutdown)
        .await
}
