//! E5: cold start. Loading a built-in (compile or deserialize, check the
//! interface, pre-instantiate, call `describe()`) with a cold compile versus
//! a hit in the on-disk compile cache; per built-in and for all of them; and
//! building the engine itself under each allocator.
//!
//! `cargo bench -p dataslo --bench cold_start` (add `-- --quick` for a fast run)

use criterion::{Criterion, criterion_group, criterion_main};
use dataslo::runtime::{EngineOptions, Limits, Runtime, builtin_names};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn runtime(cache: Option<&Path>) -> Runtime {
    let options = EngineOptions {
        cache_dir: cache.map(Path::to_path_buf),
        ..EngineOptions::default()
    };
    Runtime::with_engine(Limits::default(), options).expect("runtime")
}

fn load_all(runtime: &Runtime) {
    for name in builtin_names() {
        black_box(runtime.load_builtin(name).expect("built-in"));
    }
}

fn cold_start(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache");
    // Fill the cache once; every `cache_hit` below must then compile nothing.
    load_all(&runtime(Some(&cache)));
    let compiling = runtime(None);
    let warm = runtime(Some(&cache));

    let mut group = c.benchmark_group("cold_start");
    // Compiling takes tens to hundreds of milliseconds: few samples suffice.
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    for name in builtin_names() {
        group.bench_function(format!("{name}/compile"), |b| {
            b.iter(|| black_box(compiling.load_builtin(name).expect("built-in")))
        });
        group.bench_function(format!("{name}/cache_hit"), |b| {
            b.iter(|| black_box(warm.load_builtin(name).expect("built-in")))
        });
    }
    group.bench_function("all_builtins/compile", |b| b.iter(|| load_all(&compiling)));
    group.bench_function("all_builtins/cache_hit", |b| b.iter(|| load_all(&warm)));
    group.finish();
    let stats = warm.cache_stats();
    assert_eq!(stats.compiled, 0, "a cache hit compiled: {stats:?}");

    let mut group = c.benchmark_group("engine_start");
    group.sample_size(10);
    for (name, options) in [
        ("pooling", EngineOptions::default()),
        ("on_demand", EngineOptions::on_demand()),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(Runtime::with_engine(Limits::default(), options.clone())))
        });
    }
    group.finish();
}

criterion_group!(benches, cold_start);
criterion_main!(benches);
