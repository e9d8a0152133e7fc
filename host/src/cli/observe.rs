//! `dataslo observe [--openlineage] <FILE | ->`: store observations;
//! acknowledge only after a flush.

use super::setup::{SetupArgs, ledger};
use super::{Failure, input};
use crate::model::parse_observations;

pub fn run(setup: &SetupArgs, source: &str, openlineage: bool) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    let text = input::read_text(source)?;
    let (observations, ignored) = if openlineage {
        let lineage = crate::openlineage::read_events(&text, source)
            .map_err(|e| Failure::Input(e.to_string()))?;
        (lineage.observations, lineage.ignored)
    } else {
        let read = parse_observations(&text, source).map_err(|e| Failure::Input(e.to_string()))?;
        (read, 0)
    };
    let ledger = ledger(&config)?;
    let storage = |e: crate::ledger::LedgerError| Failure::Input(e.to_string());
    let receipts = ledger.put_observations(&observations).map_err(storage)?;
    ledger.flush().map_err(storage)?;
    let new = receipts.iter().filter(|r| r.new).count();
    let ignored = if ignored > 0 {
        format!("; {ignored} OpenLineage dataset(s) ignored")
    } else {
        String::new()
    };
    println!(
        "acknowledged {} observation(s), {new} new{ignored}",
        observations.len()
    );
    Ok(())
}
