//! `GET /metrics`: a tenant's token scrapes its own series, an admin token
//! every tenant's. OpenMetrics for scrapers that ask for it (Prometheus
//! does), the Prometheus text format otherwise.

use super::error::ApiError;
use super::extract::{admitted, bearer};
use crate::metrics::{OPENMETRICS, PROMETHEUS_TEXT, Scope, render, to_prometheus_text};
use crate::service::{Service, Tenant};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use std::sync::Arc;

pub(super) async fn metrics(
    State(state): State<Arc<Service>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let token = bearer(&headers)?;
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let tenants: Vec<Arc<Tenant>> = if state.is_admin(token) {
        state.tenants.clone()
    } else {
        vec![admitted(&state, token)?]
    };
    let text = tokio::task::spawn_blocking(move || {
        let scopes: Vec<Scope<'_>> = tenants
            .iter()
            .map(|t| Scope {
                tenant: &t.name,
                scheduler: &t.scheduler,
            })
            .collect();
        render(&scopes, jiff::Timestamp::now())
    })
    .await
    .map_err(|e| ApiError::internal(format!("metrics task: {e}")))?
    .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(if openmetrics {
        ([(header::CONTENT_TYPE, OPENMETRICS)], text)
    } else {
        (
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
            to_prometheus_text(&text),
        )
    })
}
