//! `serve` on a full disk: writes are refused with 507 naming the cause,
//! readiness and health say why, SIGTERM still ends it within its grace,
//! and once space is back it starts again with every acknowledged
//! observation recorded and `ledger verify` clean. `run` and `observe` on a
//! full disk fail naming the cause, acknowledge nothing, and leave the ledger
//! whole for when space is back. The data directory is a
//! small tmpfs (CI runs as root); without the right to mount, the test says
//! so and passes.

use crate::serve_process::{start_serve, stop};
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmpfs of `size` mounted at a folder, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Result<Self, std::io::Error> {
        std::fs::create_dir_all(at)?;
        let target = CString::new(at.as_os_str().as_bytes()).expect("no NUL in a temp path");
        let options = CString::new(format!("size={size}")).expect("no NUL");
        // SAFETY: every pointer is a NUL-terminated string that outlives the call.
        let rc = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                options.as_ptr().cast(),
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Ok(target) = CString::new(self.0.as_os_str().as_bytes()) {
            // SAFETY: a NUL-terminated path; a lazy unmount never blocks.
            unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

/// An observation of orders at second `i`, padded to about 3 KB so that a
/// few of them fill what is left of the disk.
fn padded(i: usize) -> String {
    let at = jiff::Timestamp::from_second(1_780_000_000 + i as i64).unwrap();
    let pad = "x".repeat(3000);
    format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":{i},"attributes":{{"pad":"{pad}"}}}}"#
    )
}

fn post(base: &str, i: usize) -> (u16, serde_json::Value) {
    let mut answer = crate::server::agent()
        .post(&format!("{base}/v1/observations"))
        .header("Authorization", "Bearer acme-secret")
        .header("Content-Type", "application/json")
        .send(padded(i).as_bytes())
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.body_mut().read_json().unwrap_or_default())
}

fn get(base: &str, path: &str) -> (u16, serde_json::Value) {
    let mut answer = crate::server::agent()
        .get(&format!("{base}{path}"))
        .header("Authorization", "Bearer acme-secret")
        .call()
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.body_mut().read_json().unwrap_or_default())
}

/// Writes `path` until the device refuses.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    // What is left of the last block.
    while file.write_all(&block[..512]).is_ok() {}
}

#[test]
fn a_full_disk_is_refused_with_507_and_serve_restarts_clean_once_space_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _tmpfs = match Tmpfs::mount(&data, "8m") {
        Ok(m) => m,
        Err(e) => {
            eprintln!("skipped: cannot mount a tmpfs ({e}); run as root to test a full disk");
            return;
        }
    };
    // The compile cache would share the 8 MiB with the ledger.
    let engine = "[engine]\ncache = false\n";
    let grace = "shutdown_grace = \"3s\"";
    let (child, base) = start_serve(dir.path(), engine, grace);
    let mut acknowledged = Vec::new();
    for i in 0..10 {
        let (status, body) = post(&base, i);
        assert_eq!(status, 200, "{body}");
        acknowledged.push(i);
    }

    fill(&data.join("filler"));
    let mut refused = None;
    for i in 10..500 {
        match post(&base, i) {
            (200, _) => acknowledged.push(i),
            answer => {
                refused = Some(answer);
                break;
            }
        }
    }
    let (status, body) = refused.expect("a write on a full disk is refused");
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["error"], "insufficient_storage", "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("no space left"), "{detail}");

    // Health, readiness and reads say so, at once.
    let (status, health) = get(&base, "/healthz");
    assert_eq!(status, 503, "{health}");
    assert_eq!(health["status"], "degraded");
    assert!(health["reason"].as_str().unwrap().contains("no space left"));
    let (status, ready) = get(&base, "/readyz");
    assert_eq!((status, ready["error"].as_str()), (503, Some("not_ready")));
    let (status, _) = get(&base, "/v1/slos");
    assert_eq!(status, 507);

    let start = Instant::now();
    let (code, stderr) = stop(child, dir.path());
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "exited after {took:?}: {stderr}"
    );
    assert_ne!(code, None, "exited, not killed: {stderr}");
    assert!(stderr.contains("no space left"), "{stderr}");

    // Space is back: it starts, and every acknowledged observation is there.
    std::fs::remove_file(data.join("filler")).unwrap();
    let (child, base) = start_serve(dir.path(), engine, grace);
    // What the log still held is evaluated by the first clock pass.
    let recorded = |base: &str| -> Vec<i64> {
        let (status, events) = get(base, "/v1/slos/orders-volume/events");
        assert_eq!(status, 200, "{events}");
        events
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["time"]
                    .as_str()
                    .unwrap()
                    .parse::<jiff::Timestamp>()
                    .unwrap()
            })
            .map(|t| t.as_second() - 1_780_000_000)
            .collect()
    };
    let started = Instant::now();
    let mut recorded_now = recorded(&base);
    while recorded_now.len() < acknowledged.len() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        recorded_now = recorded(&base);
    }
    let recorded = recorded_now;
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|i| !recorded.contains(&(**i as i64)))
        .collect();
    assert!(lost.is_empty(), "acknowledged but not recorded: {lost:?}");
    assert_eq!(post(&base, 1000).0, 200, "writes work again");
    let (code, stderr) = stop(child, dir.path());
    assert_eq!(code, Some(0), "{stderr}");

    let verify = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["ledger", "verify", "--config"])
        .arg(dir.path().join("dataslo.toml"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(0), "{out}");
    assert!(
        out.contains("tenant acme:") && out.contains(" 0 problem(s)"),
        "{out}"
    );
}

