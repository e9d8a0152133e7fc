//! `status`, `ledger verify` and `ledger export` on the data directory of a
//! `serve` with two tenants: they read every tenant of the config, or those
//! named by `--tenant`; a tenant that cannot be read fails `verify`; a data
//! directory without a ledger is an error, not an empty ledger. And a reader
//! that closes the pipe ends the command quietly, as it ends `cat`.

use crate::server::{ACME, GLOBEX, JSON, OBS, post, start};
use dataslo::service::token_hash;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn dataslo(args: &[&str], config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("dataslo runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A stopped two-tenant server's folder, and a config naming its tenants
/// (with `extra` tenants appended): acme holds two records, globex one.
fn served(extra: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let server = start();
    let later = OBS.replace("08:00:00Z", "08:05:00Z");
    for (token, body) in [(ACME, OBS), (ACME, later.as_str()), (GLOBEX, OBS)] {
        let (status, answer) = post(
            &server,
            "/v1/observations?wait=evaluated",
            token,
            JSON,
            body,
        );
        assert_eq!(status, 200, "{answer}");
    }
    let dir = server.stop();
    // sled releases its file lock from a background thread, a moment later.
    let db = std::fs::File::open(dir.path().join("ledger/db")).unwrap();
    let free = (0..250).any(|_| {
        let ok = db.try_lock().is_ok();
        if !ok {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        ok
    });
    assert!(free, "the ledger stays locked");
    drop(db);
    // The test server keeps its ledger in <dir>/ledger.
    let mut config = String::from("data_dir = \".\"\n");
    for name in ["acme", "globex"].iter().chain(extra) {
        config.push_str(&format!(
            "[[tenants]]\nname = \"{name}\"\ntoken_sha256 = [\"{}\"]\nslo_files = [\"slo.yaml\"]\n",
            token_hash(&format!("{name}-secret"))
        ));
    }
    let path = dir.path().join("dataslo.toml");
    std::fs::write(&path, config).unwrap();
    (dir, path)
}

#[test]
fn ledger_verify_and_export_read_every_tenant_of_the_config() {
    let (_dir, config) = served(&[]);
    let out = dataslo(&["ledger", "verify"], &config);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("tenant acme: 2 record(s)"), "{stdout}");
    assert!(stdout.contains("tenant globex: 1 record(s)"), "{stdout}");

    let out = dataslo(&["ledger", "export"], &config);
    let tenants: Vec<String> = text(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(r#"{"chain":"#)) // chain headers
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| v["tenant"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tenants, ["acme", "acme", "globex"]);

    let out = dataslo(&["ledger", "export", "--tenant", "globex"], &config);
    assert_eq!(
        text(&out.stdout).lines().count(),
        2,
        "a chain header, 1 record"
    );
    let out = dataslo(&["ledger", "verify", "--tenant", "globex"], &config);
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("acme"), "{stdout}");
}

#[test]
fn status_shows_each_tenant_and_one_named_tenant_as_before() {
    let (_dir, config) = served(&[]);
    let out = dataslo(&["status"], &config);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for part in ["tenant acme", "tenant globex", "orders-volume"] {
        assert!(stdout.contains(part), "{stdout}");
    }

    let out = dataslo(&["status", "--format", "json", "--tenant", "acme"], &config);
    let one: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(one["slos"][0]["slo"], "orders-volume");
    let out = dataslo(&["status", "--format", "json"], &config);
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<_> = all["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme", "globex"]);
}

#[test]
fn an_unknown_tenant_is_an_error_naming_the_known_ones() {
    let (_dir, config) = served(&[]);
    for command in [
        &["status"][..],
        &["ledger", "verify"],
        &["ledger", "export"],
    ] {
        let args: Vec<&str> = command
            .iter()
            .copied()
            .chain(["--tenant", "initech"])
            .collect();
        let out = dataslo(&args, &config);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(
            stderr.contains("\"initech\"") && stderr.contains("acme, globex"),
            "{stderr}"
        );
    }
}

#[test]
fn verify_fails_when_a_tenant_of_the_config_cannot_be_read() {
    let (_dir, config) = served(&["initech"]);
    let out = dataslo(&["ledger", "verify"], &config);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("tenant acme: 2 record(s)"), "{stdout}");
    assert!(
        stdout.contains("unreadable  tenant initech: not in this ledger"),
        "{stdout}"
    );
    assert!(text(&out.stderr).contains("initech"));
}

#[test]
fn a_data_dir_without_a_ledger_is_an_error_and_stays_empty() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("nowhere");
    for command in [
        &["status"][..],
        &["ledger", "verify"],
        &["ledger", "export"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_dataslo"))
            .args(command)
            .arg("--data-dir")
            .arg(&missing)
            .current_dir(parent.path())
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(
            stderr.contains("no ledger in") && stderr.contains("nowhere"),
            "{stderr}"
        );
        assert!(
            !missing.exists(),
            "{command:?} created {}",
            missing.display()
        );
    }
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (_dir, config) = served(&[]);
    // The reader is gone before the command writes its first line.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["status", "--config"])
        .arg(&config)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // And through a shell pipeline, as a user types it.
    let line = format!(
        "{} ledger export --config {} | head -1",
        env!("CARGO_BIN_EXE_dataslo"),
        config.display()
    );
    let out = Command::new("sh").args(["-c", &line]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().count(), 1);
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
}
