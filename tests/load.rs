//! Load on loopback: OpenLineage events from 32 concurrent clients are all
//! stored, none lost and none doubled. `cargo run --release -p dataslo
//! --example lineage_load` runs the same driver and prints throughput and
//! latency (BENCHMARKS.md).

use crate::support::load;

#[test]
fn twenty_thousand_lineage_events_from_32_clients_are_each_stored_once() {
    let report = load::run(20_000, 32);
    assert_eq!(report.acknowledged, report.sent, "every event acknowledged");
    assert_eq!(
        report.stored, report.sent,
        "one evaluation record per event"
    );
    assert_eq!(report.distinct, report.sent, "none doubled");
    eprintln!(
        "{} events in {:.1?}: {:.0}/s, p99 {:.1?}; backlog max {}, evaluated {:.1?} after the last acknowledgement",
        report.sent,
        report.elapsed,
        report.sent as f64 / report.elapsed.as_secs_f64(),
        report.quantile(0.99),
        report.max_backlog(),
        report.drain
    );
}
