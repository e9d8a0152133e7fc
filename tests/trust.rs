//! Signed policies under `trusted_keys`: a policy signed by a trusted key
//! loads; an unsigned one, one signed by an untrusted key, one signed only by
//! a revoked key and one changed after signing are refused, each with its
//! kind and a message naming the digest and the key, through `eval`, `run`,
//! `serve` uploads and `oci://` references.

use crate::support::registry::Registry;
use crate::support::server::{agent, start_server};
use crate::support::{dataslo, stderr_of, stdout_of};
use dataslo::config::{Config, TenantConfig};
use dataslo::runtime::builtin_bytes;
use dataslo::service::{Service, token_hash};
use dataslo::trust::{SecretKey, Signatures};
use std::path::{Path, PathBuf};

pub(crate) fn key(seed: u8) -> SecretKey {
    SecretKey::from_bytes([seed; 32])
}

pub(crate) fn public(k: &SecretKey) -> String {
    k.public().to_string()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The volume built-in with a custom section: a component that is no
/// built-in (another sha256) and measures the same.
fn volume_like(tag: &str) -> Vec<u8> {
    let name = b"dataslo-test";
    let mut section = vec![name.len() as u8];
    section.extend_from_slice(name);
    section.extend_from_slice(tag.as_bytes());
    let mut out = builtin_bytes("volume").unwrap().to_vec();
    out.push(0);
    out.push(section.len() as u8);
    out.extend_from_slice(&section);
    out
}

/// The four policy files every test judges, in `dir`, with their `.sig`:
/// signed by `trusted`, by `stranger`, by `revoked`, and one signed by
/// `trusted` whose bytes changed afterwards; and one with no signature.
struct Files {
    signed: PathBuf,
    unsigned: PathBuf,
    untrusted: PathBuf,
    revoked: PathBuf,
    tampered: PathBuf,
}

fn write_signed(dir: &Path, name: &str, bytes: &[u8], keys: &[&SecretKey]) -> PathBuf {
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    if !keys.is_empty() {
        let mut doc = Signatures::default();
        for k in keys {
            doc.add(k.sign(&sha256_hex(bytes)));
        }
        std::fs::write(dir.join(format!("{name}.wasm.sig")), doc.encode()).unwrap();
    }
    path
}

fn files(dir: &Path, trusted: &SecretKey, revoked: &SecretKey) -> Files {
    let stranger = key(99);
    let tampered = write_signed(dir, "tampered", &volume_like("t"), &[trusted]);
    std::fs::write(&tampered, volume_like("t-changed")).unwrap();
    Files {
        signed: write_signed(dir, "signed", &volume_like("s"), &[trusted]),
        unsigned: write_signed(dir, "unsigned", &volume_like("u"), &[]),
        untrusted: write_signed(dir, "untrusted", &volume_like("x"), &[&stranger]),
        revoked: write_signed(dir, "revoked", &volume_like("r"), &[revoked]),
        tampered,
    }
}

/// A set synced from central may list any bytes under any reference: a
/// `builtin:` name proves nothing, only a built-in's digest does.
#[test]
fn a_builtin_name_on_other_bytes_is_judged_as_those_bytes() {
    use dataslo::model::PolicyRef;
    use dataslo::runtime::Runtime;
    use dataslo::scheduler::TrustCheck;
    let runtime = Runtime::with_engine(Default::default(), Default::default()).unwrap();
    let trust = dataslo::trust::Trust::from_config(&[public(&key(1))], &[])
        .unwrap()
        .unwrap();
    let check = TrustCheck {
        trust,
        known: Default::default(),
    };
    let name = PolicyRef::Builtin("volume".into());
    let real = runtime
        .load("builtin:volume", builtin_bytes("volume").unwrap())
        .unwrap();
    assert!(check.judge(&name, &real, None, None).is_ok());
    let other = runtime
        .load("builtin:volume", &volume_like("posing"))
        .unwrap();
    let refused = check
        .judge(&name, &other, None, None)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("not signed"), "{refused}");
}

