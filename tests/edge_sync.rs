//! Configuration flows down, visibility flows up: central publishes each
//! tenant's SLO set (KV `dataslo-slo-sets-<tenant>`) and policies (Object
//! Store `dataslo-policies-<tenant>`); a running agent arms and swaps in each
//! new set, or keeps the old one and says why; `GET /v1/agents` shows every
//! site from its heartbeats (KV `dataslo-agents-<tenant>`).

use crate::edge::{central_config, dataslo, observations, spawn, spool, start_agent, terminate};
use crate::server::send;
use crate::support::guest_bytes;
use crate::support::nats::NatsServer;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

const TOKEN: Option<&str> = Some("acme-secret");
/// Wide: only to catch a hang on a loaded machine.
const LIMIT: Duration = Duration::from_secs(60);

/// An SLO on the orders dataset run by `policy`, emitting `sli`.
pub(crate) fn slo_yaml(name: &str, policy: &str, sli: &str) -> String {
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: {name} }}
spec:
  indicator:
    metadata: {{ name: rows }}
    spec:
      thresholdMetric:
        metricSource: {{ type: dataslo, spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "{policy}", config: {{ min_rows: 10 }}, sli: {sli}, trigger: observation }} }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: gte, value: 10, target: 0.9 }}]
"#
    )
}

/// Central `serve` for tenant acme and an agent at plant-7, on `nats`.
struct Edge {
    port: u16,
    serve: Child,
    agent: Child,
    central: tempfile::TempDir,
    edge: tempfile::TempDir,
}

