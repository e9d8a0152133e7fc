//! E4: evaluations per second on 1 and 2 worker threads, over three built-in
//! policies and four tenants sharing one executor; first the evaluations
//! alone, then through each tenant's scheduler with durable ledger writes
//! (records, buckets, a flush per ingest before it is acknowledged); then
//! sled's floor under it: the same writes with sled alone; then the two
//! floors together: sled's writes with the evaluations between them.
//!
//! `cargo bench -p dataslo --bench throughput`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dataslo::executor::Executor;
use dataslo::ledger::Ledger;
use dataslo::model::{Observation, parse_observation};
use dataslo::runtime::{EvaluationInput, Known, Limits, Policy, Runtime, no_history};
use dataslo::scheduler::Scheduler;
use dataslo::service::{SchedulerSettings, assemble};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[path = "support/sled_floor.rs"]
mod sled_floor;
use sled_floor::{FloorTenant, LAYOUT_BEFORE, LAYOUT_INDEX_PER_RECORD, LAYOUT_NOW, Layout};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];
/// (built-in, config) of the three checks every tenant runs.
const CHECKS: [(&str, &str); 3] = [
    ("freshness", r#"{"max_age":"2h"}"#),
    ("volume", r#"{"min_rows":1000}"#),
    (
        "null-rate",
        r#"{"columns":["customer_email"],"max_null_fraction":0.01}"#,
    ),
];
const CHECK_NAMES: [&str; 3] = [CHECKS[0].0, CHECKS[1].0, CHECKS[2].0];
const PER_TENANT: usize = 300;

fn example() -> Observation {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/orders.json"
    ))
    .expect("example");
    parse_observation(&text, "orders.json").expect("parses")
}

/// A group whose iteration is every tenant's [`PER_TENANT`] evaluations.
fn iteration_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements((TENANTS.len() * PER_TENANT) as u64));
    group.sample_size(10);
    group
}

type Checks = Arc<Vec<(Policy, &'static str)>>;

/// The runtime and the three checks, loaded.
fn checks() -> (Arc<Runtime>, Checks) {
    let runtime = Arc::new(Runtime::new(Limits::default()).expect("runtime"));
    let policies = CHECKS
        .iter()
        .map(|(name, config)| (runtime.load_builtin(name).expect("built-in"), *config))
        .collect();
    (runtime, Arc::new(policies))
}

/// One tenant's [`PER_TENANT`] evaluations of `observation`, the checks in
/// turn, with no history: each says whether it ran.
fn evaluation_jobs(
    runtime: &Arc<Runtime>,
    policies: &Checks,
    observation: &Arc<Observation>,
) -> Vec<impl FnOnce() -> bool + Send + 'static> {
    (0..PER_TENANT)
        .map(|i| {
            let (runtime, policies, observation) =
                (runtime.clone(), policies.clone(), observation.clone());
            move || {
                let (policy, config) = &policies[i % policies.len()];
                let input = EvaluationInput {
                    config,
                    observation: &observation,
                    history: no_history(),
                    now: observation.observed_at,
                    limits: None,
                };
                runtime.evaluate(policy, input).is_ok()
            }
        })
        .collect()
}

fn evaluations_alone(c: &mut Criterion) {
    // As the `dataslo` binary runs.
    dataslo::process::without_huge_pages();
    let (runtime, policies) = checks();
    let observation = Arc::new(example());
    let mut group = iteration_group(c, "throughput/evaluations_only");
    for workers in [1, 2] {
        let executor = Arc::new(Executor::new(workers).expect("executor"));
        group.bench_function(format!("{workers}_workers"), |b| {
            b.iter(|| {
                let callers: Vec<_> = TENANTS
                    .iter()
                    .map(|tenant| {
                        let (executor, runtime, policies, observation) = (
                            executor.clone(),
                            runtime.clone(),
                            policies.clone(),
                            observation.clone(),
                        );
                        std::thread::spawn(move || {
                            executor
                                .run_all(tenant, evaluation_jobs(&runtime, &policies, &observation))
                        })
                    })
                    .collect();
                for caller in callers {
                    assert!(caller.join().expect("caller").into_iter().all(|ok| ok));
                }
            })
        });
    }
    group.finish();
}

