//! `dataslo slo validate FILE...`: every document checked, each SLO against
//! its policy as `run` would arm it; every error and warning listed with its
//! file, document and field. Names, datasets and errors quote the files and
//! the policies, so each is escaped.

use super::args::Format;
use super::{Failure, input};
use crate::model::escape_control;
use crate::validation::{Report, Verdict, validate_files};
use std::path::{Path, PathBuf};

pub fn validate(files: &[PathBuf], format: Format) -> Result<(), Failure> {
    let runtime = input::runtime()?;
    // `run` reads policy files from its working directory.
    let report = validate_files(&runtime, files, Path::new("."));
    match format {
        Format::Json => println!(
            "{}",
            crate::model::to_json_pretty(&report).unwrap_or_default()
        ),
        Format::Table => print_text(&report),
    }
    let invalid = report.errors.len();
    if invalid == 0 {
        Ok(())
    } else {
        Err(Failure::Reported {
            code: "invalid_slo",
            message: format!("{invalid} invalid document(s)"),
        })
    }
}

fn print_text(report: &Report) {
    let mut evaluable = 0;
    for slo in &report.slos {
        if slo.verdict == Verdict::Invalid {
            continue;
        }
        evaluable += 1;
        let trigger = match slo.trigger.as_str() {
            "observation" => "on each observation".to_string(),
            every => every.to_string(),
        };
        println!(
            "ok        {}: SLO `{}` on {}/{} with {} ({} objective(s), {trigger})",
            escape_control(&slo.file),
            escape_control(&slo.name),
            escape_control(&slo.dataset.namespace),
            escape_control(&slo.dataset.name),
            escape_control(&slo.policy.to_string()),
            slo.objectives
        );
    }
    for n in &report.skipped {
        let name = n
            .name
            .as_deref()
            .map(|n| format!(", `{n}`"))
            .unwrap_or_default();
        println!(
            "skipped   {}",
            escape_control(&format!(
                "{} (document {}{name}): {} not evaluable here: {}",
                n.file, n.document, n.kind, n.reason
            ))
        );
    }
    for w in &report.warnings {
        println!("warning   {}", escape_control(&w.to_string()));
    }
    for e in &report.errors {
        // Keys and names quoted in errors come from the file.
        println!("invalid   {}", escape_control(&e.to_string()));
    }
    println!(
        "{evaluable} evaluable, {} not evaluable, {} invalid, {} warning(s)",
        report.skipped.len(),
        report.errors.len(),
        report.warnings.len()
    );
}
