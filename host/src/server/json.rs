//! The API's JSON answers: [`Json`] writes its value with
//! [`crate::model::to_json`], so the text policies and inputs put in an
//! answer (details, error messages, descriptions, names) reaches a client
//! with no raw control character, C1 or bidi control, whatever reads it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An answer of `application/json`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match crate::model::to_json(&self.0) {
            Ok(text) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                text,
            )
                .into_response(),
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot write the answer as JSON: {e}"),
            )
                .into_response(),
        }
    }
}
