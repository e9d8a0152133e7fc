//! The dashboard of `dataslo serve`: server-rendered HTML pages with inline
//! SVG charts and inline CSS, and no script at all.
//!
//! - `GET /`: one card per SLO in view (budget, objectives, a budget
//!   burn-down chart, a burn-rate sparkline, firing alerts); an admin sees
//!   every tenant's, grouped by tenant.
//! - `GET /slos/{name}`: one SLO with its recent evaluations and its alert
//!   timeline; an admin adds `?tenant=NAME`.
//! - `GET`/`POST /login`, `POST /logout`: a signed session cookie (see
//!   `auth`); an `Authorization: Bearer` header works as well.
//!
//! Both pages take `?at=RFC3339` (default now). Bad input gets an HTML
//! error page (400, 401, 404, 415, 429), never a 500.
//!
//! Depends on service (tenants, who may sign in), status, budget, ledger,
//! slo and model (escaping). Nothing depends on it: `serve` hands its router to the server.

mod agents;
mod auth;
mod charts;
mod html;
mod pages;
mod routes;
mod series;

use crate::service::Service;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

/// The dashboard's routes, merged into the server's router.
pub fn router() -> Router<Arc<Service>> {
    Router::new()
        .route("/", get(routes::home))
        .route("/login", get(routes::login_form).post(routes::login))
        .route("/logout", post(routes::logout))
        .route("/slos/{name}", get(routes::slo_page))
}
