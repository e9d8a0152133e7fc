//! The scheduler's core: observations in, evaluations recorded, idempotently.
//!
//! `trigger: observation` SLOs are evaluated once per stored observation of
//! their dataset (now = its `observed_at`, key = SLO + observation digest);
//! `trigger: schedule` SLOs once per tick (now = the tick, key = SLO + tick)
//! against the latest observation, so a table that stops arriving still burns
//! its freshness budget. Replaying either changes nothing.
//!
//! Synchronous on purpose: `run` drives it from a tokio loop, tests call it
//! directly in virtual time. Depends on runtime, slo, ledger and model.

mod arm;
mod spool;
mod stats;

pub use arm::{ArmError, Armed, Known, UPLOADED};
pub use spool::{SpoolFile, parse_observations, take_spool};
pub use stats::Stats;

use crate::ledger::{EvalRecord, Events, Ledger, LedgerError, Outcome, Stored, Transition, digest};
use crate::model::Observation;
use crate::runtime::{EvaluationInput, Runtime};
use crate::slo::{Indicator, Trigger};
use sha2::{Digest, Sha256};
use std::sync::{Arc, PoisonError, RwLock};

/// Records per ledger transaction: sled's transactions slow down past a few
/// hundred writes (see the `ledger` benchmark).
const BATCH: usize = 500;

/// Runs the SLOs' policies and records the results.
pub struct Scheduler {
    runtime: Arc<Runtime>,
    ledger: Ledger,
    // Swapped whole by `replace_slos`; a pass keeps the set it started with.
    slos: RwLock<Arc<Vec<Armed>>>,
    history_depth: usize,
    durable: bool,
    limits: Option<crate::runtime::Limits>,
    stats: Stats,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Records written.
    pub recorded: usize,
    /// Evaluations skipped because already recorded.
    pub duplicates: usize,
    /// Of the recorded, how many were errors.
    pub errors: usize,
}

impl Scheduler {
    /// A scheduler over armed SLOs.
    pub fn new(
        runtime: Arc<Runtime>,
        ledger: Ledger,
        slos: Vec<Armed>,
        history_depth: usize,
    ) -> Self {
        Scheduler {
            runtime,
            ledger,
            slos: RwLock::new(Arc::new(slos)),
            history_depth,
            durable: true,
            limits: None,
            stats: Stats::default(),
        }
    }

    /// Limits for this scheduler's policy calls (a tenant's), instead of the runtime's.
    pub fn set_limits(&mut self, limits: crate::runtime::Limits) {
        self.limits = Some(limits);
    }

    /// Whether each call flushes before returning (the default). A simulation
    /// turns this off and calls [`Ledger::flush`] itself (group commit).
    pub fn set_durable(&mut self, durable: bool) {
        self.durable = durable;
    }

    fn commit(&self) -> Result<(), LedgerError> {
        if self.durable {
            self.ledger.flush()
        } else {
            Ok(())
        }
    }

