//! E6: resident memory with 1,000 distinct loaded policies (1,000 components
//! whose bytes differ: `builtin:volume` with a numbered custom section, each
//! compiled and pre-instantiated on its own), then with 10,000 SLOs armed
//! over 100 of them. Prints the figures; `--quick` (as `cargo bench --
//! --quick` passes it) uses a quarter of each.
//!
//! `cargo bench -p dataslo --bench memory`

use dataslo::model::PolicyRef;
use dataslo::runtime::{Known, Limits, Runtime, builtin_bytes};
use dataslo::scheduler::{Armed, Scheduler};
use std::sync::Arc;
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// `bytes` with a custom section named `dataslo-bench` holding `n`.
fn variant(bytes: &[u8], n: usize) -> Vec<u8> {
    let name = b"dataslo-bench";
    let payload = n.to_le_bytes();
    let mut section = vec![name.len() as u8];
    section.extend_from_slice(name);
    section.extend_from_slice(&payload);
    let mut out = bytes.to_vec();
    out.push(0); // custom section id
    out.push(section.len() as u8); // its size, < 128
    out.extend_from_slice(&section);
    out
}

fn slo(i: usize, policy: usize) -> String {
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: slo-{i} }}
spec:
  indicator:
    metadata: {{ name: x }}
    spec:
      thresholdMetric:
        metricSource: {{ type: dataslo, spec: {{ dataset: {{ namespace: "postgres://prod", name: "t{i}" }}, policy: "p{policy}", config: {{ min_rows: {i} }}, sli: volume, trigger: observation }} }}
  timeWindow: [{{ duration: 28d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: gte, value: 1, target: 0.99 }}]
"#
    )
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (policies, slos) = if quick { (250, 2_500) } else { (1_000, 10_000) };
    let runtime = Arc::new(Runtime::new(Limits::default()).expect("runtime"));
    let volume = builtin_bytes("volume").expect("volume is built in");
    let before = rss_mib();

    let started = Instant::now();
    let loaded: Vec<_> = (0..policies)
        .map(|n| {
            Arc::new(
                runtime
                    .load(&format!("p{n}"), &variant(volume, n))
                    .expect("loads"),
            )
        })
        .collect();
    let distinct: std::collections::BTreeSet<_> = loaded.iter().map(|p| p.sha256()).collect();
    assert_eq!(distinct.len(), policies, "every component's bytes differ");
    let with_policies = rss_mib();
    println!(
        "E6 {policies} distinct policies loaded in {:.1} s: RSS {:.0} MiB → {:.0} MiB (+{:.0} MiB, {:.2} MiB each)",
        started.elapsed().as_secs_f64(),
        before,
        with_policies,
        with_policies - before,
        (with_policies - before) / policies as f64
    );

    let started = Instant::now();
    // 100 SLOs a file: one file of 10,000 would pass the 1 MiB YAML limit.
    let files: Vec<(String, String)> = (0..slos)
        .collect::<Vec<_>>()
        .chunks(100)
        .enumerate()
        .map(|(f, chunk)| {
            let text = chunk
                .iter()
                .map(|&i| slo(i, i % 100))
                .collect::<Vec<_>>()
                .join("---\n");
            (format!("bench-{f}.yaml"), text)
        })
        .collect();
    let catalog = dataslo::slo::parse_texts(&files);
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors.first());
    let known: Known = loaded
        .iter()
        .take(100)
        .enumerate()
        .map(|(i, p)| (PolicyRef::File(format!("p{i}").into()), p.clone()))
        .collect();
    drop(loaded);
    let (armed, errors) = Armed::with_known(&runtime, catalog.slos, None, known, None);
    assert!(errors.is_empty(), "{:?}", errors.first());
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dataslo::ledger::Ledger::open(dir.path(), "default", 100).expect("ledger");
    let scheduler = Scheduler::new(runtime.clone(), ledger, armed, 100);
    let with_slos = rss_mib();
    println!(
        "E6 {} SLOs over 100 policies armed in {:.1} s ({} policies dropped): RSS {:.0} MiB",
        scheduler.slos().len(),
        started.elapsed().as_secs_f64(),
        policies - 100,
        with_slos
    );
}
