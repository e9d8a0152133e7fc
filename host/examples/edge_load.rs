//! Records per second from agents into central over NATS JetStream, and the
//! lag, on loopback: a real nats-server (temporary store, free port), one
//! `dataslo serve` with `[nats]`, and `--agents N` `dataslo agent`s, each
//! handed `--records M` observations in spool files of 1,000.
//!
//! `cargo build --release -p dataslo --bin dataslo --example edge_load`, then
//! `cargo run --release -p dataslo --example edge_load -- --agents 4`.
//! The `dataslo` binary is the one next to this example's folder
//! (`target/release/dataslo`), or `$DATASLO_BIN`.
//!
//! Every 50 ms the program asks each process, on its control socket, how
//! many records its status window holds: A(t) summed over the agents (records
//! filed at the edge), C(t) at central. Rates are between the first and the
//! last sample that saw a change. The lag of record n is the time from A
//! reaching n to C reaching n (the horizontal distance between the two
//! curves: exact when records reach central in the order the agents filed
//! them, and to within a sample).

#[path = "../../tests/support/nats.rs"]
#[allow(dead_code)]
mod nats;

use dataslo::service::control::{Question, ask};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SLO: &str = include_str!("../../tests/support/orders-volume.yaml");
const SAMPLE: Duration = Duration::from_millis(50);
const FILE: usize = 1_000;

fn main() {
    let mut agents = 1usize;
    let mut records = 20_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (arg.as_str(), value) {
            ("--agents", Some(v)) if v > 0 => agents = v,
            ("--records", Some(v)) if v > 0 => records = v,
            _ => {
                eprintln!("usage: edge_load [--agents N] [--records PER_AGENT]");
                std::process::exit(2);
            }
        }
    }
    let Some(binary) = dataslo_binary() else {
        eprintln!(
            "no dataslo binary next to this example: build it with \
             `cargo build --release -p dataslo --bin dataslo` or set DATASLO_BIN"
        );
        std::process::exit(2);
    };
    let Some(nats) = nats::NatsServer::start("edge_load") else {
        return;
    };
    let root = tempfile::tempdir().expect("a temporary folder");
    let total = (agents * records) as u64;

    let central = root.path().join("central");
    let central_log = central.join("serve.log");
    let serve = start(
        &binary,
        "serve",
        &central_config(&central, &nats.url()),
        &central_log,
    );
    await_log(&central_log, "consuming records");
    let mut edges = Vec::new();
    for i in 0..agents {
        let dir = root.path().join(format!("agent-{i}"));
        let log = dir.join("agent.log");
        let child = start(
            &binary,
            "agent",
            &agent_config(&dir, &nats.url(), &format!("site-{i}")),
            &log,
        );
        edges.push((dir, log, child));
    }
    for (_, log, _) in &edges {
        await_log(log, "dataslo agent started");
    }

    // A second apart, the last a minute ago: all in the SLO's one-day window.
    let first = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(records as i64 + 60);
    for (dir, _, _) in &edges {
        spool(dir, first, records);
    }
    let started = Instant::now();
    let mut samples: Vec<(Duration, u64, u64)> = Vec::new();
    let deadline = started + Duration::from_secs(1_800);
    loop {
        let at = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(1);
        let filed: u64 = edges
            .iter()
            .map(|(dir, _, _)| held(&dir.join("data"), "default", at))
            .sum();
        let central_holds = held(&central.join("data"), "acme", at);
        samples.push((started.elapsed(), filed, central_holds));
        if central_holds >= total {
            break;
        }
        if Instant::now() > deadline {
            eprintln!(
                "after {:?} the agents filed {filed} and central holds {central_holds} of {total}",
                deadline - started
            );
            std::process::exit(1);
        }
        std::thread::sleep(SAMPLE);
    }

    let filed_rate = rate(&samples, |s| s.1, total);
    let central_rate = rate(&samples, |s| s.2, total);
    let mut lags: Vec<Duration> = (1..=total)
        .step_by((total / 1_000).max(1) as usize)
        .map(|n| reached(&samples, |s| s.2, n).saturating_sub(reached(&samples, |s| s.1, n)))
        .collect();
    lags.sort();
    let quantile = |q: f64| lags[((lags.len() - 1) as f64 * q).round() as usize];

    println!(
        "| agents | records | filed at the agents | filed at central | lag p50 | lag p99 | lag max |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {agents} | {total} | {filed_rate:.0}/s | {central_rate:.0}/s | {:.2} s | {:.2} s | {:.2} s |",
        quantile(0.5).as_secs_f64(),
        quantile(0.99).as_secs_f64(),
        quantile(1.0).as_secs_f64()
    );

    stop(serve);
    for (_, _, child) in edges {
        stop(child);
    }
    drop(nats);
}

