//! Changing a running tenant through the API: `PUT /v1/policies/{name}`
//! validates a component before storing it by sha256, `PUT /v1/slos` applies
//! OpenSLO YAML without a restart, both survive a restart, and neither
//! reaches another tenant.

use crate::server::{
    ACME, GLOBEX, JSON, OBS, TestServer, get, post, put, start, start_with, tenant,
};
use crate::support::guest_bytes;
use dataslo::config::TenantLimits;

const WASM: &str = "application/wasm";
const YAML: &str = "application/yaml";

/// An SLO of acme's dataset run by policy `policy`.
fn slo_yaml(name: &str, policy: &str, config: &str) -> String {
    format!(
        r#"
apiVersion: openslo/v1
kind: SLO
metadata: {{ name: {name} }}
spec:
  indicator:
    metadata: {{ name: rows }}
    spec:
      thresholdMetric:
        metricSource: {{ type: dataslo, spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "{policy}", config: {config}, sli: min_rows, trigger: observation }} }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: gte, value: 10, target: 0.9 }}]
"#
    )
}

fn upload_min_rows(s: &TestServer, token: Option<&str>) -> (u16, serde_json::Value) {
    put(
        s,
        "/v1/policies/min-rows",
        token,
        WASM,
        &guest_bytes("min-rows"),
    )
}

#[test]
fn an_uploaded_policy_runs_the_slos_sent_for_it_without_a_restart() {
    let s = start();
    let (status, stored) = upload_min_rows(&s, ACME);
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["name"], "min-rows");
    assert_eq!(stored["policy_name"], "min-rows");
    assert_eq!(stored["sha256"].as_str().unwrap().len(), 64);
    let (status, applied) = put(
        &s,
        "/v1/slos",
        ACME,
        YAML,
        slo_yaml("orders-rows", "uploaded:min-rows", "{ min_rows: 10 }").as_bytes(),
    );
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["applied"], serde_json::json!(["orders-rows"]));
    assert_eq!(applied["total"], 2, "the config's SLO stays");
    assert_eq!(
        get(&s, "/v1/slos/orders-rows", GLOBEX).0,
        404,
        "acme's SLOs are not globex's"
    );

    let (_, accepted) = post(&s, "/v1/observations?wait=evaluated", ACME, JSON, OBS);
    assert_eq!(accepted["evaluations"], 2, "{accepted}");
    let (_, events) = get(&s, "/v1/slos/orders-rows/events", ACME);
    assert_eq!(events[0]["outcome"]["kind"], "measured", "{events}");
    assert_eq!(events[0]["policy_sha256"], stored["sha256"]);

    let (_, listed) = get(&s, "/v1/policies", ACME);
    assert_eq!(listed["uploaded"][0]["name"], "min-rows");
    assert_eq!(
        listed["uploaded"][0]["used_by"],
        serde_json::json!(["orders-rows"])
    );
    assert!(
        listed["builtins"]
            .as_array()
            .unwrap()
            .contains(&"freshness".into())
    );

    // The same bytes again: accepted, not created.
    assert_eq!(upload_min_rows(&s, ACME).0, 200);
}

