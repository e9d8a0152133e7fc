//! E1: one isolated evaluation of `builtin:freshness` (a fresh store,
//! instantiation from the pre-instance, `evaluate`) through the public API,
//! under each instance allocator: pooling with copy-on-write memory
//! initialisation, pooling without it, and on-demand.
//!
//! Criterion reports the median; `tail/*` then times `DATASLO_TAIL_N`
//! (default 10,000) single evaluations per mode with `Instant` and prints
//! p50, p99 and max, which criterion's per-batch samples cannot show.
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

// The same allocator as the `dataslo` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONFIG: &str = r#"{"max_age":"2h"}"#;

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

    fn evaluate(&self) {
        let input = EvaluationInput {
            config: CONFIG,
            observation: &self.observation,
            history: self.history.clone(),
            now: self.now,
            limits: None,
        };
        black_box(
            self.runtime
                .evaluate(&self.policy, input)
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

/// An empty component in the shape of a guest: one core instance, a memory
/// as large as a Rust guest's first one (17 pages), one exported function.
const EMPTY_COMPONENT: &str = r#"(component
  (core module $m
    (memory (export "memory") 17)
    (func (export "run")))
  (core instance $i (instantiate $m))
  (func (export "run") (canon lift (core func $i "run"))))"#;

/// wasmtime's floor for one fresh instance, beside dataslo's (see the module doc).
fn wasmtime_floor(c: &mut Criterion) {
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Engine, Store};
    let engine = Engine::new(&EngineOptions::default().wasmtime_config()).expect("engine");
    let bytes = wat::parse_str(EMPTY_COMPONENT).expect("wat");
    let component = Component::new(&engine, bytes).expect("component");
    let pre = Linker::<()>::new(&engine)
        .instantiate_pre(&component)
        .expect("pre-instantiates");
    let mut group = c.benchmark_group("wasmtime_floor");
    group.bench_function("empty_component", |b| {
        b.iter(|| {
            let mut store = Store::new(&engine, ());
            store.set_epoch_deadline(1 << 40);
            let instance = pre.instantiate(&mut store).expect("instantiates");
            let run = instance
                .get_typed_func::<(), ()>(&mut store, "run")
                .expect("run");
            run.call(&mut store, ()).expect("runs");
            black_box(store)
        })
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

criterion_group!(
    benches,
    fresh_instance_evaluation,
    wasmtime_floor,
    tail_latency
);
criterion_main!(benches);
