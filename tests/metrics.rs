//! `GET /metrics`: Prometheus text that promtool accepts, with each SLO's
//! figures and the runtime's counts labelled by tenant, slo and dataset; a
//! tenant scrapes only its own series, an admin every tenant's. Every series
//! of an SLO is there, at zero, from the moment it is armed; objectives are
//! labelled by their identity; each alert rule has its own burn rates.

use crate::server::{ACME, GLOBEX, JSON, OBS, TestServer, post, put, send, start_config, tenant};
use dataslo::config::{Config, ServerConfig, TenantLimits};
use dataslo::service::token_hash;
use std::io::Write;
use std::process::{Command, Stdio};

const ADMIN: Option<&str> = Some("admin-secret");

/// The SLO labels of `orders-volume` of `tenant`.
fn slo_labels(tenant: &str) -> String {
    format!(
        r#"tenant="{tenant}",slo="orders-volume",dataset_namespace="postgres://prod",dataset="orders""#
    )
}

/// The identity of the first objective of the SLOs in `yaml`.
pub fn objective_id(yaml: &str, objective: usize) -> String {
    let catalog = dataslo::slo::parse_text(yaml, "slo.yaml");
    catalog.slos[0].objectives[objective].identity()
}

/// The objective labels of `orders-volume`'s one objective, of `tenant`.
fn objective_labels(tenant: &str) -> String {
    format!(
        r#"{},objective="{}",objective_name="objective 1""#,
        slo_labels(tenant),
        objective_id(crate::server::SLO, 0)
    )
}

pub fn start_with_admin() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        tenants: vec![
            tenant(dir.path(), "acme", TenantLimits::default()),
            tenant(dir.path(), "globex", TenantLimits::default()),
        ],
        server: ServerConfig {
            admin_token_sha256: vec![token_hash("admin-secret")],
            ..ServerConfig::default()
        },
        ..Config::default()
    };
    start_config(dir, config)
}

/// OBS with `rows` rows, observed a minute ago: scrapes read the SLO window
/// that ends now.
fn recent(rows: u64) -> String {
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60);
    OBS.replace("2026-11-26T08:00:00Z", &at.to_string())
        .replace("\"row_count\":50", &format!("\"row_count\":{rows}"))
}

fn value(line: &str) -> f64 {
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

fn scrape(s: &TestServer, token: Option<&str>) -> (u16, String) {
    send("GET", &format!("{}/metrics", s.url), token, "", b"")
}

/// promtool's verdict on `text`, or `None` where promtool is not installed.
pub(crate) fn promtool(text: &str) -> Option<(bool, String)> {
    let mut child = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("SKIPPED the promtool check: cannot run promtool ({e}); .ci/run installs it");
            return None;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success() && said.trim().is_empty(), said))
}

fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix}:\n{text}"))
}

