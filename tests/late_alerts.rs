//! Alerts and late records: a site that comes back with a day of records,
//! one with a bad hour ten hours back. Past transitions are never rewritten;
//! each rule the bad hour made true fires now, once, naming the minutes it
//! held, and resolves once. Records older than the lateness horizon count in
//! the budget but are not judged again.

use crate::support::scheduler_for;
use dataslo::ledger::{EvalRecord, Events, Outcome, Transition};
use dataslo::model::TransitionState;
use dataslo::scheduler::Scheduler;
use std::collections::BTreeMap;
use std::time::Duration;

const SLO: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: orders-late }
spec:
  indicator:
    metadata: { name: f }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec:
            dataset: { namespace: "postgres://prod", name: orders }
            policy: "builtin:freshness"
            config: { max_age: 1h }
            sli: freshness
            trigger: observation
            alerting: { no_data_after: 2h }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: 3600, target: 0.99 }]
"#;

/// The four burn-rate rules of a 30-day window.
const RULES: [&str; 4] = ["page:1h/5m", "page:6h/30m", "ticket:1d/2h", "ticket:3d/6h"];

/// 2026-11-28T00:00:00Z: "now", when the site comes back.
fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_824_000).unwrap()
}

fn minutes_ago(m: i64) -> jiff::Timestamp {
    now() - jiff::SignedDuration::from_mins(m)
}

fn record(time: jiff::Timestamp, good: bool) -> EvalRecord {
    record_of("plant-7", time, good)
}

fn record_of(site: &str, time: jiff::Timestamp, good: bool) -> EvalRecord {
    EvalRecord {
        slo: "orders-late".into(),
        dataset: dataslo::model::DatasetRef {
            namespace: "postgres://prod".into(),
            name: "orders".into(),
        },
        time,
        key: format!("{site}.{}", time.as_second()),
        outcome: Outcome::Measured,
        events: vec![Events {
            good: u64::from(good),
            total: 1,
        }],
        objectives: Vec::new(),
        value: Some(60.0),
        detail: String::new(),
        policy_sha256: String::new(),
        chain: None,
    }
}

/// One record a minute from `from` minutes ago (oldest first) up to `to`
/// minutes ago, bad from `bad.0` up to `bad.1` minutes ago.
fn records(from: i64, to: i64, bad: (i64, i64)) -> Vec<EvalRecord> {
    records_of("plant-7", from, to, bad)
}

/// As [`records`], from `site`.
fn records_of(site: &str, from: i64, to: i64, bad: (i64, i64)) -> Vec<EvalRecord> {
    (to + 1..=from)
        .rev()
        .map(|m| record_of(site, minutes_ago(m), !(bad.1 < m && m <= bad.0)))
        .collect()
}

fn pass(s: &Scheduler, at: jiff::Timestamp, lateness: Duration) -> Vec<Transition> {
    s.evaluate_alerts(at, &[], lateness).unwrap()
}

/// A ledger that judged its alerts on time for the day before yesterday,
/// then a silent day up to now.
fn judged_until_the_site_went_silent(dir: &std::path::Path, lateness: Duration) -> Scheduler {
    let s = scheduler_for(SLO, dir);
    let ledger = s.ledger();
    ledger
        .record_batch(&records(2 * 1440, 1440, (0, 0)))
        .unwrap();
    for m in (0..=1440).rev().step_by(60) {
        pass(&s, minutes_ago(m), lateness);
    }
    s
}

/// The site's day, an hour per batch (the bad hour 11 h to 10 h ago), with
/// an alert pass a second after each batch, then passes for five minutes.
fn a_day_of_late_records(s: &Scheduler, lateness: Duration) -> Vec<Transition> {
    let mut seen = Vec::new();
    let mut at = now();
    for hour in (0..24).rev() {
        let batch = records((hour + 1) * 60, hour * 60, (11 * 60, 10 * 60));
        s.ledger().record_batch(&batch).unwrap();
        at += jiff::SignedDuration::from_secs(1);
        seen.extend(pass(s, at, lateness));
    }
    for _ in 0..5 {
        at += jiff::SignedDuration::from_mins(1);
        seen.extend(pass(s, at, lateness));
    }
    seen
}

/// Per burn-rate alert, its transitions in order.
fn by_alert(seen: &[Transition]) -> BTreeMap<String, Vec<&Transition>> {
    let mut out: BTreeMap<String, Vec<&Transition>> = BTreeMap::new();
    for t in seen {
        let name = t.alert.to_string();
        if RULES.contains(&name.as_str()) {
            out.entry(name).or_default().push(t);
        }
    }
    out
}