/// `target/<profile>/dataslo`, next to `target/<profile>/examples/`, or `$DATASLO_BIN`.
fn dataslo_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DATASLO_BIN") {
        return Some(path.into());
    }
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("dataslo");
    path.is_file().then_some(path)
}

/// The records (measured or failed) `tenant`'s orders-volume window holds in the process that
/// holds `data`; 0 while it does not answer yet.
fn held(data: &Path, tenant: &str, at: jiff::Timestamp) -> u64 {
    let question = Question::Status {
        tenant: tenant.into(),
        at,
    };
    ask(data, &question)
        .ok()
        .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok())
        .map(|report| {
            // A failed evaluation (a deadline missed on a loaded machine) is a record too.
            let window = &report["slos"][0]["objectives"][0]["window"];
            window["evaluations"].as_u64().unwrap_or(0) + window["errors"].as_u64().unwrap_or(0)
        })
        .unwrap_or(0)
}

/// When the count `of` first reached `n`.
fn reached(
    samples: &[(Duration, u64, u64)],
    of: impl Fn(&(Duration, u64, u64)) -> u64,
    n: u64,
) -> Duration {
    samples
        .iter()
        .find(|s| of(s) >= n)
        .map_or(Duration::MAX, |s| s.0)
}

/// Records per second between the first sample that saw one and the one
/// that saw all `total`.
fn rate(
    samples: &[(Duration, u64, u64)],
    of: impl Fn(&(Duration, u64, u64)) -> u64,
    total: u64,
) -> f64 {
    let Some(first) = samples.iter().find(|s| of(s) > 0) else {
        return 0.0;
    };
    let Some(last) = samples.iter().find(|s| of(s) >= total) else {
        return 0.0;
    };
    let seconds = (last.0 - first.0).as_secs_f64().max(SAMPLE.as_secs_f64());
    (total - of(first)) as f64 / seconds
}

fn central_config(dir: &Path, nats: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("central's folder");
    std::fs::write(dir.join("slo.yaml"), SLO).expect("central's SLO");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let path = dir.join("dataslo.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"data\"\npoll_interval = \"50ms\"\n\
             [nats]\nurl = \"{nats}\"\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n\
             [[tenants]]\nname = \"acme\"\ntoken_sha256 = [\"{}\"]\nslo_files = [\"slo.yaml\"]\n",
            dataslo::service::token_hash("acme-secret")
        ),
    )
    .expect("central's config");
    path
}

fn agent_config(dir: &Path, nats: &str, site: &str) -> PathBuf {
    std::fs::create_dir_all(dir.join("data/spool")).expect("an agent's spool");
    std::fs::write(dir.join("slo.yaml"), SLO).expect("an agent's SLO");
    let path = dir.join("dataslo.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"data\"\nslo_files = [\"slo.yaml\"]\npoll_interval = \"50ms\"\n\
             [agent]\nsite = \"{site}\"\ntenant = \"acme\"\n[nats]\nurl = \"{nats}\"\n"
        ),
    )
    .expect("an agent's config");
    path
}

/// `records` observations a second apart from `first`, in spool files of
/// [`FILE`], each written aside and renamed in.
fn spool(dir: &Path, first: jiff::Timestamp, records: usize) {
    let spool = dir.join("data/spool");
    for start in (0..records).step_by(FILE) {
        let text: String = (start..(start + FILE).min(records))
            .map(|i| {
                let at = first + jiff::SignedDuration::from_secs(i as i64);
                let rows = if i % 10 == 3 { 5 } else { 50 + i };
                format!(
                    "{{\"dataset\":{{\"namespace\":\"postgres://prod\",\"name\":\"orders\"}},\"observed_at\":\"{at}\",\"row_count\":{rows}}}\n"
                )
            })
            .collect();
        let name = format!("{start:08}.ndjson");
        let part = spool.join(format!("{name}.part"));
        std::fs::write(&part, text).expect("a spool file");
        std::fs::rename(&part, spool.join(name)).expect("a spool file renamed");
    }
}

fn start(binary: &Path, command: &str, config: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("a log file");
    Command::new(binary)
        .args([command, "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the dataslo binary starts")
}

/// Waits (two minutes at most) until `log` says `text`.
fn await_log(log: &Path, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains(text)
    {
        if Instant::now() > deadline {
            eprintln!(
                "{} never said {text:?}:\n{}",
                log.display(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM, then waits.
fn stop(mut child: Child) {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}
