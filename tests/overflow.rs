//! Sums past `u64::MAX`. Two measurements of one SLI, each valid (u64::MAX
//! of u64::MAX, then 0 of 2), once wrapped to "good 18446744073709551615 of
//! total 1": now they are an `invalid_output` error of their evaluation,
//! naming the SLI, in `eval`, the scheduler, `dataslo run` and `serve`, and
//! the next evaluation is unaffected. Two such records in one bucket
//! saturate it; `ledger verify` names every saturated bucket and every record
//! or bucket with more good events than events; `status` and `/metrics` never
//! show an SLI above 100 %.

use crate::server::{ACME, JSON, OBS, TestServer, get, post, put, send, start};
use crate::support::{
    adversary, evaluate, guest_bytes, guest_path, observation, scheduler_for, workspace,
};
use dataslo::budget::objective_figures;
use dataslo::ledger::{
    Bucket, EvalRecord, Events, Ledger, Level, Mismatch, Outcome, keys, minute_of,
};
use dataslo::model::{DatasetRef, parse_observation};
use dataslo::runtime::ErrorCode;
use std::path::Path;
use std::process::{Command, Output};

fn attack(name: &str) -> String {
    format!(r#"{{"attack":"{name}"}}"#)
}

/// A ratio SLO `name` of postgres://prod/orders, SLI `ok`, run by the
/// adversary (`policy`) with attack `attack` on each observation.
fn slo_yaml(name: &str, policy: &str, attack: &str) -> String {
    format!(
        r#"
apiVersion: openslo/v1
kind: SLO
metadata: {{ name: {name} }}
spec:
  indicator: {{ metadata: {{ name: ok }}, spec: {{ ratioMetric: {{ good: {{ metricSource: {{ type: dataslo }} }}, total: {{ metricSource: {{ type: dataslo, spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "{policy}", config: {{ attack: {attack} }}, sli: ok, trigger: observation }} }} }} }} }} }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ target: 0.9 }}]
"#
    )
}

/// `sums` (the overflowing pair) and `fine` (a good evaluation), both of the
/// adversary file, on the same dataset.
fn two_slos() -> String {
    let policy = guest_path("adversary").display().to_string();
    format!(
        "{}---{}",
        slo_yaml("sums", &policy, "overflow-pair"),
        slo_yaml("fine", &policy, "none")
    )
}

fn obs_at(at: &str) -> String {
    format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":5}}"#
    )
}

