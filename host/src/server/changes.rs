//! `PUT /v1/slos`, `PUT /v1/policies/{name}` and `GET /v1/policies`.

use super::error::{ApiCode, ApiError};
use super::extract::{Authed, body_bytes, require_type};
use super::json::Json;
use crate::ledger::PolicyEntry;
use crate::model::PolicyRef;
use crate::registry::RegistryError;
use crate::runtime::LoadErrorKind;
use crate::service::{ChangeError, PolicyStored, SlosApplied, Tenant};
use crate::trust::{Signature, TrustError};
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
            ChangeError::Untrusted(e) => trust_status(e),
            ChangeError::Registry(_) => (StatusCode::INTERNAL_SERVER_ERROR, ApiCode::Internal),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// A refusal under `trusted_keys` is 403; a signature that does not parse, 400.
fn trust_status(e: &TrustError) -> (StatusCode, ApiCode) {
    let forbidden = |code| (StatusCode::FORBIDDEN, code);
    match e {
        TrustError::Unsigned { .. } => forbidden(ApiCode::PolicyUnsigned),
        TrustError::Untrusted { .. } => forbidden(ApiCode::PolicyUntrusted),
        TrustError::Revoked { .. } => forbidden(ApiCode::PolicyRevoked),
        TrustError::BadSignature { .. } => forbidden(ApiCode::PolicyBadSignature),
        TrustError::Tampered { .. } => forbidden(ApiCode::PolicyTampered),
        _ => (StatusCode::BAD_REQUEST, ApiCode::SignatureInvalid),
    }
}

/// The `Dataslo-Signature` headers of an upload of `bytes`: `<base64 public
/// key>:<base64 signature>` each, signing the body's sha256.
fn signatures(headers: &HeaderMap, bytes: &[u8]) -> Result<Vec<Signature>, ApiError> {
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
    headers
        .get_all(SIGNATURE_HEADER)
        .iter()
        .map(|value| {
            let text = value.to_str().unwrap_or_default();
            Signature::from_header(text, &sha256)
                .map_err(|e| ApiError::from(ChangeError::Untrusted(e)))
        })
        .collect()
}

/// The header an upload's signatures come in (one per key).
pub(super) const SIGNATURE_HEADER: &str = "dataslo-signature";

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
    let signatures = signatures(&headers, &bytes)?;
    let stored = blocking(tenant, move |t| {
        t.put_policy(&name, &bytes, &signatures, jiff::Timestamp::now())
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