fn slos_yaml(tenant: &str) -> String {
    CHECKS
        .iter()
        .map(|(name, config)| {
            let sli = match *name {
                "null-rate" => "null_rate:customer_email",
                other => other,
            };
            format!(
                r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: {tenant}-{name} }}
spec:
  indicator:
    metadata: {{ name: x }}
    spec:
      ratioMetric:
        good: {{ metricSource: {{ type: dataslo, spec: {{}} }} }}
        total: {{ metricSource: {{ type: dataslo, spec: {{ dataset: {{ namespace: "postgres://prod:5432", name: "analytics.orders" }}, policy: "builtin:{name}", config: {config}, sli: "{sli}", trigger: observation }} }} }}
  timeWindow: [{{ duration: 28d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ target: 0.99 }}]
"#
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

fn with_durable_ledger(c: &mut Criterion) {
    // As the `dataslo` binary runs.
    dataslo::process::without_huge_pages();
    let runtime = Arc::new(Runtime::new(Limits::default()).expect("runtime"));
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::open(dir.path(), "default", 100).expect("ledger");
    let base = example();
    let clock = Arc::new(AtomicI64::new(1_780_000_000));
    let batch = PER_TENANT / CHECKS.len();
    let mut group = iteration_group(c, "throughput/durable_ledger");
    for workers in [1, 2] {
        let executor = Arc::new(Executor::new(workers).expect("executor"));
        let schedulers: Vec<Arc<Scheduler>> = TENANTS
            .iter()
            .map(|tenant| {
                let catalog = dataslo::slo::parse_text(&slos_yaml(tenant), "bench.yaml");
                assert!(catalog.errors.is_empty(), "{:?}", catalog.errors);
                let settings = SchedulerSettings {
                    history_depth: 100,
                    executor: Some(executor.clone()),
                    durable: true,
                    ..SchedulerSettings::default()
                };
                let ledger = ledger.for_tenant(tenant).expect("tenant");
                let slos = catalog.slos;
                let files = Some(Path::new("."));
                let s = assemble(&runtime, ledger, slos, Known::new(), files, settings)
                    .unwrap_or_else(|errors| panic!("{errors:?}"));
                Arc::new(s)
            })
            .collect();
        group.bench_function(format!("{workers}_workers"), |b| {
            b.iter_batched(
                || {
                    // New observations each time: replays would be skipped.
                    (0..TENANTS.len())
                        .map(|_| {
                            (0..batch)
                                .map(|_| {
                                    let mut obs = base.clone();
                                    let t = clock.fetch_add(1, Ordering::Relaxed);
                                    obs.observed_at =
                                        jiff::Timestamp::from_second(t).expect("time");
                                    obs
                                })
                                .collect::<Vec<_>>()
                        })
                        .collect::<Vec<_>>()
                },
                |batches| {
                    let callers: Vec<_> = schedulers
                        .iter()
                        .zip(batches)
                        .map(|(s, batch)| {
                            let s = s.clone();
                            std::thread::spawn(move || s.ingest(&batch).expect("ingest").1)
                        })
                        .collect();
                    for caller in callers {
                        let pass = caller.join().expect("caller");
                        assert_eq!(pass.recorded, PER_TENANT);
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// The floor of E4 durable: what its evaluations write, written with sled
/// alone by four threads (one per tenant) into one database, as E4's
/// callers do. E4 / this is the share of sled's own cost.
fn sled_floor(c: &mut Criterion) {
    // As the `dataslo` binary runs.
    dataslo::process::without_huge_pages();
    let mut group = iteration_group(c, "throughput/sled_floor");
    let clock = Arc::new(AtomicI64::new(1_780_000_000));
    let unflushed = Layout {
        flushed: false,
        ..LAYOUT_NOW
    };
    let grouped = Layout {
        records_grouped: true,
        ..LAYOUT_NOW
    };
    for (name, layout) in [
        ("now", LAYOUT_NOW),
        ("index_per_record", LAYOUT_INDEX_PER_RECORD),
        ("before", LAYOUT_BEFORE),
        ("now_unflushed", unflushed),
        ("records_grouped", grouped),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new().path(dir.path()).open().expect("sled");
        let tenants: Vec<_> = TENANTS
            .iter()
            .map(|t| {
                Arc::new(std::sync::Mutex::new(FloorTenant::open(
                    &db,
                    t,
                    &CHECK_NAMES,
                )))
            })
            .collect();
        let batch = PER_TENANT / CHECKS.len();
        group.bench_function(name, |b| {
            b.iter(|| {
                let callers: Vec<_> = tenants
                    .iter()
                    .map(|tenant| {
                        let (tenant, db) = (tenant.clone(), db.clone());
                        let from = clock.fetch_add(batch as i64, Ordering::Relaxed);
                        std::thread::spawn(move || {
                            let times: Vec<i64> = (from..from + batch as i64).collect();
                            tenant
                                .lock()
                                .expect("tenant")
                                .step(&db, layout, &times, || {});
                        })
                    })
                    .collect();
                for caller in callers {
                    caller.join().expect("caller");
                }
            })
        });
    }
    group.finish();
}

/// The floor of E4 durable with its evaluations: sled's floor above, with
/// each tenant's evaluations (wasmtime through dataslo's runtime, as
/// `evaluations_only`) run on the executor between its append and its
/// records, as E4 runs them. No scheduler, no ledger code: E4 / this is the
/// share of what the two dependencies cost together on the same cores.
fn sled_and_evaluations_floor(c: &mut Criterion) {
    // As the `dataslo` binary runs.
    dataslo::process::without_huge_pages();
    let (runtime, policies) = checks();
    let observation = Arc::new(example());
    let mut group = iteration_group(c, "throughput/sled_and_evaluations_floor");
    let clock = Arc::new(AtomicI64::new(1_780_000_000));
    let batch = PER_TENANT / CHECKS.len();
    let grouped = Layout {
        records_grouped: true,
        ..LAYOUT_NOW
    };
    for (workers, layout, suffix) in [
        (1, LAYOUT_NOW, ""),
        (2, LAYOUT_NOW, ""),
        (2, LAYOUT_INDEX_PER_RECORD, "_index_per_record"),
        (2, grouped, "_records_grouped"),
    ] {
        let executor = Arc::new(Executor::new(workers).expect("executor"));
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new().path(dir.path()).open().expect("sled");
        let tenants: Vec<_> = TENANTS
            .iter()
            .map(|t| {
                Arc::new(std::sync::Mutex::new(FloorTenant::open(
                    &db,
                    t,
                    &CHECK_NAMES,
                )))
            })
            .collect();
        group.bench_function(format!("{workers}_workers{suffix}"), |b| {
            b.iter(|| {
                let callers: Vec<_> = tenants
                    .iter()
                    .zip(TENANTS)
                    .map(|(tenant, name)| {
                        let (tenant, db) = (tenant.clone(), db.clone());
                        let (executor, runtime, policies, observation) = (
                            executor.clone(),
                            runtime.clone(),
                            policies.clone(),
                            observation.clone(),
                        );
                        let from = clock.fetch_add(batch as i64, Ordering::Relaxed);
                        std::thread::spawn(move || {
                            let times: Vec<i64> = (from..from + batch as i64).collect();
                            let evaluate = || {
                                let jobs = evaluation_jobs(&runtime, &policies, &observation);
                                let ran = executor.run_all(name, jobs);
                                assert!(ran.into_iter().all(|ok| ok));
                            };
                            let mut tenant = tenant.lock().expect("tenant");
                            tenant.step(&db, layout, &times, evaluate);
                        })
                    })
                    .collect();
                for caller in callers {
                    caller.join().expect("caller");
                }
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    evaluations_alone,
    with_durable_ledger,
    sled_floor,
    sled_and_evaluations_floor
);
criterion_main!(benches);
