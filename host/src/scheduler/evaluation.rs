//! One evaluation: the policy run in the sandbox on an observation and its
//! history, the result turned into a ledger record and counted. Runs on the
//! executor's workers, so everything it needs is owned or shared.

use super::{Armed, Stats};
use crate::ledger::{EvalRecord, Events, Ledger, LedgerError, Outcome};
use crate::model::{Observation, sum_events};
use crate::runtime::{
    ErrorCode, EvalError, EvalErrorKind, EvaluationInput, HistoryError, HistorySource, Limits,
    Runtime,
};
use crate::slo::Indicator;
use std::borrow::Cow;
use std::sync::Arc;

/// What every evaluation of one scheduler shares.
#[derive(Clone)]
pub(super) struct Evaluator {
    pub runtime: Arc<Runtime>,
    pub ledger: Ledger,
    pub history_depth: usize,
    pub limits: Option<Limits>,
    pub stats: Arc<Stats>,
}

/// One evaluation to run: SLO `slo` of `slos`, on `obs` (none yet for a
/// scheduled SLO whose dataset never arrived), at `now`.
pub(super) struct Task {
    pub slos: Arc<Vec<Armed>>,
    pub slo: usize,
    pub obs: Option<Arc<Observation>>,
    pub now: jiff::Timestamp,
    pub key: String,
}

impl Evaluator {
    /// One evaluation, turned into a record and counted.
    pub(super) fn run(self: &Arc<Self>, task: &Task) -> Result<EvalRecord, LedgerError> {
        let started = std::time::Instant::now();
        let armed = &task.slos[task.slo];
        let record = self.run_policy(armed, task.obs.as_ref(), task.now, task.key.clone())?;
        let outcome = match &record.outcome {
            Outcome::Measured => "measured",
            Outcome::Error { code, .. } => code.as_str(),
        };
        self.stats
            .evaluated(&armed.slo.name, outcome, started.elapsed());
        Ok(record)
    }

    /// One evaluation, turned into a record. Policy failures become error records.
    fn run_policy(
        self: &Arc<Self>,
        armed: &Armed,
        obs: Option<&Arc<Observation>>,
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
            objectives: Vec::new(),
            value: None,
            detail: String::new(),
            policy_sha256: armed.policy_sha256().to_string(),
            chain: None,
        };
        let fail = |mut record: EvalRecord, code: ErrorCode, message: String| {
            record.outcome = Outcome::Error {
                code: code.as_str().into(),
                message: message.clone(),
            };
            record.detail = message;
            record
        };
        let Some(obs) = obs else {
            return Ok(fail(
                record,
                ErrorCode::NoObservation,
                format!(
                    "no observation of {}/{} yet",
                    slo.dataset.namespace, slo.dataset.name
                ),
            ));
        };
        let input = EvaluationInput {
            config: &slo.config,
            observation: obs,
            history: Arc::new(StoredHistory {
                evaluator: self.clone(),
                before: obs.clone(),
            }),
            now,
            limits: self.limits.as_ref(),
        };
        let evaluation = match self.runtime.evaluate(&armed.policy, input) {
            Ok(e) => {
                log_lines(self.ledger.tenant(), &slo.name, &e.logs);
                e
            }
            Err(e) => {
                let e = e.for_slo(&slo.name);
                return Ok(fail(record, e.error_code(), e.to_string()));
            }
        };
        let matching: Vec<_> = evaluation
            .measurements
            .iter()
            .filter(|m| m.counts_for(&slo.sli))
            .collect();
        if matching.is_empty() {
            let names: Vec<_> = evaluation
                .measurements
                .iter()
                .map(|m| m.sli.as_str())
                .collect();
            return Ok(fail(
                record,
                ErrorCode::NoMeasurement,
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
        // The runtime refuses measurements that overflow together; summed
        // here again, never wrapped, whatever produced them.
        let (good, total) = match sum_events(&slo.sli, matching.iter().copied()) {
            Ok(sums) => sums,
            Err(overflow) => {
                let e = EvalError {
                    policy: armed.policy.label().to_string(),
                    slo: Some(slo.name.clone()),
                    kind: EvalErrorKind::InvalidOutput(overflow.to_string()),
                };
                return Ok(fail(record, e.error_code(), e.to_string()));
            }
        };
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
                _ => Events { good, total },
            })
            .collect();
        // The events count for these objectives, wherever they later move.
        record.objectives = armed.objective_identities().to_vec();
        Ok(record)
    }
}

/// The ledger's observations of the dataset before the evaluated one, read
/// only if the policy calls `history`.
struct StoredHistory {
    evaluator: Arc<Evaluator>,
    before: Arc<Observation>,
}

impl HistorySource for StoredHistory {
    fn newest(&self, n: usize) -> Result<Cow<'_, [Observation]>, HistoryError> {
        let depth = n.min(self.evaluator.history_depth);
        self.evaluator
            .ledger
            .history_before(&self.before, depth)
            .map(Cow::Owned)
            .map_err(|e| HistoryError(e.to_string()))
    }
}

/// The policy's log lines, through the process's log, in a span naming the
/// tenant and SLO.
fn log_lines(tenant: &str, slo: &str, logs: &[crate::runtime::LogLine]) {
    if logs.is_empty() {
        return;
    }
    let slo = crate::model::escape_control(slo);
    let _span = tracing::info_span!("slo", tenant = %tenant, slo = %slo).entered();
    for line in logs {
        crate::runtime::log_policy_line(line);
    }
}
