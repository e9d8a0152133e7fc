//! `dataslo ledger rebuild --config F [--tenant T]`: central's ledger of
//! each tenant in scope, filled from the stream (`service::rebuild_ledger`);
//! one line per tenant.

use super::Failure;
use super::args::Format;
use super::setup::SetupArgs;
use crate::jetstream::stream::STREAM;
use crate::model::to_json_pretty;
use crate::service::{RebuildError, rebuild_ledger};

pub fn run(setup: &SetupArgs, requested: &[String], format: Format) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    let mut rebuilt = Vec::new();
    let done = rebuild_ledger(&config, requested, |done| match format {
        Format::Json => rebuilt.push(done.clone()),
        Format::Table => println!(
            "tenant {}: {} record(s) from stream {STREAM} into {} ({} duplicate(s), {} skipped)",
            done.tenant,
            done.records,
            done.dir.display(),
            done.duplicates,
            done.skipped
        ),
    });
    if format == Format::Json && done.is_ok() {
        let all = serde_json::json!({ "tenants": rebuilt });
        println!("{}", to_json_pretty(&all).unwrap_or_default());
    }
    done.map_err(|e| match e {
        // Its problems are listed one a line.
        RebuildError::Service(e) => Failure::from(e),
        e => Failure::Input(e.to_string()),
    })
}
