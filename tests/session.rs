//! `Runtime::session`: one instance reused for many calls answers as fresh
//! instances do, re-arms each call's deadline, clock and history, and refuses
//! to run again once a call broke it.

use crate::support::*;
use dataslo::model::{Measurement, Observation};
use dataslo::runtime::{
    EvalError, EvalErrorKind, Evaluation, EvaluationInput, GuestError, Limits, LogLine, Policy,
    Session, TrapKind,
};
use std::sync::Arc;
use std::time::Duration;

fn input<'a>(
    config: &'a str,
    obs: &'a Observation,
    history: &[Observation],
) -> EvaluationInput<'a> {
    EvaluationInput {
        config,
        observation: obs,
        history: Arc::new(history.to_vec()),
        now: now(),
        limits: None,
    }
}

fn session(policy: &Policy) -> Session {
    runtime().session(policy, None).expect("session starts")
}

type Essence = Result<(Vec<Measurement>, Vec<LogLine>), EvalErrorKind>;

/// What must match between two answers: all but the duration.
fn essence(result: Result<Evaluation, EvalError>) -> Essence {
    result.map(|e| (e.measurements, e.logs)).map_err(|e| e.kind)
}

fn is_panic(error: &EvalError) -> bool {
    matches!(
        &error.kind,
        EvalErrorKind::Trap {
            kind: TrapKind::Panic,
            ..
        }
    )
}

