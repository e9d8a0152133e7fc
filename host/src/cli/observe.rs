//! `dataslo observe [--openlineage] [--wait] <FILE | ->`: append observations
//! to the ingest log; acknowledge only after a flush. When `run` holds the
//! ledger, they go through its spool folder and it answers.

use super::setup::SetupArgs;
use super::{Failure, input};
use crate::ledger::LedgerError;
use crate::model::{TimeFields, TimeSanity, parse_observations};
use crate::service::{Ingested, Service, ServiceError, hand_off, holder, open_ledger};
use std::time::Duration;

/// How long `observe` waits for a running `run` to take its file.
const HAND_OFF_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(setup: &SetupArgs, source: &str, openlineage: bool, wait: bool) -> Result<(), Failure> {
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
    let answer = match open_ledger(&config) {
        Ok(ledger) if wait => {
            drop(ledger);
            let service = Service::single(&config)?;
            let tenant = service
                .tenants
                .first()
                .cloned()
                .ok_or(ServiceError::NoSlos)?;
            let answer = tenant.ingest(&observations, true);
            service.flush().map_err(|e| Failure::Input(e.to_string()))?;
            answer.map_err(|e| Failure::Input(e.to_string()))?
        }
        Ok(ledger) => {
            let storage = |e: LedgerError| Failure::Input(e.to_string());
            let receipts = ledger.put_observations(&observations).map_err(storage)?;
            ledger.flush().map_err(storage)?;
            Ingested {
                accepted: observations.len(),
                new: receipts.iter().filter(|r| r.new).count(),
                evaluations: None,
                ignored: None,
            }
        }
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
        Err(e) => return Err(e.into()),
    };
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
