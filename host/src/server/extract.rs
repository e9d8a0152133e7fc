//! Reading a request, in one place: the tenant from its bearer token (within
//! its rate), the body within the limits, of an accepted type and encoding,
//! and the query string and times, each failure an [`ApiError`] naming what is wrong.

use super::error::{ApiCode, ApiError};
use crate::service::{Service, Tenant};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use std::sync::Arc;

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

/// The bearer token of a request, exactly as sent after `Bearer `: a token
/// with a space or tab around it is another token (the HTTP parser has
/// already dropped whitespace at the ends of the header).
pub(super) fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("send Authorization: Bearer <token>"))?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
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

/// The largest body of a request, as the server's own limit for its path; a
/// tenant's `max_body_bytes` may lower it.
#[derive(Debug, Clone, Copy)]
pub(super) struct BodyLimit(pub(super) usize);

/// The JSON (or NDJSON) body as text, gzip decompressed, or why it cannot be
/// had. The limit (the tenant's, else the server's) bounds the decompressed
/// bytes too.
pub(super) fn json_text(
    tenant: &Tenant,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    BodyLimit(server_max): BodyLimit,
) -> Result<String, ApiError> {
    require_type(headers, &["application/json", "application/x-ndjson"])?;
    let bytes = body_bytes(tenant.max_body_bytes, &tenant.name, body)?;
    let (max, whose) = match tenant.max_body_bytes {
        Some(max) => (max, format!("tenant {}'s", tenant.name)),
        None => (server_max, "the server's".to_string()),
    };
    let bytes = super::encoding::decoded(headers, bytes, max, &whose)?;
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
        if timed_out(&r) {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ApiCode::RequestTimeout,
                r.body_text(),
            );
        }
        let code = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiCode::TooLarge
        } else {
            ApiCode::UnreadableBody
        };
        ApiError::new(r.status(), code, r.body_text())
    })
}

/// Whether the body failed because it did not arrive within `body_timeout`.
fn timed_out(rejection: &BytesRejection) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(e) = cause {
        if e.is::<super::watch::BodyTimedOut>() {
            return true;
        }
        cause = e.source();
    }
    false
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

pub(super) fn parse_time(text: Option<&str>, name: &str) -> Result<jiff::Timestamp, ApiError> {
    match text {
        Some(t) => t.parse().map_err(|e| {
            ApiError::bad_request(ApiCode::InvalidQuery, format!("{name}={t:?}: {e}"))
        }),
        None => Ok(jiff::Timestamp::now()),
    }
}

pub(super) fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(v)| v)
        .map_err(|r| ApiError::bad_request(ApiCode::InvalidQuery, r.body_text()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn token_of(value: &'static str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        bearer(&headers).ok().map(str::to_string)
    }

    #[test]
    fn the_bearer_token_is_taken_exactly_as_sent() {
        assert_eq!(token_of("Bearer s3cret").as_deref(), Some("s3cret"));
        assert_eq!(token_of("Bearer  s3cret").as_deref(), Some(" s3cret"));
        assert_eq!(token_of("Bearer s3cret\t").as_deref(), Some("s3cret\t"));
        assert_eq!(token_of("Bearer \ts3cret ").as_deref(), Some("\ts3cret "));
        assert_eq!(token_of("Basic s3cret"), None);
        assert_eq!(token_of("Bearers3cret"), None);
    }
}
