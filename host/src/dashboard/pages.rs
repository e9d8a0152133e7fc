//! The pages: login, the cards of every SLO in view, and one SLO's page. They
//! render figures already computed; every text from outside is escaped here.

use super::charts;
use super::html::{escape, layout, percent, time, url_component};
use super::series::Series;
use crate::ledger::{EvalRecord, Outcome, Transition};
use crate::status::SloStatus;
use std::fmt::Write;

/// Longest evaluation detail shown, in characters.
const DETAIL_CHARS: usize = 300;

/// One SLO's figures and charts.
pub struct Card {
    /// Its status at the page's time.
    pub status: SloStatus,
    /// Budget remaining of its first objective over its window.
    pub burndown: Series,
    /// 1-hour burn rate of its first objective over the last day.
    pub burn_rate: Series,
}

/// The cards of one tenant.
pub struct Group {
    /// The tenant.
    pub tenant: String,
    /// Its SLOs, in file order.
    pub cards: Vec<Card>,
    /// Its agents' last heartbeats.
    pub agents: Vec<crate::ledger::AgentReport>,
}

/// What every page shows and every link keeps.
pub struct View {
    /// Who is looking, for the header.
    pub viewer: String,
    /// Whether the viewer is an admin: links then name the tenant.
    pub admin: bool,
    /// The figures' time.
    pub at: jiff::Timestamp,
    /// The `at` the request asked for, kept in links.
    pub at_param: Option<String>,
}

impl View {
    fn header(&self) -> String {
        format!(
            "<span class=\"muted\" style=\"color:#cfd5de\">{}</span>\
             <form method=\"post\" action=\"/logout\"><button type=\"submit\">Log out</button></form>",
            escape(&self.viewer)
        )
    }

    /// The link to an SLO's page, escaped for an attribute.
    fn slo_href(&self, tenant: &str, slo: &str) -> String {
        let mut query = Vec::new();
        if self.admin {
            query.push(format!("tenant={}", url_component(tenant)));
        }
        if let Some(at) = &self.at_param {
            query.push(format!("at={}", url_component(at)));
        }
        let mut href = format!("/slos/{}", url_component(slo));
        if !query.is_empty() {
            href.push('?');
            href.push_str(&query.join("&"));
        }
        escape(&href)
    }

    fn home_href(&self) -> String {
        match &self.at_param {
            Some(at) => escape(&format!("/?at={}", url_component(at))),
            None => "/".into(),
        }
    }
}

/// The login form, with the error of a failed attempt.
pub fn login(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<form class=\"login\" method=\"post\" action=\"/login\">\
         <h2>Sign in</h2>{error}\
         <label for=\"token\">Token</label>\
         <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"current-password\" required autofocus>\
         <button type=\"submit\">Sign in</button>\
         <p class=\"muted\">A tenant's API token, or an admin token to see every tenant.</p>\
         </form>"
    );
    layout("Sign in", "", &body)
}

/// Every SLO in view, one card each, grouped by tenant for an admin.
pub fn home(view: &View, groups: &[Group]) -> String {
    let mut body = format!("<p class=\"muted\">Figures at {}.</p>", time(view.at));
    for group in groups {
        if view.admin {
            let _ = write!(
                body,
                "<h2 class=\"tenant\">Tenant {}</h2>",
                escape(&group.tenant)
            );
        }
        let agents = super::agents::agents_table(&group.agents);
        if group.cards.is_empty() {
            body.push_str("<p class=\"muted\">No SLOs.</p>");
            body.push_str(&agents);
            continue;
        }
        body.push_str("<div class=\"cards\">");
        for card in &group.cards {
            body.push_str(&card_html(view, &group.tenant, card, true));
        }
        body.push_str("</div>");
        body.push_str(&agents);
    }
    if groups.is_empty() {
        body.push_str("<p class=\"muted\">No tenants.</p>");
    }
    layout("SLOs", &view.header(), &body)
}

/// One SLO's page: its card, its alert transitions and its recent
/// evaluations, newest first.
pub fn slo(
    view: &View,
    tenant: &str,
    card: &Card,
    records: &[EvalRecord],
    transitions: &[Transition],
) -> String {
    let mut body = format!(
        "<p><a href=\"{}\">← All SLOs</a> <span class=\"muted\">· figures at {}</span></p>",
        view.home_href(),
        time(view.at)
    );
    if view.admin {
        let _ = write!(body, "<p class=\"muted\">Tenant {}</p>", escape(tenant));
    }
    body.push_str(&card_html(view, tenant, card, false));
    // The timeline is short; the evaluations run to a hundred rows.
    let _ = write!(
        body,
        "<h2>Alert timeline</h2>{}<h2>Recent evaluations</h2>{}",
        timeline_table(transitions),
        evaluations_table(records)
    );
    layout(&card.status.slo, &view.header(), &body)
}

