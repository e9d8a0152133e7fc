//! E1: one isolated evaluation of `builtin:freshness` (a fresh store,
//! instantiation from the pre-instance, `evaluate`) through the public API,
//! under each instance allocator: pooling with copy-on-write memory
//! initialisation, pooling without it, and on-demand.
//!
//! Criterion reports the median; `tail/*` then times `DATASLO_TAIL_N`
//! (default 10,000) single evaluations per mode with `Instant` and prints
//! p50, p99 and max, which criterion's per-batch samples cannot show.
//!
//! `guest_evaluate/*`: the per-evaluation cost of one row-count check in
//! Rust (`builtin:volume`), JavaScript and Python (`dataslo new`'s policy,
//! built by `support/guests.rs`), on the same observation and config, in a
//! fresh instance (`fresh_instance`) and in a reused one (`session`).
//!
//! `wasmtime_floor/empty_component` is the reference: what wasmtime itself
//! costs for the same steps (a store, an instance from the pool, one call,
//! the store dropped) on a component that does nothing, with dataslo's engine
//! config, in the same run.
//!
//! `cargo bench -p dataslo --bench evaluation` (add `-- --quick` for a fast run)

use criterion::{Criterion, criterion_group, criterion_main};
use dataslo::model::{Observation, parse_observation};
use dataslo::runtime::{
    EngineOptions, EvaluationInput, History, Limits, Policy, Runtime, no_history,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "support/empty.rs"]
mod empty;
#[path = "support/guests.rs"]
mod guests;

// The same allocator as the `dataslo` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONFIG: &str = r#"{"max_age":"2h"}"#;
/// The row-count check's config, in every language.
const ROWS_CONFIG: &str = r#"{"min_rows":1000}"#;

/// The three engines compared, named as in the report.
fn modes() -> [(&'static str, EngineOptions); 3] {
    [
        ("pooling_cow", EngineOptions::default()),
        (
            "pooling_no_cow",
            EngineOptions {
                copy_on_write: false,
                ..EngineOptions::default()
            },
        ),
        ("on_demand", EngineOptions::on_demand()),
    ]
}

struct Setup {
    runtime: Runtime,
    policy: Policy,
    observation: Observation,
    now: jiff::Timestamp,
    history: History,
}

impl Setup {
    fn new(options: EngineOptions) -> Self {
        let runtime = Runtime::with_engine(Limits::default(), options).expect("runtime");
        let policy = runtime
            .load_builtin("freshness")
            .expect("built-in freshness");
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/orders.json"
        ))
        .expect("example");
        Setup {
            runtime,
            policy,
            observation: parse_observation(&text, "orders.json").expect("example parses"),
            now: "2026-11-26T08:00:00Z".parse().expect("timestamp"),
            history: no_history(),
        }
    }

    fn input<'a>(&'a self, config: &'a str) -> EvaluationInput<'a> {
        EvaluationInput {
            config,
            observation: &self.observation,
            history: self.history.clone(),
            now: self.now,
            limits: None,
        }
    }

    fn evaluate(&self) {
        black_box(
            self.runtime
                .evaluate(&self.policy, self.input(CONFIG))
                .expect("evaluates"),
        );
    }
}

fn fresh_instance_evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("freshness_fresh_instance_evaluate");
    for (name, options) in modes() {
        let setup = Setup::new(options);
        group.bench_function(name, |b| b.iter(|| setup.evaluate()));
    }
    group.finish();
}

/// wasmtime's floor for one fresh instance, beside dataslo's (see the module doc).
fn wasmtime_floor(c: &mut Criterion) {
    let engine =
        wasmtime::Engine::new(&EngineOptions::default().wasmtime_config()).expect("engine");
    let pre = empty::pre(&engine);
    let mut group = c.benchmark_group("wasmtime_floor");
    group.bench_function("empty_component", |b| {
        b.iter(|| empty::run_once(&engine, &pre))
    });
    group.finish();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// p50/p99/max of single evaluations, timed one by one.
fn tail_latency(_: &mut Criterion) {
    let n: usize = std::env::var("DATASLO_TAIL_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    for (name, options) in modes() {
        let setup = Setup::new(options);
        (0..n / 10).for_each(|_| setup.evaluate()); // warm-up
        let mut times: Vec<Duration> = (0..n)
            .map(|_| {
                let started = Instant::now();
                setup.evaluate();
                started.elapsed()
            })
            .collect();
        times.sort_unstable();
        println!(
            "tail/{name:<15} n={n}  p50 {:>8.2?}  p99 {:>8.2?}  max {:>8.2?}",
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            times[n - 1],
        );
    }
}

/// The row-count check in each language, fresh and reused.
fn guest_evaluation(c: &mut Criterion) {
    // A cache kept under target/, so that a rerun does not compile the
    // guests again (seconds each).
    let options = EngineOptions {
        cache_dir: Some(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-guests/cache").into(),
        ),
        ..EngineOptions::default()
    };
    let setup = Setup::new(options);
    let mut policies = vec![(
        "rust",
        setup
            .runtime
            .load_builtin("volume")
            .expect("built-in volume"),
    )];
    for guest in guests::guests() {
        let policy = setup
            .runtime
            .load(guest.lang, &guest.bytes)
            .expect("the guest loads");
        policies.push((guest.lang, policy));
    }
    let mut group = c.benchmark_group("guest_evaluate");
    for (lang, policy) in &policies {
        let answer = setup
            .runtime
            .evaluate(policy, setup.input(ROWS_CONFIG))
            .expect("evaluates");
        assert_eq!(answer.measurements[0].good, 1, "{lang}: {answer:?}");
        group.bench_function(format!("{lang}/fresh_instance"), |b| {
            b.iter(|| {
                black_box(
                    setup
                        .runtime
                        .evaluate(policy, setup.input(ROWS_CONFIG))
                        .expect("evaluates"),
                )
            })
        });
        let mut session = setup.runtime.session(policy, None).expect("a session");
        group.bench_function(format!("{lang}/session"), |b| {
            b.iter(|| {
                black_box(
                    session
                        .evaluate(setup.input(ROWS_CONFIG))
                        .expect("evaluates"),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    fresh_instance_evaluation,
    wasmtime_floor,
    tail_latency,
    guest_evaluation
);
criterion_main!(benches);
