//! The engine's options: a full pool queues calls, on-demand allocation still
//! works, memory limits hold under pooling, and the compile cache on disk is
//! used when, and only when, its entries can be trusted.

use crate::support::*;
use dataslo::runtime::{
    Allocator, CacheStats, EngineOptions, EvalErrorKind, EvaluationInput, Policy, Runtime,
    no_history,
};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A runtime over `options`, with patient limits: a busy machine must never
/// turn an allocation test into a deadline test.
fn runtime_with(options: EngineOptions) -> Runtime {
    Runtime::with_engine(patient_limits(), options).expect("runtime")
}

fn attack(name: &str) -> String {
    format!(r#"{{"attack":"{name}"}}"#)
}

fn eval(runtime: &Runtime, policy: &Policy, config: &str) -> Result<f64, EvalErrorKind> {
    let obs = observation(r#""last_modified":"2026-11-26T07:30:00Z""#);
    runtime
        .evaluate(
            policy,
            EvaluationInput {
                config,
                observation: &obs,
                history: no_history(),
                now: now(),
                limits: None,
            },
        )
        .map(|e| e.measurements[0].value.unwrap_or(f64::NAN))
        .map_err(|e| e.kind)
}

/// A pooling runtime of `slots` instance slots, with the adversary loaded.
fn adversary_in_a_pool_of(slots: u32) -> (Runtime, Policy) {
    let runtime = runtime_with(EngineOptions {
        max_instances: slots,
        ..EngineOptions::default()
    });
    let policy = runtime
        .load("adversary", &guest_bytes("adversary"))
        .expect("the adversary loads");
    (runtime, policy)
}

#[test]
fn a_full_pool_queues_calls_instead_of_failing_them() {
    let (runtime, policy) = adversary_in_a_pool_of(2);
    // Eight threads, four calls each, into two slots; each call spins a while.
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    (0..4)
                        .map(|_| eval(&runtime, &policy, &attack("clock")))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for call in calls {
            for result in call.join().expect("no panic") {
                assert!(result.is_ok(), "{result:?}");
            }
        }
    });
    assert_eq!(runtime.free_slots(), Some(2), "every slot is returned");
}

#[test]
fn slots_are_returned_after_traps() {
    let (runtime, policy) = adversary_in_a_pool_of(1);
    for name in ["panic", "memory-grow", "log-flood"] {
        assert!(eval(&runtime, &policy, &attack(name)).is_err());
    }
    assert!(eval(&runtime, &policy, &attack("none")).is_ok());
    assert_eq!(runtime.free_slots(), Some(1));
}