/// An SLO on the orders dataset run by `policy`, emitting `volume`.
pub(crate) fn slo_yaml(name: &str, policy: &str) -> String {
    crate::edge_sync::slo_yaml(name, policy, "volume")
}

const OBSERVATION: &str = r#"{"dataset":{"namespace":"postgres://prod","name":"orders"},"observed_at":"2026-11-26T06:30:00Z","row_count":50}"#;

/// `dataslo eval --policy POLICY --trust KEY --format json`: (exit, stdout).
pub(crate) fn eval(
    dir: &Path,
    policy: &Path,
    trust: &[String],
    extra: &[&str],
) -> (Option<i32>, serde_json::Value) {
    let observation = dir.join("observation.json");
    std::fs::write(&observation, OBSERVATION).unwrap();
    let mut args = vec![
        "eval".to_string(),
        "--policy".into(),
        policy.display().to_string(),
        "--config".into(),
        r#"{"min_rows":10}"#.into(),
        "--observation".into(),
        observation.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    for k in trust {
        args.extend(["--trust".to_string(), k.clone()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = dataslo(&args);
    let json = serde_json::from_str(&stdout_of(&out))
        .unwrap_or_else(|_| panic!("JSON: {} {}", stdout_of(&out), stderr_of(&out)));
    (out.status.code(), json)
}

pub(crate) fn refused_kind(
    answer: &(Option<i32>, serde_json::Value),
) -> (Option<i32>, String, String) {
    (
        answer.0,
        answer.1["error"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        answer.1["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[test]
fn keygen_sign_and_verify_round_trip_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("team.key");
    let out = dataslo(&[
        "policy",
        "keygen",
        "-o",
        key_file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let made: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let public = made["public_key"].as_str().unwrap().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // keygen never overwrites a key.
    let again = dataslo(&["policy", "keygen", "-o", key_file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));

    let policy = write_signed(dir.path(), "p", &volume_like("cli"), &[]);
    let p = policy.to_str().unwrap();
    let out = dataslo(&["policy", "sign", p, "--key", key_file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(dir.path().join("p.wasm.sig").is_file());

    let out = dataslo(&[
        "policy", "verify", p, "--trust", &public, "--format", "json",
    ]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let verified: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(verified["key"], public);
    assert_eq!(verified["sha256"], sha256_hex(&volume_like("cli")));

    let out = dataslo(&[
        "policy",
        "verify",
        p,
        "--trust",
        &public,
        "--revoked",
        &public,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("policy_revoked"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn eval_runs_a_signed_policy_and_refuses_the_others_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (trusted, revoked) = (key(1), key(2));
    let f = files(dir.path(), &trusted, &revoked);
    let trust = vec![public(&trusted), public(&revoked)];

    let (code, ran) = eval(dir.path(), &f.signed, &trust, &[]);
    assert_eq!(code, Some(0), "{ran}");
    assert_eq!(ran["measurements"][0]["good"], 1);

    let unsigned = refused_kind(&eval(dir.path(), &f.unsigned, &trust, &[]));
    assert_eq!(
        (unsigned.0, unsigned.1.as_str()),
        (Some(1), "policy_unsigned")
    );
    assert!(
        unsigned.2.contains(&sha256_hex(&volume_like("u"))),
        "{}",
        unsigned.2
    );

    let untrusted = refused_kind(&eval(dir.path(), &f.untrusted, &trust, &[]));
    assert_eq!(untrusted.1, "policy_untrusted");
    assert!(untrusted.2.contains(&public(&key(99))), "{}", untrusted.2);

    // A revoked key: listed in the engine config's revoked_keys.
    let config = dir.path().join("dataslo.toml");
    std::fs::write(
        &config,
        format!("revoked_keys = [\"{}\"]\n", public(&revoked)),
    )
    .unwrap();
    let with_config = ["--engine-config", config.to_str().unwrap()];
    let revoked_answer = refused_kind(&eval(dir.path(), &f.revoked, &trust, &with_config));
    assert_eq!(revoked_answer.1, "policy_revoked");
    assert!(
        revoked_answer.2.contains(&public(&revoked)),
        "{}",
        revoked_answer.2
    );

    let tampered = refused_kind(&eval(dir.path(), &f.tampered, &trust, &[]));
    assert_eq!(tampered.1, "policy_tampered");
    assert!(
        tampered.2.contains(&sha256_hex(&volume_like("t"))),
        "{}",
        tampered.2
    );
    assert!(
        tampered.2.contains(&sha256_hex(&volume_like("t-changed"))),
        "{}",
        tampered.2
    );

    // No trusted key: every policy loads, as before.
    assert_eq!(eval(dir.path(), &f.unsigned, &[], &[]).0, Some(0));
    // Built-ins are trusted by digest.
    let builtin = eval(dir.path(), Path::new("builtin:volume"), &trust, &[]);
    assert_eq!(builtin.0, Some(0), "{}", builtin.1);
}

/// `run`'s service over `dir` with one SLO per policy file.
pub(crate) fn run_config(
    dir: &Path,
    policies: &[(&str, &Path)],
    trusted: &[String],
    revoked: &[String],
) -> Config {
    let mut slo_files = Vec::new();
    for (name, policy) in policies {
        let file = dir.join(format!("{name}.yaml"));
        std::fs::write(&file, slo_yaml(name, &policy.display().to_string())).unwrap();
        slo_files.push(file);
    }
    Config {
        data_dir: dir.join(format!("data-{}", policies[0].0)),
        slo_files,
        trusted_keys: trusted.to_vec(),
        revoked_keys: revoked.to_vec(),
        ..Config::default()
    }
}

pub(crate) fn run_refusal(config: &Config) -> String {
    match Service::single(config) {
        Ok(_) => panic!("armed, but should be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn run_arms_signed_policies_and_refuses_unsigned_untrusted_revoked_and_tampered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (trusted, revoked) = (key(1), key(2));
    let f = files(dir.path(), &trusted, &revoked);
    let keys = [public(&trusted), public(&revoked)];
    let revoked_keys = [public(&revoked)];
    let d = dir.path();

    let ok = run_config(
        d,
        &[
            ("signed", &f.signed),
            ("builtin", Path::new("builtin:volume")),
        ],
        &keys,
        &revoked_keys,
    );
    let service = Service::single(&ok).expect("signed policies arm");
    assert_eq!(service.tenants[0].scheduler.slos().len(), 2);
    drop(service);

    for (name, path, words) in [
        (
            "unsigned",
            &f.unsigned,
            vec!["is not signed".to_string(), sha256_hex(&volume_like("u"))],
        ),
        (
            "untrusted",
            &f.untrusted,
            vec!["not a trusted key".into(), public(&key(99))],
        ),
        (
            "revoked",
            &f.revoked,
            vec!["revoked".into(), public(&revoked)],
        ),
        (
            "tampered",
            &f.tampered,
            vec![
                "changed after it was signed".into(),
                sha256_hex(&volume_like("t")),
            ],
        ),
    ] {
        let message = run_refusal(&run_config(d, &[(name, path)], &keys, &revoked_keys));
        for w in words {
            assert!(message.contains(&w), "{name}: {message} lacks {w}");
        }
    }

    // The real binary says the same and exits non-zero.
    let config = run_config(d, &[("cli", &f.unsigned)], &keys, &[]);
    let toml = dir.path().join("run.toml");
    let slo = config.slo_files[0].display().to_string();
    std::fs::write(
        &toml,
        format!(
            "data_dir = \"{}\"\nslo_files = [\"{slo}\"]\ntrusted_keys = [\"{}\"]\n",
            d.join("data-cli-bin").display(),
            keys[0]
        ),
    )
    .unwrap();
    let out = dataslo(&["run", "--config", toml.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr_of(&out).contains("is not signed"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn replay_under_trusted_keys_refuses_an_unsigned_policy_file_with_the_trust_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (trusted, revoked) = (key(1), key(2));
    let f = files(d, &trusted, &revoked);
    let slos = d.join("orders.yaml");
    std::fs::write(&slos, slo_yaml("orders", "builtin:volume")).unwrap();
    let data = d.join("data");
    drop(dataslo::ledger::Ledger::open(&data.join("ledger"), "default", 100).unwrap());
    let toml = d.join("replay.toml");
    std::fs::write(
        &toml,
        format!(
            "data_dir = \"{}\"\ntrusted_keys = [\"{}\"]\n",
            data.display(),
            public(&trusted)
        ),
    )
    .unwrap();
    let replay = |policy: &Path| {
        dataslo(&[
            "replay",
            "--config",
            toml.to_str().unwrap(),
            slos.to_str().unwrap(),
            "--slo",
            "orders",
            "--policy",
            policy.to_str().unwrap(),
        ])
    };
    let out = replay(&f.unsigned);
    assert_ne!(out.status.code(), Some(0));
    let said = stderr_of(&out);
    assert!(
        said.contains("is not signed") && said.contains(&sha256_hex(&volume_like("u"))),
        "{said}"
    );
    // A signed one passes the check: what stops it is the empty ledger.
    let said = stderr_of(&replay(&f.signed));
    assert!(
        !said.contains("not signed") && said.contains("no observation"),
        "{said}"
    );
}

#[test]
fn a_key_rotation_keeps_policies_signed_by_the_new_key_and_drops_the_old_keys_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (old, new) = (key(1), key(2));
    let bytes = volume_like("rotated");
    let policy = write_signed(d, "rotated", &bytes, &[&old]);
    let stale = write_signed(d, "stale", &volume_like("stale"), &[&old]);
    // Before: the old key alone is trusted.
    assert!(Service::single(&run_config(d, &[("before", &policy)], &[public(&old)], &[])).is_ok());
    // The new key is added and signs too; then the old one is revoked.
    write_signed(d, "rotated", &bytes, &[&old, &new]);
    let after = run_config(
        d,
        &[("after", &policy)],
        &[public(&old), public(&new)],
        &[public(&old)],
    );
    assert!(Service::single(&after).is_ok());
    let message = run_refusal(&run_config(
        d,
        &[("stale", &stale)],
        &[public(&old), public(&new)],
        &[public(&old)],
    ));
    assert!(
        message.contains("revoked") && message.contains(&public(&old)),
        "{message}"
    );
}

pub(crate) fn put_policy(
    base: &str,
    name: &str,
    bytes: &[u8],
    signatures: &[String],
) -> (u16, serde_json::Value) {
    let mut request = agent()
        .put(format!("{base}/v1/policies/{name}"))
        .header("Authorization", "Bearer acme-secret")
        .header("Content-Type", "application/wasm");
    for s in signatures {
        request = request.header("Dataslo-Signature", s);
    }
    let mut answer = request.send(bytes).unwrap();
    let status = answer.status().as_u16();
    let text = answer.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// The header value of `k`'s signature of `bytes`.
pub(crate) fn header(k: &SecretKey, bytes: &[u8]) -> String {
    let s = k.sign(&sha256_hex(bytes));
    format!("{}:{}", s.key, s.signature)
}

pub(crate) fn tenant(
    trusted: Vec<String>,
    revoked: Vec<String>,
    slo_files: Vec<PathBuf>,
) -> Config {
    Config {
        tenants: vec![TenantConfig {
            name: "acme".into(),
            token_sha256: vec![token_hash("acme-secret")],
            slo_files,
            limits: Default::default(),
            trusted_keys: trusted,
            revoked_keys: revoked,
        }],
        ..Config::default()
    }
}

#[test]
fn serve_stores_a_signed_upload_and_refuses_the_others_with_403_and_their_code() {
    let (trusted, revoked, stranger) = (key(1), key(2), key(99));
    let config = tenant(
        vec![public(&trusted), public(&revoked)],
        vec![public(&revoked)],
        Vec::new(),
    );
    let server = start_server(tempfile::tempdir().unwrap(), config);
    let base = &server.url;
    let bytes = volume_like("upload");

    let (code, body) = put_policy(base, "p", &bytes, &[]);
    assert_eq!(
        (code, body["error"].as_str()),
        (403, Some("policy_unsigned")),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&sha256_hex(&bytes)),
        "{body}"
    );
    let (code, body) = put_policy(base, "p", &bytes, &[header(&stranger, &bytes)]);
    assert_eq!(
        (code, body["error"].as_str()),
        (403, Some("policy_untrusted")),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&public(&stranger)),
        "{body}"
    );
    let (code, body) = put_policy(base, "p", &bytes, &[header(&revoked, &bytes)]);
    assert_eq!(
        (code, body["error"].as_str()),
        (403, Some("policy_revoked")),
        "{body}"
    );
    // Bytes changed after signing: the signature of the original no longer verifies.
    let changed = volume_like("upload-changed");
    let (code, body) = put_policy(base, "p", &changed, &[header(&trusted, &bytes)]);
    assert_eq!(
        (code, body["error"].as_str()),
        (403, Some("policy_bad_signature")),
        "{body}"
    );
    let (code, body) = put_policy(base, "p", &bytes, &["not-a-signature".into()]);
    assert_eq!(
        (code, body["error"].as_str()),
        (400, Some("signature_invalid")),
        "{body}"
    );

    let (code, body) = put_policy(
        base,
        "p",
        &bytes,
        &[header(&revoked, &bytes), header(&trusted, &bytes)],
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["sha256"], sha256_hex(&bytes));
}

pub(crate) fn push(source: &str, reference: &str) -> String {
    let out = dataslo(&["policy", "push", source, reference, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    v["sha256"].as_str().unwrap().to_string()
}

#[test]
fn an_oci_policy_signed_in_its_registry_runs_and_an_unsigned_one_is_refused() {
    let Some(registry) = Registry::start("trust::oci_signed") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = key(7);
    let key_file = d.join("k.key");
    std::fs::write(&key_file, k.to_file_text()).unwrap();
    let component = d.join("volume-like.wasm");
    std::fs::write(&component, volume_like("oci")).unwrap();
    let signed = registry.reference("policies/volume:signed");
    let unsigned = registry.reference("policies/volume:unsigned");
    let other = d.join("other.wasm");
    std::fs::write(&other, volume_like("oci-unsigned")).unwrap();
    let sha = push(component.to_str().unwrap(), &signed);
    let unsigned_sha = push(other.to_str().unwrap(), &unsigned);
    let out = dataslo(&[
        "policy",
        "sign",
        &signed,
        "--key",
        key_file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert_eq!(v["sha256"], sha);
    assert!(v["stored"].as_str().unwrap().contains(":sha256-"), "{v}");
    let out = dataslo(&["policy", "verify", &signed, "--trust", &public(&k)]);
    assert!(out.status.success(), "{}", stderr_of(&out));

    let trusted = [public(&k)];
    let slo = |name: &str, policy: &str| {
        let file = d.join(format!("{name}.yaml"));
        std::fs::write(&file, slo_yaml(name, policy)).unwrap();
        Config {
            data_dir: d.join(format!("data-{name}")),
            slo_files: vec![file],
            trusted_keys: trusted.to_vec(),
            ..Config::default()
        }
    };
    assert!(Service::single(&slo("signed", &signed)).is_ok());
    let message = run_refusal(&slo("unsigned", &unsigned));
    assert!(
        message.contains("is not signed") && message.contains(&unsigned_sha),
        "{message}"
    );
    let out = dataslo(&[
        "policy",
        "verify",
        &unsigned,
        "--trust",
        &public(&k),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout_of(&out).contains("policy_unsigned"),
        "{}",
        stdout_of(&out)
    );
}

/// The agent's error as central shows it, once `check` holds of it.
fn await_agent_error(port: u16, check: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, text) = crate::server::send(
            "GET",
            &format!("http://127.0.0.1:{port}/v1/agents"),
            Some("acme-secret"),
            "",
            b"",
        );
        let agents: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if let Some(error) = agents[0]["last_error"].as_str()
            && check(error)
        {
            return error.to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no such agent error: {text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn an_agent_with_trusted_keys_runs_signed_sets_and_refuses_unsigned_untrusted_revoked_and_forged_ones()
 {
    use crate::edge::{central_config, spawn, terminate};
    use crate::edge_sync::{agent_slos, slo_yaml as edge_slo};
    let Some(nats) = crate::support::nats::NatsServer::start("trust::agent") else {
        return;
    };
    let (trusted, revoked, stranger) = (key(1), key(2), key(99));
    let central = tempfile::tempdir().unwrap();
    let (config, port) = central_config(central.path(), &nats.url());
    let serve = spawn(
        &["serve", "--config", config.to_str().unwrap()],
        &central.path().join("serve.log"),
    );
    let edge = tempfile::tempdir().unwrap();
    std::fs::write(
        edge.path().join("slo.yaml"),
        edge_slo("orders-volume", "builtin:volume", "volume"),
    )
    .unwrap();
    let agent_config = edge.path().join("dataslo.toml");
    std::fs::write(
        &agent_config,
        format!(
            "data_dir = \"data\"\nslo_files = [\"slo.yaml\"]\npoll_interval = \"50ms\"\n\
             trusted_keys = [\"{}\", \"{}\"]\nrevoked_keys = [\"{}\"]\n\
             [agent]\nsite = \"plant-7\"\ntenant = \"acme\"\n[nats]\nurl = \"{}\"\n",
            public(&trusted),
            public(&revoked),
            public(&revoked),
            nats.url()
        ),
    )
    .unwrap();
    let agent = spawn(
        &["agent", "--config", agent_config.to_str().unwrap()],
        &edge.path().join("agent.log"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "serve never listened");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Central trusts any policy; the agent checks what it is sent.
    let send_set = |name: &str, bytes: &[u8], signatures: &[String]| {
        let (code, body) = put_policy(&base, name, bytes, signatures);
        assert!(code == 200 || code == 201, "{body}");
        let yaml = edge_slo(
            &format!("orders-{name}"),
            &format!("uploaded:{name}"),
            "volume",
        );
        let (code, body) = crate::server::send(
            "PUT",
            &format!("{base}/v1/slos"),
            Some("acme-secret"),
            "application/yaml",
            yaml.as_bytes(),
        );
        assert_eq!(code, 200, "{body}");
    };
    let signed = volume_like("agent-signed");
    send_set("signed", &signed, &[header(&trusted, &signed)]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !agent_slos(edge.path()).iter().any(|s| s == "orders-signed") {
        assert!(
            std::time::Instant::now() < deadline,
            "the agent never ran the signed policy: {}",
            std::fs::read_to_string(edge.path().join("agent.log")).unwrap_or_default()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let unsigned = volume_like("agent-unsigned");
    send_set("unsigned", &unsigned, &[]);
    let error = await_agent_error(port, |e| e.contains("is not signed"));
    assert!(error.contains(&sha256_hex(&unsigned)), "{error}");

    let untrusted = volume_like("agent-untrusted");
    send_set("untrusted", &untrusted, &[header(&stranger, &untrusted)]);
    let error = await_agent_error(port, |e| e.contains("not a trusted key"));
    assert!(error.contains(&public(&stranger)), "{error}");

    let by_revoked = volume_like("agent-revoked");
    send_set("revoked", &by_revoked, &[header(&revoked, &by_revoked)]);
    let error = await_agent_error(port, |e| e.contains("revoked"));
    assert!(error.contains(&public(&revoked)), "{error}");

    // A signature of other bytes, sent as this upload's: it does not verify.
    let forged = volume_like("agent-forged");
    send_set("forged", &forged, &[header(&trusted, &signed)]);
    let error = await_agent_error(port, |e| e.contains("does not verify"));
    assert!(error.contains(&sha256_hex(&forged)), "{error}");
    // The signed set runs on.
    assert!(agent_slos(edge.path()).iter().any(|s| s == "orders-signed"));

    assert_eq!(terminate(agent), Some(0), "agent");
    assert_eq!(terminate(serve), Some(0), "serve");
}
