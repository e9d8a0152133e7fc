//! The API as `dataslo agent` serves it: observations and OpenLineage
//! events in, reads out; the routes that change a tenant's SLOs or policies
//! answer 405 `central_only`, since an agent's set comes from central; while
//! its buffer of unpublished records is full, ingest answers 503
//! `buffer_full` (see `backlog`).

use super::backlog::{IngestBound, within_bound};
use super::error::{ApiCode, ApiError};
use super::{ServerSettings, listen, router};
use crate::service::Service;
use axum::http::{Method, StatusCode};
use std::future::Future;
use std::sync::Arc;

/// Serves `service` as an agent does, until `shutdown`, refusing ingest
/// while `max_unpublished` records wait for the stream; as [`super::serve`]
/// otherwise.
pub async fn serve_agent(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    settings: ServerSettings,
    max_unpublished: u64,
    pages: axum::Router<Arc<Service>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bound = IngestBound {
        service: service.clone(),
        max_unpublished,
    };
    let app = router(service, settings, pages)
        .layer(axum::middleware::from_fn_with_state(bound, within_bound))
        .layer(axum::middleware::from_fn(central_only));
    listen::serve_connections(listener, app, settings, shutdown).await
}

/// Whether a request would change the SLO set or the uploaded policies.
fn changes_the_set(method: &Method, path: &str) -> bool {
    method == Method::PUT && (path == "/v1/slos" || path.starts_with("/v1/policies/"))
}

async fn central_only(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if changes_the_set(request.method(), request.uri().path()) {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ApiCode::CentralOnly,
            format!(
                "{} {} is not taken by an agent: its SLOs and policies come from central; \
                 send it to central's serve",
                request.method(),
                request.uri().path()
            ),
        )
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_puts_of_slos_and_policies_are_central_only() {
        assert!(changes_the_set(&Method::PUT, "/v1/slos"));
        assert!(changes_the_set(&Method::PUT, "/v1/policies/p"));
        assert!(!changes_the_set(&Method::GET, "/v1/slos"));
        assert!(!changes_the_set(&Method::GET, "/v1/policies"));
        assert!(!changes_the_set(&Method::POST, "/v1/observations"));
        assert!(!changes_the_set(&Method::POST, "/api/v1/lineage"));
    }
}
