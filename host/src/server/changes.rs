//! `PUT /v1/slos`, `PUT /v1/policies/{name}` and `GET /v1/policies`.

use super::error::{ApiCode, ApiError};
use super::extract::{Authed, body_bytes, require_type};
use super::json::Json;
use crate::ledger::PolicyEntry;
use crate::model::PolicyRef;
use crate::registry::RegistryError;
use crate::runtime::LoadErrorKind;
use crate::service::{ChangeError, PolicyStored, SlosApplied, Tenant};
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use std::sync::Arc;

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        let (status, code) = match &e {
            ChangeError::InvalidSlos(_) => (StatusCode::UNPROCESSABLE_ENTITY, ApiCode::InvalidSlo),
            ChangeError::NameTaken(_) => (StatusCode::CONFLICT, ApiCode::Conflict),
            ChangeError::OverLimit { .. } => (StatusCode::TOO_MANY_REQUESTS, ApiCode::PolicyLimit),
            ChangeError::Registry(RegistryError::BadName(_)) => {
                (StatusCode::BAD_REQUEST, ApiCode::InvalidName)
            }
            ChangeError::Registry(RegistryError::Invalid(e)) => match &e.kind {
                LoadErrorKind::CompileLimit { .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, ApiCode::CompileLimit)
                }
                LoadErrorKind::CompileFailed(_) => {
                    (StatusCode::INTERNAL_SERVER_ERROR, ApiCode::Internal)
                }
                _ => (StatusCode::UNPROCESSABLE_ENTITY, ApiCode::InvalidPolicy),
            },
            ChangeError::Ledger(e) => super::error::storage_status(e),
            ChangeError::Registry(_) => (StatusCode::INTERNAL_SERVER_ERROR, ApiCode::Internal),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// Runs a change on the blocking pool: it compiles and calls policies.
async fn blocking<T: Send + 'static>(
    tenant: Arc<Tenant>,
    change: impl FnOnce(&Tenant) -> Result<T, ChangeError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || change(&tenant))
        .await
        .map_err(|e| ApiError::internal(format!("change task: {e}")))?
        .map_err(ApiError::from)
}

pub(super) async fn put_slos(
    Authed(tenant): Authed,
    headers: HeaderMap,
    payload: Result<Bytes, BytesRejection>,
) -> Result<Json<SlosApplied>, ApiError> {
    require_type(
        &headers,
        &["application/yaml", "application/x-yaml", "text/yaml"],
    )?;
    let bytes = body_bytes(tenant.max_body_bytes, &tenant.name, payload)?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::bad_request(ApiCode::InvalidBody, "the body is not UTF-8"))?;
    Ok(Json(blocking(tenant, move |t| t.put_slos(&text)).await?))
}

pub(super) async fn put_policy(
    Authed(tenant): Authed,
    Path(name): Path<String>,
    headers: HeaderMap,
    payload: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PolicyStored>), ApiError> {
    require_type(&headers, &["application/wasm", "application/octet-stream"])?;
    crate::registry::check_name(&name).map_err(ChangeError::from)?;
    // The server's max_policy_bytes bounds uploads, not the tenant's JSON limit.
    let bytes = body_bytes(None, &tenant.name, payload)?;
    let stored = blocking(tenant, move |t| {
        t.put_policy(&name, &bytes, jiff::Timestamp::now())
    })
    .await?;
    let status = if stored.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(stored)))
}

#[derive(Serialize)]
pub(super) struct PolicyList {
    builtins: Vec<&'static str>,
    uploaded: Vec<Listed>,
}

#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    entry: PolicyEntry,
    used_by: Vec<String>,
}

pub(super) async fn list_policies(Authed(tenant): Authed) -> Json<PolicyList> {
    let slos = tenant.scheduler.slos();
    let uploaded = tenant
        .registry
        .entries()
        .into_iter()
        .map(|entry| {
            let spec = PolicyRef::Uploaded(entry.name.clone());
            let used_by = slos
                .iter()
                .filter(|a| a.slo.policy.spec == spec)
                .map(|a| a.slo.name.clone())
                .collect();
            Listed { entry, used_by }
        })
        .collect();
    Json(PolicyList {
        builtins: crate::runtime::builtin_names().collect(),
        uploaded,
    })
}
