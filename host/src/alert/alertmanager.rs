//! Prometheus Alertmanager as a notifier: transitions become postable alerts
//! of its v2 API (`POST /api/v2/alerts`), and firing alerts are re-sent every
//! minute with an `endsAt` a few minutes ahead, as Prometheus does, so they
//! stay active while they fire and resolve on their own if dataslo stops.
//!
//! An Alertmanager is [`Notifier::Alertmanager`], its base URL.

use super::{Condition, conditions};
use crate::ledger::{AlertPhase, Ledger, LedgerError, Transition};
use crate::model::{AlertName, DatasetRef, Notifier, Severity, TransitionState};
use crate::slo::Slo;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// How often firing alerts are re-sent.
pub const REFRESH_EVERY: Duration = Duration::from_secs(60);

/// How far ahead of a send a firing alert's `endsAt` is: several refreshes,
/// so one lost refresh does not resolve it.
pub const LIFETIME: Duration = Duration::from_secs(5 * 60);

fn alerts_url(base_url: &str) -> String {
    format!("{}/api/v2/alerts", base_url.trim_end_matches('/'))
}

/// One alert as Alertmanager's v2 API takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    /// Identify the alert: `alertname`, `alert`, `severity`, `tenant`, `slo`,
    /// `dataset`, `namespace`.
    pub labels: BTreeMap<String, String>,
    /// `summary` and `description` (the figures).
    pub annotations: BTreeMap<String, String>,
    /// When it began firing; left out of a resolve, where Alertmanager keeps
    /// the start it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<jiff::Timestamp>,
    /// When it stops: ahead of now while firing, the resolve time once resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<jiff::Timestamp>,
}

/// What an alert is about, for its `alertname`.
fn alertname(alert: AlertName) -> &'static str {
    match alert {
        AlertName::NoData => "DataSLONoData",
        AlertName::Errors => "DataSLOErrors",
        AlertName::BurnRate { .. } => "DataSLOBurnRate",
    }
}

fn summary(slo: &str, dataset: &str, alert: AlertName) -> String {
    match alert {
        AlertName::NoData => format!("{slo} on {dataset} has no measured evaluation"),
        AlertName::Errors => {
            format!("{slo} on {dataset}: evaluations fail more often than they measure")
        }
        AlertName::BurnRate { .. } => {
            format!("{slo} on {dataset} burns its error budget ({alert})")
        }
    }
}

struct About<'a> {
    tenant: &'a str,
    slo: &'a str,
    dataset: &'a DatasetRef,
    alert: AlertName,
    severity: Severity,
    description: &'a str,
}

impl About<'_> {
    fn alert(&self, starts_at: Option<jiff::Timestamp>, ends_at: jiff::Timestamp) -> PostableAlert {
        let alert = self.alert.to_string();
        let labels = [
            ("alertname", alertname(self.alert)),
            ("alert", alert.as_str()),
            ("severity", self.severity.as_str()),
            ("tenant", self.tenant),
            ("slo", self.slo),
            ("dataset", self.dataset.name.as_str()),
            ("namespace", self.dataset.namespace.as_str()),
        ];
        let dataset = format!("{}/{}", self.dataset.namespace, self.dataset.name);
        let annotations = [
            ("summary", summary(self.slo, &dataset, self.alert)),
            ("description", self.description.to_string()),
        ];
        PostableAlert {
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: annotations
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            starts_at,
            ends_at: Some(ends_at),
        }
    }
}

/// `LIFETIME` after `now`, or after `since` if that is later: Alertmanager
/// rejects an alert that ends before it starts.
fn firing_until(since: jiff::Timestamp, now: jiff::Timestamp) -> jiff::Timestamp {
    let lifetime = jiff::SignedDuration::try_from(LIFETIME).unwrap_or_default();
    let from = since.max(now);
    from.checked_add(lifetime).unwrap_or(from)
}

/// The alert for a transition sent at `now`: a resolve ends at its own
/// time, anything else fires from its time until `LIFETIME` after `now`
/// (a late delivery must not arrive already expired).
pub fn from_transition(t: &Transition, tenant: &str, now: jiff::Timestamp) -> PostableAlert {
    let about = About {
        tenant,
        slo: &t.slo,
        dataset: &t.dataset,
        alert: t.alert,
        severity: t.severity,
        description: &t.summary,
    };
    match t.to {
        TransitionState::Resolved => about.alert(None, t.at),
        TransitionState::Firing | TransitionState::Pending => {
            about.alert(Some(t.at), firing_until(t.at, now))
        }
    }
}

/// The alert re-sent at `now` for a condition of `slo` firing since `since`.
fn from_condition(
    slo: &Slo,
    c: &Condition,
    since: jiff::Timestamp,
    tenant: &str,
    now: jiff::Timestamp,
) -> PostableAlert {
    About {
        tenant,
        slo: &slo.name,
        dataset: &slo.dataset,
        alert: c.alert,
        severity: c.severity,
        description: &c.summary,
    }
    .alert(Some(since), firing_until(since, now))
}

/// POSTs `alerts` to the Alertmanager at `base_url`; any answer but 2xx is an error.
pub fn send(
    agent: &ureq::Agent,
    base_url: &str,
    alerts: &[PostableAlert],
) -> Result<(), ureq::Error> {
    super::webhook::post_json(agent, &alerts_url(base_url), &alerts)
}

