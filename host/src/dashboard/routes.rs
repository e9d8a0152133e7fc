//! The dashboard's handlers: who is looking, which tenants they may see, and
//! the figures of the page, read from the ledger on the blocking pool.

use super::auth::{self, Viewer};
use super::html::{PageError, page};
use super::pages::{self, Card, Group, View};
use super::series;
use crate::service::{Service, Tenant};
use crate::slo::Slo;
use crate::status::status_report;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

/// Evaluations listed on an SLO's page.
const RECENT_EVALUATIONS: usize = 100;
/// Alert transitions listed on an SLO's page.
const RECENT_TRANSITIONS: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    /// The figures' time (RFC 3339); now when absent.
    at: Option<String>,
    /// For an admin: the tenant to show.
    tenant: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    token: String,
}

fn see_other(location: &'static str, cookie: Option<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    if let Some(cookie) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn html_or_error(result: Result<String, PageError>) -> Response {
    match result {
        Ok(html) => page(StatusCode::OK, html),
        Err(e) => e.into_response(),
    }
}

/// `GET /login`.
pub(super) async fn login_form() -> Response {
    page(StatusCode::OK, pages::login(None))
}

/// `POST /login`: a valid token gets the session cookie and goes to `/`;
/// anything else gets the form again with what was wrong.
pub(super) async fn login(
    State(state): State<Arc<Service>>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(FormRejection::InvalidFormContentType(_)) => {
            return page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                pages::login(Some("Send the form as application/x-www-form-urlencoded.")),
            );
        }
        Err(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                pages::login(Some("The form needs a token field.")),
            );
        }
    };
    let Some(viewer) = auth::by_token(&state, &form.token) else {
        return page(
            StatusCode::UNAUTHORIZED,
            pages::login(Some("That token is not valid.")),
        );
    };
    match auth::login_cookie(&viewer, jiff::Timestamp::now()) {
        Some(cookie) => see_other("/", Some(cookie)),
        None => page(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::login(Some(
                "Sessions are unavailable (no randomness for their key); \
                 send Authorization: Bearer instead.",
            )),
        ),
    }
}

/// `POST /logout`.
pub(super) async fn logout() -> Response {
    see_other("/login", Some(auth::logout_cookie()))
}

/// `GET /`: one card per SLO in view.
pub(super) async fn home(
    State(state): State<Arc<Service>>,
    headers: HeaderMap,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let Some(viewer) = auth::from_headers(&state, &headers, jiff::Timestamp::now()) else {
        return see_other("/login", None);
    };
    html_or_error(home_page(&state, viewer, q).await)
}

/// `GET /slos/{name}`: one SLO, its evaluations and its alert timeline.
pub(super) async fn slo_page(
    State(state): State<Arc<Service>>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let Some(viewer) = auth::from_headers(&state, &headers, jiff::Timestamp::now()) else {
        return see_other("/login", None);
    };
    let name = match name {
        Ok(Path(name)) => name,
        Err(r) => return PageError::bad_request(r.body_text()).into_response(),
    };
    html_or_error(one_slo_page(&state, viewer, name, q).await)
}

fn query(q: Result<Query<PageQuery>, QueryRejection>) -> Result<PageQuery, PageError> {
    q.map(|Query(v)| v)
        .map_err(|r| PageError::bad_request(r.body_text()))
}

/// The page's time: `at`, or now.
fn time_of(at: Option<&str>) -> Result<jiff::Timestamp, PageError> {
    let Some(text) = at else {
        return Ok(jiff::Timestamp::now());
    };
    crate::status::parse_at(text).map_err(PageError::bad_request)
}

/// The tenants `viewer` sees: an admin every one or the one it names; a
/// tenant itself only, and another tenant's name is as unknown as a typo.
fn tenants_in_view(
    state: &Service,
    viewer: &Viewer,
    named: Option<&str>,
) -> Result<Vec<Arc<Tenant>>, PageError> {
    let unknown = |n: &str| PageError::not_found(format!("no tenant named {n:?}"));
    match (viewer, named) {
        (Viewer::Admin, None) => Ok(state.tenants.clone()),
        (Viewer::Admin, Some(n)) => state
            .tenants
            .iter()
            .find(|t| t.name == n)
            .map(|t| vec![t.clone()])
            .ok_or_else(|| unknown(n)),
        (Viewer::Tenant(t), None) => Ok(vec![t.clone()]),
        (Viewer::Tenant(t), Some(n)) if n == t.name => Ok(vec![t.clone()]),
        (Viewer::Tenant(_), Some(n)) => Err(unknown(n)),
    }
}

