//! Headless Chromium for the dashboard test, and a loopback proxy that adds
//! a header to every request: a page without script cannot post the login
//! form, and a token never goes into a URL.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Chromium's path, if installed (`.ci/run` installs it).
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

/// A run of Chromium cut short: it must not hang the tests.
const CHROMIUM_LIMIT: Duration = Duration::from_secs(120);

/// Runs headless Chromium with `args` after the flags for a machine without
/// network, with a fresh profile in `scratch`. Returns its stdout; panics
/// with its stderr if it fails or outlives [`CHROMIUM_LIMIT`].
pub fn run_chromium(chromium: &Path, scratch: &Path, args: &[String]) -> String {
    let profile = tempfile::tempdir_in(scratch).unwrap();
    let out = tempfile::NamedTempFile::new_in(scratch).unwrap();
    let err = tempfile::NamedTempFile::new_in(scratch).unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-proxy-server",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(Stdio::null())
        // Files, not pipes: a large DOM would fill a pipe nobody reads yet.
        .stdout(out.reopen().unwrap())
        .stderr(err.reopen().unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > CHROMIUM_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(err.path()).unwrap_or_default();
    match status {
        Some(s) if s.success() => std::fs::read_to_string(out.path()).unwrap(),
        Some(s) => panic!("chromium {args:?} failed ({s}):\n{stderr}"),
        None => panic!("chromium {args:?} was stopped after {CHROMIUM_LIMIT:?}:\n{stderr}"),
    }
}

/// A loopback HTTP proxy to `upstream` (`host:port`) that adds `header`
/// (e.g. `Authorization: Bearer …`) to every request and closes each
/// connection after one answer. Stopped when dropped.
pub struct HeaderProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HeaderProxy {
    pub fn start(upstream: &str, header: &str) -> HeaderProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let (upstream, header, stopping) = (upstream.to_string(), header.to_string(), stop.clone());
        let thread = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let (upstream, header) = (upstream.clone(), header.clone());
                std::thread::spawn(move || {
                    let _ = forward(client, &upstream, &header);
                });
            }
        });
        HeaderProxy {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for HeaderProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request: its head with `header` added and `Connection: close`, its
/// body as it comes, and the whole answer back.
fn forward(client: TcpStream, upstream: &str, header: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = String::new();
    let mut line = String::new();
    reader.read_line(&mut line)?;
    head.push_str(&line);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(
            name.as_str(),
            "connection" | "keep-alive" | "proxy-connection" | "authorization"
        ) {
            head.push_str(&line);
        }
    }
    head.push_str(&format!("{header}\r\nConnection: close\r\n\r\n"));
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(head.as_bytes())?;
    let mut to_server = server.try_clone()?;
    let body = std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut to_server);
        let _ = to_server.shutdown(Shutdown::Write);
    });
    let mut to_client = client.try_clone()?;
    let copied = std::io::copy(&mut server, &mut to_client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = body.join();
    copied.map(drop)
}
