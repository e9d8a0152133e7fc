//! `dataslo observe [--openlineage] <FILE | ->`: store observations;
//! acknowledge only after a flush.

use super::setup::{SetupArgs, ledger};
use super::{Failure, input};
use crate::model::parse_observations;

pub fn run(setup: &SetupArgs, source: &str, openlineage: bool) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    let text = input::read_text(source)?;
    let observations = if openlineage {
        crate::openlineage::observations_from(&text, source)
            .map_err(|e| Failure::Input(e.to_string()))?
    } else {
        parse_observations(&text, source).map_err(|e| Failure::Input(e.to_string()))?
    };
    let ledger = ledger(&config)?;
    let mut new = 0;
    for obs in &observations {
        new += usize::from(
            ledger
                .put_observation(obs)
                .map_err(|e| Failure::Input(e.to_string()))?
                .new,
        );
    }
    ledger.flush().map_err(|e| Failure::Input(e.to_string()))?;
    println!(
        "acknowledged {} observation(s), {new} new",
        observations.len()
    );
    Ok(())
}
