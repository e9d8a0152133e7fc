//! A site that goes silent: central, judging from its own ledger, fires the
//! no-data alert of the SLO its agent fed, and nothing at the agent has to
//! say so.

use crate::edge::{
    await_log, await_records, central_config_with, observations_every, spawn, spool, start_agent,
    status, terminate,
};
use crate::server::SLO;
use crate::support::nats::NatsServer;
use std::path::Path;
use std::time::{Duration, Instant};

/// The orders-volume SLO, with no data for two minutes counting as an
/// alert. Windows are whole minutes ending with the current one, so `1m`
/// would be the current minute alone, and the first second of each minute,
/// before the site's records of it crossed the bus, would count as silence.
fn slo() -> String {
    let silent = SLO.replace(
        "trigger: observation }",
        "trigger: observation, alerting: { no_data_after: 2m } }",
    );
    assert_ne!(
        silent, SLO,
        "the orders-volume SLO has one observation trigger"
    );
    silent
}

/// Whether central's status (by `status --config`, which asks the running
/// serve) shows `no-data` firing now.
fn no_data_firing(config: &Path) -> bool {
    fn firing(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
                (k == "firing"
                    && v.as_array()
                        .is_some_and(|a| a.iter().any(|x| x == "no-data")))
                    || firing(v)
            }),
            serde_json::Value::Array(items) => items.iter().any(firing),
            _ => false,
        }
    }
    firing(&status(config, jiff::Timestamp::now(), Some("acme")))
}

/// Polls `check` every second for at most `limit` (to catch a hang).
fn eventually(what: &str, limit: Duration, check: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn a_site_that_goes_silent_fires_the_no_data_alert_of_its_slo_at_central() {
    let Some(nats) = NatsServer::start("a_site_that_goes_silent") else {
        return;
    };
    let central = tempfile::tempdir().unwrap();
    let (config, port) = central_config_with(central.path(), &nats.url(), &slo(), "");
    let serve_log = central.path().join("serve.log");
    let serve = spawn(&["serve", "--config", config.to_str().unwrap()], &serve_log);
    await_log(
        &serve_log,
        "dataslo serve started",
        Duration::from_secs(120),
    );
    let edge = tempfile::tempdir().unwrap();
    let agent = start_agent(edge.path(), &nats.url(), "plant-7");
    let agent_log = edge.path().join("agent.log");
    await_log(
        &agent_log,
        "dataslo agent started",
        Duration::from_secs(120),
    );

    // The site speaks, an observation a second, across a minute boundary:
    // no-data never fires while it does.
    let now = jiff::Timestamp::now();
    spool(
        edge.path(),
        "obs-0.ndjson",
        &observations_every(jiff::SignedDuration::from_secs(1), 5, now),
    );
    await_records(port, 5, Duration::from_secs(120), &[&agent_log, &serve_log]);
    eventually(
        "central sees data from the site",
        Duration::from_secs(30),
        || !no_data_firing(&config),
    );
    let speaking = Instant::now();
    let mut n = 0;
    while speaking.elapsed() < Duration::from_secs(65) {
        n += 1;
        let now = jiff::Timestamp::now();
        spool(
            edge.path(),
            &format!("obs-{n}.ndjson"),
            &observations_every(jiff::SignedDuration::from_secs(1), 1, now),
        );
        std::thread::sleep(Duration::from_secs(1));
        assert!(
            !no_data_firing(&config),
            "no-data fired while the site spoke"
        );
    }

    // The site goes silent; central notices within its no_data_after.
    assert_eq!(terminate(agent), Some(0));
    eventually(
        "central fires no-data for the silent site's SLO",
        Duration::from_secs(300),
        || no_data_firing(&config),
    );
    assert_eq!(terminate(serve), Some(0));
}
