//! Tenants stay apart on the bus: nats-server gives each tenant's agents a
//! user that may use only its tenant's subjects and buckets, and central has
//! its own user. The permissions are the block of docs/distributed.md
//! ("Tenants on the bus"), read from there, so the docs say what is tested.

use crate::edge::{await_log, dataslo, observations, spawn, spool, terminate};
use crate::edge_sync::{agent_slos, slo_yaml};
use crate::serve_process::free_port;
use crate::server::{SLO, send};
use crate::support::guest_bytes;
use crate::support::nats::NatsServer;
use dataslo::service::token_hash;
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DOCS: &str = include_str!("../docs/distributed.md");
/// The docs' placeholder password, every user's here.
const PASSWORD: &str = "...";
/// Wide: only to catch a hang on a loaded machine.
const LIMIT: Duration = Duration::from_secs(60);

/// The `authorization` block of docs/distributed.md, with globex's agents'
/// user made from acme's, as the docs say.
fn authorization() -> String {
    let start = DOCS
        .find("authorization {")
        .expect("docs/distributed.md has an authorization block");
    let block = &DOCS[start..];
    let block = &block[..block.find("\n```").unwrap()];
    let acme = block.find("{ user: acme-agents").unwrap();
    let end = acme + balanced(&block[acme..]);
    format!(
        "{}\n    {}{}",
        &block[..end],
        block[acme..end].replace("acme", "globex"),
        &block[end..]
    )
}

/// The length of the `{ … }` that `text` starts with.
fn balanced(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    panic!("an unbalanced block in docs/distributed.md: {text}")
}

/// Central's config: tenants acme and globex, NATS as user `central`.
fn central_config(dir: &Path, nats: &str) -> (PathBuf, u16) {
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
             [nats]\nurl = \"{nats}\"\nuser = \"central\"\npassword = \"{PASSWORD}\"\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n{}{}",
            tenant("acme"),
            tenant("globex")
        ),
    )
    .unwrap();
    (path, port)
}

/// Central `serve` from `dir`, once it listens; its port.
fn start_central(dir: &Path, nats: &str) -> (Child, u16) {
    let (config, port) = central_config(dir, nats);
    let serve = spawn(
        &["serve", "--config", config.to_str().unwrap()],
        &dir.join("serve.log"),
    );
    let deadline = Instant::now() + LIMIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "serve never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    (serve, port)
}

