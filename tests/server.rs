//! `dataslo serve`'s API on a real HTTP listener on loopback: success and bad
//! input on every endpoint, and tenants that cannot see each other.

pub use crate::support::server::{TestServer, agent, start_server as start_config};
use crate::support::{test_data, workspace};
use dataslo::config::{Config, TenantConfig, TenantLimits};
use dataslo::ledger::Ledger;
use dataslo::runtime::Runtime;
use dataslo::service::{Service, token_hash};
use std::sync::Arc;

/// `orders-volume`: at least 10 rows in postgres://prod/orders, on each observation.
pub const SLO: &str = include_str!("support/orders-volume.yaml");

pub const OBS: &str = r#"{"dataset":{"namespace":"postgres://prod","name":"orders"},"observed_at":"2026-11-26T08:00:00Z","row_count":50}"#;

/// A tenant `name` with token `<name>-secret` and the SLO above, with `limits`.
pub fn tenant(dir: &std::path::Path, name: &str, limits: TenantLimits) -> TenantConfig {
    std::fs::write(dir.join("slo.yaml"), SLO).unwrap();
    TenantConfig {
        name: name.into(),
        token_sha256: vec![token_hash(&format!("{name}-secret"))],
        slo_files: vec![dir.join("slo.yaml")],
        limits,
        trusted_keys: Vec::new(),
        revoked_keys: Vec::new(),
    }
}

/// Two tenants, `acme` and `globex`, each with an SLO of the same name.
pub fn start() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let tenants = vec![
        tenant(dir.path(), "acme", TenantLimits::default()),
        tenant(dir.path(), "globex", TenantLimits::default()),
    ];
    start_with(dir, tenants)
}

pub fn start_with(dir: tempfile::TempDir, tenants: Vec<TenantConfig>) -> TestServer {
    start_config(
        dir,
        Config {
            tenants,
            ..Config::default()
        },
    )
}

/// (status, JSON body) of a request.
fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let (status, text) = send(method, url, token, content_type, body.as_bytes());
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}")),
    )
}

