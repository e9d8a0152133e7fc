//! A site that comes back with a day of records (`dataslo agent` offline,
//! then nats-server back): central files them in the past, and its webhook
//! hears the page rule the site's bad hour made true fire once, naming the
//! minutes it held, and resolve once. Nothing is dated in the past.

use crate::edge::{
    await_log, await_records, central_config_with, spawn, spool, start_agent, status, terminate,
};
use crate::support::nats::NatsServer;
use crate::support::webhook::receiver;
use serde_json::Value;
use std::time::{Duration, Instant};

/// orders-volume over 30 days with the page rule of the SRE workbook alone.
const SLO: &str = r#"apiVersion: openslo/v1
kind: SLO
metadata: { name: orders-volume }
spec:
  indicator:
    metadata: { name: v }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec:
            dataset: { namespace: "postgres://prod", name: orders }
            policy: "builtin:volume"
            config: { min_rows: 10 }
            sli: volume
            trigger: observation
            alerting:
              rules: [{ severity: page, long: 1h, short: 5m, burn: 14.4 }]
              no_data_after: 2h
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: gte, value: 10, target: 0.99 }]
"#;

/// A day of observations, one a minute up to a minute before `now`; too few
/// rows from 11 h to 10 h back.
fn a_day(now: jiff::Timestamp) -> String {
    (1..=1440i64)
        .rev()
        .map(|m| {
            let at = now - jiff::SignedDuration::from_mins(m);
            let rows = if 600 < m && m <= 660 { 5 } else { 50 };
            format!(
                "{{\"dataset\":{{\"namespace\":\"postgres://prod\",\"name\":\"orders\"}},\"observed_at\":\"{at}\",\"row_count\":{rows}}}\n"
            )
        })
        .collect()
}

fn page_notices(bodies: &[Value]) -> Vec<Value> {
    bodies
        .iter()
        .filter(|b| b["alert"] == "page:1h/5m")
        .cloned()
        .collect()
}

#[test]
fn a_site_back_with_a_day_of_records_fires_its_bad_hour_once_and_resolves_it_once() {
    let Some(mut nats) = NatsServer::start("a_site_back_with_a_day_of_records") else {
        return;
    };
    let (webhook, bodies) = receiver(|_| {});
    let central = tempfile::tempdir().unwrap();
    let (config, port) = central_config_with(
        central.path(),
        &nats.url(),
        SLO,
        &format!("[notifiers]\nwebhooks = [\"{webhook}\"]\n"),
    );
    let serve_log = central.path().join("serve.log");
    let serve = spawn(&["serve", "--config", config.to_str().unwrap()], &serve_log);
    await_log(
        &serve_log,
        "dataslo serve started",
        Duration::from_secs(120),
    );
    let edge = tempfile::tempdir().unwrap();
    let agent = start_agent(edge.path(), &nats.url(), "plant-7");
    let agent_log = edge.path().join("agent.log");
    // The agent runs central's set before the link goes down.
    await_log(&agent_log, "SLO set applied", Duration::from_secs(120));

    nats.stop();
    let now = jiff::Timestamp::now();
    spool(edge.path(), "day.ndjson", &a_day(now));
    let edge_config = edge.path().join("dataslo.toml");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let local = status(&edge_config, now, None);
        // Failed evaluations (a deadline missed on a loaded machine) count.
        let window = &local["slos"][0]["objectives"][0]["window"];
        let made =
            window["evaluations"].as_u64().unwrap_or(0) + window["errors"].as_u64().unwrap_or(0);
        if made == 1440 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent never evaluated its day: {local}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    nats.restart();
    await_records(
        port,
        1440,
        Duration::from_secs(300),
        &[&agent_log, &serve_log],
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while page_notices(&bodies.lock().unwrap()).len() < 2 {
        assert!(
            Instant::now() < deadline,
            "no firing and resolve of page:1h/5m: {:#?}\n{}",
            bodies.lock().unwrap(),
            std::fs::read_to_string(&serve_log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // A second firing would have come by now.
    std::thread::sleep(Duration::from_secs(3));
    let page = page_notices(&bodies.lock().unwrap());
    let states: Vec<&str> = page.iter().filter_map(|b| b["to"].as_str()).collect();
    assert_eq!(states, ["firing", "resolved"], "{page:#?}");
    let firing = &page[0];
    let at: jiff::Timestamp = firing["at"].as_str().unwrap().parse().unwrap();
    assert!(at > now, "dated now, not in the past: {firing}");
    let from: jiff::Timestamp = firing["late"]["from"].as_str().unwrap().parse().unwrap();
    let bad = now - jiff::SignedDuration::from_mins(660);
    assert!(
        bad <= from && from < bad + jiff::SignedDuration::from_hours(1),
        "held from inside the bad hour: {firing}"
    );
    assert!(firing["late"]["evaluations"].as_u64().unwrap() >= 5);
    assert_eq!(terminate(agent), Some(0));
    assert_eq!(terminate(serve), Some(0));
}
