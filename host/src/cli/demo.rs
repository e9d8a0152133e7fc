//! `dataslo demo`: the README's main job. Simulates 30 days, prints the status
//! table and the alert timeline, and leaves the data directory for `status`.

use super::Failure;
use super::args::Format;
use super::status::render;
use crate::demo::simulate_with_progress;
use crate::ledger::{DEFAULT_TENANT, Ledger};
use crate::model::to_json_pretty;
use crate::status::status_report;
use std::path::PathBuf;
use std::time::Instant;

pub fn run(data_dir: Option<PathBuf>, days: i64, format: Format) -> Result<(), Failure> {
    let now = jiff::Timestamp::now();
    let dir = data_dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("dataslo-demo-{}", now.as_second())));
    if dir.join("ledger").exists() {
        return Err(Failure::Input(format!(
            "{} already holds a ledger; the demo needs a fresh directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::Input(format!("cannot create {}: {e}", dir.display())))?;
    let json = format == Format::Json;
    if !json {
        println!("dataslo demo: {days} days of 5 datasets in virtual time");
        println!("data directory: {}\n", dir.display());
    }
    let started = Instant::now();
    let mut progress = progress_line();
    let report = simulate_with_progress(&dir, days, now, &mut progress);
    progress(days + 1, days);
    let report = report.map_err(|e| Failure::Input(e.to_string()))?;
    let ledger = Ledger::open(&dir.join("ledger"), DEFAULT_TENANT, 100)
        .map_err(|e| Failure::Input(e.to_string()))?;
    let status = status_report(&ledger, report.slos.clone(), report.end)
        .map_err(|e| Failure::Input(e.to_string()))?;
    if json {
        let alerts: Vec<_> = report
            .transitions
            .iter()
            .filter(|t| t.to.is_notified())
            .collect();
        let all = serde_json::json!({
            "data_dir": dir,
            "start": report.start,
            "end": report.end,
            "observations": report.observations,
            "evaluations": report.evaluations,
            "status": status,
            "alerts": alerts,
        });
        println!("{}", to_json_pretty(&all).unwrap_or_default());
        return Ok(());
    }
    println!(
        "simulated {} to {}: {} observations, {} evaluations, in {:.1} s\n",
        report.start,
        report.end,
        report.observations,
        report.evaluations,
        started.elapsed().as_secs_f64()
    );
    print!("{}", render(&status));
    println!("\nalert timeline (firing and resolved):");
    for t in report.transitions.iter().filter(|t| t.to.is_notified()) {
        println!(
            "  {}  {:<8}  {:<22}  {:<16}  {}",
            t.at.strftime("%Y-%m-%d %H:%M"),
            t.to,
            t.slo,
            t.alert,
            t.summary
        );
    }
    println!(
        "\nlook again: dataslo status --data-dir {} --at {}",
        dir.display(),
        report.end
    );
    println!(
        "with a stricter limit: dataslo replay --data-dir {} --slo orders-fresh --policy-config '{{\"max_age\": \"1h\"}}'",
        dir.display()
    );
    Ok(())
}

/// `simulating day 12/30` on stderr, on a terminal (see [`super::progress`]).
fn progress_line() -> impl FnMut(i64, i64) {
    let mut line = super::progress::line("simulating day");
    move |day, days| line(day.max(0) as u64, days.max(0) as u64)
}
