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
            TimeWindow::Rolling(d) => compact(*d),
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

/// `30d`, `12h` or `90m`.
fn compact(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{}m", s / 60),
    }
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
        out.push_str(&format!("firing  {}: {}\n", s.slo, s.firing.join(", ")));
    }
    out
}
