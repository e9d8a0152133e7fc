//! One isolated evaluation of `builtin:freshness`: a fresh store, instantiation
//! from the cached pre-instance, and `evaluate`, through the public API.
//!
//! `cargo bench -p dataslo --bench evaluation`

use criterion::{Criterion, criterion_group, criterion_main};
use dataslo::model::parse_observation;
use dataslo::runtime::{EvaluationInput, Limits, Runtime};
use std::hint::black_box;
use std::sync::Arc;

// The same allocator as the `dataslo` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fresh_instance_evaluation(c: &mut Criterion) {
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
    let history: Arc<[_]> = Arc::from(Vec::new());
    let config = r#"{"max_age":"2h"}"#;

    c.bench_function("freshness/fresh_instance_evaluate", |b| {
        b.iter(|| {
            let input = EvaluationInput {
                config,
                observation: &observation,
                history: history.clone(),
                now,
                limits: None,
            };
            black_box(runtime.evaluate(&policy, input).expect("evaluates"))
        })
    });
}

criterion_group!(benches, fresh_instance_evaluation);
criterion_main!(benches);
