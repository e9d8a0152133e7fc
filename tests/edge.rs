//! At the edge: `dataslo agent` evaluates next to the data and publishes its
//! records through a real nats-server (JetStream) to `dataslo serve`, which
//! files them into the tenant's ledger as if it had evaluated them itself.

use crate::serve_process::free_port;
use crate::server::SLO;
use crate::support::nats::NatsServer;
use dataslo::service::token_hash;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `n` observations of the orders-volume dataset, a minute apart, ending a
/// minute before `end`; every tenth has too few rows.
pub(crate) fn observations(n: usize, end: jiff::Timestamp) -> String {
    observations_every(jiff::SignedDuration::from_mins(1), n, end)
}

/// As [`observations`], `step` apart.
pub(crate) fn observations_every(
    step: jiff::SignedDuration,
    n: usize,
    end: jiff::Timestamp,
) -> String {
    (0..n)
        .map(|i| {
            let at = end - step * (n - i) as i32;
            let rows = if i % 10 == 3 { 5 } else { 50 + i };
            format!(
                "{{\"dataset\":{{\"namespace\":\"postgres://prod\",\"name\":\"orders\"}},\"observed_at\":\"{at}\",\"row_count\":{rows}}}\n"
            )
        })
        .collect()
}

pub(crate) fn dataslo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .output()
        .unwrap()
}

