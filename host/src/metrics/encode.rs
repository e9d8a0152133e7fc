//! A [`Snapshot`] written as metric families by prometheus-client. The names,
//! types and labels here are what docs/api.md documents.

use super::snapshot::{Labels, ObjectiveRow, RuleRow, Snapshot};
use crate::alert::WindowBurn;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Encodes one metric family: a descriptor, then each row under its labels.
fn family<T>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    rows: impl IntoIterator<Item = (Labels, T)>,
) -> Result<(), std::fmt::Error>
where
    T: EncodeMetric,
{
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in rows {
        value.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

fn counters(rows: &[(Labels, u64)]) -> impl Iterator<Item = (Labels, ConstCounter<u64>)> + '_ {
    rows.iter().map(|(l, n)| (l.clone(), ConstCounter::new(*n)))
}

/// A rule's long and short windows, each under `window="long"|"short"`.
fn rule_windows<'a, T>(
    rules: &'a [RuleRow],
    value: fn(&WindowBurn) -> Option<T>,
) -> impl Iterator<Item = (Labels, ConstGauge<T>)> + 'a
where
    T: 'a,
    ConstGauge<T>: EncodeMetric,
{
    rules.iter().flat_map(move |r| {
        [("long", &r.burn.long), ("short", &r.burn.short)]
            .into_iter()
            .filter_map(move |(window, w)| {
                let mut l = r.labels.clone();
                l.push(("window".into(), window.into()));
                value(w).map(|v| (l, ConstGauge::new(v)))
            })
    })
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let e = &mut encoder;
        let rows = &self.objectives;
        let gauge = |f: fn(&ObjectiveRow) -> Option<f64>| {
            rows.iter()
                .filter_map(move |r| f(r).map(|v| (r.labels.clone(), ConstGauge::new(v))))
        };
        let counter = |f: fn(&ObjectiveRow) -> u64| {
            rows.iter()
                .map(move |r| (r.labels.clone(), ConstCounter::new(f(r))))
        };
        family(
            e,
            "dataslo_sli_good_events",
            "Good events (or good slices) the SLO has recorded, all time.",
            MetricType::Counter,
            counter(|r| r.good),
        )?;
        family(
            e,
            "dataslo_sli_events",
            "Events (or slices with data) the SLO has recorded, all time.",
            MetricType::Counter,
            counter(|r| r.total),
        )?;
        family(
            e,
            "dataslo_slo_evaluation_errors",
            "Evaluations of the SLO that failed (never counted good or bad), all time; once per evaluation, whatever the objectives.",
            MetricType::Counter,
            counters(&self.slos),
        )?;
        family(
            e,
            "dataslo_slo_objective_target",
            "The objective's target ratio.",
            MetricType::Gauge,
            gauge(|r| Some(r.target)),
        )?;
        family(
            e,
            "dataslo_slo_error_budget_remaining_ratio",
            "Error budget remaining over the SLO window (1 = untouched; absent without data).",
            MetricType::Gauge,
            gauge(|r| r.budget_remaining),
        )?;
        family(
            e,
            "dataslo_slo_burn_rate",
            "Error-budget burn rate over a fixed trailing window no longer than the SLO's (1 = spending exactly the budget).",
            MetricType::Gauge,
            rows.iter().flat_map(|r| {
                r.burn_rates.iter().map(|(window, rate)| {
                    let mut l = r.labels.clone();
                    l.push(("window".into(), window.clone()));
                    (l, ConstGauge::new(*rate))
                })
            }),
        )?;
        family(
            e,
            "dataslo_slo_alert_burn_rate",
            "Burn rate over an alert rule's long or short window, as the rule judges it (absent without events).",
            MetricType::Gauge,
            rule_windows(&self.rules, |w| w.rate),
        )?;
        family(
            e,
            "dataslo_slo_alert_window_events",
            "Events (evaluations for Timeslices) in an alert rule's long or short window.",
            MetricType::Gauge,
            rule_windows(&self.rules, |w| i64::try_from(w.events).ok()),
        )?;
        family(
            e,
            "dataslo_slo_alert_burn_threshold",
            "The burn rate both windows of the rule must reach for it to fire.",
            MetricType::Gauge,
            self.rules
                .iter()
                .map(|r| (r.labels.clone(), ConstGauge::new(r.burn.factor))),
        )?;
        family(
            e,
            "dataslo_slo_alert_min_events",
            "Events the rule's long window needs before it can fire.",
            MetricType::Gauge,
            self.rules.iter().map(|r| {
                let n = i64::try_from(r.min_events).unwrap_or(i64::MAX);
                (r.labels.clone(), ConstGauge::new(n))
            }),
        )?;
        family(
            e,
            "dataslo_slo_alert_firing",
            "1 while the alert fires.",
            MetricType::Gauge,
            self.alerts
                .iter()
                .map(|(l, firing, _)| (l.clone(), ConstGauge::new(*firing))),
        )?;
        family(
            e,
            "dataslo_slo_alert_pending",
            "1 while the alert's condition holds, before it fires.",
            MetricType::Gauge,
            self.alerts
                .iter()
                .map(|(l, _, pending)| (l.clone(), ConstGauge::new(*pending))),
        )?;
        family(
            e,
            "dataslo_evaluations",
            "Policy evaluations of the SLO since start, by outcome (`measured` or the error code).",
            MetricType::Counter,
            counters(&self.outcomes),
        )?;
        family(
            e,
            "dataslo_evaluation_duration_seconds",
            "Wall time of one evaluation: history read, sandboxed call, result checked.",
            MetricType::Histogram,
            self.durations.iter().map(|(l, h)| (l.clone(), h.clone())),
        )?;
        family(
            e,
            "dataslo_policy_load_failures",
            "Policies refused at load: invalid uploads and SLOs that could not be armed.",
            MetricType::Counter,
            counters(&self.load_failures),
        )?;
        family(
            e,
            "dataslo_chain_problems",
            "Agents' records whose hash chain central found wrong, by site and kind: \
             broken_hash and unchained (refused, kept outside the ledger), gap and fork (filed).",
            MetricType::Counter,
            counters(&self.chain_problems),
        )
    }
}
