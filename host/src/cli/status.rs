//! `dataslo status`: one row per SLO, from the ledger's buckets, for each
//! tenant in scope (see [`super::tenant_scope`]).

use super::args::Format;
use super::setup::{SetupArgs, slos};
use super::tenant_scope::{Source, existing_ledger, selected, trees};
use super::{Failure, table};
use crate::budget::ObjectiveFigures;
use crate::config::{Config, TenantConfig};
use crate::ledger::{DEFAULT_TENANT, Ledger};
use crate::model::{escape_control, to_json_pretty};
use crate::service::{ServiceError, control, slo_set};
use crate::slo::Slo;
use crate::status::{StatusReport, status_report};
use serde::Serialize;

/// One tenant's report, when several are printed as JSON.
#[derive(Serialize)]
struct TenantReport<'a> {
    tenant: &'a str,
    #[serde(flatten)]
    report: &'a StatusReport,
}

pub fn run(
    setup: &SetupArgs,
    slo_files: &[std::path::PathBuf],
    at: Option<&str>,
    format: Format,
    tenants: &[String],
) -> Result<(), Failure> {
    let config = setup.config(slo_files)?;
    if !config.tenants.is_empty() && !slo_files.is_empty() {
        return Err(Failure::Input(
            "SLO files on the command line are the default tenant's; the config's \
             [[tenants]] have their own slo_files"
                .into(),
        ));
    }
    let at = match at {
        Some(text) => text.parse().map_err(|e| {
            Failure::Input(format!("--at {text:?} is not an RFC 3339 timestamp: {e}"))
        })?,
        None => jiff::Timestamp::now(),
    };
    let source = existing_ledger(&config)?;
    let mut reports = Vec::new();
    // Each tenant's agent sites, for the table (the JSON stays the report).
    let mut sites = Vec::new();
    for tenant in selected(&config, &source, tenants)? {
        let report = match &source {
            Source::Ledger(ledger) => {
                let Some(trees) = trees(ledger, &tenant)? else {
                    eprintln!("tenant {tenant}: not in this ledger");
                    continue;
                };
                let slos = tenant_slos(&config, &tenant, &trees)?;
                sites.push(trees.agent_reports().unwrap_or_default());
                status_report(&trees, slos, at).map_err(|e| Failure::Input(e.to_string()))?
            }
            // The running process reports over the SLOs it runs.
            Source::Running(dir, running) => {
                if !running.contains(&tenant) {
                    eprintln!("tenant {tenant}: not in the running process");
                    continue;
                }
                sites.push(control::ask_agents(dir, &tenant).unwrap_or_default());
                control::ask_status(dir, &tenant, at)?
            }
        };
        let agents = sites.pop().unwrap_or_default();
        if report.slos.is_empty() {
            eprintln!("tenant {tenant}: no SLOs");
            continue;
        }
        reports.push((tenant, report, agents));
    }
    if reports.is_empty() {
        return Err(ServiceError::NoSlos.into());
    }
    let named = !config.tenants.is_empty() || reports.len() > 1;
    match format {
        Format::Json if reports.len() == 1 => {
            println!("{}", to_json_pretty(&reports[0].1).unwrap_or_default())
        }
        Format::Json => {
            let tenants: Vec<_> = reports
                .iter()
                .map(|(tenant, report, _)| TenantReport { tenant, report })
                .collect();
            let all = serde_json::json!({ "tenants": tenants });
            println!("{}", to_json_pretty(&all).unwrap_or_default());
        }
        Format::Table => {
            for (tenant, report, agents) in &reports {
                if named {
                    println!("tenant {tenant}");
                }
                print!("{}", render(report));
                print!("{}", render_agents(agents));
            }
        }
    }
    Ok(())
}

/// The SLOs of `tenant`: a configured tenant's files and uploads as `serve`
/// runs them; the default tenant's as `run` saved them; another tenant
/// found only in the ledger, its uploads.
fn tenant_slos(config: &Config, tenant: &str, trees: &Ledger) -> Result<Vec<Slo>, Failure> {
    if let Some(configured) = config.tenants.iter().find(|t| t.name == tenant) {
        return Ok(slo_set::of_tenant(configured, trees)?);
    }
    if tenant == DEFAULT_TENANT && config.tenants.is_empty() {
        return slos(config, trees);
    }
    let unconfigured = TenantConfig {
        name: tenant.into(),
        token_sha256: Vec::new(),
        slo_files: Vec::new(),
        limits: Default::default(),
        trusted_keys: Vec::new(),
        revoked_keys: Vec::new(),
    };
    Ok(slo_set::of_tenant(&unconfigured, trees)?)
}

