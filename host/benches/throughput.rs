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
use sled::Transactional;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

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

/// How E4's ledger lays out the ingest log and trims history, for the
/// floor below: it writes what `Scheduler::ingest` writes per tenant and
/// call (the same trees, key shapes, value sizes, transactions and
/// flushes), with sled alone.
#[derive(Clone, Copy)]
struct Layout {
    /// One log entry per append naming its observations, dropped in the
    /// records' transaction (else one entry per observation holding a copy
    /// of it, each removed after that transaction).
    log_per_append: bool,
    /// One transaction trims a step's history (else one removal per key,
    /// every [`TRIM_EVERY`] observations).
    trim_once: bool,
    /// Flushed after each transaction, as E4 (else never: sled's CPU alone).
    flushed: bool,
    /// A step's records of one SLO stored as one value under one key, with
    /// one chain index entry (else a key and an index entry per record, as
    /// the ledger stores them): not the ledger's layout, the headroom of
    /// grouping records per batch (issue 15).
    records_grouped: bool,
}

/// Since issue 15's second round.
const LAYOUT_NOW: Layout = Layout {
    log_per_append: true,
    trim_once: true,
    flushed: true,
    records_grouped: false,
};

/// Before it.
const LAYOUT_BEFORE: Layout = Layout {
    log_per_append: false,
    trim_once: false,
    flushed: true,
    records_grouped: false,
};

/// Stored sizes, measured on E4's ledger (orders.json, the three checks):
/// an observation, a record, a bucket; a log entry naming `n` observations
/// is `LOG_ENTRY_BASE + n * LOG_ENTRY_PER_OBSERVATION` bytes.
const OBSERVATION_VALUE: usize = 755;
const RECORD_VALUE: usize = 607;
const BUCKET_VALUE: usize = 38;
const LOG_ENTRY_BASE: usize = 16;
const LOG_ENTRY_PER_OBSERVATION: usize = 123;
const TRIM_EVERY: usize = 16;
const HISTORY_DEPTH: usize = 100;

