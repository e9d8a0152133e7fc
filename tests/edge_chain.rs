//! Central verifies the chain its agents' records carry. A record without a
//! link, or whose hash does not recompute, is refused: never filed into the
//! ledger or a chain, but kept beside it (the agent had it acknowledged),
//! logged with its SLO, key and site, and counted in
//! `dataslo_chain_problems_total` with the gaps, forks and broken links
//! central files.

use crate::edge::{await_log, await_records, central_config, spawn, terminate};
use crate::support::nats::NatsServer;
use dataslo::jetstream::stream;
use dataslo::ledger::chain::{GENESIS, link};
use dataslo::ledger::{ChainProblem, EvalRecord};
use std::time::Duration;

const SITE: &str = "edge-x";

/// An orders-volume record of `SITE` under `key` (as filed: `<site>.<key>`).
fn record(key: &str, minute: i64) -> EvalRecord {
    let time = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(minute);
    serde_json::from_value(serde_json::json!({
        "slo": "orders-volume", "dataset": {"namespace": "postgres://prod", "name": "orders"},
        "time": time.to_string(), "key": format!("{SITE}.{key}"),
        "outcome": {"kind": "measured"}, "events": [{"good": 1, "total": 1}],
        "value": 50.0, "detail": "50 rows", "policy_sha256": "00"
    }))
    .unwrap()
}

/// Publishes `records` as an agent at `SITE` would, once the stream exists.
fn publish(url: &str, records: &[EvalRecord]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        // Central makes the stream when it starts.
        while js.get_stream(stream::STREAM).await.is_err() {
            assert!(std::time::Instant::now() < deadline, "no stream");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for r in records {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", stream::message_id(SITE, r).as_str());
            headers.insert(stream::FORMAT_HEADER, stream::FORMAT);
            let payload = serde_json::to_vec(r).unwrap();
            js.publish_with_headers(stream::subject("acme", SITE), headers, payload.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    });
}

fn metric(text: &str, kind: &str) -> Option<f64> {
    text.lines()
        .find(|l| {
            l.starts_with("dataslo_chain_problems_total{")
                && l.contains(&format!("site=\"{SITE}\""))
                && l.contains(&format!("kind=\"{kind}\""))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[test]
fn central_keeps_an_agents_unchained_or_edited_record_outside_its_ledger_and_counts_chain_problems()
{
    let Some(nats) = NatsServer::start("edge_chain::refused") else {
        return;
    };
    let central = tempfile::tempdir().unwrap();
    let (config, port) = central_config(central.path(), &nats.url());
    let log = central.path().join("serve.log");
    let serve = spawn(&["serve", "--config", config.to_str().unwrap()], &log);

    let mut first = record("k1", 4);
    first.chain = Some(link(&first, 1, &GENESIS));
    let unchained = record("k2", 3);
    let mut edited = record("k3", 2);
    let prev: [u8; 32] = hex::decode(&first.chain.as_ref().unwrap().hash)
        .unwrap()
        .try_into()
        .unwrap();
    edited.chain = Some(link(&edited, 2, &prev));
    edited.events[0].good = 0;
    // Seq 5 after seq 1: the records between never came.
    let mut ahead = record("k5", 1);
    ahead.chain = Some(link(&ahead, 5, &[7; 32]));
    publish(
        &nats.url(),
        &[
            first.clone(),
            unchained.clone(),
            edited.clone(),
            ahead.clone(),
        ],
    );

    let filed = await_records(port, 2, Duration::from_secs(60), &[&log]);
    await_log(&log, "record refused", Duration::from_secs(60));
    let keys: Vec<&str> = filed.iter().filter_map(|r| r["key"].as_str()).collect();
    assert!(
        keys.iter()
            .all(|k| !k.ends_with(".k2") && !k.ends_with(".k3")),
        "a refused record was filed: {keys:?}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    for key in [&unchained.key, &edited.key] {
        let line = text
            .lines()
            .find(|l| l.contains("record refused") && l.contains(key.as_str()))
            .unwrap_or_else(|| panic!("no refusal of {key} logged:\n{text}"));
        assert!(
            line.contains("orders-volume") && line.contains(SITE),
            "{line}"
        );
    }

    // The refusals are logged before they are kept and counted: wait for
    // the counts (the deadline only catches a hang).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let (code, metrics) = crate::server::send(
            "GET",
            &format!("http://127.0.0.1:{port}/metrics"),
            Some("acme-secret"),
            "",
            b"",
        );
        assert_eq!(code, 200, "{metrics}");
        let counted = ["unchained", "broken_hash", "gap"]
            .iter()
            .all(|kind| metric(&metrics, kind).is_some_and(|n| n > 0.0));
        if counted || std::time::Instant::now() > deadline {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(metric(&metrics, "unchained"), Some(1.0), "{metrics}");
    assert_eq!(metric(&metrics, "broken_hash"), Some(1.0), "{metrics}");
    assert_eq!(metric(&metrics, "gap"), Some(1.0), "{metrics}");
    assert_eq!(metric(&metrics, "fork"), Some(0.0), "{metrics}");
    assert_eq!(metric(&metrics, "broken_link"), Some(0.0), "{metrics}");
    if let Some((clean, said)) = crate::metrics::promtool(&metrics) {
        assert!(clean, "promtool check metrics:\n{said}\n{metrics}");
    }
    terminate(serve);

    // `ledger verify` lists them; the ledger itself holds no problem.
    let data = central.path().join("data");
    let out = crate::edge::dataslo(&[
        "ledger",
        "verify",
        "--data-dir",
        data.to_str().unwrap(),
        "--tenant",
        "acme",
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    for key in [&unchained.key, &edited.key] {
        assert!(
            said.lines().any(|l| l
                .starts_with("refused   tenant acme: site edge-x SLO orders-volume")
                && l.contains(key.as_str())),
            "{said}"
        );
    }

    // Kept on disk, whole, with why: nothing acknowledged is lost.
    let ledger = dataslo::ledger::Ledger::open(&central.path().join("data/ledger"), "default", 100)
        .unwrap()
        .for_tenant("acme")
        .unwrap();
    let kept = ledger.refused_records().unwrap();
    let found: Vec<(Option<String>, Option<ChainProblem>)> =
        kept.iter().map(|r| (r.key.clone(), r.problem)).collect();
    assert_eq!(
        found,
        vec![
            (Some(unchained.key.clone()), Some(ChainProblem::Unchained)),
            (Some(edited.key.clone()), Some(ChainProblem::BrokenHash)),
        ]
    );
    assert!(kept.iter().all(|r| {
        r.site == SITE
            && r.payload
                .text()
                .is_some_and(|t| t.contains("orders-volume"))
    }));
    let edited_kept: EvalRecord =
        serde_json::from_slice(&kept[1].payload.bytes().unwrap()).unwrap();
    assert_eq!(edited_kept.events[0].good, 0, "kept as it arrived");
    assert!(
        ledger
            .records(Some("orders-volume"), None)
            .all(|r| r.unwrap().chain.is_some()),
        "nothing unchained in the ledger"
    );
}
