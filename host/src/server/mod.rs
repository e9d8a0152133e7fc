//! `dataslo serve`: the HTTP API (axum) over one scheduler and ledger per
//! tenant. Every request names its tenant with `Authorization: Bearer <token>`;
//! the config stores only sha256 hashes of tokens, and a tenant's requests
//! reach only its own SLOs, observations and ledger trees.
//!
//! The listener and the shutdown signal are passed in, so tests bind
//! `127.0.0.1:0` and stop the server when they are done.
//!
//! Depends on scheduler, registry, metrics, status, openlineage, ledger, slo
//! and config; its router merges the HTML pages of [`crate::dashboard`].

mod apply;
mod changes;
mod error;
mod metrics;
mod routes;
mod tenants;

pub use apply::{ChangeError, PolicyStored, SlosApplied};
pub use error::{ApiCode, ApiError};
pub use routes::router;
pub use tenants::{AppState, Tenant, TenantError, UPLOADED_SLOS_FILE, token_hash};

use std::future::Future;
use std::sync::Arc;

/// Serves `state` on `listener` until `shutdown` completes, then drains the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    max_body_bytes: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state, max_body_bytes))
        .with_graceful_shutdown(shutdown)
        .await
}
