//! Every error is JSON `{"error", "detail"}` with the right status code; the
//! codes are [`ApiCode`], listed in docs/api.md.

use super::json::Json;
use crate::ledger::LedgerError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The stable machine-readable code of an API error: the one table of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiCode {
    /// An observation that does not parse or validate.
    InvalidObservation,
    /// An OpenLineage event that does not parse.
    InvalidEvent,
    /// A bad query parameter.
    InvalidQuery,
    /// A body that is not UTF-8.
    InvalidBody,
    /// A body that could not be read.
    UnreadableBody,
    /// A policy name outside the rules.
    InvalidName,
    /// An upload that is no usable policy.
    InvalidPolicy,
    /// An upload whose compile would pass a compile limit.
    CompileLimit,
    /// SLOs that do not parse or validate.
    InvalidSlo,
    /// No token, or one no tenant has.
    Unauthorized,
    /// No such SLO or endpoint.
    NotFound,
    /// An SLO sent has the name of one in the config files.
    Conflict,
    /// A body over its limit.
    TooLarge,
    /// A content type the endpoint does not take.
    UnsupportedMediaType,
    /// Over the tenant's `max_policies`.
    PolicyLimit,
    /// Over the tenant's requests per second.
    RateLimited,
    /// A ledger that does not answer.
    NotReady,
    /// A storage failure.
    Internal,
    /// The device under the ledger is full (507).
    InsufficientStorage,
    /// The ledger's storage failed or does not answer (503).
    StorageUnavailable,
    /// A request body that did not arrive within `body_timeout` (408).
    RequestTimeout,
    /// A change of SLOs or policies sent to an agent: central's (405).
    CentralOnly,
    /// Observations sent to an agent whose unpublished records reached
    /// `[agent] max_unpublished` (503, with `Retry-After`).
    BufferFull,
    /// An upload without a signature, where the tenant sets `trusted_keys` (403).
    PolicyUnsigned,
    /// An upload signed by no trusted key (403).
    PolicyUntrusted,
    /// An upload signed only by revoked keys (403).
    PolicyRevoked,
    /// An upload whose trusted signature does not verify (403).
    PolicyBadSignature,
    /// An upload whose trusted signature signs other bytes (403).
    PolicyTampered,
    /// A `Dataslo-Signature` header that does not parse (400).
    SignatureInvalid,
}

impl ApiCode {
    /// Every code, for reading them back.
    pub const ALL: [ApiCode; 29] = [
        ApiCode::InvalidObservation,
        ApiCode::InvalidEvent,
        ApiCode::InvalidQuery,
        ApiCode::InvalidBody,
        ApiCode::UnreadableBody,
        ApiCode::InvalidName,
        ApiCode::InvalidPolicy,
        ApiCode::CompileLimit,
        ApiCode::InvalidSlo,
        ApiCode::Unauthorized,
        ApiCode::NotFound,
        ApiCode::Conflict,
        ApiCode::TooLarge,
        ApiCode::UnsupportedMediaType,
        ApiCode::PolicyLimit,
        ApiCode::RateLimited,
        ApiCode::NotReady,
        ApiCode::Internal,
        ApiCode::InsufficientStorage,
        ApiCode::StorageUnavailable,
        ApiCode::RequestTimeout,
        ApiCode::CentralOnly,
        ApiCode::BufferFull,
        ApiCode::PolicyUnsigned,
        ApiCode::PolicyUntrusted,
        ApiCode::PolicyRevoked,
        ApiCode::PolicyBadSignature,
        ApiCode::PolicyTampered,
        ApiCode::SignatureInvalid,
    ];

