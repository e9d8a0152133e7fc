//! SLO identity: records count for an objective, not for its position in
//! the SLO file. Swapping objectives keeps each one's figures; a changed
//! threshold is rebuilt from the stored raw values; a changed ratio
//! objective starts a new series that status dates. Each change goes
//! through a path a process takes: arming at start-up (`assemble`), and
//! `PUT /v1/slos` (`replace_slos`).

use dataslo::budget::{ObjectiveFigures, objective_figures};
use dataslo::ledger::Ledger;
use dataslo::model::parse_observation;
use dataslo::runtime::Runtime;
use dataslo::scheduler::{Armed, Scheduler};
use dataslo::status::status_report;
use std::path::Path;
use std::sync::Arc;

/// A threshold SLO on the row count of postgres://prod/orders, with
/// `objectives` (YAML flow list).
fn volume(objectives: &str) -> String {
    format!(
        r#"
apiVersion: openslo/v1
kind: SLO
metadata: {{ name: volume }}
spec:
  indicator:
    metadata: {{ name: v }}
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "builtin:volume", config: {{ min_rows: 1 }}, sli: volume, trigger: observation }}
  timeWindow: [{{ duration: 28d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: {objectives}
"#
    )
}

/// A ratio SLO: non-null emails over rows.
fn nulls(objectives: &str) -> String {
    format!(
        r#"
apiVersion: openslo/v1
kind: SLO
metadata: {{ name: nulls }}
spec:
  indicator:
    metadata: {{ name: n }}
    spec:
      ratioMetric:
        good: {{ metricSource: {{ type: dataslo }} }}
        total:
          metricSource:
            type: dataslo
            spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "builtin:null-rate", config: {{ columns: [email], max_null_fraction: 0.5 }}, sli: null_rate, trigger: observation }}
  timeWindow: [{{ duration: 28d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: {objectives}
"#
    )
}

/// An observation `minutes` after 2026-11-20T00:00Z with `rows` rows, of
/// which `nulls` have no email.
fn observe(s: &Scheduler, minutes: i64, rows: u64, nulls: u64) {
    let at = jiff::Timestamp::from_second(1_795_132_800 + minutes * 60).unwrap();
    let text = format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":{rows},"columns":{{"email":{{"null_count":{nulls}}}}}}}"#
    );
    let (_, pass) = s.ingest(&[parse_observation(&text, "t").unwrap()]).unwrap();
    assert_eq!(
        pass.errors,
        0,
        "{:?}",
        s.ledger().last_record(&s.slos()[0].slo.name).unwrap()
    );
}

const AT: &str = "2026-11-21T00:00:00Z";

fn figures(s: &Scheduler) -> Vec<ObjectiveFigures> {
    let slos = s.slos();
    let slo = &slos[0].slo;
    (0..slo.objectives.len())
        .map(|i| objective_figures(s.ledger(), slo, i, AT.parse().unwrap()).unwrap())
        .collect()
}

/// The one runtime of these tests: a policy armed in one runs only there.
fn runtime() -> &'static Arc<Runtime> {
    static RUNTIME: std::sync::OnceLock<Arc<Runtime>> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| Arc::new(Runtime::new(Default::default()).unwrap()))
}

/// SLOs armed over a new ledger in `dir`.
fn start(yaml: &str, dir: &Path) -> Scheduler {
    restart(yaml, Ledger::open(dir, "default", 100).unwrap())
}

/// SLOs armed over `ledger`, as a process starting does.
fn restart(yaml: &str, ledger: Ledger) -> Scheduler {
    let catalog = dataslo::slo::parse_text(yaml, "slos.yaml");
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
    let runtime = runtime().clone();
    let settings = dataslo::service::SchedulerSettings {
        history_depth: 100,
        durable: true,
        ..Default::default()
    };
    dataslo::service::assemble(
        &runtime,
        ledger,
        catalog.slos,
        Default::default(),
        Some(Path::new(".")),
        settings,
    )
    .unwrap_or_else(|e| panic!("{e:?}"))
}

/// The SLOs replaced in the running scheduler, as `PUT /v1/slos` does.
fn replace(yaml: &str, s: &Scheduler) {
    let catalog = dataslo::slo::parse_text(yaml, "PUT /v1/slos");
    let (armed, errors) = Armed::all(runtime(), catalog.slos, Path::new("."));
    assert!(errors.is_empty(), "{errors:?}");
    s.replace_slos(armed).unwrap();
}

fn good_total(f: &ObjectiveFigures) -> (u64, u64) {
    (f.window.good, f.window.total)
}

fn assert_verified(ledger: &Ledger) {
    let report = ledger.verify().unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
}

const ROWS: [u64; 6] = [5, 50, 500, 5000, 50, 2000];

