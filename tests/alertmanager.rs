//! Alerts reach a real Prometheus Alertmanager (Debian's
//! `prometheus-alertmanager`): a burning SLO's firing transition shows as an
//! active alert with dataslo's labels and annotations, a refresh keeps it
//! active, its resolve takes it out, and Alertmanager forwards both to its
//! own webhook receiver. Skipped, saying why, when the binary is absent.
//!
//! Alertmanager drops alerts that ended long ago, so the SLO's virtual time
//! runs over the four hours before the real now.

use crate::alerts::{SLO, observe};
use crate::support::{LATENESS, scheduler_for};

use dataslo::alert::alertmanager::refresh;
use dataslo::alert::deliver_outbox;
use dataslo::model::Notifier;
use dataslo::scheduler::Scheduler;
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long Alertmanager gets to start or to forward a notification.
const PATIENCE: Duration = Duration::from_secs(60);

/// The installed binary: Debian names it `prometheus-alertmanager`.
fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["prometheus-alertmanager", "alertmanager"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A running Alertmanager, killed on drop.
struct Alertmanager {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts `binary` with one route to a webhook receiver at `receiver`,
    /// notifying at once and on every change; waits until it is ready.
    fn start(binary: &Path, receiver: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "route:\n  receiver: test\n  group_by: ['...']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
                 receivers:\n  - name: test\n    webhook_configs:\n      - url: {receiver}\n        send_resolved: true\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let ready = format!("{}/-/ready", am.url);
        wait_for("Alertmanager to be ready", || {
            if let Ok(Some(status)) = am.child.try_wait() {
                panic!("alertmanager exited with {status}:\n{}", am.log());
            }
            ureq::get(&ready).call().is_ok()
        });
        am
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    /// `GET /api/v2/alerts`: the alerts it holds as active, silenced or inhibited.
    fn alerts(&self) -> Vec<Value> {
        let body = ureq::get(&format!("{}/api/v2/alerts", self.url))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&body).unwrap()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `done` until it holds; panics after [`PATIENCE`].
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Ticks and evaluates alerts every 5 minutes over `from..=to` minutes after
/// `base`; returns the transitions as (time, alert, to).
fn advance(
    s: &Scheduler,
    base: jiff::Timestamp,
    from: i64,
    to: i64,
    targets: &[Notifier],
) -> Vec<(jiff::Timestamp, String, String)> {
    let mut seen = Vec::new();
    for m in (from..=to).step_by(5) {
        let at = base + jiff::SignedDuration::from_mins(m);
        s.tick(at, 1000).unwrap();
        for t in s.evaluate_alerts(at, targets, LATENESS).unwrap() {
            seen.push((at, t.alert.to_string(), t.to.to_string()));
        }
    }
    seen
}

fn ts(v: &Value) -> jiff::Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

/// The notifications Alertmanager forwarded with `status` for the SLO `fresh`.
fn forwarded(bodies: &Mutex<Vec<Value>>, status: &str) -> Vec<Value> {
    let bodies = bodies.lock().unwrap();
    bodies
        .iter()
        .flat_map(|b| b["alerts"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["status"] == status && a["labels"]["slo"] == "fresh")
        .collect()
}

#[test]
fn a_burning_slo_fires_stays_active_and_resolves_in_a_real_alertmanager() {
    let Some(binary) = binary() else {
        eprintln!(
            "skipped: no prometheus-alertmanager or alertmanager on PATH (apt-get install prometheus-alertmanager)"
        );
        return;
    };
    let (receiver_url, bodies) = crate::support::webhook::receiver(|_| {});
    let am = Alertmanager::start(&binary, &receiver_url);
    let targets = [Notifier::Alertmanager(am.url.clone())];

    let dir = tempfile::tempdir().unwrap();
    let s = scheduler_for(SLO, dir.path());
    let now = jiff::Timestamp::now();
    let base = jiff::Timestamp::from_second(now.as_second() / 300 * 300 - 4 * 3600).unwrap();
    let minute = |m: i64| base + jiff::SignedDuration::from_mins(m);

    // Fresh until +1h, stale after: the page rule fires.
    observe(&s, &minute(0).to_string());
    let seen = advance(&s, base, 0, 150, &targets);
    let (fired_at, _, _) = seen
        .iter()
        .find(|(_, a, to)| a == "page:1h/15m" && to == "firing")
        .unwrap_or_else(|| panic!("the page rule never fired: {seen:?}"))
        .clone();
    let sent = deliver_outbox(s.ledger(), jiff::Timestamp::now(), Duration::from_secs(5)).unwrap();
    assert_eq!((sent.delivered, sent.failed), (1, 0), "{}", am.log());

    let alerts = am.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    assert_eq!(alert["status"]["state"], "active");
    assert_eq!(
        alert["labels"],
        serde_json::json!({
            "alertname": "DataSLOBurnRate",
            "alert": "page:1h/15m",
            "severity": "page",
            "tenant": "default",
            "slo": "fresh",
            "dataset": "orders",
            "namespace": "postgres://prod",
        })
    );
    assert_eq!(
        alert["annotations"]["summary"],
        "fresh on postgres://prod/orders burns its error budget (page:1h/15m)"
    );
    let description = alert["annotations"]["description"].as_str().unwrap();
    assert!(
        description.starts_with("burn ") && description.contains("over 1h"),
        "{description}"
    );
    assert_eq!(ts(&alert["startsAt"]), fired_at);
    assert!(ts(&alert["endsAt"]) > jiff::Timestamp::now(), "{alert}");
    wait_for("the firing notification", || {
        !forwarded(&bodies, "firing").is_empty()
    });

    // A refresh re-sends it, from when it began firing.
    let slos = s.slos();
    let refreshed = refresh(
        s.ledger(),
        slos.iter().map(|a| &a.slo),
        &targets,
        jiff::Timestamp::now(),
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!((refreshed.firing, refreshed.sent), (1, 1), "{refreshed:?}");
    let alerts = am.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0]["status"]["state"], "active");
    assert_eq!(ts(&alerts[0]["startsAt"]), fired_at);

    // The data recovers (fresh for the hour up to the real now); the resolve
    // ends the alert at its own time.
    observe(&s, &minute(155).to_string());
    let later = advance(&s, base, 155, 240, &targets);
    let (resolved_at, _, _) = later
        .iter()
        .find(|(_, a, to)| a == "page:1h/15m" && to == "resolved")
        .unwrap_or_else(|| panic!("the page rule never resolved: {later:?}"))
        .clone();
    let sent = deliver_outbox(s.ledger(), jiff::Timestamp::now(), Duration::from_secs(5)).unwrap();
    assert_eq!((sent.delivered, sent.failed), (1, 0), "{later:?}");
    assert!(s.ledger().outbox().unwrap().is_empty());
    // Alertmanager lists only alerts that have not ended.
    let alerts = am.alerts();
    assert!(alerts.is_empty(), "{alerts:#?}");
    wait_for("the resolved notification", || {
        !forwarded(&bodies, "resolved").is_empty()
    });
    let resolved = &forwarded(&bodies, "resolved")[0];
    assert_eq!(resolved["labels"]["alertname"], "DataSLOBurnRate");
    assert_eq!(ts(&resolved["startsAt"]), fired_at);
    assert_eq!(ts(&resolved["endsAt"]), resolved_at);
}
