//! `dataslo slo validate FILE...`: every document checked, every error listed
//! with its file, document and field. Names, datasets and errors quote the
//! files, so each is escaped.

use super::Failure;
use crate::model::escape_control;
use crate::slo::{Trigger, load_files};
use std::path::PathBuf;

pub fn validate(files: &[PathBuf]) -> Result<(), Failure> {
    let catalog = load_files(files);
    for slo in &catalog.slos {
        let trigger = match slo.trigger {
            Trigger::Observation => "on each observation".to_string(),
            Trigger::Schedule(every) => format!("every {}", humantime::format_duration(every)),
        };
        println!(
            "ok        {}: SLO `{}` on {}/{} with {} ({} objective(s), {trigger})",
            escape_control(&slo.source.file),
            escape_control(&slo.name),
            escape_control(&slo.dataset.namespace),
            escape_control(&slo.dataset.name),
            escape_control(&slo.policy.spec.to_string()),
            slo.objectives.len()
        );
    }
    for n in &catalog.not_evaluable {
        println!(
            "skipped   {}: {} not evaluable here: {}",
            escape_control(&n.source.to_string()),
            escape_control(&n.kind),
            escape_control(&n.reason)
        );
    }
    for e in &catalog.errors {
        // Keys and names quoted in errors come from the file.
        println!("invalid   {}", escape_control(&e.to_string()));
    }
    println!(
        "{} evaluable, {} not evaluable, {} invalid",
        catalog.slos.len(),
        catalog.not_evaluable.len(),
        catalog.errors.len()
    );
    if catalog.errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::Policy {
            code: "invalid_slo",
            message: format!("{} invalid document(s)", catalog.errors.len()),
        })
    }
}
