//! The sandbox holds against hostile guests: every attack ends in its typed
//! error within twice the deadline, and the next evaluation still succeeds.
//!
//! "Within twice the deadline" is checked on the thread's CPU time: wall-clock
//! bounds fail on a shared, loaded machine for reasons that are not ours.

mod support;

use dataslo::model::Observation;
use dataslo::runtime::{
    EvalErrorKind, EvaluationInput, GuestError, HistoryError, HistorySource, Limits, LoadErrorKind,
    TrapKind,
};
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::*;

fn attack(name: &str) -> String {
    format!(r#"{{"attack":"{name}"}}"#)
}

/// Runs one attack with default limits; returns its error kind after checking
/// the time bound and that a normal evaluation works right after.
fn run_attack(config: &str, limits: Option<&Limits>) -> EvalErrorKind {
    let deadline = limits.map_or(Limits::default().deadline, |l| l.deadline);
    let started = thread_cpu_time();
    let result = evaluate_with(adversary(), config, &observation(""), Vec::new(), limits);
    let cpu = thread_cpu_time() - started;
    let error = result.expect_err("the attack must fail");
    assert_eq!(error.policy, "adversary", "the error names the policy");
    assert!(
        cpu < deadline * 2,
        "{config}: used {cpu:?} of CPU, deadline {deadline:?}: {error}"
    );
    assert_healthy();
    error.kind
}

fn assert_healthy() {
    let ok = evaluate(adversary(), &attack("none"), &observation(""))
        .expect("a normal evaluation still works");
    assert_eq!(ok.measurements[0].sli, "ok");
}

#[test]
fn an_infinite_loop_hits_the_deadline() {
    match run_attack(&attack("infinite-loop"), None) {
        EvalErrorKind::Deadline { limit, elapsed } => {
            assert_eq!(limit, Duration::from_millis(100));
            assert!(elapsed >= limit, "stopped early: {elapsed:?}");
        }
        other => panic!("expected deadline, got {other:?}"),
    }
}

#[test]
fn a_shorter_deadline_per_call_is_honoured() {
    let limits = Limits {
        deadline: Duration::from_millis(20),
        ..Limits::default()
    };
    assert!(matches!(
        run_attack(&attack("infinite-loop"), Some(&limits)),
        EvalErrorKind::Deadline { .. }
    ));
}

#[test]
fn growing_memory_until_refused_is_a_memory_limit() {
    // The deadline counts wall time in epochs: on a busy machine growing to
    // 64 MiB may take longer than the default 100 ms, and this test is about
    // memory.
    match run_attack(&attack("memory-grow"), Some(&patient_limits())) {
        EvalErrorKind::MemoryLimit { limit, requested } => {
            assert_eq!(limit, 64 << 20);
            assert!(requested > limit);
        }
        other => panic!("expected memory limit, got {other:?}"),
    }
}

#[test]
fn unbounded_recursion_is_a_stack_overflow_trap() {
    match run_attack(&attack("recursion"), None) {
        EvalErrorKind::Trap { kind, .. } => assert_eq!(kind, TrapKind::StackOverflow),
        other => panic!("expected a stack overflow, got {other:?}"),
    }
}

#[test]
fn recursion_that_exhausts_the_shadow_stack_is_a_trap() {
    match run_attack(&attack("recursion-with-locals"), None) {
        EvalErrorKind::Trap { kind, message } => {
            assert!(
                matches!(kind, TrapKind::StackOverflow | TrapKind::Other),
                "{kind}: {message}"
            )
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn a_panic_is_a_trap_carrying_the_panic_message() {
    match run_attack(&attack("panic"), None) {
        EvalErrorKind::Trap {
            kind: TrapKind::Panic,
            message,
        } => {
            assert!(
                message.contains("adversary panicked on purpose"),
                "{message}"
            )
        }
        other => panic!("expected a panic trap, got {other:?}"),
    }
}

#[test]
fn a_100_mib_string_cannot_even_be_built_in_64_mib() {
    assert!(matches!(
        run_attack(&attack("huge-string"), Some(&patient_limits())),
        EvalErrorKind::MemoryLimit { .. }
    ));
}

#[test]
fn a_100_mib_string_returned_from_a_larger_sandbox_is_output_too_large() {
    let limits = Limits {
        memory_bytes: 256 << 20,
        deadline: Duration::from_secs(2),
        ..Limits::default()
    };
    match run_attack(&attack("huge-string"), Some(&limits)) {
        EvalErrorKind::OutputTooLarge { size, limit } => {
            assert!(size >= 100 << 20);
            assert_eq!(limit, 1 << 20);
        }
        other => panic!("expected output too large, got {other:?}"),
    }
}

#[test]
fn a_100_mib_list_is_refused() {
    assert!(matches!(
        run_attack(&attack("huge-list"), Some(&patient_limits())),
        EvalErrorKind::MemoryLimit { .. }
    ));
    // 100,000 measurements fit in memory but not in the output limit.
    let four_mib = r#"{"attack":"huge-list","bytes":4194304}"#;
    match run_attack(four_mib, Some(&patient_limits())) {
        EvalErrorKind::OutputTooLarge { size, limit } => assert!(size > limit),
        other => panic!("expected output too large, got {other:?}"),
    }
}

#[test]
fn a_log_flood_is_stopped() {
    assert_eq!(
        run_attack(&attack("log-flood"), None),
        EvalErrorKind::LogFlood { limit: 256 }
    );
}

#[test]
fn a_stdout_flood_is_capped_not_fatal() {
    // 2,000 writes through an unoptimised test build's WASI: no deadline test.
    let limits = patient_limits();
    let eval = evaluate_with(
        adversary(),
        &attack("stdout-flood"),
        &observation(""),
        Vec::new(),
        Some(&limits),
    )
    .expect("printing is allowed");
    let kept: usize = eval.logs.iter().map(|l| l.message.len()).sum();
    assert!(kept < 32 << 10, "kept {kept} bytes of stdout");
    assert!(
        eval.logs
            .last()
            .is_some_and(|l| l.message.contains("more bytes dropped"))
    );
}

fn assert_denied(attack_name: &str) {
    match run_attack(&attack(attack_name), None) {
        EvalErrorKind::Guest(GuestError::Internal(message)) => {
            assert!(message.starts_with("denied:"), "{message}")
        }
        other => panic!("{attack_name}: expected denial, got {other:?}"),
    }
}

#[test]
fn files_are_out_of_reach() {
    assert_denied("read-file");
    assert_denied("list-dir");
}

#[test]
fn environment_and_arguments_are_empty() {
    assert_denied("read-env");
}

#[test]
fn sockets_are_refused() {
    assert_denied("socket");
}

#[test]
fn the_clock_shows_the_virtual_now_and_stands_still() {
    let eval =
        evaluate(adversary(), &attack("clock"), &observation("")).expect("clock attack runs");
    let m = &eval.measurements[0];
    let virtual_now = now().as_nanosecond() as f64;
    assert_eq!(
        m.value,
        Some(virtual_now),
        "the wall clock must show the evaluation's now"
    );
    assert!(
        m.detail
            .contains(&format!("ctx.now {}", now().as_nanosecond())),
        "{}",
        m.detail
    );
    assert!(m.detail.contains("monotonic advanced 0 ns"), "{}", m.detail);
}

#[test]
fn randomness_is_seeded_by_the_evaluation_so_it_replays() {
    let first = evaluate(adversary(), &attack("random"), &observation("")).unwrap();
    let again = evaluate(adversary(), &attack("random"), &observation("")).unwrap();
    assert_eq!(first.measurements, again.measurements);
    let other_dataset = observation("").clone();
    let mut other_dataset = other_dataset;
    other_dataset.dataset.name = "customers".into();
    let other = evaluate(adversary(), &attack("random"), &other_dataset).unwrap();
    assert_ne!(first.measurements, other.measurements);
}

#[test]
fn history_is_capped_by_the_host() {
    let history: Vec<_> = (0..150).map(|_| observation("")).collect();
    let eval = evaluate_with(
        adversary(),
        &attack("history"),
        &observation(""),
        history,
        None,
    )
    .unwrap();
    assert_eq!(eval.measurements[0].total, 100);
}

/// A history that counts its reads and can be made to fail.
struct Watched {
    reads: AtomicUsize,
    broken: bool,
}

impl HistorySource for Watched {
    fn newest(&self, n: usize) -> Result<Cow<'_, [Observation]>, HistoryError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        if self.broken {
            return Err(HistoryError("the ledger is unreadable".into()));
        }
        Ok(Cow::Owned((0..n.min(3)).map(|_| observation("")).collect()))
    }
}

fn evaluate_watched(config: &str, broken: bool) -> (Result<usize, EvalErrorKind>, usize) {
    let history = Arc::new(Watched {
        reads: AtomicUsize::new(0),
        broken,
    });
    let result = runtime().evaluate(
        adversary(),
        EvaluationInput {
            config,
            observation: &observation(""),
            history: history.clone(),
            now: now(),
            limits: None,
        },
    );
    let seen = result
        .map(|e| e.measurements[0].total as usize)
        .map_err(|e| e.kind);
    (seen, history.reads.load(Ordering::Relaxed))
}

#[test]
fn history_is_read_only_when_the_policy_asks_for_it() {
    assert_eq!(evaluate_watched(&attack("none"), false), (Ok(1), 0));
    assert_eq!(evaluate_watched(&attack("history"), false), (Ok(3), 1));
}

#[test]
fn a_history_that_cannot_be_read_fails_the_call_as_a_host_failure() {
    match evaluate_watched(&attack("history"), true) {
        (Err(EvalErrorKind::Host(message)), 1) => {
            assert!(message.contains("the ledger is unreadable"), "{message}")
        }
        other => panic!("expected a host failure, got {other:?}"),
    }
    assert_healthy();
}

fn load_error(bytes: &[u8]) -> LoadErrorKind {
    match runtime().load("suspect.wasm", bytes) {
        Ok(_) => panic!("must not load"),
        Err(e) => {
            assert_eq!(e.policy, "suspect.wasm");
            e.kind
        }
    }
}

#[test]
fn a_component_of_another_version_is_refused_naming_the_versions_loaded_and_found() {
    match load_error(&guest_bytes("wrong-version")) {
        LoadErrorKind::InterfaceMismatch { expected, found } => {
            assert!(
                expected.starts_with("dataslo:policy@0.2.0 or @0.1.0"),
                "{expected}"
            );
            assert!(found.starts_with("dataslo:policy@0.3.0"), "{found}");
        }
        other => panic!("expected interface mismatch, got {other:?}"),
    }
    assert_healthy();
}

#[test]
fn a_component_of_another_world_is_refused_naming_what_it_exports() {
    match load_error(&guest_bytes("foreign-world")) {
        LoadErrorKind::InterfaceMismatch { found, .. } => {
            assert!(found.contains("acme:widget/spin@1.0.0"), "{found}")
        }
        other => panic!("expected interface mismatch, got {other:?}"),
    }
}

#[test]
fn a_core_module_is_not_a_component() {
    let module =
        wat::parse_str(r#"(module (func (export "evaluate") (result i32) i32.const 0))"#).unwrap();
    assert_eq!(load_error(&module), LoadErrorKind::NotAComponent);
}

#[test]
fn random_bytes_are_corrupt() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    assert!(
        matches!(load_error(&bytes), LoadErrorKind::Corrupt(m) if m.contains("not WebAssembly"))
    );
}

#[test]
fn a_truncated_component_is_corrupt() {
    let bytes = guest_bytes("adversary");
    for cut in [9, bytes.len() / 3, bytes.len() - 1] {
        match load_error(&bytes[..cut]) {
            LoadErrorKind::Corrupt(message) => assert!(!message.is_empty()),
            other => panic!("cut at {cut}: expected corrupt, got {other:?}"),
        }
    }
    assert_healthy();
}

#[test]
fn a_thousand_evaluations_with_attacks_interleaved_leave_the_host_healthy_and_flat() {
    let attacks = [
        "panic",
        "memory-grow",
        "recursion",
        "log-flood",
        "infinite-loop",
        "read-file",
        "huge-string",
    ];
    let fast = Limits {
        deadline: Duration::from_millis(10),
        ..Limits::default()
    };
    let run = |i: usize| {
        let obs = observation("");
        if i.is_multiple_of(5) {
            let config = attack(attacks[(i / 5) % attacks.len()]);
            evaluate_with(adversary(), &config, &obs, Vec::new(), Some(&fast))
                .expect_err("attack fails");
        } else {
            evaluate(adversary(), &attack("none"), &obs).expect("normal evaluation");
        }
    };
    // Warm up so that allocator pools and lazy state settle before measuring.
    (0..100).for_each(run);
    let before = rss_bytes();
    (100..1100).for_each(run);
    let after = rss_bytes();
    let growth = after.saturating_sub(before);
    assert!(
        growth < 16 << 20,
        "RSS grew by {} KiB over 1,000 evaluations",
        growth >> 10
    );
}

// The same guest built without WASI (`wasm32-unknown-unknown`, no WASI
// context, the SDK's own allocator and panic hook) holds the same way.

#[test]
fn without_wasi_the_guest_imports_only_the_host_interface() {
    let imports = &adversary_without_wasi().interface().imports;
    assert!(imports.contains(&"dataslo:policy/host@0.2.0".to_string()));
    assert!(
        imports.iter().all(|i| i.starts_with("dataslo:policy/")),
        "{imports:?}"
    );
    let ok =
        evaluate(adversary_without_wasi(), &attack("none"), &observation("")).expect("evaluates");
    assert_eq!(ok.measurements[0].sli, "ok");
}

#[test]
fn without_wasi_a_panic_is_a_trap_carrying_the_panic_message() {
    let error = evaluate(adversary_without_wasi(), &attack("panic"), &observation(""))
        .expect_err("the panic fails the call");
    match error.kind {
        EvalErrorKind::Trap {
            kind: TrapKind::Panic,
            message,
        } => assert!(
            message.contains("adversary panicked on purpose"),
            "{message}"
        ),
        other => panic!("expected a panic trap, got {other:?}"),
    }
}

#[test]
fn without_wasi_nothing_a_call_writes_is_seen_by_the_next() {
    // `remember` writes statics and leaks 4 MiB, past the initial memory.
    for _ in 0..3 {
        let eval = evaluate(
            adversary_without_wasi(),
            &attack("remember"),
            &observation(""),
        )
        .expect("remember runs");
        assert_eq!(eval.measurements[0].detail, "pristine");
    }
}
