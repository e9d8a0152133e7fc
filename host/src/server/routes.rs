//! The `/v1` API, the OpenLineage endpoint and the health checks.

use super::ServerSettings;
use super::error::{ApiCode, ApiError};
use super::extract::{Authed, BodyLimit, json_text, parse_time, query};
use super::json::Json;
use crate::ledger::{EvalRecord, LedgerError};
use crate::model::parse_observations;
use crate::model::{Observation, TimeFields};
use crate::service::{Ingested, Service, Tenant};
use crate::status::{StatusReport, status_report};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post, put};
use serde::Deserialize;
use std::sync::Arc;

/// The whole API, with `pages` (the dashboard's) merged in.
pub fn router(
    state: Arc<Service>,
    settings: ServerSettings,
    pages: Router<Arc<Service>>,
) -> Router {
    let ServerSettings {
        max_body_bytes,
        max_policy_bytes,
        ..
    } = settings;
    Router::new()
        .route("/healthz", get(super::health::healthz))
        .route("/readyz", super::health::readyz_route())
        .route("/v1/observations", post(post_observations))
        .route("/api/v1/lineage", post(post_lineage))
        .route("/v1/slos", get(list_slos).put(super::changes::put_slos))
        .route("/v1/policies", get(super::changes::list_policies))
        .route(
            "/v1/policies/{name}",
            put(super::changes::put_policy).layer(DefaultBodyLimit::max(max_policy_bytes)),
        )
        .route("/v1/agents", get(super::agents::list_agents))
        .route("/metrics", get(super::metrics::metrics))
        .route("/v1/slos/{name}", get(get_slo))
        .route("/v1/slos/{name}/events", get(slo_events))
        .merge(pages)
        .fallback(|| async { ApiError::not_found("no such endpoint; see docs/api.md") })
        .layer(axum::middleware::from_fn_with_state(
            (max_body_bytes, max_policy_bytes),
            declared_length,
        ))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::health::storage_gate,
        ))
        .with_state(state)
}

/// 413 from the headers alone when the declared body is over the limit, so
/// a client is not made to send megabytes only to be refused (the body limit
/// itself only trips once that many bytes have arrived). Hands the limit on
/// as a [`BodyLimit`], which bounds a decompressed body too.
async fn declared_length(
    State((max_body, max_policy)): State<(usize, usize)>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let max = if request.uri().path().starts_with("/v1/policies/") {
        max_policy
    } else {
        max_body
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > max as u64 => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ApiCode::TooLarge,
            format!("a body of {n} bytes is over this endpoint's limit of {max}"),
        )
        .into_response(),
        _ => {
            request.extensions_mut().insert(BodyLimit(max));
            next.run(request).await
        }
    }
}

/// `?wait=evaluated`: answer after evaluating, with the record count.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IngestQuery {
    wait: Option<String>,
}

fn wait_for_evaluation(q: Result<Query<IngestQuery>, QueryRejection>) -> Result<bool, ApiError> {
    match query(q)?.wait.as_deref() {
        None => Ok(false),
        Some("evaluated") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            ApiCode::InvalidQuery,
            format!("wait={other:?}: the only value is `evaluated`"),
        )),
    }
}

async fn ingest(
    tenant: Arc<Tenant>,
    observations: Vec<Observation>,
    wait: bool,
) -> Result<Json<Ingested>, ApiError> {
    // The answer comes after the append's flush. Without `wait` the task
    // awaits its group's leader; with it, the evaluation runs on the
    // blocking pool, as policies do.
    if !wait {
        return tenant
            .ingest_awaited(observations)
            .await
            .map(Json)
            .map_err(ApiError::from);
    }
    tokio::task::spawn_blocking(move || tenant.ingest(&observations))
        .await
        .map_err(|e| ApiError::internal(format!("ingest task: {e}")))?
        .map(Json)
        .map_err(ApiError::from)
}