/// A tenant's pages count against its request rate, as its API calls do.
fn admit(viewer: &Viewer) -> Result<(), PageError> {
    match viewer {
        Viewer::Tenant(t) if !t.admit() => Err(PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "tenant {} is over its requests per second; retry shortly",
                t.name
            ),
        )),
        _ => Ok(()),
    }
}

fn view(viewer: &Viewer, at: jiff::Timestamp, at_param: Option<String>) -> View {
    View {
        viewer: viewer.label(),
        admin: matches!(viewer, Viewer::Admin),
        at,
        at_param,
    }
}

/// Ledger reads are blocking: they run on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PageError::internal(format!("page task: {e}")))?
}

fn card(tenant: &Tenant, slo: &Slo, at: jiff::Timestamp) -> Result<Card, PageError> {
    let ledger = tenant.scheduler.ledger();
    let storage = |e: crate::ledger::LedgerError| PageError::internal(e.to_string());
    let status = status_report(ledger, vec![slo.clone()], at)
        .map_err(storage)?
        .slos
        .pop()
        .ok_or_else(|| PageError::internal(format!("no status for SLO {:?}", slo.name)))?;
    Ok(Card {
        status,
        burndown: series::burndown(ledger, slo, 0, at).map_err(storage)?,
        burn_rate: series::burn_rate(ledger, slo, 0, at).map_err(storage)?,
    })
}

async fn home_page(
    state: &Service,
    viewer: Viewer,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<String, PageError> {
    let q = query(q)?;
    let at = time_of(q.at.as_deref())?;
    let tenants = tenants_in_view(state, &viewer, q.tenant.as_deref())?;
    admit(&viewer)?;
    let groups = blocking(move || {
        tenants
            .iter()
            .map(|tenant| {
                let cards = tenant
                    .scheduler
                    .slos()
                    .iter()
                    .map(|armed| card(tenant, &armed.slo, at))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Group {
                    tenant: tenant.name.clone(),
                    cards,
                    agents: tenant
                        .scheduler
                        .ledger()
                        .agent_reports()
                        .map_err(|e| PageError::internal(e.to_string()))?,
                })
            })
            .collect::<Result<Vec<_>, PageError>>()
    })
    .await?;
    Ok(pages::home(&view(&viewer, at, q.at), &groups))
}

async fn one_slo_page(
    state: &Service,
    viewer: Viewer,
    name: String,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<String, PageError> {
    let q = query(q)?;
    let at = time_of(q.at.as_deref())?;
    if matches!(viewer, Viewer::Admin) && q.tenant.is_none() {
        return Err(PageError::bad_request(
            "an admin names the tenant: /slos/NAME?tenant=TENANT",
        ));
    }
    let tenant = tenants_in_view(state, &viewer, q.tenant.as_deref())?
        .pop()
        .ok_or_else(|| PageError::not_found("no such tenant"))?;
    admit(&viewer)?;
    let slo = tenant
        .scheduler
        .slos()
        .iter()
        .find(|a| a.slo.name == name)
        .map(|a| a.slo.clone())
        .ok_or_else(|| PageError::not_found(format!("no SLO named {name:?}")))?;
    let view = view(&viewer, at, q.at);
    blocking(move || {
        let card = card(&tenant, &slo, at)?;
        let ledger = tenant.scheduler.ledger();
        let storage = |e: crate::ledger::LedgerError| PageError::internal(e.to_string());
        let records = ledger
            .recent_records(&slo.name, at, RECENT_EVALUATIONS)
            .map_err(storage)?;
        let mut transitions: Vec<_> = ledger
            .transitions()
            .map_err(storage)?
            .into_iter()
            .filter(|t| t.slo == slo.name && t.at <= at)
            .collect();
        transitions.reverse();
        transitions.truncate(RECENT_TRANSITIONS);
        Ok(pages::slo(
            &view,
            &tenant.name,
            &card,
            &records,
            &transitions,
        ))
    })
    .await
}
