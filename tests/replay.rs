//! `dataslo replay`: an SLO's stored observations evaluated again with
//! another config show the events, budget and alerts a run under that config
//! records, and the ledger is written only with `--apply`.

use crate::support::{dataslo, stderr_of, stdout_of};
use dataslo::budget::{MinuteRange, objective_figures, tally};
use dataslo::ledger::{Ledger, Transition, minute_of};
use dataslo::model::{DatasetRef, Observation};
use dataslo::replay::{Report, Request, replay};
use dataslo::runtime::{Limits, Runtime};
use dataslo::service::{ClockPass, ClockSettings, SchedulerSettings, assemble};
use dataslo::slo::{Slo, parse_text};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const START: &str = "2026-11-24T00:00:00Z";
const HOURS: i64 = 24;

fn runtime() -> &'static Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME.get_or_init(|| Arc::new(Runtime::new(Limits::default()).expect("runtime")))
}

/// The demo's `orders-fresh` document, with `max_age` in its config.
fn orders_fresh(max_age: &str) -> String {
    let doc = dataslo::demo::SLOS
        .split("\n---\n")
        .find(|d| d.contains("name: orders-fresh,"))
        .expect("the demo defines orders-fresh");
    assert!(doc.contains("max_age: 2h"), "{doc}");
    doc.replace("max_age: 2h", &format!("max_age: {max_age}"))
}

fn start() -> i64 {
    START.parse::<jiff::Timestamp>().unwrap().as_second()
}

fn at(second: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(second).unwrap()
}

/// A day of hourly loads of the demo's orders table, each observed 10
/// minutes past the hour, 5 minutes after it changed; the 10:00 load is
/// missing, so the data is two hours old by 11:05: within 2 h, beyond 1 h.
fn history() -> Vec<Observation> {
    (0..HOURS)
        .filter(|h| *h != 10)
        .map(|h| {
            let observed = start() + h * 3600 + 600;
            Observation {
                dataset: DatasetRef {
                    namespace: "postgres://warehouse:5432".into(),
                    name: "analytics.orders".into(),
                },
                observed_at: at(observed),
                last_modified: Some(at(observed - 300)),
                row_count: Some(1_000_000),
                byte_size: None,
                schema: None,
                columns: Default::default(),
                partition: None,
                attributes: Default::default(),
                assertions: Vec::new(),
                run_state: None,
            }
        })
        .collect()
}

