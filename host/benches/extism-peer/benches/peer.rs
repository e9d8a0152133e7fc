//! E3: dataslo against Extism on the same check (`builtin:freshness` on
//! `examples/orders.json`), in one run so the ratios can be compared:
//!
//! - `fresh_instance/extism`: `Plugin::new_from_compiled` (a new store, link
//!   and instance from a pre-compiled `CompiledPlugin`, Extism's cheapest way
//!   to a fresh instance) and one `call`; input and output as JSON.
//! - `fresh_instance/dataslo`: `Runtime::evaluate`.
//! - `reused_instance/extism`: `Plugin::call` on one plugin, again and again.
//! - `reused_instance/dataslo`: `Session::evaluate` on one session.
//!
//! Both sandboxes get comparable limits: a 100 ms timeout and 64 MiB of memory.
//! The Extism side serialises the observation to JSON on every call (that is
//! how an Extism host passes structured data) and deserialises the answer.
//!
//! `./run.sh` (builds the plugin, then `cargo bench`; add `-- --quick`)

use criterion::{Criterion, criterion_group, criterion_main};
use dataslo::model::{Measurement, Observation, parse_observation};
use dataslo::runtime::{EvaluationInput, History, Limits, Runtime, no_history};
use dataslo_extism_peer::{Input, input_json, plugin_path};
use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, Wasm};
use std::hint::black_box;
use std::time::Duration;

// The same allocator as the `dataslo` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONFIG: &str = r#"{"max_age":"2h"}"#;
const FUNCTION: &str = "freshness";

/// One Extism call: serialise the input, call, read the measurement.
fn extism_call(plugin: &mut Plugin, config: &str, now: i64, obs: &Observation) -> Measurement {
    let input = input_json(&Input {
        config,
        now,
        observation: obs,
    });
    let output: &[u8] = plugin
        .call(FUNCTION, input.as_slice())
        .expect("plugin call");
    serde_json::from_slice(output).expect("a measurement")
}

fn peer(c: &mut Criterion) {
    let limits = Limits::default();
    let runtime = Runtime::new(limits.clone()).expect("runtime");
    let policy = runtime
        .load_builtin("freshness")
        .expect("built-in freshness");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../examples/orders.json"
    ))
    .expect("example");
    let observation = parse_observation(&text, "orders.json").expect("example parses");
    let now: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().expect("timestamp");
    let now_nanos = i64::try_from(now.as_nanosecond()).expect("in range");
    let history: History = no_history();
    let input = || EvaluationInput {
        config: CONFIG,
        observation: &observation,
        history: history.clone(),
        now,
        limits: None,
    };

    let wasm = std::fs::read(plugin_path())
        .unwrap_or_else(|e| panic!("{}: {e}; build it with ./run.sh", plugin_path().display()));
    let pages = u32::try_from(limits.memory_bytes / 65536).expect("pages");
    let manifest = Manifest::new([Wasm::data(wasm)])
        .with_timeout(limits.deadline)
        .with_memory_max(pages);
    let compiled = CompiledPlugin::new(
        PluginBuilder::new(manifest)
            .with_wasi(false)
            .with_cache_disabled(),
    )
    .expect("plugin compiles");
    let mut plugin = Plugin::new_from_compiled(&compiled).expect("plugin");
    let mut session = runtime.session(&policy, None).expect("session");

    // Both must give dataslo's answer, or the comparison means nothing.
    let expected = runtime
        .evaluate(&policy, input())
        .expect("evaluates")
        .measurements;
    assert_eq!(
        vec![extism_call(&mut plugin, CONFIG, now_nanos, &observation)],
        expected
    );
    assert_eq!(
        session.evaluate(input()).expect("evaluates").measurements,
        expected
    );

    let mut group = c.benchmark_group("peer_fresh_instance");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("extism", |b| {
        b.iter(|| {
            let mut fresh = Plugin::new_from_compiled(&compiled).expect("plugin");
            black_box(extism_call(&mut fresh, CONFIG, now_nanos, &observation))
        })
    });
    group.bench_function("dataslo", |b| {
        b.iter(|| black_box(runtime.evaluate(&policy, input()).expect("evaluates")))
    });
    group.finish();

    let mut group = c.benchmark_group("peer_reused_instance");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("extism", |b| {
        b.iter(|| black_box(extism_call(&mut plugin, CONFIG, now_nanos, &observation)))
    });
    group.bench_function("dataslo", |b| {
        b.iter(|| black_box(session.evaluate(input()).expect("evaluates")))
    });
    group.finish();
}

criterion_group!(benches, peer);
criterion_main!(benches);
