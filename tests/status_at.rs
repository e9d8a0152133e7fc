//! `status --at T` (and `/v1/slos?at=T`) shows the alerts firing at T, read
//! from the stored transitions, not those firing after the last clock pass.

use crate::alerts::{SLO, observe};
use crate::support::{LATENESS, scheduler_for};
use dataslo::scheduler::Scheduler;
use dataslo::status::status_report;

fn minute(n: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_651_200 + n * 60).unwrap() // 2026-11-26T00:00:00Z
}

/// Ticks and alert passes every 5 minutes over `from..=to`; the minutes at
/// which `page:1h/15m` went to each state.
fn advance(s: &Scheduler, from: i64, to: i64) -> Vec<(i64, String)> {
    let mut seen = Vec::new();
    for m in (from..=to).step_by(5) {
        s.tick(minute(m), 1000).unwrap();
        for t in s.evaluate_alerts(minute(m), &[], LATENESS).unwrap() {
            if t.alert.to_string() == "page:1h/15m" {
                seen.push((m, t.to.to_string()));
            }
        }
    }
    seen
}

fn firing_at(s: &Scheduler, m: i64) -> Vec<String> {
    let slos = s.slos().iter().map(|a| a.slo.clone()).collect();
    let report = status_report(s.ledger(), slos, minute(m)).unwrap();
    report.slos[0].firing.clone()
}

#[test]
fn status_at_a_past_time_shows_the_alerts_firing_then() {
    let dir = tempfile::tempdir().unwrap();
    let s = scheduler_for(SLO, dir.path());
    observe(&s, "2026-11-26T00:00:00Z");
    let mut seen = advance(&s, 0, 150);
    observe(&s, "2026-11-26T02:35:00Z");
    seen.extend(advance(&s, 155, 300));
    let at = |state: &str| {
        seen.iter()
            .find(|(_, to)| to == state)
            .unwrap_or_else(|| panic!("{state} in {seen:?}"))
            .0
    };
    let (fired, resolved) = (at("firing"), at("resolved"));
    let page = vec!["page:1h/15m".to_string()];
    assert!(firing_at(&s, 0).is_empty(), "before anything burned");
    assert!(
        firing_at(&s, at("pending")).is_empty(),
        "pending is not firing"
    );
    assert!(firing_at(&s, fired - 1).is_empty());
    assert_eq!(firing_at(&s, fired), page, "from the pass that fired it");
    assert_eq!(firing_at(&s, resolved - 1), page);
    assert!(
        !firing_at(&s, resolved).contains(&page[0]),
        "resolved at {resolved}"
    );
    // Now, the log and the stored state agree.
    let slos = s.slos();
    let now: Vec<String> = dataslo::alert::firing(s.ledger(), &slos[0].slo)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(firing_at(&s, 300), now);
}
