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
//! Then the floors under `builtin:volume` (`{"min_rows":1000}`, the same
//! observation), dataslo's runs beside plain wasmtime's:
//!
//! - `floor_volume/{fresh,reused}_instance`: dataslo (`Runtime::evaluate`,
//!   a [`dataslo::runtime::Session`]);
//! - `wasmtime_floor/volume_{fresh,reused}`: the same component on plain
//!   wasmtime (`support/plain.rs`: its own `bindgen!`, imports that do
//!   nothing, no limiter), dataslo's engine config, the observation
//!   converted once;
//! - `wasmtime_floor/freshness_{fresh,reused}`: E1's `builtin:freshness` the
//!   same way, the floor of `floor_freshness/*`;
//! - `wasmtime_floor/lower_only_{fresh,reused}`: the same on
//!   `tests/fixtures/lower-only`, built like the built-ins (no WASI), whose
//!   `evaluate` ignores its input: lowering, the call and lifting only;
//! - `wasmtime_floor/lower_only_instantiate`: its store, instance and drop,
//!   without the call;
//! - `wasmtime_floor/empty_component`: an empty component, store +
//!   instance + call + drop.
//!
//! So `floor_volume/fresh_instance - volume_fresh` is dataslo's host
//! overhead, `volume_fresh - lower_only_fresh` the guest's own work, and
//! `lower_only_fresh - empty_component` lowering and lifting the values.
//!
//! `cargo bench -p dataslo --bench floor` (add `-- --quick` for a short run)

use criterion::{Criterion, criterion_group, criterion_main};
use dataslo::model::{Measurement, Observation, parse_observation};
use dataslo::runtime::EngineOptions;
use dataslo::runtime::{EvaluationInput, History, Limits, Runtime, no_history};
use serde::Deserialize;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

#[path = "support/empty.rs"]
mod empty;
#[path = "support/plain.rs"]
mod plain;

// The same allocator as the `dataslo` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONFIG: &str = r#"{"max_age":"2h"}"#;
/// `builtin:volume`'s config in the floors.
const ROWS_CONFIG: &str = r#"{"min_rows":1000}"#;

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

/// A named call, for [`min_table`].
type Case<'a> = (&'static str, Box<dyn FnMut() + 'a>);

/// With `DATASLO_FLOOR_MIN=1`: the cases run in turns, in batches of 100
/// calls, for 300 turns, and each prints its fastest batch's mean (and the
/// median batch's). On a busy
/// machine the fastest batch is the one least disturbed, so these minimums
/// compare where criterion's medians (spread 2-3x under load) cannot.
fn min_table(mut cases: Vec<Case<'_>>) {
    const BATCH: u32 = 100;
    let mut means = vec![Vec::new(); cases.len()];
    for _ in 0..300 {
        for ((_, run), means) in cases.iter_mut().zip(&mut means) {
            let started = std::time::Instant::now();
            (0..BATCH).for_each(|_| run());
            means.push(started.elapsed() / BATCH);
        }
    }
    for ((name, _), mut means) in cases.iter().zip(means) {
        means.sort();
        println!(
            "min/{name:<40} {:>9.2?} (median batch {:.2?})",
            means[0],
            means[means.len() / 2]
        );
    }
}

/// `tests/fixtures/lower-only` built as the built-ins are (no WASI), kept
/// under `target/bench-guests/` (cargo rebuilds only what changed).
fn lower_only_bytes() -> Vec<u8> {
    use dataslo_wasm_build::{Shape, build_as, guests_in};
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let guest = guests_in(&ws.join("tests/fixtures"), "fixture-")
        .into_iter()
        .find(|(name, _)| name == "lower-only")
        .map(|(_, guest)| guest)
        .expect("tests/fixtures/lower-only");
    let target = ws.join("target/bench-guests/no-wasi");
    let paths = build_as(&ws, &[guest], &target, Shape::NoWasi).expect("builds lower-only");
    std::fs::read(&paths[0]).expect("reads lower-only")
}

