//! The agent's HTTP endpoints: with `[agent] token_sha256`, `dataslo agent`
//! takes observations over HTTP as `serve` does, evaluates them at the edge
//! and publishes their records to central; it refuses changes of its SLOs.

use crate::edge::{await_records, central_config, observations, spawn, terminate};
use crate::serve_process::free_port;
use crate::support::nats::NatsServer;
use dataslo::service::token_hash;
use std::time::{Duration, Instant};

#[test]
fn observations_posted_to_an_agent_are_evaluated_there_and_reach_central() {
    let Some(nats) =
        NatsServer::start("observations_posted_to_an_agent_are_evaluated_there_and_reach_central")
    else {
        return;
    };
    let central = tempfile::tempdir().unwrap();
    let (config, central_port) = central_config(central.path(), &nats.url());
    let serve_log = central.path().join("serve.log");
    let serve = spawn(&["serve", "--config", config.to_str().unwrap()], &serve_log);

    let edge = tempfile::tempdir().unwrap();
    let port = free_port();
    let agent = crate::edge::start_agent_with(
        edge.path(),
        &nats.url(),
        "plant-7",
        &format!(
            "token_sha256 = [\"{}\"]\n[server]\nlisten = \"127.0.0.1:{port}\"\n",
            token_hash("edge-secret")
        ),
    );
    let agent_log = edge.path().join("agent.log");
    let base = format!("http://127.0.0.1:{port}");
    await_listening(&base, &agent_log);

    let batch = observations(12, jiff::Timestamp::now());
    let post = |token: &str| {
        crate::server::send(
            "POST",
            &format!("{base}/v1/observations?wait=evaluated"),
            Some(token),
            "application/x-ndjson",
            batch.as_bytes(),
        )
    };
    let (code, body) = post("not-a-token");
    assert_eq!(code, 401, "{body}");
    let (code, body) = post("edge-secret");
    assert_eq!(code, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["evaluations"], 12, "evaluated at the agent: {body}");

    let records = await_records(
        central_port,
        12,
        Duration::from_secs(60),
        &[&agent_log, &serve_log],
    );
    assert!(
        records
            .iter()
            .all(|r| r["key"].as_str().unwrap().starts_with("plant-7.")),
        "made at the agent"
    );

    // Its SLOs come from central.
    let (code, body) = crate::server::send(
        "PUT",
        &format!("{base}/v1/slos"),
        Some("edge-secret"),
        "application/yaml",
        crate::server::SLO.as_bytes(),
    );
    assert_eq!(code, 405, "{body}");
    assert!(body.contains("central_only"), "{body}");

    assert_eq!(terminate(agent), Some(0));
    assert!(
        std::fs::read_to_string(&agent_log)
            .unwrap()
            .contains("dataslo agent stopped cleanly")
    );
    assert_eq!(terminate(serve), Some(0));
}

/// Waits (at most a minute, to catch a hang) until the agent at `base`
/// answers `/healthz`; its log `log` says why if it never does.
pub(crate) fn await_listening(base: &str, log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while crate::server::agent()
        .get(&format!("{base}/healthz"))
        .call()
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the agent never listened: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
