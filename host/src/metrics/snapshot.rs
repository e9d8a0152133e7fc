//! The figures of one scrape, taken from the ledger first (where reads can
//! fail), then encoded by prometheus-client (where they cannot).

use crate::alert::alert_names;
use crate::budget::objective_figures;
use crate::ledger::{AlertPhase, LedgerError, minute_of};
use crate::scheduler::Scheduler;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;

/// One tenant's scheduler, as a scrape sees it.
pub struct Scope<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// Its scheduler.
    pub scheduler: &'a Scheduler,
}

type Labels = Vec<(String, String)>;

/// Everything one scrape encodes.
#[derive(Debug, Default)]
pub struct Snapshot {
    objectives: Vec<ObjectiveRow>,
    alerts: Vec<(Labels, f64, f64)>,
    outcomes: Vec<(Labels, u64)>,
    durations: Vec<(Labels, Histogram)>,
    load_failures: Vec<(Labels, u64)>,
}

#[derive(Debug)]
struct ObjectiveRow {
    labels: Labels,
    target: f64,
    good: u64,
    total: u64,
    errors: u64,
    budget_remaining: Option<f64>,
    burn_rates: Vec<(String, f64)>,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Snapshot {
    /// Reads every figure of `scopes` at `at`.
    pub fn take(scopes: &[Scope<'_>], at: jiff::Timestamp) -> Result<Self, LedgerError> {
        let mut snap = Snapshot::default();
        // Counters run over all time: from the first day a timestamp can name.
        let since = minute_of(jiff::Timestamp::MIN).div_euclid(1440) * 1440;
        let now = minute_of(at);
        for scope in scopes {
            let tenant = scope.tenant;
            let ledger = scope.scheduler.ledger();
            for armed in scope.scheduler.slos().iter() {
                let slo = &armed.slo;
                let dataset = &slo.dataset;
                let base = [
                    ("tenant", tenant),
                    ("slo", slo.name.as_str()),
                    ("namespace", dataset.namespace.as_str()),
                    ("dataset", dataset.name.as_str()),
                ];
                let all_time = ledger.sum(&slo.name, since, now)?;
                for (i, objective) in slo.objectives.iter().enumerate() {
                    let figures = objective_figures(ledger, slo, i, at)?;
                    let mut row_labels = labels(&base);
                    row_labels.push(("objective".into(), objective.name.clone()));
                    let events = all_time.events.get(i).copied().unwrap_or_default();
                    snap.objectives.push(ObjectiveRow {
                        labels: row_labels,
                        target: figures.target,
                        good: events.good,
                        total: events.total,
                        errors: all_time.errors,
                        budget_remaining: figures.budget_remaining,
                        burn_rates: figures
                            .burn_rates
                            .into_iter()
                            .filter_map(|(w, r)| r.map(|r| (w, r)))
                            .collect(),
                    });
                }
                for alert in alert_names(slo) {
                    let phase = ledger.alert_state(&slo.name, &alert)?.phase;
                    let mut l = labels(&base);
                    l.push(("alert".into(), alert.to_string()));
                    snap.alerts.push((
                        l,
                        f64::from(u8::from(phase == AlertPhase::Firing)),
                        f64::from(u8::from(phase == AlertPhase::Pending)),
                    ));
                }
            }
            let stats = scope.scheduler.stats();
            for (outcome, n) in stats.outcomes() {
                snap.outcomes
                    .push((labels(&[("tenant", tenant), ("outcome", &outcome)]), n));
            }
            snap.durations
                .push((labels(&[("tenant", tenant)]), stats.durations().clone()));
            snap.load_failures
                .push((labels(&[("tenant", tenant)]), stats.load_failures()));
        }
        Ok(snap)
    }
}

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
            "Evaluations of the SLO that failed (never counted good or bad), all time.",
            MetricType::Counter,
            counter(|r| r.errors),
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
            "Error-budget burn rate over the trailing window (1 = spending exactly the budget).",
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
            "Policy evaluations, by outcome (`measured` or the error code).",
            MetricType::Counter,
            self.outcomes
                .iter()
                .map(|(l, n)| (l.clone(), ConstCounter::new(*n))),
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
            self.load_failures
                .iter()
                .map(|(l, n)| (l.clone(), ConstCounter::new(*n))),
        )
    }
}
