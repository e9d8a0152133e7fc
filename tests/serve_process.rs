//! `dataslo serve` as a process: started from its config file, it serves
//! tenants on the configured address; on SIGTERM it stops taking requests,
//! finishes those in flight, flushes and exits 0, and every observation it
//! acknowledged is in the ledger.

use crate::server::SLO;
use dataslo::ledger::Ledger;
use dataslo::server::token_hash;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn observation(i: usize) -> String {
    let at = jiff::Timestamp::from_second(1_780_000_000 + i as i64).unwrap();
    format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":{i}}}"#
    )
}

#[test]
fn serve_drains_on_sigterm_and_loses_nothing_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("slo.yaml"), SLO).unwrap();
    std::fs::write(
        dir.path().join("dataslo.toml"),
        format!(
            "data_dir = \"data\"\n[server]\nlisten = \"127.0.0.1:{port}\"\n\
             [[tenants]]\nname = \"acme\"\ntoken_sha256 = [\"{}\"]\nslo_files = [\"slo.yaml\"]\n",
            token_hash("acme-secret")
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .arg("serve")
        .arg("--config")
        .arg(dir.path().join("dataslo.toml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    // SAFETY: signalling our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    stopped.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
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
