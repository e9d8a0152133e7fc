//! The OpenLineage load driver: `clients` threads POST distinct COMPLETE
//! events to `/api/v1/lineage` of a real server on loopback, each waiting for
//! its acknowledgement; the server's own consumer evaluates behind them, and
//! the ledger is counted once it has caught up. Shared by the load test and
//! the `lineage_load` example, which reports the figures in release.
//!
//! The evaluation lag is read from the ingest log: its backlog (events
//! acknowledged, not yet evaluated: the log's last sequence number less its
//! cursor), sampled every [`SAMPLE`] while the clients send, and the time the
//! consumer takes after the last acknowledgement to evaluate everything.

use dataslo::config::{Config, TenantConfig};
use dataslo::ledger::Ledger;
use dataslo::runtime::Runtime;
use dataslo::server::{ServerSettings, serve};
use dataslo::service::{Service, token_hash};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The same `orders-volume` SLO as the server tests.
const SLO: &str = include_str!("orders-volume.yaml");

/// How often the backlog is sampled.
pub const SAMPLE: Duration = Duration::from_millis(10);

/// A consumer that has not caught up by then has hung.
const CATCH_UP: Duration = Duration::from_secs(300);

/// What a load run did.
pub struct LoadReport {
    /// Events sent.
    pub sent: usize,
    /// Events answered 200.
    pub acknowledged: usize,
    /// Evaluation records in the ledger afterwards.
    pub stored: usize,
    /// Distinct observation times among them (one per event when none is doubled).
    pub distinct: usize,
    /// Wall time of the sending.
    pub elapsed: Duration,
    /// Each request's latency, sorted.
    pub latencies: Vec<Duration>,
    /// The backlog samples taken while sending, in order.
    pub backlog: Vec<u64>,
    /// The backlog at the last acknowledgement.
    pub backlog_at_end: u64,
    /// From the last acknowledgement until the consumer had evaluated
    /// everything acknowledged.
    pub drain: Duration,
}

impl LoadReport {
    /// The `q` quantile of the latencies.
    pub fn quantile(&self, q: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies.get(i).copied().unwrap_or_default()
    }

    /// The largest backlog sampled.
    pub fn max_backlog(&self) -> u64 {
        self.backlog.iter().copied().max().unwrap_or(0)
    }

    /// The mean backlog sampled.
    pub fn mean_backlog(&self) -> f64 {
        self.backlog.iter().sum::<u64>() as f64 / self.backlog.len().max(1) as f64
    }
}

/// Events acknowledged and not yet evaluated.
fn backlog(ledger: &Ledger) -> u64 {
    let appended = ledger
        .ingest_next()
        .expect("ledger reads")
        .saturating_sub(1);
    appended.saturating_sub(ledger.ingest_cursor().expect("ledger reads"))
}

/// Event `i`: job `load` wrote `orders` at its own second, with i rows.
pub fn event(i: usize) -> String {
    let at = jiff::Timestamp::from_second(1_780_000_000 + i as i64).expect("in range");
    format!(
        r#"{{"eventType":"COMPLETE","eventTime":"{at}","producer":"https://example.com/load","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent","run":{{"runId":"00000000-0000-4000-8000-{i:012}"}},"job":{{"namespace":"load","name":"write_orders"}},"inputs":[],"outputs":[{{"namespace":"postgres://prod","name":"orders","outputFacets":{{"outputStatistics":{{"_producer":"https://example.com/load","_schemaURL":"https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json","rowCount":{i},"size":1024}}}}}}]}}"#
    )
}

/// What the clients saw.
pub struct Sent {
    /// Events answered 200.
    pub acknowledged: usize,
    /// Each request's latency, unsorted.
    pub latencies: Vec<Duration>,
    /// Wall time of the sending.
    pub elapsed: Duration,
}

