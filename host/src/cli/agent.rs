//! `dataslo agent --config F`: `run` at the edge, for the tenant of
//! `[agent]`, publishing every record to NATS JetStream; with `[agent]
//! token_sha256`, its HTTP endpoints too (`agent_http`); until SIGINT or
//! SIGTERM. It sends no notifications: central does, once.

use super::Failure;
use super::run::{pass_once, storage};
use super::setup::SetupArgs;
use crate::jetstream::{PublishSettings, connect, publish_feed};
use std::sync::Arc;
use std::time::Duration;

pub fn run(setup: &SetupArgs) -> Result<(), Failure> {
    let mut config = setup.config(&[])?;
    let Some(agent) = config.agent.clone() else {
        return Err(Failure::Input(
            "agent needs an [agent] section (site, tenant) and [nats] url in the config".into(),
        ));
    };
    if config.notifiers != Default::default() {
        tracing::warn!("an agent sends no notifications: central does; [notifiers] is ignored");
        config.notifiers = Default::default();
    }
    // The last synced SLO set, else the config's files, else none yet.
    let (service, synced) = crate::service::synced::agent_service(&config)?;
    let service = Arc::new(service);
    let Some(tenant) = service.tenants.first().cloned() else {
        return Err(crate::service::ServiceError::NoSlos.into());
    };
    let ledger = tenant.scheduler.ledger().clone();
    ledger.start_feed().map_err(storage)?;
    crate::service::announce_holder(&config.data_dir, "agent")?;
    // `status`, `observe` and `ledger …` ask through it while this process holds the ledger.
    let _control = crate::service::control::Control::start(&config.data_dir, service.clone())?;
    let spool = config.spool();
    std::fs::create_dir_all(&spool)
        .map_err(|e| Failure::Input(format!("cannot create {}: {e}", spool.display())))?;
    let pass = tenant.scheduler.evaluate_log().map_err(storage)?;
    if pass.recorded > 0 {
        tracing::info!(recorded = pass.recorded, "pending observations evaluated");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Input(format!("cannot start the agent: {e}")))?;
    rt.block_on(async {
        let client = connect(&config.nats, &format!("dataslo-agent-{}", agent.site))
            .await
            .map_err(|e| Failure::Input(e.to_string()))?;
        let settings = PublishSettings {
            tenant: agent.tenant.clone(),
            site: agent.site.clone(),
            idle: config.poll_interval.min(Duration::from_millis(200)),
            retry: Duration::from_secs(1),
        };
        let js = async_nats::jetstream::new(client);
        let publisher = tokio::spawn(publish_feed(ledger.clone(), js.clone(), settings));
        let follow = crate::service::synced::Follow::of(&config, &agent, synced);
        let follower = tokio::spawn(crate::service::synced::follow_sets(
            tenant.clone(),
            js,
            follow,
        ));
        let http = super::agent_http::start(&config, &service).await?;
        tracing::info!(
            site = %agent.site,
            tenant = %agent.tenant,
            slos = tenant.scheduler.slos().len(),
            ledger = %config.data_dir.display(),
            spool = %spool.display(),
            "dataslo agent started"
        );
        let mut buffer = Buffer::new(agent.max_unpublished);
        let mut interval = tokio::time::interval(config.poll_interval);
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| Failure::Input(format!("cannot watch SIGTERM: {e}")))?;
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    if buffer.has_room(&ledger)? {
                        pass_once(&tenant, &spool)?;
                    } else {
                        // The spool keeps what comes; the clock goes on.
                        tenant.clock_pass(jiff::Timestamp::now()).map_err(storage)?;
                    }
                }
                _ = tokio::signal::ctrl_c() => break,
                _ = terminate.recv() => break,
            }
        }
        // What is not acknowledged yet is published at the next start.
        publisher.abort();
        follower.abort();
        if let Some(http) = http {
            http.stop().await;
        }
        service.flush().map_err(storage)?;
        tracing::info!("dataslo agent stopped cleanly");
        Ok(())
    })
}

/// The bound on unpublished records, and when it last said how full it is.
struct Buffer {
    max: u64,
    said: Option<std::time::Instant>,
}

impl Buffer {
    fn new(max: u64) -> Self {
        Buffer { max, said: None }
    }

    /// Whether the spool may be read now; warns (every 10 s at most) from
    /// 80 % full.
    fn has_room(&mut self, ledger: &crate::ledger::Ledger) -> Result<bool, Failure> {
        let behind = ledger.publish_backlog().map_err(storage)?;
        let room = behind < self.max;
        if behind.saturating_mul(5) >= self.max.saturating_mul(4)
            && self
                .said
                .is_none_or(|at| at.elapsed() > Duration::from_secs(10))
        {
            let max = self.max;
            if room {
                tracing::warn!(
                    behind,
                    max,
                    "the agent's buffer of unpublished records is nearly full"
                );
            } else {
                tracing::warn!(
                    behind,
                    max,
                    "the agent's buffer is full: observations wait in the spool until records are published"
                );
            }
            self.said = Some(std::time::Instant::now());
        }
        Ok(room)
    }
}
