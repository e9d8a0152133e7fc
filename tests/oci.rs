//! Policies from OCI registries, against a real `docker-registry`: `dataslo
//! policy push` and `pull` as CNCF Wasm artifacts, an SLO whose policy is an
//! `oci://` tag (resolved once when armed, pinned, recorded in the ledger,
//! resolved again only when re-armed), the cache that lets it run with the
//! registry gone, and the errors a user reads.

use crate::support::registry::Registry;
use crate::support::server::{agent, start_server};
use crate::support::{dataslo, stderr_of, stdout_of};
use dataslo::config::{Config, TenantConfig};
use dataslo::oci::{CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE};
use dataslo::runtime::builtin_bytes;
use dataslo::service::{Service, token_hash};
use std::path::Path;

/// `dataslo policy push SOURCE REF --format json`: (manifest digest, component sha256).
fn push(source: &str, reference: &str) -> (String, String) {
    let out = dataslo(&["policy", "push", source, reference, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    (
        v["manifest"].as_str().unwrap().to_string(),
        v["sha256"].as_str().unwrap().to_string(),
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// `bytes` with a custom section appended: another component (another
/// sha256) that behaves the same.
fn with_custom_section(bytes: &[u8], payload: &str) -> Vec<u8> {
    let name = b"dataslo-test";
    let mut section = vec![name.len() as u8];
    section.extend_from_slice(name);
    section.extend_from_slice(payload.as_bytes());
    assert!(section.len() < 128);
    let mut out = bytes.to_vec();
    out.push(0);
    out.push(section.len() as u8);
    out.extend_from_slice(&section);
    out
}

/// An SLO on the orders dataset run by `policy`, emitting `volume`.
fn slo_yaml(name: &str, policy: &str) -> String {
    crate::edge_sync::slo_yaml(name, policy, "volume")
}

fn config_for(dir: &Path, policy: &str) -> Config {
    std::fs::write(dir.join("slo.yaml"), slo_yaml("orders-oci", policy)).unwrap();
    Config {
        tenants: vec![TenantConfig {
            name: "acme".into(),
            token_sha256: vec![token_hash("acme-secret")],
            slo_files: vec![dir.join("slo.yaml")],
            limits: Default::default(),
            trusted_keys: Vec::new(),
            revoked_keys: Vec::new(),
        }],
        ..Config::default()
    }
}

fn call(method: &str, url: &str, body: &str) -> (u16, serde_json::Value) {
    let agent = agent();
    let mut answer = match method {
        "GET" => agent
            .get(url)
            .header("Authorization", "Bearer acme-secret")
            .call(),
        "PUT" => agent
            .put(url)
            .header("Authorization", "Bearer acme-secret")
            .header("Content-Type", "application/yaml")
            .send(body),
        _ => agent
            .post(url)
            .header("Authorization", "Bearer acme-secret")
            .header("Content-Type", "application/json")
            .send(body),
    }
    .unwrap();
    let status = answer.status().as_u16();
    let text = answer.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// Posts one observation of orders, `seconds` after a fixed recent time,
/// and returns the policy sha256 of the record it made.
fn observe(base: &str, seconds: i64) -> String {
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1)
        + jiff::SignedDuration::from_secs(seconds);
    let obs = format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":50}}"#
    );
    let (code, body) = call(
        "POST",
        &format!("{base}/v1/observations?wait=evaluated"),
        &obs,
    );
    assert_eq!(code, 200, "{body}");
    let (code, records) = call("GET", &format!("{base}/v1/slos/orders-oci/events"), "");
    assert_eq!(code, 200, "{records}");
    let record = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["time"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
                == at
        })
        .unwrap_or_else(|| panic!("no record at {at}: {records}"));
    assert_eq!(record["outcome"]["kind"], "measured", "{record}");
    record["policy_sha256"].as_str().unwrap().to_string()
}

/// The manifest digest and component sha256 the SLO was last armed with.
fn pin(base: &str) -> (String, String) {
    let (code, status) = call("GET", &format!("{base}/v1/slos/orders-oci"), "");
    assert_eq!(code, 200, "{status}");
    let pin = &status["policy_pin"];
    (
        pin["manifest"].as_str().unwrap().to_string(),
        pin["sha256"].as_str().unwrap().to_string(),
    )
}

#[test]
fn an_slo_runs_a_pushed_built_in_by_tag_pinned_to_its_digest_until_re_armed() {
    let Some(mut registry) = Registry::start("oci::pinned_until_re_armed") else {
        return;
    };
    let tag = registry.reference("policies/volume:v1");
    let (manifest1, sha1) = push("builtin:volume", &tag);
    assert_eq!(sha1, sha256_hex(builtin_bytes("volume").unwrap()));

    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &tag);
    let server = start_server(dir, config);
    let base = server.url.clone();
    assert_eq!(observe(&base, 1), sha1);
    assert_eq!(pin(&base), (manifest1.clone(), sha1.clone()));

    // Another component behind the same tag: the running SLO keeps its digest.
    let other = server.dir.path().join("volume-v2.wasm");
    std::fs::write(
        &other,
        with_custom_section(builtin_bytes("volume").unwrap(), "v2"),
    )
    .unwrap();
    let (manifest2, sha2) = push(other.to_str().unwrap(), &tag);
    assert_ne!((&manifest2, &sha2), (&manifest1, &sha1));
    assert_eq!(observe(&base, 2), sha1);
    assert_eq!(pin(&base).0, manifest1);

    // PUT /v1/slos re-arms every SLO: the tag is resolved again.
    let sent = slo_yaml("orders-sent", "builtin:volume");
    let (code, body) = call("PUT", &format!("{base}/v1/slos"), &sent);
    assert_eq!(code, 200, "{body}");
    assert_eq!(pin(&base), (manifest2.clone(), sha2.clone()));
    assert_eq!(observe(&base, 3), sha2);

    // The registry gone: re-arming uses the digest the tag last resolved to.
    registry.stop();
    let (code, body) = call("PUT", &format!("{base}/v1/slos"), &sent);
    assert_eq!(code, 200, "{body}");
    assert_eq!(pin(&base), (manifest2.clone(), sha2.clone()));
    assert_eq!(observe(&base, 4), sha2);

    // And a restart over the same data directory starts from the cache.
    let dir = server.stop();
    let config = config_for(dir.path(), &tag);
    let server = start_server(dir, config);
    assert_eq!(observe(&server.url, 5), sha2);
    assert_eq!(pin(&server.url), (manifest2, sha2));
}

#[test]
fn a_digest_reference_runs_offline_once_cached() {
    let Some(mut registry) = Registry::start("oci::digest_offline") else {
        return;
    };
    let (manifest, sha) = push("builtin:volume", &registry.reference("p/volume:v1"));
    let by_digest = format!("{}@{manifest}", registry.reference("p/volume"));
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &by_digest);
    let server = start_server(dir, config);
    assert_eq!(observe(&server.url, 1), sha);
    registry.stop();
    let dir = server.stop();
    let config = config_for(dir.path(), &by_digest);
    let server = start_server(dir, config);
    assert_eq!(observe(&server.url, 2), sha);
    assert_eq!(pin(&server.url), (manifest, sha));
}

