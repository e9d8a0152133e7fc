//! The figures of one scrape, taken from the ledger (where reads can fail)
//! before [`super::encode`] writes them (where nothing can).
//!
//! Every series of an armed SLO is there from the first scrape, at zero or at
//! its value, so that `increase()` sees the first failure after a restart.

use crate::alert::{RuleBurn, alert_names, rule_burn};
use crate::budget::{BURN_WINDOWS, objective_figures};
use crate::ledger::{AlertPhase, ChainProblem, LedgerError, minute_of};
use crate::model::escape_control;
use crate::scheduler::{Armed, Scheduler, outcome_names};
use crate::slo::nominal_length;
use prometheus_client::metrics::histogram::Histogram;
use std::collections::BTreeMap;

/// One tenant's scheduler, as a scrape sees it.
pub struct Scope<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// Its scheduler.
    pub scheduler: &'a Scheduler,
}

pub(super) type Labels = Vec<(String, String)>;

/// Everything one scrape encodes.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Per SLO: its labels and its failed evaluations, all time.
    pub(super) slos: Vec<(Labels, u64)>,
    pub(super) objectives: Vec<ObjectiveRow>,
    pub(super) rules: Vec<RuleRow>,
    /// Per alert: its labels, firing (0/1) and pending (0/1).
    pub(super) alerts: Vec<(Labels, f64, f64)>,
    /// Per SLO and outcome: evaluations since the process started.
    pub(super) outcomes: Vec<(Labels, u64)>,
    pub(super) durations: Vec<(Labels, Histogram)>,
    pub(super) load_failures: Vec<(Labels, u64)>,
    /// Per tenant, site and kind: chain problems central found, all time.
    pub(super) chain_problems: Vec<(Labels, u64)>,
}

/// One objective of one SLO.
#[derive(Debug)]
pub(super) struct ObjectiveRow {
    pub labels: Labels,
    pub target: f64,
    pub good: u64,
    pub total: u64,
    pub budget_remaining: Option<f64>,
    /// Fixed windows no longer than the SLO's window, those with data.
    pub burn_rates: Vec<(String, f64)>,
}

/// One burn-rate rule of one SLO, as its alert judges it.
#[derive(Debug)]
pub(super) struct RuleRow {
    pub labels: Labels,
    pub min_events: u64,
    pub burn: RuleBurn,
}

/// Label values name SLOs, datasets and tenants: escaped, so that no control
/// character or bidi control reaches a scraper or a graph's legend raw (the
/// exposition format then escapes backslashes and quotes).
fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), escape_control(v).into_owned()))
        .collect()
}

fn with(base: &Labels, pairs: &[(&str, &str)]) -> Labels {
    let mut out = base.clone();
    out.extend(labels(pairs));
    out
}

