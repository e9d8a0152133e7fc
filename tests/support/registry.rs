//! A real OCI registry for the tests: Debian's `docker-registry` (the CNCF
//! distribution registry, 2.8) on a free loopback port with a temporary
//! store, stopped on drop; stopped and started again on the same port and
//! store to play an outage.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The docker-registry binary, or `None` (with a SKIPPED line) when there is none.
fn registry_binary(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain([PathBuf::from("/usr/bin")])
            .map(|dir| dir.join("docker-registry"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!(
            "SKIPPED {test}: no `docker-registry` on PATH (apt-get install docker-registry; .ci/run installs it)"
        );
    }
    found
}

/// A running registry.
pub struct Registry {
    binary: PathBuf,
    child: Option<Child>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    store: tempfile::TempDir,
}

impl Registry {
    /// Starts one on a free port with an empty store; `None` (the test is
    /// skipped) without docker-registry.
    pub fn start(test: &str) -> Option<Self> {
        let binary = registry_binary(test)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = tempfile::tempdir().unwrap();
        std::fs::write(
            store.path().join("config.yml"),
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: 127.0.0.1:{port}\n",
                store.path().join("data").display()
            ),
        )
        .unwrap();
        let mut registry = Registry {
            binary,
            child: None,
            port,
            store,
        };
        registry.restart();
        Some(registry)
    }

    /// `127.0.0.1:<port>`, as references name it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `oci://127.0.0.1:<port>/<path>`.
    pub fn reference(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.host())
    }

    /// Where it keeps blobs (`…/blobs/sha256/<2>/<hex>/data`).
    pub fn blob_file(&self, hex: &str) -> PathBuf {
        self.store
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Its store.
    pub fn store(&self) -> &Path {
        self.store.path()
    }

    /// Stops it (SIGTERM, then waits).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling our own child process.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and store, and waits until `GET /v2/` answers.
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::File::create(self.store.path().join("registry.log")).unwrap();
        let child = Command::new(&self.binary)
            .arg("serve")
            .arg(self.store.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let url = format!("http://{}/v2/", self.host());
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&url).call().is_err() {
            assert!(
                Instant::now() < deadline,
                "docker-registry never answered {url}: {}",
                std::fs::read_to_string(self.store.path().join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}
