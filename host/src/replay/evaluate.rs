//! The evaluations made again, by the real scheduler, into a scratch ledger.

use super::Request;
use crate::budget::sync_series;
use crate::ledger::{Ledger, LedgerError, Transition};
use crate::model::Observation;
use crate::scheduler::{Armed, Scheduler};
use crate::slo::Trigger;

/// Runs the armed SLO over the observations in `scratch`, step by step,
/// with the real scheduler, judging alerts after each step; returns the
/// alert transitions.
pub(super) fn evaluate(
    request: &Request<'_>,
    armed: &Armed,
    scratch: &Ledger,
    observations: &[Observation],
    from: jiff::Timestamp,
    steps: &[jiff::Timestamp],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Transition>, LedgerError> {
    // Those before the span are history only: stored, never evaluated.
    let start = observations.partition_point(|o| o.observed_at < from);
    let (before, during) = observations.split_at(start);
    if !before.is_empty() {
        scratch.put_observations(before)?;
        let last = scratch.ingest_next()?.saturating_sub(1);
        scratch.record_batch_at(&[], Some(last))?;
        scratch.forget_logged(last)?;
    }
    sync_series(scratch, &armed.slo, from)?;
    let mut scheduler = Scheduler::new(
        request.runtime.clone(),
        scratch.clone(),
        vec![armed.clone()],
        request.history_depth,
    );
    scheduler.set_durable(false);
    let mut transitions = Vec::new();
    let mut next = 0;
    for (done, &at) in steps.iter().enumerate() {
        let due = during[next..].partition_point(|o| o.observed_at <= at);
        scheduler.ingest(&during[next..next + due])?;
        next += due;
        if let Trigger::Schedule(_) = armed.slo.trigger {
            scheduler.tick(at, 1)?;
        }
        // Nothing is late in a replay: records come in time order.
        transitions.extend(scheduler.evaluate_alerts(at, &[], std::time::Duration::ZERO)?);
        progress(done + 1, steps.len());
    }
    Ok(transitions)
}
