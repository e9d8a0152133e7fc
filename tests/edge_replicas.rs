//! More than one central replica, and where each SLO runs: two `dataslo
//! serve` processes of one tenant keep each a whole view of the record
//! stream; one at a time holds the tick lease and ticks the scheduled SLOs;
//! `sites:` sends a scheduled SLO to the agents it names. Real processes, a
//! real nats-server.

use crate::edge::{
    await_log, central_config_with, dataslo, observations, slo_records, spawn, status, terminate,
};
use crate::server::SLO;
use crate::support::nats::NatsServer;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// A scheduled freshness SLO named `name` ticking every second, its dataslo
/// source extended by `extra` (e.g. `, sites: [plant-7]`).
pub(crate) fn fresh(name: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: {name} }}
spec:
  indicator:
    metadata: {{ name: f }}
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "builtin:freshness", config: {{ max_age: 2h }}, sli: freshness, trigger: {{ schedule: 1s }}{extra} }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: lte, value: 7200, target: 0.9 }}]
"#
    )
}

/// A central replica of tenant `acme` in `dir`: its config (SLOs `slos`,
/// `[central]` lines `central`), HTTP port and log.
pub(crate) struct Replica {
    pub(crate) config: PathBuf,
    pub(crate) port: u16,
    pub(crate) log: PathBuf,
}

impl Replica {
    pub(crate) fn new(dir: &Path, nats: &str, slos: &str, central: &str) -> Replica {
        let sections = format!("[central]\n{central}");
        let (config, port) = central_config_with(dir, nats, slos, &sections);
        Replica {
            config,
            port,
            log: dir.join("serve.log"),
        }
    }

    pub(crate) fn start(&self) -> Child {
        spawn(
            &["serve", "--config", self.config.to_str().unwrap()],
            &self.log,
        )
    }

    /// The records of `slo` it holds, by its API.
    pub(crate) fn records(&self, slo: &str) -> Vec<serde_json::Value> {
        slo_records(self.port, slo).unwrap_or_default()
    }

