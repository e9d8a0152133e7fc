//! The scheduler in virtual time: observation and schedule triggers,
//! idempotency, a stale table burning its freshness budget, and `dataslo run`
//! killed with SIGKILL without losing what it acknowledged.

use crate::support::scheduler_for;

use dataslo::budget::objective_figures;
use dataslo::ledger::Ledger;
use dataslo::model::parse_observation;
use dataslo::scheduler::Scheduler;
use rand::{RngExt, SeedableRng};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const SLOS: &str = r#"
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
          spec: { dataset: { namespace: "postgres://prod", name: orders }, policy: "builtin:freshness", config: { max_age: 2h }, sli: freshness, trigger: { schedule: 30m } }
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: 7200, target: 0.9 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: volume }
spec:
  indicator:
    metadata: { name: v }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: { dataset: { namespace: "postgres://prod", name: orders }, policy: "builtin:volume", config: { min_rows: 100 }, sli: volume, trigger: observation }
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: gte, value: 100, target: 0.9 }]
"#;

fn scheduler(dir: &Path) -> Scheduler {
    scheduler_for(SLOS, dir)
}

fn obs_at(at: &str, rows: u64) -> dataslo::model::Observation {
    let text = format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","last_modified":"{at}","row_count":{rows}}}"#
    );
    parse_observation(&text, "test").unwrap()
}

fn ts(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

#[test]
fn each_observation_is_evaluated_once_even_when_delivered_twice() {
    let dir = tempfile::tempdir().unwrap();
    let s = scheduler(dir.path());
    let batch = [
        obs_at("2026-11-26T01:00:00Z", 150),
        obs_at("2026-11-26T02:00:00Z", 50),
    ];
    let (new, pass) = s.ingest(&batch).unwrap();
    assert_eq!((new, pass.recorded), (2, 2));
    let (new, pass) = s.ingest(&batch).unwrap();
    assert_eq!((new, pass.recorded), (0, 0));
    // A restart's catch-up finds nothing left in the log.
    let catch_up = s.evaluate_log().unwrap();
    assert_eq!((catch_up.recorded, catch_up.duplicates), (0, 0));
    let slos = s.slos();
    let volume = &slos[1].slo;
    let figures = objective_figures(s.ledger(), volume, 0, ts("2026-11-26T03:00:00Z")).unwrap();
    assert_eq!((figures.window.good, figures.window.total), (1, 2));
}

#[test]
fn a_table_that_stops_arriving_burns_its_freshness_budget_on_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let s = scheduler(dir.path());
    s.ingest(&[obs_at("2026-11-26T00:00:00Z", 150)]).unwrap();
    // Ticks every 30 minutes from 00:00 to 06:00: fresh until 02:00, stale after.
    s.tick(ts("2026-11-26T00:00:00Z"), 100).unwrap();
    let pass = s.tick(ts("2026-11-26T06:00:00Z"), 100).unwrap();
    assert_eq!(pass.recorded, 12);
    let slos = s.slos();
    let fresh = &slos[0].slo;
    let figures = objective_figures(s.ledger(), fresh, 0, ts("2026-11-26T06:00:00Z")).unwrap();
    assert_eq!(
        (figures.window.good, figures.window.total),
        (5, 13),
        "00:00..02:00 good, 02:30..06:00 bad"
    );
    assert!(
        figures.budget_remaining.unwrap() < 0.0,
        "the budget is overspent"
    );

    // Replaying the same ticks changes nothing.
    let again = s.tick(ts("2026-11-26T06:00:00Z"), 100).unwrap();
    assert_eq!(again.recorded, 0);
    assert_eq!(
        objective_figures(s.ledger(), fresh, 0, ts("2026-11-26T06:00:00Z")).unwrap(),
        figures
    );
    assert!(s.ledger().verify().unwrap().mismatches.is_empty());
}

#[test]
fn a_policy_failure_is_an_error_not_a_bad_event() {
    let dir = tempfile::tempdir().unwrap();
    let s = scheduler(dir.path());
    let no_rows = parse_observation(
        r#"{"dataset":{"namespace":"postgres://prod","name":"orders"},"observed_at":"2026-11-26T01:00:00Z"}"#,
        "t",
    )
    .unwrap();
    let (_, pass) = s.ingest(&[no_rows]).unwrap();
    assert_eq!((pass.recorded, pass.errors), (1, 1));
    let figures =
        objective_figures(s.ledger(), &s.slos()[1].slo, 0, ts("2026-11-26T02:00:00Z")).unwrap();
    assert_eq!((figures.window.total, figures.window.errors), (0, 1));
    assert_eq!(figures.budget_remaining, None);
}