/// Runs `yaml`'s SLOs over [`history`] in virtual time into a new ledger in
/// `dir`, as the demo does: every 5 minutes the observations due are
/// ingested, then the clock pass ticks and moves alerts (after an hour of
/// warm-up). Returns the ledger and the firing and resolved transitions.
fn run(dir: &Path, yaml: &str) -> (Ledger, Slo, Vec<Transition>) {
    let catalog = parse_text(yaml, "slos.yaml");
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
    let ledger = Ledger::open(dir, "default", 100).unwrap();
    ledger
        .save_slo_sources(&[("slos.yaml".into(), yaml.into())])
        .unwrap();
    let settings = SchedulerSettings {
        history_depth: 100,
        ..Default::default()
    };
    let scheduler = assemble(
        runtime(),
        ledger.clone(),
        catalog.slos.clone(),
        Default::default(),
        Some(Path::new(".")),
        settings,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let mut clock = ClockPass::new(ClockSettings {
        notifiers: Vec::new(),
        retention: None,
        catch_up: 1,
        alerts_every: Duration::ZERO,
        notify_timeout: Duration::from_secs(5),
        lateness: Duration::ZERO,
    });
    let data = history();
    let mut transitions = Vec::new();
    for step in 0..HOURS * 12 {
        let now = start() + step * 300;
        let due: Vec<Observation> = data
            .iter()
            .filter(|o| (now..now + 300).contains(&o.observed_at.as_second()))
            .cloned()
            .collect();
        scheduler.ingest(&due).unwrap();
        if step >= 12 {
            transitions.extend(clock.run_alone(&scheduler, at(now)).unwrap().transitions);
        }
    }
    ledger.flush().unwrap();
    transitions.retain(|t| t.to.is_notified());
    (ledger, catalog.slos[0].clone(), transitions)
}

fn replay_with(ledger: &Ledger, slo: &Slo, config: &str) -> Report {
    let request = Request {
        ledger,
        runtime: runtime(),
        slo,
        policy: None,
        policy_config: Some(config),
        since: None,
        files: Path::new("."),
        history_depth: 100,
        trust: None,
    };
    replay(&request, &mut |_, _| {}).unwrap().report
}

#[test]
fn a_stricter_max_age_replayed_shows_the_bad_events_and_alerts_a_run_under_it_records() {
    let (old_dir, new_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (ledger, slo, old_alerts) = run(old_dir.path(), &orders_fresh("2h"));
    let report = replay_with(&ledger, &slo, r#"{"max_age": "1h"}"#);

    let (old, new) = (&report.old.objectives[0], &report.new.objectives[0]);
    assert_eq!(old.bad, 0, "two hours old is within 2h: {old:?}");
    assert_eq!(new.bad, 12, "10:10 to 11:05 is beyond 1h: {new:?}");
    assert_eq!(old.good + old.bad, new.good + new.bad, "the same ticks");
    assert!(old_alerts.is_empty() && report.old.alerts.is_empty());
    assert!(
        report
            .new
            .alerts
            .iter()
            .any(|a| a.to == "firing" && a.alert == "page:1h/5m"),
        "{:?}",
        report.new.alerts
    );

    // A run of the same observations under the new config records the same.
    let (fresh, fresh_slo, fresh_alerts) = run(new_dir.path(), &orders_fresh("1h"));
    let span = MinuteRange {
        from: minute_of(report.from),
        to: minute_of(report.to),
    };
    let counted = tally(&fresh, &fresh_slo, 0, span).unwrap();
    assert_eq!((new.good, new.bad), (counted.good, counted.bad()));
    let figures = objective_figures(&fresh, &fresh_slo, 0, report.to).unwrap();
    assert_eq!(new.sli, figures.sli);
    assert_eq!(new.budget_remaining, figures.budget_remaining);
    let moves = |alerts: Vec<(jiff::Timestamp, String, String)>| alerts;
    assert_eq!(
        moves(
            report
                .new
                .alerts
                .iter()
                .map(|a| (a.at, a.alert.clone(), a.to.clone()))
                .collect()
        ),
        moves(
            fresh_alerts
                .iter()
                .map(|t| (t.at, t.alert.to_string(), t.to.to_string()))
                .collect()
        ),
    );
    // The old side is the ledger's own, and the same config replays to it.
    let recorded = objective_figures(&ledger, &slo, 0, report.to).unwrap();
    assert_eq!(old.budget_remaining, recorded.budget_remaining);
    let same = replay_with(&ledger, &slo, r#"{"max_age": "2h"}"#);
    assert_eq!(same.new.objectives, same.old.objectives);
}

#[test]
fn an_observation_triggered_slo_is_replayed_once_per_observation_at_its_observed_at() {
    let (old_dir, new_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let on_arrival = |max_age: &str| {
        orders_fresh(max_age)
            .replace("trigger: { schedule: 5m }", "trigger: observation")
            .replace("name: orders-fresh,", "name: orders-arrival,")
    };
    let (ledger, slo, _) = run(old_dir.path(), &on_arrival("2h"));
    let report = replay_with(&ledger, &slo, r#"{"max_age": "1m"}"#);
    assert_eq!(report.trigger, "observation");
    assert_eq!(report.evaluations, history().len());
    assert_eq!(report.from, history()[0].observed_at);
    let (old, new) = (&report.old.objectives[0], &report.new.objectives[0]);
    // Each is 5 minutes old when observed: within 2h, beyond 1m.
    assert_eq!((old.good, old.bad), (23, 0));
    assert_eq!((new.good, new.bad), (0, 23));
    let (fresh, fresh_slo, _) = run(new_dir.path(), &on_arrival("1m"));
    let figures = objective_figures(&fresh, &fresh_slo, 0, report.to).unwrap();
    assert_eq!(
        (new.sli, new.budget_remaining),
        (figures.sli, figures.budget_remaining)
    );
}

#[test]
fn since_replays_the_later_evaluations_with_the_earlier_observations_as_history() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, slo, _) = run(dir.path(), &orders_fresh("2h"));
    let since = at(start() + 12 * 3600);
    let request = Request {
        ledger: &ledger,
        runtime: runtime(),
        slo: &slo,
        policy: None,
        policy_config: Some(r#"{"max_age": "1h"}"#),
        since: Some(since),
        files: Path::new("."),
        history_depth: 100,
        trust: None,
    };
    let mut calls = Vec::new();
    let report = replay(&request, &mut |done, total| calls.push((done, total)))
        .unwrap()
        .report;
    assert_eq!(report.from, since);
    assert_eq!(report.evaluations, 12 * 12, "the ticks from noon on");
    assert_eq!(calls.last(), Some(&(144, 144)), "progress reaches the end");
    let new = &report.new.objectives[0];
    // The noon tick reads the 11:10 load, stored before the span.
    assert_eq!((new.good, new.bad, new.errors), (144, 0, 0));
    assert!(report.new.alerts.is_empty(), "the incident was before noon");
}

#[test]
fn the_demos_freshness_slo_replayed_with_a_stricter_max_age_has_more_bad_events_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let end: jiff::Timestamp = "2026-11-26T00:00:00Z".parse().unwrap();
    // Nine days hold the late load of day 8.
    let demo = dataslo::demo::simulate(dir.path(), 9, end).unwrap();
    let slo = demo.slos.iter().find(|s| s.name == "orders-fresh").unwrap();
    let ledger = Ledger::open(&dir.path().join("ledger"), "default", 100).unwrap();
    let report = replay_with(&ledger, slo, r#"{"max_age": "1h"}"#);
    // Every load of the nine days is kept, beyond the history depth of 100:
    // one an hour, but seven hours of the late load.
    assert_eq!(report.observations, 9 * 24 - 7);
    let (old, new) = (&report.old.objectives[0], &report.new.objectives[0]);
    assert!(new.bad > old.bad, "{old:?} {new:?}");
    assert!(new.budget_remaining < old.budget_remaining);
    let fired = |side: &dataslo::replay::Side| {
        side.alerts
            .iter()
            .filter(|a| a.to == "firing")
            .map(|a| a.at)
            .min()
            .unwrap()
    };
    assert!(
        fired(&report.new) < fired(&report.old),
        "a stricter limit pages earlier in the late load"
    );
}

/// A data directory whose ledger holds [`run`]'s history under `max_age: 2h`.
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ledger_dir = dir.path().join("ledger");
    let (ledger, ..) = run(&ledger_dir, &orders_fresh("2h"));
    drop(ledger);
    dir
}

fn cli(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["replay", "--data-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    dataslo(&args)
}

fn export(dir: &Path, slo: &str) -> String {
    let out = dataslo(&[
        "ledger",
        "export",
        "--data-dir",
        dir.to_str().unwrap(),
        "--slo",
        slo,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    stdout_of(&out)
}

#[test]
fn replay_writes_nothing_and_apply_adds_the_new_evaluations_as_a_series_of_their_own() {
    let dir = data_dir();
    let before = export(dir.path(), "orders-fresh");
    let stricter = [
        "--slo",
        "orders-fresh",
        "--policy-config",
        r#"{"max_age":"1h"}"#,
    ];
    let out = cli(dir.path(), &stricter);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let table = stdout_of(&out);
    assert!(
        table.contains("nothing was written to the ledger"),
        "{table}"
    );
    assert!(table.contains("page:1h/5m"), "{table}");
    assert!(
        !stderr_of(&out).contains('\r'),
        "no progress line off a terminal"
    );
    assert_eq!(
        export(dir.path(), "orders-fresh"),
        before,
        "records unchanged"
    );
    let all = dataslo(&[
        "ledger",
        "export",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(stdout_of(&all), before, "no other SLO's records either");

    let mut applying = stricter.to_vec();
    applying.extend(["--apply", "--format", "json"]);
    let out = cli(dir.path(), &applying);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let series = json["applied"]["series"].as_str().unwrap().to_string();
    assert!(series.starts_with("orders-fresh@"), "{series}");
    let written = export(dir.path(), &series);
    // Its records, and its chain's header.
    assert_eq!(
        written.lines().count() as u64 - 1,
        json["applied"]["records"].as_u64().unwrap()
    );
    assert_eq!(
        written.lines().count() as u64 - 1,
        json["evaluations"].as_u64().unwrap()
    );
    assert_eq!(
        export(dir.path(), "orders-fresh"),
        before,
        "the SLO's own past stays"
    );

    let again = cli(dir.path(), &applying);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr_of(&again).contains("already holds the series"),
        "{}",
        stderr_of(&again)
    );
}

#[test]
fn the_json_report_holds_both_sides_with_figures_and_alerts() {
    let dir = data_dir();
    let out = cli(
        dir.path(),
        &[
            "--slo",
            "orders-fresh",
            "--policy-config",
            r#"{"max_age":"1h"}"#,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["slo"], "orders-fresh");
    assert_eq!(json["trigger"], "schedule 5m");
    assert_eq!(json["evaluations"], 23 * 12);
    assert!(json["from"].is_string() && json["to"].is_string());
    assert_eq!(json["old"]["config"]["max_age"], "2h");
    assert_eq!(json["new"]["config"]["max_age"], "1h");
    assert_eq!(json["new"]["policy"], "builtin:freshness");
    assert_eq!(json["new"]["objectives"][0]["bad"], 12);
    for key in [
        "objective",
        "target",
        "good",
        "errors",
        "sli",
        "budget_remaining",
    ] {
        assert!(json["old"]["objectives"][0].get(key).is_some(), "{key}");
    }
    let alert = &json["new"]["alerts"][0];
    for key in ["at", "alert", "to", "summary"] {
        assert!(alert.get(key).is_some(), "{key}: {alert}");
    }
    assert!(json.get("applied").is_none());
}

#[test]
fn each_mistake_is_named_with_what_to_fix() {
    let dir = data_dir();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--slo", "orders-fresh", "--policy", "uploaded:fresh-v2"],
            "policy `uploaded:fresh-v2` lives on a server",
        ),
        (
            &["--slo", "orders-frsh"],
            "no SLO named \"orders-frsh\"; did you mean \"orders-fresh\"?",
        ),
        (
            &["--slo", "orders-fresh", "--policy", "./no-such-policy.wasm"],
            "cannot read policy ./no-such-policy.wasm",
        ),
        (
            &["--slo", "orders-fresh", "--policy-config", "{max_age: 1h"],
            "--policy-config is not JSON",
        ),
        (
            &["--slo", "orders-fresh", "--since", "2100-01-01T00:00:00Z"],
            "no observation of postgres://warehouse:5432/analytics.orders is retained at or after 2100-01-01T00:00:00Z",
        ),
    ];
    for (args, expected) in cases {
        let mut with_json = args.to_vec();
        with_json.extend(["--format", "json"]);
        let out = cli(dir.path(), &with_json);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains(expected),
            "{args:?}: {}",
            stderr_of(&out)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["error"]["kind"], "input", "{args:?}");
    }
    // The policy refuses a misspelt key: its own error kind, exit 1.
    let out = cli(
        dir.path(),
        &[
            "--slo",
            "orders-fresh",
            "--policy-config",
            r#"{"max_ag":"1h"}"#,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("max_ag"), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["error"]["kind"], "invalid_config");
}

#[test]
fn run_keeps_the_observations_of_observation_retention_for_replay() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let slo = orders_fresh("2h").replace("trigger: { schedule: 5m }", "trigger: observation");
    std::fs::write(root.join("slos.yaml"), slo).unwrap();
    std::fs::write(
        root.join("dataslo.toml"),
        "data_dir = \"data\"\nhistory_depth = 2\nobservation_retention = \"1h\"\nslo_files = [\"slos.yaml\"]\n",
    )
    .unwrap();
    // Twenty loads ten minutes apart: the newest and the six before it are
    // within an hour of it; the depth alone would keep two.
    let lines: Vec<String> = history()
        .iter()
        .take(20)
        .enumerate()
        .map(|(i, o)| {
            let mut o = o.clone();
            o.observed_at = at(start() + i as i64 * 600);
            o.last_modified = Some(at(start() + i as i64 * 600 - 300));
            serde_json::to_string(&o).unwrap()
        })
        .collect();
    std::fs::write(root.join("obs.ndjson"), lines.join("\n")).unwrap();
    let config = root.join("dataslo.toml");
    let config = config.to_str().unwrap();
    let ndjson = root.join("obs.ndjson");
    let observed = dataslo(&["observe", "--config", config, ndjson.to_str().unwrap()]);
    assert!(observed.status.success(), "{}", stderr_of(&observed));
    let ran = dataslo(&["run", "--once", "--config", config]);
    assert!(ran.status.success(), "{}", stderr_of(&ran));

    let out = dataslo(&[
        "replay",
        "--config",
        config,
        "--slo",
        "orders-fresh",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["observations"], 7, "{json}");
    assert_eq!(json["evaluations"], 7);
    assert_eq!(json["old"]["objectives"][0]["good"], 7);
    assert_eq!(json["new"]["objectives"][0], json["old"]["objectives"][0]);
}
