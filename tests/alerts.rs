//! Alerts in virtual time: a burn-rate rule goes pending, fires after its
//! short window, resolves when the data recovers; no-data fires when
//! evaluations stop; transitions reach a real HTTP webhook on loopback,
//! retried until it answers 2xx.

use crate::support::{LATENESS, scheduler_for};

use dataslo::alert::{conditions, deliver_outbox};
use dataslo::model::{AlertName, Notifier, TransitionState, parse_observation};
use dataslo::scheduler::Scheduler;
use dataslo::slo::{Severity, parse_text};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) const SLO: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: fresh }
spec:
  indicator:
    metadata: { name: f }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec:
            dataset: { namespace: "postgres://prod", name: orders }
            policy: "builtin:freshness"
            config: { max_age: 1h }
            sli: freshness
            trigger: { schedule: 5m }
            alerting:
              rules: [{ severity: page, long: 1h, short: 15m, burn: 5 }]
              min_events: 3
              no_data_after: 30m
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: 3600, target: 0.9 }]
"#;

fn scheduler(dir: &Path) -> Scheduler {
    scheduler_for(SLO, dir)
}

pub(crate) fn observe(s: &Scheduler, at: &str) {
    let text = format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","last_modified":"{at}"}}"#
    );
    s.ingest(&[parse_observation(&text, "t").unwrap()]).unwrap();
}

fn minute(n: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_651_200 + n * 60).unwrap() // 2026-11-26T00:00:00Z
}

/// Runs ticks and alert evaluation every 5 minutes over `from..=to` minutes.
fn advance(s: &Scheduler, from: i64, to: i64, targets: &[Notifier]) -> Vec<(i64, String, String)> {
    let mut seen = Vec::new();
    for m in (from..=to).step_by(5) {
        s.tick(minute(m), 1000).unwrap();
        for t in s.evaluate_alerts(minute(m), targets, LATENESS).unwrap() {
            seen.push((m, t.alert.to_string(), t.to.to_string()));
        }
    }
    seen
}

#[test]
fn default_rules_are_scaled_to_the_window() {
    let yaml = SLO.replace("            alerting:\n              rules: [{ severity: page, long: 1h, short: 15m, burn: 5 }]\n              min_events: 3\n              no_data_after: 30m\n", "");
    let slo = parse_text(&yaml, "x").slos.remove(0);
    let rules: Vec<_> = slo
        .alerting
        .rules
        .iter()
        .map(|r| {
            (
                r.severity,
                r.long.as_secs() / 60,
                r.short.as_secs() / 60,
                r.factor,
            )
        })
        .collect();
    // A 1-day window is 1/30 of the 30-day table; windows under one 5m trigger interval widen to it.
    assert_eq!(
        rules,
        [
            (Severity::Page, 5, 5, 14.4),
            (Severity::Page, 12, 5, 6.0),
            (Severity::Ticket, 48, 5, 3.0),
            (Severity::Ticket, 144, 12, 1.0)
        ]
    );
    assert_eq!(slo.alerting.no_data_after, Duration::from_secs(15 * 60));
}

#[test]
fn a_burning_slo_goes_pending_then_fires_then_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let s = scheduler(dir.path());
    observe(&s, "2026-11-26T00:00:00Z");
    // Fresh until 01:00, stale after: the page rule must fire, not before
    // enough events and its 15 minutes of holding.
    let seen = advance(&s, 0, 150, &[]);
    let firing = seen
        .iter()
        .find(|(_, a, to)| a == "page:1h/15m" && to == "firing")
        .expect("fires");
    let pending = seen
        .iter()
        .find(|(_, a, to)| a == "page:1h/15m" && to == "pending")
        .expect("pending first");
    assert!(pending.0 > 60 && firing.0 >= pending.0 + 15, "{seen:?}");
    // The data recovers; the alert resolves.
    observe(&s, "2026-11-26T02:35:00Z");
    let later = advance(&s, 155, 300, &[]);
    assert!(
        later
            .iter()
            .any(|(_, a, to)| a == "page:1h/15m" && to == "resolved"),
        "{later:?}"
    );
    // Re-evaluating at the same time changes nothing.
    assert!(
        s.evaluate_alerts(minute(300), &[], LATENESS)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.ledger().transitions().unwrap().len(),
        seen.len() + later.len()
    );
}

#[test]
fn no_data_fires_when_evaluations_stop_and_few_events_never_page() {
    let dir = tempfile::tempdir().unwrap();
    let s = scheduler(dir.path());
    let slos = s.slos();
    let slo = &slos[0].slo;
    // No evaluation at all: no-data holds, the burn rule does not (too few events).
    let c = conditions(s.ledger(), slo, minute(60)).unwrap();
    assert!(c.iter().any(|c| c.alert == AlertName::NoData && c.holds));
    assert!(c.iter().any(|c| c.alert.to_string() == "page:1h/15m"
        && !c.holds
        && c.summary.contains("too few events")));
    let seen = advance(&s, 60, 60, &[]);
    assert_eq!(seen, [(60, "no-data".to_string(), "firing".to_string())]);
}