/// An agent at `site` for `tenant`, on NATS as the user of `user`'s agents
/// (with that tenant's inbox prefix).
fn start_agent(dir: &Path, nats: &str, site: &str, tenant: &str, user: &str) -> Child {
    std::fs::write(dir.join("slo.yaml"), SLO).unwrap();
    let config = dir.join("dataslo.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\nslo_files = [\"slo.yaml\"]\npoll_interval = \"50ms\"\n\
             [agent]\nsite = \"{site}\"\ntenant = \"{tenant}\"\n\
             [nats]\nurl = \"{nats}\"\nuser = \"{user}-agents\"\npassword = \"{PASSWORD}\"\n\
             inbox_prefix = \"_INBOX_{user}\"\n"
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

/// `GET /v1/agents` at central as `tenant`.
fn agents_of(port: u16, tenant: &str) -> serde_json::Value {
    let secret = format!("{tenant}-secret");
    let url = format!("http://127.0.0.1:{port}/v1/agents");
    let (status, body) = send("GET", &url, Some(&secret), "", b"");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Waits until `tenant`'s agents at central are exactly `sites`, each with
/// a synced set; their answer then.
fn await_sites(port: u16, tenant: &str, sites: &[&str], logs: &[&Path]) -> serde_json::Value {
    let deadline = Instant::now() + LIMIT;
    loop {
        let agents = agents_of(port, tenant);
        let listed: Vec<&str> = agents
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| {
                a["slo_set_version"]
                    .is_string()
                    .then_some(a["site"].as_str()?)
            })
            .collect();
        if listed == sites {
            return agents;
        }
        assert!(
            Instant::now() < deadline,
            "{tenant}'s agents never were {sites:?} with a set: {agents}\n{}",
            read_logs(logs)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until the agent in `edge` runs `slo`.
fn await_runs(edge: &Path, slo: &str) {
    let deadline = Instant::now() + LIMIT;
    while !agent_slos(edge).iter().any(|s| s == slo) {
        assert!(
            Instant::now() < deadline,
            "the agent never ran {slo}\n{}",
            read_logs(&[&edge.join("agent.log")])
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn read_logs(logs: &[&Path]) -> String {
    logs.iter()
        .map(|l| std::fs::read_to_string(l).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n-----\n")
}

/// `wasm` with a custom section of `n` bytes appended (ignored when run).
fn padded(mut wasm: Vec<u8>, n: usize) -> Vec<u8> {
    let leb = |mut v: usize, out: &mut Vec<u8>| loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    };
    let name = b"padding";
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend(std::iter::repeat_n(7u8, n));
    wasm.push(0);
    leb(body.len(), &mut wasm);
    wasm.extend(body);
    wasm
}

/// A `PUT` to central as `tenant`; its status and body.
fn put(port: u16, tenant: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let secret = format!("{tenant}-secret");
    let url = format!("http://127.0.0.1:{port}{path}");
    send("PUT", &url, Some(&secret), content_type, body)
}

#[test]
fn each_tenants_agents_follow_their_own_set_and_heartbeat_with_their_own_user_only() {
    let Some(mut nats) = NatsServer::start_with_auth(
        "each_tenants_agents_follow_their_own_set_and_heartbeat_with_their_own_user_only",
        &authorization(),
    ) else {
        return;
    };
    let central = tempfile::tempdir().unwrap();
    let (serve, port) = start_central(central.path(), &nats.url());
    let serve_log = central.path().join("serve.log");
    let (acme_edge, globex_edge) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let acme = start_agent(acme_edge.path(), &nats.url(), "plant-7", "acme", "acme");
    let globex = start_agent(
        globex_edge.path(),
        &nats.url(),
        "plant-8",
        "globex",
        "globex",
    );
    let acme_log = acme_edge.path().join("agent.log");
    let globex_log = globex_edge.path().join("agent.log");
    let logs: [&Path; 3] = [&serve_log, &acme_log, &globex_log];
    let first = (
        await_sites(port, "acme", &["plant-7"], &logs)[0]["slo_set_version"].clone(),
        await_sites(port, "globex", &["plant-8"], &logs)[0]["slo_set_version"].clone(),
    );

    // acme's new set needs a policy from acme's Object Store (globex's
    // not), large enough that the server asks for flow control on the way.
    let policy = padded(guest_bytes("min-rows"), 6 << 20);
    let (code, body) = put(
        port,
        "acme",
        "/v1/policies/min-rows",
        "application/wasm",
        &policy,
    );
    assert_eq!(code, 201, "{body}");
    let acme_slo = slo_yaml("acme-rows", "uploaded:min-rows", "min_rows");
    let (code, body) = put(
        port,
        "acme",
        "/v1/slos",
        "application/yaml",
        acme_slo.as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    let globex_slo = slo_yaml("globex-rows", "builtin:volume", "volume");
    let (code, body) = put(
        port,
        "globex",
        "/v1/slos",
        "application/yaml",
        globex_slo.as_bytes(),
    );
    assert_eq!(code, 200, "{body}");

    await_runs(acme_edge.path(), "acme-rows");
    await_runs(globex_edge.path(), "globex-rows");
    let sorted = |edge: &Path| {
        let mut slos = agent_slos(edge);
        slos.sort();
        slos
    };
    assert_eq!(sorted(acme_edge.path()), ["acme-rows", "orders-volume"]);
    assert_eq!(sorted(globex_edge.path()), ["globex-rows", "orders-volume"]);
    // Each heartbeat reaches its tenant, with the new set, and no other.
    let deadline = Instant::now() + LIMIT;
    loop {
        let (a, g) = (agents_of(port, "acme"), agents_of(port, "globex"));
        if a[0]["slo_set_version"] != first.0 && g[0]["slo_set_version"] != first.1 {
            assert_eq!(
                (a[0]["site"].as_str(), a[1].is_null()),
                (Some("plant-7"), true)
            );
            assert_eq!(
                (g[0]["site"].as_str(), g[1].is_null()),
                (Some("plant-8"), true)
            );
            assert!(a[0]["last_error"].is_null() && g[0]["last_error"].is_null());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new sets never showed in the heartbeats: {a} {g}\n{}",
            read_logs(&logs)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Records too, each under its tenant.
    spool(
        acme_edge.path(),
        "a.ndjson",
        &observations(4, jiff::Timestamp::now()),
    );
    spool(
        globex_edge.path(),
        "g.ndjson",
        &observations(6, jiff::Timestamp::now()),
    );
    let deadline = Instant::now() + LIMIT;
    while (records_of(port, "acme"), records_of(port, "globex")) != (4, 6) {
        assert!(Instant::now() < deadline, "{}", read_logs(&logs));
        std::thread::sleep(Duration::from_millis(200));
    }

    // Through a restart of the server too: each watch is made again.
    nats.restart();
    let globex_slo = slo_yaml("globex-more", "builtin:volume", "volume");
    let (code, body) = put(
        port,
        "globex",
        "/v1/slos",
        "application/yaml",
        globex_slo.as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    await_runs(globex_edge.path(), "globex-more");

    // The block the docs give is all they need: nothing was refused.
    for log in [&acme_log, &globex_log] {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(
            !text.contains("Permissions Violation") && !text.contains("refused"),
            "{text}"
        );
    }
    assert_eq!(terminate(acme), Some(0));
    assert_eq!(terminate(globex), Some(0));
    assert_eq!(terminate(serve), Some(0));
}

/// What a client of `user`'s agents' NATS user (and inbox prefix) gets of
/// `tenant`'s buckets.
#[derive(Debug)]
struct Reach {
    /// The SLO set its watch reads.
    set: Option<String>,
    /// Whether its policies' Object Store opens.
    policies: bool,
    /// What the server refused, as it said it.
    refusals: Vec<String>,
}

fn reach(nats: &NatsServer, user: &str, tenant: &str) -> Reach {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let refusals = Arc::new(Mutex::new(Vec::new()));
        let said = refusals.clone();
        let client = async_nats::ConnectOptions::with_user_and_password(
            format!("{user}-agents"),
            PASSWORD.into(),
        )
        .custom_inbox_prefix(format!("_INBOX_{user}"))
        .event_callback(move |event| {
            let said = said.clone();
            async move {
                if let async_nats::Event::ServerError(error) = event {
                    said.lock().unwrap().push(error.to_string());
                }
            }
        })
        .connect(nats.url())
        .await
        .unwrap();
        let js = async_nats::jetstream::new(client.clone());
        let set = match js.get_key_value(format!("dataslo-slo-sets-{tenant}")).await {
            Ok(kv) => match kv.watch_with_history("set").await {
                Ok(mut watch) => tokio::time::timeout(Duration::from_secs(10), watch.next())
                    .await
                    .ok()
                    .flatten()
                    .and_then(Result::ok)
                    .map(|entry| String::from_utf8_lossy(&entry.value).into_owned()),
                Err(_) => None,
            },
            Err(_) => None,
        };
        let policies = js
            .get_object_store(format!("dataslo-policies-{tenant}"))
            .await
            .is_ok();
        // Listening on the bucket's subjects, around JetStream: refused
        // even for its own tenant.
        let _listen = client
            .subscribe(format!("$KV.dataslo-slo-sets-{tenant}.>"))
            .await;
        client.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let refusals = refusals.lock().unwrap().clone();
        Reach {
            set,
            policies,
            refusals,
        }
    })
}

#[test]
fn an_agent_publishes_only_under_the_tenant_its_nats_user_is_for() {
    let Some(nats) = NatsServer::start_with_auth(
        "an_agent_publishes_only_under_the_tenant_its_nats_user_is_for",
        &authorization(),
    ) else {
        return;
    };
    let central = tempfile::tempdir().unwrap();
    let (serve, port) = start_central(central.path(), &nats.url());
    let serve_log = central.path().join("serve.log");
    let now = jiff::Timestamp::now();

    // acme's user, acme's tenant: its records reach acme, and only acme.
    let honest = tempfile::tempdir().unwrap();
    let acme = start_agent(honest.path(), &nats.url(), "plant-7", "acme", "acme");
    spool(honest.path(), "a.ndjson", &observations(20, now));
    let honest_log = honest.path().join("agent.log");
    crate::edge::await_records(port, 20, LIMIT, &[&honest_log, &serve_log]);

    // acme's user claiming globex: the server refuses every publish.
    let posing = tempfile::tempdir().unwrap();
    let globex = start_agent(posing.path(), &nats.url(), "plant-9", "globex", "acme");
    spool(posing.path(), "b.ndjson", &observations(15, now));
    let posing_log = posing.path().join("agent.log");
    await_log(&posing_log, "Permissions Violation", LIMIT);
    await_log(
        &posing_log,
        "records wait in the ledger to be published",
        LIMIT,
    );
    // The agent keeps its backlog: evaluated, held, not lost.
    let edge_config = posing.path().join("dataslo.toml");
    let deadline = Instant::now() + LIMIT;
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
    await_log(&posing_log, "behind=15", LIMIT);
    assert_eq!(records_of(port, "globex"), 0, "nothing reached globex");
    assert_eq!(records_of(port, "acme"), 20, "nor acme");

    // Nor does it read globex's set, or put a heartbeat among globex's.
    await_log(
        &posing_log,
        "Permissions Violation for Publish to \"$JS.API.STREAM.INFO.KV_dataslo-slo-sets-globex\"",
        LIMIT,
    );
    let posing_text = std::fs::read_to_string(&posing_log).unwrap();
    assert!(!posing_text.contains("SLO set applied"), "{posing_text}");
    await_sites(port, "acme", &["plant-7"], &[&serve_log, &honest_log]);
    assert_eq!(agents_of(port, "globex"), serde_json::json!([]));

    // acme's user reads acme's set and opens acme's policies; of globex's,
    // the server refuses it everything.
    let own = reach(&nats, "acme", "acme");
    let set = own
        .set
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>);
    assert_eq!(set.unwrap().unwrap()["tenant"], "acme", "{own:?}");
    assert!(own.policies, "{own:?}");
    assert_eq!(
        own.refusals,
        ["nats: Permissions Violation for Subscription to \"$KV.dataslo-slo-sets-acme.>\""]
    );
    let other = reach(&nats, "acme", "globex");
    assert!(other.set.is_none() && !other.policies, "{other:?}");
    for refused in [
        "Publish to \"$JS.API.STREAM.INFO.KV_dataslo-slo-sets-globex\"",
        "Publish to \"$JS.API.STREAM.INFO.OBJ_dataslo-policies-globex\"",
        "Subscription to \"$KV.dataslo-slo-sets-globex.>\"",
    ] {
        assert!(
            other.refusals.iter().any(|r| r.contains(refused)),
            "{refused}: {other:?}"
        );
    }

    assert_eq!(terminate(globex), Some(0));
    assert_eq!(terminate(acme), Some(0));
    assert_eq!(terminate(serve), Some(0));
}