/// `status --format json --at at` of the config, parsed.
pub(crate) fn status(
    config: &Path,
    at: jiff::Timestamp,
    tenant: Option<&str>,
) -> serde_json::Value {
    let config = config.to_str().unwrap();
    let at = at.to_string();
    let mut args = vec![
        "status", "--config", config, "--format", "json", "--at", &at,
    ];
    if let Some(t) = tenant {
        args.extend(["--tenant", t]);
    }
    let out = dataslo(&args);
    assert!(
        out.status.success(),
        "status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Writes the config of a central `serve` for tenant `acme` using `nats`
/// into `dir`; returns the config's path and its HTTP port.
pub(crate) fn central_config(dir: &Path, nats: &str) -> (std::path::PathBuf, u16) {
    central_config_with(dir, nats, SLO, "")
}

/// As [`central_config`], with the SLOs `slos` and the TOML sections
/// `sections` (e.g. `[central]` lines).
pub(crate) fn central_config_with(
    dir: &Path,
    nats: &str,
    slos: &str,
    sections: &str,
) -> (std::path::PathBuf, u16) {
    let port = free_port();
    std::fs::write(dir.join("slo.yaml"), slos).unwrap();
    let path = dir.join("dataslo.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"data\"\npoll_interval = \"50ms\"\n\
             [nats]\nurl = \"{nats}\"\n\
             {sections}\
             [server]\nlisten = \"127.0.0.1:{port}\"\n\
             [[tenants]]\nname = \"acme\"\ntoken_sha256 = [\"{}\"]\nslo_files = [\"slo.yaml\"]\n",
            token_hash("acme-secret")
        ),
    )
    .unwrap();
    (path, port)
}

/// Starts a process of the dataslo binary, its log appended to `log` (a
/// process started again adds to the log of the one before).
pub(crate) fn spawn(args: &[&str], log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// SIGTERM, and the exit code.
pub(crate) fn terminate(mut child: Child) -> Option<i32> {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap().code()
}

/// A deadline no loaded machine misses: a test comparing two places'
/// figures must not see a deadline error in one of them only.
const WIDE_DEADLINE: &str = "[limits]\ndeadline = \"10s\"\n";

/// Starts `dataslo agent` at `site` for tenant `acme` in `dir`.
pub(crate) fn start_agent(dir: &Path, nats: &str, site: &str) -> Child {
    start_agent_with(dir, nats, site, "")
}

/// An agent whose `[agent]` also has the lines of `agent_extra`.
pub(crate) fn start_agent_with(dir: &Path, nats: &str, site: &str, agent_extra: &str) -> Child {
    std::fs::write(dir.join("slo.yaml"), SLO).unwrap();
    let config = dir.join("dataslo.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\nslo_files = [\"slo.yaml\"]\npoll_interval = \"50ms\"\n\
             [agent]\nsite = \"{site}\"\ntenant = \"acme\"\n{agent_extra}[nats]\nurl = \"{nats}\"\n"
        ),
    )
    .unwrap();
    spawn(
        &["agent", "--config", config.to_str().unwrap()],
        &dir.join("agent.log"),
    )
}

/// The orders-volume records central holds for `acme`, by its API.
pub(crate) fn central_records(port: u16) -> Option<Vec<serde_json::Value>> {
    slo_records(port, "orders-volume")
}

/// The records of `slo` the serve on `port` holds for `acme`, by its API.
pub(crate) fn slo_records(port: u16, slo: &str) -> Option<Vec<serde_json::Value>> {
    let mut answer = crate::server::agent()
        .get(&format!("http://127.0.0.1:{port}/v1/slos/{slo}/events"))
        .header("Authorization", "Bearer acme-secret")
        .call()
        .ok()?;
    let records: serde_json::Value = answer.body_mut().read_json().ok()?;
    records.as_array().cloned()
}

/// Waits (at most `limit`, to catch a hang) until central holds `n` records.
pub(crate) fn await_records(
    port: u16,
    n: usize,
    limit: Duration,
    logs: &[&Path],
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(records) = central_records(port)
            && records.len() >= n
        {
            return records;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = logs
                .iter()
                .map(|l| std::fs::read_to_string(l).unwrap_or_default())
                .collect();
            panic!(
                "central holds {:?} records, not {n}, after {limit:?}; logs:\n{}",
                central_records(port).map(|r| r.len()),
                logs.join("\n-----\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn records_evaluated_at_an_agent_give_central_the_status_of_one_run() {
    let Some(nats) =
        NatsServer::start("records_evaluated_at_an_agent_give_central_the_status_of_one_run")
    else {
        return;
    };
    let now = jiff::Timestamp::now();
    let batch = observations(40, now);

    // One `run` on one machine.
    let alone = tempfile::tempdir().unwrap();
    std::fs::write(alone.path().join("slo.yaml"), SLO).unwrap();
    std::fs::create_dir_all(alone.path().join("data/spool")).unwrap();
    std::fs::write(alone.path().join("data/spool/batch.ndjson"), &batch).unwrap();
    let run_config = alone.path().join("dataslo.toml");
    std::fs::write(
        &run_config,
        format!("data_dir = \"data\"\nslo_files = [\"slo.yaml\"]\n{WIDE_DEADLINE}"),
    )
    .unwrap();
    let out = dataslo(&["run", "--config", run_config.to_str().unwrap(), "--once"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same observations through an agent, JetStream and central.
    let central = tempfile::tempdir().unwrap();
    let (central_config, port) = central_config(central.path(), &nats.url());
    let serve_log = central.path().join("serve.log");
    let serve = spawn(
        &["serve", "--config", central_config.to_str().unwrap()],
        &serve_log,
    );
    let edge = tempfile::tempdir().unwrap();
    let agent = start_agent_with(edge.path(), &nats.url(), "plant-7", WIDE_DEADLINE);
    std::fs::create_dir_all(edge.path().join("data/spool")).unwrap();
    std::fs::write(edge.path().join("data/spool/batch.ndjson.part"), &batch).unwrap();
    std::fs::rename(
        edge.path().join("data/spool/batch.ndjson.part"),
        edge.path().join("data/spool/batch.ndjson"),
    )
    .unwrap();
    let agent_log = edge.path().join("agent.log");
    let records = await_records(port, 40, Duration::from_secs(60), &[&agent_log, &serve_log]);
    assert!(
        records
            .iter()
            .all(|r| r["key"].as_str().unwrap().starts_with("plant-7.")),
        "every key names its site"
    );
    // No record twice, however often it was delivered.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(central_records(port).unwrap().len(), 40);
    assert_eq!(terminate(agent), Some(0));
    assert_eq!(terminate(serve), Some(0));

    let at = now + jiff::SignedDuration::from_mins(1);
    let one_run = status(&run_config, at, None);
    assert_eq!(status(&central_config, at, Some("acme")), one_run);
    // And the agent's own status, at the edge, is the same.
    assert_eq!(status(&edge.path().join("dataslo.toml"), at, None), one_run);
    assert_eq!(one_run["slos"][0]["objectives"][0]["window"]["total"], 40);
}

/// Hands `text` to the agent's spool in one piece (written aside, renamed).
pub(crate) fn spool(edge: &Path, name: &str, text: &str) {
    let dir = edge.join("data/spool");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.part")), text).unwrap();
    std::fs::rename(dir.join(format!("{name}.part")), dir.join(name)).unwrap();
}

/// Waits (at most `limit`, to catch a hang) until `log` says `text`.
pub(crate) fn await_log(log: &Path, text: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains(text)
    {
        assert!(
            Instant::now() < deadline,
            "{} never said {text:?}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A central `serve` and an agent at plant-7 (its `[agent]` extended by
/// `agent_extra`), both on `nats`.
struct Pair {
    port: u16,
    serve: Child,
    serve_log: std::path::PathBuf,
    edge: tempfile::TempDir,
    agent: Child,
    agent_log: std::path::PathBuf,
    central_data: std::path::PathBuf,
    _central: tempfile::TempDir,
}

impl Pair {
    fn start(nats: &NatsServer, agent_extra: &str) -> Pair {
        let central = tempfile::tempdir().unwrap();
        let (central_config, port) = central_config(central.path(), &nats.url());
        let serve_log = central.path().join("serve.log");
        let serve = spawn(
            &["serve", "--config", central_config.to_str().unwrap()],
            &serve_log,
        );
        let edge = tempfile::tempdir().unwrap();
        let agent = start_agent_with(edge.path(), &nats.url(), "plant-7", agent_extra);
        let agent_log = edge.path().join("agent.log");
        Pair {
            port,
            serve,
            serve_log,
            edge,
            agent,
            agent_log,
            central_data: central.path().join("data"),
            _central: central,
        }
    }

    fn await_records(&self, n: usize, limit: Duration) -> Vec<serde_json::Value> {
        await_records(self.port, n, limit, &[&self.agent_log, &self.serve_log])
    }

    /// Central ends with `n` records, no key twice; both stop cleanly.
    fn finish_with_every_record_once(self, n: usize) {
        self.await_records(n, Duration::from_secs(90));
        // Anything delivered twice would have arrived by now.
        std::thread::sleep(Duration::from_secs(1));
        let records = central_records(self.port).expect("central answers");
        let keys: std::collections::BTreeSet<&str> =
            records.iter().map(|r| r["key"].as_str().unwrap()).collect();
        assert_eq!(
            (records.len(), keys.len()),
            (n, n),
            "every record, none twice"
        );
        assert_eq!(terminate(self.agent), Some(0));
        assert_eq!(terminate(self.serve), Some(0));
    }
}

/// How many orders-volume records central's window holds, by its API (a
/// record filed twice counts once: the ledger is idempotent by key).
fn central_total(port: u16) -> Option<u64> {
    let mut answer = crate::server::agent()
        .get(&format!("http://127.0.0.1:{port}/v1/slos/orders-volume"))
        .header("Authorization", "Bearer acme-secret")
        .call()
        .ok()?;
    let slo: serde_json::Value = answer.body_mut().read_json().ok()?;
    Some(records_in(&slo["objectives"][0]["window"]))
}

/// The records a status window counts: measured, and failed (a deadline
/// missed on a loaded machine fails an evaluation, and records it).
fn records_in(window: &serde_json::Value) -> u64 {
    window["evaluations"].as_u64().unwrap_or(0) + window["errors"].as_u64().unwrap_or(0)
}

/// The keys of the orders-volume records in the ledger under `data` (no
/// process holds it), of `tenant`.
fn keys_on_disk(data: &Path, tenant: &str) -> Vec<String> {
    let ledger = dataslo::ledger::Ledger::open(&data.join("ledger"), "default", 100)
        .unwrap()
        .for_tenant(tenant)
        .unwrap();
    ledger
        .records(Some("orders-volume"), None)
        .map(|r| r.unwrap().key)
        .collect()
}

/// The largest backlog (`behind=N`) the agent's log reported.
fn largest_backlog_logged(log: &Path) -> u64 {
    let log = std::fs::read_to_string(log).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("records wait in the ledger to be published"))
        .filter_map(|l| l.split("behind=").nth(1))
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn an_agent_keeps_evaluating_through_a_nats_outage_and_central_ends_with_every_record_once() {
    const N: usize = 10_000;
    const BEFORE: usize = 10;
    let Some(mut nats) = NatsServer::start(
        "an_agent_keeps_evaluating_through_a_nats_outage_and_central_ends_with_every_record_once",
    ) else {
        return;
    };
    let pair = Pair::start(&nats, "");
    let edge_config = pair.edge.path().join("dataslo.toml");
    let logs = [pair.agent_log.as_path(), pair.serve_log.as_path()];
    let dump = || {
        logs.iter()
            .map(|l| std::fs::read_to_string(l).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n-----\n")
    };
    // A second apart, so that all 10,000 fall in the SLO's one-day window.
    let now = jiff::Timestamp::now();
    let all = observations_every(jiff::SignedDuration::from_secs(1), N, now);
    let lines: Vec<&str> = all.lines().collect();
    let text = |range: std::ops::Range<usize>| -> String {
        lines[range].iter().map(|l| format!("{l}\n")).collect()
    };
    // Both are connected and the stream exists before the outage.
    spool(pair.edge.path(), "a.ndjson", &text(0..BEFORE));
    pair.await_records(BEFORE, Duration::from_secs(60));

    nats.stop();
    // The rest in spool files of a thousand observations (the last a few short).
    let mut from = BEFORE;
    while from < N {
        let to = (from + 1_000).min(N);
        spool(
            pair.edge.path(),
            &format!("b{from:05}.ndjson"),
            &text(from..to),
        );
        from = to;
    }
    // Offline, the agent evaluates everything and answers status locally.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let edge_status = status(&edge_config, now + jiff::SignedDuration::from_mins(1), None);
        if records_in(&edge_status["slos"][0]["objectives"][0]["window"]) == N as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent never evaluated the spool offline: {edge_status}\n{}",
            dump()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Its log says how far behind it is: every record made offline waits.
    let deadline = Instant::now() + Duration::from_secs(120);
    while largest_backlog_logged(&pair.agent_log) < (N - BEFORE) as u64 {
        assert!(
            Instant::now() < deadline,
            "the agent's log never showed its backlog of {}:\n{}",
            N - BEFORE,
            dump()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(central_total(pair.port), Some(BEFORE as u64));

    nats.restart();
    let deadline = Instant::now() + Duration::from_secs(600);
    while central_total(pair.port).is_none_or(|total| total < N as u64) {
        assert!(
            Instant::now() < deadline,
            "central holds {:?} of {N} records after the outage:\n{}",
            central_total(pair.port),
            dump()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Anything delivered twice would have arrived by now.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(terminate(pair.agent), Some(0), "{}", dump());
    assert_eq!(terminate(pair.serve), Some(0), "{}", dump());

    // Counted on disk, both stopped: central holds each of the agent's
    // records exactly once, under its key with the site in front.
    let at_agent = keys_on_disk(&pair.edge.path().join("data"), "default");
    let at_central = keys_on_disk(&pair.central_data, "acme");
    let expected: std::collections::BTreeSet<String> =
        at_agent.iter().map(|k| format!("plant-7.{k}")).collect();
    let held: std::collections::BTreeSet<String> = at_central.iter().cloned().collect();
    assert_eq!(
        (at_agent.len(), expected.len()),
        (N, N),
        "one record per observation"
    );
    assert_eq!(
        (at_central.len(), held.len()),
        (N, N),
        "every record, none twice"
    );
    assert_eq!(held, expected);
}

#[test]
fn an_agent_without_a_site_or_a_nats_url_is_refused_naming_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("edge.toml");
    std::fs::write(&config, "[agent]\nsite = \"plant-7\"\ntenant = \"acme\"\n").unwrap();
    let out = dataslo(&["agent", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("edge.toml: nats.url: an agent publishes"),
        "{stderr}"
    );
    std::fs::write(&config, "[nats]\nurl = \"nats://127.0.0.1:4222\"\n").unwrap();
    let out = dataslo(&["agent", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("[agent] section"), "{stderr}");
}

#[test]
fn a_full_buffer_leaves_observations_in_the_spool_until_the_stream_takes_records_again() {
    let Some(mut nats) = NatsServer::start(
        "a_full_buffer_leaves_observations_in_the_spool_until_the_stream_takes_records_again",
    ) else {
        return;
    };
    let pair = Pair::start(&nats, "max_unpublished = 20\n");
    let edge = pair.edge.path();
    let all = observations(100, jiff::Timestamp::now());
    let lines: Vec<&str> = all.lines().collect();
    let file = |name: &str, range: std::ops::Range<usize>| {
        let text: String = lines[range].iter().map(|l| format!("{l}\n")).collect();
        spool(edge, name, &text);
    };
    file("a.ndjson", 0..10);
    pair.await_records(10, Duration::from_secs(60));

    nats.stop();
    file("b.ndjson", 10..40);
    // 30 unpublished records: past the bound of 20, so the next files wait.
    await_log(
        &pair.agent_log,
        "the agent's buffer is full",
        Duration::from_secs(60),
    );
    file("c.ndjson", 40..70);
    file("d.ndjson", 70..100);
    std::thread::sleep(Duration::from_secs(1));
    for name in ["c.ndjson", "d.ndjson"] {
        assert!(
            edge.join("data/spool").join(name).exists(),
            "{name} waits in the spool"
        );
    }

    nats.restart();
    pair.finish_with_every_record_once(100);
}