    /// What it counted.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The ledger it writes.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The SLOs it evaluates now.
    pub fn slos(&self) -> Arc<Vec<Armed>> {
        self.slos
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Evaluates `slos` from now on; passes already running finish with the old set.
    pub fn replace_slos(&self, slos: Vec<Armed>) {
        *self.slos.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(slos);
    }

    /// Stores observations durably (flushed before returning: the caller may
    /// acknowledge them), then evaluates the new ones. Returns how many were new.
    pub fn ingest(&self, observations: &[Observation]) -> Result<(usize, Pass), LedgerError> {
        let mut fresh = Vec::new();
        for obs in observations {
            if self.ledger.put_observation(obs)?.new {
                fresh.push(obs);
            }
        }
        self.commit()?;
        Ok((fresh.len(), self.evaluate_each(fresh)?))
    }

    /// Evaluates every stored observation that an observation-triggered SLO has
    /// not yet recorded (after a restart, or `observe` while `run` was down).
    pub fn evaluate_observations(&self) -> Result<Pass, LedgerError> {
        let stored: Vec<Observation> = self.ledger.observations().collect::<Result<_, _>>()?;
        self.evaluate_each(stored.iter())
    }

    /// Evaluates `observations` for the observation-triggered SLOs of their
    /// dataset, skipping those already recorded.
    fn evaluate_each<'a>(
        &self,
        observations: impl IntoIterator<Item = &'a Observation>,
    ) -> Result<Pass, LedgerError> {
        let mut pass = Pass::default();
        let mut batch = Vec::new();
        let slos = self.slos();
        for obs in observations {
            let triggered = slos
                .iter()
                .filter(|a| a.slo.trigger == Trigger::Observation && a.slo.dataset == obs.dataset);
            for armed in triggered {
                let key = idempotency_key(&armed.slo.name, &digest(obs));
                if self
                    .ledger
                    .has_record(&armed.slo.name, obs.observed_at, &key)?
                {
                    pass.duplicates += 1;
                    continue;
                }
                batch.push(self.evaluate(armed, Some(obs), obs.observed_at, key)?);
            }
        }
        self.store(&batch, &mut pass)?;
        self.commit()?;
        Ok(pass)
    }

    /// Evaluates every schedule tick up to `now` not yet recorded, starting at
    /// the tick after the SLO's last record (or the tick at or before `now`).
    /// At most `max_ticks` per SLO, oldest first. Flushes before returning.
    pub fn tick(&self, now: jiff::Timestamp, max_ticks: usize) -> Result<Pass, LedgerError> {
        let mut pass = Pass::default();
        let mut batch = Vec::new();
        for armed in self.slos().iter() {
            let Trigger::Schedule(every) = armed.slo.trigger else {
                continue;
            };
            let step = i64::try_from(every.as_nanos()).unwrap_or(i64::MAX).max(1);
            let now_ns = i64::try_from(now.as_nanosecond()).unwrap_or(i64::MAX);
            let last_tick = now_ns.div_euclid(step) * step;
            let last_recorded = self
                .ledger
                .last_record(&armed.slo.name)?
                .map(|r| i64::try_from(r.time.as_nanosecond()).unwrap_or(i64::MIN));
            let first = match last_recorded {
                Some(t) => (t.div_euclid(step) + 1) * step,
                None => last_tick,
            };
            let first = first.max(last_tick - step * (max_ticks as i64 - 1));
            let mut t = first;
            while t <= last_tick {
                let at = jiff::Timestamp::from_nanosecond(i128::from(t)).unwrap_or(now);
                let key = format!("tick-{t}");
                if self.ledger.has_record(&armed.slo.name, at, &key)? {
                    pass.duplicates += 1;
                } else {
                    let latest = self.ledger.latest_observation(&armed.slo.dataset)?;
                    let usable = latest.filter(|o| o.observed_at <= at);
                    batch.push(self.evaluate(armed, usable.as_ref(), at, key)?);
                }
                t += step;
            }
        }
        self.store(&batch, &mut pass)?;
        self.commit()?;
        Ok(pass)
    }

    /// Moves every SLO's alerts along at `at`, queueing notifications for
    /// `targets`. Flushes before returning the transitions.
    pub fn evaluate_alerts(
        &self,
        at: jiff::Timestamp,
        targets: &[String],
    ) -> Result<Vec<Transition>, LedgerError> {
        let mut all = Vec::new();
        for armed in self.slos().iter() {
            all.extend(crate::alert::evaluate(
                &self.ledger,
                &armed.slo,
                at,
                targets,
            )?);
        }
        self.commit()?;
        Ok(all)
    }