    /// Waits (at most `limit`, to catch a hang) until it holds `n` records of `slo`.
    pub(crate) fn await_records(
        &self,
        slo: &str,
        n: usize,
        limit: Duration,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + limit;
        loop {
            let records = self.records(slo);
            if records.len() >= n {
                return records;
            }
            assert!(
                Instant::now() < deadline,
                "{} holds {} records of {slo}, not {n}; its log:\n{}",
                self.config.display(),
                records.len(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// (SLO, time, key) of every record `ledger export` of `config` shows; a
/// record exported twice appears twice.
pub(crate) fn exported(config: &Path) -> Vec<(String, String, String)> {
    let out = dataslo(&["ledger", "export", "--config", config.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "ledger export: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(r#"{"chain":"#)) // chain headers
        .map(|l| {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            let field = |f: &str| r[f].as_str().unwrap().to_string();
            (field("slo"), field("time"), field("key"))
        })
        .collect()
}

pub(crate) fn keys(records: &[serde_json::Value]) -> Vec<String> {
    let mut keys: Vec<String> = records
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    keys
}

#[test]
fn two_replicas_each_file_every_record_and_agree_on_status() {
    let Some(nats) = NatsServer::start("two_replicas_each_file_every_record_and_agree_on_status")
    else {
        return;
    };
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let r1 = Replica::new(d1.path(), &nats.url(), SLO, "replica = \"r1\"\n");
    let r2 = Replica::new(d2.path(), &nats.url(), SLO, "replica = \"r2\"\n");
    let (p1, p2) = (r1.start(), r2.start());
    let now = jiff::Timestamp::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        let answer = crate::server::agent()
            .post(&format!(
                "http://127.0.0.1:{}/v1/observations?wait=evaluated",
                r1.port
            ))
            .header("Authorization", "Bearer acme-secret")
            .header("Content-Type", "application/x-ndjson")
            .send(observations(30, now).as_bytes());
        if let Ok(mut answer) = answer {
            break answer.body_mut().read_json::<serde_json::Value>().unwrap();
        }
        assert!(Instant::now() < deadline, "r1 never answered");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(answer["evaluations"], 30, "{answer}");

    // r2 files r1's records from the stream, under the same keys; r1 knows
    // its own when they come back, and files none twice.
    let at_r2 = r2.await_records("orders-volume", 30, Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(1));
    let at_r1 = r1.records("orders-volume");
    assert_eq!(at_r1.len(), 30, "r1 filed a record of its own twice");
    assert_eq!(r2.records("orders-volume").len(), 30);
    assert_eq!(keys(&at_r2), keys(&at_r1));
    assert!(
        keys(&at_r1).iter().all(|k| !k.contains('.')),
        "no site prefix"
    );
    assert_eq!(terminate(p1), Some(0));
    assert_eq!(terminate(p2), Some(0));

    let at = now + jiff::SignedDuration::from_mins(1);
    let one = status(&r1.config, at, Some("acme"));
    assert_eq!(status(&r2.config, at, Some("acme")), one);
    // A deadline missed on a loaded machine records a failed evaluation.
    let window = &one["slos"][0]["objectives"][0]["window"];
    let made = window["evaluations"].as_u64().unwrap() + window["errors"].as_u64().unwrap();
    assert_eq!(made, 30, "{one}");
}

#[test]
fn one_replica_ticks_and_another_takes_over_when_it_dies_recording_no_tick_twice() {
    let Some(nats) = NatsServer::start(
        "one_replica_ticks_and_another_takes_over_when_it_dies_recording_no_tick_twice",
    ) else {
        return;
    };
    let slos = fresh("orders-fresh", "");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lease = "tick_lease = \"3s\"\n";
    let r1 = Replica::new(
        d1.path(),
        &nats.url(),
        &slos,
        &format!("replica = \"r1\"\n{lease}"),
    );
    let r2 = Replica::new(
        d2.path(),
        &nats.url(),
        &slos,
        &format!("replica = \"r2\"\n{lease}"),
    );
    let mut p1 = r1.start();
    await_log(&r1.log, "holding the tick lease", Duration::from_secs(60));
    let p2 = r2.start();
    await_log(
        &r2.log,
        "not holding the tick lease",
        Duration::from_secs(60),
    );

    // r1 ticks; r2 only files r1's ticks from the stream.
    let before = r2.await_records("orders-fresh", 3, Duration::from_secs(60));
    assert!(r1.log_text().contains("scheduled evaluations"));
    assert!(
        !r2.log_text().contains("scheduled evaluations"),
        "r2 ticked while r1 held the lease:\n{}",
        r2.log_text()
    );
    assert!(keys(&before).iter().all(|k| k.starts_with("tick-")));

    // SIGKILL the holder: r2 takes over within the lease (3 s; 60 s catch a hang).
    p1.kill().unwrap();
    p1.wait().unwrap();
    let killed = Instant::now();
    let held_before = r2
        .log_text()
        .matches("holding the tick lease: this")
        .count();
    let deadline = killed + Duration::from_secs(60);
    while r2
        .log_text()
        .matches("holding the tick lease: this")
        .count()
        == held_before
    {
        assert!(Instant::now() < deadline, "r2 never took the lease over");
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = r2.records("orders-fresh").len();
    r2.await_records("orders-fresh", after + 3, Duration::from_secs(60));
    assert!(r2.log_text().contains("scheduled evaluations"));
    assert_eq!(terminate(p2), Some(0));

    // Every tick from the first to the last, each once.
    let mut ticks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (slo, time, key) in exported(&r2.config) {
        assert_eq!(slo, "orders-fresh");
        ticks.entry(time).or_default().push(key);
    }
    let twice: Vec<_> = ticks.iter().filter(|(_, k)| k.len() > 1).collect();
    assert!(twice.is_empty(), "ticks recorded twice: {twice:?}");
    let times: Vec<jiff::Timestamp> = ticks.keys().map(|t| t.parse().unwrap()).collect();
    for pair in times.windows(2) {
        assert_eq!(
            pair[1].duration_since(pair[0]),
            jiff::SignedDuration::from_secs(1),
            "a tick is missing between {} and {}",
            pair[0],
            pair[1]
        );
    }
    for (time, keys) in &ticks {
        let t: jiff::Timestamp = time.parse().unwrap();
        assert_eq!(keys[0], format!("tick-{}", t.as_nanosecond()));
    }
}

#[test]
fn a_scheduled_slo_ticks_at_the_sites_it_lists_and_at_central_only_without_them() {
    let Some(nats) = NatsServer::start(
        "a_scheduled_slo_ticks_at_the_sites_it_lists_and_at_central_only_without_them",
    ) else {
        return;
    };
    let slos = format!(
        "{}---\n{}",
        fresh("fresh-at-plant", ", sites: [plant-7]"),
        fresh("fresh-at-central", "")
    );
    let central_dir = tempfile::tempdir().unwrap();
    let central = Replica::new(central_dir.path(), &nats.url(), &slos, "");
    let serve = central.start();
    let edge = tempfile::tempdir().unwrap();
    std::fs::write(edge.path().join("slo.yaml"), &slos).unwrap();
    let edge_config = edge.path().join("dataslo.toml");
    std::fs::write(
        &edge_config,
        format!(
            "data_dir = \"data\"\nslo_files = [\"slo.yaml\"]\npoll_interval = \"50ms\"\n\
             [agent]\nsite = \"plant-7\"\ntenant = \"acme\"\n[nats]\nurl = \"{}\"\n",
            nats.url()
        ),
    )
    .unwrap();
    let agent = spawn(
        &["agent", "--config", edge_config.to_str().unwrap()],
        &edge.path().join("agent.log"),
    );
    central.await_records("fresh-at-plant", 3, Duration::from_secs(60));
    central.await_records("fresh-at-central", 3, Duration::from_secs(60));
    assert_eq!(terminate(agent), Some(0));
    assert_eq!(terminate(serve), Some(0));

    for (slo, _, key) in exported(&central.config) {
        match slo.as_str() {
            "fresh-at-plant" => assert!(key.starts_with("plant-7.tick-"), "{key}"),
            "fresh-at-central" => assert!(key.starts_with("tick-"), "{key}"),
            other => panic!("unexpected SLO {other}"),
        }
    }
    let at_edge = exported(&edge_config);
    assert!(!at_edge.is_empty());
    assert!(
        at_edge.iter().all(|(slo, _, _)| slo == "fresh-at-plant"),
        "the agent ticked an SLO that lists no site: {at_edge:?}"
    );
}

#[test]
fn two_replicas_without_names_each_file_every_record_under_names_of_their_own() {
    let Some(nats) = NatsServer::start(
        "two_replicas_without_names_each_file_every_record_under_names_of_their_own",
    ) else {
        return;
    };
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let r1 = Replica::new(d1.path(), &nats.url(), SLO, "");
    let r2 = Replica::new(d2.path(), &nats.url(), SLO, "");
    let (p1, p2) = (r1.start(), r2.start());
    let now = jiff::Timestamp::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = crate::server::agent()
            .post(&format!(
                "http://127.0.0.1:{}/v1/observations?wait=evaluated",
                r1.port
            ))
            .header("Authorization", "Bearer acme-secret")
            .header("Content-Type", "application/x-ndjson")
            .send(observations(30, now).as_bytes());
        if answer.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "r1 never answered");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Sharing one durable consumer, they would split the stream between them.
    let at_r2 = r2.await_records("orders-volume", 30, Duration::from_secs(60));
    assert_eq!(keys(&at_r2), keys(&r1.records("orders-volume")));
    assert_eq!(terminate(p1), Some(0));
    assert_eq!(terminate(p2), Some(0));

    // Each named itself once, kept the name in its data directory and said it.
    let name = |dir: &Path| {
        std::fs::read_to_string(dir.join("data").join(dataslo::service::REPLICA_ID_FILE))
            .unwrap()
            .trim()
            .to_string()
    };
    let (n1, n2) = (name(d1.path()), name(d2.path()));
    assert_ne!(n1, n2);
    assert!(r1.log_text().contains(&n1), "{}", r1.log_text());
    assert!(r2.log_text().contains(&n2), "{}", r2.log_text());
    // Started again, it is the same replica.
    let said = r1.log_text().matches(&n1).count();
    let started = r1.log_text().matches("dataslo serve started").count();
    let p1 = r1.start();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Its name, then its start: a SIGTERM before that ends it unhandled.
    while r1.log_text().matches(&n1).count() == said
        || r1.log_text().matches("dataslo serve started").count() == started
    {
        assert!(Instant::now() < deadline, "{}", r1.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(terminate(p1), Some(0));
    assert_eq!(name(d1.path()), n1);
}
