//! E5: cold start. Loading a built-in (compile or deserialize, check the
//! interface, pre-instantiate, call `describe()`) with a cold compile versus
//! a hit in the on-disk compile cache; per built-in and for all of them; and
//! building the engine itself under each allocator.
//!
//! `cold_start_guests/*`: the same for the JavaScript and Python guests
//! (`dataslo new`'s row-count policy, 12 and 18 MB components, built by
//! `support/guests.rs`): one compile, timed once and printed (it takes
//! seconds), then a cache hit measured by criterion, beside the sha256 of
//! the component's bytes that every load computes (its floor).
//!
//! `cargo bench -p dataslo --bench cold_start` (add `-- --quick` for a fast run)

use criterion::{Criterion, criterion_group, criterion_main};
use dataslo::runtime::{EngineOptions, Limits, Runtime, builtin_names};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "support/guests.rs"]
mod guests;

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

/// A JavaScript or Python guest: compile once (timed), store it in the
/// cache, then load it from there.
fn guest_cold_start(c: &mut Criterion) {
    let guests = guests::guests();
    if guests.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let warm = runtime(Some(&dir.path().join("cache")));
    let mut group = c.benchmark_group("cold_start_guests");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    for guest in &guests {
        let started = Instant::now();
        let component = warm.compile(&guest.bytes).expect("the guest compiles");
        println!(
            "cold_start_guests/{}/compile  {:.2?} (one run, {:.1} MB component)",
            guest.lang,
            started.elapsed(),
            guest.bytes.len() as f64 / 1e6
        );
        let sha256: [u8; 32] = Sha256::digest(&guest.bytes).into();
        let cache = warm.cache().expect("the cache is in use");
        cache.put(&sha256, &component).expect("store the guest");
        group.bench_function(format!("{}/cache_hit", guest.lang), |b| {
            b.iter(|| {
                black_box(
                    warm.load(guest.lang, &guest.bytes)
                        .expect("the guest loads"),
                )
            })
        });
        // The floor of a hit: the component's sha256 names it (the cache key,
        // and the digest the ledger records), so every load hashes it.
        group.bench_function(format!("{}/sha256_of_component", guest.lang), |b| {
            b.iter(|| black_box(Sha256::digest(&guest.bytes)))
        });
    }
    group.finish();
    let stats = warm.cache_stats();
    assert_eq!(
        stats.compiled,
        guests.len() as u64,
        "a cache hit compiled: {stats:?}"
    );
}

criterion_group!(benches, cold_start, guest_cold_start);
criterion_main!(benches);
