//! `GET /metrics`: Prometheus text that promtool accepts, with each SLO's
//! figures and the runtime's counts labelled by tenant, slo and dataset; a
//! tenant scrapes only its own series, an admin every tenant's.

use crate::server::{ACME, GLOBEX, JSON, OBS, TestServer, post, put, send, start_config, tenant};
use dataslo::config::{Config, ServerConfig, TenantLimits};
use dataslo::service::token_hash;
use std::io::Write;
use std::process::{Command, Stdio};

const ADMIN: Option<&str> = Some("admin-secret");

fn start_with_admin() -> TestServer {
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
fn promtool(text: &str) -> Option<(bool, String)> {
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
    let labels = r#"tenant="acme",slo="orders-volume",namespace="postgres://prod",dataset="orders",objective="objective 1""#;
    assert!(line(&text, &format!("dataslo_sli_events_total{{{labels}")).ends_with(" 1"));
    assert!(line(&text, &format!("dataslo_sli_good_events_total{{{labels}")).ends_with(" 1"));
    assert!(line(&text, "dataslo_slo_objective_target{").ends_with(" 0.9"));
    assert!(
        line(
            &text,
            r#"dataslo_evaluations_total{tenant="acme",outcome="measured"}"#
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
        r#"dataslo_slo_burn_rate{tenant="globex",slo="orders-volume",namespace="postgres://prod",dataset="orders",objective="objective 1",window="1h"}"#,
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
