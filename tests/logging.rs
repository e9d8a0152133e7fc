//! The process's log goes through `tracing`: text or JSON lines on stderr,
//! levels from `RUST_LOG`, and a policy's log lines inside a span naming its
//! tenant and SLO, escaped so that a policy cannot forge a line or reach the
//! terminal raw.

use crate::support::guest_path;
use std::process::Command;

/// Runs `dataslo run --once` over one observation and an SLO whose policy
/// (the adversary) logs a hostile line; returns stderr.
fn run_once(extra_args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let slo = format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: noisy }}
spec:
  indicator:
    metadata: {{ name: n }}
    spec:
      ratioMetric:
        good: {{ metricSource: {{ type: dataslo, spec: {{}} }} }}
        total:
          metricSource:
            type: dataslo
            spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "{}", config: {{ attack: log-hostile }}, sli: ok, trigger: observation }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ target: 0.9 }}]
"#,
        guest_path("adversary").display()
    );
    std::fs::write(dir.path().join("slo.yaml"), slo).unwrap();
    let spool = dir.path().join("data/spool");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(
        spool.join("a.json"),
        r#"{"dataset":{"namespace":"postgres://prod","name":"orders"},"observed_at":"2026-11-26T01:00:00Z"}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(extra_args)
        .args(["run", "--once", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg(dir.path().join("slo.yaml"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    stderr
}

#[test]
fn a_policy_log_line_is_escaped_and_names_its_tenant_and_slo() {
    let stderr = run_once(&[]);
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\u{202e}'),
        "{stderr}"
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("checked"))
        .unwrap_or_else(|| panic!("no policy log line: {stderr}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains("tenant=default") && line.contains("slo=noisy"),
        "{line}"
    );
    assert!(
        line.contains(r"checked\u{a}level=ERROR forged line \u{1b}[31mred\u{202e}desrever"),
        "{line}"
    );
    // The forged text stays inside the one line.
    assert!(
        !stderr.lines().any(|l| l.starts_with("level=ERROR")),
        "{stderr}"
    );
}

#[test]
fn json_log_lines_are_one_object_each_for_log_shippers() {
    let stderr = run_once(&["--log-format", "json"]);
    let mut policy_lines = 0;
    for line in stderr.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(event["level"].is_string(), "{line}");
        if event["target"] == "dataslo::policy" {
            policy_lines += 1;
            assert_eq!(event["span"]["slo"], "noisy", "{line}");
            assert!(
                event["message"].as_str().unwrap().starts_with("checked"),
                "{line}"
            );
        }
    }
    assert_eq!(policy_lines, 1, "{stderr}");
}
