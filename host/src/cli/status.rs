//! `dataslo status`: one row per SLO, from the ledger's buckets.

use super::args::Format;
use super::setup::{SetupArgs, ledger, slos};
use super::{Failure, table};
use crate::budget::{ObjectiveFigures, objective_figures};
use crate::model::DatasetRef;
use crate::slo::TimeWindow;
use serde::Serialize;

/// `status --format json`: documented in docs/status-json.md.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// The time the figures are for.
    pub at: jiff::Timestamp,
    /// One entry per SLO, in file order.
    pub slos: Vec<SloStatus>,
}

/// One SLO's status.
#[derive(Debug, Serialize)]
pub struct SloStatus {
    /// The SLO's name.
    pub slo: String,
    /// Its dataset.
    pub dataset: DatasetRef,
    /// Its window, e.g. `28d` or `1M calendar`.
    pub window: String,
    /// Figures per objective.
    pub objectives: Vec<ObjectiveFigures>,
    /// Alerts firing now (state as last evaluated by `run`).
    pub firing: Vec<String>,
}

pub fn run(
    setup: &SetupArgs,
    slo_files: &[std::path::PathBuf],
    at: Option<&str>,
    format: Format,
) -> Result<(), Failure> {
    let config = setup.config(slo_files)?;
    let at = match at {
        Some(text) => text.parse().map_err(|e| {
            Failure::Input(format!("--at {text:?} is not an RFC 3339 timestamp: {e}"))
        })?,
        None => jiff::Timestamp::now(),
    };
    let ledger = ledger(&config)?;
    let report = status_report(&ledger, slos(&config, &ledger)?, at)?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        Format::Table => print!("{}", render(&report)),
    }
    Ok(())
}

/// The status of `slos` at `at`, from the ledger's buckets and alert states.
pub fn status_report(
    ledger: &crate::ledger::Ledger,
    slos: Vec<crate::slo::Slo>,
    at: jiff::Timestamp,
) -> Result<StatusReport, Failure> {
    let storage = |e: crate::ledger::LedgerError| Failure::Input(e.to_string());
    let mut report = StatusReport {
        at,
        slos: Vec::new(),
    };
    for slo in slos {
        let objectives = (0..slo.objectives.len())
            .map(|i| objective_figures(ledger, &slo, i, at))
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage)?;
        let window = match &slo.window {
            TimeWindow::Rolling(d) => humantime::format_duration(*d).to_string(),
            TimeWindow::Calendar { length, .. } => format!("{length} cal"),
        };
        let firing = crate::alert::firing(ledger, &slo).map_err(storage)?;
        report.slos.push(SloStatus {
            slo: slo.name,
            dataset: slo.dataset,
            window,
            objectives,
            firing,
        });
    }
    Ok(report)
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".into(), |v| format!("{:.2}%", v * 100.0))
}

fn rate(figures: &ObjectiveFigures, label: &str) -> String {
    let value = figures
        .burn_rates
        .iter()
        .find(|(l, _)| l == label)
        .and_then(|(_, r)| *r);
    value.map_or_else(|| "-".into(), |r| format!("{r:.1}"))
}

/// The status table, readable in 100 columns.
pub fn render(report: &StatusReport) -> String {
    let mut rows = Vec::new();
    for s in &report.slos {
        for (i, o) in s.objectives.iter().enumerate() {
            let name = if i == 0 {
                s.slo.clone()
            } else {
                format!("  {}", o.objective)
            };
            rows.push(vec![
                name,
                if i == 0 {
                    s.dataset.name.clone()
                } else {
                    String::new()
                },
                format!("{}%", o.target * 100.0),
                s.window.clone(),
                percent(o.sli),
                percent(o.budget_remaining),
                rate(o, "1h"),
                rate(o, "6h"),
                rate(o, "1d"),
                o.window.errors.to_string(),
            ]);
        }
    }
    let mut out = format!("at {}\n", report.at);
    out.push_str(&table::render(
        &[
            "SLO", "DATASET", "TARGET", "WINDOW", "SLI", "BUDGET", "BURN1H", "BURN6H", "BURN1D",
            "ERRORS",
        ],
        &rows,
        &[2, 4, 5, 6, 7, 8, 9],
    ));
    for s in report.slos.iter().filter(|s| !s.firing.is_empty()) {
        out.push_str(&format!("firing  {}: {}\n", s.slo, s.firing.join(", ")));
    }
    out
}
