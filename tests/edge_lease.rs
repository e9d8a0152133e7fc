//! The tick lease under failure: replicas whose clocks disagree, a holder
//! whose lease ends in the middle of a clock pass, transitions recorded
//! while no replica held it, and the first pass of a replica that finds the
//! lease free. A real nats-server, real `dataslo serve` processes, a real
//! webhook receiver on loopback.

use crate::edge::{await_log, observations, terminate};
use crate::edge_replicas::{Replica, fresh};
use crate::server::SLO;
use crate::support::nats::NatsServer;
use crate::support::webhook::{count, receiver};
use dataslo::jetstream::lease::{
    LeaseSettings, LeaseValue, Standing, Watch, bucket, tick_key, try_hold,
};
use dataslo::jetstream::tick_hold::TickHold;
use dataslo::model::Notifier;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_tick_lease_is_taken_over_only_after_a_whole_lease_without_a_renewal() {
    let Some(nats) = NatsServer::start(
        "the_tick_lease_is_taken_over_only_after_a_whole_lease_without_a_renewal",
    ) else {
        return;
    };
    runtime().block_on(async {
        let client = async_nats::connect(nats.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let store = bucket(&js).await.unwrap();
        let lease = Duration::from_secs(10);
        let replica = |name: &str| LeaseSettings {
            tenant: "acme".into(),
            replica: name.into(),
            lease,
        };
        let (r1, r2, r3) = (replica("r1"), replica("r2"), replica("r3"));
        let (mut w1, mut w2, mut w3) = (Watch::new(lease), Watch::new(lease), Watch::new(lease));
        // Each replica's own monotonic clock, moved on by hand.
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let lost_to_r1 = Standing::Lost("r1".into());
        let free = try_hold(&store, &r1, &mut w1, at(0)).await.unwrap();
        assert_eq!(free, Standing::Holds { after: None });
        assert_eq!(
            try_hold(&store, &r2, &mut w2, at(0)).await.unwrap(),
            lost_to_r1
        );
        assert_eq!(
            try_hold(&store, &r2, &mut w2, at(9)).await.unwrap(),
            lost_to_r1
        );
        // r1 renews (handing nothing over): r2 counts a whole lease again
        // from when it sees that.
        assert_eq!(
            try_hold(&store, &r1, &mut w1, at(3)).await.unwrap(),
            Standing::Holds { after: None }
        );
        assert_eq!(
            try_hold(&store, &r2, &mut w2, at(12)).await.unwrap(),
            lost_to_r1
        );
        assert_eq!(
            try_hold(&store, &r2, &mut w2, at(21)).await.unwrap(),
            lost_to_r1
        );
        // The stored time says nothing to r2: a holder's clock a day ahead
        // keeps nobody out for a day.
        let entry = store.entry(tick_key("acme")).await.unwrap().unwrap();
        let stored: LeaseValue = serde_json::from_slice(&entry.value).unwrap();
        assert_eq!(stored.holder, "r1");
        let ahead = LeaseValue {
            renewed_at: stored.renewed_at + jiff::SignedDuration::from_hours(24),
            ..stored.clone()
        };
        store
            .update(
                tick_key("acme"),
                serde_json::to_vec(&ahead).unwrap().into(),
                entry.revision,
            )
            .await
            .unwrap();
        assert_eq!(
            try_hold(&store, &r2, &mut w2, at(22)).await.unwrap(),
            lost_to_r1
        );
        let taken = try_hold(&store, &r2, &mut w2, at(32)).await.unwrap();
        // What r2 sends from is its read before it saw that revision, by its
        // own clock: never r1's day-ahead time.
        let Standing::Holds { after: Some(after) } = taken else {
            panic!("r2 took the lease over: {taken:?}");
        };
        assert!(
            after <= jiff::Timestamp::now()
                && after < stored.renewed_at + jiff::SignedDuration::from_mins(1)
        );
        // r1 finds it taken; two replicas taking over a lapsed lease at once: one wins.
        let lost_to_r2 = Standing::Lost("r2".into());
        assert_eq!(
            try_hold(&store, &r1, &mut w1, at(33)).await.unwrap(),
            lost_to_r2
        );
        assert_eq!(
            try_hold(&store, &r3, &mut w3, at(33)).await.unwrap(),
            lost_to_r2
        );
        let (a, b) = tokio::join!(
            try_hold(&store, &r1, &mut w1, at(43)),
            try_hold(&store, &r3, &mut w3, at(43))
        );
        let won = [a.unwrap(), b.unwrap()]
            .iter()
            .filter(|s| matches!(s, Standing::Holds { .. }))
            .count();
        assert_eq!(won, 1);
    });
}

/// A transition of alert `alert` at `at`, as the ledger logs it.
fn transition(alert: &str, at: jiff::Timestamp) -> dataslo::ledger::Transition {
    serde_json::from_value(serde_json::json!({
        "slo": "fresh",
        "dataset": { "namespace": "postgres://prod", "name": "orders" },
        "alert": alert,
        "severity": "ticket",
        "to": "firing",
        "at": at.to_string(),
        "summary": "for the test",
    }))
    .unwrap()
}

#[test]
fn a_holder_cuts_a_notification_at_the_end_of_its_lease_and_sends_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let scheduler = crate::support::scheduler_for(crate::alerts::SLO, dir.path());
    let ledger = scheduler.ledger();
    let hold = Arc::new(TickHold::not_held());
    let started = Instant::now();
    hold.held(started, started + Duration::from_secs(3), None);
    // The first notification is answered only well after the hold ended.
    let lapsing = hold.clone();
    let (url, bodies) = receiver(move |n| {
        while n == 0 && lapsing.holds() {
            std::thread::sleep(Duration::from_millis(20));
        }
        if n == 0 {
            std::thread::sleep(Duration::from_secs(3));
        }
    });
    let now = jiff::Timestamp::now();
    for alert in ["no-data", "errors", "page:1h/15m"] {
        let t = transition(alert, now);
        let state = dataslo::ledger::AlertState {
            phase: dataslo::ledger::AlertPhase::Firing,
            since: now,
        };
        ledger
            .set_alert_state(
                "fresh",
                &t.alert,
                state,
                Some(&t),
                &[Notifier::Webhook(url.clone())],
            )
            .unwrap();
    }
    let sent =
        dataslo::alert::deliver_outbox_while(ledger, now, Duration::from_secs(30), || hold.left())
            .unwrap();
    // Cut at the hold's end, not at its 30 s timeout: unanswered, so kept.
    assert_eq!((sent.delivered, sent.failed), (0, 1));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "outlasted the hold"
    );
    let outbox = ledger.outbox().unwrap();
    assert_eq!(outbox.len(), 3, "left to the next holder");
    assert_eq!(
        outbox.iter().map(|(_, e)| e.attempts).collect::<Vec<_>>(),
        [1, 0, 0],
        "nothing tried once the hold was gone"
    );
    assert!(bodies.lock().unwrap().len() <= 1);
}

