//! The data: tenant `acme` has `orders-volume` (a day of good observations
//! every 30 minutes, then three bad ones just before 08:00 that fire its
//! page alert) and an SLO whose name and dataset are markup; tenant
//! `globex` has an `orders-volume` of its own without data (its no-data
//! alert fires). Pages are asked for at [`AT`].

use super::http::send;
use crate::support::server::{TestServer, start_server};
use dataslo::config::{Config, TenantConfig};
use dataslo::service::token_hash;
use std::path::Path;

const ORDERS: &str = r#"
apiVersion: openslo/v1
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
              rules: [{ severity: page, long: 1h, short: 5m, burn: 2 }]
              min_events: 3
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: gte, value: 10, target: 0.9 }]
"#;

/// A name and a dataset made of markup: both reach the pages.
const HOSTILE: &str = r#"
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: "<img src=x onerror=alert(1)>\"'&" }
spec:
  indicator:
    metadata: { name: v }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec:
            dataset: { namespace: "evil://<b>", name: "<script>alert(1)</script>" }
            policy: "builtin:volume"
            config: { min_rows: 10 }
            sli: volume
            trigger: observation
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: gte, value: 10, target: 0.9 }]
"#;

pub(super) const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>\"'&";

/// The time pages are asked for.
pub(super) const AT: &str = "2026-11-26T08:15:00Z";
pub(super) const ACME: &str = "acme-secret";
pub(super) const GLOBEX: &str = "globex-secret";
pub(super) const ADMIN: &str = "root-secret";
pub(super) const FORM: &str = "application/x-www-form-urlencoded";

fn tenant(dir: &Path, name: &str, yaml: &str) -> TenantConfig {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    TenantConfig {
        name: name.into(),
        token_sha256: vec![token_hash(&format!("{name}-secret"))],
        slo_files: vec![file],
        limits: Default::default(),
        trusted_keys: Vec::new(),
        revoked_keys: Vec::new(),
    }
}

fn observation(namespace: &str, name: &str, at: jiff::Timestamp, rows: u64) -> String {
    serde_json::json!({
        "dataset": {"namespace": namespace, "name": name},
        "observed_at": at.to_string(),
        "row_count": rows,
    })
    .to_string()
}

/// The two tenants, an admin token, acme's data posted through the API and
/// the alerts evaluated as `serve`'s clock loop would.
pub(super) fn start() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        tenants: vec![
            tenant(dir.path(), "acme", &format!("{ORDERS}{HOSTILE}")),
            tenant(dir.path(), "globex", ORDERS),
        ],
        ..Config::default()
    };
    config.server.admin_token_sha256 = vec![token_hash(ADMIN)];
    let server = start_server(dir, config);

    let eight: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().unwrap();
    let minutes = |m: i64| eight + jiff::SignedDuration::from_mins(m);
    let mut lines: Vec<String> = (1..=47)
        .map(|half_hours| observation("postgres://prod", "orders", minutes(-30 * half_hours), 50))
        .collect();
    for bad in [-10, -5, 0] {
        lines.push(observation("postgres://prod", "orders", minutes(bad), 5));
    }
    lines.push(observation(
        "evil://<b>",
        "<script>alert(1)</script>",
        minutes(-60),
        50,
    ));
    let (status, body) = send(
        &server,
        "POST",
        "/v1/observations?wait=evaluated",
        &[
            ("Authorization", &format!("Bearer {ACME}")),
            ("Content-Type", "application/x-ndjson"),
        ],
        &lines.join("\n"),
    );
    assert_eq!(status, 200, "{body}");

    // The page rule goes pending at 07:55:30 and fires five minutes later;
    // globex, without data, has its no-data alert fire.
    for tenant in &server.state.tenants {
        for armed in tenant.scheduler.slos().iter() {
            for at in [minutes(-5), minutes(0)] {
                let at = at + jiff::SignedDuration::from_secs(30);
                dataslo::alert::evaluate(
                    tenant.scheduler.ledger(),
                    &armed.slo,
                    at,
                    &[],
                    std::time::Duration::ZERO,
                )
                .unwrap();
            }
        }
    }
    server
}
