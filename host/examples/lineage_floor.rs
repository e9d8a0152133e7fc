//! The floors under `lineage_load`, in its shape (20,000 events or the second
//! argument, 32 clients or the third), one dependency at a time:
//!
//! - `http`: hyper through axum answering each POST of the same clients
//!   with an empty 200, reading the body and nothing else;
//! - `parse`: the same, plus the event read into observations
//!   (`openlineage::read_events`), dataslo's only work before the ledger;
//! - `sled`: no HTTP: `clients` tasks each appending one event's
//!   observations to a real ledger, flushed, as the request path does
//!   (tasks awaiting the group append, its leader on the blocking pool);
//! - `appended`: the three together: the server answers once the event's
//!   observations are read and appended, flushed;
//! - `all`: `appended`, and the evaluation behind it: one thread evaluates
//!   what was appended (`builtin:volume`, as the load's SLO) and
//!   writes their records, flushed. The ledger and the runtime as
//!   `lineage_load` runs them, without the service around them (tokens,
//!   tenants, the scheduler and its consumer of the log).
//!
//! `cargo run --release -p dataslo --example lineage_floor -- http|parse|sled|appended|all [events] [clients]`

// The load driver's clients and events; its `run` is `lineage_load`'s.
#[allow(dead_code)]
#[path = "../../tests/support/load.rs"]
mod load;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use axum::body::Bytes;
use axum::http::StatusCode;
use dataslo::ledger::{EvalRecord, Events, Ledger, Outcome};
use dataslo::model::Observation;
use dataslo::runtime::{EvaluationInput, Limits, Policy, Runtime, no_history};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    dataslo::process::without_huge_pages();
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let mut numbers = args.map(|a| a.parse::<usize>());
    let events = numbers.next().and_then(Result::ok).unwrap_or(20_000);
    let clients = numbers.next().and_then(Result::ok).unwrap_or(32);
    let (acknowledged, mut latencies, elapsed) = match mode.as_str() {
        "http" => over_http(events, clients, false),
        "parse" => over_http(events, clients, true),
        "sled" => sled_only(events, clients),
        "appended" => all_together(events, clients, false),
        "all" => all_together(events, clients, true),
        _ => {
            eprintln!("usage: lineage_floor http|parse|sled|appended|all [events] [clients]");
            std::process::exit(2);
        }
    };
    latencies.sort();
    let q = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).copied().unwrap_or_default()
    };
    println!(
        "{mode}: {clients} clients · {events} events · acknowledged {acknowledged} · {:.2} s · {:.0} events/s · p50 {:.2?} · p99 {:.2?} · max {:.2?}",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
}

/// The load's clients against an axum server that only answers.
fn over_http(events: usize, clients: usize, parse: bool) -> (usize, Vec<Duration>, Duration) {
    let answer = move |body: Bytes| async move {
        if parse {
            let text = std::str::from_utf8(&body).map_err(|_| StatusCode::BAD_REQUEST)?;
            let read = dataslo::openlineage::read_events(text, "body")
                .map_err(|_| StatusCode::BAD_REQUEST)?;
            std::hint::black_box(read);
        }
        Ok::<_, StatusCode>(StatusCode::OK)
    };
    let (sent, _) = load_against(answer, events, clients);
    (sent.acknowledged, sent.latencies, sent.elapsed)
}

/// Serves `answer` at the lineage path on loopback, sends it the load's
/// events, then stops it. Returns what the clients saw and when the last
/// answer came.
fn load_against<H, T>(answer: H, events: usize, clients: usize) -> (load::Sent, Instant)
where
    H: axum::handler::Handler<T, ()>,
    T: 'static,
{
    let (addr, stop, server) = load::on_loopback(move |listener, stopped| async move {
        let app = axum::Router::new().route("/api/v1/lineage", axum::routing::post(answer));
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
    });
    let url = format!("http://{addr}/api/v1/lineage");
    let sent = load::send(&url, events, clients);
    let answered = Instant::now();
    let _ = stop.send(());
    server.join().expect("server thread");
    (sent, answered)
}

