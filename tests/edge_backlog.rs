//! The agent's HTTP ingest is bounded like its spool: while its records not
//! yet published reach `[agent] max_unpublished`, `POST /v1/observations`
//! and `POST /api/v1/lineage` answer 503 `buffer_full` with `Retry-After`,
//! storing nothing; once the stream takes records again, they are taken.

use crate::edge::{await_records, central_config, central_records, observations, spawn, terminate};
use crate::edge_http::await_listening;
use crate::serve_process::free_port;
use crate::support::nats::NatsServer;
use dataslo::service::token_hash;
use std::time::{Duration, Instant};

/// An answer's status, `Retry-After` and body.
fn post(url: &str, content_type: &str, body: &str) -> (u16, Option<String>, String) {
    let mut answer = crate::server::agent()
        .post(url)
        .header("Authorization", "Bearer edge-secret")
        .header("Content-Type", content_type)
        .send(body.as_bytes())
        .unwrap();
    let retry_after = answer
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = answer.body_mut().read_to_string().unwrap();
    (answer.status().as_u16(), retry_after, text)
}

#[test]
fn an_agent_refuses_http_ingest_at_its_buffer_bound_and_takes_it_again_once_published() {
    let Some(mut nats) = NatsServer::start(
        "an_agent_refuses_http_ingest_at_its_buffer_bound_and_takes_it_again_once_published",
    ) else {
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
            "max_unpublished = 20\ntoken_sha256 = [\"{}\"]\n[server]\nlisten = \"127.0.0.1:{port}\"\n",
            token_hash("edge-secret")
        ),
    );
    let agent_log = edge.path().join("agent.log");
    let logs = [agent_log.as_path(), serve_log.as_path()];
    let base = format!("http://127.0.0.1:{port}");
    await_listening(&base, &agent_log);

    // Four batches of ten observations, each a record at the agent.
    let all = observations(40, jiff::Timestamp::now());
    let lines: Vec<&str> = all.lines().collect();
    let batch = |i: usize| -> String {
        lines[i * 10..(i + 1) * 10]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let observations_url = format!("{base}/v1/observations?wait=evaluated");
    let ingest = |i: usize| post(&observations_url, "application/x-ndjson", &batch(i));

    let (code, _, body) = ingest(0);
    assert_eq!(code, 200, "{body}");
    await_records(central_port, 10, Duration::from_secs(60), &logs);

    // Offline: twenty records wait, the bound.
    nats.stop();
    for i in [1, 2] {
        let (code, _, body) = ingest(i);
        assert_eq!(code, 200, "batch {i}, below the bound: {body}");
    }
    let (code, retry_after, body) = ingest(3);
    assert_eq!(code, 503, "{body}");
    assert_eq!(retry_after.as_deref(), Some("5"), "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"], "buffer_full", "{body}");
    let detail = answer["detail"].as_str().unwrap();
    assert!(detail.contains("max_unpublished = 20"), "{detail}");
    assert!(detail.contains("backlog 20"), "{detail}");
    let (code, retry_after, body) =
        post(&format!("{base}/api/v1/lineage"), "application/json", "{}");
    assert_eq!(
        (code, retry_after.as_deref()),
        (503, Some("5")),
        "lineage too: {body}"
    );
    assert!(body.contains("buffer_full"), "{body}");

    // Back online: the backlog drains, and the refused batch was never stored.
    nats.restart();
    await_records(central_port, 30, Duration::from_secs(90), &logs);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        central_records(central_port).map(|r| r.len()),
        Some(30),
        "a refused request stores nothing"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, _, body) = ingest(3);
        if code == 200 {
            break;
        }
        assert_eq!(code, 503, "{body}");
        assert!(
            Instant::now() < deadline,
            "still refused once published: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    await_records(central_port, 40, Duration::from_secs(60), &logs);
    std::thread::sleep(Duration::from_secs(1));
    let records = central_records(central_port).expect("central answers");
    let keys: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!((records.len(), keys.len()), (40, 40), "every record, once");

    assert_eq!(terminate(agent), Some(0));
    assert_eq!(terminate(serve), Some(0));
}
