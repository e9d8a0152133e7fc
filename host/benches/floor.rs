//! E1 vs E2: the cost of the sandbox over the same check written natively.
//!
//! Three ways to run `builtin:freshness` on `examples/orders.json`, in one run
//! so their ratios can be compared:
//!
//! - `native`: [`native_freshness`], the policy's logic as plain Rust called
//!   in-process (E2, the floor);
//! - `reused_instance`: [`dataslo::runtime::Session::evaluate`], one instance
//!   for every call;
//! - `fresh_instance`: `Runtime::evaluate`, a fresh store and instance per
//!   call, as dataslo runs policies (E1).
//!
//! `cargo bench -p dataslo --bench floor` (add `-- --quick` for a short run)

use criterion::{Criterion, criterion_group, criterion_main};
use dataslo::model::{Measurement, Observation, parse_observation};
use dataslo::runtime::{EvaluationInput, History, Limits, Runtime, no_history};
use serde::Deserialize;
use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

// The same allocator as the `dataslo` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONFIG: &str = r#"{"max_age":"2h"}"#;

/// The freshness config, read as the guest SDK reads it: JSON, unknown fields
/// refused, `max_age` as human text (or whole seconds in the guest; text here).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Freshness {
    max_age: String,
}

/// E2: what `policies/freshness` computes, natively. Per call, like the guest,
/// it parses the JSON config and the duration, reads `last_modified`, compares
/// the age with `max_age`, and formats the same detail text (humantime, as the
/// SDK does). It skips what only the sandbox needs: no copy of the
/// observation into WIT records, no store, no instance, no output checks.
fn native_freshness(config: &str, obs: &Observation, now: jiff::Timestamp) -> Measurement {
    let config: Freshness = serde_json::from_str(config).expect("config parses");
    let max_age = humantime::parse_duration(&config.max_age).expect("max_age parses");
    let modified = obs.last_modified.expect("last_modified").as_nanosecond() as i64;
    let age_nanos = (now.as_nanosecond() as i64).saturating_sub(modified);
    let age_secs = age_nanos as f64 / 1e9;
    let good = age_nanos <= i64::try_from(max_age.as_nanos()).unwrap_or(i64::MAX);
    let at = UNIX_EPOCH
        + Duration::new(
            modified.div_euclid(1_000_000_000) as u64,
            modified.rem_euclid(1_000_000_000) as u32,
        );
    let detail = format!(
        "last modified {} ago (at {}), limit {}",
        humantime::format_duration(Duration::from_secs(age_secs.max(0.0) as u64)),
        humantime::format_rfc3339(at),
        humantime::format_duration(max_age),
    );
    Measurement {
        sli: "freshness".into(),
        good: u64::from(good),
        total: 1,
        value: Some(age_secs),
        detail,
    }
}

fn floor(c: &mut Criterion) {
    let runtime = Runtime::new(Limits::default()).expect("runtime");
    let policy = runtime
        .load_builtin("freshness")
        .expect("built-in freshness");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/orders.json"
    ))
    .expect("example");
    let observation = parse_observation(&text, "orders.json").expect("example parses");
    let now: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().expect("timestamp");
    let history: History = no_history();
    let input = || EvaluationInput {
        config: CONFIG,
        observation: &observation,
        history: history.clone(),
        now,
        limits: None,
    };
    let mut session = runtime.session(&policy, None).expect("session");

    // All three must give the same answer, or the comparison means nothing.
    let fresh = runtime.evaluate(&policy, input()).expect("evaluates");
    let reused = session.evaluate(input()).expect("evaluates");
    let native = native_freshness(CONFIG, &observation, now);
    assert_eq!(fresh.measurements, vec![native.clone()]);
    assert_eq!(reused.measurements, vec![native]);

    let mut group = c.benchmark_group("floor_freshness");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("native", |b| {
        b.iter(|| native_freshness(black_box(CONFIG), black_box(&observation), now))
    });
    group.bench_function("reused_instance", |b| {
        b.iter(|| black_box(session.evaluate(input()).expect("evaluates")))
    });
    group.bench_function("fresh_instance", |b| {
        b.iter(|| black_box(runtime.evaluate(&policy, input()).expect("evaluates")))
    });
    group.finish();
}

criterion_group!(benches, floor);
criterion_main!(benches);
