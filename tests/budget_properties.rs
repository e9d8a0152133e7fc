//! Budgets, SLIs and burn rates read from minute buckets equal a naive
//! recomputation from the raw records, over random histories, for both
//! budgeting methods and for rolling and calendar windows (a month boundary
//! and DST changes in named time zones included). Replays change nothing.

use dataslo::budget::{BURN_WINDOWS, objective_figures};
use dataslo::ledger::{EvalRecord, Events, Ledger, Outcome, Stored};
use dataslo::model::DatasetRef;
use dataslo::slo::{Budgeting, Slo, parse_text};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const SLOS: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: occ-rolling }
spec:
  indicator: { metadata: { name: a }, spec: { ratioMetric: { good: { metricSource: { type: dataslo } }, total: { metricSource: { type: dataslo, spec: { dataset: { namespace: "s3://b", name: t }, policy: "builtin:null-rate", sli: x, trigger: observation } } } } } }
  timeWindow: [{ duration: 7d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }, { target: 0.9 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: slices-rolling }
spec:
  indicator: { metadata: { name: a }, spec: { ratioMetric: { good: { metricSource: { type: dataslo } }, total: { metricSource: { type: dataslo, spec: { dataset: { namespace: "s3://b", name: t }, policy: "builtin:null-rate", sli: x, trigger: observation } } } } } }
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Timeslices
  objectives: [{ target: 0.95, timeSliceTarget: 0.9, timeSliceWindow: 5m }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: occ-calendar-paris }
spec:
  indicator: { metadata: { name: a }, spec: { ratioMetric: { good: { metricSource: { type: dataslo } }, total: { metricSource: { type: dataslo, spec: { dataset: { namespace: "s3://b", name: t }, policy: "builtin:null-rate", sli: x, trigger: observation } } } } } }
  timeWindow: [{ duration: 1M, isRolling: false, calendar: { startTime: "2026-01-01 00:00:00", timeZone: Europe/Paris } }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.999 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: slices-calendar-new-york }
spec:
  indicator: { metadata: { name: a }, spec: { ratioMetric: { good: { metricSource: { type: dataslo } }, total: { metricSource: { type: dataslo, spec: { dataset: { namespace: "s3://b", name: t }, policy: "builtin:null-rate", sli: x, trigger: observation } } } } } }
  timeWindow: [{ duration: 1w, isRolling: false, calendar: { startTime: "2026-01-04 00:00:00", timeZone: America/New_York } }]
  budgetingMethod: Timeslices
  objectives: [{ target: 0.9, timeSliceTarget: 0.75, timeSliceWindow: 1h }]
"#;

fn slos() -> Vec<Slo> {
    let catalog = parse_text(SLOS, "property.yaml");
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    catalog.slos
}

// From 2026-02-20 to 2026-04-05: the US (Mar 8) and EU (Mar 29) DST changes
// and the February/March/April month boundaries.
const FROM: i64 = 1_771_545_600;
const SPAN: i64 = 44 * 86_400;

fn random_records(rng: &mut StdRng, slo: &Slo, n: usize) -> Vec<EvalRecord> {
    (0..n)
        .map(|i| {
            let time = jiff::Timestamp::from_second(FROM + rng.random_range(0..SPAN)).unwrap();
            let error = rng.random_bool(0.05);
            let events = if error {
                Vec::new()
            } else {
                slo.objectives
                    .iter()
                    .map(|_| {
                        let total = rng.random_range(0..20u64);
                        let good = if rng.random_bool(0.8) {
                            total
                        } else {
                            rng.random_range(0..=total)
                        };
                        Events { good, total }
                    })
                    .collect()
            };
            EvalRecord {
                slo: slo.name.clone(),
                dataset: DatasetRef {
                    namespace: "s3://b".into(),
                    name: "t".into(),
                },
                time,
                key: format!("k{i}"),
                outcome: if error {
                    Outcome::Error {
                        code: "trap".into(),
                        message: "x".into(),
                    }
                } else {
                    Outcome::Measured
                },
                events,
                objectives: Vec::new(),
                value: None,
                detail: String::new(),
                policy_sha256: "00".repeat(32),
                chain: None,
            }
        })
        .collect()
}

/// The window's first minute, computed without the library's window code.
fn naive_window_start(slo: &Slo, at: jiff::Timestamp) -> i64 {
    let minute = |t: jiff::Timestamp| t.as_second().div_euclid(60);
    match slo.name.as_str() {
        "occ-rolling" => minute(at) - 7 * 1440 + 1,
        "slices-rolling" => minute(at) - 1440 + 1,
        "occ-calendar-paris" => {
            let local = at.in_tz("Europe/Paris").unwrap();
            let first = local
                .date()
                .first_of_month()
                .to_zoned_datetime(local.time_zone().clone())
                .unwrap();
            minute(first.timestamp())
        }
        "slices-calendar-new-york" => {
            let local = at.in_tz("America/New_York").unwrap();
            let days_since_sunday = local.date().weekday().to_sunday_zero_offset() as i64;
            let sunday = local
                .date()
                .checked_sub(jiff::Span::new().days(days_since_sunday))
                .unwrap();
            minute(
                sunday
                    .to_zoned_datetime(local.time_zone().clone())
                    .unwrap()
                    .timestamp(),
            )
        }
        other => panic!("unknown SLO {other}"),
    }
}

struct NaiveTally {
    good: u64,
    total: u64,
    errors: u64,
}

fn naive(slo: &Slo, objective: usize, records: &[EvalRecord], from: i64, to: i64) -> NaiveTally {
    let minute = |r: &EvalRecord| r.time.as_second().div_euclid(60);
    let inside: Vec<&EvalRecord> = records
        .iter()
        .filter(|r| from <= minute(r) && minute(r) <= to)
        .collect();
    let errors = inside
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Error { .. }))
        .count() as u64;
    let events = |r: &EvalRecord| r.events.get(objective).copied().unwrap_or_default();
    match (slo.budgeting, slo.objectives[objective].slice) {
        (Budgeting::Timeslices, Some((length, slice_target))) => {
            let len = (length.as_secs() / 60) as i64;
            let anchor = match slo.name.as_str() {
                "slices-calendar-new-york" => {
                    naive_window_start(slo, "2026-01-04T12:00:00-05:00".parse().unwrap())
                }
                _ => 0,
            };
            let mut slices: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
            for r in inside {
                let start = anchor + (minute(r) - anchor).div_euclid(len) * len;
                if start >= from {
                    let e = slices.entry(start).or_default();
                    e.0 += events(r).good;
                    e.1 += events(r).total;
                }
            }
            let with_data: Vec<_> = slices.values().filter(|(_, t)| *t > 0).collect();
            let good = with_data
                .iter()
                .filter(|(g, t)| *g as f64 / *t as f64 >= slice_target)
                .count() as u64;
            NaiveTally {
                good,
                total: with_data.len() as u64,
                errors,
            }
        }
        _ => NaiveTally {
            good: inside.iter().map(|r| events(r).good).sum(),
            total: inside.iter().map(|r| events(r).total).sum(),
            errors,
        },
    }
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn bucket_figures_equal_a_naive_recomputation_over_random_histories() {
    let mut rng = StdRng::seed_from_u64(20261126);
    for slo in slos() {
        for round in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
            let records = random_records(&mut rng, &slo, 400);
            for r in &records {
                assert_eq!(ledger.record(r).unwrap(), Stored::New);
            }
            for _ in 0..25 {
                let at = jiff::Timestamp::from_second(FROM + rng.random_range(0..SPAN + 86_400))
                    .unwrap();
                let to = at.as_second().div_euclid(60);
                for objective in 0..slo.objectives.len() {
                    let got = objective_figures(&ledger, &slo, objective, at).unwrap();
                    let from = naive_window_start(&slo, at);
                    let want = naive(&slo, objective, &records, from, to);
                    let ctx = format!("{} objective {objective} round {round} at {at}", slo.name);
                    assert_eq!(
                        (got.window.good, got.window.total, got.window.errors),
                        (want.good, want.total, want.errors),
                        "{ctx}"
                    );
                    let target = slo.objectives[objective].target;
                    let sli = (want.total > 0).then(|| want.good as f64 / want.total as f64);
                    assert!(close(got.sli, sli), "{ctx}: sli {:?} vs {sli:?}", got.sli);
                    let allowed = (1.0 - target) * want.total as f64;
                    let remaining =
                        (want.total > 0).then(|| 1.0 - (want.total - want.good) as f64 / allowed);
                    assert!(
                        close(got.budget_remaining, remaining),
                        "{ctx}: budget {:?} vs {remaining:?}",
                        got.budget_remaining
                    );
                    let slice = slo.objectives[objective]
                        .slice
                        .map_or(1, |(l, _)| (l.as_secs() / 60) as i64);
                    for ((label, minutes), (got_label, got_rate)) in
                        BURN_WINDOWS.iter().zip(&got.burn_rates)
                    {
                        assert_eq!(label, got_label);
                        let w = naive(
                            &slo,
                            objective,
                            &records,
                            to - (*minutes).max(slice) + 1,
                            to,
                        );
                        let rate = (w.total > 0)
                            .then(|| (w.total - w.good) as f64 / w.total as f64 / (1.0 - target));
                        assert!(
                            close(*got_rate, rate),
                            "{ctx}: burn {label} {got_rate:?} vs {rate:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn replaying_every_record_leaves_every_figure_unchanged() {
    let mut rng = StdRng::seed_from_u64(7);
    let slo = slos().remove(0);
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    let records = random_records(&mut rng, &slo, 300);
    records
        .iter()
        .for_each(|r| assert_eq!(ledger.record(r).unwrap(), Stored::New));
    let at = jiff::Timestamp::from_second(FROM + SPAN).unwrap();
    let before = objective_figures(&ledger, &slo, 0, at).unwrap();
    records
        .iter()
        .for_each(|r| assert_eq!(ledger.record(r).unwrap(), Stored::Duplicate));
    assert_eq!(objective_figures(&ledger, &slo, 0, at).unwrap(), before);
    let report = ledger.verify().unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    assert_eq!(report.records, 300);
}

#[test]
fn verify_reports_a_corrupt_record_and_the_command_exits_1() {
    let mut rng = StdRng::seed_from_u64(9);
    let slo = slos().remove(0);
    let dir = tempfile::tempdir().unwrap();
    let ledger_dir = dir.path().join("ledger");
    {
        let ledger = Ledger::open(&ledger_dir, "default", 10).unwrap();
        for r in random_records(&mut rng, &slo, 20) {
            ledger.record(&r).unwrap();
        }
        ledger.flush().unwrap();
    }
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dataslo"))
            .args(["ledger", "verify", "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    assert_eq!(verify().status.code(), Some(0));
    {
        let db = sled::open(&ledger_dir).unwrap();
        let tree = db
            .open_tree(dataslo::ledger::keys::tenant_tree("default", "evaluations"))
            .unwrap();
        let (key, value) = tree.iter().next().unwrap().unwrap();
        let mut bytes = value.to_vec();
        let last = bytes.len() - 3;
        bytes[last] ^= 0x20;
        tree.insert(key, bytes).unwrap();
        db.flush().unwrap();
    }
    // sled releases its file lock from a background thread, a moment later.
    let ledger = (0..100)
        .find_map(|_| {
            Ledger::open(&ledger_dir, "default", 10)
                .map_err(|_| std::thread::sleep(std::time::Duration::from_millis(20)))
                .ok()
        })
        .expect("the ledger reopens");
    let report = ledger.verify().unwrap();
    assert!(!report.mismatches.is_empty());
    drop(ledger);
    let out = verify();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("checksum mismatch"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