/// `clients` threads POST events 0..`events` (each [`event`]) to `url`, each
/// waiting for its answer before the next: the load's clients, also used
/// against the floors of `lineage_floor`.
pub fn send(url: &str, events: usize, clients: usize) -> Sent {
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|c| {
            let url = url.to_string();
            std::thread::Builder::new()
                .name(format!("load-client-{c}"))
                .spawn(move || {
                    let agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .new_agent();
                    let mut latencies = Vec::new();
                    let mut acknowledged = 0;
                    for i in (c..events).step_by(clients) {
                        let body = event(i);
                        let t = Instant::now();
                        let answer = agent
                            .post(&url)
                            .header("Authorization", "Bearer load-secret")
                            .header("Content-Type", "application/json")
                            .send(body.as_bytes());
                        // Read to its end: a response dropped unread closes
                        // the connection, and the next request opens one.
                        let ok = answer.is_ok_and(|mut r| {
                            r.status() == 200 && r.body_mut().read_to_vec().is_ok()
                        });
                        latencies.push(t.elapsed());
                        acknowledged += usize::from(ok);
                    }
                    (acknowledged, latencies)
                })
                .expect("client thread")
        })
        .collect();
    let mut latencies = Vec::with_capacity(events);
    let mut acknowledged = 0;
    for w in workers {
        let (a, l) = w.join().expect("client thread");
        acknowledged += a;
        latencies.extend(l);
    }
    Sent {
        acknowledged,
        latencies,
        elapsed: started.elapsed(),
    }
}

/// Serves one tenant on loopback, sends `events` events from `clients`
/// threads, stops the server and counts what the ledger holds.
pub fn run(events: usize, clients: usize) -> LoadReport {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("slo.yaml"), SLO).expect("write SLO");
    let config = Config {
        data_dir: dir.path().join("data"),
        tenants: vec![TenantConfig {
            name: "load".into(),
            token_sha256: vec![token_hash("load-secret")],
            slo_files: vec![dir.path().join("slo.yaml")],
            limits: Default::default(),
            trusted_keys: Vec::new(),
            revoked_keys: Vec::new(),
        }],
        ..Config::default()
    };
    let runtime = Arc::new(Runtime::new(Default::default()).expect("runtime"));
    let ledger = Ledger::open(&dir.path().join("ledger"), "default", 100).expect("ledger");
    let state = Arc::new(Service::from_config(&config, runtime, &ledger).expect("tenant"));
    let settings = ServerSettings::from_config(&config);
    let served = state.clone();
    let (addr, stop, server) = on_loopback(move |listener, stopped| async move {
        serve(
            listener,
            served,
            settings,
            dataslo::dashboard::router(),
            async move {
                let _ = stopped.await;
            },
        )
        .await
        .expect("serve");
    });
    let url = format!("http://{addr}/api/v1/lineage");
    let tenant_ledger = state.tenants[0].scheduler.ledger().clone();

    let sending = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (ledger, sending) = (tenant_ledger.clone(), sending.clone());
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while sending.load(std::sync::atomic::Ordering::SeqCst) {
                samples.push(backlog(&ledger));
                std::thread::sleep(SAMPLE);
            }
            samples
        })
    };
    let sent = send(&url, events, clients);
    let (acknowledged, mut latencies, elapsed) = (sent.acknowledged, sent.latencies, sent.elapsed);
    let backlog_at_end = backlog(&tenant_ledger);
    sending.store(false, std::sync::atomic::Ordering::SeqCst);
    let samples = sampler.join().expect("sampler thread");
    // The server's consumer, not this thread, evaluates what is left.
    let acked = Instant::now();
    while backlog(&tenant_ledger) > 0 {
        assert!(acked.elapsed() < CATCH_UP, "the consumer never caught up");
        std::thread::sleep(Duration::from_millis(1));
    }
    let drain = acked.elapsed();
    let _ = stop.send(());
    server.join().expect("server thread");

    let records: Vec<_> = tenant_ledger
        .records(Some("orders-volume"), None)
        .collect::<Result<_, _>>()
        .expect("ledger reads");
    let distinct = records
        .iter()
        .map(|r| r.time)
        .collect::<BTreeSet<_>>()
        .len();
    latencies.sort();
    LoadReport {
        sent: events,
        acknowledged,
        stored: records.len(),
        distinct,
        elapsed,
        latencies,
        backlog: samples,
        backlog_at_end,
        drain,
    }
}

/// Runs `serve` on a loopback listener, on a thread with a tokio runtime of
/// its own; its address, the sender that stops it, and the thread.
pub fn on_loopback<F, Fut>(
    serve: F,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
)
where
    F: FnOnce(tokio::net::TcpListener, tokio::sync::oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            addr_tx.send(listener.local_addr().expect("addr")).ok();
            serve(listener, stopped).await;
        })
    });
    (addr_rx.recv().expect("address"), stop, server)
}