fn length_prefixed(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn sortable(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

/// One tenant's trees and counters.
struct FloorTenant {
    slos: Vec<String>,
    observations: sled::Tree,
    latest: sled::Tree,
    ingest: sled::Tree,
    meta: sled::Tree,
    evaluations: sled::Tree,
    buckets: sled::Tree,
    feed: sled::Tree,
    chains: sled::Tree,
    next_seq: u64,
    chain_seq: u64,
    trimmed: std::collections::VecDeque<Vec<u8>>,
}

type FloorTx = Result<(), sled::transaction::ConflictableTransactionError<()>>;

impl FloorTenant {
    fn open(db: &sled::Db, tenant: &str) -> Self {
        let tree = |name: &str| db.open_tree(format!("t/{tenant}/{name}")).expect("tree");
        FloorTenant {
            slos: CHECKS
                .iter()
                .map(|(c, _)| format!("{tenant}-{c}"))
                .collect(),
            observations: tree("observations"),
            latest: tree("latest"),
            ingest: tree("ingest"),
            meta: tree("meta"),
            evaluations: tree("evaluations"),
            buckets: tree("buckets"),
            feed: tree("feed"),
            chains: tree("chains"),
            next_seq: 1,
            chain_seq: 0,
            trimmed: Default::default(),
        }
    }

    /// `times.len()` observations appended and evaluated, as one
    /// `Scheduler::ingest` writes them.
    /// `evaluate` runs between the append and the records, as E4's
    /// evaluations do.
    fn step(&mut self, db: &sled::Db, layout: Layout, times: &[i64], evaluate: impl FnOnce()) {
        let mut dataset = Vec::new();
        length_prefixed(&mut dataset, "postgres://prod:5432");
        length_prefixed(&mut dataset, "analytics.orders");
        let observation_keys: Vec<Vec<u8>> = times
            .iter()
            .map(|t| [&dataset[..], &sortable(t * 1_000_000_000), &t.to_le_bytes()].concat())
            .collect();
        let observation = vec![b'o'; OBSERVATION_VALUE];
        let entry = match layout.log_per_append {
            true => vec![b'l'; LOG_ENTRY_BASE + times.len() * LOG_ENTRY_PER_OBSERVATION],
            false => observation.clone(),
        };
        let first = self.next_seq;
        // The append: one transaction, then a flush.
        (&self.observations, &self.latest, &self.ingest, &self.meta)
            .transaction(|(stored, latest, log, meta)| -> FloorTx {
                meta.get(b"ingest_next")?;
                let mut seq = first;
                if layout.log_per_append {
                    log.insert(&seq.to_be_bytes(), entry.as_slice())?;
                }
                for key in &observation_keys {
                    stored.get(key)?;
                    if !layout.log_per_append {
                        log.insert(&seq.to_be_bytes(), entry.as_slice())?;
                    }
                    stored.insert(key.as_slice(), observation.as_slice())?;
                    latest.get(&dataset)?;
                    latest.insert(dataset.as_slice(), key.as_slice())?;
                    seq += 1;
                }
                meta.insert(b"ingest_next", &seq.to_be_bytes())?;
                Ok(())
            })
            .expect("append");
        self.next_seq += times.len() as u64;
        if layout.flushed {
            db.flush().expect("flush");
        }
        evaluate();
        // The records: one transaction (three per observation, a chain
        // index entry each; grouped, one value and one entry per SLO; the
        // buckets once, the cursor and the heads), then a flush.
        let last = self.next_seq - 1;
        let mut records = Vec::new();
        let mut buckets = std::collections::BTreeSet::new();
        for (i, slo) in self.slos.iter().enumerate() {
            for t in times {
                let mut key = Vec::new();
                length_prefixed(&mut key, slo);
                key.extend_from_slice(&sortable(t * 1_000_000_000));
                key.extend_from_slice(format!("{:032x}", (*t as u128) << 8 | i as u128).as_bytes());
                records.push((i, key));
                for (level, minutes) in [(0u8, 1), (1, 60), (2, 1440)] {
                    let mut bucket = Vec::new();
                    length_prefixed(&mut bucket, slo);
                    bucket.push(level);
                    bucket.extend_from_slice(&sortable(t.div_euclid(60 * minutes)));
                    buckets.insert(bucket);
                }
            }
        }
        let mut value = vec![b'r'; RECORD_VALUE];
        if layout.records_grouped {
            // One key per SLO: its first record's, holding all of its records.
            records = records.into_iter().step_by(times.len()).collect();
            value = vec![b'r'; RECORD_VALUE * times.len()];
        }
        let bucket_value = vec![b'b'; BUCKET_VALUE];
        let chain_seq = self.chain_seq;
        let slos = &self.slos;
        let log_first = first;
        (
            &self.evaluations,
            &self.buckets,
            &self.meta,
            &self.feed,
            &self.chains,
            &self.ingest,
        )
            .transaction(
                |(evaluations, bucket_tree, meta, _feed, chains, log)| -> FloorTx {
                    if layout.log_per_append {
                        log.remove(&log_first.to_be_bytes())?;
                    }
                    meta.insert(b"ingest_cursor", &last.to_be_bytes())?;
                    let mut seq = chain_seq;
                    for (slo, key) in &records {
                        evaluations.get(key)?;
                        evaluations.insert(key.as_slice(), value.as_slice())?;
                        seq += 1;
                        let mut index = Vec::new();
                        length_prefixed(&mut index, &slos[*slo]);
                        length_prefixed(&mut index, "");
                        index.extend_from_slice(&seq.to_be_bytes());
                        chains.insert(index, [&[0][..], key].concat())?;
                    }
                    for bucket in &buckets {
                        bucket_tree.get(bucket)?;
                        bucket_tree.insert(bucket.as_slice(), bucket_value.as_slice())?;
                    }
                    for slo in slos {
                        let mut head = b"chain_head/".to_vec();
                        length_prefixed(&mut head, slo);
                        length_prefixed(&mut head, "");
                        meta.get(&head)?;
                        meta.insert(head, &[0u8; 40][..])?;
                    }
                    Ok(())
                },
            )
            .expect("records");
        self.chain_seq += times.len() as u64;
        if layout.flushed {
            db.flush().expect("flush");
        }
        if !layout.log_per_append {
            for seq in first..=last {
                self.ingest.remove(seq.to_be_bytes()).expect("forget");
            }
        }
        // The history trimmed back to its depth, oldest first.
        self.trimmed.extend(observation_keys);
        let excess = self.trimmed.len().saturating_sub(HISTORY_DEPTH);
        let doomed: Vec<Vec<u8>> = self.trimmed.drain(..excess).collect();
        if layout.trim_once {
            (&self.observations, &self.meta)
                .transaction(|(stored, meta)| -> FloorTx {
                    meta.get(b"ingest_next")?;
                    meta.get(b"ingest_cursor")?;
                    for key in &doomed {
                        stored.remove(key.as_slice())?;
                    }
                    Ok(())
                })
                .expect("trim");
        } else {
            for chunk in doomed.chunks(TRIM_EVERY) {
                for key in chunk {
                    self.observations.remove(key).expect("trim");
                }
            }
        }
    }
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
        ("before", LAYOUT_BEFORE),
        ("now_unflushed", unflushed),
        ("records_grouped", grouped),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new().path(dir.path()).open().expect("sled");
        let tenants: Vec<_> = TENANTS
            .iter()
            .map(|t| Arc::new(std::sync::Mutex::new(FloorTenant::open(&db, t))))
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
        (2, grouped, "_records_grouped"),
    ] {
        let executor = Arc::new(Executor::new(workers).expect("executor"));
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new().path(dir.path()).open().expect("sled");
        let tenants: Vec<_> = TENANTS
            .iter()
            .map(|t| Arc::new(std::sync::Mutex::new(FloorTenant::open(&db, t))))
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