#[test]
fn a_tenant_scrapes_its_own_slo_figures_and_promtool_accepts_them() {
    let s = start_with_admin();
    assert_eq!(
        post(
            &s,
            "/v1/observations?wait=evaluated",
            ACME,
            JSON,
            &recent(50)
        )
        .0,
        200
    );
    let (status, text) = scrape(&s, ACME);
    assert_eq!(status, 200, "{text}");
    let labels = objective_labels("acme");
    assert!(line(&text, &format!("dataslo_sli_events_total{{{labels}")).ends_with(" 1"));
    assert!(line(&text, &format!("dataslo_sli_good_events_total{{{labels}")).ends_with(" 1"));
    assert!(line(&text, "dataslo_slo_objective_target{").ends_with(" 0.9"));
    assert!(
        line(
            &text,
            &format!(
                r#"dataslo_evaluations_total{{{},outcome="measured"}}"#,
                slo_labels("acme")
            )
        )
        .ends_with(" 1")
    );
    assert!(
        text.contains(r#"dataslo_evaluation_duration_seconds_count{tenant="acme"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"dataslo_slo_alert_firing{tenant="acme",slo="orders-volume""#));
    assert!(text.contains("# TYPE dataslo_slo_burn_rate gauge"));
    assert!(
        !text.contains("globex"),
        "acme sees nothing of globex:\n{text}"
    );
    if let Some((clean, said)) = promtool(&text) {
        assert!(clean, "promtool check metrics:\n{said}\n{text}");
    }
}

#[test]
fn an_admin_scrapes_every_tenant_and_sees_load_failures() {
    let s = start_with_admin();
    post(
        &s,
        "/v1/observations?wait=evaluated",
        ACME,
        JSON,
        &recent(50),
    );
    post(
        &s,
        "/v1/observations?wait=evaluated",
        GLOBEX,
        JSON,
        &recent(5),
    );
    put(&s, "/v1/policies/junk", GLOBEX, "application/wasm", b"junk");
    let (status, text) = scrape(&s, ADMIN);
    assert_eq!(status, 200);
    assert!(text.contains(r#"tenant="acme""#) && text.contains(r#"tenant="globex""#));
    assert!(
        line(
            &text,
            r#"dataslo_policy_load_failures_total{tenant="globex"}"#
        )
        .ends_with(" 1")
    );
    assert!(
        line(
            &text,
            r#"dataslo_policy_load_failures_total{tenant="acme"}"#
        )
        .ends_with(" 0")
    );
    // globex's one event was bad: 1 bad of 0.1 allowed spends the budget ten times over.
    let remaining = value(line(
        &text,
        r#"dataslo_slo_error_budget_remaining_ratio{tenant="globex""#,
    ));
    assert!((remaining + 9.0).abs() < 1e-9, "{remaining}");
    let burn = value(line(
        &text,
        &format!(
            r#"dataslo_slo_burn_rate{{{},window="1h"}}"#,
            objective_labels("globex")
        ),
    ));
    assert!((burn - 10.0).abs() < 1e-9, "{burn}");
    assert_eq!(
        value(line(
            &text,
            r#"dataslo_slo_error_budget_remaining_ratio{tenant="acme""#
        )),
        1.0
    );
    if let Some((clean, said)) = promtool(&text) {
        assert!(clean, "promtool check metrics:\n{said}\n{text}");
    }
}

#[test]
fn a_scraper_that_asks_for_openmetrics_gets_it() {
    let s = start_with_admin();
    let mut response = crate::server::agent()
        .get(&format!("{}/metrics", s.url))
        .header("Authorization", "Bearer acme-secret")
        .header(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .call()
        .unwrap();
    let kind = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let text = response.body_mut().read_to_string().unwrap();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    assert!(text.contains("# TYPE dataslo_evaluations counter") && text.ends_with("# EOF\n"));
    let (_, plain) = scrape(&s, ACME);
    assert!(plain.contains("# TYPE dataslo_evaluations_total counter") && !plain.contains("# EOF"));
}

#[test]
fn metrics_need_a_tenant_or_admin_token() {
    let s = start_with_admin();
    for token in [None, Some("wrong"), Some("")] {
        let (status, text) = scrape(&s, token);
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "{token:?}"
        );
    }
}

#[test]
fn every_series_of_an_armed_slo_is_there_at_zero_before_any_evaluation() {
    let s = start_with_admin();
    let (_, text) = scrape(&s, ACME);
    let slo = slo_labels("acme");
    let outcomes: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(&format!("dataslo_evaluations_total{{{slo},")))
        .collect();
    assert_eq!(
        outcomes.len(),
        1 + dataslo::runtime::ErrorCode::ALL.len(),
        "measured and every error code:\n{text}"
    );
    for outcome in ["measured", "missing_metadata", "deadline", "no_observation"] {
        let l = line(
            &text,
            &format!(r#"dataslo_evaluations_total{{{slo},outcome="{outcome}"}}"#),
        );
        assert!(l.ends_with(" 0"), "{l}");
    }
    for family in ["dataslo_sli_events_total", "dataslo_sli_good_events_total"] {
        let l = line(&text, &format!("{family}{{{}}}", objective_labels("acme")));
        assert!(l.ends_with(" 0"), "{l}");
    }
    for series in [
        format!("dataslo_slo_evaluation_errors_total{{{slo}}}"),
        format!(r#"dataslo_slo_alert_firing{{{slo},alert="page:2m/1m",severity="page"}}"#),
        format!(r#"dataslo_slo_alert_firing{{{slo},alert="errors",severity="ticket"}}"#),
        format!(
            r#"dataslo_slo_alert_window_events{{{},alert="page:2m/1m",severity="page",window="long"}}"#,
            objective_labels("acme")
        ),
    ] {
        assert_eq!(value(line(&text, &series)), 0.0, "{series}:\n{text}");
    }
    assert!(
        !text.contains(",namespace=") && !text.contains("{namespace="),
        "the dataset's namespace is `dataset_namespace`:\n{text}"
    );
    if let Some((clean, said)) = promtool(&text) {
        assert!(clean, "promtool check metrics:\n{said}\n{text}");
    }
}

#[test]
fn each_alert_rule_has_its_own_burn_rates_and_no_window_outlasts_the_slo() {
    let s = start_with_admin();
    assert_eq!(
        post(
            &s,
            "/v1/observations?wait=evaluated",
            ACME,
            JSON,
            &recent(5)
        )
        .0,
        200
    );
    let (_, text) = scrape(&s, ACME);
    let objective = objective_labels("acme");
    // A 1d SLO: the default rules scaled by 1/30, widened to a minute.
    for (alert, severity, threshold) in [
        ("page:2m/1m", "page", 14.4),
        ("page:12m/1m", "page", 6.0),
        ("ticket:48m/4m", "ticket", 3.0),
        ("ticket:144m/12m", "ticket", 1.0),
    ] {
        let rule = format!(r#"{objective},alert="{alert}",severity="{severity}""#);
        let t = value(line(
            &text,
            &format!("dataslo_slo_alert_burn_threshold{{{rule}}}"),
        ));
        assert_eq!(t, threshold, "{alert}");
        let min = line(&text, &format!("dataslo_slo_alert_min_events{{{rule}}}"));
        assert!(min.ends_with(" 3"), "{min}");
        let long = format!(r#"dataslo_slo_alert_burn_rate{{{rule},window="long"}}"#);
        // One bad event of 0.1 allowed: the long window burns 10.
        assert!((value(line(&text, &long)) - 10.0).abs() < 1e-9, "{long}");
        let events = format!(r#"dataslo_slo_alert_window_events{{{rule},window="long"}}"#);
        assert!(line(&text, &events).ends_with(" 1"), "{events}");
    }
    // The observation is a minute old: outside a one-minute short window,
    // inside a four-minute one.
    let page = format!(r#"{objective},alert="page:2m/1m",severity="page",window="short"}}"#);
    assert!(line(&text, &format!("dataslo_slo_alert_window_events{{{page}")).ends_with(" 0"));
    assert!(!text.contains(&format!("dataslo_slo_alert_burn_rate{{{page}")));
    let ticket = format!(r#"{objective},alert="ticket:48m/4m",severity="ticket",window="short"}}"#);
    assert!(
        (value(line(
            &text,
            &format!("dataslo_slo_alert_burn_rate{{{ticket}")
        )) - 10.0)
            .abs()
            < 1e-9
    );
    for window in ["5m", "30m", "1h", "2h", "6h", "1d"] {
        line(
            &text,
            &format!(r#"dataslo_slo_burn_rate{{{objective},window="{window}"}}"#),
        );
    }
    assert!(
        !text.contains(r#"window="3d""#),
        "a 1d SLO has no 3d rate:\n{text}"
    );
}

const TWO_OBJECTIVES: &str = r#"apiVersion: openslo/v1
kind: SLO
metadata: { name: orders-volume }
spec:
  indicator:
    metadata: { name: v }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: { dataset: { namespace: "postgres://prod", name: orders }, policy: "builtin:volume", config: { min_rows: 10 }, sli: volume, trigger: observation }
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives:
    - { displayName: "some rows", op: gte, value: 10, target: 0.9 }
    - { displayName: "many rows", op: gte, value: 1000, target: 0.5 }
"#;

#[test]
fn a_failed_evaluation_of_a_two_objective_slo_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut acme = tenant(dir.path(), "acme", TenantLimits::default());
    std::fs::write(dir.path().join("two.yaml"), TWO_OBJECTIVES).unwrap();
    acme.slo_files = vec![dir.path().join("two.yaml")];
    let config = Config {
        tenants: vec![acme],
        ..Config::default()
    };
    let s = start_config(dir, config);
    let no_rows = recent(50).replace(r#","row_count":50"#, "");
    assert_eq!(
        post(&s, "/v1/observations?wait=evaluated", ACME, JSON, &no_rows).0,
        200
    );
    assert_eq!(
        post(
            &s,
            "/v1/observations?wait=evaluated",
            ACME,
            JSON,
            &recent(500)
        )
        .0,
        200
    );
    let (_, text) = scrape(&s, ACME);
    let slo = slo_labels("acme");
    // Summed over the SLO's series, the failure is one.
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("dataslo_slo_evaluation_errors_total{"))
        .collect();
    assert_eq!(
        errors,
        [format!("dataslo_slo_evaluation_errors_total{{{slo}}} 1").as_str()]
    );
    let failed = format!(r#"dataslo_evaluations_total{{{slo},outcome="missing_metadata"}}"#);
    assert!(line(&text, &failed).ends_with(" 1"), "{text}");
    // Each objective under its identity, with its display name beside it.
    for (i, name, good) in [(0, "some rows", 1), (1, "many rows", 0)] {
        let id = objective_id(TWO_OBJECTIVES, i);
        let events = format!(
            r#"dataslo_sli_good_events_total{{{slo},objective="{id}",objective_name="{name}"}}"#
        );
        assert!(
            line(&text, &events).ends_with(&format!(" {good}")),
            "{text}"
        );
    }
    assert_ne!(
        objective_id(TWO_OBJECTIVES, 0),
        objective_id(TWO_OBJECTIVES, 1)
    );
    if let Some((clean, said)) = promtool(&text) {
        assert!(clean, "promtool check metrics:\n{said}\n{text}");
    }
}

#[test]
fn renaming_an_objective_keeps_its_series() {
    let renamed =
        crate::server::SLO.replace("{ op: gte", r#"{ displayName: "enough rows", op: gte"#);
    assert_eq!(
        objective_id(&renamed, 0),
        objective_id(crate::server::SLO, 0)
    );
    let stricter = crate::server::SLO.replace("value: 10,", "value: 30,");
    assert_ne!(
        objective_id(&stricter, 0),
        objective_id(crate::server::SLO, 0)
    );
}