#[test]
fn a_day_of_late_records_with_a_bad_hour_fires_each_rule_it_made_true_once_and_resolves_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = judged_until_the_site_went_silent(dir.path(), crate::support::LATENESS);
    let seen = a_day_of_late_records(&s, crate::support::LATENESS);
    let alerts = by_alert(&seen);
    assert_eq!(
        alerts.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut sorted = RULES.to_vec();
            sorted.sort();
            sorted
        },
        "{seen:#?}"
    );
    let (bad_start, bad_end) = (minutes_ago(11 * 60), minutes_ago(10 * 60));
    for (alert, transitions) in &alerts {
        let states: Vec<_> = transitions.iter().map(|t| t.to).collect();
        assert_eq!(
            states,
            [TransitionState::Firing, TransitionState::Resolved],
            "{alert}: {transitions:#?}"
        );
        let firing = transitions[0];
        // Dated now, never in the past; the past is in its detail.
        assert!(firing.at > now(), "{alert}: {firing:?}");
        let held = firing
            .late
            .expect("a late firing names the minutes it held");
        assert!(
            bad_start <= held.from && held.from < bad_end && held.from <= held.to,
            "{alert}: {held:?}"
        );
        assert_eq!(
            held.evaluations,
            u64::try_from(held.to.duration_since(held.from).as_mins() + 1).unwrap()
        );
        assert!(
            firing.summary.starts_with("late records: held at")
                && firing.summary.contains(&held.from.to_string()),
            "{}",
            firing.summary
        );
        assert!(transitions[1].late.is_none());
    }
    // The page rule held from the ninth bad minute: 9 of 60 burn 15 ≥ 14.4.
    let page = alerts["page:1h/5m"][0].late.unwrap();
    assert_eq!(page.from, bad_start + jiff::SignedDuration::from_mins(8));
    // Nothing more: the log holds each transition once.
    let later = pass(
        &s,
        now() + jiff::SignedDuration::from_mins(30),
        crate::support::LATENESS,
    );
    assert!(by_alert(&later).is_empty(), "{later:#?}");
    let logged = s.ledger().transitions().unwrap();
    assert_eq!(by_alert(&logged).values().map(Vec::len).sum::<usize>(), 8);
}

#[test]
fn a_second_site_back_with_an_older_bad_hour_fires_it_too() {
    let dir = tempfile::tempdir().unwrap();
    let lateness = crate::support::LATENESS;
    let s = judged_until_the_site_went_silent(dir.path(), lateness);
    let first = a_day_of_late_records(&s, lateness);
    assert_eq!(by_alert(&first)["page:1h/5m"].len(), 2, "{first:#?}");
    // Another site's day, its bad hour 15 h back: older than the first
    // site's episode, apart from it, so an episode of its own.
    let at = now() + jiff::SignedDuration::from_mins(10);
    s.ledger()
        .record_batch(&records_of("plant-9", 1440, 0, (15 * 60, 14 * 60)))
        .unwrap();
    let mut second = pass(&s, at, lateness);
    second.extend(pass(&s, at + jiff::SignedDuration::from_mins(1), lateness));
    let page = &by_alert(&second)["page:1h/5m"];
    let states: Vec<_> = page.iter().map(|t| t.to).collect();
    assert_eq!(states, [TransitionState::Firing, TransitionState::Resolved]);
    let held = page[0].late.expect("late");
    let bad = minutes_ago(15 * 60);
    assert!(bad <= held.from && held.from < bad + jiff::SignedDuration::from_hours(1));
}

#[test]
fn records_older_than_the_lateness_horizon_count_in_the_budget_but_fire_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let six_hours = Duration::from_secs(6 * 3600);
    let s = judged_until_the_site_went_silent(dir.path(), six_hours);
    let seen = a_day_of_late_records(&s, six_hours);
    // The bad hour is 10 h back; only the last 6 h are judged again, where
    // the short windows of every rule see good records only.
    assert!(by_alert(&seen).is_empty(), "{seen:#?}");
    let sum = s
        .ledger()
        .sum(
            "orders-late",
            dataslo::ledger::minute_of(minutes_ago(24 * 60)),
            dataslo::ledger::minute_of(now()),
        )
        .unwrap();
    assert_eq!(sum.events[0].total - sum.events[0].good, 60);
}

#[test]
fn a_record_a_minute_late_is_judged_again_from_its_minute_only() {
    let dir = tempfile::tempdir().unwrap();
    let s = judged_until_the_site_went_silent(dir.path(), crate::support::LATENESS);
    let ledger = s.ledger();
    ledger.record(&record(minutes_ago(1), true)).unwrap();
    let mark = ledger
        .late_mark("orders-late")
        .unwrap()
        .expect("marked late");
    assert_eq!(mark.mark.from, dataslo::ledger::minute_of(minutes_ago(1)));
    // A record of the judged minute itself is on time.
    pass(&s, now(), crate::support::LATENESS);
    assert_eq!(ledger.late_mark("orders-late").unwrap(), None);
    ledger.record(&record(now(), true)).unwrap();
    assert_eq!(ledger.late_mark("orders-late").unwrap(), None);
}
