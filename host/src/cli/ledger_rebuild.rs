//! `dataslo ledger rebuild --config F [--tenant T]`: central's ledger of
//! each tenant in scope, filled from the stream (`service::rebuild_ledger`);
//! one line per tenant.

use super::Failure;
use super::setup::SetupArgs;
use crate::jetstream::stream::STREAM;
use crate::service::{RebuildError, rebuild_ledger};

pub fn run(setup: &SetupArgs, requested: &[String]) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    rebuild_ledger(&config, requested, |done| {
        println!(
            "tenant {}: {} record(s) from stream {STREAM} into {} ({} duplicate(s), {} skipped)",
            done.tenant,
            done.records,
            done.dir.display(),
            done.duplicates,
            done.skipped
        );
    })
    .map_err(|e| match e {
        // Its problems are listed one a line.
        RebuildError::Service(e) => Failure::from(e),
        e => Failure::Input(e.to_string()),
    })
}
