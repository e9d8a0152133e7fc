//! `/api/v1/lineage` as producers call it: gzip bodies (both official
//! clients can send them) decompressed within the body limit, NDJSON, the
//! `ignored` count, and the cost of one request bounded.

use crate::server::{JSON, OBS, SLO, agent, start, start_with, tenant};
use crate::support::test_data;
use dataslo::config::TenantLimits;
use dataslo::service::token_hash;
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// (status, JSON answer) of a POST with `encoding` as its Content-Encoding.
fn post_encoded(url: &str, kind: &str, encoding: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut request = agent()
        .post(url)
        .header("Authorization", "Bearer acme-secret")
        .header("Content-Type", kind);
    if let Some(encoding) = encoding {
        request = request.header("Content-Encoding", encoding);
    }
    let mut answer = request.send(body).unwrap();
    let status = answer.status().as_u16();
    let text = answer.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

fn dbt_test_events() -> Vec<Value> {
    let path = test_data("openlineage/dbt-postgres-test-test_ol_events.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn gzip_bodies_are_read_on_both_ingest_endpoints() {
    let s = start();
    let event = std::fs::read(test_data("openlineage/example_full_event.json")).unwrap();
    let lineage = format!("{}/api/v1/lineage?wait=evaluated", s.url);
    let (status, answer) = post_encoded(&lineage, JSON, Some("gzip"), &gzip(&event));
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"accepted": 2, "new": 2, "evaluations": 0, "ignored": 0})
        )
    );
    let observations = format!("{}/v1/observations", s.url);
    let (status, answer) = post_encoded(&observations, JSON, Some("gzip"), &gzip(OBS.as_bytes()));
    assert_eq!((status, &answer["accepted"]), (200, &json!(1)), "{answer}");
}

#[test]
fn a_gzip_bomb_is_refused_naming_the_limit_it_passes() {
    let s = start();
    // 10 MB of spaces, about 10 KB compressed: under the 64 KiB limit as sent.
    let bomb = gzip(&vec![b' '; 10 << 20]);
    assert!(bomb.len() < 64 * 1024);
    for path in ["/api/v1/lineage", "/v1/observations"] {
        let (status, answer) = post_encoded(&format!("{}{path}", s.url), JSON, Some("gzip"), &bomb);
        assert_eq!(
            (status, answer["error"].as_str()),
            (413, Some("too_large")),
            "{path}: {answer}"
        );
        assert_eq!(
            answer["detail"],
            "the gzip body decompresses to more than the server's limit of 65536 bytes"
        );
    }
    // A tenant's own limit bounds what its bodies decompress to.
    let dir = tempfile::tempdir().unwrap();
    let limits = TenantLimits {
        max_body_bytes: Some(4096),
        ..TenantLimits::default()
    };
    let acme = tenant(dir.path(), "acme", limits);
    let small = start_with(dir, vec![acme]);
    let body = gzip(&vec![b' '; 5000]);
    let (status, answer) = post_encoded(
        &format!("{}/api/v1/lineage", small.url),
        JSON,
        Some("gzip"),
        &body,
    );
    assert_eq!(
        (status, answer["detail"].as_str()),
        (
            413,
            Some("the gzip body decompresses to more than tenant acme's limit of 4096 bytes")
        )
    );
}

#[test]
fn other_encodings_are_415_and_a_broken_gzip_is_400() {
    let s = start();
    let url = format!("{}/api/v1/lineage", s.url);
    for encoding in ["br", "deflate", "zstd"] {
        let (status, answer) = post_encoded(&url, JSON, Some(encoding), b"{}");
        assert_eq!(
            (status, answer["error"].as_str()),
            (415, Some("unsupported_media_type")),
            "{encoding}"
        );
        assert!(
            answer["detail"].as_str().unwrap().contains(encoding),
            "{answer}"
        );
    }
    let (status, answer) = post_encoded(&url, JSON, Some("gzip"), b"not gzip at all");
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_body")),
        "{answer}"
    );
}