async fn post_observations(
    Authed(tenant): Authed,
    q: Result<Query<IngestQuery>, QueryRejection>,
    Extension(limit): Extension<BodyLimit>,
    headers: HeaderMap,
    payload: Result<Bytes, BytesRejection>,
) -> Result<Json<Ingested>, ApiError> {
    let wait = wait_for_evaluation(q)?;
    let text = json_text(&tenant, &headers, payload, limit)?;
    let observations = parse_observations(&text, "body")
        .and_then(|o| sane(&tenant, o, TimeFields::Observation))
        .map_err(|e| ApiError::bad_request(ApiCode::InvalidObservation, e.to_string()))?;
    ingest(tenant, observations, wait).await
}

async fn post_lineage(
    Authed(tenant): Authed,
    q: Result<Query<IngestQuery>, QueryRejection>,
    Extension(limit): Extension<BodyLimit>,
    headers: HeaderMap,
    payload: Result<Bytes, BytesRejection>,
) -> Result<Json<Ingested>, ApiError> {
    let wait = wait_for_evaluation(q)?;
    let text = json_text(&tenant, &headers, payload, limit)?;
    let lineage = crate::openlineage::read_events(&text, "body")
        .map_err(|e| ApiError::bad_request(ApiCode::InvalidEvent, e.to_string()))?;
    let observations = sane(&tenant, lineage.observations, TimeFields::OpenLineage)
        .map_err(|e| ApiError::bad_request(ApiCode::InvalidEvent, e.to_string()))?;
    let Json(answer) = ingest(tenant, observations, wait).await?;
    Ok(Json(Ingested {
        ignored: Some(lineage.ignored),
        ..answer
    }))
}

/// Time sanity against this server's clock: nothing dated too far ahead.
fn sane(
    tenant: &Tenant,
    observations: Vec<Observation>,
    fields: TimeFields,
) -> Result<Vec<Observation>, crate::model::ModelError> {
    tenant
        .time_sanity(jiff::Timestamp::now())
        .check_observations(&observations, "body", fields)?;
    Ok(observations)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtQuery {
    at: Option<String>,
}

fn at_time(text: Option<&str>) -> Result<jiff::Timestamp, ApiError> {
    match text {
        Some(t) => {
            crate::status::parse_at(t).map_err(|e| ApiError::bad_request(ApiCode::InvalidQuery, e))
        }
        None => Ok(jiff::Timestamp::now()),
    }
}

/// Ledger reads run on the blocking pool, never on the server's workers.
async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, LedgerError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| ApiError::internal(format!("ledger task: {e}")))?
        .map_err(ApiError::from)
}

async fn report(tenant: Arc<Tenant>, at: jiff::Timestamp) -> Result<StatusReport, ApiError> {
    let slos = tenant
        .scheduler
        .slos()
        .iter()
        .map(|a| a.slo.clone())
        .collect();
    blocking(move || status_report(tenant.scheduler.ledger(), slos, at)).await
}

async fn list_slos(
    Authed(tenant): Authed,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<StatusReport>, ApiError> {
    let at = at_time(query(q)?.at.as_deref())?;
    Ok(Json(report(tenant, at).await?))
}

async fn get_slo(
    Authed(tenant): Authed,
    Path(name): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<crate::status::SloStatus>, ApiError> {
    let at = at_time(query(q)?.at.as_deref())?;
    let mut status = report(tenant, at).await?;
    let index = status
        .slos
        .iter()
        .position(|s| s.slo == name)
        .ok_or_else(|| ApiError::not_found(format!("no SLO named {name:?}")))?;
    Ok(Json(status.slos.swap_remove(index)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SinceQuery {
    since: Option<String>,
}

async fn slo_events(
    Authed(tenant): Authed,
    Path(name): Path<String>,
    q: Result<Query<SinceQuery>, QueryRejection>,
) -> Result<Json<Vec<EvalRecord>>, ApiError> {
    let since = query(q)?.since;
    let since = since
        .as_deref()
        .map(|s| parse_time(Some(s), "since"))
        .transpose()?;
    if !tenant.scheduler.slos().iter().any(|a| a.slo.name == name) {
        return Err(ApiError::not_found(format!("no SLO named {name:?}")));
    }
    let records = blocking(move || {
        tenant
            .scheduler
            .ledger()
            .records(Some(&name), since)
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(Json(records))
}