impl Snapshot {
    /// Reads every figure of `scopes` at `at`.
    pub fn take(scopes: &[Scope<'_>], at: jiff::Timestamp) -> Result<Self, LedgerError> {
        let mut snap = Snapshot::default();
        for scope in scopes {
            let outcomes = scope.scheduler.stats().outcomes();
            for armed in scope.scheduler.slos().iter() {
                snap.add_slo(scope, armed, &outcomes, at)?;
            }
            let stats = scope.scheduler.stats();
            let tenant = labels(&[("tenant", scope.tenant)]);
            snap.durations
                .push((tenant.clone(), stats.durations().clone()));
            snap.load_failures.push((tenant, stats.load_failures()));
            snap.add_chain_problems(scope)?;
        }
        Ok(snap)
    }

    /// Every kind for each site with a heartbeat or a problem, at zero or at
    /// its count, so the first problem of a site shows as an increase.
    fn add_chain_problems(&mut self, scope: &Scope<'_>) -> Result<(), LedgerError> {
        let ledger = scope.scheduler.ledger();
        let counts = ledger.chain_problems()?;
        let mut sites: std::collections::BTreeSet<String> = ledger
            .agent_reports()?
            .into_iter()
            .map(|r| r.site)
            .collect();
        sites.extend(counts.keys().map(|(site, _)| site.clone()));
        for site in &sites {
            for kind in ChainProblem::ALL {
                let n = counts
                    .get(&(site.clone(), kind.as_str().to_string()))
                    .copied()
                    .unwrap_or(0);
                let row = labels(&[
                    ("tenant", scope.tenant),
                    ("site", site),
                    ("kind", kind.as_str()),
                ]);
                self.chain_problems.push((row, n));
            }
        }
        Ok(())
    }

    fn add_slo(
        &mut self,
        scope: &Scope<'_>,
        armed: &Armed,
        outcomes: &crate::scheduler::OutcomeCounts,
        at: jiff::Timestamp,
    ) -> Result<(), LedgerError> {
        let ledger = scope.scheduler.ledger();
        let slo = &armed.slo;
        // `dataset_namespace`, not `namespace`: Kubernetes scrapes add a
        // target label of that name, which would rename this one.
        let base = labels(&[
            ("tenant", scope.tenant),
            ("slo", &slo.name),
            ("dataset_namespace", &slo.dataset.namespace),
            ("dataset", &slo.dataset.name),
        ]);
        // Counters run over all time: from the first day a timestamp can name.
        let since = minute_of(jiff::Timestamp::MIN).div_euclid(1440) * 1440;
        let all_time = ledger.sum(&slo.name, since, minute_of(at))?;
        // A failed evaluation fails for the SLO, once, whatever its objectives.
        self.slos.push((base.clone(), all_time.errors));
        let window_minutes =
            i64::try_from(nominal_length(&slo.window).as_secs() / 60).unwrap_or(i64::MAX);
        let mut objective_labels = Vec::with_capacity(slo.objectives.len());
        for (i, objective) in slo.objectives.iter().enumerate() {
            let figures = objective_figures(ledger, slo, i, at)?;
            // The identity stays when the display name changes; so does the series.
            let row_labels = with(
                &base,
                &[
                    ("objective", &objective.identity()),
                    ("objective_name", &objective.name),
                ],
            );
            let events = all_time.events.get(i).copied().unwrap_or_default();
            // A window longer than the SLO's reads data the SLO has no use for.
            let burn_rates = BURN_WINDOWS
                .iter()
                .zip(figures.burn_rates)
                .filter(|((_, minutes), _)| *minutes <= window_minutes)
                .filter_map(|(_, (label, rate))| rate.map(|r| (label, r)))
                .collect();
            objective_labels.push(row_labels.clone());
            self.objectives.push(ObjectiveRow {
                labels: row_labels,
                target: figures.target,
                // good/total never above 1, as in `status`.
                good: events.good.min(events.total),
                total: events.total,
                budget_remaining: figures.budget_remaining,
                burn_rates,
            });
        }
        // Alerts judge the first objective.
        let judged = objective_labels.first().unwrap_or(&base);
        for rule in &slo.alerting.rules {
            let burn = rule_burn(ledger, slo, rule, at)?;
            let alert = burn.alert.to_string();
            self.rules.push(RuleRow {
                labels: with(
                    judged,
                    &[("alert", &alert), ("severity", rule.severity.as_str())],
                ),
                min_events: slo.alerting.min_events,
                burn,
            });
        }
        for alert in alert_names(slo) {
            let phase = ledger.alert_state(&slo.name, &alert)?.phase;
            let l = with(
                &base,
                &[
                    ("alert", &alert.to_string()),
                    ("severity", alert.severity().as_str()),
                ],
            );
            self.alerts.push((
                l,
                f64::from(u8::from(phase == AlertPhase::Firing)),
                f64::from(u8::from(phase == AlertPhase::Pending)),
            ));
        }
        // Every outcome at zero from the start, and any other one counted.
        let counted = outcomes.get(&slo.name);
        let mut by_outcome: BTreeMap<&str, u64> = outcome_names().map(|o| (o, 0)).collect();
        for (outcome, n) in counted.into_iter().flatten() {
            by_outcome.insert(outcome, *n);
        }
        for (outcome, n) in by_outcome {
            self.outcomes
                .push((with(&base, &[("outcome", outcome)]), n));
        }
        Ok(())
    }
}