#[test]
fn swapping_two_objectives_keeps_each_ones_status() {
    let dir = tempfile::tempdir().unwrap();
    let big = "{ displayName: big, op: gte, value: 1000, target: 0.9 }";
    let small = "{ displayName: small, op: gte, value: 10, target: 0.5 }";
    let s = start(&volume(&format!("[{big}, {small}]")), dir.path());
    for (i, rows) in ROWS.iter().enumerate() {
        observe(&s, i as i64 * 60, *rows, 0);
    }
    let before = figures(&s);
    assert_eq!(good_total(&before[0]), (2, 6), "big");
    assert_eq!(good_total(&before[1]), (5, 6), "small");

    let s = restart(&volume(&format!("[{small}, {big}]")), s.ledger().clone());
    let after = figures(&s);
    assert_eq!(after[0], before[1], "small, now first, as it was");
    assert_eq!(after[1], before[0], "big, now second, as it was");
    assert_verified(s.ledger());

    // New evaluations count for each where it now stands, and so does a
    // swap back while running.
    observe(&s, 400, 20, 0);
    replace(&volume(&format!("[{big}, {small}]")), &s);
    let back = figures(&s);
    assert_eq!(
        (good_total(&back[0]), good_total(&back[1])),
        ((2, 7), (6, 7))
    );
    assert_eq!((back[0].since, back[1].since), (None, None));
    assert_verified(s.ledger());
}

#[test]
fn a_changed_threshold_is_rebuilt_from_the_stored_values() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        &volume("[{ op: gte, value: 1000, target: 0.9 }]"),
        dir.path(),
    );
    for (i, rows) in ROWS.iter().enumerate() {
        observe(&s, i as i64 * 60, *rows, 0);
    }
    assert_eq!(good_total(&figures(&s)[0]), (2, 6));

    let s = restart(
        &volume("[{ op: gte, value: 3000, target: 0.9 }]"),
        s.ledger().clone(),
    );
    // What the stored values give under the new threshold.
    let values: Vec<f64> = s
        .ledger()
        .records(Some("volume"), None)
        .map(|r| r.unwrap().value.unwrap())
        .collect();
    let meeting = values.iter().filter(|v| **v >= 3000.0).count() as u64;
    assert_eq!((meeting, values.len()), (1, 6));
    let f = &figures(&s)[0];
    assert_eq!(good_total(f), (meeting, 6));
    assert_eq!(f.sli, Some(1.0 / 6.0), "not the old threshold's 2/6");
    assert_eq!(f.since, None, "the past is rebuilt, not restarted");
    assert_verified(s.ledger());

    // Status over the same ledger, as `dataslo status` reads it.
    let slos = s.slos().iter().map(|a| a.slo.clone()).collect();
    let report = status_report(s.ledger(), slos, AT.parse().unwrap()).unwrap();
    assert_eq!(report.slos[0].objectives[0].sli, Some(1.0 / 6.0));
}

#[test]
fn a_changed_ratio_objective_starts_a_new_series_and_status_says_since_when() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_dir = dir.path().join("ledger");
    let s = start(&nulls("[{ target: 0.9 }]"), &ledger_dir);
    for i in 0..3 {
        observe(&s, i * 60, 100, 10);
    }
    let first = figures(&s);
    assert_eq!(good_total(&first[0]), (270, 300));
    assert_eq!(first[0].since, None);

    let changed = jiff::Timestamp::now();
    let stricter = nulls("[{ target: 0.95 }]");
    replace(&stricter, &s);
    let f = &figures(&s)[0];
    assert_eq!(
        good_total(f),
        (0, 0),
        "the old counts are not reinterpreted"
    );
    let since = f.since.expect("status says since when");
    assert!(
        since >= changed && since <= jiff::Timestamp::now(),
        "{since}"
    );

    // Evaluations under the new definition count, whatever their time.
    observe(&s, 300, 100, 40);
    assert_eq!(good_total(&figures(&s)[0]), (60, 100));
    assert_verified(s.ledger());

    // `dataslo status` says since when, in JSON and in its table.
    drop(s);
    std::fs::write(dir.path().join("slos.yaml"), &stricter).unwrap();
    let status = |format: &str| {
        let out = reopening(|| {
            std::process::Command::new(env!("CARGO_BIN_EXE_dataslo"))
                .args(["status", "--at", AT, "--format", format, "--data-dir"])
                .arg(dir.path())
                .arg(dir.path().join("slos.yaml"))
                .output()
                .unwrap()
        });
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&status("json")).unwrap();
    let objective = &json["slos"][0]["objectives"][0];
    assert_eq!(objective["since"], since.to_string());
    assert_eq!(objective["window"]["total"], 100);
    let table = status("table");
    assert!(
        table.contains(&format!("new series since {since}")),
        "{table}"
    );

    // The first definition back: its series resumes, with its records.
    let ledger = reopening_ledger(&ledger_dir);
    let s = restart(&nulls("[{ target: 0.9 }]"), ledger);
    let back = &figures(&s)[0];
    assert_eq!((good_total(back), back.since), ((270, 300), None));
    assert_verified(s.ledger());
}

/// Runs `command` until it no longer finds the ledger locked: sled releases
/// a closed database's lock from a background thread, a moment later.
fn reopening(command: impl Fn() -> std::process::Output) -> std::process::Output {
    for _ in 0..100 {
        let out = command();
        if out.status.success() {
            return out;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("WouldBlock") || stderr.contains("lock"),
            "{stderr}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the ledger stays locked")
}

fn reopening_ledger(dir: &Path) -> Ledger {
    for _ in 0..100 {
        if let Ok(ledger) = Ledger::open(dir, "default", 100) {
            return ledger;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{} stays locked", dir.display())
}