impl Edge {
    fn start(nats: &NatsServer) -> Edge {
        let central = tempfile::tempdir().unwrap();
        let (config, port) = central_config(central.path(), &nats.url());
        let serve = spawn(
            &["serve", "--config", config.to_str().unwrap()],
            &central.path().join("serve.log"),
        );
        let deadline = Instant::now() + LIMIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "serve never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        let edge = tempfile::tempdir().unwrap();
        let agent = start_agent(edge.path(), &nats.url(), "plant-7");
        await_started(edge.path(), 1);
        Edge {
            port,
            serve,
            agent,
            central,
            edge,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn logs(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!(
            "serve:\n{}\n-----\nagent:\n{}",
            read(&self.central.path().join("serve.log")),
            read(&self.edge.path().join("agent.log"))
        )
    }

    /// A PUT to central's API as acme; its status and body.
    fn put(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        send("PUT", &self.url(path), TOKEN, content_type, body)
    }

    /// A GET of central's API as acme, parsed; `None` while it does not answer.
    fn get(&self, path: &str) -> Option<serde_json::Value> {
        let (status, text) = send("GET", &self.url(path), TOKEN, "", b"");
        (status == 200).then(|| serde_json::from_str(&text).ok())?
    }

    /// Waits until `check` holds of `GET /v1/agents`; its answer then.
    fn await_agents(
        &self,
        what: &str,
        check: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(agents) = self.get("/v1/agents")
                && check(&agents)
            {
                return agents;
            }
            assert!(
                Instant::now() < deadline,
                "GET /v1/agents never showed {what}: {:?}\n{}",
                self.get("/v1/agents"),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until central holds records of `slo` from the agent; them.
    fn await_events(&self, slo: &str) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(events) = self.get(&format!("/v1/slos/{slo}/events"))
                && let Some(events) = events.as_array().filter(|e| !e.is_empty())
            {
                return events.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no record of {slo} reached central\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn stop(self) {
        assert_eq!(terminate(self.agent), Some(0), "agent");
        assert_eq!(terminate(self.serve), Some(0), "serve");
    }
}

/// The names of the SLOs the running agent in `edge` reports in `status`;
/// none while it is starting.
pub(crate) fn agent_slos(edge: &Path) -> Vec<String> {
    let config = edge.join("dataslo.toml");
    let out = dataslo(&[
        "status",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let Ok(report) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
        return Vec::new();
    };
    report["slos"]
        .as_array()
        .map(|slos| {
            slos.iter()
                .filter_map(|s| s["slo"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the agent in `edge` started for the `n`th time: `status`
/// opens the ledger itself until the agent holds it, and would keep it from
/// starting.
fn await_started(edge: &Path, n: usize) {
    let log = edge.join("agent.log");
    let deadline = Instant::now() + LIMIT;
    while std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("dataslo agent started")
        .count()
        < n
    {
        assert!(Instant::now() < deadline, "the agent never started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the running agent in `edge` evaluates `slo`.
fn await_agent_runs(edge: &Path, slo: &str) {
    let deadline = Instant::now() + LIMIT;
    while !agent_slos(edge).iter().any(|s| s == slo) {
        assert!(
            Instant::now() < deadline,
            "the agent never ran {slo}; its log:\n{}",
            std::fs::read_to_string(edge.join("agent.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The one site acme has, from `GET /v1/agents`.
fn site(agents: &serde_json::Value) -> &serde_json::Value {
    &agents[0]
}

#[test]
fn slos_put_at_central_run_at_the_agent_and_after_its_restart_offline() {
    let Some(mut nats) =
        NatsServer::start("slos_put_at_central_run_at_the_agent_and_after_its_restart_offline")
    else {
        return;
    };
    let edge = Edge::start(&nats);
    // The first set (central's config file) reaches the agent.
    let first = edge.await_agents("a synced set", |a| {
        site(a)["slo_set_version"].as_str().is_some()
    });
    let first_version = site(&first)["slo_set_version"].clone();

    let (code, body) = edge.put(
        "/v1/slos",
        "application/yaml",
        slo_yaml("orders-rows", "builtin:volume", "volume").as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    await_agent_runs(edge.edge.path(), "orders-rows");
    let agents = edge.await_agents("the new set", |a| {
        site(a)["slo_set_version"] != first_version && site(a)["slo_set_version"].is_string()
    });
    assert_eq!(site(&agents)["site"], "plant-7");
    assert_eq!(site(&agents)["last_error"], serde_json::Value::Null);
    let seen: jiff::Timestamp = site(&agents)["last_seen"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seen > jiff::Timestamp::now() - jiff::SignedDuration::from_mins(5));
    assert!(site(&agents)["records_behind"].is_u64(), "{agents}");
    // `status` at central lists the site under the tenant's table.
    let central_config = edge.central.path().join("dataslo.toml");
    let out = dataslo(&["status", "--config", central_config.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("agent plant-7: last seen") && table.contains("records behind, SLO set"),
        "{table}"
    );

    spool(
        edge.edge.path(),
        "a.ndjson",
        &observations(5, jiff::Timestamp::now()),
    );
    assert_eq!(
        edge.await_events("orders-rows")[0]["key"]
            .as_str()
            .map(|k| k.starts_with("plant-7.")),
        Some(true)
    );

    // Restarted with no NATS at all, it runs the set it synced, not its file.
    let Edge {
        serve, agent, edge, ..
    } = edge;
    assert_eq!(terminate(agent), Some(0));
    assert_eq!(terminate(serve), Some(0));
    nats.stop();
    let agent = start_agent(edge.path(), &nats.url(), "plant-7");
    await_started(edge.path(), 2);
    await_agent_runs(edge.path(), "orders-rows");
    assert_eq!(terminate(agent), Some(0));
}

#[test]
fn an_oci_policy_central_armed_runs_at_the_agent_with_its_component() {
    let test = "an_oci_policy_central_armed_runs_at_the_agent_with_its_component";
    let Some(nats) = NatsServer::start(test) else {
        return;
    };
    let Some(registry) = crate::support::registry::Registry::start(test) else {
        return;
    };
    let tag = registry.reference("policies/volume:v1");
    let out = dataslo(&["policy", "push", "builtin:volume", &tag, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pushed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let edge = Edge::start(&nats);
    let (code, body) = edge.put(
        "/v1/slos",
        "application/yaml",
        slo_yaml("orders-oci", &tag, "volume").as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    await_agent_runs(edge.edge.path(), "orders-oci");
    spool(
        edge.edge.path(),
        "a.ndjson",
        &observations(3, jiff::Timestamp::now()),
    );
    let events = edge.await_events("orders-oci");
    assert_eq!(events[0]["policy_sha256"], pushed["sha256"], "{events:?}");
    edge.stop();
}

/// Puts other bytes in acme's Object Store under the name (sha256) of a policy.
fn corrupt_policy_object(nats: &NatsServer, sha256: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(nats.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let store = match js.get_object_store("dataslo-policies-acme").await {
            Ok(store) => store,
            Err(_) => js
                .create_object_store(async_nats::jetstream::object_store::Config {
                    bucket: "dataslo-policies-acme".into(),
                    ..Default::default()
                })
                .await
                .unwrap(),
        };
        store
            .put(sha256, &mut &b"not the policy"[..])
            .await
            .unwrap();
    });
}

#[test]
fn a_set_whose_policy_bytes_do_not_match_leaves_the_old_set_running_and_central_shows_why() {
    let Some(nats) = NatsServer::start(
        "a_set_whose_policy_bytes_do_not_match_leaves_the_old_set_running_and_central_shows_why",
    ) else {
        return;
    };
    let edge = Edge::start(&nats);
    let first = edge.await_agents("a synced set", |a| {
        site(a)["slo_set_version"].as_str().is_some()
    });
    let first_version = site(&first)["slo_set_version"].clone();

    let policy = guest_bytes("min-rows");
    let sha256 = hex::encode(Sha256::digest(&policy));
    corrupt_policy_object(&nats, &sha256);
    let (code, body) = edge.put("/v1/policies/min-rows", "application/wasm", &policy);
    assert_eq!(code, 201, "{body}");
    let (code, body) = edge.put(
        "/v1/slos",
        "application/yaml",
        slo_yaml("orders-rows", "uploaded:min-rows", "min_rows").as_bytes(),
    );
    assert_eq!(code, 200, "{body}");

    let agents = edge.await_agents("the agent's error", |a| {
        site(a)["last_error"].as_str().is_some()
    });
    let error = site(&agents)["last_error"].as_str().unwrap();
    assert!(
        error.contains(&sha256) && error.contains("uploaded:min-rows"),
        "{error}"
    );
    assert_eq!(site(&agents)["slo_set_version"], first_version);
    // The old set runs on: its records keep reaching central.
    assert_eq!(agent_slos(edge.edge.path()), ["orders-volume"]);
    spool(
        edge.edge.path(),
        "a.ndjson",
        &observations(5, jiff::Timestamp::now()),
    );
    edge.await_events("orders-volume");
    assert_eq!(
        edge.get("/v1/slos/orders-rows/events"),
        Some(serde_json::json!([]))
    );

    // The next good set clears the error.
    let (code, body) = edge.put(
        "/v1/slos",
        "application/yaml",
        slo_yaml("orders-rows", "builtin:volume", "volume").as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    edge.await_agents("the error cleared by a good set", |a| {
        site(a)["last_error"].is_null() && site(a)["slo_set_version"] != first_version
    });
    await_agent_runs(edge.edge.path(), "orders-rows");
    edge.stop();
}

#[test]
fn an_uploaded_policy_reaches_the_agent_by_its_sha256_and_runs_there() {
    let Some(nats) =
        NatsServer::start("an_uploaded_policy_reaches_the_agent_by_its_sha256_and_runs_there")
    else {
        return;
    };
    let edge = Edge::start(&nats);
    let policy = guest_bytes("min-rows");
    let sha256 = hex::encode(Sha256::digest(&policy));
    let (code, body) = edge.put("/v1/policies/min-rows", "application/wasm", &policy);
    assert_eq!(code, 201, "{body}");
    let (code, body) = edge.put(
        "/v1/slos",
        "application/yaml",
        slo_yaml("orders-rows", "uploaded:min-rows", "min_rows").as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    await_agent_runs(edge.edge.path(), "orders-rows");
    assert!(
        edge.edge
            .path()
            .join(format!("data/policies/synced/{sha256}.wasm"))
            .is_file(),
        "the agent keeps the policy for its next start"
    );

    spool(
        edge.edge.path(),
        "a.ndjson",
        &observations(5, jiff::Timestamp::now()),
    );
    let events = edge.await_events("orders-rows");
    assert_eq!(events[0]["policy_sha256"], sha256.as_str(), "{events:?}");
    assert_eq!(events[0]["outcome"]["kind"], "measured", "{events:?}");
    assert!(events[0]["key"].as_str().unwrap().starts_with("plant-7."));
    edge.stop();
}