fn budget_class(remaining: Option<f64>) -> &'static str {
    match remaining {
        Some(v) if v > 0.25 => "ok",
        Some(v) if v > 0.0 => "warn",
        Some(_) => "bad",
        None => "none",
    }
}

fn card_html(view: &View, tenant: &str, card: &Card, linked: bool) -> String {
    let s = &card.status;
    let name = escape(&s.slo);
    let title = if linked {
        format!("<a href=\"{}\">{name}</a>", view.slo_href(tenant, &s.slo))
    } else {
        name.clone()
    };
    let first = s.objectives.first();
    let remaining = first.and_then(|o| o.budget_remaining);
    let mut html = format!(
        "<section class=\"card{single}\" id=\"slo-{id}\"><h3>{title}</h3>\
         <div class=\"muted dataset\">{namespace} / {dataset} · window {window}</div>\
         <div><span class=\"budget {class}\">{budget}</span> \
         <span class=\"muted\">budget remaining</span></div>",
        single = if linked { "" } else { " single" },
        id = escape(&url_component(&s.slo)),
        namespace = escape(&s.dataset.namespace),
        dataset = escape(&s.dataset.name),
        window = escape(&s.window),
        class = budget_class(remaining),
        budget = remaining.map_or_else(|| "no data".into(), percent),
    );
    html.push_str(
        "<table class=\"objectives\"><tr><th>Objective</th><th>Target</th><th>SLI</th>\
         <th>Budget left</th><th>Bad / allowed</th></tr>",
    );
    for o in &s.objectives {
        let name = if o.objective.is_empty() {
            "(unnamed)"
        } else {
            &o.objective
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num {}\">{}</td><td class=\"num\">{} / {:.1}</td></tr>",
            escape(name),
            percent(o.target),
            o.sli.map_or_else(|| "–".into(), percent),
            budget_class(o.budget_remaining),
            o.budget_remaining.map_or_else(|| "–".into(), percent),
            o.budget_spent,
            o.budget_allowed,
        );
    }
    html.push_str("</table>");
    let objective = first
        .map(|o| o.objective.as_str())
        .filter(|n| !n.is_empty() && s.objectives.len() > 1)
        .map(|n| format!(" ({})", escape(n)))
        .unwrap_or_default();
    let _ = write!(
        html,
        "<div class=\"charts\"><div class=\"chart\"><h4>Error budget remaining over the window{objective}</h4>{}</div>\
         <div class=\"chart\"><h4>1-hour burn rate, last day{objective}</h4>{}</div></div>",
        charts::burndown(&card.burndown),
        charts::burn_rate(&card.burn_rate),
    );
    html.push_str("<div class=\"alerts\">");
    if s.firing.is_empty() {
        html.push_str("<span class=\"quiet\">No alert firing</span>");
    } else {
        html.push_str("Firing: ");
        for alert in &s.firing {
            let _ = write!(html, "<span class=\"alert\">{}</span>", escape(alert));
        }
    }
    html.push_str("</div></section>");
    html
}

fn evaluations_table(records: &[EvalRecord]) -> String {
    if records.is_empty() {
        return "<p class=\"muted\">No evaluation yet.</p>".into();
    }
    let mut html = String::from(
        "<table class=\"evaluations\"><tr><th>Time</th><th>Outcome</th><th>Value</th>\
         <th>Good / total</th><th>Detail</th></tr>",
    );
    for r in records {
        let (outcome, detail) = match &r.outcome {
            Outcome::Measured => ("measured".to_string(), r.detail.as_str()),
            Outcome::Error { code, message } => (format!("error: {code}"), message.as_str()),
        };
        let events = r
            .events
            .iter()
            .map(|e| format!("{} / {}", e.good, e.total))
            .collect::<Vec<_>>()
            .join(", ");
        let mut shown: String = detail.chars().take(DETAIL_CHARS).collect();
        if shown.len() < detail.len() {
            shown.push('…');
        }
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            time(r.time),
            escape(&outcome),
            r.value.map(|v| v.to_string()).unwrap_or_default(),
            events,
            escape(&shown),
        );
    }
    html.push_str("</table>");
    html
}

fn timeline_table(transitions: &[Transition]) -> String {
    if transitions.is_empty() {
        return "<p class=\"muted\">No alert has changed state.</p>".into();
    }
    let mut html = String::from(
        "<table class=\"timeline\"><tr><th>Time</th><th>Alert</th><th>Severity</th>\
         <th>Became</th><th>Why</th></tr>",
    );
    for t in transitions {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            time(t.at),
            escape(&t.alert.to_string()),
            escape(t.severity.as_str()),
            escape(t.to.as_str()),
            escape(&t.summary),
        );
    }
    html.push_str("</table>");
    html
}
