//! A real `nats-server` with JetStream for the tests: a free loopback port,
//! a temporary store, stopped on drop; stopped and started again on the same
//! port and store to play an outage.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The nats-server binary, or `None` (with a SKIPPED line) when there is none.
pub fn nats_server_binary(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain([PathBuf::from("/usr/sbin")])
            .map(|dir| dir.join("nats-server"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!(
            "SKIPPED {test}: no `nats-server` on PATH (apt-get install nats-server; .ci/run installs it)"
        );
    }
    found
}

/// A running nats-server.
pub struct NatsServer {
    binary: PathBuf,
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    store: tempfile::TempDir,
    /// The config file it runs from, if any.
    conf: Option<PathBuf>,
}

impl NatsServer {
    /// Starts one with JetStream on a free port and an empty store; `None`
    /// (the test is skipped) without nats-server.
    pub fn start(test: &str) -> Option<Self> {
        let binary = nats_server_binary(test)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = NatsServer {
            binary,
            child: None,
            port,
            store: tempfile::tempdir().unwrap(),
            conf: None,
        };
        server.restart();
        Some(server)
    }

    /// As [`NatsServer::start`], from a config file holding `authorization`
    /// (an `authorization { ... }` block: users, their permissions).
    pub fn start_with_auth(test: &str, authorization: &str) -> Option<Self> {
        let mut server = Self::start(test)?;
        server.stop();
        let conf = server.store.path().join("nats.conf");
        std::fs::write(
            &conf,
            format!(
                "listen: \"127.0.0.1:{}\"\njetstream {{\n  store_dir: \"{}\"\n}}\n{authorization}\n",
                server.port,
                server.store.path().join("js").display()
            ),
        )
        .unwrap();
        server.conf = Some(conf);
        server.restart();
        Some(server)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Its store (JetStream's `-sd`).
    pub fn store(&self) -> &Path {
        self.store.path()
    }

    /// Stops it (SIGTERM, then waits): clients see the server go away.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling our own child process.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and store, and waits until it
    /// accepts connections.
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::File::create(self.store.path().join("nats.log")).unwrap();
        let mut command = Command::new(&self.binary);
        match &self.conf {
            Some(conf) => command.arg("-c").arg(conf),
            None => command
                .args([
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-js",
                    "-sd",
                ])
                .arg(self.store.path().join("js")),
        };
        let child = command.stdout(Stdio::null()).stderr(log).spawn().unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server never listened on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}
