//! A real Prometheus (Debian's `prometheus`) scrapes `serve` with a tenant's
//! bearer token, and its query API shows what alert rules are written on: the
//! series of an armed SLO at zero before any evaluation, the labels
//! (`dataset_namespace`, the objective's identity and name), each rule's
//! burn rates under its name, and the page rule of docs/api.md holding
//! exactly where dataslo's own page condition holds. Skipped, saying why, when
//! the binary is absent. Every wait is bounded.

use crate::metrics::objective_id;
use crate::server::{ACME, JSON, OBS, SLO, TestServer, post, start_config, tenant};
use dataslo::config::{Config, TenantLimits};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Prometheus gets to start, scrape or evaluate its rules.
const PATIENCE: Duration = Duration::from_secs(60);

/// `orders-burst`: another table at a 0.99 target, with rules of several
/// minutes, so three bad observations of the last minute page.
const BURST: &str = r#"apiVersion: openslo/v1
kind: SLO
metadata: { name: orders-burst }
spec:
  indicator:
    metadata: { name: v }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec:
            dataset: { namespace: "postgres://prod", name: refunds }
            policy: "builtin:volume"
            config: { min_rows: 10 }
            sli: volume
            trigger: observation
            alerting:
              rules:
                - { severity: page, long: 1h, short: 5m, burn: 14.4 }
                - { severity: ticket, long: 6h, short: 30m, burn: 6 }
  timeWindow: [{ duration: 7d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ displayName: "enough rows", op: gte, value: 10, target: 0.99 }]
"#;

fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A client that gives up on an answer after ten seconds: a hang fails the
/// test instead of stalling it.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

/// Polls `done` until it gives a value; panics after [`PATIENCE`].
fn wait_for<T>(what: &str, mut done: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = done() {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The page rule of docs/api.md, as a rule file.
fn documented_rules() -> String {
    let doc = std::fs::read_to_string(crate::support::workspace().join("docs/api.md")).unwrap();
    let start = doc
        .find("# dataslo-rules.yml\n")
        .expect("docs/api.md has the rule file");
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_string()
}

/// A running Prometheus, killed on drop.
struct Prometheus {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Scrapes `target` (host:port) every second with `token`, evaluating
    /// `rules` every second; waits until it is ready.
    fn start(binary: &Path, target: &str, token: &str, rules: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rules.yml"), rules).unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}\n\
                 rule_files: [rules.yml]\n\
                 scrape_configs:\n  - job_name: dataslo\n    \
                 authorization: {{ credentials: \"{token}\" }}\n    \
                 static_configs: [{{ targets: [\"{target}\"] }}]\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut p = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let ready = format!("{}/-/ready", p.url);
        wait_for("Prometheus to be ready", || {
            if let Ok(Some(status)) = p.child.try_wait() {
                panic!("prometheus exited with {status}:\n{}", p.log());
            }
            agent().get(&ready).call().is_ok().then_some(())
        });
        p
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// `GET /api/v1/query`: the instant vector of `expr`, as (labels, value).
    fn query(&self, expr: &str) -> Vec<(serde_json::Map<String, Value>, f64)> {
        let body = agent()
            .get(&format!("{}/api/v1/query", self.url))
            .query("query", expr)
            .call()
            .unwrap_or_else(|e| panic!("{expr}: {e}\n{}", self.log()))
            .body_mut()
            .read_to_string()
            .unwrap();
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["status"], "success", "{expr}: {body}");
        answer["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let labels = s["metric"].as_object().unwrap().clone();
                let value = s["value"][1].as_str().unwrap().parse().unwrap();
                (labels, value)
            })
            .collect()
    }

    /// The one value of `expr`; panics unless there is exactly one.
    fn one(&self, expr: &str) -> f64 {
        let got = self.query(expr);
        assert_eq!(got.len(), 1, "{expr}: {got:?}");
        got[0].1
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Tenant `acme` with `orders-volume` (1d, default rules) and `orders-burst`.
fn start_acme() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut acme = tenant(dir.path(), "acme", TenantLimits::default());
    std::fs::write(dir.path().join("burst.yaml"), BURST).unwrap();
    acme.slo_files.push(dir.path().join("burst.yaml"));
    let config = Config {
        tenants: vec![acme],
        ..Config::default()
    };
    start_config(dir, config)
}

/// An observation of table `name` with `rows` rows, `ago` seconds ago.
fn observed(name: &str, rows: u64, ago: i64) -> String {
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(ago);
    OBS.replace("2026-11-26T08:00:00Z", &at.to_string())
        .replace("\"row_count\":50", &format!("\"row_count\":{rows}"))
        .replace("\"name\":\"orders\"", &format!("\"name\":\"{name}\""))
}

fn label<'a>(labels: &'a serde_json::Map<String, Value>, name: &str) -> &'a str {
    labels.get(name).and_then(Value::as_str).unwrap_or("")
}

