//! `dataslo observe [--openlineage] [--wait] <FILE | ->`: append observations
//! to the ingest log; acknowledge only after a flush. When `run` holds the
//! ledger, they go through its spool folder and it answers.

use super::args::Format;
use super::setup::SetupArgs;
use super::{Failure, input};
use crate::config::Config;
use crate::ledger::LedgerError;
use crate::model::{Observation, TimeFields, TimeSanity, parse_observations, to_json};
use crate::service::{Ingested, Service, ServiceError, hand_off, holder, open_ledger};
use std::time::Duration;

/// How long `observe` waits for a running `run` to take its file.
const HAND_OFF_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(
    setup: &SetupArgs,
    source: &str,
    openlineage: bool,
    wait: bool,
    format: Format,
) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    let text = input::read_text(source)?;
    let (observations, fields, ignored) = if openlineage {
        let lineage = crate::openlineage::read_events(&text, source)
            .map_err(|e| Failure::Input(e.to_string()))?;
        (
            lineage.observations,
            TimeFields::OpenLineage,
            lineage.ignored,
        )
    } else {
        let observations =
            parse_observations(&text, source).map_err(|e| Failure::Input(e.to_string()))?;
        (observations, TimeFields::Observation, 0)
    };
    TimeSanity::new(jiff::Timestamp::now(), config.max_future_skew)
        .check_observations(&observations, source, fields)
        .map_err(|e| Failure::Input(e.to_string()))?;
    let mut answer = match store_here(&config, &observations, wait) {
        Err(ServiceError::Ledger(LedgerError::Busy { .. })) => {
            if holder(&config.data_dir).as_deref() == Some("serve") {
                return Err(Failure::Input(format!(
                    "`dataslo serve` holds {}: send observations to its HTTP API \
                     (POST /v1/observations)",
                    config.data_dir.display()
                )));
            }
            hand_off(&config.spool(), &observations, HAND_OFF_TIMEOUT)?
        }
        other => other?,
    };
    if format == Format::Json {
        answer.ignored = openlineage.then_some(ignored);
        println!("{}", to_json(&answer).unwrap_or_default());
        return Ok(());
    }
    let evaluations = answer
        .evaluations
        .map(|n| format!(", {n} evaluation(s)"))
        .unwrap_or_default();
    let ignored = if ignored > 0 {
        format!("; {ignored} OpenLineage dataset(s) ignored")
    } else {
        String::new()
    };
    println!(
        "acknowledged {} observation(s), {} new{evaluations}{ignored}",
        answer.accepted, answer.new
    );
    Ok(())
}

/// Appends to the ledger itself (each open of it fails `Busy` while another
/// process holds it); with `wait`, evaluates them as `run` would.
fn store_here(
    config: &Config,
    observations: &[Observation],
    wait: bool,
) -> Result<Ingested, ServiceError> {
    if wait {
        let service = Service::single(config)?;
        let tenant = service
            .tenants
            .first()
            .cloned()
            .ok_or(ServiceError::NoSlos)?;
        let answer = tenant.ingest(observations);
        service.flush()?;
        return Ok(answer?);
    }
    let ledger = open_ledger(config)?;
    let receipts = ledger.put_observations(observations)?;
    ledger.flush()?;
    Ok(Ingested {
        accepted: observations.len(),
        new: receipts.iter().filter(|r| r.new).count(),
        evaluations: None,
        ignored: None,
    })
}
