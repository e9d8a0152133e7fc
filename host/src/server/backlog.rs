//! The agent's bound on HTTP ingest: while its records not yet published
//! reach `[agent] max_unpublished`, `POST /v1/observations` and
//! `POST /api/v1/lineage` answer 503 `buffer_full` with `Retry-After`,
//! storing nothing, as the spool is left unread then. Checked before each
//! request: requests taken just below the bound may carry it a little past.

use super::error::{ApiCode, ApiError};
use super::extract::bearer;
use crate::service::Service;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Seconds a refused client is asked to wait: the publisher retries NATS
/// every second, and a backlog drains in batches.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// What the ingest bound needs: the service and `[agent] max_unpublished`.
#[derive(Clone)]
pub(super) struct IngestBound {
    pub(super) service: Arc<Service>,
    pub(super) max_unpublished: u64,
}

/// Whether a request brings observations.
fn ingests(method: &Method, path: &str) -> bool {
    method == Method::POST && (path == "/v1/observations" || path == "/api/v1/lineage")
}

/// The refusal of a request while `backlog` records wait for the stream.
fn buffer_full(max_unpublished: u64, backlog: u64) -> Response {
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ApiCode::BufferFull,
        format!(
            "the agent's buffer of unpublished records is full (max_unpublished = \
             {max_unpublished}, backlog {backlog}): nothing was stored; records wait to be \
             published to NATS, retry after {RETRY_AFTER_SECONDS} s"
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

/// Refuses ingest over the bound. A request without a known token goes on,
/// to be answered 401 as anywhere else.
pub(super) async fn within_bound(
    axum::extract::State(bound): axum::extract::State<IngestBound>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !ingests(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let tenant = bearer(request.headers())
        .ok()
        .and_then(|token| bound.service.tenant_for_token(token));
    let Some(tenant) = tenant else {
        return next.run(request).await;
    };
    let ledger = tenant.scheduler.ledger().clone();
    let backlog = match tokio::task::spawn_blocking(move || ledger.publish_backlog()).await {
        Ok(Ok(backlog)) => backlog,
        Ok(Err(error)) => return ApiError::from(error).into_response(),
        Err(error) => {
            return ApiError::internal(format!("reading the publish backlog: {error}"))
                .into_response();
        }
    };
    if backlog >= bound.max_unpublished {
        return buffer_full(bound.max_unpublished, backlog);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_posts_of_observations_and_lineage_are_bounded() {
        assert!(ingests(&Method::POST, "/v1/observations"));
        assert!(ingests(&Method::POST, "/api/v1/lineage"));
        assert!(!ingests(&Method::GET, "/v1/slos"));
        assert!(!ingests(&Method::PUT, "/v1/slos"));
        assert!(!ingests(&Method::GET, "/healthz"));
    }

    #[test]
    fn a_full_buffer_is_503_with_retry_after_naming_the_bound_and_backlog() {
        let response = buffer_full(20, 23);
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(RETRY_AFTER_SECONDS))
        );
    }
}
