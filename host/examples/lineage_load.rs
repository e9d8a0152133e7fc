//! The OpenLineage load test with its figures: 20,000 events (or the first
//! argument) from 32 clients (or the second) on loopback, the evaluation lag
//! (the ingest log's backlog while sending, and the time the consumer takes
//! to evaluate the rest after the last acknowledgement), then the ledger
//! counted. `cargo run --release -p dataslo --example lineage_load`

#[path = "../../tests/support/load.rs"]
mod load;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    dataslo::process::without_huge_pages();
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let events = args.next().and_then(Result::ok).unwrap_or(20_000);
    let clients = args.next().and_then(Result::ok).unwrap_or(32);
    let report = load::run(events, clients);
    println!(
        "sent {} · acknowledged {} · stored {} · distinct {}",
        report.sent, report.acknowledged, report.stored, report.distinct
    );
    println!(
        "{} clients · {:.2} s · {:.0} events/s · p50 {:.2?} · p99 {:.2?} · max {:.2?}",
        clients,
        report.elapsed.as_secs_f64(),
        report.sent as f64 / report.elapsed.as_secs_f64(),
        report.quantile(0.5),
        report.quantile(0.99),
        report.quantile(1.0)
    );
    let rate = report.sent as f64 / report.elapsed.as_secs_f64();
    println!(
        "evaluation lag: backlog (acknowledged, not yet evaluated) every {:?}: mean {:.0} · max {} (≈ {:.1} ms of arrivals) · {} at the last acknowledgement, evaluated {:.2?} after it",
        load::SAMPLE,
        report.mean_backlog(),
        report.max_backlog(),
        report.max_backlog() as f64 / rate * 1e3,
        report.backlog_at_end,
        report.drain
    );
    if report.stored != report.sent || report.distinct != report.sent {
        eprintln!("LOST OR DOUBLED EVENTS");
        std::process::exit(1);
    }
}
