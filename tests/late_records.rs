//! Late and out-of-order records (as central receives them from a site that
//! comes back): each is folded into the buckets its own minute falls in, and
//! no other bucket of the ledger changes.

use dataslo::ledger::{Bucket, EvalRecord, Events, Ledger, Level, Outcome, minute_of};
use std::collections::BTreeMap;

const SLO: &str = "orders-volume";

fn record(time: jiff::Timestamp, key: &str, good: u64) -> EvalRecord {
    EvalRecord {
        slo: SLO.into(),
        dataset: dataslo::model::DatasetRef {
            namespace: "postgres://prod".into(),
            name: "orders".into(),
        },
        time,
        key: key.into(),
        outcome: Outcome::Measured,
        events: vec![Events { good, total: 1 }],
        objectives: Vec::new(),
        value: Some(50.0),
        detail: String::new(),
        policy_sha256: String::new(),
        chain: None,
    }
}

/// Every bucket of the SLO, at every level.
fn all_buckets(ledger: &Ledger) -> BTreeMap<(u8, i64), Bucket> {
    Level::ALL
        .into_iter()
        .flat_map(|level| {
            ledger
                .level_buckets(SLO, level, i64::MIN, i64::MAX)
                .unwrap()
                .into_iter()
                .map(move |(index, bucket)| ((level as u8, index), bucket))
        })
        .collect()
}

/// The buckets that differ between two snapshots (added ones included).
fn changed(
    before: &BTreeMap<(u8, i64), Bucket>,
    after: &BTreeMap<(u8, i64), Bucket>,
) -> Vec<(u8, i64)> {
    after
        .iter()
        .filter(|(key, bucket)| before.get(key) != Some(bucket))
        .map(|(key, _)| *key)
        .collect()
}

/// The minute, hour and day buckets `time` falls in.
fn own_buckets(time: jiff::Timestamp) -> Vec<(u8, i64)> {
    let minute = minute_of(time);
    Level::ALL
        .into_iter()
        .map(|level| (level as u8, minute.div_euclid(level.minutes())))
        .collect()
}

#[test]
fn a_late_or_out_of_order_record_changes_only_the_buckets_its_minute_falls_in() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(&dir.path().join("ledger"), "acme", 100).unwrap();
    // Two days of records, ten minutes apart, filed as they came.
    let start: jiff::Timestamp = "2026-11-24T00:00:00Z".parse().unwrap();
    let on_time: Vec<EvalRecord> = (0..288)
        .map(|i| {
            record(
                start + jiff::SignedDuration::from_mins(10 * i),
                &format!("on-time-{i}"),
                1,
            )
        })
        .collect();
    ledger.record_batch(&on_time).unwrap();
    let before = all_buckets(&ledger);

    // A day late: a bad record in a minute that had none, on the first day.
    let late_at = start + jiff::SignedDuration::from_mins(7 * 60 + 3);
    ledger.record_batch(&[record(late_at, "late", 0)]).unwrap();
    let after = all_buckets(&ledger);
    assert_eq!(changed(&before, &after), own_buckets(late_at));
    let minute = &after[&(Level::Minute as u8, minute_of(late_at))];
    assert_eq!(
        (minute.events.clone(), minute.evaluations),
        (vec![Events { good: 0, total: 1 }], 1)
    );
    let hour = &after[&(Level::Hour as u8, minute_of(late_at).div_euclid(60))];
    assert_eq!(hour.events, vec![Events { good: 6, total: 7 }]);

    // Out of order, into a minute that already holds a record.
    let shared_at =
        start + jiff::SignedDuration::from_mins(30 * 60) + jiff::SignedDuration::from_secs(20);
    ledger
        .record_batch(&[record(shared_at, "out-of-order", 1)])
        .unwrap();
    let again = all_buckets(&ledger);
    assert_eq!(changed(&after, &again), own_buckets(shared_at));
    assert_eq!(
        again[&(Level::Minute as u8, minute_of(shared_at))].events,
        vec![Events { good: 2, total: 2 }]
    );

    // Delivered once more, it is a duplicate and changes nothing.
    ledger.record_batch(&[record(late_at, "late", 0)]).unwrap();
    assert_eq!(all_buckets(&ledger), again);
    assert!(ledger.verify().unwrap().mismatches.is_empty());
}