/// The request path's ledger work alone: append one event's observations,
/// flushed, from `clients` tasks on a runtime of the server's shape.
fn sled_only(events: usize, clients: usize) -> (usize, Vec<Duration>, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::open(&dir.path().join("ledger"), "load", 100).expect("ledger");
    // Read before the clock starts: this floor is the ledger's alone.
    let read: Vec<Vec<_>> = (0..clients)
        .map(|c| {
            (c..events)
                .step_by(clients)
                .map(|i| {
                    dataslo::openlineage::read_events(&load::event(i), "event")
                        .expect("a valid event")
                        .observations
                })
                .collect()
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    let latencies = runtime.block_on(async {
        let tasks: Vec<_> = read
            .into_iter()
            .map(|events| {
                let ledger = ledger.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    for observations in events {
                        let t = Instant::now();
                        let receipts = ledger
                            .put_observations_awaited(&observations, true)
                            .await
                            .expect("append");
                        latencies.push(t.elapsed());
                        assert!(receipts.iter().all(|r| r.new), "each event is new");
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::with_capacity(events);
        for task in tasks {
            latencies.extend(task.await.expect("appender task"));
        }
        latencies
    });
    let elapsed = started.elapsed();
    let stored = ledger.observations().count();
    (stored, latencies, elapsed)
}

/// `parse` and `sled` in one server, and the evaluation behind them if
/// `evaluated`: what `lineage_load` does without dataslo's service around
/// the ledger and the runtime. Prints how long the evaluation ran on after
/// the last answer.
fn all_together(
    events: usize,
    clients: usize,
    evaluated: bool,
) -> (usize, Vec<Duration>, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::open(&dir.path().join("ledger"), "load", 100).expect("ledger");
    // Loaded before the load starts, as the service's policies are.
    let runtime = Runtime::new(Limits::default()).expect("runtime");
    let policy = runtime.load_builtin("volume").expect("built-in");
    let (appended, arrivals) = mpsc::channel::<(String, Observation)>();
    // Ends when the server, and with it every sender, is gone.
    let evaluator = evaluated.then(|| {
        let ledger = ledger.clone();
        std::thread::spawn(move || evaluate_behind(&ledger, &runtime, &policy, &arrivals))
    });
    let answer = move |body: Bytes| {
        let (ledger, appended) = (ledger.clone(), appended.clone());
        async move {
            let text = std::str::from_utf8(&body).map_err(|_| StatusCode::BAD_REQUEST)?;
            let read = dataslo::openlineage::read_events(text, "body")
                .map_err(|_| StatusCode::BAD_REQUEST)?;
            let receipts = ledger
                .put_observations_awaited(&read.observations, true)
                .await
                .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            if evaluated {
                for (obs, receipt) in read.observations.into_iter().zip(receipts) {
                    let _ = appended.send((hex::encode(receipt.digest), obs));
                }
            }
            Ok::<_, StatusCode>(StatusCode::OK)
        }
    };
    // The server, and with it every sender, is gone on return.
    let (sent, answered) = load_against(answer, events, clients);
    if let Some(evaluator) = evaluator {
        let (recorded, last) = evaluator.join().expect("evaluator");
        println!(
            "all: evaluated {recorded} records, the last {:.2?} after the last answer",
            last.saturating_duration_since(answered)
        );
    }
    (sent.acknowledged, sent.latencies, sent.elapsed)
}

/// Evaluates what arrives, up to 500 at a time, and stores each batch's
/// records in one transaction, flushed, until nothing more can arrive.
/// Returns how many it recorded, and when it stored the last.
fn evaluate_behind(
    ledger: &Ledger,
    runtime: &Runtime,
    policy: &Policy,
    arrivals: &mpsc::Receiver<(String, Observation)>,
) -> (usize, Instant) {
    let sha256 = policy.sha256_hex();
    let mut recorded = 0;
    let mut last = Instant::now();
    while let Ok(first) = arrivals.recv() {
        let batch: Vec<_> = std::iter::once(first)
            .chain(arrivals.try_iter().take(499))
            .collect();
        let records: Vec<EvalRecord> = batch
            .iter()
            .map(|(key, obs)| {
                let input = EvaluationInput {
                    config: r#"{"min_rows":10}"#,
                    observation: obs,
                    history: no_history(),
                    now: obs.observed_at,
                    limits: None,
                };
                let evaluation = runtime.evaluate(policy, input).expect("evaluates");
                let value = evaluation.measurements.first().and_then(|m| m.value);
                EvalRecord {
                    slo: "orders-volume".into(),
                    dataset: obs.dataset.clone(),
                    time: obs.observed_at,
                    key: key.clone(),
                    outcome: Outcome::Measured,
                    events: vec![Events {
                        good: u64::from(value.is_some_and(|v| v >= 10.0)),
                        total: 1,
                    }],
                    objectives: vec!["0123456789abcdef".into()],
                    value,
                    detail: String::new(),
                    policy_sha256: sha256.clone(),
                    chain: None,
                }
            })
            .collect();
        ledger.record_batch(&records).expect("records");
        ledger.flush().expect("flush");
        recorded += records.len();
        last = Instant::now();
    }
    (recorded, last)
}
