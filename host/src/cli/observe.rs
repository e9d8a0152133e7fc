//! `dataslo observe [--openlineage] <FILE | ->`: store observations;
//! acknowledge only after a flush.

use super::setup::{SetupArgs, ledger};
use super::{Failure, input};
use crate::model::{TimeFields, TimeSanity, parse_observations};

pub fn run(setup: &SetupArgs, source: &str, openlineage: bool) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    let text = input::read_text(source)?;
    let (observations, fields) = if openlineage {
        let events = crate::openlineage::observations_from(&text, source)
            .map_err(|e| Failure::Input(e.to_string()))?;
        (events, TimeFields::OpenLineage)
    } else {
        let observations =
            parse_observations(&text, source).map_err(|e| Failure::Input(e.to_string()))?;
        (observations, TimeFields::Observation)
    };
    TimeSanity::new(jiff::Timestamp::now(), config.max_future_skew)
        .check_observations(&observations, source, fields)
        .map_err(|e| Failure::Input(e.to_string()))?;
    let ledger = ledger(&config)?;
    let storage = |e: crate::ledger::LedgerError| Failure::Input(e.to_string());
    let receipts = ledger.put_observations(&observations).map_err(storage)?;
    ledger.flush().map_err(storage)?;
    let new = receipts.iter().filter(|r| r.new).count();
    println!(
        "acknowledged {} observation(s), {new} new",
        observations.len()
    );
    Ok(())
}