/// A loopback HTTP server that answers 500 to the first request, then 200, and
/// keeps every body it receives.
fn flaky_webhook() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let status = if n == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

#[test]
fn transitions_reach_a_webhook_and_failures_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let s = scheduler(dir.path());
    let (url, bodies) = flaky_webhook();
    let seen = advance(&s, 60, 60, &[Notifier::Webhook(url)]);
    assert_eq!(seen.len(), 1, "no-data fires");

    let first = deliver_outbox(s.ledger(), minute(60), Duration::from_secs(5)).unwrap();
    assert_eq!((first.delivered, first.failed), (0, 1));
    let too_soon = deliver_outbox(s.ledger(), minute(60), Duration::from_secs(5)).unwrap();
    assert_eq!(too_soon.waiting, 1, "backoff holds the retry");
    let retry = deliver_outbox(s.ledger(), minute(61), Duration::from_secs(5)).unwrap();
    assert_eq!(retry.delivered, 1);
    assert!(s.ledger().outbox().unwrap().is_empty());

    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 2);
    let sent: serde_json::Value = serde_json::from_str(&bodies[1]).unwrap();
    assert_eq!(
        (
            sent["slo"].as_str(),
            sent["alert"].as_str(),
            sent["to"].as_str()
        ),
        (Some("fresh"), Some("no-data"), Some("firing"))
    );
}

const DEFAULTS: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: stale }
spec:
  indicator:
    metadata: { name: f }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: { dataset: { namespace: "postgres://prod", name: orders }, policy: "builtin:freshness", config: { max_age: 1h }, sli: freshness, trigger: { schedule: 5m } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: 3600, target: 0.99 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: broken }
spec:
  indicator:
    metadata: { name: v }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: { dataset: { namespace: "postgres://prod", name: orders }, policy: "builtin:volume", config: { min_rows: 1 }, sli: volume, trigger: observation }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: gte, value: 1, target: 0.99 }]
"#;

fn defaults_scheduler(dir: &Path) -> Scheduler {
    scheduler_for(DEFAULTS, dir)
}

#[test]
fn a_stale_table_burns_its_budget_and_pages_within_the_time_the_default_rules_imply() {
    let dir = tempfile::tempdir().unwrap();
    let s = defaults_scheduler(dir.path());
    observe(&s, "2026-11-26T00:00:00Z"); // the last load
    let seen = advance(&s, 0, 180, &[]);
    let page = seen
        .iter()
        .find(|(_, alert, to)| alert == "page:1h/5m" && to == "firing")
        .unwrap_or_else(|| panic!("the page rule never fired: {seen:?}"));
    // Stale from minute 65 (age > 1h). Burn 14.4 at a 99% target needs 14.4% of
    // the last hour's 12 ticks bad: 2 ticks, so minute 70; then it holds for
    // its 5-minute short window: minute 75.
    assert!(page.0 > 60 && page.0 <= 75, "paged at minute {}", page.0);
    let slos = s.slos();
    let stale = &slos[0].slo;
    let figures = dataslo::budget::objective_figures(s.ledger(), stale, 0, minute(180)).unwrap();
    assert!(figures.budget_remaining.unwrap() < 1.0 && figures.budget_spent > 0);
}

#[test]
fn a_broken_checker_burns_no_budget_and_raises_the_error_alert() {
    let dir = tempfile::tempdir().unwrap();
    let s = defaults_scheduler(dir.path());
    // Observations without a row count: `volume` fails with missing metadata.
    for m in (0..40).step_by(10) {
        observe(&s, &minute(m).to_string());
    }
    let slos = s.slos();
    let broken = &slos[1].slo;
    let figures = dataslo::budget::objective_figures(s.ledger(), broken, 0, minute(40)).unwrap();
    assert_eq!(
        (figures.window.total, figures.window.errors),
        (0, 4),
        "errors, not bad events"
    );
    assert_eq!(
        (figures.budget_spent, figures.budget_remaining),
        (0, None),
        "no budget burnt"
    );
    let transitions = s.evaluate_alerts(minute(40), &[], LATENESS).unwrap();
    assert!(
        transitions.iter().any(|t| t.slo == "broken"
            && t.alert == AlertName::Errors
            && t.to == TransitionState::Firing),
        "{transitions:?}"
    );
    assert!(
        !transitions
            .iter()
            .any(|t| t.slo == "broken" && t.alert.to_string().starts_with("page"))
    );
}
