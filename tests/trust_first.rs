//! Under `trusted_keys` nothing of a component runs before its signatures are
//! judged. The forger fixture would be noticed if it ran: in `sli-none` its
//! `describe` (called by every load) breaks the contract, in `naps-validate`
//! its `validate-config` never returns. Signed by a key nobody trusts, each
//! is refused with the trust error naming its digest and that key, through
//! `eval`, `run`, `PUT /v1/policies`, the re-arm of `PUT /v1/slos` and a
//! restart that finds a stored upload whose key was revoked since.

use crate::support::forger;
use crate::support::registry::Registry;
use crate::support::server::start_server;
use crate::support::{dataslo, stderr_of};
use crate::trust::{
    eval, header, key, public, push, put_policy, refused_kind, run_config, run_refusal, sha256_hex,
    slo_yaml, tenant,
};
use dataslo::trust::{SecretKey, Signatures};
use std::path::{Path, PathBuf};

/// The forger in `mode`, written to `dir` with a `.sig` by `by`.
fn signed_forger(dir: &Path, mode: &str, by: &SecretKey) -> (PathBuf, Vec<u8>) {
    let bytes = forger(mode);
    let path = dir.join(format!("{mode}.wasm"));
    std::fs::write(&path, &bytes).unwrap();
    let mut doc = Signatures::default();
    doc.add(by.sign(&sha256_hex(&bytes)));
    std::fs::write(dir.join(format!("{mode}.wasm.sig")), doc.encode()).unwrap();
    (path, bytes)
}

fn assert_refused_as_untrusted(message: &str, bytes: &[u8], stranger: &SecretKey) {
    for word in [
        "not a trusted key".to_string(),
        sha256_hex(bytes),
        public(stranger),
    ] {
        assert!(message.contains(&word), "{message} lacks {word}");
    }
}

#[test]
fn run_refuses_an_untrusted_policy_before_loading_it_or_validating_its_config() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (trusted, stranger) = (key(1), key(99));
    for mode in ["sli-none", "naps-validate"] {
        let (path, bytes) = signed_forger(d, mode, &stranger);
        // Without trusted_keys the guest runs, and its behaviour is the refusal.
        let open = run_refusal(&run_config(d, &[(mode, &path)], &[], &[]));
        assert!(!open.contains("not a trusted key"), "{mode}: {open}");
        let message = run_refusal(&run_config(
            d,
            &[(&format!("{mode}-trusted"), &path)],
            &[public(&trusted)],
            &[],
        ));
        assert_refused_as_untrusted(&message, &bytes, &stranger);
    }
}

#[test]
fn eval_refuses_an_untrusted_policy_before_loading_it() {
    let dir = tempfile::tempdir().unwrap();
    let (trusted, stranger) = (key(1), key(99));
    let (path, bytes) = signed_forger(dir.path(), "sli-none", &stranger);
    let (code, kind, message) = refused_kind(&eval(dir.path(), &path, &[], &[]));
    assert_ne!(
        kind, "policy_untrusted",
        "without a key its describe() refuses it"
    );
    assert_ne!(code, Some(0), "{message}");
    let (code, kind, message) = refused_kind(&eval(dir.path(), &path, &[public(&trusted)], &[]));
    assert_eq!(
        (code, kind.as_str()),
        (Some(1), "policy_untrusted"),
        "{message}"
    );
    assert_refused_as_untrusted(&message, &bytes, &stranger);
}

#[test]
fn an_upload_is_judged_before_it_is_loaded() {
    let (trusted, stranger) = (key(1), key(99));
    let server = start_server(
        tempfile::tempdir().unwrap(),
        tenant(vec![public(&trusted)], Vec::new(), Vec::new()),
    );
    let bytes = forger("sli-none");
    let (code, body) = put_policy(
        &server.url,
        "tripwire",
        &bytes,
        &[header(&stranger, &bytes)],
    );
    assert_eq!(
        (code, body["error"].as_str()),
        (403, Some("policy_untrusted")),
        "{body}"
    );
    assert_refused_as_untrusted(body["detail"].as_str().unwrap(), &bytes, &stranger);
    // Signed by the trusted key it is loaded, and its `describe` is what refuses it.
    let (code, body) = put_policy(&server.url, "tripwire", &bytes, &[header(&trusted, &bytes)]);
    assert_eq!(
        (code, body["error"].as_str()),
        (422, Some("invalid_policy")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("describe()"),
        "{body}"
    );
}

#[test]
fn put_slos_judges_a_re_resolved_oci_policy_before_validating_its_config() {
    let Some(registry) = Registry::start("trust_first::put_slos") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (trusted, stranger) = (key(1), key(99));
    let (path, bytes) = signed_forger(d, "naps-validate", &stranger);
    let reference = registry.reference("policies/tripwire:1");
    push(path.to_str().unwrap(), &reference);
    let key_file = d.join("stranger.key");
    std::fs::write(&key_file, stranger.to_file_text()).unwrap();
    let out = dataslo(&[
        "policy",
        "sign",
        &reference,
        "--key",
        key_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr_of(&out));

    let server = start_server(
        tempfile::tempdir().unwrap(),
        tenant(vec![public(&trusted)], Vec::new(), Vec::new()),
    );
    let (code, body) = crate::server::send(
        "PUT",
        &format!("{}/v1/slos", server.url),
        Some("acme-secret"),
        "application/yaml",
        slo_yaml("tripwire", &reference).as_bytes(),
    );
    assert!((400..500).contains(&code), "{code}: {body}");
    assert_refused_as_untrusted(&body, &bytes, &stranger);
}

#[test]
fn a_stored_upload_whose_key_was_revoked_since_is_not_loaded_at_start() {
    use dataslo::ledger::Ledger;
    use dataslo::runtime::Runtime;
    use dataslo::service::Service;
    let (old, new) = (key(1), key(2));
    let dir = tempfile::tempdir().unwrap();
    let config = |revoked: Vec<String>| {
        let mut c = tenant(vec![public(&old), public(&new)], revoked, Vec::new());
        c.data_dir = dir.path().join("data");
        c
    };
    let runtime = std::sync::Arc::new(Runtime::new(Default::default()).unwrap());
    let ledger = Ledger::open(&dir.path().join("ledger"), "default", 100).unwrap();
    let bytes = forger("none");
    let signature = old.sign(&sha256_hex(&bytes));
    let service = Service::from_config(&config(Vec::new()), runtime.clone(), &ledger).unwrap();
    service.tenants[0]
        .put_policy("p", &bytes, &[signature], jiff::Timestamp::now())
        .unwrap();
    assert!(service.tenants[0].registry.entry("p").is_some());
    drop(service);

    // Restarted with the key revoked: the upload is not loaded (loading calls into it).
    let service = Service::from_config(&config(vec![public(&old)]), runtime, &ledger).unwrap();
    let tenant = &service.tenants[0];
    assert!(tenant.registry.entry("p").is_none());
    let refused = tenant
        .put_slos(&slo_yaml("uses-p", "uploaded:p"))
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("no uploaded policy named \"p\""),
        "{refused}"
    );
}
