//! `dataslo ledger rebuild`: central's ledger, lost, is filled again from
//! the stream `DATASLO_RECORDS`; only ever into an empty ledger.

use crate::edge::{
    await_records, central_config, dataslo, observations, spawn, spool, start_agent, status,
    terminate,
};
use crate::support::nats::NatsServer;
use std::path::Path;
use std::time::Duration;

/// `ledger export` of tenant `acme`, as text.
fn export(config: &Path) -> String {
    let out = dataslo(&[
        "ledger",
        "export",
        "--config",
        config.to_str().unwrap(),
        "--tenant",
        "acme",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `ledger rebuild --config config`.
fn rebuild(config: &Path) -> std::process::Output {
    dataslo(&["ledger", "rebuild", "--config", config.to_str().unwrap()])
}

/// The config at `config` with its data in `data_dir` instead.
fn elsewhere(config: &Path, data_dir: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(config).unwrap();
    let moved = config.with_file_name(format!("{data_dir}.toml"));
    std::fs::write(
        &moved,
        text.replace("data_dir = \"data\"", &format!("data_dir = \"{data_dir}\"")),
    )
    .unwrap();
    moved
}

/// Waits (at most `limit`, to catch a hang) until central's clock pass has
/// judged the records it received: alerts are judged by that pass, not as
/// records arrive, so a pass that ran before them left `no-data` firing.
fn await_judged(port: u16, limit: Duration) {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let firing = crate::server::agent()
            .get(&format!("http://127.0.0.1:{port}/v1/slos"))
            .header("Authorization", "Bearer acme-secret")
            .call()
            .ok()
            .and_then(|mut a| a.body_mut().read_json::<serde_json::Value>().ok())
            .map(|status| status["slos"][0]["firing"].clone());
        if firing == Some(serde_json::json!([])) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "central still fires {firing:?} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_ledger_rebuilt_from_the_stream_has_the_status_and_export_of_the_original() {
    let Some(nats) = NatsServer::start(
        "a_ledger_rebuilt_from_the_stream_has_the_status_and_export_of_the_original",
    ) else {
        return;
    };
    let central = tempfile::tempdir().unwrap();
    let (original, port) = central_config(central.path(), &nats.url());
    let serve_log = central.path().join("serve.log");
    let serve = spawn(
        &["serve", "--config", original.to_str().unwrap()],
        &serve_log,
    );
    let edge = tempfile::tempdir().unwrap();
    let agent = start_agent(edge.path(), &nats.url(), "plant-7");
    let now = jiff::Timestamp::now();
    spool(edge.path(), "batch.ndjson", &observations(60, now));
    let agent_log = edge.path().join("agent.log");
    await_records(port, 60, Duration::from_secs(60), &[&agent_log, &serve_log]);
    await_judged(port, Duration::from_secs(60));
    assert_eq!(terminate(agent), Some(0));
    assert_eq!(terminate(serve), Some(0));

    let rebuilt = elsewhere(&original, "rebuilt");
    let out = rebuild(&rebuilt);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("tenant acme: 60 record(s) from stream DATASLO_RECORDS"),
        "{stdout}"
    );

    // After the rebuild, so that the alerts it evaluated count too.
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(1);
    let before = status(&original, at, Some("acme"));
    assert_eq!(before["slos"][0]["objectives"][0]["window"]["total"], 60);
    assert_eq!(status(&rebuilt, at, Some("acme")), before);
    let exported = export(&original);
    assert_eq!(exported.lines().count(), 61, "a chain header, 60 records");
    assert_eq!(export(&rebuilt), exported);
    let verified = dataslo(&["ledger", "verify", "--config", rebuilt.to_str().unwrap()]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

#[test]
fn rebuild_refuses_a_ledger_that_holds_records_and_a_config_without_nats() {
    let dir = tempfile::tempdir().unwrap();
    let (serve, base) = crate::serve_process::start_serve(dir.path(), "", "");
    let (code, body) = crate::server::send(
        "POST",
        &format!("{base}/v1/observations?wait=evaluated"),
        Some("acme-secret"),
        "application/json",
        crate::serve_process::observation(50).as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    let (code, log) = crate::serve_process::stop(serve, dir.path());
    assert_eq!(code, Some(0), "{log}");

    let config = dir.path().join("dataslo.toml");
    let out = rebuild(&config);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("set [nats] url"), "{stderr}");

    // Nothing listens there: the refusal comes before any connection.
    let with_nats = dir.path().join("with-nats.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &with_nats,
        format!("{text}\n[nats]\nurl = \"nats://127.0.0.1:1\"\n"),
    )
    .unwrap();
    let out = rebuild(&with_nats);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let ledger_dir = dir.path().join("data").join("ledger");
    assert!(
        stderr.contains(&format!(
            "the ledger in {} already holds records of tenant acme",
            ledger_dir.display()
        )),
        "{stderr}"
    );
}