/// Waits (at most `limit`, to catch a hang) until `done`.
fn await_that(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The revision of tenant `acme`'s tick lease.
fn lease_revision(nats: &str) -> u64 {
    runtime().block_on(async {
        let client = async_nats::connect(nats).await.unwrap();
        let store = bucket(&async_nats::jetstream::new(client)).await.unwrap();
        store
            .entry(tick_key("acme"))
            .await
            .unwrap()
            .unwrap()
            .revision
    })
}

#[test]
fn a_transition_made_while_no_replica_held_the_lease_is_sent_once_by_the_next_holder() {
    let Some(nats) = NatsServer::start(
        "a_transition_made_while_no_replica_held_the_lease_is_sent_once_by_the_next_holder",
    ) else {
        return;
    };
    let (url, bodies) = receiver(|_| {});
    let central = format!("tick_lease = \"5s\"\n[notifiers]\nwebhooks = [\"{url}\"]\n");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let r1 = Replica::new(
        d1.path(),
        &nats.url(),
        SLO,
        &format!("replica = \"r1\"\n{central}"),
    );
    let r2 = Replica::new(
        d2.path(),
        &nats.url(),
        SLO,
        &format!("replica = \"r2\"\n{central}"),
    );
    let limit = Duration::from_secs(60);

    // No data yet: r1, the holder, sends the no-data alert; r2 records it.
    let mut p1 = r1.start();
    await_log(&r1.log, "holding the tick lease", limit);
    await_that("r1's no-data alert", limit, || {
        count(&bodies, "no-data", "firing") == 1
    });
    let p2 = r2.start();
    await_log(&r2.log, "not holding the tick lease", limit);
    await_log(&r2.log, "to=firing", limit);
    // r1 renews twice after that (r2 reads the lease in between), and dies:
    // what r2 recorded so far was r1's to send. (A transition r2 records
    // between its last read and r1's last renewal is sent by both: at least
    // once.)
    for _ in 0..2 {
        let seen = lease_revision(&nats.url());
        await_that("r1's renewal", limit, || lease_revision(&nats.url()) > seen);
    }
    p1.kill().unwrap();
    p1.wait().unwrap();

    // Data comes back while nobody holds the lease: r2 resolves the alert
    // without notifying, and sends it once it has taken the lease over.
    let answer = crate::server::agent()
        .post(&format!(
            "http://127.0.0.1:{}/v1/observations?wait=evaluated",
            r2.port
        ))
        .header("Authorization", "Bearer acme-secret")
        .header("Content-Type", "application/x-ndjson")
        .send(observations(1, jiff::Timestamp::now()).as_bytes());
    assert!(answer.is_ok(), "{answer:?}");
    await_log(&r2.log, "to=resolved", limit);
    let deadline = Instant::now() + limit;
    while count(&bodies, "no-data", "resolved") != 1 {
        assert!(
            Instant::now() < deadline,
            "r2 never sent the resolution: {bodies:?}\n{}",
            r2.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        r2.log_text()
            .contains("queued the transitions recorded while another replica held"),
        "{}",
        r2.log_text()
    );
    // A few more passes send nothing twice.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(terminate(p2), Some(0));
    assert_eq!(count(&bodies, "no-data", "firing"), 1, "{bodies:?}");
    assert_eq!(count(&bodies, "no-data", "resolved"), 1, "{bodies:?}");
}

#[test]
fn a_replica_that_finds_the_lease_free_ticks_at_its_first_pass() {
    let Some(nats) =
        NatsServer::start("a_replica_that_finds_the_lease_free_ticks_at_its_first_pass")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let replica = Replica::new(dir.path(), &nats.url(), &fresh("orders-fresh", ""), "");
    // One clock pass an hour: a pass that missed the lease would tick an hour later.
    let text = std::fs::read_to_string(&replica.config).unwrap();
    std::fs::write(
        &replica.config,
        text.replace("poll_interval = \"50ms\"", "poll_interval = \"1h\""),
    )
    .unwrap();
    let serve = replica.start();
    replica.await_records("orders-fresh", 1, Duration::from_secs(60));
    assert_eq!(terminate(serve), Some(0));
}
