//! A policy cannot hold a call past its deadline by waiting in WASI. The
//! guest's monotonic clock is virtual: a sleep, a poll with a timeout or a
//! wait until an instant returns at once with the clock moved by the time
//! asked, the wall clock stays at the evaluation's "now", and stdin is at its
//! end. Each way of waiting is tried in `describe`, `validate-config` and
//! `evaluate`, through the library, `eval`, `inspect` and `serve`.
//!
//! Bounds here only catch a hang: every fixture waits an hour of its clock,
//! and each check allows a minute of real time (compiles included, on a
//! loaded machine; two uploads once took 27 s).

use crate::server::{ACME, JSON, OBS, TestServer, post, put, start};
use crate::support::{dataslo, evaluate, forger, forger_file, observation, runtime};
use dataslo::runtime::EvalErrorKind;
use std::time::{Duration, Instant};

const HANG: Duration = Duration::from_secs(60);
const WAYS: [&str; 4] = ["sleep", "poll", "until", "stdin"];

/// What the forger says after waiting an hour of its clock (stdin: no wait).
fn waited(how: &str) -> &'static str {
    match how {
        "stdin" => "monotonic moved 0 ms, wall clock moved 0 ns",
        _ => "monotonic moved 3600000 ms, wall clock moved 0 ns",
    }
}

fn within_hang_bound<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(took < HANG, "{what} took {took:?}");
    out
}

#[test]
fn waiting_in_describe_returns_at_once_with_the_clock_moved() {
    for how in WAYS {
        let mode = format!("{how}-describe");
        let policy = within_hang_bound(&mode, || runtime().load(&mode, &forger(&mode)))
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(
            policy.info().description.starts_with(waited(how)),
            "{mode}: {}",
            policy.info().description
        );
    }
}

#[test]
fn waiting_in_validate_config_returns_at_once() {
    for how in WAYS {
        let mode = format!("{how}-validate");
        let policy = runtime().load(&mode, &forger(&mode)).expect("loads");
        within_hang_bound(&mode, || runtime().validate_config(&policy, "{}"))
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
    }
}

#[test]
fn waiting_in_evaluate_returns_at_once_and_the_wall_clock_stays_at_now() {
    for how in WAYS {
        let mode = format!("{how}-evaluate");
        let policy = runtime().load(&mode, &forger(&mode)).expect("loads");
        let done = within_hang_bound(&mode, || evaluate(&policy, "{}", &observation("")))
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        let detail = &done.measurements[0].detail;
        assert!(detail.starts_with(waited(how)), "{mode}: {detail}");
        let now = crate::support::now().as_second();
        assert!(detail.ends_with(&format!("at {now} s")), "{mode}: {detail}");
    }
}

#[test]
fn sleeping_forever_in_short_naps_ends_at_the_deadline() {
    for call in ["describe", "validate", "evaluate"] {
        let mode = format!("naps-{call}");
        let kind = within_hang_bound(&mode, || match call {
            "describe" => runtime()
                .load(&mode, &forger(&mode))
                .map(|_| ())
                .map_err(|e| match e.kind {
                    dataslo::runtime::LoadErrorKind::Describe(kind) => kind,
                    other => panic!("{mode}: {other}"),
                }),
            _ => {
                let policy = runtime().load(&mode, &forger(&mode)).expect("loads");
                let result = if call == "validate" {
                    runtime().validate_config(&policy, "{}")
                } else {
                    evaluate(&policy, "{}", &observation("")).map(|_| ())
                };
                result.map_err(|e| e.kind)
            }
        })
        .expect_err("naps never end");
        assert!(
            matches!(kind, EvalErrorKind::Deadline { .. }),
            "{mode}: {kind}"
        );
    }
    let fine = runtime()
        .load("fine", &forger("none"))
        .expect("a good policy loads");
    evaluate(&fine, "{}", &observation("")).expect("and evaluates");
}

#[test]
fn eval_and_inspect_of_a_sleeping_policy_answer_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("obs.json");
    std::fs::write(&obs, OBS).unwrap();
    for call in ["validate", "evaluate"] {
        let policy = forger_file(dir.path(), &format!("sleep-{call}"));
        let out = within_hang_bound(call, || {
            dataslo(&[
                "eval",
                "--policy",
                policy.to_str().unwrap(),
                "--observation",
                obs.to_str().unwrap(),
            ])
        });
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let policy = forger_file(dir.path(), "sleep-describe");
    let out = within_hang_bound("inspect", || {
        dataslo(&["inspect", policy.to_str().unwrap()])
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(waited("sleep")));
}

/// Four SLOs of acme's dataset on uploaded policy `policy`.
fn four_slos(policy: &str) -> String {
    (0..4)
        .map(|i| {
            format!(
                r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: sleepy-{i} }}
spec:
  indicator:
    metadata: {{ name: ok }}
    spec:
      ratioMetric:
        good: {{ metricSource: {{ type: dataslo }} }}
        total: {{ metricSource: {{ type: dataslo, spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "{policy}", sli: ok, trigger: observation }} }} }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ target: 0.9 }}]
"#
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

fn upload(s: &TestServer, name: &str, bytes: &[u8]) -> (u16, serde_json::Value) {
    put(
        s,
        &format!("/v1/policies/{name}"),
        ACME,
        "application/wasm",
        bytes,
    )
}

#[test]
fn serve_answers_uploads_and_observations_of_sleeping_policies_at_once() {
    let s = start();
    // Two uploads of one tenant at once: neither waits on the other's sleep.
    let (first, second) = within_hang_bound("two uploads", || {
        std::thread::scope(|scope| {
            let sleepy = scope.spawn(|| upload(&s, "sleepy", &forger("sleep-describe")));
            let good = scope.spawn(|| upload(&s, "good", &forger("none")));
            (sleepy.join().unwrap(), good.join().unwrap())
        })
    });
    assert_eq!(first.0, 201, "{}", first.1);
    assert_eq!(second.0, 201, "{}", second.1);

    let (status, stored) = upload(&s, "sleeper", &forger("sleep-evaluate"));
    assert_eq!(status, 201, "{stored}");
    let (status, applied) = put(
        &s,
        "/v1/slos",
        ACME,
        "application/yaml",
        four_slos("uploaded:sleeper").as_bytes(),
    );
    assert_eq!(status, 200, "{applied}");
    let (status, accepted) = within_hang_bound("observations", || {
        post(&s, "/v1/observations?wait=evaluated", ACME, JSON, OBS)
    });
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(
        accepted["evaluations"], 5,
        "four sleepy SLOs and the config's: {accepted}"
    );
    let (_, events) = crate::server::get(&s, "/v1/slos/sleepy-0/events", ACME);
    assert_eq!(events[0]["outcome"]["kind"], "measured", "{events}");
}