#[test]
fn a_session_holds_its_slot_so_calls_wait_for_it_rather_than_fail() {
    let (runtime, policy) = adversary_in_a_pool_of(1);
    let session = runtime.session(&policy, None).expect("a session");
    assert_eq!(
        runtime.free_slots(),
        Some(0),
        "the session's instance counts"
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let call = s.spawn(|| {
            let result = eval(&runtime, &policy, &attack("none"));
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            result
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(
            !done.load(std::sync::atomic::Ordering::SeqCst),
            "the call waits while the session holds the only slot"
        );
        drop(session);
        assert!(call.join().expect("no panic").is_ok(), "then it runs");
    });
    assert_eq!(runtime.free_slots(), Some(1));
}

#[test]
fn on_demand_allocation_still_works() {
    let runtime = runtime_with(EngineOptions::on_demand());
    assert_eq!(runtime.free_slots(), None);
    let policy = runtime.load_builtin("freshness").expect("freshness");
    assert!(eval(&runtime, &policy, r#"{"max_age":"2h"}"#).is_ok());
    let adversary = runtime
        .load("adversary", &guest_bytes("adversary"))
        .expect("loads");
    assert!(matches!(
        eval(&runtime, &adversary, &attack("memory-grow")),
        Err(EvalErrorKind::MemoryLimit { .. })
    ));
}

#[test]
fn a_pool_slot_smaller_than_the_call_limit_caps_memory_as_a_memory_limit() {
    let runtime = runtime_with(EngineOptions {
        max_instances: 4,
        memory_bytes: 32 << 20,
        ..EngineOptions::default()
    });
    let policy = runtime
        .load("adversary", &guest_bytes("adversary"))
        .expect("loads");
    match eval(&runtime, &policy, &attack("memory-grow")) {
        Err(EvalErrorKind::MemoryLimit { limit, requested }) => {
            assert_eq!(limit, 32 << 20);
            assert!(requested > limit);
        }
        other => panic!("expected a memory limit, got {other:?}"),
    }
    assert!(eval(&runtime, &policy, &attack("none")).is_ok());
}

#[test]
fn copy_on_write_off_gives_the_same_answers() {
    let runtime = runtime_with(EngineOptions {
        copy_on_write: false,
        max_instances: 4,
        ..EngineOptions::default()
    });
    let policy = runtime.load_builtin("freshness").expect("freshness");
    let reference = runtime_with(EngineOptions::on_demand());
    let same = reference.load_builtin("freshness").expect("freshness");
    let config = r#"{"max_age":"2h"}"#;
    assert_eq!(
        eval(&runtime, &policy, config),
        eval(&reference, &same, config)
    );
}

#[test]
fn no_engine_lets_a_call_see_what_the_previous_one_wrote() {
    // Pooled slots are reused and reset page by page: the adversary's
    // initialised data, zeroed statics and grown heap must all look new.
    let engines = [
        ("pooling, copy-on-write", EngineOptions::default()),
        (
            "pooling, no copy-on-write",
            EngineOptions {
                copy_on_write: false,
                ..EngineOptions::default()
            },
        ),
        ("on-demand", EngineOptions::on_demand()),
    ];
    for (name, options) in engines {
        let runtime = runtime_with(EngineOptions {
            max_instances: 2,
            ..options
        });
        let policy = runtime
            .load("adversary", &guest_bytes("adversary"))
            .expect("loads");
        for call in 0..20 {
            let obs = observation("");
            let eval = runtime
                .evaluate(
                    &policy,
                    EvaluationInput {
                        config: &attack("remember"),
                        observation: &obs,
                        history: no_history(),
                        now: now(),
                        limits: None,
                    },
                )
                .expect("remember evaluates");
            let m = &eval.measurements[0];
            assert_eq!(m.sli, "ok", "{name}, call {call}: {}", m.detail);
        }
    }
}

/// Tenants that arm the same built-in, or upload the same component, run
/// one copy of its code, each under its own name.
#[test]
fn the_same_bytes_loaded_twice_are_compiled_once_while_a_policy_runs_them() {
    let runtime = runtime_with(EngineOptions {
        max_instances: 8,
        ..EngineOptions::default()
    });
    let builtin = runtime.load_builtin("freshness").unwrap();
    let bytes = dataslo::runtime::builtin_bytes("freshness").unwrap();
    let uploaded = runtime.load("tenant-b/fresh.wasm", bytes).unwrap();
    assert_eq!(runtime.cache_stats(), stats(1, 0, 0));
    assert_eq!(uploaded.label(), "tenant-b/fresh.wasm");
    drop(builtin);
    assert_eq!(eval(&runtime, &uploaded, r#"{"max_age":"2h"}"#), Ok(1800.0));
    drop(uploaded);
    // Its code went with the last policy running it.
    let again = runtime.load_builtin("freshness").unwrap();
    assert_eq!(runtime.cache_stats(), stats(2, 0, 0));
    assert_eq!(eval(&runtime, &again, r#"{"max_age":"2h"}"#), Ok(1800.0));
}

// The compile cache.

fn cached(dir: &Path) -> EngineOptions {
    EngineOptions {
        max_instances: 8,
        cache_dir: Some(dir.to_path_buf()),
        ..EngineOptions::default()
    }
}

fn stats(compiled: u64, hits: u64, discarded: u64) -> CacheStats {
    CacheStats {
        compiled,
        hits,
        discarded,
    }
}

fn entry(runtime: &Runtime, policy: &Policy) -> PathBuf {
    runtime
        .cache()
        .expect("the cache is in use")
        .entry_path(&policy.sha256())
}

/// Loads freshness in a fresh runtime over `dir`; checks it still answers.
fn load_freshness(dir: &Path) -> (Runtime, Policy) {
    let runtime = runtime_with(cached(dir));
    let policy = runtime.load_builtin("freshness").expect("freshness");
    assert_eq!(eval(&runtime, &policy, r#"{"max_age":"2h"}"#), Ok(1800.0));
    (runtime, policy)
}

#[test]
fn a_second_runtime_loads_from_the_cache_without_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (first, policy) = load_freshness(&cache);
    assert_eq!(first.cache_stats(), stats(1, 0, 0));
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "the folder is private");
    let mode = std::fs::metadata(entry(&first, &policy))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "entries are private");

    let (second, _) = load_freshness(&cache);
    assert_eq!(second.cache_stats(), stats(0, 1, 0));
}

#[test]
fn a_policy_compiled_on_a_miss_runs_from_its_cache_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (runtime, policy) = load_freshness(dir.path());
    assert_eq!(runtime.cache_stats(), stats(1, 0, 0), "a miss, not a hit");
    // Its code is a mapping of the entry (shared with the page cache), not
    // a private copy.
    let path = entry(&runtime, &policy);
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(
        maps.lines()
            .any(|l| l.ends_with(&*path.to_string_lossy()) && l.contains("r-x")),
        "{} is not mapped executable",
        path.display()
    );
}

#[test]
fn a_policy_loaded_from_the_cache_outlives_its_entry_being_removed_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let (first, policy) = load_freshness(dir.path());
    let path = entry(&first, &policy);
    // A hit maps the entry's file rather than copying it.
    let (second, mapped) = load_freshness(dir.path());
    assert_eq!(second.cache_stats(), stats(0, 1, 0));
    std::fs::remove_file(&path).unwrap();
    let (third, _) = load_freshness(dir.path());
    assert_eq!(
        third.cache_stats(),
        stats(1, 0, 0),
        "compiled and stored again"
    );
    assert!(path.is_file());
    assert_eq!(eval(&second, &mapped, r#"{"max_age":"2h"}"#), Ok(1800.0));
}

#[test]
fn a_corrupt_entry_is_recompiled_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let (first, policy) = load_freshness(dir.path());
    let path = entry(&first, &policy);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();

    let (second, _) = load_freshness(dir.path());
    assert_eq!(second.cache_stats(), stats(1, 0, 1));
    let (third, _) = load_freshness(dir.path());
    assert_eq!(
        third.cache_stats(),
        stats(0, 1, 0),
        "the entry was rewritten"
    );

    // Truncated: discarded the same way.
    std::fs::write(&path, &bytes[..middle]).unwrap();
    let (fourth, _) = load_freshness(dir.path());
    assert_eq!(fourth.cache_stats(), stats(1, 0, 1));
}

#[test]
fn an_entry_naming_another_component_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime_with(cached(dir.path()));
    let volume = runtime.load_builtin("volume").expect("volume");
    let freshness_sha = runtime_with(EngineOptions::on_demand())
        .load_builtin("freshness")
        .expect("freshness")
        .sha256();
    // volume's valid entry under freshness's name.
    let target = runtime.cache().unwrap().entry_path(&freshness_sha);
    std::fs::copy(entry(&runtime, &volume), &target).unwrap();
    let (second, policy) = load_freshness(dir.path());
    assert_eq!(second.cache_stats(), stats(1, 0, 1));
    assert_eq!(policy.info().name, "freshness");
}

#[test]
fn a_file_that_is_not_an_entry_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (first, policy) = load_freshness(dir.path());
    std::fs::write(
        entry(&first, &policy),
        b"\x7fELF pretending to be compiled code",
    )
    .unwrap();
    let (second, _) = load_freshness(dir.path());
    assert_eq!(second.cache_stats(), stats(1, 0, 1));
}

#[test]
fn an_entry_others_may_write_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (first, policy) = load_freshness(dir.path());
    let path = entry(&first, &policy);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (second, _) = load_freshness(dir.path());
    assert_eq!(second.cache_stats(), stats(1, 0, 1));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "replaced by a private entry");
}

#[test]
fn an_entry_owned_by_someone_else_is_not_trusted() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return; // Only root can give a file away.
    }
    let dir = tempfile::tempdir().unwrap();
    let (first, policy) = load_freshness(dir.path());
    std::os::unix::fs::chown(entry(&first, &policy), Some(65534), Some(65534)).unwrap();
    let (second, _) = load_freshness(dir.path());
    assert_eq!(second.cache_stats(), stats(1, 0, 1));
}

#[test]
fn a_folder_others_may_write_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = load_freshness(dir.path());
    assert_eq!(first.cache_stats(), stats(1, 0, 0));
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let runtime = runtime_with(cached(dir.path()));
    assert!(runtime.cache().is_none(), "refused at start-up");
    runtime.load_builtin("freshness").expect("still loads");
    assert_eq!(runtime.cache_stats(), stats(1, 0, 0));
}

#[test]
fn another_engine_configuration_misses_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (first, policy) = load_freshness(dir.path());
    let other = runtime_with(EngineOptions {
        memory_bytes: 128 << 20,
        ..cached(dir.path())
    });
    other.load_builtin("freshness").expect("freshness");
    assert_eq!(other.cache_stats(), stats(1, 0, 0));
    assert_ne!(entry(&first, &policy), entry(&other, &policy));
    assert_eq!(other.engine_options().allocator, Allocator::Pooling);
}