/// (status, body text) of a request.
pub fn send(
    method: &str,
    url: &str,
    token: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> (u16, String) {
    let agent = agent();
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut response = match method {
        "GET" => {
            let mut req = agent.get(url);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.call().unwrap()
        }
        _ => {
            let mut req = match method {
                "PUT" => agent.put(url),
                _ => agent.post(url),
            }
            .header("Content-Type", content_type);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.send(body).unwrap()
        }
    };
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// (status, JSON body) of a PUT.
pub fn put(
    s: &TestServer,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> (u16, serde_json::Value) {
    let url = format!("{}{path}", s.url);
    let (status, text) = send("PUT", &url, token, content_type, body);
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {text}")),
    )
}

pub fn get(s: &TestServer, path: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    call("GET", &format!("{}{path}", s.url), token, "", "")
}

pub fn post(
    s: &TestServer,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    call(
        "POST",
        &format!("{}{path}", s.url),
        token,
        content_type,
        body,
    )
}

pub const ACME: Option<&str> = Some("acme-secret");
pub const GLOBEX: Option<&str> = Some("globex-secret");
pub const JSON: &str = "application/json";

#[test]
fn health_and_readiness_need_no_token() {
    let s = start();
    assert_eq!(
        get(&s, "/healthz", None),
        (200, serde_json::json!({"status": "ok", "tenants": 2}))
    );
    assert_eq!(get(&s, "/readyz", None).0, 200);
}

#[test]
fn an_observation_is_acknowledged_once_logged_and_evaluated_behind_the_answer() {
    let s = start();
    let (status, body) = post(&s, "/v1/observations", ACME, JSON, OBS);
    assert_eq!(
        (status, &body),
        (200, &serde_json::json!({"accepted": 1, "new": 1}))
    );
    // Evaluation follows the answer; a wide bound catches a hang.
    let evaluated = (0..100).any(|_| {
        let (_, events) = get(&s, "/v1/slos/orders-volume/events", ACME);
        let done = events.as_array().is_some_and(|e| e.len() == 1);
        if !done {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        done
    });
    assert!(evaluated, "no record within 5 s");
    let (status, body) = post(&s, "/v1/observations?wait=soon", ACME, JSON, OBS);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_query"))
    );
    assert!(
        body["detail"].as_str().unwrap().contains("evaluated"),
        "{body}"
    );
}

#[test]
fn an_observation_is_evaluated_and_shows_in_status_and_events_of_its_tenant_only() {
    let s = start();
    let (status, body) = post(&s, "/v1/observations?wait=evaluated", ACME, JSON, OBS);
    assert_eq!(
        (status, &body),
        (
            200,
            &serde_json::json!({"accepted": 1, "new": 1, "evaluations": 1})
        )
    );
    let at = "?at=2026-11-26T09:00:00Z";
    let (status, acme) = get(&s, &format!("/v1/slos/orders-volume{at}"), ACME);
    assert_eq!(status, 200);
    assert_eq!(acme["objectives"][0]["window"]["total"], 1);
    let (_, globex) = get(&s, &format!("/v1/slos/orders-volume{at}"), GLOBEX);
    assert_eq!(
        globex["objectives"][0]["window"]["total"], 0,
        "globex's SLO of the same name saw nothing"
    );
    assert_eq!(
        get(&s, "/v1/slos/orders-volume/events", ACME)
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get(&s, "/v1/slos/orders-volume/events", GLOBEX)
            .1
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get(
            &s,
            "/v1/slos/orders-volume/events?since=2026-11-27T00:00:00Z",
            ACME
        )
        .1
        .as_array()
        .unwrap()
        .len(),
        0
    );
    let (status, list) = get(&s, &format!("/v1/slos{at}"), ACME);
    assert_eq!((status, list["slos"].as_array().unwrap().len()), (200, 1));
    // The same observation again is accepted and changes nothing.
    assert_eq!(
        post(&s, "/v1/observations?wait=evaluated", ACME, JSON, OBS).1["new"],
        0
    );
}

#[test]
fn ndjson_and_openlineage_are_accepted() {
    let s = start();
    let two = format!("{OBS}\n{}\n", OBS.replace("08:00", "09:00"));
    assert_eq!(
        post(
            &s,
            "/v1/observations?wait=evaluated",
            ACME,
            "application/x-ndjson",
            &two
        )
        .1["accepted"],
        2
    );
    let event = std::fs::read_to_string(test_data("openlineage/example_full_event.json")).unwrap();
    let (status, body) = post(&s, "/api/v1/lineage?wait=evaluated", ACME, JSON, &event);
    assert_eq!(
        (status, body["accepted"].as_u64(), body["ignored"].as_u64()),
        (200, Some(2), Some(0))
    );
    // The README's example event writes acme's orders table.
    let readme_event =
        std::fs::read_to_string(workspace().join("examples/lineage-event.json")).unwrap();
    let (status, body) = post(
        &s,
        "/api/v1/lineage?wait=evaluated",
        ACME,
        JSON,
        &readme_event,
    );
    assert_eq!(
        (status, body["evaluations"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
    let (_, globex_events) = get(&s, "/v1/slos/orders-volume/events", GLOBEX);
    assert_eq!(
        globex_events,
        serde_json::json!([]),
        "acme's lineage is not globex's"
    );
    let dbt = std::fs::read_to_string(test_data(
        "openlineage/dbt-postgres-test-test_ol_events.json",
    ))
    .unwrap();
    let (_, dbt_answer) = post(&s, "/api/v1/lineage", GLOBEX, JSON, &dbt);
    assert_eq!(
        (&dbt_answer["accepted"], &dbt_answer["ignored"]),
        (&serde_json::json!(7), &serde_json::json!(10)),
        "START events and unmeasured inputs are ignored: {dbt_answer}"
    );
}

#[test]
fn requests_without_a_valid_token_are_refused_on_every_tenant_endpoint() {
    let s = start();
    for token in [None, Some("wrong"), Some("")] {
        for (status, body) in [
            post(&s, "/v1/observations?wait=evaluated", token, JSON, OBS),
            post(&s, "/api/v1/lineage?wait=evaluated", token, JSON, "{}"),
            get(&s, "/v1/slos", token),
            get(&s, "/v1/slos/orders-volume", token),
            get(&s, "/v1/slos/orders-volume/events", token),
        ] {
            assert_eq!(
                (status, body["error"].as_str()),
                (401, Some("unauthorized")),
                "{token:?}"
            );
        }
    }
}

#[test]
fn a_token_with_a_space_or_tab_around_it_is_another_token() {
    let s = start();
    // The HTTP parser drops whitespace at the ends of a header; what is left
    // after `Bearer ` must be the token exactly.
    for padded in [
        " acme-secret",
        "\tacme-secret",
        "  acme-secret",
        "acme-secret \tx",
    ] {
        for (status, body) in [
            post(&s, "/v1/observations", Some(padded), JSON, OBS),
            get(&s, "/v1/slos", Some(padded)),
        ] {
            assert_eq!(
                (status, body["error"].as_str()),
                (401, Some("unauthorized")),
                "{padded:?}"
            );
        }
        let metrics = send("GET", &format!("{}/metrics", s.url), Some(padded), "", b"");
        assert_eq!(metrics.0, 401, "{padded:?}");
    }
    assert_eq!(get(&s, "/v1/slos", ACME).0, 200);
}

#[test]
fn bad_input_gets_a_clear_4xx_with_a_json_error() {
    let s = start();
    let cases = [
        (
            post(
                &s,
                "/v1/observations?wait=evaluated",
                ACME,
                JSON,
                "{not json",
            ),
            400,
            "invalid_observation",
            "body",
        ),
        (
            post(
                &s,
                "/v1/observations?wait=evaluated",
                ACME,
                JSON,
                &OBS.replace("row_count", "rows"),
            ),
            400,
            "invalid_observation",
            "unknown field `rows`",
        ),
        (
            post(
                &s,
                "/v1/observations?wait=evaluated",
                ACME,
                "text/plain",
                OBS,
            ),
            415,
            "unsupported_media_type",
            "text/plain",
        ),
        (
            post(
                &s,
                "/v1/observations?wait=evaluated",
                ACME,
                JSON,
                &" ".repeat(70 * 1024),
            ),
            413,
            "too_large",
            "",
        ),
        (
            post(
                &s,
                "/api/v1/lineage?wait=evaluated",
                ACME,
                JSON,
                r#"{"eventType":"START"}"#,
            ),
            400,
            "invalid_event",
            "eventTime",
        ),
        (get(&s, "/v1/slos/nope", ACME), 404, "not_found", "nope"),
        (
            get(&s, "/v1/slos/nope/events", ACME),
            404,
            "not_found",
            "nope",
        ),
        (
            get(&s, "/v1/slos?at=noon", ACME),
            400,
            "invalid_query",
            "noon",
        ),
        (
            get(&s, "/v1/slos/orders-volume?at=2500-01-01T00:00:00Z", ACME),
            400,
            "invalid_query",
            "between 1970 and 2100",
        ),
        (
            get(&s, "/v1/slos?when=now", ACME),
            400,
            "invalid_query",
            "when",
        ),
        (
            get(&s, "/v1/slos/orders-volume/events?since=x", ACME),
            400,
            "invalid_query",
            "since",
        ),
        (get(&s, "/v2/anything", ACME), 404, "not_found", "endpoint"),
    ];
    for ((status, body), want_status, want_error, in_detail) in cases {
        assert_eq!(
            (status, body["error"].as_str()),
            (want_status, Some(want_error)),
            "{body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains(in_detail),
            "{body} should mention {in_detail}"
        );
    }
}

#[test]
fn each_tenant_has_its_own_limits() {
    let dir = tempfile::tempdir().unwrap();
    let tight = TenantLimits {
        requests_per_second: Some(2),
        max_body_bytes: Some(200),
        memory_mib: Some(1),
        ..Default::default()
    };
    let tenants = vec![
        tenant(dir.path(), "tight", tight),
        tenant(dir.path(), "roomy", TenantLimits::default()),
    ];
    let s = start_with(dir, tenants);
    let tight_token = Some("tight-secret");

    // Over its body limit: 413, naming the tenant.
    let (status, body) = post(
        &s,
        "/v1/observations?wait=evaluated",
        tight_token,
        JSON,
        &format!("{OBS}{}", " ".repeat(100)),
    );
    assert_eq!((status, body["error"].as_str()), (413, Some("too_large")));
    assert!(body["detail"].as_str().unwrap().contains("tight"));

    // 1 MiB of memory cannot even instantiate a policy: an error, not a bad event.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (status, body) = post(
        &s,
        "/v1/observations?wait=evaluated",
        tight_token,
        JSON,
        OBS,
    );
    assert_eq!((status, body["evaluations"].as_u64()), (200, Some(1)));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (_, events) = get(&s, "/v1/slos/orders-volume/events", tight_token);
    assert_eq!(events[0]["outcome"]["code"], "memory_limit", "{events}");

    // Over its rate: 429, while another tenant goes on.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let answers: Vec<(u16, serde_json::Value)> =
        (0..6).map(|_| get(&s, "/v1/slos", tight_token)).collect();
    let refused = answers
        .iter()
        .find(|(status, _)| *status == 429)
        .expect("some requests are refused");
    assert_eq!(refused.1["error"], "rate_limited");
    assert_eq!(get(&s, "/v1/slos", Some("roomy-secret")).0, 200);
    assert_eq!(
        post(
            &s,
            "/v1/observations?wait=evaluated",
            Some("roomy-secret"),
            JSON,
            OBS
        )
        .1["evaluations"],
        1
    );
}

#[test]
fn a_tenant_over_its_policy_limit_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        tenants: vec![tenant(
            dir.path(),
            "small",
            TenantLimits {
                max_policies: Some(0),
                ..Default::default()
            },
        )],
        ..Config::default()
    };
    let runtime = Arc::new(Runtime::new(Default::default()).unwrap());
    let ledger = Ledger::open(&dir.path().join("ledger"), "default", 100).unwrap();
    let err = Service::from_config(&config, runtime, &ledger)
        .err()
        .expect("refused")
        .to_string();
    assert_eq!(
        err,
        "tenant `small`: its SLOs use 1 policies, over its limit of 0"
    );
}

#[test]
fn a_config_built_in_code_is_validated_before_any_tenant_starts() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        tenants: vec![tenant(dir.path(), "../escape", TenantLimits::default())],
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    let runtime = Arc::new(Runtime::new(Default::default()).unwrap());
    let ledger = Ledger::open(&dir.path().join("ledger"), "default", 100).unwrap();
    let err = Service::from_config(&config, runtime, &ledger)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("tenants[0].name"), "{err}");
    assert!(!dir.path().join("data/escape").exists());
}