    /// The code as sent, e.g. `not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiCode::InvalidObservation => "invalid_observation",
            ApiCode::InvalidEvent => "invalid_event",
            ApiCode::InvalidQuery => "invalid_query",
            ApiCode::InvalidBody => "invalid_body",
            ApiCode::UnreadableBody => "unreadable_body",
            ApiCode::InvalidName => "invalid_name",
            ApiCode::InvalidPolicy => "invalid_policy",
            ApiCode::CompileLimit => "compile_limit",
            ApiCode::InvalidSlo => "invalid_slo",
            ApiCode::Unauthorized => "unauthorized",
            ApiCode::NotFound => "not_found",
            ApiCode::Conflict => "conflict",
            ApiCode::TooLarge => "too_large",
            ApiCode::UnsupportedMediaType => "unsupported_media_type",
            ApiCode::PolicyLimit => "policy_limit",
            ApiCode::RateLimited => "rate_limited",
            ApiCode::NotReady => "not_ready",
            ApiCode::Internal => "internal",
            ApiCode::InsufficientStorage => "insufficient_storage",
            ApiCode::StorageUnavailable => "storage_unavailable",
            ApiCode::RequestTimeout => "request_timeout",
            ApiCode::CentralOnly => "central_only",
            ApiCode::BufferFull => "buffer_full",
            ApiCode::PolicyUnsigned => "policy_unsigned",
            ApiCode::PolicyUntrusted => "policy_untrusted",
            ApiCode::PolicyRevoked => "policy_revoked",
            ApiCode::PolicyBadSignature => "policy_bad_signature",
            ApiCode::PolicyTampered => "policy_tampered",
            ApiCode::SignatureInvalid => "signature_invalid",
        }
    }
}

impl Serialize for ApiCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for ApiCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// An API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable machine-readable code.
    pub error: ApiCode,
    /// What a human needs to fix it.
    pub detail: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: ApiCode,
    detail: &'a str,
}

impl ApiError {
    /// An error of `status` with `error` code and `detail`.
    pub fn new(status: StatusCode, error: ApiCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            detail: detail.into(),
        }
    }

    /// 400.
    pub fn bad_request(error: ApiCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ApiCode::NotFound, detail)
    }

    /// 500, for storage failures: the detail says which.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, ApiCode::Internal, detail)
    }
}

/// A full device is 507, failed or stalled storage 503, anything else 500.
pub(super) fn storage_status(e: &LedgerError) -> (StatusCode, ApiCode) {
    match e {
        LedgerError::StorageFailed { full: true, .. } => (
            StatusCode::INSUFFICIENT_STORAGE,
            ApiCode::InsufficientStorage,
        ),
        LedgerError::StorageFailed { .. } | LedgerError::FlushStalled { .. } => {
            (StatusCode::SERVICE_UNAVAILABLE, ApiCode::StorageUnavailable)
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, ApiCode::Internal),
    }
}

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> Self {
        let (status, code) = storage_status(&e);
        ApiError::new(status, code, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(Body {
                error: self.error,
                detail: &self.detail,
            }),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_sent_as_its_own_name() {
        let mut seen = std::collections::HashSet::new();
        for code in ApiCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{code}\""));
        }
        let body = serde_json::to_string(&Body {
            error: ApiCode::UnsupportedMediaType,
            detail: "send application/json",
        })
        .unwrap();
        assert_eq!(
            body,
            r#"{"error":"unsupported_media_type","detail":"send application/json"}"#
        );
    }

    #[test]
    fn a_full_device_is_507_and_failed_storage_503_naming_the_cause() {
        let full = ApiError::from(LedgerError::StorageFailed {
            full: true,
            cause: "no space left on the device of the ledger /d".into(),
        });
        assert_eq!(full.status, StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(full.error, ApiCode::InsufficientStorage);
        assert!(full.detail.contains("no space left"), "{}", full.detail);
        let stalled = ApiError::from(LedgerError::FlushStalled { seconds: 21 });
        assert_eq!(stalled.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(stalled.error, ApiCode::StorageUnavailable);
        let other = ApiError::from(LedgerError::Storage("x".into()));
        assert_eq!(other.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