#[test]
fn another_tenant_can_neither_see_nor_use_an_uploaded_policy() {
    let s = start();
    assert_eq!(upload_min_rows(&s, ACME).0, 201);
    let (_, listed) = get(&s, "/v1/policies", GLOBEX);
    assert_eq!(listed["uploaded"], serde_json::json!([]));
    let (status, body) = put(
        &s,
        "/v1/slos",
        GLOBEX,
        YAML,
        slo_yaml("stolen", "uploaded:min-rows", "{ min_rows: 1 }").as_bytes(),
    );
    assert_eq!((status, body["error"].as_str()), (422, Some("invalid_slo")));
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("no uploaded policy named \"min-rows\"")
    );
    assert_eq!(get(&s, "/v1/slos/stolen", GLOBEX).0, 404);
    assert_eq!(
        get(&s, "/v1/slos", GLOBEX).1["slos"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn uploads_and_sent_slos_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = || vec![tenant(dir.path(), "acme", TenantLimits::default())];
    let s = start_with(tempfile::TempDir::new_in(dir.path()).unwrap(), tenants());
    assert_eq!(upload_min_rows(&s, ACME).0, 201);
    let yaml = slo_yaml("orders-rows", "uploaded:min-rows", "{ min_rows: 10 }");
    assert_eq!(put(&s, "/v1/slos", ACME, YAML, yaml.as_bytes()).0, 200);
    let data = s.stop();

    let s = start_with(data, tenants());
    let (_, listed) = get(&s, "/v1/policies", ACME);
    assert_eq!(
        listed["uploaded"][0]["used_by"],
        serde_json::json!(["orders-rows"])
    );
    assert_eq!(
        post(&s, "/v1/observations?wait=evaluated", ACME, JSON, OBS).1["evaluations"],
        2
    );
}

#[test]
fn a_stored_policy_whose_file_changed_stops_the_tenant_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let tenants = || vec![tenant(dir.path(), "acme", TenantLimits::default())];
    let s = start_with(tempfile::TempDir::new_in(dir.path()).unwrap(), tenants());
    let (_, stored) = upload_min_rows(&s, ACME);
    let data = s.stop();
    let file = data
        .path()
        .join("data/policies/acme")
        .join(format!("{}.wasm", stored["sha256"].as_str().unwrap()));
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();

    let config = dataslo::config::Config {
        tenants: tenants(),
        data_dir: data.path().join("data"),
        ..Default::default()
    };
    let runtime = std::sync::Arc::new(dataslo::runtime::Runtime::new(Default::default()).unwrap());
    let ledger =
        dataslo::ledger::Ledger::open(&data.path().join("ledger"), "default", 100).unwrap();
    let err = dataslo::service::Service::from_config(&config, runtime, &ledger)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("tenant `acme`: policy min-rows") && err.contains("was accepted"),
        "{err}"
    );
}

/// The answer to a PUT that announces `length` bytes of body and sends none:
/// the server must refuse it from the headers alone.
fn announce_body(s: &TestServer, path: &str, length: usize) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(s.url.trim_start_matches("http://")).unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer acme-secret\r\n\
         Content-Type: {WASM}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn bad_uploads_are_refused_before_anything_is_stored() {
    let s = start();
    let core_module = wat::parse_str("(module)").unwrap();
    // (name, content type, body, status, error, in the detail)
    type Case<'a> = (String, &'a str, Vec<u8>, u16, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "junk".into(),
            WASM,
            b"not wasm at all".to_vec(),
            422,
            "invalid_policy",
            "not WebAssembly",
        ),
        (
            "core".into(),
            WASM,
            core_module,
            422,
            "invalid_policy",
            "not a component",
        ),
        (
            "old".into(),
            WASM,
            guest_bytes("wrong-version"),
            422,
            "invalid_policy",
            "0.1.0",
        ),
        (
            "foreign".into(),
            WASM,
            guest_bytes("foreign-world"),
            422,
            "invalid_policy",
            "interface mismatch",
        ),
        (
            "Bad..Name".into(),
            WASM,
            guest_bytes("min-rows"),
            400,
            "invalid_name",
            "Bad..Name",
        ),
        (
            "min-rows".into(),
            "text/plain",
            guest_bytes("min-rows"),
            415,
            "unsupported_media_type",
            "application/wasm",
        ),
    ];
    for (name, kind, bytes, want_status, want_error, in_detail) in cases {
        let (status, body) = put(&s, &format!("/v1/policies/{name}"), ACME, kind, &bytes);
        assert_eq!(
            (status, body["error"].as_str()),
            (want_status, Some(want_error)),
            "{name}: {body}"
        );
        assert!(
            body["detail"].as_str().unwrap().contains(in_detail),
            "{name}: {body}"
        );
    }
    assert_eq!(
        get(&s, "/v1/policies", ACME).1["uploaded"],
        serde_json::json!([])
    );
    let answer = announce_body(&s, "/v1/policies/huge", 33 << 20);
    assert!(
        answer.starts_with("HTTP/1.1 413") && answer.contains("too_large"),
        "{answer}"
    );
    for token in [None, Some("wrong")] {
        // A small body: the server answers 401 without reading one.
        assert_eq!(
            put(&s, "/v1/policies/min-rows", token, WASM, b"\0asm").0,
            401
        );
        assert_eq!(get(&s, "/v1/policies", token).0, 401);
        assert_eq!(put(&s, "/v1/slos", token, YAML, b"").0, 401);
    }
}