fn attack(name: &str) -> String {
    format!(r#"{{"attack":"{name}"}}"#)
}

#[test]
fn a_session_answers_as_fresh_instances_do_call_after_call() {
    let schema = r#""schema":[{"name":"id","type":"BIGINT"}]"#;
    let cases: Vec<(&str, &str, String, Vec<Observation>)> = vec![
        (
            "freshness",
            r#"{"max_age":"2h"}"#,
            r#""last_modified":"2026-11-26T07:00:00Z""#.into(),
            vec![],
        ),
        (
            "freshness",
            r#"{"max_age":"2h"}"#,
            r#""last_modified":"2026-11-25T07:00:00Z""#.into(),
            vec![],
        ),
        // Guest errors come back the same way and leave the session usable.
        ("freshness", r#"{"max_age":"2h"}"#, String::new(), vec![]),
        ("freshness", r#"{"max_age":"soon"}"#, String::new(), vec![]),
        (
            "null-rate",
            r#"{"columns":"*","max_null_fraction":0.01}"#,
            r#""row_count":100,"columns":{"a":{"null_count":3},"b":{}}"#.into(),
            vec![],
        ),
        (
            "schema-drift",
            r#"{"mode":"previous"}"#,
            schema.into(),
            vec![observation(r#""schema":[{"name":"id","type":"INT"}]"#)],
        ),
        (
            "schema-drift",
            r#"{"mode":"previous"}"#,
            schema.into(),
            vec![],
        ),
    ];
    for name in ["freshness", "null-rate", "schema-drift"] {
        let policy = runtime().load_builtin(name).expect("built-in loads");
        let mut reused = session(&policy);
        // Twice over, so later calls run on an instance that has answered before.
        for _ in 0..2 {
            for (_, config, extra, history) in cases.iter().filter(|c| c.0 == name) {
                let obs = observation(extra);
                let fresh = runtime().evaluate(&policy, input(config, &obs, history));
                let again = reused.evaluate(input(config, &obs, history));
                assert_eq!(essence(again), essence(fresh), "{name} {config} {extra}");
            }
        }
        assert!(!reused.is_poisoned());
    }
}

#[test]
fn each_call_gets_its_own_clock_and_history() {
    let mut s = session(adversary());
    let obs = observation("");
    for (offset, depth) in [(0, 3), (3600, 0), (60, 7)] {
        let at = now() + jiff::SignedDuration::from_secs(offset);
        let history = vec![observation(""); depth];
        let clock = s
            .evaluate(EvaluationInput {
                now: at,
                ..input(&attack("clock"), &obs, &[])
            })
            .expect("clock runs");
        assert_eq!(clock.measurements[0].value, Some(at.as_nanosecond() as f64));
        let seen = s
            .evaluate(input(&attack("history"), &obs, &history))
            .expect("history runs");
        assert_eq!(seen.measurements[0].total, depth as u64);
    }
}

#[test]
fn the_deadline_is_rearmed_for_every_call() {
    let limits = Limits {
        deadline: Duration::from_millis(20),
        ..Limits::default()
    };
    let mut s = runtime()
        .session(adversary(), Some(&limits))
        .expect("session starts");
    let obs = observation("");
    for _ in 0..3 {
        // Idle longer than the deadline: the epoch moves on meanwhile.
        std::thread::sleep(Duration::from_millis(50));
        s.evaluate(input(&attack("none"), &obs, &[]))
            .expect("an idle session still has its whole deadline");
    }
    let stuck = s
        .evaluate(input(&attack("infinite-loop"), &obs, &[]))
        .expect_err("the loop is stopped");
    assert!(
        matches!(stuck.kind, EvalErrorKind::Deadline { .. }),
        "{stuck}"
    );
}

#[test]
fn a_trap_poisons_the_session_and_later_calls_refuse_clearly() {
    let mut s = session(adversary());
    let obs = observation("");
    s.evaluate(input(&attack("none"), &obs, &[]))
        .expect("a normal call");
    // A guest error is an answer, not a broken instance.
    let denied = s
        .evaluate(input(&attack("read-file"), &obs, &[]))
        .expect_err("denied");
    assert!(matches!(
        denied.kind,
        EvalErrorKind::Guest(GuestError::Internal(_))
    ));
    assert!(!s.is_poisoned());

    let trap = s
        .evaluate(input(&attack("panic"), &obs, &[]))
        .expect_err("the panic traps");
    assert!(is_panic(&trap), "{trap}");
    assert!(s.is_poisoned());
    for _ in 0..2 {
        let refused = s
            .evaluate(input(&attack("none"), &obs, &[]))
            .expect_err("a poisoned session runs nothing");
        assert_eq!(refused.policy, "adversary");
        assert_eq!(refused.code(), "session_poisoned");
        let text = refused.to_string();
        assert!(
            text.contains("adversary panicked on purpose") && text.contains("new session"),
            "{text}"
        );
    }
    // Another session, like a fresh instance, is unaffected.
    session(adversary())
        .evaluate(input(&attack("none"), &obs, &[]))
        .expect("a new session works");
}

#[test]
fn every_call_of_a_session_reports_its_own_stdout_and_a_later_panic_with_its_message() {
    // A std guest fetches its stdout and stderr streams once and keeps them:
    // a later call must still write where the host reads. The flood is 2,000
    // writes through an unoptimised test build's WASI: no deadline test.
    let mut s = runtime()
        .session(adversary(), Some(&patient_limits()))
        .expect("session starts");
    let obs = observation("");
    for call in 0..2 {
        let eval = s
            .evaluate(input(&attack("stdout-flood"), &obs, &[]))
            .expect("the flood is capped, not fatal");
        assert!(
            eval.logs
                .iter()
                .any(|l| l.message == "stdout: line 0 of a flood on stdout"),
            "call {call}: {:?}",
            eval.logs.first()
        );
    }
    let trap = s
        .evaluate(input(&attack("panic"), &obs, &[]))
        .expect_err("the panic traps");
    assert!(
        is_panic(&trap) && trap.to_string().contains("adversary panicked on purpose"),
        "{trap}"
    );
}

#[test]
fn limits_other_than_the_sessions_are_refused_per_call() {
    let mut s = session(adversary());
    let obs = observation("");
    let other = Limits {
        memory_bytes: 1 << 30,
        ..Limits::default()
    };
    let same = Limits::default();
    let refused = s
        .evaluate(EvaluationInput {
            limits: Some(&other),
            ..input(&attack("none"), &obs, &[])
        })
        .expect_err("other limits are refused");
    assert!(
        refused.to_string().contains("limits are fixed"),
        "{refused}"
    );
    s.evaluate(EvaluationInput {
        limits: Some(&same),
        ..input(&attack("none"), &obs, &[])
    })
    .expect("the session's own limits are fine");
}

#[test]
fn a_reused_instance_serves_every_call_from_the_memory_it_started_with() {
    let policy = runtime().load_builtin("null-rate").expect("built-in loads");
    let config = r#"{"columns":"*","max_null_fraction":0.01}"#;
    let obs = observation(r#""row_count":100,"columns":{"a":{"null_count":3},"b":{}}"#);
    let limited = |pages: usize| Limits {
        memory_bytes: pages * 65536,
        ..Limits::default()
    };
    // The least memory a fresh instance answers in: what the guest starts
    // with, and its first call.
    let fits = |pages: usize| {
        let limits = limited(pages);
        let call = EvaluationInput {
            limits: Some(&limits),
            ..input(config, &obs, &[])
        };
        runtime().evaluate(&policy, call).is_ok()
    };
    let pages = (1..=64).find(|p| fits(*p)).expect("answers within 4 MiB");
    let limits = limited(pages);
    let mut s = runtime()
        .session(&policy, Some(&limits))
        .expect("session starts");
    // The guest keeps its parsed config between calls; the rest of each call
    // must be reused, not piled up until memory has to grow.
    let call = || EvaluationInput {
        limits: Some(&limits),
        ..input(config, &obs, &[])
    };
    for n in 0..2_000 {
        if let Err(e) = s.evaluate(call()) {
            panic!("call {n} in {pages} pages: {e}");
        }
    }
    let fresh = runtime().evaluate(&policy, input(config, &obs, &[]));
    assert_eq!(essence(s.evaluate(call())), essence(fresh));
}