/// The agent sites' lines under a tenant's table; nothing without agents.
fn render_agents(agents: &[crate::ledger::AgentReport]) -> String {
    let mut out = String::new();
    for a in agents {
        let version = a.short_version();
        out.push_str(&format!(
            "agent {}: last seen {}, {} records behind, SLO set {}{}\n",
            escape_control(&a.site),
            a.last_seen,
            a.records_behind,
            version,
            a.last_error
                .as_deref()
                .map(|e| format!(", last error: {}", escape_control(e)))
                .unwrap_or_default()
        ));
    }
    out
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".into(), |v| format!("{:.2}%", v * 100.0))
}

/// Budget remaining, one decimal, deep overspending shown as a floor.
fn budget(v: Option<f64>) -> String {
    match v {
        None => "no data".into(),
        Some(v) if v < -9.99 => "<-999%".into(),
        Some(v) => format!("{:.1}%", v * 100.0),
    }
}

fn rate(figures: &ObjectiveFigures, label: &str) -> String {
    let value = figures
        .burn_rates
        .iter()
        .find(|(l, _)| l == label)
        .and_then(|(_, r)| *r);
    value.map_or_else(|| "-".into(), |r| format!("{r:.1}"))
}

/// Cuts `text` to `max` characters, marking the cut.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// The status table, at most 100 columns wide.
pub fn render(report: &StatusReport) -> String {
    let mut rows = Vec::new();
    for s in &report.slos {
        for (i, o) in s.objectives.iter().enumerate() {
            let (name, dataset) = match i {
                0 => (fit(&s.slo, 22), fit(&s.dataset.name, 18)),
                _ => (fit(&format!("  {}", o.objective), 22), String::new()),
            };
            rows.push(vec![
                name,
                dataset,
                format!("{}% {}", o.target * 100.0, s.window),
                percent(o.sli),
                budget(o.budget_remaining),
                rate(o, "1h"),
                rate(o, "6h"),
                rate(o, "1d"),
                o.window.errors.to_string(),
                s.firing.len().to_string(),
            ]);
        }
    }
    // The table escapes its cells; the lines under it escape their names.
    let mut out = format!("at {}  (burn rates over 1h, 6h and 1d)\n", report.at);
    let headers = [
        "SLO",
        "DATASET",
        "OBJECTIVE",
        "SLI",
        "BUDGET",
        "1H",
        "6H",
        "1D",
        "ERR",
        "FIRING",
    ];
    out.push_str(&table::render(&headers, &rows, &[3, 4, 5, 6, 7, 8, 9]));
    for s in report.slos.iter().filter(|s| !s.firing.is_empty()) {
        out.push_str(&format!(
            "firing  {}: {}\n",
            escape_control(&s.slo),
            escape_control(&s.firing.join(", "))
        ));
    }
    for s in &report.slos {
        for o in &s.objectives {
            if let Some(since) = o.since {
                let (slo, objective) = (escape_control(&s.slo), escape_control(&o.objective));
                out.push_str(&format!(
                    "since   {slo}: {objective}: new series since {since} (its definition changed)\n"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DatasetRef;
    use crate::status::SloStatus;

    #[test]
    fn an_objective_whose_series_restarted_says_since_when_under_the_table() {
        let figures = |since: Option<jiff::Timestamp>| ObjectiveFigures {
            objective: "objective 1".into(),
            target: 0.9,
            window: Default::default(),
            sli: None,
            budget_remaining: None,
            budget_allowed: 0.0,
            budget_spent: 0,
            burn_rates: Vec::new(),
            since,
        };
        let since: jiff::Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let report = StatusReport {
            at: since,
            slos: vec![SloStatus {
                slo: "nulls".into(),
                dataset: DatasetRef {
                    namespace: "n".into(),
                    name: "d".into(),
                },
                window: "28d".into(),
                objectives: vec![figures(Some(since)), figures(None)],
                firing: Vec::new(),
                policy_pin: None,
            }],
        };
        let table = render(&report);
        let notes: Vec<&str> = table.lines().filter(|l| l.starts_with("since")).collect();
        assert_eq!(
            notes,
            [
                "since   nulls: objective 1: new series since 2026-12-01T10:00:00Z (its definition changed)"
            ]
        );
    }
}
