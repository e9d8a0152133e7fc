//! An agent: `run` at the edge for the tenant of `[agent]`, publishing every
//! record to NATS JetStream and following its tenant's SLO set from central.
//! It sends no notifications: central does, once.
//!
//! Unpublished records are bounded by `[agent] max_unpublished`: at the
//! bound the spool is left unread (nothing is dropped) and the clock goes
//! on; a warning comes from 80 % of it. The HTTP endpoints, which the caller
//! starts beside it, refuse ingest at the same bound.

use super::control::Control;
use super::error::ServiceError;
use super::spool::ingest_spool;
use super::synced::{Follow, agent_service, follow_sets};
use super::tenant::Tenant;
use super::tenants::Service;
use crate::config::{AgentConfig, Config};
use crate::jetstream::{PublishSettings, connect, publish_feed};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// An agent's tenant, ledger and tasks.
pub struct Agent {
    config: Config,
    agent: AgentConfig,
    service: Arc<Service>,
    tenant: Arc<Tenant>,
    // The version of the synced set it runs at the start.
    synced: Option<String>,
    spool: PathBuf,
    tasks: Vec<JoinHandle<()>>,
    // `status`, `observe` and `ledger …` ask through it while this process
    // holds the ledger.
    _control: Control,
}

/// The agent's runtime: two workers beside the loop.
pub fn agent_runtime() -> Result<tokio::runtime::Runtime, ServiceError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| ServiceError::Io {
            what: "cannot start the agent".into(),
            error,
        })
}

impl Agent {
    /// Opens the agent of `config`: its ledger with the last synced SLO set
    /// (else the config's files, else none yet), its feed, its spool, and
    /// the observations its ingest log still holds, evaluated.
    pub fn open(mut config: Config) -> Result<Agent, ServiceError> {
        let Some(agent) = config.agent.clone() else {
            return Err(ServiceError::NotAnAgent);
        };
        if config.notifiers != Default::default() {
            tracing::warn!("an agent sends no notifications: central does; [notifiers] is ignored");
            config.notifiers = Default::default();
        }
        let (service, synced) = agent_service(&config)?;
        let service = Arc::new(service);
        let Some(tenant) = service.tenants.first().cloned() else {
            return Err(ServiceError::NoSlos);
        };
        tenant.scheduler.ledger().start_feed()?;
        super::announce_holder(&config.data_dir, "agent")?;
        let control = Control::start(&config.data_dir, service.clone())?;
        let spool = config.spool();
        std::fs::create_dir_all(&spool).map_err(|error| ServiceError::Io {
            what: format!("cannot create {}", spool.display()),
            error,
        })?;
        let pass = tenant.scheduler.evaluate_log()?;
        if pass.recorded > 0 {
            tracing::info!(recorded = pass.recorded, "pending observations evaluated");
        }
        Ok(Agent {
            config,
            agent,
            service,
            tenant,
            synced,
            spool,
            tasks: Vec::new(),
            _control: control,
        })
    }

    /// The config it runs with (`[notifiers]` emptied).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Its one tenant, for the HTTP endpoints.
    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    /// Connects to NATS and starts the publisher of the feed and the
    /// follower of the tenant's SLO set. Within the runtime.
    pub async fn start(&mut self) -> Result<(), ServiceError> {
        let client = connect(
            &self.config.nats,
            &format!("dataslo-agent-{}", self.agent.site),
        )
        .await
        .map_err(ServiceError::JetStream)?;
        let settings = PublishSettings {
            tenant: self.agent.tenant.clone(),
            site: self.agent.site.clone(),
            idle: self.config.poll_interval.min(Duration::from_millis(200)),
            retry: Duration::from_secs(1),
        };
        let js = async_nats::jetstream::new(client);
        let ledger = self.tenant.scheduler.ledger().clone();
        self.tasks
            .push(tokio::spawn(publish_feed(ledger, js.clone(), settings)));
        let follow = Follow::of(&self.config, &self.agent, self.synced.clone());
        self.tasks
            .push(tokio::spawn(follow_sets(self.tenant.clone(), js, follow)));
        Ok(())
    }

    /// Every `poll_interval`, the spool (while the buffer has room) and the
    /// clock, until `stop` completes; a pass in progress ends first.
    pub async fn run(&self, stop: impl Future<Output = ()>) -> Result<(), ServiceError> {
        tracing::info!(
            site = %self.agent.site,
            tenant = %self.agent.tenant,
            slos = self.tenant.scheduler.slos().len(),
            ledger = %self.config.data_dir.display(),
            spool = %self.spool.display(),
            "dataslo agent started"
        );
        let mut buffer = Buffer::new(self.agent.max_unpublished);
        let mut interval = tokio::time::interval(self.config.poll_interval);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = interval.tick() => self.pass(&mut buffer).await?,
                _ = &mut stop => return Ok(()),
            }
        }
    }

    /// One pass, on the blocking pool: the spool, if the buffer has room,
    /// then the clock.
    async fn pass(&self, buffer: &mut Buffer) -> Result<(), ServiceError> {
        let ledger = self.tenant.scheduler.ledger().clone();
        let behind = blocking(move || Ok(ledger.publish_backlog()?)).await?;
        let room = buffer.has_room(behind);
        let tenant = self.tenant.clone();
        let spool = self.spool.clone();
        blocking(move || {
            let now = jiff::Timestamp::now();
            if room {
                ingest_spool(&tenant, &spool, &tenant.time_sanity(now))?;
            }
            // At the bound, the spool keeps what comes; the clock goes on.
            tenant.clock_pass(now)?;
            Ok(())
        })
        .await
    }

    /// Stops publishing and following (what is not acknowledged yet is
    /// published at the next start) and flushes.
    pub async fn stop(self) -> Result<(), ServiceError> {
        for task in &self.tasks {
            task.abort();
        }
        let service = self.service.clone();
        blocking(move || Ok(service.flush()?)).await
    }
}

/// `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ServiceError::Io {
            what: "an agent's pass".into(),
            error: std::io::Error::other(e.to_string()),
        })?
}

/// The bound on unpublished records, and when it last said how full it is.
struct Buffer {
    max: u64,
    said: Option<Instant>,
}

impl Buffer {
    fn new(max: u64) -> Self {
        Buffer { max, said: None }
    }

    /// Whether the spool may be read with `behind` records unpublished;
    /// warns (every 10 s at most) from 80 % full.
    fn has_room(&mut self, behind: u64) -> bool {
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
                    "the agent's buffer is full: observations wait in the spool, and HTTP ingest \
                     is refused, until records are published"
                );
            }
            self.said = Some(Instant::now());
        }
        room
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_has_room_below_its_bound_only() {
        let mut buffer = Buffer::new(20);
        assert!(buffer.has_room(0));
        assert!(buffer.has_room(19));
        assert!(!buffer.has_room(20));
        assert!(!buffer.has_room(21));
    }
}
