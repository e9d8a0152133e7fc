//! The floors under `lineage_load`, in its shape (20,000 events or the second
//! argument, 32 clients or the third), one dependency at a time:
//!
//! - `http`: hyper through axum answering each POST of the same clients
//!   with an empty 200, reading the body and nothing else;
//! - `parse`: the same, plus the event read into observations
//!   (`openlineage::read_events`), dataslo's only work before the ledger;
//! - `sled`: no HTTP: `clients` tasks each appending one event's
//!   observations to a real ledger, flushed, as the request path does
//!   (tasks awaiting the group append, its leader on the blocking pool).
//!
//! `cargo run --release -p dataslo --example lineage_floor -- http|parse|sled [events] [clients]`

// The load driver's clients and events; its `run` is `lineage_load`'s.
#[allow(dead_code)]
#[path = "../../tests/support/load.rs"]
mod load;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use axum::body::Bytes;
use axum::http::StatusCode;
use dataslo::ledger::Ledger;
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
        _ => {
            eprintln!("usage: lineage_floor http|parse|sled [events] [clients]");
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
    let (addr, stop, server) = load::on_loopback(move |listener, stopped| async move {
        let answer = move |body: Bytes| async move {
            if parse {
                let text = std::str::from_utf8(&body).map_err(|_| StatusCode::BAD_REQUEST)?;
                let read = dataslo::openlineage::read_events(text, "body")
                    .map_err(|_| StatusCode::BAD_REQUEST)?;
                std::hint::black_box(read);
            }
            Ok::<_, StatusCode>(StatusCode::OK)
        };
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
    let _ = stop.send(());
    server.join().expect("server thread");
    (sent.acknowledged, sent.latencies, sent.elapsed)
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