#[test]
fn a_new_policy_that_breaks_an_slo_using_it_is_refused() {
    let s = start();
    assert_eq!(upload_min_rows(&s, ACME).0, 201);
    let yaml = slo_yaml("orders-rows", "uploaded:min-rows", "{ min_rows: 10 }");
    assert_eq!(put(&s, "/v1/slos", ACME, YAML, yaml.as_bytes()).0, 200);
    // The adversary fixture rejects min-rows' config, so orders-rows would break.
    let (status, body) = put(
        &s,
        "/v1/policies/min-rows",
        ACME,
        WASM,
        &guest_bytes("adversary"),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalid_slo")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("orders-rows"),
        "{body}"
    );
    let (_, accepted) = post(&s, "/v1/observations?wait=evaluated", ACME, JSON, OBS);
    assert_eq!(accepted["evaluations"], 2, "the old policy still runs");
}

#[test]
fn bad_slo_yaml_is_refused_and_the_running_set_kept() {
    let s = start();
    let file_policy = slo_yaml("files", "/etc/passwd", "{}");
    let bad_config = slo_yaml("bad-config", "builtin:volume", "{ min_rowz: 1 }");
    let taken = slo_yaml("orders-volume", "builtin:volume", "{ min_rows: 1 }");
    let cases: Vec<(&str, &[u8], u16, &str, &str)> = vec![
        (
            YAML,
            b"apiVersion: openslo/v1\nkind: SLO\nmetadata: [",
            422,
            "invalid_slo",
            "PUT /v1/slos",
        ),
        (
            YAML,
            file_policy.as_bytes(),
            422,
            "invalid_slo",
            "not files",
        ),
        (YAML, bad_config.as_bytes(), 422, "invalid_slo", "min_rowz"),
        (YAML, taken.as_bytes(), 409, "conflict", "orders-volume"),
        (
            JSON,
            b"{}",
            415,
            "unsupported_media_type",
            "application/yaml",
        ),
        (YAML, &[0xff, 0xfe], 400, "invalid_body", "UTF-8"),
    ];
    for (kind, body, want_status, want_error, in_detail) in cases {
        let (status, answer) = put(&s, "/v1/slos", ACME, kind, body);
        assert_eq!(
            (status, answer["error"].as_str()),
            (want_status, Some(want_error)),
            "{answer}"
        );
        assert!(
            answer["detail"].as_str().unwrap().contains(in_detail),
            "{answer}"
        );
    }
    assert_eq!(
        get(&s, "/v1/slos", ACME).1["slos"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_tenant_at_its_policy_limit_cannot_upload_another() {
    let dir = tempfile::tempdir().unwrap();
    let limits = TenantLimits {
        max_policies: Some(1),
        ..Default::default()
    };
    let tenants = vec![tenant(dir.path(), "acme", limits)];
    let s = start_with(dir, tenants);
    let (status, body) = upload_min_rows(&s, ACME);
    assert_eq!(status, 201, "{body}");
    let (status, body) = put(
        &s,
        "/v1/policies/second",
        ACME,
        WASM,
        &guest_bytes("min-rows"),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("policy_limit")),
        "{body}"
    );
    // Replacing the one it has is not a new policy.
    assert_eq!(upload_min_rows(&s, ACME).0, 200);
    // Nor may its SLOs use a second one.
    let yaml = slo_yaml("orders-rows", "uploaded:min-rows", "{ min_rows: 10 }");
    let (status, body) = put(&s, "/v1/slos", ACME, YAML, yaml.as_bytes());
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("policy_limit")),
        "{body}"
    );
}