    /// Writes a pass's records in transactions of [`BATCH`] (group commit:
    /// the caller flushes once after).
    fn store(&self, records: &[EvalRecord], pass: &mut Pass) -> Result<(), LedgerError> {
        for chunk in records.chunks(BATCH) {
            for (record, stored) in chunk.iter().zip(self.ledger.record_batch(chunk)?) {
                match stored {
                    Stored::New => {
                        pass.recorded += 1;
                        pass.errors += usize::from(matches!(record.outcome, Outcome::Error { .. }));
                    }
                    Stored::Duplicate => pass.duplicates += 1,
                }
            }
        }
        Ok(())
    }

    /// One evaluation, turned into a record and counted.
    fn evaluate(
        &self,
        armed: &Armed,
        obs: Option<&Observation>,
        now: jiff::Timestamp,
        key: String,
    ) -> Result<EvalRecord, LedgerError> {
        let started = std::time::Instant::now();
        let record = self.run_policy(armed, obs, now, key)?;
        let outcome = match &record.outcome {
            Outcome::Measured => "measured",
            Outcome::Error { code, .. } => code.as_str(),
        };
        self.stats.evaluated(outcome, started.elapsed());
        Ok(record)
    }

    /// One evaluation, turned into a record. Policy failures become error records.
    fn run_policy(
        &self,
        armed: &Armed,
        obs: Option<&Observation>,
        now: jiff::Timestamp,
        key: String,
    ) -> Result<EvalRecord, LedgerError> {
        let slo = &armed.slo;
        let mut record = EvalRecord {
            slo: slo.name.clone(),
            dataset: slo.dataset.clone(),
            time: now,
            key,
            outcome: Outcome::Measured,
            events: Vec::new(),
            value: None,
            detail: String::new(),
            policy_sha256: armed.policy.sha256_hex(),
        };
        let fail = |mut record: EvalRecord, code: &str, message: String| {
            record.outcome = Outcome::Error {
                code: code.into(),
                message: message.clone(),
            };
            record.detail = message;
            record
        };
        let Some(obs) = obs else {
            return Ok(fail(
                record,
                "no_observation",
                format!(
                    "no observation of {}/{} yet",
                    slo.dataset.namespace, slo.dataset.name
                ),
            ));
        };
        let history = self.ledger.history_before(obs, self.history_depth)?;
        let input = EvaluationInput {
            config: &slo.config,
            observation: obs,
            history: Arc::from(history),
            now,
            limits: self.limits.as_ref(),
        };
        let evaluation = match self.runtime.evaluate(&armed.policy, input) {
            Ok(e) => e,
            Err(e) => {
                let e = e.for_slo(&slo.name);
                return Ok(fail(record, e.code(), e.to_string()));
            }
        };
        let matching: Vec<_> = evaluation
            .measurements
            .iter()
            .filter(|m| {
                m.sli == slo.sli
                    || m.sli
                        .strip_prefix(&slo.sli)
                        .is_some_and(|rest| rest.starts_with(':'))
            })
            .collect();
        if matching.is_empty() {
            let names: Vec<_> = evaluation
                .measurements
                .iter()
                .map(|m| m.sli.as_str())
                .collect();
            return Ok(fail(
                record,
                "no_measurement",
                format!(
                    "the policy gave no `{}` measurement (it gave {names:?})",
                    slo.sli
                ),
            ));
        }
        record.value = matching[0].value;
        record.detail = matching
            .iter()
            .map(|m| m.detail.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        record.events = slo
            .objectives
            .iter()
            .map(|objective| match (slo.indicator, objective.threshold) {
                (Indicator::Threshold, Some((op, threshold))) => {
                    let good = record.value.is_some_and(|v| op.holds(v, threshold));
                    Events {
                        good: u64::from(good),
                        total: 1,
                    }
                }
                _ => Events {
                    good: matching.iter().map(|m| m.good).sum(),
                    total: matching.iter().map(|m| m.total).sum(),
                },
            })
            .collect();
        Ok(record)
    }
}

/// SLO + observation digest, as hex.
pub fn idempotency_key(slo: &str, observation_digest: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(slo.as_bytes());
    h.update([0]);
    h.update(observation_digest);
    hex::encode(&h.finalize()[..16])
}
