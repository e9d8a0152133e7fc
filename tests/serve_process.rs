//! `dataslo serve` as a process: started from its config file, it serves
//! tenants on the configured address; on SIGTERM it stops taking requests,
//! finishes those in flight, flushes and exits 0, and every observation it
//! acknowledged is in the ledger.

use crate::server::SLO;
use dataslo::ledger::Ledger;
use dataslo::service::token_hash;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn observation(i: usize) -> String {
    let at = jiff::Timestamp::from_second(1_780_000_000 + i as i64).unwrap();
    format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":{i}}}"#
    )
}

/// Starts `dataslo serve` on a free port over `dir` (tenant `acme` with the
/// orders-volume SLO, `extra` at the top of its config and `server` in its
/// `[server]` table) and waits until it answers. Returns the process and its
/// base URL. Its log goes to `dir/serve.log`: a pipe nobody reads while it
/// runs would stall a long run.
pub fn start_serve(
    dir: &std::path::Path,
    extra: &str,
    server: &str,
) -> (std::process::Child, String) {
    let port = free_port();
    std::fs::write(dir.join("slo.yaml"), SLO).unwrap();
    std::fs::write(
        dir.join("dataslo.toml"),
        format!(
            "data_dir = \"data\"\npoll_interval = \"50ms\"\n{extra}\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n{server}\n\
             [[tenants]]\nname = \"acme\"\ntoken_sha256 = [\"{}\"]\nslo_files = [\"slo.yaml\"]\n",
            token_hash("acme-secret")
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .arg("serve")
        .arg("--config")
        .arg(dir.join("dataslo.toml"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let agent = crate::server::agent();
    let ready = (0..1200).any(|_| {
        let up = agent.get(&format!("{base}/healthz")).call().is_ok();
        if !up {
            std::thread::sleep(Duration::from_millis(50));
        }
        up
    });
    assert!(ready, "serve never answered /healthz");
    (child, base)
}

/// SIGTERM, then the exit status and the log of the serve started in `dir`.
pub fn stop(mut child: std::process::Child, dir: &std::path::Path) -> (Option<i32>, String) {
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    (status.code(), log)
}

/// The times of the orders-volume records, through the API.
fn record_times(base: &str) -> Vec<String> {
    let mut answer = crate::server::agent()
        .get(&format!("{base}/v1/slos/orders-volume/events"))
        .header("Authorization", "Bearer acme-secret")
        .call()
        .unwrap();
    assert_eq!(answer.status(), 200);
    let records: serde_json::Value = answer.body_mut().read_json().unwrap();
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["time"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn serve_applies_retention_to_old_records() {
    let dir = tempfile::tempdir().unwrap();
    let now = jiff::Timestamp::now();
    let old = now - jiff::SignedDuration::from_hours(72);
    let recent = now - jiff::SignedDuration::from_hours(1);
    // Stored under the default retention (400 days): both are kept.
    let (child, base) = start_serve(dir.path(), "", "");
    for at in [old, recent] {
        let obs = format!(
            r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":50}}"#
        );
        let answer = crate::server::agent()
            .post(&format!("{base}/v1/observations?wait=evaluated"))
            .header("Authorization", "Bearer acme-secret")
            .header("Content-Type", "application/json")
            .send(obs.as_bytes())
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    assert_eq!(record_times(&base).len(), 2);
    let (code, stderr) = stop(child, dir.path());
    assert_eq!(code, Some(0), "{stderr}");

    // Started again with a retention of one day, its clock prunes the old one.
    let (child, base) = start_serve(dir.path(), "retention = \"1d\"", "");
    let pruned = (0..200).any(|_| {
        let times = record_times(&base);
        if times.len() == 1 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
        false
    });
    let times = record_times(&base);
    let (code, stderr) = stop(child, dir.path());
    assert!(
        pruned,
        "the 3-day-old record is still there: {times:?}\n{stderr}"
    );
    let kept: jiff::Timestamp = times[0].parse().unwrap();
    assert_eq!(kept.as_second(), recent.as_second());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("retention"),
        "the pruning is logged: {stderr}"
    );
}

#[test]
fn serve_drains_on_sigterm_and_loses_nothing_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = start_serve(dir.path(), "", "");

    // Eight clients post until the server stops answering.
    let next = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stopped = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (next, acknowledged, stopped) =
                (next.clone(), acknowledged.clone(), stopped.clone());
            let url = format!("{base}/v1/observations");
            std::thread::spawn(move || {
                let agent = crate::server::agent();
                while !stopped.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let answer = agent
                        .post(&url)
                        .header("Authorization", "Bearer acme-secret")
                        .header("Content-Type", "application/json")
                        .send(observation(i).as_bytes());
                    match answer {
                        Ok(r) if r.status() == 200 => acknowledged.lock().unwrap().push(i),
                        Ok(r) => panic!("answered {} while running", r.status()),
                        Err(_) => break,
                    }
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 100 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, stderr) = stop(child, dir.path());
    stopped.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped cleanly"), "{stderr}");

    let ledger = Ledger::open(&dir.path().join("data/ledger"), "default", 100)
        .unwrap()
        .for_tenant("acme")
        .unwrap();
    let stored: BTreeSet<i64> = ledger
        .records(Some("orders-volume"), None)
        .map(|r| r.unwrap().time.as_second() - 1_780_000_000)
        .collect();
    let acknowledged = acknowledged.lock().unwrap();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|i| !stored.contains(&(**i as i64)))
        .collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert!(acknowledged.len() >= 100);
}

/// A webhook receiver that accepts connections and never answers; it says
/// when the first one arrives.
fn black_hole() -> (u16, std::sync::mpsc::Receiver<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (called, calls) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
            let _ = called.send(());
        }
    });
    (port, calls)
}

#[test]
fn sigterm_exits_within_the_grace_while_a_request_and_the_clock_pass_hang() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (hook, calls) = black_hole();
    // The no-data alert fires at start; its webhook never answers (the
    // clock pass waits on it), and a request waits for a body that never
    // comes.
    let (child, base) = start_serve(
        dir.path(),
        &format!("[notifiers]\nwebhooks = [\"http://127.0.0.1:{hook}/hook\"]\n"),
        "shutdown_grace = \"2s\"\nbody_timeout = \"60s\"",
    );
    calls
        .recv_timeout(Duration::from_secs(20))
        .expect("the clock pass calls the webhook");
    let agent = crate::server::agent();
    for i in 0..5 {
        let answer = agent
            .post(&format!("{base}/v1/observations"))
            .header("Authorization", "Bearer acme-secret")
            .header("Content-Type", "application/json")
            .send(observation(i).as_bytes())
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    let mut hanging = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    hanging
        .write_all(
            b"POST /v1/observations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer acme-secret\r\n\
              Content-Type: application/json\r\nContent-Length: 500\r\n\r\n[",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let start = std::time::Instant::now();
    let (code, stderr) = stop(child, dir.path());
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "exited after {took:?}: {stderr}"
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped cleanly"), "{stderr}");
    assert!(
        stderr.contains("after the shutdown grace"),
        "the dropped request is logged: {stderr}"
    );

    let ledger = Ledger::open(&dir.path().join("data/ledger"), "default", 100)
        .unwrap()
        .for_tenant("acme")
        .unwrap();
    let stored = ledger.records(Some("orders-volume"), None).count();
    assert_eq!(stored, 5, "every acknowledged observation is recorded");
}
