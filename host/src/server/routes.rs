//! The `/v1` API, the OpenLineage endpoint and the health checks.

use super::ServerSettings;
use super::error::{ApiCode, ApiError};
use crate::ledger::EvalRecord;
use crate::model::Observation;
use crate::model::parse_observations;
use crate::service::{Service, Tenant};
use crate::status::{StatusReport, status_report};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
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
    } = settings;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/v1/observations", post(post_observations))
        .route("/api/v1/lineage", post(post_lineage))
        .route("/v1/slos", get(list_slos).put(super::changes::put_slos))
        .route("/v1/policies", get(super::changes::list_policies))
        .route(
            "/v1/policies/{name}",
            put(super::changes::put_policy).layer(DefaultBodyLimit::max(max_policy_bytes)),
        )
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
        .with_state(state)
}

/// 413 from the headers alone when the declared body is over the limit, so
/// a client is not made to send megabytes only to be refused (the body limit
/// itself only trips once that many bytes have arrived).
async fn declared_length(
    State((max_body, max_policy)): State<(usize, usize)>,
    request: axum::extract::Request,
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
        _ => next.run(request).await,
    }
}

/// The tenant of the request, from its bearer token.
pub(super) struct Authed(pub(super) Arc<Tenant>);

impl FromRequestParts<Arc<Service>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<Service>) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)?;
        admitted(state, token).map(Authed)
    }
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, ApiCode::Unauthorized, detail)
}

/// The bearer token of a request.
pub(super) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("send Authorization: Bearer <token>"))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))
}

/// The tenant whose token this is, if it is within its request rate.
pub(super) fn admitted(state: &Service, token: &str) -> Result<Arc<Tenant>, ApiError> {
    let tenant = state
        .tenant_for_token(token)
        .ok_or_else(|| unauthorized("unknown token"))?;
    if !tenant.admit() {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ApiCode::RateLimited,
            format!(
                "tenant {} is over its requests per second; retry shortly",
                tenant.name
            ),
        ));
    }
    Ok(tenant)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    tenants: usize,
}

async fn healthz(State(state): State<Arc<Service>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        tenants: state.tenants.len(),
    })
}

async fn readyz(State(state): State<Arc<Service>>) -> Result<Json<Health>, ApiError> {
    // Ready when every tenant's ledger answers.
    for tenant in &state.tenants {
        tenant.scheduler.ledger().last_record("").map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ApiCode::NotReady,
                format!("tenant {}: {e}", tenant.name),
            )
        })?;
    }
    Ok(Json(Health {
        status: "ready",
        tenants: state.tenants.len(),
    }))
}

/// The JSON (or NDJSON) body as text, or why it cannot be had.
fn json_text(
    tenant: &Tenant,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<String, ApiError> {
    require_type(headers, &["application/json", "application/x-ndjson"])?;
    let bytes = body_bytes(tenant.max_body_bytes, &tenant.name, body)?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::bad_request(ApiCode::InvalidBody, "the body is not UTF-8"))
}

/// The body, or why it cannot be had: 413 when over `max` (the tenant's
/// limit) or the server's.
pub(super) fn body_bytes(
    max: Option<usize>,
    tenant: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ApiError> {
    if let (Some(max), Ok(bytes)) = (max, &body)
        && bytes.len() > max
    {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ApiCode::TooLarge,
            format!(
                "{} bytes is over tenant {tenant}'s limit of {max}",
                bytes.len()
            ),
        ));
    }
    body.map_err(|r| {
        let code = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiCode::TooLarge
        } else {
            ApiCode::UnreadableBody
        };
        ApiError::new(r.status(), code, r.body_text())
    })
}

/// 415 unless the request's content type is one of `accepted`.
pub(super) fn require_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = kind.split(';').next().unwrap_or("").trim();
    if accepted.iter().any(|a| a.eq_ignore_ascii_case(essence)) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiCode::UnsupportedMediaType,
            format!("send {}, not {kind:?}", accepted.join(" or ")),
        ))
    }
}

#[derive(Serialize)]
struct Accepted {
    accepted: usize,
    new: usize,
    evaluations: usize,
}

async fn ingest(
    tenant: Arc<Tenant>,
    observations: Vec<Observation>,
) -> Result<Json<Accepted>, ApiError> {
    let accepted = observations.len();
    // Policies run on the blocking pool; the answer comes after the flush.
    let (new, pass) = tokio::task::spawn_blocking(move || tenant.scheduler.ingest(&observations))
        .await
        .map_err(|e| ApiError::internal(format!("ingest task: {e}")))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(Accepted {
        accepted,
        new,
        evaluations: pass.recorded,
    }))
}

async fn post_observations(
    Authed(tenant): Authed,
    headers: HeaderMap,
    payload: Result<Bytes, BytesRejection>,
) -> Result<Json<Accepted>, ApiError> {
    let text = json_text(&tenant, &headers, payload)?;
    let observations = parse_observations(&text, "body")
        .map_err(|e| ApiError::bad_request(ApiCode::InvalidObservation, e.to_string()))?;
    ingest(tenant, observations).await
}

async fn post_lineage(
    Authed(tenant): Authed,
    headers: HeaderMap,
    payload: Result<Bytes, BytesRejection>,
) -> Result<Json<Accepted>, ApiError> {
    let text = json_text(&tenant, &headers, payload)?;
    let observations = crate::openlineage::observations_from(&text, "body")
        .map_err(|e| ApiError::bad_request(ApiCode::InvalidEvent, e.to_string()))?;
    ingest(tenant, observations).await
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

fn parse_time(text: Option<&str>, name: &str) -> Result<jiff::Timestamp, ApiError> {
    match text {
        Some(t) => t.parse().map_err(|e| {
            ApiError::bad_request(ApiCode::InvalidQuery, format!("{name}={t:?}: {e}"))
        }),
        None => Ok(jiff::Timestamp::now()),
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|r| ApiError::bad_request(ApiCode::InvalidQuery, r.body_text()))
}

async fn report(tenant: &Tenant, at: jiff::Timestamp) -> Result<StatusReport, ApiError> {
    let slos = tenant
        .scheduler
        .slos()
        .iter()
        .map(|a| a.slo.clone())
        .collect();
    status_report(tenant.scheduler.ledger(), slos, at)
        .map_err(|e| ApiError::internal(e.to_string()))
}

async fn list_slos(
    Authed(tenant): Authed,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<StatusReport>, ApiError> {
    let at = at_time(query(q)?.at.as_deref())?;
    Ok(Json(report(&tenant, at).await?))
}

async fn get_slo(
    Authed(tenant): Authed,
    Path(name): Path<String>,
    q: Result<Query<AtQuery>, QueryRejection>,
) -> Result<Json<crate::status::SloStatus>, ApiError> {
    let at = at_time(query(q)?.at.as_deref())?;
    let mut status = report(&tenant, at).await?;
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
    let records = tenant
        .scheduler
        .ledger()
        .records(Some(&name), since)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(records))
}