#[test]
fn prometheus_scrapes_zero_series_rule_burn_rates_and_rebuilds_the_page_alert() {
    let Some(binary) = binary() else {
        eprintln!("SKIPPED: no `prometheus` on PATH (apt-get install prometheus; .ci/run does)");
        return;
    };
    let s = start_acme();
    let target = s.url.trim_start_matches("http://");
    let prometheus = Prometheus::start(&binary, target, ACME.unwrap(), &documented_rules());
    wait_for("a first successful scrape", || {
        (prometheus.query(r#"up{job="dataslo"} == 1"#).len() == 1).then_some(())
    });

    // Before any evaluation: every outcome of every SLO, at zero.
    let outcomes = prometheus.query(r#"dataslo_evaluations_total{slo="orders-volume"}"#);
    assert_eq!(outcomes.len(), 1 + dataslo::runtime::ErrorCode::ALL.len());
    assert!(outcomes.iter().all(|(_, v)| *v == 0.0), "{outcomes:?}");
    let (labels, _) = &outcomes[0];
    assert_eq!(label(labels, "dataset_namespace"), "postgres://prod");
    assert_eq!(label(labels, "dataset"), "orders");
    for absent in ["namespace", "exported_namespace", "objective"] {
        assert!(!labels.contains_key(absent), "{absent}: {labels:?}");
    }
    assert_eq!(
        prometheus
            .one(r#"sum by (slo) (dataslo_slo_evaluation_errors_total{slo="orders-volume"})"#),
        0.0
    );
    let events = prometheus.query(r#"dataslo_sli_events_total{slo="orders-volume"}"#);
    assert_eq!(events.len(), 1);
    assert_eq!(label(&events[0].0, "objective"), objective_id(SLO, 0));
    assert_eq!(label(&events[0].0, "objective_name"), "objective 1");
    let burst = prometheus.query(r#"dataslo_slo_objective_target{slo="orders-burst"}"#);
    assert_eq!(label(&burst[0].0, "objective"), objective_id(BURST, 0));
    assert_eq!(label(&burst[0].0, "objective_name"), "enough rows");

    // The rules of each SLO, under their names: scaled to a 1d window, or as written.
    let rules: BTreeSet<(String, String)> = prometheus
        .query("dataslo_slo_alert_burn_threshold")
        .iter()
        .map(|(l, _)| (label(l, "slo").into(), label(l, "alert").into()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("orders-volume", "page:2m/1m"),
        ("orders-volume", "page:12m/1m"),
        ("orders-volume", "ticket:48m/4m"),
        ("orders-volume", "ticket:144m/12m"),
        ("orders-burst", "page:1h/5m"),
        ("orders-burst", "ticket:6h/30m"),
    ]
    .iter()
    .map(|(s, a)| (s.to_string(), a.to_string()))
    .collect();
    assert_eq!(rules, expected);

    // Three bad refunds of the last half minute, one bad orders: too few
    // events for orders-volume to page.
    let bad = [
        ("refunds", 30),
        ("refunds", 20),
        ("refunds", 10),
        ("orders", 10),
    ];
    for (table, ago) in bad {
        let (status, body) = post(
            &s,
            "/v1/observations?wait=evaluated",
            ACME,
            JSON,
            &observed(table, 5, ago),
        );
        assert_eq!(status, 200, "{body}");
    }
    wait_for("the evaluations to be scraped", || {
        let measured = r#"sum(dataslo_evaluations_total{outcome="measured"})"#;
        (prometheus.query(measured).first().map(|(_, v)| *v) == Some(4.0)).then_some(())
    });
    // 3 bad of 3 at a 0.99 target: both windows burn 100.
    for window in ["long", "short"] {
        let expr = format!(
            r#"dataslo_slo_alert_burn_rate{{slo="orders-burst",alert="page:1h/5m",window="{window}"}}"#
        );
        assert!((prometheus.one(&expr) - 100.0).abs() < 1e-9, "{expr}");
    }
    let day = prometheus.one(r#"dataslo_slo_burn_rate{slo="orders-volume",window="1d"}"#);
    assert!((day - 10.0).abs() < 1e-9, "{day}");
    assert!(
        prometheus
            .query(r#"dataslo_slo_burn_rate{slo="orders-volume",window="3d"}"#)
            .is_empty(),
        "a 1d SLO has no 3d rate"
    );

    // The documented rule holds where dataslo's page condition holds.
    let tenant = &s.state.tenants[0];
    let now = jiff::Timestamp::now();
    let mut dataslo_pages = BTreeSet::new();
    for armed in tenant.scheduler.slos().iter() {
        let conditions =
            dataslo::alert::conditions(tenant.scheduler.ledger(), &armed.slo, now).unwrap();
        for c in conditions {
            if c.holds && c.severity == dataslo::slo::Severity::Page {
                dataslo_pages.insert((armed.slo.name.clone(), c.alert.to_string()));
            }
        }
    }
    assert_eq!(
        dataslo_pages,
        BTreeSet::from([("orders-burst".to_string(), "page:1h/5m".to_string())]),
        "burst burns 100 ≥ 14.4 over 3 events; volume has one event of the 3 it needs"
    );
    let pages = wait_for("the documented rule to hold", || {
        let alerts = prometheus.query(r#"ALERTS{alertname="DatasloBurnRate"}"#);
        (!alerts.is_empty()).then_some(alerts)
    });
    let prometheus_pages: BTreeSet<(String, String)> = pages
        .iter()
        .map(|(l, _)| (label(l, "slo").into(), label(l, "alert").into()))
        .collect();
    assert_eq!(prometheus_pages, dataslo_pages, "{pages:?}");
}
