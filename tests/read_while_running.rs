//! `status` and `ledger verify|export` work while `run` or `serve` holds the
//! ledger: they ask the running process through its control socket.

use crate::serve_process::observation;
use crate::server::SLO;
use dataslo::service::token_hash;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn dataslo(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn spawn(args: &[&str], dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for(path: &Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(mut child: Child) {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap();
}

#[test]
fn status_verify_and_export_ask_a_running_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slo.yaml"), SLO).unwrap();
    std::fs::create_dir_all(dir.path().join("data/spool")).unwrap();
    std::fs::write(dir.path().join("data/spool/a.json"), observation(3)).unwrap();
    let run = spawn(&["run", "--data-dir", "data", "slo.yaml"], dir.path());
    wait_for(&dir.path().join("data/control.sock"));
    // The spool file is gone once evaluated.
    let spooled = dir.path().join("data/spool/a.json");
    let started = Instant::now();
    while spooled.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }

    let status = dataslo(
        &["status", "--data-dir", "data", "--format", "json"],
        dir.path(),
    );
    let export = dataslo(&["ledger", "export", "--data-dir", "data"], dir.path());
    let verify = dataslo(&["ledger", "verify", "--data-dir", "data"], dir.path());
    stop(run);

    assert!(status.status.success(), "{}", text(&status.stderr));
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(report["slos"][0]["slo"], "orders-volume", "{report}");
    assert!(export.status.success(), "{}", text(&export.stderr));
    let lines: Vec<serde_json::Value> = text(&export.stdout)
        .lines()
        .filter(|l| !l.starts_with(r#"{"chain":"#)) // chain headers
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["tenant"], "default");
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(
        text(&verify.stdout).contains("0 problem(s)"),
        "{}",
        text(&verify.stdout)
    );
    assert!(
        !dir.path().join("data/control.sock").exists(),
        "the socket goes with the process"
    );
}

#[test]
fn status_asks_a_running_serve_for_each_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::serve_process::free_port();
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
    let serve = spawn(&["serve", "--config", "dataslo.toml"], dir.path());
    wait_for(&dir.path().join("data/control.sock"));
    let status = dataslo(&["status", "--config", "dataslo.toml"], dir.path());
    let unknown = dataslo(
        &[
            "ledger",
            "verify",
            "--config",
            "dataslo.toml",
            "--tenant",
            "nobody",
        ],
        dir.path(),
    );
    stop(serve);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let table = text(&status.stdout);
    assert!(
        table.contains("tenant acme") && table.contains("orders-volume"),
        "{table}"
    );
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown.stderr));
    assert!(
        text(&unknown.stderr).contains("nobody"),
        "{}",
        text(&unknown.stderr)
    );
}
