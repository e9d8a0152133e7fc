//! Tenants stay apart on the bus: nats-server gives each tenant's agents a
//! user that may publish only under `dataslo.<tenant>.records.>`, and
//! central has its own user (docs/distributed.md, "Tenants on the bus").

use crate::edge::{await_log, dataslo, observations, spawn, spool, terminate};
use crate::serve_process::free_port;
use crate::server::SLO;
use crate::support::nats::NatsServer;
use dataslo::service::token_hash;
use std::path::Path;
use std::time::{Duration, Instant};

/// The block docs/distributed.md recommends, for tenant acme's agents.
const AUTHORIZATION: &str = r#"
authorization {
  users = [
    { user: central, password: central-pw }
    { user: acme-agents, password: acme-pw,
      permissions: {
        publish: { allow: ["dataslo.acme.records.*"], deny: ["dataslo.acme.records.central"] }
        subscribe: { allow: ["_INBOX_acme.>"] }
      }
    }
  ]
}
"#;

/// Central's config: tenants acme and globex, NATS as user `central`.
fn central_config(dir: &Path, nats: &str) -> (std::path::PathBuf, u16) {
    let port = free_port();
    std::fs::write(dir.join("slo.yaml"), SLO).unwrap();
    let tenant = |name: &str| {
        format!(
            "[[tenants]]\nname = \"{name}\"\ntoken_sha256 = [\"{}\"]\nslo_files = [\"slo.yaml\"]\n",
            token_hash(&format!("{name}-secret"))
        )
    };
    let path = dir.join("dataslo.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"data\"\npoll_interval = \"50ms\"\n\
             [nats]\nurl = \"{nats}\"\nuser = \"central\"\npassword = \"central-pw\"\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n{}{}",
            tenant("acme"),
            tenant("globex")
        ),
    )
    .unwrap();
    (path, port)
}

/// An agent at `site` for `tenant`, on NATS as user `acme-agents`.
fn start_agent(dir: &Path, nats: &str, site: &str, tenant: &str) -> std::process::Child {
    std::fs::write(dir.join("slo.yaml"), SLO).unwrap();
    let config = dir.join("dataslo.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\nslo_files = [\"slo.yaml\"]\npoll_interval = \"50ms\"\n\
             [agent]\nsite = \"{site}\"\ntenant = \"{tenant}\"\n\
             [nats]\nurl = \"{nats}\"\nuser = \"acme-agents\"\npassword = \"acme-pw\"\n\
             inbox_prefix = \"_INBOX_acme\"\n"
        ),
    )
    .unwrap();
    spawn(
        &["agent", "--config", config.to_str().unwrap()],
        &dir.join("agent.log"),
    )
}

/// Tenant `tenant`'s orders-volume records at central.
fn records_of(port: u16, tenant: &str) -> usize {
    let mut answer = crate::server::agent()
        .get(&format!(
            "http://127.0.0.1:{port}/v1/slos/orders-volume/events"
        ))
        .header("Authorization", &format!("Bearer {tenant}-secret"))
        .call()
        .unwrap();
    let records: serde_json::Value = answer.body_mut().read_json().unwrap();
    records.as_array().unwrap().len()
}

#[test]
fn an_agent_publishes_only_under_the_tenant_its_nats_user_is_for() {
    let Some(nats) = NatsServer::start_with_auth(
        "an_agent_publishes_only_under_the_tenant_its_nats_user_is_for",
        AUTHORIZATION,
    ) else {
        return;
    };
    let central = tempfile::tempdir().unwrap();
    let (config, port) = central_config(central.path(), &nats.url());
    let serve_log = central.path().join("serve.log");
    let serve = spawn(&["serve", "--config", config.to_str().unwrap()], &serve_log);
    let now = jiff::Timestamp::now();

    // acme's user, acme's tenant: its records reach acme, and only acme.
    let honest = tempfile::tempdir().unwrap();
    let acme = start_agent(honest.path(), &nats.url(), "plant-7", "acme");
    spool(honest.path(), "a.ndjson", &observations(20, now));
    let honest_log = honest.path().join("agent.log");
    crate::edge::await_records(
        port,
        20,
        Duration::from_secs(60),
        &[&honest_log, &serve_log],
    );

    // acme's user claiming globex: the server refuses every publish.
    let posing = tempfile::tempdir().unwrap();
    let globex = start_agent(posing.path(), &nats.url(), "plant-9", "globex");
    spool(posing.path(), "b.ndjson", &observations(15, now));
    let posing_log = posing.path().join("agent.log");
    await_log(
        &posing_log,
        "Permissions Violation",
        Duration::from_secs(60),
    );
    await_log(
        &posing_log,
        "records wait in the ledger to be published",
        Duration::from_secs(60),
    );
    // The agent keeps its backlog: evaluated, held, not lost.
    let edge_config = posing.path().join("dataslo.toml");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = dataslo(&[
            "status",
            "--config",
            edge_config.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if status["slos"][0]["objectives"][0]["window"]["total"] == 15 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the posing agent never evaluated"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // It says so every 10 s while the server refuses.
    await_log(&posing_log, "behind=15", Duration::from_secs(60));
    assert_eq!(records_of(port, "globex"), 0, "nothing reached globex");
    assert_eq!(records_of(port, "acme"), 20, "nor acme");

    assert_eq!(terminate(globex), Some(0));
    assert_eq!(terminate(acme), Some(0));
    assert_eq!(terminate(serve), Some(0));
}