/// Writes one spool file atomically (rename), so `run` never reads half a file.
fn spool_file(spool: &Path, n: usize, observations: &[String]) {
    let tmp = spool.join(format!(".{n:06}.tmp"));
    std::fs::write(&tmp, observations.join("\n")).unwrap();
    std::fs::rename(&tmp, spool.join(format!("{n:06}.ndjson"))).unwrap();
}

#[test]
fn run_killed_with_sigkill_loses_nothing_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(dir.path().join("slos.yaml"), SLOS).unwrap();
    std::fs::write(
        dir.path().join("dataslo.toml"),
        // A deep history, so that no acknowledged observation is trimmed by design.
        "data_dir = \"data\"\nspool_dir = \"spool\"\npoll_interval = \"5ms\"\nhistory_depth = 100000\nslo_files = [\"slos.yaml\"]\n",
    )
    .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut written: Vec<(std::path::PathBuf, Vec<String>)> = Vec::new();
    let mut file_no = 0;
    for round in 0..20 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dataslo"))
            .arg("run")
            .arg("--config")
            .arg(dir.path().join("dataslo.toml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let files = rng.random_range(3..12);
        for n in 0..files {
            let observations: Vec<String> = (0..rng.random_range(1..5))
                .map(|i| {
                    let minute = file_no * 7 + i;
                    format!(
                        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"2026-11-{:02}T{:02}:{:02}:00Z","row_count":{}}}"#,
                        1 + minute / 1440 % 28,
                        minute / 60 % 24,
                        minute % 60,
                        rng.random_range(0..300)
                    )
                })
                .collect();
            spool_file(&spool, file_no, &observations);
            let path = spool.join(format!("{file_no:06}.ndjson"));
            written.push((path.clone(), observations));
            file_no += 1;
            if n == 0 {
                // Start-up time varies with the machine's load: kill only once
                // this run has taken its first file, so the kill lands mid-work.
                let started = std::time::Instant::now();
                while path.exists() && started.elapsed() < Duration::from_secs(120) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            std::thread::sleep(Duration::from_millis(rng.random_range(0..40)));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..100)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        // A file that is gone was acknowledged: every observation in it must be stored.
        let ledger = Ledger::open(&data.join("ledger"), "default", 100_000).unwrap();
        let stored: Vec<_> = ledger.observations().collect::<Result<_, _>>().unwrap();
        for (path, observations) in &written {
            if !path.exists() {
                for text in observations {
                    let obs = parse_observation(text, "spool").unwrap();
                    assert!(
                        stored.contains(&obs),
                        "round {round}: acknowledged {text} is missing"
                    );
                }
            }
        }
        let report = ledger.verify().unwrap();
        assert!(
            report.mismatches.is_empty(),
            "round {round}: {:?}",
            report.mismatches
        );
        drop(ledger);
    }
    let acknowledged = written.iter().filter(|(p, _)| !p.exists()).count();
    assert!(acknowledged > 0, "run never acknowledged anything");
    let verify = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["ledger", "verify", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn run_stops_cleanly_on_sigterm_after_its_pass() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slos.yaml"), SLOS).unwrap();
    // Without a config file the spool is <data_dir>/spool.
    let spool = dir.path().join("data/spool");
    std::fs::create_dir_all(&spool).unwrap();
    spool_file(
        &spool,
        0,
        &[r#"{"dataset":{"namespace":"postgres://prod","name":"orders"},"observed_at":"2026-11-26T01:00:00Z","row_count":500}"#.to_string()],
    );
    let child = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["run", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg(dir.path().join("slos.yaml"))
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the spool file is acknowledged, then ask it to stop.
    let spooled = spool.join("000000.ndjson");
    for _ in 0..2400 {
        if !spooled.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!spooled.exists(), "run never took the spool file");
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stopped cleanly"), "{stderr}");
    let ledger = Ledger::open(&dir.path().join("data/ledger"), "default", 100).unwrap();
    assert_eq!(ledger.records(Some("volume"), None).count(), 1);
}
