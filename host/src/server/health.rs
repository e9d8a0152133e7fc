//! The health checks, and the gate that keeps requests off a ledger whose
//! storage failed. `/healthz` and the gate read the storage's state without
//! calling sled ([`crate::ledger::StorageHealth`]); `/readyz` also reads the
//! ledger, on the blocking pool and within [`READY_PROBE`].

use super::error::{ApiCode, ApiError};
use super::json::Json;
use crate::service::Service;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long `/readyz` waits for every tenant's ledger to answer a read.
const READY_PROBE: Duration = Duration::from_secs(2);

#[derive(Serialize)]
struct Health {
    status: &'static str,
    tenants: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// `GET /healthz`: 200 `ok`, or 503 `degraded` with the reason once the
/// ledger's storage has failed (this process then writes nothing more).
pub(super) async fn healthz(State(state): State<Arc<Service>>) -> Response {
    let tenants = state.tenants.len();
    match state.storage().error() {
        None => Json(Health {
            status: "ok",
            tenants,
            reason: None,
        })
        .into_response(),
        Some(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "degraded",
                tenants,
                reason: Some(e.to_string()),
            }),
        )
            .into_response(),
    }
}

fn not_ready(detail: String) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ApiCode::NotReady, detail)
}

/// `GET /readyz`, with one probe of the ledger at a time: a read that never
/// returns holds one blocking thread, not one per call.
pub(super) fn readyz_route() -> MethodRouter<Arc<Service>> {
    let probing = Arc::new(AtomicBool::new(false));
    get(move |State(state): State<Arc<Service>>| readyz(state, probing.clone()))
}

/// 200 when the storage works and every tenant's ledger answers a read
/// within [`READY_PROBE`], 503 `not_ready` naming why.
async fn readyz(state: Arc<Service>, probing: Arc<AtomicBool>) -> Result<Response, ApiError> {
    if let Some(e) = state.storage().error() {
        return Err(not_ready(e.to_string()));
    }
    if probing.swap(true, Ordering::AcqRel) {
        return Err(not_ready(
            "an earlier read of the ledger has not returned".into(),
        ));
    }
    let probed = state.clone();
    let done = Cleared(probing);
    let probe = tokio::task::spawn_blocking(move || {
        let _done = done;
        for tenant in &probed.tenants {
            if let Err(e) = tenant.scheduler.ledger().last_record("") {
                return Err(format!("tenant {}: {e}", tenant.name));
            }
        }
        Ok(())
    });
    match tokio::time::timeout(READY_PROBE, probe).await {
        Ok(Ok(Ok(()))) => Ok(Json(Health {
            status: "ready",
            tenants: state.tenants.len(),
            reason: None,
        })
        .into_response()),
        Ok(Ok(Err(detail))) => Err(not_ready(detail)),
        Ok(Err(e)) => Err(not_ready(format!("the ledger probe failed: {e}"))),
        Err(_) => Err(not_ready(format!(
            "the ledger did not answer a read within {} s",
            READY_PROBE.as_secs()
        ))),
    }
}

/// Clears the probe's flag when the probe ends, however it ends.
struct Cleared(Arc<AtomicBool>);

impl Drop for Cleared {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Every request but the health checks: refused with the storage's failure
/// (507 when the device is full, else 503) before it reaches the ledger.
pub(super) async fn storage_gate(
    State(state): State<Arc<Service>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(request).await;
    }
    match state.storage().error() {
        Some(e) => ApiError::from(e).into_response(),
        None => next.run(request).await,
    }
}