/// What one refresh did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Refresh {
    /// Alerts firing.
    pub firing: usize,
    /// Alertmanagers that took them.
    pub sent: usize,
    /// Alertmanagers left for their outbox to drain first: re-sending now
    /// could overtake a resolve still queued there.
    pub skipped: usize,
    /// Alertmanagers that failed, with why; the next refresh repairs them.
    pub errors: Vec<String>,
}

/// Re-sends every firing alert of `slos` to each Alertmanager in `targets`
/// (other notifiers are ignored), with the figures at `now`. Needs no outbox:
/// a lost refresh is repaired by the next.
pub fn refresh<'a>(
    ledger: &Ledger,
    slos: impl IntoIterator<Item = &'a Slo>,
    targets: &[Notifier],
    now: jiff::Timestamp,
    timeout: Duration,
) -> Result<Refresh, LedgerError> {
    let mut report = Refresh::default();
    let managers: Vec<(&Notifier, &str)> = targets
        .iter()
        .filter_map(|target| match target {
            Notifier::Alertmanager(base) => Some((target, base.as_str())),
            Notifier::Webhook(_) => None,
        })
        .collect();
    if managers.is_empty() {
        return Ok(report);
    }
    let mut alerts = Vec::new();
    for slo in slos {
        for c in conditions(ledger, slo, now)? {
            let state = ledger.alert_state(&slo.name, &c.alert)?;
            if state.phase == AlertPhase::Firing {
                alerts.push(from_condition(slo, &c, state.since, ledger.tenant(), now));
            }
        }
    }
    report.firing = alerts.len();
    if alerts.is_empty() {
        return Ok(report);
    }
    let queued = ledger.outbox()?;
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .new_agent();
    for (target, base) in managers {
        if queued.iter().any(|(_, e)| &e.target == target) {
            report.skipped += 1;
            continue;
        }
        match send(&agent, base, &alerts) {
            Ok(()) => report.sent += 1,
            Err(e) => report.errors.push(format!("{base}: {e}")),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    fn transition(alert: &str, to: &str, at: &str) -> Transition {
        Transition {
            slo: "orders-fresh".into(),
            dataset: DatasetRef {
                namespace: "postgres://prod".into(),
                name: "orders".into(),
            },
            alert: alert.parse().unwrap(),
            severity: Severity::Page,
            to: to.parse().unwrap(),
            at: ts(at),
            summary: "burn 20.00 over 1h and 30.00 over 5m (fires at 14.4)".into(),
            late: None,
        }
    }

    #[test]
    fn a_firing_transition_carries_its_labels_annotations_and_rfc3339_times() {
        let t = transition("page:1h/5m", "firing", "2026-11-26T08:00:00Z");
        let alert = from_transition(&t, "team-a", ts("2026-11-26T08:00:30Z"));
        let json = serde_json::to_value(&alert).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "labels": {
                    "alertname": "DataSLOBurnRate",
                    "alert": "page:1h/5m",
                    "severity": "page",
                    "tenant": "team-a",
                    "slo": "orders-fresh",
                    "dataset": "orders",
                    "namespace": "postgres://prod",
                },
                "annotations": {
                    "summary": "orders-fresh on postgres://prod/orders burns its error budget (page:1h/5m)",
                    "description": "burn 20.00 over 1h and 30.00 over 5m (fires at 14.4)",
                },
                "startsAt": "2026-11-26T08:00:00Z",
                "endsAt": "2026-11-26T08:05:30Z",
            })
        );
    }

    #[test]
    fn a_resolve_ends_at_its_time_and_keeps_alertmanagers_start() {
        let t = transition("page:1h/5m", "resolved", "2026-11-26T09:10:00Z");
        let json = serde_json::to_value(from_transition(&t, "default", ts("2026-11-26T09:30:00Z")))
            .unwrap();
        assert_eq!(json["endsAt"], "2026-11-26T09:10:00Z");
        assert!(json.get("startsAt").is_none(), "{json}");
        assert_eq!(json["labels"]["alertname"], "DataSLOBurnRate");
    }

    #[test]
    fn a_late_firing_delivery_still_ends_ahead_of_now() {
        let t = transition("no-data", "firing", "2026-11-26T08:00:00Z");
        let alert = from_transition(&t, "default", ts("2026-11-26T10:00:00Z"));
        assert_eq!(alert.starts_at, Some(ts("2026-11-26T08:00:00Z")));
        assert_eq!(alert.ends_at, Some(ts("2026-11-26T10:05:00Z")));
        // And one stamped after the sender's clock never ends before it starts.
        let early = from_transition(&t, "default", ts("2026-11-26T07:00:00Z"));
        assert_eq!(early.ends_at, Some(ts("2026-11-26T08:05:00Z")));
    }

    #[test]
    fn no_data_and_errors_have_alertnames_of_their_own() {
        let name = |alert: &str| {
            from_transition(
                &transition(alert, "firing", "2026-11-26T08:00:00Z"),
                "d",
                ts("2026-11-26T08:00:00Z"),
            )
            .labels["alertname"]
                .clone()
        };
        assert_eq!(name("no-data"), "DataSLONoData");
        assert_eq!(name("errors"), "DataSLOErrors");
        assert_eq!(name("ticket:1d/2h"), "DataSLOBurnRate");
    }

    #[test]
    fn alerts_are_posted_under_the_base_url_with_or_without_its_slash() {
        for base in ["http://127.0.0.1:9093/", "http://127.0.0.1:9093"] {
            assert_eq!(alerts_url(base), "http://127.0.0.1:9093/api/v2/alerts");
        }
    }
}
