//! The scheduler's core: observations in, evaluations recorded, idempotently.
//!
//! `trigger: observation` SLOs are evaluated once per stored observation of
//! their dataset (now = its `observed_at`, key = SLO + observation digest);
//! `trigger: schedule` SLOs once per tick (now = the tick, key = SLO + tick)
//! against the newest observation not after the tick, so a table that stops
//! arriving still burns its freshness budget, and one observation dated ahead
//! does not hide the others. Replaying either changes nothing.
//!
//! Synchronous on purpose: the service's clock pass drives it, tests call it
//! directly in virtual time. Depends on alert, budget (an SLO's series),
//! executor, oci (arming `oci://` policies), trust (signed policies), runtime,
//! slo, ledger and model.

mod arm;
mod evaluation;
mod ingest;
mod spool;
mod stats;
mod tail;
mod trusted;

pub use arm::{ArmError, ArmFailure, Armed};
pub use ingest::Appended;
pub use spool::{SpoolFile, take_spool};
pub use stats::{OutcomeCounts, Stats, outcome_names};
pub use trusted::{
    Gate, TrustCheck, TrustFailure, builtin_digests, file_signatures, sha256_hex, signature_file,
};

use crate::executor::Executor;
use crate::ledger::{EvalRecord, Ledger, LedgerError, Outcome, Stored, Transition, digest};
use crate::runtime::Runtime;
use crate::slo::Trigger;
use evaluation::{Evaluator, Task};
use sha2::{Digest, Sha256};
use std::sync::{Arc, PoisonError, RwLock};
use tail::Logged;

/// Records per ledger transaction: sled's transactions slow down past a few
/// hundred writes (see the `ledger` benchmark).
const BATCH: usize = 500;

