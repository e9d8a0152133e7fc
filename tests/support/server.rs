//! A real `dataslo serve` on a loopback port, for the API and dashboard tests.

use dataslo::config::Config;
use dataslo::ledger::Ledger;
use dataslo::runtime::Runtime;
use dataslo::server::{ServerSettings, serve};
use dataslo::service::Service;
use std::sync::Arc;

/// A server on `127.0.0.1:<free port>`, stopped and joined when dropped.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// What its handlers share, for tests that act as the clock loop would.
    pub state: Arc<Service>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Its ledger and data directory.
    pub dir: tempfile::TempDir,
}

impl TestServer {
    fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Stops the server and gives back its folder, to start another over it.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.halt();
        let placeholder = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, placeholder)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Serves `config`'s tenants over a ledger and data directory in `dir`, with a
/// 64 KiB body limit.
pub fn start_server(dir: tempfile::TempDir, mut config: Config) -> TestServer {
    config.data_dir = dir.path().join("data");
    let runtime = Arc::new(Runtime::new(Default::default()).unwrap());
    let ledger = Ledger::open(&dir.path().join("ledger"), "default", 100).unwrap();
    let state = Arc::new(Service::from_config(&config, runtime, &ledger).unwrap());
    let settings = ServerSettings {
        max_body_bytes: 64 * 1024,
        ..ServerSettings::from_config(&config)
    };
    let served = state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
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
            .unwrap();
        })
    });
    let addr = addr_rx.recv().unwrap();
    TestServer {
        url: format!("http://{addr}"),
        state,
        stop: Some(stop),
        thread: Some(thread),
        dir,
    }
}

/// An HTTP client that hands back 4xx and 5xx answers instead of failing.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}