#[test]
fn ndjson_events_are_read_one_per_line_and_errors_name_the_line() {
    let s = start();
    let url = format!("{}/api/v1/lineage", s.url);
    let lines: Vec<String> = dbt_test_events().iter().map(Value::to_string).collect();
    let (status, answer) = post_encoded(
        &url,
        "application/x-ndjson",
        None,
        lines.join("\n").as_bytes(),
    );
    assert_eq!(
        (status, &answer["accepted"], &answer["ignored"]),
        (200, &json!(7), &json!(10)),
        "{answer}"
    );
    let mut broken = lines.clone();
    broken[2] = broken[2].replace("\"eventTime\"", "\"eventTimes\"");
    let (status, answer) = post_encoded(
        &url,
        "application/x-ndjson",
        None,
        broken.join("\n").as_bytes(),
    );
    assert_eq!(
        (status, answer["error"].as_str(), answer["detail"].as_str()),
        (
            400,
            Some("invalid_event"),
            Some("body:3: eventTime: is required")
        )
    );
}

#[test]
fn start_events_are_acknowledged_as_ignored_and_evaluate_nothing() {
    let s = start();
    let url = format!("{}/api/v1/lineage?wait=evaluated", s.url);
    let event =
        std::fs::read_to_string(crate::support::workspace().join("examples/lineage-event.json"))
            .unwrap();
    let start_event = event.replace("\"COMPLETE\"", "\"START\"");
    let (status, answer) = post_encoded(&url, JSON, None, start_event.as_bytes());
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"accepted": 0, "new": 0, "evaluations": 0, "ignored": 1})
        )
    );
    let (_, answer) = post_encoded(&url, JSON, None, event.as_bytes());
    assert_eq!(
        answer,
        json!({"accepted": 1, "new": 1, "evaluations": 1, "ignored": 0})
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The peak resident set of process `pid` (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

#[test]
fn one_event_of_many_datasets_costs_memory_in_proportion_to_its_size() {
    // A real `dataslo serve` with the default 1 MiB body limit, measured
    // from outside: its peak RSS.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("slo.yaml"), SLO).unwrap();
    std::fs::write(
        dir.path().join("dataslo.toml"),
        format!(
            "data_dir = \"data\"\n[server]\nlisten = \"127.0.0.1:{port}\"\n\
             [[tenants]]\nname = \"acme\"\ntoken_sha256 = [\"{}\"]\nslo_files = [\"slo.yaml\"]\n",
            token_hash("acme-secret")
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .arg("serve")
        .arg("--config")
        .arg(dir.path().join("dataslo.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let up = (0..1200).any(|_| {
        let ok = agent().get(&format!("{base}/healthz")).call().is_ok();
        if !ok {
            std::thread::sleep(Duration::from_millis(50));
        }
        ok
    });
    assert!(up, "serve never answered");
    let outputs: Vec<Value> = (0..5_000)
        .map(|i| json!({"namespace": "s3://lake", "name": format!("events/part-{i:05}")}))
        .collect();
    let event = |job: String| {
        json!({"eventType": "COMPLETE", "eventTime": "2026-11-26T08:00:00Z", "run": {"runId": "r"},
               "job": {"namespace": "spark", "name": job}, "outputs": outputs})
        .to_string()
    };
    let url = format!("{base}/api/v1/lineage");
    let huge = event("j".repeat(200_000));
    assert!(huge.len() < 1 << 20, "{} bytes", huge.len());
    let (status, answer) = post_encoded(&url, JSON, None, huge.as_bytes());
    let at_limit = event("j".repeat(dataslo::openlineage::MAX_NAME_BYTES));
    let (status_at_limit, answer_at_limit) = post_encoded(&url, JSON, None, at_limit.as_bytes());
    let peak = peak_rss(child.id());
    println!(
        "one event of 5,000 datasets: serve's peak RSS {} MiB",
        peak >> 20
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        (status, answer["detail"].as_str()),
        (
            400,
            Some("body: job.name: is 200000 bytes long; names are at most 1024 bytes")
        )
    );
    assert_eq!(
        (status_at_limit, &answer_at_limit["accepted"]),
        (200, &json!(5_000)),
        "{answer_at_limit}"
    );
    // Copying the 200,000-character name into every observation took 2.4 GB;
    // a debug build idles near 140 MiB and this adds about 110.
    assert!(peak < 400 << 20, "peak RSS {} MiB", peak >> 20);
}