/// Runs the SLOs' policies and records the results.
pub struct Scheduler {
    // Shared by the jobs of a pass: one reference count per job, not a
    // copy of the ledger's tree handles.
    evaluator: Arc<Evaluator>,
    executor: Option<Arc<Executor>>,
    ledger: Ledger,
    // Swapped whole by `replace_slos`; a pass keeps the set it started with.
    slos: RwLock<Arc<Vec<Armed>>>,
    durable: bool,
    // One consumer of the ingest log at a time.
    consumer: std::sync::Mutex<()>,
    // What this scheduler appended and its consumer has not taken yet.
    tail: tail::Tail,
    // The agent's site it ticks for; `None`: central.
    site: Option<String>,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
            evaluator: Arc::new(Evaluator {
                runtime,
                ledger: ledger.clone(),
                history_depth,
                limits: None,
                stats: Arc::new(Stats::default()),
            }),
            executor: None,
            ledger,
            slos: RwLock::new(Arc::new(slos)),
            durable: true,
            consumer: std::sync::Mutex::new(()),
            tail: tail::Tail::default(),
            site: None,
        }
    }

    /// Limits for this scheduler's policy calls (a tenant's), instead of the runtime's.
    pub fn set_limits(&mut self, limits: crate::runtime::Limits) {
        Arc::make_mut(&mut self.evaluator).limits = Some(limits);
    }

    /// Runs evaluations on `executor`'s workers, fairly with the other
    /// tenants sharing it, instead of one after another on the caller's thread.
    pub fn set_executor(&mut self, executor: Arc<Executor>) {
        self.executor = Some(executor);
    }

    /// Whether each call flushes before returning (the default). A simulation
    /// turns this off and calls [`Ledger::flush`] itself (group commit).
    pub fn set_durable(&mut self, durable: bool) {
        self.durable = durable;
    }

    /// Ticks the scheduled SLOs listing `site` in their `sites` (an
    /// agent's), instead of those listing none (central's, the default).
    pub fn set_site(&mut self, site: Option<String>) {
        self.site = site;
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
        &self.evaluator.stats
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

    /// Evaluates `slos` from now on; passes already running finish with the
    /// old set. First records their objectives as the ledger's series of
    /// them, so that a changed objective's past is rebuilt or starts anew,
    /// never reinterpreted (their records count by objective identity).
    pub fn replace_slos(&self, slos: Vec<Armed>) -> Result<(), LedgerError> {
        let now = jiff::Timestamp::now();
        for armed in &slos {
            crate::budget::sync_series(&self.ledger, &armed.slo, now)?;
        }
        Armed::record_pins(&self.ledger, &slos, now)?;
        *self.slos.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(slos);
        Ok(())
    }

    /// The tasks of the observation-triggered SLOs of each logged
    /// observation's dataset, skipping those already recorded (counted as
    /// duplicates).
    fn observation_tasks(
        &self,
        logged: &[(u64, Logged)],
        pass: &mut Pass,
    ) -> Result<Vec<Task>, LedgerError> {
        let mut tasks = Vec::new();
        let slos = self.slos();
        // Each SLO's newest record before this step, read once: an
        // observation after it has no record, and needs no read of its own.
        let mut newest: Vec<Option<Option<jiff::Timestamp>>> = vec![None; slos.len()];
        for (_, Logged { obs, digest: known }) in logged {
            let mut digested = *known;
            for (i, armed) in slos.iter().enumerate() {
                if armed.slo.trigger != Trigger::Observation || armed.slo.dataset != obs.dataset {
                    continue;
                }
                let digest = digested.get_or_insert_with(|| digest(obs));
                let key = idempotency_key(&armed.slo.name, digest);
                let newest = match newest[i] {
                    Some(newest) => newest,
                    None => *newest[i].insert(self.ledger.last_record_time(&armed.slo.name)?),
                };
                let maybe_recorded = newest.is_some_and(|t| obs.observed_at <= t);
                if maybe_recorded
                    && self
                        .ledger
                        .has_record(&armed.slo.name, obs.observed_at, &key)?
                {
                    pass.duplicates += 1;
                    continue;
                }
                tasks.push(Task {
                    slos: slos.clone(),
                    slo: i,
                    obs: Some(obs.clone()),
                    now: obs.observed_at,
                    key,
                });
            }
        }
        Ok(tasks)
    }

    /// Evaluates every schedule tick up to `now` not yet recorded, starting at
    /// the tick after the SLO's last record (or the tick at or before `now`).
    /// At most `max_ticks` per SLO, oldest first; only SLOs that tick at this
    /// scheduler's site ([`crate::slo::Slo::ticks_at`]). Flushes before
    /// returning. A tick's key is its SLO's and time's alone, so the same
    /// tick made by two replicas is one record in each ledger.
    pub fn tick(&self, now: jiff::Timestamp, max_ticks: usize) -> Result<Pass, LedgerError> {
        let mut pass = Pass::default();
        let mut tasks = Vec::new();
        let slos = self.slos();
        for (i, armed) in slos.iter().enumerate() {
            let Trigger::Schedule(every) = armed.slo.trigger else {
                continue;
            };
            if !armed.slo.ticks_at(self.site.as_deref()) {
                continue;
            }
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
                let key = tick_key(t);
                if self.ledger.has_record(&armed.slo.name, at, &key)? {
                    pass.duplicates += 1;
                } else {
                    // The newest not after the tick: one dated ahead of it
                    // must not hide the others.
                    let usable = self
                        .ledger
                        .latest_observation_until(&armed.slo.dataset, at)?;
                    tasks.push(Task {
                        slos: slos.clone(),
                        slo: i,
                        obs: usable.map(Arc::new),
                        now: at,
                        key,
                    });
                }
                t += step;
            }
        }
        let batch = self.run_tasks(tasks)?;
        self.store(&batch, &mut pass)?;
        self.commit()?;
        Ok(pass)
    }

    /// Moves every SLO's alerts along at `at`, queueing notifications for
    /// `targets`, and judges again the minutes late records landed in, back
    /// at most `lateness`. Flushes before returning the transitions.
    pub fn evaluate_alerts(
        &self,
        at: jiff::Timestamp,
        targets: &[crate::model::Notifier],
        lateness: std::time::Duration,
    ) -> Result<Vec<Transition>, LedgerError> {
        let mut all = Vec::new();
        for armed in self.slos().iter() {
            all.extend(crate::alert::evaluate(
                &self.ledger,
                &armed.slo,
                at,
                targets,
                lateness,
            )?);
        }
        self.commit()?;
        Ok(all)
    }

    /// Runs `tasks`, on the executor when there is one, and returns their
    /// records in order.
    fn run_tasks(&self, tasks: Vec<Task>) -> Result<Vec<EvalRecord>, LedgerError> {
        match &self.executor {
            Some(executor) if tasks.len() > 1 => {
                let jobs: Vec<_> = tasks
                    .into_iter()
                    .map(|task| {
                        let evaluator = self.evaluator.clone();
                        move || evaluator.run(&task)
                    })
                    .collect();
                executor
                    .run_all(self.ledger.tenant(), jobs)
                    .into_iter()
                    .collect()
            }
            _ => tasks.iter().map(|t| self.evaluator.run(t)).collect(),
        }
    }

    /// Writes a pass's records in transactions of [`BATCH`] (group commit:
    /// the caller flushes once after).
    fn store(&self, records: &[EvalRecord], pass: &mut Pass) -> Result<(), LedgerError> {
        self.store_at(records, pass, None)
    }

    /// As [`Scheduler::store`], moving the ingest cursor to `cursor` with the
    /// last transaction (alone when there is no record).
    fn store_at(
        &self,
        records: &[EvalRecord],
        pass: &mut Pass,
        cursor: Option<u64>,
    ) -> Result<(), LedgerError> {
        let chunks = records.len().div_ceil(BATCH).max(1);
        for (n, chunk) in records
            .chunks(BATCH)
            .chain(records.is_empty().then_some(&[][..]))
            .enumerate()
        {
            let at = if n + 1 == chunks { cursor } else { None };
            for (record, stored) in chunk.iter().zip(self.ledger.record_batch_at(chunk, at)?) {
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
}

/// The key of the tick at `t` (ns since the epoch); with the SLO and the
/// time it names the record, whoever ticked.
pub fn tick_key(t: i64) -> String {
    format!("tick-{t}")
}

/// SLO + observation digest, as hex.
pub fn idempotency_key(slo: &str, observation_digest: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(slo.as_bytes());
    h.update([0]);
    h.update(observation_digest);
    hex::encode(&h.finalize()[..16])
}
