//! An SLO's definition recorded as the ledger's series of it (see
//! [`crate::ledger::Series`]): every process that loads SLOs over a ledger
//! calls [`sync_series`] first, so that buckets always count records for the
//! objectives as now defined, and a changed objective's past is never
//! reinterpreted.
//!
//! - An objective seen before (by identity) keeps its series and its start.
//! - A new threshold objective of an SLO that had threshold objectives is
//!   rebuilt from the raw values, from the same start: its past is counted
//!   under its own definition.
//! - Any other new objective (a ratio objective, or any objective of an SLO
//!   whose indicator changed) starts a new series at `now`.

use crate::ledger::{Counting, Ledger, LedgerError, Series, SeriesObjective};
use crate::slo::Slo;

/// Records `slo`'s objectives as the series its buckets follow, rebuilding
/// them when that changes how records count; returns whether it rebuilt.
/// `now` is when a new series starts.
pub fn sync_series(ledger: &Ledger, slo: &Slo, now: jiff::Timestamp) -> Result<bool, LedgerError> {
    let stored = ledger.series(&slo.name)?;
    ledger.set_series(&slo.name, &series_of(slo, stored.as_ref(), now))
}

/// The series `slo` defines, after `stored` (`None`: its first).
pub fn series_of(slo: &Slo, stored: Option<&Series>, now: jiff::Timestamp) -> Series {
    let objectives: Vec<SeriesObjective> = slo
        .objectives
        .iter()
        .map(|o| {
            let identity = o.identity();
            let counting = match o.threshold {
                Some((op, value)) => Counting::Threshold { op, value },
                None => Counting::Recorded,
            };
            let since = match stored {
                None => None,
                Some(stored) => since(stored, &identity, counting, now),
            };
            SeriesObjective {
                identity,
                counting,
                since,
            }
        })
        .collect();
    match stored {
        None => Series {
            legacy: objectives.iter().map(|o| o.identity.clone()).collect(),
            objectives,
            retired: Vec::new(),
        },
        Some(stored) => stored.with_objectives(objectives),
    }
}

/// When the series of objective `identity`, counted as `counting`, starts
/// after `stored`.
fn since(
    stored: &Series,
    identity: &str,
    counting: Counting,
    now: jiff::Timestamp,
) -> Option<jiff::Timestamp> {
    if let Some(current) = stored.objectives.iter().find(|o| o.identity == identity) {
        return current.since;
    }
    // The indicator the SLO had: its threshold objectives' start, if any.
    let threshold_start = stored
        .objectives
        .iter()
        .find(|o| matches!(o.counting, Counting::Threshold { .. }))
        .map(|o| o.since);
    match (counting, threshold_start) {
        // Rebuilt from the raw values, over the same records as the others.
        (Counting::Threshold { .. }, Some(start)) => start,
        (Counting::Threshold { .. }, None) => Some(now),
        // A ratio objective put back while the SLO is still a ratio resumes.
        (Counting::Recorded, None) => stored.find(identity).map_or(Some(now), |o| o.since),
        (Counting::Recorded, Some(_)) => Some(now),
    }
}

/// When objective `objective` of `slo` began its series, as the ledger
/// recorded it; `None` when it counts from the first record.
pub fn series_start(
    ledger: &Ledger,
    slo: &Slo,
    objective: usize,
) -> Result<Option<jiff::Timestamp>, LedgerError> {
    let Some(o) = slo.objectives.get(objective) else {
        return Ok(None);
    };
    let identity = o.identity();
    Ok(ledger
        .series(&slo.name)?
        .and_then(|s| s.find(&identity).and_then(|o| o.since)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slo(indicator: &str, objectives: &str) -> Slo {
        let metric = r#"metricSource: { type: dataslo, spec: { dataset: { namespace: n, name: d }, policy: "builtin:volume", sli: volume, trigger: observation } }"#;
        let spec = match indicator {
            "threshold" => format!("thresholdMetric: {{ {metric} }}"),
            _ => format!(
                "ratioMetric: {{ good: {{ metricSource: {{ type: dataslo }} }}, total: {{ {metric} }} }}"
            ),
        };
        let yaml = format!(
            "apiVersion: openslo/v1\nkind: SLO\nmetadata: {{ name: s }}\nspec:\n  indicator: {{ metadata: {{ name: i }}, spec: {{ {spec} }} }}\n  timeWindow: [{{ duration: 1d, isRolling: true }}]\n  budgetingMethod: Occurrences\n  objectives: {objectives}\n"
        );
        let mut catalog = crate::slo::parse_text(&yaml, "s.yaml");
        assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
        catalog.slos.remove(0)
    }

    fn t(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_first_series_counts_every_record_in_the_order_they_recorded() {
        let s = slo("ratio", "[{ target: 0.9 }, { target: 0.99 }]");
        let series = series_of(&s, None, t("2026-12-01T00:00:00Z"));
        assert!(series.objectives.iter().all(|o| o.since.is_none()));
        assert_eq!(
            series.legacy,
            [s.objectives[0].identity(), s.objectives[1].identity()]
        );
    }

    #[test]
    fn swapped_objectives_keep_their_series_and_a_changed_threshold_is_rebuilt_from_the_start() {
        let before = slo(
            "threshold",
            "[{ op: gte, value: 1000, target: 0.9 }, { op: gte, value: 10, target: 0.9 }]",
        );
        let first = series_of(&before, None, t("2026-12-01T00:00:00Z"));
        let swapped = slo(
            "threshold",
            "[{ op: gte, value: 10, target: 0.9 }, { op: gte, value: 3000, target: 0.9 }]",
        );
        let next = series_of(&swapped, Some(&first), t("2026-12-02T00:00:00Z"));
        assert_eq!(next.objectives[0], first.objectives[1]);
        assert_eq!(next.objectives[1].since, None, "rebuilt from every value");
        assert_eq!(next.retired, [first.objectives[0].clone()]);
        assert_eq!(next.legacy, first.legacy);
    }

    #[test]
    fn a_changed_ratio_objective_and_a_changed_indicator_start_a_new_series_now() {
        let now = t("2026-12-02T00:00:00Z");
        let ratio = slo("ratio", "[{ target: 0.9 }]");
        let first = series_of(&ratio, None, t("2026-12-01T00:00:00Z"));
        let stricter = series_of(&slo("ratio", "[{ target: 0.95 }]"), Some(&first), now);
        assert_eq!(stricter.objectives[0].since, Some(now));
        let threshold = slo("threshold", "[{ op: gte, value: 10, target: 0.9 }]");
        let switched = series_of(&threshold, Some(&first), now);
        assert_eq!(switched.objectives[0].since, Some(now));
        // Back to the first definition: its series resumes.
        let back = series_of(&ratio, Some(&stricter), t("2026-12-03T00:00:00Z"));
        assert_eq!(back.objectives, first.objectives);
    }
}
