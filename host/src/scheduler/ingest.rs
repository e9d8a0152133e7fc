//! The ingest log's two ends: appending observations (the caller hears
//! "accepted" once the append is flushed) and consuming them from the cursor
//! (evaluation behind it, the cursor moving with the records it produced).
//! After a crash the consumer resumes from the cursor, so every acknowledged
//! observation is evaluated exactly once.

use super::tail::Logged;
use super::{Pass, Scheduler, idempotency_key};
use crate::ledger::{LedgerError, ObservationReceipt};
use crate::model::Observation;
use crate::slo::Trigger;
use std::sync::{Arc, PoisonError};

/// Observations taken from the log per consumer step.
const LOG_BATCH: usize = 256;

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// One receipt per observation sent, in order.
    pub receipts: Vec<ObservationReceipt>,
}

impl Appended {
    /// How many were new (not stored before).
    pub fn new_count(&self) -> usize {
        self.receipts.iter().filter(|r| r.new).count()
    }

    /// The last sequence number given, if any was new.
    pub fn last_seq(&self) -> Option<u64> {
        self.receipts.iter().filter_map(|r| r.seq).max()
    }
}

impl Scheduler {
    /// Appends `observations` to the ingest log (the new ones; repeats change
    /// nothing) and flushes: on return the caller may acknowledge them.
    /// Evaluation is [`Scheduler::evaluate_log`]'s.
    pub fn append(&self, observations: &[Observation]) -> Result<Appended, LedgerError> {
        let receipts = match self.durable {
            true => self.ledger.put_observations_flushed(observations)?,
            false => self.ledger.put_observations(observations)?,
        };
        self.tail.keep(observations, &receipts);
        Ok(Appended { receipts })
    }

    /// [`Scheduler::append`] for a task: no thread waits for the group.
    pub async fn append_awaited(
        &self,
        observations: &[Observation],
    ) -> Result<Appended, LedgerError> {
        let receipts = self
            .ledger
            .put_observations_awaited(observations, self.durable)
            .await?;
        self.tail.keep(observations, &receipts);
        Ok(Appended { receipts })
    }

    /// Appends, then evaluates the log: the synchronous path of `run`'s
    /// spool, the simulation and the tests. Returns how many were new.
    pub fn ingest(&self, observations: &[Observation]) -> Result<(usize, Pass), LedgerError> {
        let appended = self.append(observations)?;
        Ok((appended.new_count(), self.evaluate_log()?))
    }

    /// Evaluates every observation after the log's cursor, in arrival order,
    /// for the observation-triggered SLOs of its dataset, and moves the cursor
    /// in the transaction of the records it produced. One consumer at a time;
    /// a second caller waits, then finds the work done.
    pub fn evaluate_log(&self) -> Result<Pass, LedgerError> {
        let _one = self.consumer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut pass = Pass::default();
        loop {
            let cursor = self.ledger.ingest_cursor()?;
            let batch = self.logged_after(cursor)?;
            let Some(&(last, _)) = batch.last() else {
                break;
            };
            let tasks = self.observation_tasks(&batch, &mut pass)?;
            let records = self.run_tasks(tasks)?;
            self.store_at(&records, &mut pass, Some(last))?;
            self.commit()?;
            // Trimming waits until nothing is left to evaluate: an observation
            // still in the log keeps the history it arrived with.
            if self.ledger.ingest_next()? <= last.saturating_add(1) {
                self.ledger
                    .trim_evaluated(batch.iter().map(|(_, logged)| &logged.obs.dataset))?;
            }
        }
        Ok(pass)
    }

    /// The log's next observations after `cursor`: those this scheduler
    /// appended and still holds, else the log's, read back.
    fn logged_after(&self, cursor: u64) -> Result<Vec<(u64, Logged)>, LedgerError> {
        let held = self.tail.take(cursor, LOG_BATCH);
        if !held.is_empty() {
            return Ok(held);
        }
        let read = self.ledger.logged_after(cursor, LOG_BATCH)?;
        Ok(read
            .into_iter()
            .map(|(seq, obs)| {
                let logged = Logged {
                    obs: Arc::new(obs),
                    digest: None,
                };
                (seq, logged)
            })
            .collect())
    }

    /// Whether the log has been evaluated up to `seq`.
    pub fn evaluated_through(&self, seq: u64) -> Result<bool, LedgerError> {
        Ok(self.ledger.ingest_cursor()? >= seq)
    }

    /// The evaluation records that exist for these observations (each with
    /// its digest, from its append receipt): one per observation-triggered
    /// SLO of its dataset, once evaluated.
    pub fn records_for(
        &self,
        observations: &[(&Observation, [u8; 32])],
    ) -> Result<usize, LedgerError> {
        let slos = self.slos();
        let mut found = 0;
        for (obs, digest) in observations {
            for armed in slos.iter() {
                if armed.slo.trigger != Trigger::Observation || armed.slo.dataset != obs.dataset {
                    continue;
                }
                let key = idempotency_key(&armed.slo.name, digest);
                found += usize::from(self.ledger.has_record(
                    &armed.slo.name,
                    obs.observed_at,
                    &key,
                )?);
            }
        }
        Ok(found)
    }
}
