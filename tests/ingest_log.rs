//! Acknowledged means evaluated: every observation a caller heard "accepted"
//! for is evaluated exactly once, through the ingest log and its cursor,
//! whatever kills the process in between; a ledger written before the log
//! is migrated and its stored observations evaluated.

use crate::serve_process::{observation, start_serve};
use crate::server::SLO;
use crate::support::test_data;
use dataslo::ledger::{CURRENT_LAYOUT, Ledger};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BASE: i64 = 1_780_000_000;

/// Kill cycles: 20 in the suite; `DATASLO_KILL_CYCLES=100` for a longer run.
fn cycles() -> usize {
    std::env::var("DATASLO_KILL_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

fn dataslo(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Records of orders-volume per observation index (its time minus BASE).
fn records_per_observation(ledger_dir: &Path, tenant: &str) -> BTreeMap<i64, usize> {
    let ledger = Ledger::open(ledger_dir, "default", 100)
        .unwrap()
        .for_tenant(tenant)
        .unwrap();
    let mut counts = BTreeMap::new();
    for record in ledger.records(Some("orders-volume"), None) {
        *counts
            .entry(record.unwrap().time.as_second() - BASE)
            .or_default() += 1;
    }
    counts
}

fn assert_exactly_once(counts: &BTreeMap<i64, usize>, acknowledged: &BTreeSet<usize>) {
    let missing: Vec<_> = acknowledged
        .iter()
        .filter(|i| !counts.contains_key(&(**i as i64)))
        .collect();
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        missing.is_empty(),
        "acknowledged, never evaluated: {missing:?}"
    );
    assert!(doubled.is_empty(), "evaluated twice: {doubled:?}");
}

#[test]
fn observe_then_run_evaluates_every_acknowledged_observation_beyond_the_history_depth() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slo.yaml"), SLO).unwrap();
    let lines: Vec<String> = (0..150).map(observation).collect();
    std::fs::write(dir.path().join("obs.ndjson"), lines.join("\n")).unwrap();
    let out = dataslo(&["observe", "--data-dir", "data", "obs.ndjson"], dir.path());
    assert_eq!(
        text(&out.stdout).trim(),
        "acknowledged 150 observation(s), 150 new",
        "{}",
        text(&out.stderr)
    );
    let out = dataslo(
        &["run", "--once", "--data-dir", "data", "slo.yaml"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let counts = records_per_observation(&dir.path().join("data/ledger"), "default");
    assert_exactly_once(&counts, &(0..150).collect());
    let verify = dataslo(&["ledger", "verify", "--data-dir", "data"], dir.path());
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

#[test]
fn a_ledger_of_the_release_before_the_log_is_refused_then_migrated_and_nothing_is_lost() {
    // Written by the release before the ingest log (layout 1): one
    // observation evaluated by `run`, one stored by `observe` and never
    // evaluated (tests/data/README.md says how it was made).
    let dir = tempfile::tempdir().unwrap();
    let untar = Command::new("tar")
        .arg("xzf")
        .arg(test_data("ledgers/layout-1.tar.gz"))
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(untar.success());
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::rename(dir.path().join("ledger"), dir.path().join("data/ledger")).unwrap();
    std::fs::write(dir.path().join("slo.yaml"), SLO).unwrap();

    let refused = dataslo(&["status", "--data-dir", "data"], dir.path());
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("layout 1") && stderr.contains(&format!("layout {CURRENT_LAYOUT}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("dataslo ledger migrate --data-dir data"),
        "{stderr}"
    );

    let migrated = dataslo(&["ledger", "migrate", "--data-dir", "data"], dir.path());
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    assert!(
        text(&migrated.stdout).contains(&format!(
            "migrated from layout 1 to layout {CURRENT_LAYOUT}"
        )),
        "{}",
        text(&migrated.stdout)
    );
    let out = dataslo(&["run", "--once", "--data-dir", "data"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let export = dataslo(&["ledger", "export", "--data-dir", "data"], dir.path());
    let times: Vec<String> = text(&export.stdout)
        .lines()
        .filter(|l| !l.starts_with(r#"{"chain":"#)) // chain headers
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["time"].to_string())
        .collect();
    assert_eq!(
        times,
        ["\"2026-11-26T08:00:00Z\"", "\"2026-11-26T09:00:00Z\""],
        "the old record is kept and the stored observation evaluated once"
    );
    let again = dataslo(&["run", "--once", "--data-dir", "data"], dir.path());
    assert!(again.status.success());
    let export = dataslo(&["ledger", "export", "--data-dir", "data"], dir.path());
    assert_eq!(
        text(&export.stdout).lines().count(),
        3,
        "a chain header, 2 records"
    );
    let verify = dataslo(&["ledger", "verify", "--data-dir", "data"], dir.path());
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

/// `dataslo run` over `dir`, its log in a file (a full pipe would stall it).
fn start_run(dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("run.log"))
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["run", "--data-dir", "data", "slo.yaml"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

#[test]
fn observe_hands_its_observations_to_a_running_run_and_hears_their_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slo.yaml"), SLO).unwrap();
    std::fs::write(dir.path().join("obs.json"), observation(7)).unwrap();
    let mut run = start_run(dir.path());
    let started = Instant::now();
    while !dir.path().join("data/holder.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "run never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = dataslo(
        &["observe", "--wait", "--data-dir", "data", "obs.json"],
        dir.path(),
    );
    run.kill().unwrap();
    run.wait().unwrap();
    assert_eq!(
        text(&out.stdout).trim(),
        "acknowledged 1 observation(s), 1 new, 1 evaluation(s)",
        "{}",
        text(&out.stderr)
    );
    let counts = records_per_observation(&dir.path().join("data/ledger"), "default");
    assert_exactly_once(&counts, &[7].into());
}

#[test]
fn observe_and_run_killed_at_random_lose_nothing_and_double_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slo.yaml"), SLO).unwrap();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let mut rng = StdRng::seed_from_u64(7);
    let mut run = start_run(dir.path());
    let mut observers = Vec::new();
    for _cycle in 0..cycles() {
        for _ in 0..3 {
            let (dir, acknowledged, next) =
                (dir.path().to_path_buf(), acknowledged.clone(), next.clone());
            observers.push(std::thread::spawn(move || {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let file = format!("obs-{i}.json");
                std::fs::write(dir.join(&file), observation(i)).unwrap();
                let out = dataslo(&["observe", "--data-dir", "data", &file], &dir);
                if out.status.success() {
                    acknowledged.lock().unwrap().insert(i);
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(100..700)));
        run.kill().unwrap();
        run.wait().unwrap();
        run = start_run(dir.path());
    }
    for o in observers {
        o.join().unwrap();
    }
    run.kill().unwrap();
    run.wait().unwrap();
    // One clean pass evaluates what the last kill left in the log.
    let out = dataslo(
        &["run", "--once", "--data-dir", "data", "slo.yaml"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let acknowledged = acknowledged.lock().unwrap();
    println!(
        "observe + run: {} cycles, {} acknowledged",
        cycles(),
        acknowledged.len()
    );
    assert!(
        acknowledged.len() >= 50,
        "only {} acknowledged",
        acknowledged.len()
    );
    let counts = records_per_observation(&dir.path().join("data/ledger"), "default");
    assert_exactly_once(&counts, &acknowledged);
    let verify = dataslo(&["ledger", "verify", "--data-dir", "data"], dir.path());
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

#[test]
fn serve_killed_at_random_under_load_evaluates_every_acknowledged_observation_once() {
    let dir = tempfile::tempdir().unwrap();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let mut rng = StdRng::seed_from_u64(11);
    for _cycle in 0..cycles() {
        let (mut child, base) = start_serve(dir.path(), "", "");
        let clients: Vec<_> = (0..8)
            .map(|_| {
                let (next, acknowledged) = (next.clone(), acknowledged.clone());
                let url = format!("{base}/v1/observations");
                std::thread::spawn(move || {
                    let agent = crate::server::agent();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let answer = agent
                            .post(&url)
                            .header("Authorization", "Bearer acme-secret")
                            .header("Content-Type", "application/json")
                            .send(observation(i).as_bytes());
                        match answer {
                            Ok(r) if r.status() == 200 => {
                                acknowledged.lock().unwrap().insert(i);
                            }
                            Ok(r) => panic!("answered {} while running", r.status()),
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.random_range(200..900)));
        child.kill().unwrap();
        child.wait().unwrap();
        for c in clients {
            c.join().unwrap();
        }
    }
    // Restarted, it resumes from the cursor.
    let acknowledged = acknowledged.lock().unwrap();
    println!(
        "serve: {} cycles, {} acknowledged",
        cycles(),
        acknowledged.len()
    );
    let (child, base) = start_serve(dir.path(), "", "");
    let started = Instant::now();
    loop {
        let mut answer = crate::server::agent()
            .get(&format!("{base}/v1/slos/orders-volume/events"))
            .header("Authorization", "Bearer acme-secret")
            .call()
            .unwrap();
        // A hundred cycles store tens of thousands of records.
        let events: serde_json::Value = answer
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_json()
            .unwrap();
        if events.as_array().unwrap().len() >= acknowledged.len() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the log never drained"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    assert!(child.wait_with_output().unwrap().status.success());
    assert!(
        acknowledged.len() >= 200,
        "only {} acknowledged",
        acknowledged.len()
    );
    let counts = records_per_observation(&dir.path().join("data/ledger"), "acme");
    assert_exactly_once(&counts, &acknowledged);
    let ledger = Ledger::open(&dir.path().join("data/ledger"), "default", 100).unwrap();
    let report = ledger.for_tenant("acme").unwrap().verify().unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
}

/// A scheduler over `ledger` and the example SLOs.
fn example_scheduler(ledger: &Ledger) -> dataslo::scheduler::Scheduler {
    let yaml =
        std::fs::read_to_string(crate::support::workspace().join("examples/slos.yaml")).unwrap();
    let catalog = dataslo::slo::parse_text(&yaml, "slos.yaml");
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    let runtime =
        Arc::new(dataslo::runtime::Runtime::new(dataslo::runtime::Limits::default()).unwrap());
    let settings = dataslo::service::SchedulerSettings {
        history_depth: 100,
        ..Default::default()
    };
    let files = Some(Path::new("."));
    dataslo::service::assemble(
        &runtime,
        ledger.clone(),
        catalog.slos,
        Default::default(),
        files,
        settings,
    )
    .unwrap_or_else(|errors| panic!("{errors:?}"))
}

/// Orders with rows around the volume objective, customers with nulls
/// around the null-rate one, and one whose sum JSON cannot hold (so it is
/// evaluated as stored, from the log, between the others).
fn varied_observations() -> Vec<dataslo::model::Observation> {
    let orders =
        std::fs::read_to_string(crate::support::workspace().join("examples/orders.json")).unwrap();
    let orders = dataslo::model::parse_observation(&orders, "orders.json").unwrap();
    (0..40)
        .map(|i| {
            let mut obs = orders.clone();
            obs.observed_at = jiff::Timestamp::from_second(BASE + i * 60).unwrap();
            obs.row_count = Some(990_000 + i as u64 * 1_000);
            if i % 2 == 1 {
                obs.dataset.namespace = "s3://lake".into();
                obs.dataset.name = "crm.customers".into();
                let email = obs.columns.entry("email".into()).or_default();
                email.null_count = Some(i as u64 * 500);
                email.count = Some(1_000_000);
            }
            if i == 17 {
                obs.columns.get_mut("amount").unwrap().sum = Some(f64::NAN);
            }
            obs
        })
        .collect()
}

/// A scheduler evaluates what it appended as it holds it; any other
/// consumer of the log (another handle, or the same after a restart) reads
/// it back. Both make the same records, their links included.
#[test]
fn records_made_from_what_was_appended_are_those_made_from_the_log() {
    let observations = varied_observations();
    let records =
        |ledger: &Ledger| -> Vec<_> { ledger.records(None, None).map(Result::unwrap).collect() };

    let held_dir = tempfile::tempdir().unwrap();
    let held = Ledger::open(held_dir.path(), "default", 100).unwrap();
    let (new, pass) = example_scheduler(&held).ingest(&observations).unwrap();
    assert_eq!((new, pass.recorded), (40, 40));

    let read_dir = tempfile::tempdir().unwrap();
    let read = Ledger::open(read_dir.path(), "default", 100).unwrap();
    let appender = example_scheduler(&read);
    appender.append(&observations).unwrap();
    assert_eq!(
        example_scheduler(&read).evaluate_log().unwrap().recorded,
        40
    );
    // What the appender held was evaluated meanwhile: it finds nothing.
    assert_eq!(appender.evaluate_log().unwrap(), Default::default());

    let made = records(&held);
    assert_eq!(made.len(), 40);
    assert!(made.iter().any(|r| r.events.iter().any(|e| e.good == 0)));
    assert!(made.iter().any(|r| r.events.iter().any(|e| e.good == 1)));
    assert_eq!(made, records(&read));
}
