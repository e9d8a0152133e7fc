//! Killed at random: `dataslo agent` SIGKILLed while it publishes, and
//! central (`serve` with `[nats]`) SIGKILLed while it consumes. Restarted,
//! central ends with every record the agent made, exactly once, and
//! `ledger verify` is clean on both sides. Real processes, a real
//! nats-server.

use crate::edge::{central_config, dataslo, spawn, spool, start_agent, terminate};
use crate::support::nats::NatsServer;
use dataslo::ledger::Ledger;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

const SITE: &str = "plant-7";

/// Kill cycles: 20 in the suite; `DATASLO_KILL_CYCLES=100` for a longer run.
fn cycles() -> usize {
    std::env::var("DATASLO_KILL_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// Observations `range` of orders-volume, observation `i` at `start` plus
/// `i` seconds: each has a time of its own, so each makes one record.
fn observations(range: Range<usize>, start: jiff::Timestamp) -> String {
    range
        .map(|i| {
            let at = start + jiff::SignedDuration::from_secs(i as i64);
            let rows = if i % 10 == 3 { 5 } else { 50 + i };
            format!(
                "{{\"dataset\":{{\"namespace\":\"postgres://prod\",\"name\":\"orders\"}},\"observed_at\":\"{at}\",\"row_count\":{rows}}}\n"
            )
        })
        .collect()
}

/// When the first of `n` observations a second apart is, so that the last
/// is a minute in the past (the future is refused).
fn first_observation(n: usize) -> jiff::Timestamp {
    jiff::Timestamp::now() - jiff::SignedDuration::from_secs(n as i64 + 60)
}

/// The keys of the records `ledger export` of `config` shows, in order; a
/// key exported twice appears twice.
fn exported_keys(config: &Path) -> Vec<String> {
    try_exported_keys(config).unwrap_or_else(|e| panic!("ledger export: {e}"))
}

/// As [`exported_keys`], or why not: a process that has just started holds
/// the ledger a moment before it answers on its control socket.
fn try_exported_keys(config: &Path) -> Result<Vec<String>, String> {
    let out = dataslo(&["ledger", "export", "--config", config.to_str().unwrap()]);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(r#"{"chain":"#)) // chain headers
        .map(|l| {
            let line: serde_json::Value = serde_json::from_str(l).unwrap();
            line["key"].as_str().unwrap().to_string()
        })
        .collect())
}

/// `ledger verify` of `config` passes.
fn assert_verified(config: &Path) {
    let out = dataslo(&["ledger", "verify", "--config", config.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "ledger verify {}: {}{}",
        config.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// SIGKILL: no flush, no goodbye.
fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Starts a process with `start` and waits (at most a minute, to catch a
/// hang) until its log, appended to `log`, says `started` once more: till
/// then it may hold the ledger without answering on its control socket, and
/// a `ledger export` that opened the ledger first would make it refuse to start.
fn start_and_await(log: &Path, started: &str, start: impl FnOnce() -> Child) -> Child {
    let said = || {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .matches(started)
            .count()
    };
    let before = said();
    let mut child = start();
    let deadline = Instant::now() + Duration::from_secs(60);
    while said() == before {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "ended with {status} before {started:?}; its log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "never said {started:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// SIGTERM ends `child` with exit code 0.
fn assert_stops_cleanly(child: Child, log: &Path) {
    let code = terminate(child);
    assert_eq!(
        code,
        Some(0),
        "stopped with {code:?}; its log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Records of `tenant` in the ledger under `data` (no process holds it).
fn records_on_disk(data: &Path, tenant: &str) -> usize {
    let ledger = Ledger::open(&data.join("ledger"), "default", 100)
        .unwrap()
        .for_tenant(tenant)
        .unwrap();
    ledger.records(Some("orders-volume"), None).count()
}

/// What a killed agent left on disk: its records, and how many of them
/// wait to be published.
fn agent_on_disk(edge: &Path) -> (usize, u64) {
    let ledger = Ledger::open(&edge.join("data/ledger"), "default", 100).unwrap();
    let backlog = ledger.publish_backlog().unwrap();
    let records = ledger.records(Some("orders-volume"), None).count();
    (records, backlog)
}

/// Waits (at most `limit`, to catch a hang) until the agent holds `n`
/// records and central as many.
fn await_everywhere(agent: &Path, central: &Path, n: usize, limit: Duration, logs: &[&Path]) {
    let deadline = Instant::now() + limit;
    loop {
        let count = |config| try_exported_keys(config).map_or(0, |k| k.len());
        let (at_agent, at_central) = (count(agent), count(central));
        if at_agent >= n && at_central >= n {
            return;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = logs
                .iter()
                .map(|l| std::fs::read_to_string(l).unwrap_or_default())
                .collect();
            panic!(
                "after {limit:?} the agent holds {at_agent} records and central {at_central}, not {n}; logs:\n{}",
                logs.join("\n-----\n")
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The agent made exactly one record per observation, and central holds
/// exactly those, each once, under the agent's key with its site in front.
fn assert_every_record_once(agent: &Path, central: &Path, observations: usize) {
    let at_agent = exported_keys(agent);
    let at_central = exported_keys(central);
    let distinct_at_agent: BTreeSet<&str> = at_agent.iter().map(String::as_str).collect();
    assert_eq!(
        (at_agent.len(), distinct_at_agent.len()),
        (observations, observations),
        "the agent evaluates each observation once"
    );
    let distinct_at_central: BTreeSet<&str> = at_central.iter().map(String::as_str).collect();
    assert_eq!(
        distinct_at_central.len(),
        at_central.len(),
        "a record doubled at central"
    );
    let expected: BTreeSet<String> = at_agent.iter().map(|k| format!("{SITE}.{k}")).collect();
    let held: BTreeSet<String> = at_central.iter().cloned().collect();
    let lost: Vec<_> = expected.difference(&held).collect();
    let strange: Vec<_> = held.difference(&expected).collect();
    assert!(
        lost.is_empty() && strange.is_empty(),
        "lost at central: {lost:?}; at central but not made by the agent: {strange:?}"
    );
}

/// Waits until the agent and central (each a process, its config and its
/// log) both hold `total` records, stops both, and checks every record is at
/// central exactly once and both ledgers verify.
fn settle_and_check(sides: [(Child, &Path, &Path); 2], total: usize, limit: Duration) {
    let [
        (agent, agent_config, agent_log),
        (serve, central_config, serve_log),
    ] = sides;
    await_everywhere(
        agent_config,
        central_config,
        total,
        limit,
        &[agent_log, serve_log],
    );
    // Anything delivered twice would have arrived by now.
    std::thread::sleep(Duration::from_secs(1));
    assert_stops_cleanly(agent, agent_log);
    assert_stops_cleanly(serve, serve_log);
    assert_every_record_once(agent_config, central_config, total);
    assert_verified(agent_config);
    assert_verified(central_config);
}

#[test]
fn an_agent_killed_at_random_while_publishing_loses_and_doubles_nothing_at_central() {
    let Some(nats) = NatsServer::start(
        "an_agent_killed_at_random_while_publishing_loses_and_doubles_nothing_at_central",
    ) else {
        return;
    };
    let started = Instant::now();
    let central = tempfile::tempdir().unwrap();
    let (central_config, _) = central_config(central.path(), &nats.url());
    let serve_log = central.path().join("serve.log");
    let serve = start_and_await(&serve_log, "dataslo serve started", || {
        spawn(
            &["serve", "--config", central_config.to_str().unwrap()],
            &serve_log,
        )
    });
    let edge = tempfile::tempdir().unwrap();
    let agent_config = edge.path().join("dataslo.toml");
    let agent_log = edge.path().join("agent.log");
    let per_cycle = 300;
    let start = first_observation(cycles() * per_cycle);
    let mut rng = StdRng::seed_from_u64(12);
    let mut behind_at_kill = 0;
    for cycle in 0..cycles() {
        spool(
            edge.path(),
            &format!("c{cycle}.ndjson"),
            &observations(cycle * per_cycle..(cycle + 1) * per_cycle, start),
        );
        let agent = start_agent(edge.path(), &nats.url(), SITE);
        std::thread::sleep(Duration::from_millis(rng.random_range(50..800)));
        kill(agent);
        let (records, backlog) = agent_on_disk(edge.path());
        if backlog > 0 {
            behind_at_kill += 1;
        }
        println!("cycle {cycle}: killed holding {records} records, {backlog} unpublished");
    }
    let total = cycles() * per_cycle;
    let agent = start_and_await(&agent_log, "dataslo agent started", || {
        start_agent(edge.path(), &nats.url(), SITE)
    });
    settle_and_check(
        [
            (agent, &agent_config, &agent_log),
            (serve, &central_config, &serve_log),
        ],
        total,
        Duration::from_secs(120),
    );
    println!(
        "agent killed {} times, {behind_at_kill} of them with records unpublished on disk; {total} records; {:?}",
        cycles(),
        started.elapsed()
    );
}

#[test]
fn central_killed_at_random_while_consuming_loses_and_doubles_nothing() {
    let Some(nats) =
        NatsServer::start("central_killed_at_random_while_consuming_loses_and_doubles_nothing")
    else {
        return;
    };
    let started = Instant::now();
    let central = tempfile::tempdir().unwrap();
    let (central_config, _) = central_config(central.path(), &nats.url());
    let serve_log = central.path().join("serve.log");
    let edge = tempfile::tempdir().unwrap();
    let agent_config = edge.path().join("dataslo.toml");
    let agent_log = edge.path().join("agent.log");
    let agent = start_and_await(&agent_log, "dataslo agent started", || {
        start_agent(edge.path(), &nats.url(), SITE)
    });
    let per_cycle = 1500;
    let start = first_observation(cycles() * per_cycle);
    let mut rng = StdRng::seed_from_u64(4);
    let mut behind_at_kill = 0;
    for cycle in 0..cycles() {
        // A backlog in the stream while central is down: it starts with
        // batches to fetch, file and acknowledge.
        let made = (cycle + 1) * per_cycle;
        spool(
            edge.path(),
            &format!("c{cycle}.ndjson"),
            &observations(cycle * per_cycle..made, start),
        );
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::fs::read_to_string(&agent_log)
            .unwrap()
            .matches("spool file ingested")
            .count()
            <= cycle
        {
            assert!(
                Instant::now() < deadline,
                "the agent never evaluated cycle {cycle}; its log:\n{}",
                std::fs::read_to_string(&agent_log).unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let serve = start_and_await(&serve_log, "consuming records", || {
            spawn(
                &["serve", "--config", central_config.to_str().unwrap()],
                &serve_log,
            )
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(0..400)));
        kill(serve);
        let held = records_on_disk(&central.path().join("data"), "acme");
        if held < made {
            behind_at_kill += 1;
        }
        println!("cycle {cycle}: central killed holding {held} of {made} records");
    }
    let total = cycles() * per_cycle;
    let serve = start_and_await(&serve_log, "dataslo serve started", || {
        spawn(
            &["serve", "--config", central_config.to_str().unwrap()],
            &serve_log,
        )
    });
    settle_and_check(
        [
            (agent, &agent_config, &agent_log),
            (serve, &central_config, &serve_log),
        ],
        total,
        // What a killed central fetched and never acknowledged comes again
        // after the consumer's ack wait (30 s).
        Duration::from_secs(180),
    );
    println!(
        "central killed {} times, {behind_at_kill} of them behind the stream; {total} records; {:?}",
        cycles(),
        started.elapsed()
    );
}
