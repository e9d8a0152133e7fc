//! The ledger: durable ingest of evaluation records with group commit, and a
//! budget-plus-burn-rates query over a year of per-minute evaluations against
//! a naive scan of the raw records.
//!
//! `cargo bench -p dataslo --bench ledger`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dataslo::budget::{BURN_WINDOWS, objective_figures, window_at};
use dataslo::ledger::{EvalRecord, Events, Ledger, Outcome};
use dataslo::model::DatasetRef;
use dataslo::slo::{Slo, parse_text};
use std::hint::black_box;

// The same allocator as the `dataslo` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const YEAR_SLO: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: year }
spec:
  indicator: { metadata: { name: y }, spec: { thresholdMetric: { metricSource: { type: dataslo, spec: { dataset: { namespace: "s3://b", name: t }, policy: "builtin:freshness", sli: freshness, trigger: { schedule: 1m } } } } } }
  timeWindow: [{ duration: 365d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: 7200, target: 0.999 }]
"#;

const START: i64 = 1_764_547_200; // 2025-12-01T00:00:00Z

fn record(slo: &str, minute: i64, key: u64) -> EvalRecord {
    EvalRecord {
        slo: slo.into(),
        dataset: DatasetRef {
            namespace: "s3://b".into(),
            name: "t".into(),
        },
        time: jiff::Timestamp::from_second(START + minute * 60).unwrap(),
        key: format!("tick-{key}"),
        outcome: Outcome::Measured,
        events: vec![Events {
            good: u64::from(minute % 997 != 0),
            total: 1,
        }],
        objectives: Vec::new(),
        value: Some(120.0),
        detail: "last modified 2m ago".into(),
        policy_sha256: "ab".repeat(32),
        chain: None,
    }
}

fn durable_ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 100).unwrap();
    let mut next = 0i64;
    let mut group = c.benchmark_group("ingest");
    const BATCH: i64 = 500;
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("durable_batch_of_500_evaluations", |b| {
        b.iter_batched(
            || {
                let batch: Vec<EvalRecord> = (next..next + BATCH)
                    .map(|m| record("ingest", m, m as u64))
                    .collect();
                next += BATCH;
                batch
            },
            |batch| {
                ledger.record_batch(&batch).unwrap();
                ledger.flush().unwrap();
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// Every figure of `objective_figures`, from the raw records.
fn naive(ledger: &Ledger, slo: &Slo, at: jiff::Timestamp) -> (u64, u64, Vec<Option<f64>>) {
    let window = window_at(&slo.window, at);
    let mut sums = vec![(0u64, 0u64); BURN_WINDOWS.len() + 1];
    for r in ledger.records(Some(&slo.name), None) {
        let r = r.unwrap();
        let m = r.time.as_second().div_euclid(60);
        let e = r.events.first().copied().unwrap_or_default();
        if window.contains(m) {
            sums[0].0 += e.good;
            sums[0].1 += e.total;
        }
        for (i, (_, minutes)) in BURN_WINDOWS.iter().enumerate() {
            if m > window.to - minutes && m <= window.to {
                sums[i + 1].0 += e.good;
                sums[i + 1].1 += e.total;
            }
        }
    }
    let budget = 1.0 - slo.objectives[0].target;
    let rates = sums[1..]
        .iter()
        .map(|(g, t)| (*t > 0).then(|| (t - g) as f64 / *t as f64 / budget))
        .collect();
    (sums[0].0, sums[0].1, rates)
}

fn year_query(c: &mut Criterion) {
    let slo = parse_text(YEAR_SLO, "bench.yaml").slos.remove(0);
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 100).unwrap();
    const MINUTES: i64 = 525_600;
    for chunk in (0..MINUTES).collect::<Vec<_>>().chunks(10_000) {
        let batch: Vec<_> = chunk.iter().map(|&m| record("year", m, m as u64)).collect();
        ledger.record_batch(&batch).unwrap();
    }
    ledger.flush().unwrap();
    let at = jiff::Timestamp::from_second(START + (MINUTES - 1) * 60 + 30).unwrap();

    let fast = objective_figures(&ledger, &slo, 0, at).unwrap();
    let (good, total, rates) = naive(&ledger, &slo, at);
    assert_eq!(
        (fast.window.good, fast.window.total),
        (good, total),
        "the benchmark compares equal answers"
    );
    assert_eq!(
        fast.burn_rates.iter().map(|(_, r)| *r).collect::<Vec<_>>(),
        rates
    );

    let mut group = c.benchmark_group("budget_one_slo_525600_records");
    group.bench_function("buckets", |b| {
        b.iter(|| black_box(objective_figures(&ledger, &slo, 0, at).unwrap()))
    });
    group.sample_size(10);
    group.bench_function("naive_scan", |b| {
        b.iter(|| black_box(naive(&ledger, &slo, at)))
    });
    group.finish();
}

criterion_group!(benches, durable_ingest, year_query);
criterion_main!(benches);