fn ts(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

fn dataslo(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("dataslo runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether an error message names the SLI and the overflow.
fn names_the_overflow(message: &str) -> bool {
    message.contains("SLI `ok`") && message.contains("overflow")
}

#[test]
fn the_overflowing_pair_is_invalid_output_naming_the_sli_and_the_next_call_is_unaffected() {
    let error = evaluate(adversary(), &attack("overflow-pair"), &observation(""))
        .expect_err("the pair overflows");
    assert_eq!(error.error_code(), ErrorCode::InvalidOutput);
    assert!(names_the_overflow(&error.to_string()), "{error}");
    let next = evaluate(adversary(), &attack("none"), &observation("")).expect("a good call");
    assert_eq!(
        (next.measurements[0].good, next.measurements[0].total),
        (1, 1)
    );
}

#[test]
fn eval_reports_the_overflowing_pair_as_invalid_output_and_exits_1() {
    let policy = guest_path("adversary").display().to_string();
    let eval = |attack_name: &str| {
        dataslo(
            &[
                "eval",
                "--policy",
                &policy,
                "--config",
                &attack(attack_name),
                "--observation",
                "examples/orders.json",
            ],
            &workspace(),
        )
    };
    let out = eval("overflow-pair");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[invalid_output]"), "{stderr}");
    assert!(names_the_overflow(&stderr), "{stderr}");
    assert!(!text(&out.stdout).contains("18446744073709551615"));
    let out = eval("none");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn the_scheduler_records_the_overflowing_pair_as_an_error_and_keeps_evaluating() {
    let dir = tempfile::tempdir().unwrap();
    let s = scheduler_for(&two_slos(), dir.path());
    let batch: Vec<_> = ["2026-11-26T08:00:00Z", "2026-11-26T09:00:00Z"]
        .iter()
        .map(|at| parse_observation(&obs_at(at), "test").unwrap())
        .collect();
    let (_, pass) = s.ingest(&batch).unwrap();
    assert_eq!((pass.recorded, pass.errors), (4, 2));
    for record in s.ledger().records(Some("sums"), None) {
        let record = record.unwrap();
        match &record.outcome {
            Outcome::Error { code, message } => {
                assert_eq!(code, "invalid_output");
                assert!(names_the_overflow(message), "{message}");
                assert!(message.contains("SLO `sums`"), "{message}");
            }
            Outcome::Measured => panic!("a wrapped sum was recorded: {record:?}"),
        }
        assert!(record.events.is_empty());
    }
    let slos = s.slos();
    let slo = |name: &str| &slos.iter().find(|a| a.slo.name == name).unwrap().slo;
    let at = ts("2026-11-26T10:00:00Z");
    let sums = objective_figures(s.ledger(), slo("sums"), 0, at).unwrap();
    assert_eq!(
        (sums.window.total, sums.window.errors, sums.sli),
        (0, 2, None)
    );
    let fine = objective_figures(s.ledger(), slo("fine"), 0, at).unwrap();
    assert_eq!(
        (fine.window.good, fine.window.total, fine.sli),
        (2, 2, Some(1.0)),
        "the good SLO of the same observations measured both"
    );
    assert!(s.ledger().verify().unwrap().mismatches.is_empty());
}

#[test]
fn dataslo_run_records_the_overflowing_pair_as_invalid_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slo.yaml"), two_slos()).unwrap();
    let lines = [
        obs_at("2026-11-26T08:00:00Z"),
        obs_at("2026-11-26T09:00:00Z"),
    ];
    std::fs::write(dir.path().join("obs.ndjson"), lines.join("\n")).unwrap();
    let observe = dataslo(&["observe", "--data-dir", "data", "obs.ndjson"], dir.path());
    assert!(observe.status.success(), "{}", text(&observe.stderr));
    let run = dataslo(
        &["run", "--once", "--data-dir", "data", "slo.yaml"],
        dir.path(),
    );
    assert!(run.status.success(), "{}", text(&run.stderr));

    let export = dataslo(&["ledger", "export", "--data-dir", "data"], dir.path());
    let lines: Vec<serde_json::Value> = text(&export.stdout)
        .lines()
        .filter(|l| !l.starts_with(r#"{"chain":"#)) // chain headers
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    for line in &lines {
        match line["slo"].as_str() {
            Some("sums") => {
                assert_eq!(line["error"], "invalid_output", "{line}");
                assert!(
                    names_the_overflow(line["detail"].as_str().unwrap()),
                    "{line}"
                );
            }
            _ => assert_eq!(line["outcome"], "good", "{line}"),
        }
    }
    let status = dataslo(
        &[
            "status",
            "--data-dir",
            "data",
            "slo.yaml",
            "--at",
            "2026-11-26T10:00:00Z",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(status.status.success(), "{}", text(&status.stderr));
    let report: serde_json::Value = serde_json::from_str(&text(&status.stdout)).unwrap();
    let sli = |name: &str| {
        report["slos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["slo"] == name)
            .unwrap_or_else(|| panic!("no {name} in {report}"))["objectives"][0]["sli"]
            .clone()
    };
    assert_eq!(sli("sums"), serde_json::Value::Null, "errors are no data");
    assert_eq!(sli("fine"), 1.0);
}

/// (good, total) of `sums`' first objective in `/metrics`.
fn metrics_events(s: &TestServer) -> (u128, u128) {
    let (status, body) = send("GET", &format!("{}/metrics", s.url), ACME, "", b"");
    assert_eq!(status, 200, "{body}");
    let value = |name: &str| -> u128 {
        body.lines()
            .find(|l| l.starts_with(&format!("{name}{{")) && l.contains(r#"slo="sums""#))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} of sums in\n{body}"))
    };
    (
        value("dataslo_sli_good_events_total"),
        value("dataslo_sli_events_total"),
    )
}

/// `sums` as `PUT /v1/slos` sends it, run by the uploaded adversary.
fn put_sums(s: &TestServer, attack: &str) {
    let (status, body) = put(
        s,
        "/v1/slos",
        ACME,
        "application/yaml",
        slo_yaml("sums", "uploaded:adversary", attack).as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
}

/// Uploads the adversary for acme.
fn upload_adversary(s: &TestServer) {
    let (status, body) = put(
        s,
        "/v1/policies/adversary",
        ACME,
        "application/wasm",
        &guest_bytes("adversary"),
    );
    assert_eq!(status, 201, "{body}");
}

#[test]
fn serve_records_the_overflowing_pair_of_an_uploaded_policy_as_invalid_output() {
    let s = start();
    upload_adversary(&s);
    put_sums(&s, "overflow-pair");
    let (_, accepted) = post(&s, "/v1/observations?wait=evaluated", ACME, JSON, OBS);
    assert_eq!(accepted["evaluations"], 2, "{accepted}");
    let (_, events) = get(&s, "/v1/slos/sums/events", ACME);
    let outcome = &events[0]["outcome"];
    assert_eq!(
        (outcome["kind"].as_str(), outcome["code"].as_str()),
        (Some("error"), Some("invalid_output")),
        "{events}"
    );
    assert!(
        names_the_overflow(outcome["message"].as_str().unwrap()),
        "{events}"
    );
    let (_, figures) = get(&s, "/v1/slos/sums?at=2026-11-26T09:00:00Z", ACME);
    let objective = &figures["objectives"][0];
    assert_eq!(objective["sli"], serde_json::Value::Null, "{figures}");
    assert_eq!(objective["window"]["errors"], 1, "{figures}");
    assert_eq!(metrics_events(&s), (0, 0));

    // The same SLO's next evaluation, of a good answer, measures.
    put_sums(&s, "none");
    let later = OBS.replace("08:00:00Z", "08:30:00Z");
    post(&s, "/v1/observations?wait=evaluated", ACME, JSON, &later);
    let (_, events) = get(&s, "/v1/slos/sums/events", ACME);
    let kinds: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"]["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "measured").count(),
        1,
        "{events}"
    );
    let (_, figures) = get(&s, "/v1/slos/sums?at=2026-11-26T09:00:00Z", ACME);
    assert_eq!(figures["objectives"][0]["sli"], 1.0, "{figures}");
    assert_eq!(metrics_events(&s), (1, 1));
}

/// A measured record of `slo` at `at` counting `good` of `total`.
fn record(slo: &str, at: &str, good: u64, total: u64) -> EvalRecord {
    EvalRecord {
        slo: slo.into(),
        dataset: DatasetRef {
            namespace: "postgres://prod".into(),
            name: "orders".into(),
        },
        time: ts(at),
        key: format!("{at}-{good}-of-{total}"),
        outcome: Outcome::Measured,
        events: vec![Events { good, total }],
        objectives: Vec::new(),
        value: None,
        detail: String::new(),
        policy_sha256: String::new(),
        chain: None,
    }
}

/// The overflowing pair as two records, each valid, in one minute.
fn overflowing_records() -> [EvalRecord; 2] {
    [
        record("sums", "2026-11-26T08:00:10Z", u64::MAX, u64::MAX),
        record("sums", "2026-11-26T08:00:40Z", 0, 2),
    ]
}

fn index(at: &str, level: Level) -> i64 {
    minute_of(ts(at)).div_euclid(level.minutes())
}

/// Waits until no one holds the sled ledger in `dir` (sled releases its
/// file lock from a background thread, a moment after it closes).
fn wait_for_unlock(dir: &Path) {
    let db = std::fs::File::open(dir.join("db")).unwrap();
    let free = (0..250).any(|_| {
        let ok = db.try_lock().is_ok();
        if !ok {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        ok
    });
    assert!(free, "the ledger stays locked");
}

#[test]
fn two_valid_records_whose_sum_overflows_saturate_their_buckets_and_verify_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_dir = dir.path().join("data/ledger");
    {
        let ledger = Ledger::open(&ledger_dir, "default", 10).unwrap();
        for r in overflowing_records() {
            ledger.record(&r).unwrap();
        }
        let minute = index("2026-11-26T08:00:00Z", Level::Minute);
        let stored = ledger.buckets("sums", minute, minute).unwrap();
        assert_eq!(
            stored[0].1.events,
            vec![Events {
                good: u64::MAX,
                total: u64::MAX
            }],
            "saturated, not wrapped to 18446744073709551615 of 1"
        );
        let mismatches = ledger.verify().unwrap().mismatches;
        let saturated: Vec<Mismatch> = Level::ALL
            .iter()
            .map(|&level| Mismatch::Saturated {
                slo: "sums".into(),
                level: level as u8,
                index: index("2026-11-26T08:00:00Z", level),
            })
            .collect();
        assert_eq!(
            mismatches, saturated,
            "the minute, hour and day, nothing else"
        );
        ledger.flush().unwrap();
    }
    wait_for_unlock(&ledger_dir);
    std::fs::write(
        dir.path().join("slo.yaml"),
        slo_yaml(
            "sums",
            &guest_path("adversary").display().to_string(),
            "none",
        ),
    )
    .unwrap();

    let verify = dataslo(&["ledger", "verify", "--data-dir", "data"], dir.path());
    let out = text(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{out}");
    for unit in ["minute", "hour", "day"] {
        assert!(
            out.contains(&format!("saturated tenant default: SLO sums {unit} bucket")),
            "{out}"
        );
    }
    let status = dataslo(
        &[
            "status",
            "--data-dir",
            "data",
            "slo.yaml",
            "--at",
            "2026-11-26T09:00:00Z",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(status.status.success(), "{}", text(&status.stderr));
    let report: serde_json::Value = serde_json::from_str(&text(&status.stdout)).unwrap();
    let objective = &report["slos"][0]["objectives"][0];
    assert!(objective["sli"].as_f64().unwrap() <= 1.0, "{report}");
    assert!(
        objective["window"]["good"].as_u64() <= objective["window"]["total"].as_u64(),
        "{report}"
    );
}

#[test]
fn metrics_and_figures_of_saturated_buckets_stay_at_or_below_100_percent() {
    let s = start();
    upload_adversary(&s);
    put_sums(&s, "none");
    let tenant = s.state.tenants.iter().find(|t| t.name == "acme").unwrap();
    for r in overflowing_records() {
        tenant.scheduler.ledger().record(&r).unwrap();
    }
    let (good, total) = metrics_events(&s);
    assert_eq!((good, total), (u64::MAX.into(), u64::MAX.into()));
    let (_, figures) = get(&s, "/v1/slos/sums?at=2026-11-26T09:00:00Z", ACME);
    let sli = figures["objectives"][0]["sli"].as_f64().unwrap();
    assert!(sli <= 1.0, "{figures}");
}

#[test]
fn verify_names_a_record_with_good_above_total_and_each_bucket_it_fills() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    let at = "2026-11-26T08:00:10Z";
    let bad = record("sums", at, 3, 2);
    ledger.record(&bad).unwrap();
    let mut got = ledger.verify().unwrap().mismatches;
    let mut want = vec![Mismatch::RecordGoodAboveTotal {
        slo: "sums".into(),
        time: ts(at),
        key: bad.key.clone(),
        objective: 0,
        good: 3,
        total: 2,
    }];
    for level in [Level::Minute, Level::Hour, Level::Day] {
        want.push(Mismatch::BucketGoodAboveTotal {
            slo: "sums".into(),
            level: level as u8,
            index: index(at, level),
            objective: 0,
            good: 3,
            total: 2,
        });
    }
    got.sort_by_key(|m| format!("{m:?}"));
    want.sort_by_key(|m| format!("{m:?}"));
    assert_eq!(got, want);
}

#[test]
fn verify_names_a_stored_bucket_with_good_above_total() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_dir = dir.path().join("data/ledger");
    let at = "2026-11-26T08:00:10Z";
    {
        let ledger = Ledger::open(&ledger_dir, "default", 10).unwrap();
        ledger.record(&record("sums", at, 1, 2)).unwrap();
        ledger.flush().unwrap();
    }
    wait_for_unlock(&ledger_dir);
    let minute = index(at, Level::Minute);
    {
        // The minute's bucket, rewritten in the ledger's own encoding.
        let db = sled::open(&ledger_dir).unwrap();
        let buckets = db
            .open_tree(keys::tenant_tree("default", "buckets"))
            .unwrap();
        let key = keys::BucketKey {
            slo: "sums",
            level: Level::Minute,
            index: minute,
        }
        .encode();
        let forged = Bucket {
            events: vec![Events { good: 5, total: 2 }],
            evaluations: 1,
            errors: 0,
        };
        buckets.insert(key, forged.encode()).unwrap();
        db.flush().unwrap();
    }
    wait_for_unlock(&ledger_dir);

    let verify = dataslo(&["ledger", "verify", "--data-dir", "data"], dir.path());
    let out = text(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "invalid   tenant default: SLO sums minute bucket {minute}: objective 0 has good 5 > total 2"
        )),
        "{out}"
    );
    assert!(
        out.contains("mismatch  tenant default: SLO sums minute"),
        "{out}"
    );
    assert!(out.contains("2 problem(s)"), "{out}");
}