/// dataslo's fresh and reused `builtin:volume` beside plain wasmtime's
/// floors (see the module doc).
fn volume_floors(c: &mut Criterion) {
    let runtime = Runtime::new(Limits::default()).expect("runtime");
    let policy = runtime.load_builtin("volume").expect("built-in volume");
    let freshness_policy = runtime.load_builtin("freshness").expect("freshness");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/orders.json"
    ))
    .expect("example");
    let observation = parse_observation(&text, "orders.json").expect("example parses");
    assert!(
        observation.run_state.is_none(),
        "plain::observation maps none"
    );
    let now: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().expect("timestamp");
    let now_nanos = now.as_nanosecond() as i64;
    let input = || EvaluationInput {
        config: ROWS_CONFIG,
        observation: &observation,
        history: no_history(),
        now,
        limits: None,
    };
    let mut session = runtime.session(&policy, None).expect("session");

    let mut config = EngineOptions::default().wasmtime_config();
    // `DATASLO_PERFMAP=1`: /tmp/perf-PID.map names the guests' functions
    // for `perf report` (plain wasmtime's engine only).
    if std::env::var_os("DATASLO_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = wasmtime::Engine::new(&config).expect("engine");
    let volume_bytes = dataslo::runtime::builtin_bytes("volume").expect("volume");
    let volume = plain::Plain::new(&engine, volume_bytes);
    let lower_only = plain::Plain::new(&engine, &lower_only_bytes());
    // E1's own check too, so E1 has its floor beside it.
    let freshness = plain::Plain::new(
        &engine,
        dataslo::runtime::builtin_bytes("freshness").expect("freshness"),
    );
    let empty = empty::pre(&engine);
    let wit_observation = plain::observation(&observation);

    // Plain wasmtime must give dataslo's answer, or the floor is not one.
    let dataslo = runtime.evaluate(&policy, input()).expect("evaluates");
    let answer = volume.fresh(ROWS_CONFIG, &wit_observation, now_nanos);
    assert_eq!(answer.len(), 1);
    assert_eq!(dataslo.measurements[0].detail, answer[0].detail);
    assert_eq!(dataslo.measurements[0].good, answer[0].good);
    // And for E1's check.
    let freshness_input = || EvaluationInput {
        config: CONFIG,
        ..input()
    };
    let dataslo = runtime
        .evaluate(&freshness_policy, freshness_input())
        .expect("evaluates");
    let answer = freshness.fresh(CONFIG, &wit_observation, now_nanos);
    assert_eq!(dataslo.measurements[0].detail, answer[0].detail);

    if std::env::var_os("DATASLO_FLOOR_MIN").is_some() {
        let plain_session = |plain: &plain::Plain| {
            let mut store = plain.store();
            let instance = plain.pre.instantiate(&mut store).expect("instantiates");
            (store, instance)
        };
        let (volume, lower) = (&volume, &lower_only);
        let (mut vs, vi) = plain_session(volume);
        let (mut ls, li) = plain_session(lower);
        let obs = &wit_observation;
        let fresh_with = |plain: &plain::Plain, config: &str| {
            black_box(plain.fresh(config, obs, now_nanos));
        };
        let fresh = |plain: &plain::Plain| fresh_with(plain, ROWS_CONFIG);
        let freshness = &freshness;
        let mut session = runtime.session(&policy, None).expect("session");
        let cases: Vec<Case<'_>> = vec![
            (
                "floor_freshness/fresh_instance",
                Box::new(|| {
                    let evaluation = runtime.evaluate(&freshness_policy, freshness_input());
                    black_box(evaluation.expect("evaluates"));
                }),
            ),
            (
                "wasmtime_floor/freshness_fresh",
                Box::new(move || fresh_with(freshness, CONFIG)),
            ),
            (
                "floor_volume/fresh_instance",
                Box::new(|| {
                    black_box(runtime.evaluate(&policy, input()).expect("evaluates"));
                }),
            ),
            (
                "floor_volume/reused_instance",
                Box::new(move || {
                    black_box(session.evaluate(input()).expect("evaluates"));
                }),
            ),
            (
                "wasmtime_floor/volume_fresh",
                Box::new(move || fresh(volume)),
            ),
            (
                "wasmtime_floor/volume_reused",
                Box::new(move || {
                    black_box(plain::evaluate(&mut vs, &vi, ROWS_CONFIG, obs, now_nanos));
                }),
            ),
            (
                "wasmtime_floor/lower_only_fresh",
                Box::new(move || fresh(lower)),
            ),
            (
                "wasmtime_floor/lower_only_reused",
                Box::new(move || {
                    black_box(plain::evaluate(&mut ls, &li, ROWS_CONFIG, obs, now_nanos));
                }),
            ),
            (
                "wasmtime_floor/lower_only_instantiate",
                Box::new(move || {
                    let mut store = lower.store();
                    black_box(lower.pre.instantiate(&mut store).expect("instantiates"));
                }),
            ),
            (
                "wasmtime_floor/empty_component",
                Box::new(|| empty::run_once(&engine, &empty)),
            ),
        ];
        min_table(cases);
    }

    // `DATASLO_FLOOR_ALTS=a.wasm,b.wasm`: components built elsewhere (say,
    // a built-in with another detail text), fresh instances on plain
    // wasmtime, in turns beside the built-in freshness on plain wasmtime
    // and on dataslo.
    if let Ok(list) = std::env::var("DATASLO_FLOOR_ALTS") {
        let alts: Vec<(&'static str, plain::Plain)> = list
            .split(',')
            .map(|p| {
                let name: &'static str = Box::leak(p.to_string().into_boxed_str());
                (
                    name,
                    plain::Plain::new(&engine, &std::fs::read(p).expect("alt")),
                )
            })
            .collect();
        let obs = &wit_observation;
        let plain_freshness = &freshness;
        let mut cases: Vec<Case<'_>> = vec![(
            "wasmtime_floor/freshness_fresh",
            Box::new(move || {
                black_box(plain_freshness.fresh(CONFIG, obs, now_nanos));
            }),
        )];
        cases.push((
            "dataslo_freshness_fresh",
            Box::new(|| {
                let evaluation = runtime.evaluate(&freshness_policy, freshness_input());
                black_box(evaluation.expect("evaluates"));
            }),
        ));
        for (name, alt) in &alts {
            cases.push((
                name,
                Box::new(move || {
                    black_box(alt.fresh(CONFIG, obs, now_nanos));
                }),
            ));
        }
        min_table(cases);
    }

    let mut group = c.benchmark_group("floor_volume");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("fresh_instance", |b| {
        b.iter(|| black_box(runtime.evaluate(&policy, input()).expect("evaluates")))
    });
    group.bench_function("reused_instance", |b| {
        b.iter(|| black_box(session.evaluate(input()).expect("evaluates")))
    });
    group.finish();

    let mut group = c.benchmark_group("wasmtime_floor");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let guests = [
        ("volume", &volume, ROWS_CONFIG),
        ("lower_only", &lower_only, ROWS_CONFIG),
        ("freshness", &freshness, CONFIG),
    ];
    for (name, plain, config) in guests {
        group.bench_function(format!("{name}_fresh"), |b| {
            b.iter(|| black_box(plain.fresh(black_box(config), &wit_observation, now_nanos)))
        });
        let mut store = plain.store();
        let instance = plain.pre.instantiate(&mut store).expect("instantiates");
        group.bench_function(format!("{name}_reused"), |b| {
            b.iter(|| {
                let config = black_box(config);
                black_box(plain::evaluate(
                    &mut store,
                    &instance,
                    config,
                    &wit_observation,
                    now_nanos,
                ))
            })
        });
    }
    // Instantiation alone (store, instance, drop; no call): splits
    // `lower_only_fresh` into instantiating and calling.
    group.bench_function("lower_only_instantiate", |b| {
        b.iter(|| {
            let mut store = lower_only.store();
            black_box(
                lower_only
                    .pre
                    .instantiate(&mut store)
                    .expect("instantiates"),
            );
        })
    });
    group.bench_function("empty_component", |b| {
        b.iter(|| empty::run_once(&engine, &empty))
    });
    group.finish();
}

criterion_group!(benches, floor, volume_floors);
criterion_main!(benches);