#[test]
fn a_pull_gives_back_the_pushed_bytes_by_tag_and_by_digest() {
    let Some(registry) = Registry::start("oci::pull_round_trip") else {
        return;
    };
    let tag = registry.reference("policies/freshness:1.0.0");
    let (manifest, sha) = push("builtin:freshness", &tag);
    let dir = tempfile::tempdir().unwrap();
    let by_tag = dir.path().join("tag.wasm");
    let out = dataslo(&["policy", "pull", &tag, "-o", by_tag.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains(&sha), "{}", stdout_of(&out));
    let by_digest = dir.path().join("digest.wasm");
    let pinned = format!("{}@{manifest}", registry.reference("policies/freshness"));
    let out = dataslo(&["policy", "pull", &pinned, "-o", by_digest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let builtin = builtin_bytes("freshness").unwrap();
    assert_eq!(std::fs::read(&by_tag).unwrap(), builtin);
    assert_eq!(std::fs::read(&by_digest).unwrap(), builtin);
    // What the registry holds is the CNCF Wasm layout.
    let raw: serde_json::Value = ureq::get(&format!(
        "http://{}/v2/policies/freshness/manifests/1.0.0",
        registry.host()
    ))
    .header("Accept", "application/vnd.oci.image.manifest.v1+json")
    .call()
    .unwrap()
    .body_mut()
    .read_json()
    .unwrap();
    assert_eq!(
        raw["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(raw["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(raw["layers"][0]["digest"], format!("sha256:{sha}"));
}

/// `dataslo policy pull REF` that fails: its exit code and stderr.
#[test]
fn an_oci_policy_whose_bytes_miss_the_slos_pin_is_refused_before_they_are_loaded() {
    let Some(registry) = Registry::start("oci::pin_before_load") else {
        return;
    };
    // Not WebAssembly: had it been loaded, the refusal would say so instead.
    let junk = b"not a component, never to be compiled".to_vec();
    push_raw_wasm_artifact(&registry.host(), "p/junk", "v1", &junk);
    let dir = tempfile::tempdir().unwrap();
    let pin = "0".repeat(64);
    let yaml = slo_yaml("orders-oci", &registry.reference("p/junk:v1"))
        .replace(", config:", &format!(", sha256: \"{pin}\", config:"));
    assert!(yaml.contains(&pin), "{yaml}");
    std::fs::write(dir.path().join("slo.yaml"), yaml).unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        slo_files: vec![dir.path().join("slo.yaml")],
        ..Config::default()
    };
    let message = match Service::single(&config) {
        Ok(_) => panic!("armed, but its pin does not match"),
        Err(e) => e.to_string(),
    };
    assert!(
        message.contains(&format!("has sha256 {}", sha256_hex(&junk)))
            && message.contains(&format!("the SLO pins {pin}")),
        "{message}"
    );
    assert!(!message.contains("not WebAssembly"), "{message}");
}

fn pull_error(reference: &str, dir: &Path) -> (Option<i32>, String) {
    let out = dataslo(&[
        "policy",
        "pull",
        reference,
        "-o",
        dir.join("out.wasm").to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{}", stdout_of(&out));
    (out.status.code(), stderr_of(&out))
}

#[test]
fn registry_errors_name_the_reference_and_what_is_wrong() {
    let Some(mut registry) = Registry::start("oci::errors") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();

    let (code, e) = pull_error("oci://127.0.0.1/Policies:v1", dir.path());
    assert_eq!(code, Some(2));
    assert!(
        e.contains("\"oci://127.0.0.1/Policies:v1\"") && e.contains("not a repository"),
        "{e}"
    );
    let (_, e) = pull_error(&registry.reference("policies/volume"), dir.path());
    assert!(e.contains("no tag or digest"), "{e}");

    let (code, e) = pull_error(&registry.reference("policies/none:v1"), dir.path());
    assert_eq!(code, Some(1));
    assert!(
        e.contains("policies/none:v1") && e.contains("not found"),
        "{e}"
    );

    // Not a policy: push refuses it before any upload.
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    let out = dataslo(&[
        "policy",
        "push",
        junk.to_str().unwrap(),
        &registry.reference("policies/junk:v1"),
    ]);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("not WebAssembly"),
        "{}",
        stderr_of(&out)
    );

    // A push names a tag; with --format json the failure's kind is stable.
    let at_digest = format!("{}@sha256:{}", registry.reference("p/v"), "0".repeat(64));
    let out = dataslo(&[
        "policy",
        "push",
        "builtin:volume",
        &at_digest,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(v["error"]["kind"], "oci_push_needs_tag", "{v}");

    // Not a Wasm artifact: an image with another config and layer type.
    let image = registry.reference("images/tarball:v1");
    push_foreign_image(&registry.host(), "images/tarball", "v1");
    let (_, e) = pull_error(&image, dir.path());
    assert!(
        e.contains("not a Wasm artifact") && e.contains("application/vnd.oci.image.config.v1+json"),
        "{e}"
    );

    // A blob altered in the registry's store: the digest check catches it.
    let tag = registry.reference("policies/volume:v1");
    let (_, sha) = push("builtin:volume", &tag);
    let blob = registry.blob_file(&sha);
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let (_, e) = pull_error(&tag, dir.path());
    assert!(e.contains(&sha) && e.contains("digest"), "{e}");

    // Nobody listening.
    let host = registry.host();
    registry.stop();
    let (_, e) = pull_error(&tag, dir.path());
    assert!(e.contains(&host) && e.contains("unreachable"), "{e}");
}

/// Pushes a one-layer container image (not a Wasm artifact) with oci-client.
fn push_foreign_image(registry: &str, repository: &str, tag: &str) {
    use oci_client::client::{Config, ImageLayer};
    let layer = ImageLayer::oci_v1(b"a tarball".to_vec(), None);
    push_image(
        registry,
        repository,
        tag,
        layer,
        Config::oci_v1(b"{}".to_vec(), None),
    );
}

/// Pushes a Wasm artifact whose layer is `bytes` as they are, with
/// oci-client: what `dataslo policy push` would refuse to send.
fn push_raw_wasm_artifact(registry: &str, repository: &str, tag: &str, bytes: &[u8]) {
    use oci_client::client::{Config, ImageLayer};
    let layer = ImageLayer::new(bytes.to_vec(), LAYER_MEDIA_TYPE.into(), None);
    let config = Config::new(b"{}".to_vec(), CONFIG_MEDIA_TYPE.into(), None);
    push_image(registry, repository, tag, layer, config);
}

fn push_image(
    registry: &str,
    repository: &str,
    tag: &str,
    layer: oci_client::client::ImageLayer,
    config: oci_client::client::Config,
) {
    use oci_client::client::{ClientConfig, ClientProtocol};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    });
    let image = oci_client::Reference::with_tag(registry.into(), repository.into(), tag.into());
    let layers = vec![layer];
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.push(
            &image,
            &layers,
            config,
            &oci_client::secrets::RegistryAuth::Anonymous,
            None,
        ))
        .unwrap();
}