/// Runs `dataslo ARGS` in `dir`, killing it (and failing) if it outlives a
/// minute: a full disk must end in an answer, not a hang.
fn bounded(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("dataslo {args:?} hung on a full disk");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_and_observe_on_a_full_disk_fail_clearly_and_lose_nothing_they_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _tmpfs = match Tmpfs::mount(&data, "8m") {
        Ok(m) => m,
        Err(e) => {
            eprintln!("skipped: cannot mount a tmpfs ({e}); run as root to test a full disk");
            return;
        }
    };
    std::fs::write(dir.path().join("slo.yaml"), crate::server::SLO).unwrap();
    // The compile cache would share the 8 MiB with the ledger.
    std::fs::write(
        dir.path().join("dataslo.toml"),
        "data_dir = \"data\"\nslo_files = [\"slo.yaml\"]\n[engine]\ncache = false\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("first.json"), padded(0)).unwrap();
    let (code, _, stderr) = bounded(dir.path(), &["observe", "first.json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = bounded(dir.path(), &["run", "--once"]);
    assert_eq!(code, Some(0), "{stderr}");

    fill(&data.join("filler"));
    std::fs::create_dir_all(data.join("spool")).ok();
    let lines: Vec<String> = (1..200).map(padded).collect();
    let spooled = data.join("spool/late.ndjson");
    // Writing the spool file itself may hit the full disk: then it holds
    // what fitted, and nothing else is claimed.
    let _ = std::fs::write(&spooled, lines.join("\n"));
    let (code, _, stderr) = bounded(dir.path(), &["run", "--once"]);
    assert_ne!(code, Some(0), "a pass that cannot store fails: {stderr}");
    assert!(stderr.contains("space"), "the cause is named: {stderr}");

    std::fs::write(dir.path().join("more.json"), padded(500)).unwrap();
    let (code, stdout, stderr) = bounded(dir.path(), &["observe", "more.json"]);
    assert_ne!(code, Some(0), "not acknowledged: {stdout}");
    assert!(!stdout.contains("acknowledged"), "{stdout}");
    assert!(stderr.contains("space"), "{stderr}");

    // Space is back: the spool file that was not taken is taken now.
    std::fs::remove_file(data.join("filler")).unwrap();
    let (code, _, stderr) = bounded(dir.path(), &["run", "--once"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        !spooled.exists(),
        "the spool file is ingested once space is back"
    );
    let (code, stdout, stderr) = bounded(dir.path(), &["ledger", "verify"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (_, export, _) = bounded(dir.path(), &["ledger", "export"]);
    assert!(export.lines().count() >= 1, "{export}");
}
