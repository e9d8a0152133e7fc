//! A `thresholdMetric` objective counts an event good when the measured
//! value passes its threshold, whatever the policy said (docs/measurements.md):
//! a limit written twice, in the config and in the objective, can disagree.
//! Here the policy's own examples (its case files, see
//! [`crate::authoring::policy_examples`]) are evaluated under the SLO's
//! config, and an objective whose threshold judges one of them otherwise
//! than the policy does is a warning. No examples, no warning.

use super::Finding;
use crate::authoring::{Case, CaseFile};
use crate::model::sum_events;
use crate::runtime::{EvaluationInput, Policy, Runtime};
use crate::slo::{Indicator, Slo};
use std::sync::Arc;

/// One warning per objective whose threshold contradicts the policy's
/// verdict on one of `examples` (the first such example).
pub fn contradictions(
    runtime: &Runtime,
    policy: &Policy,
    slo: &Slo,
    examples: &[CaseFile],
) -> Vec<Finding> {
    if slo.indicator != Indicator::Threshold {
        return Vec::new();
    }
    let verdicts: Vec<(&CaseFile, &Case, f64, bool)> = examples
        .iter()
        .flat_map(|file| file.cases.iter().map(move |case| (file, case)))
        .filter_map(|(file, case)| {
            let (value, good) = verdict(runtime, policy, slo, case)?;
            Some((file, case, value, good))
        })
        .collect();
    let mut found = Vec::new();
    for (i, objective) in slo.objectives.iter().enumerate() {
        let Some((op, threshold)) = objective.threshold else {
            continue;
        };
        let contradicted = verdicts
            .iter()
            .find(|(_, _, value, good)| op.holds(*value, threshold) != *good);
        if let Some((file, case, value, good)) = contradicted {
            let said = |good: bool| if good { "good" } else { "bad" };
            let message = format!(
                "objective `{}`: on the policy's example `{}` ({}), under this SLO's config the \
                 policy says {} but the threshold `{} {threshold}` counts its value {value} as {}; \
                 thresholdMetric counts the threshold, not the policy's verdict: make them agree, \
                 or use ratioMetric to count the policy's verdict (docs/measurements.md)",
                objective.name,
                case.name,
                file.path.display(),
                said(*good),
                op.as_str(),
                said(!*good),
            );
            found.push(Finding::at(
                &slo.source,
                format!("spec.objectives[{i}].value"),
                message,
            ));
        }
    }
    found
}

/// The value the SLO reads from `case` and whether the policy counted it
/// good, evaluated under the SLO's config; none when the policy fails on
/// it or gives no value of the SLO's SLI.
fn verdict(runtime: &Runtime, policy: &Policy, slo: &Slo, case: &Case) -> Option<(f64, bool)> {
    let evaluation = runtime
        .evaluate(
            policy,
            EvaluationInput {
                config: &slo.config,
                observation: &case.observation,
                history: Arc::new(case.history.clone()),
                now: case.now,
                limits: None,
            },
        )
        .ok()?;
    let matching: Vec<_> = evaluation
        .measurements
        .iter()
        .filter(|m| m.counts_for(&slo.sli))
        .collect();
    // As the scheduler reads it: the first value, the events summed.
    let value = matching.first()?.value?;
    let (good, total) = sum_events(&slo.sli, matching.iter().copied()).ok()?;
    (total > 0).then_some((value, good == total))
}
