//! `dataslo status`: one row per SLO, from the ledger's buckets.

use super::args::Format;
use super::setup::{SetupArgs, ledger, slos};
use super::{Failure, table};
use crate::budget::ObjectiveFigures;
use crate::model::escape_control;
use crate::status::{StatusReport, status_report};

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
    let report = status_report(&ledger, slos(&config, &ledger)?, at)
        .map_err(|e| Failure::Input(e.to_string()))?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
        Format::Table => print!("{}", render(&report)),
    }
    Ok(())
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
