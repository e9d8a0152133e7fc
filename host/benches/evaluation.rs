//! E1: one isolated evaluation of `builtin:freshness` (a fresh store,
//! instantiation from the pre-instance, `evaluate`) through the public API,
//! under each instance allocator: pooling with copy-on-write memory
//! initialisation, pooling without it, and on-demand.
//!
//! Criterion reports the median; `tail/*` then times `DATASLO_TAIL_N`
//! (default 10,000) single evaluations per mode with `Instant` and prints
//! p50, p99 and max, which criterion's per-batch samples cannot show.
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

criterion_group!(benches, fresh_instance_evaluation, tail_latency);
criterion_main!(benches);
