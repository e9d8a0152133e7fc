//! One tenant: its token hashes, its scheduler over its own ledger trees,
//! its uploaded policies, its limits, and its clock.

use super::assemble::{SchedulerSettings, assemble};
use super::clock::{ClockPass, ClockReport, ClockSettings};
use super::error::ServiceError;
use crate::config::TenantConfig;
use crate::executor::Executor;
use crate::jetstream::tick_hold::TickHold;
use crate::ledger::{Ledger, LedgerError};
use crate::model::Observation;
use crate::oci::Oci;
use crate::registry::Registry;
use crate::runtime::{Known, Runtime};
use crate::scheduler::{Appended, Armed, Scheduler, TrustCheck};
use crate::slo::{Slo, load_files, parse_text};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// One tenant of the service.
pub struct Tenant {
    /// Its name.
    pub name: String,
    token_hashes: Vec<String>,
    /// Its scheduler, over its own ledger trees.
    pub scheduler: Scheduler,
    /// Its largest request body, if smaller than the server's.
    pub max_body_bytes: Option<usize>,
    /// How far ahead of the receiver's clock an observation may be dated.
    pub max_future_skew: std::time::Duration,
    rate: Option<governor::DefaultDirectRateLimiter>,
    /// Its uploaded policies.
    pub registry: Registry,
    /// Where its `oci://` policies come from.
    pub(super) oci: Oci,
    pub(super) runtime: Arc<Runtime>,
    /// The SLOs of its config files; those sent to the API come on top.
    pub(super) config_slos: Vec<Slo>,
    pub(super) max_policies: Option<usize>,
    /// The keys its policies must be signed by; `None` loads any.
    pub(super) trust: Option<crate::trust::Trust>,
    /// One change of SLOs or policies at a time.
    pub(super) changes: Mutex<()>,
    clock: Mutex<ClockPass>,
    // Whether this process ticks and notifies for the tenant: a central
    // replica only while it holds the tick lease.
    hold: Arc<TickHold>,
    // The log's consumer behind the callers: one runs, one more is asked for.
    consuming: AtomicBool,
    log_grew: AtomicBool,
}

/// What an ingest did, as the caller hears it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ingested {
    /// Observations received.
    pub accepted: usize,
    /// Of those, the ones not stored before.
    pub new: usize,
    /// The evaluation records of the new ones, when the caller waited for
    /// their evaluation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluations: Option<usize>,
    /// OpenLineage datasets that became no observation (lineage only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<usize>,
}

impl Ingested {
    /// What an append of `accepted` observations did, before evaluation.
    fn appended(accepted: usize, appended: &Appended) -> Self {
        Ingested {
            accepted,
            new: appended.new_count(),
            evaluations: None,
            ignored: None,
        }
    }
}

/// What every tenant of a process shares.
pub struct Shared {
    /// The sandbox.
    pub runtime: Arc<Runtime>,
    /// The evaluation workers.
    pub executor: Option<Arc<Executor>>,
    /// Observations kept per dataset.
    pub history_depth: usize,
    /// Where uploaded policies live: `<policy_dir>/<tenant>/`.
    pub policy_dir: PathBuf,
    /// The clock pass.
    pub clock: ClockSettings,
    /// How far ahead of the clock an observation may be dated.
    pub max_future_skew: std::time::Duration,
    /// The agent's site whose scheduled SLOs the tenants tick; `None`: central's.
    pub site: Option<String>,
    /// Where `oci://` policies come from, cached under `<data_dir>/oci`.
    pub oci: Oci,
}

/// The sha256 of a token, in hex, as stored in the config.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The file name errors give for SLOs sent to `PUT /v1/slos`.
pub const UPLOADED_SLOS_FILE: &str = "PUT /v1/slos";

impl Tenant {
    /// Loads the tenant's uploaded policies and SLOs (its config files, then
    /// those sent to the API) and arms them over its own ledger trees.
    /// `config` must be one of a validated [`crate::config::Config`]'s.
    pub(crate) fn build(
        config: &TenantConfig,
        shared: &Shared,
        ledger: &Ledger,
    ) -> Result<Self, ServiceError> {
        let fail = |message: String| failure(config, message);
        let catalog = load_files(&config.slo_files);
        if let Some(e) = catalog.errors.first() {
            return Err(fail(e.to_string()));
        }
        let ledger = ledger
            .for_tenant(&config.name)
            .map_err(|e| fail(e.to_string()))?;
        let uploaded = ledger.uploaded_slos().map_err(|e| fail(e.to_string()))?;
        let mut slos = catalog.slos.clone();
        if let Some(text) = uploaded {
            let sent = parse_text(&text, UPLOADED_SLOS_FILE);
            if let Some(e) = sent.errors.first() {
                return Err(fail(e.to_string()));
            }
            slos.extend(sent.slos);
        }
        Self::with_slos(config, shared, ledger, catalog.slos, slos)
    }

    /// A tenant running `slos`, of which `config_slos` came from its files.
    pub(super) fn with_slos(
        config: &TenantConfig,
        shared: &Shared,
        ledger: Ledger,
        config_slos: Vec<Slo>,
        slos: Vec<Slo>,
    ) -> Result<Self, ServiceError> {
        let fail = |message: String| failure(config, message);
        let runtime = shared.runtime.clone();
        // Stored uploads are judged before they are loaded (loading calls into them).
        let trust = config.trust();
        let admit = |name: &str, sha256: &str, signed: &[crate::trust::Signature]| match &trust {
            Some(trust) if !crate::scheduler::builtin_digests().contains(sha256) => trust
                .check(&format!("uploaded:{name}"), sha256, signed)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            _ => Ok(()),
        };
        let registry = Registry::open(
            &runtime,
            ledger.clone(),
            shared.policy_dir.join(&config.name),
            Some(&admit),
        )
        .map_err(|e| fail(e.to_string()))?;
        let limits = &config.limits;
        let mut call_limits = runtime.limits().clone();
        if let Some(deadline) = limits.deadline {
            call_limits.deadline = deadline;
        }
        if let Some(mib) = limits.memory_mib {
            call_limits.memory_bytes = mib << 20;
        }
        let settings = SchedulerSettings {
            history_depth: shared.history_depth,
            limits: Some(call_limits),
            executor: shared.executor.clone(),
            durable: true,
            site: shared.site.clone(),
            oci: Some(shared.oci.clone()),
            trust: config.trust().map(|trust| TrustCheck {
                trust,
                known: registry.signatures(),
            }),
        };
        let known = registry.known();
        let scheduler = assemble(
            &runtime,
            ledger,
            slos,
            known,
            Some(Path::new(".")),
            settings,
        )
        .map_err(|errors| ServiceError::Arm {
            tenant: config.name.clone(),
            errors,
        })?;
        if let Some(max) = limits.max_policies {
            let used = distinct_policies(&scheduler.slos());
            if used > max {
                return Err(fail(format!(
                    "its SLOs use {used} policies, over its limit of {max}"
                )));
            }
        }
        // `Config::validate` refuses a rate of 0.
        let rate = limits
            .requests_per_second
            .and_then(std::num::NonZeroU32::new)
            .map(|rps| governor::RateLimiter::direct(governor::Quota::per_second(rps)));
        Ok(Tenant {
            name: config.name.clone(),
            token_hashes: config.token_sha256.clone(),
            scheduler,
            max_body_bytes: limits.max_body_bytes,
            max_future_skew: shared.max_future_skew,
            rate,
            registry,
            oci: shared.oci.clone(),
            runtime,
            config_slos,
            max_policies: limits.max_policies,
            trust: config.trust(),
            changes: Mutex::new(()),
            clock: Mutex::new(ClockPass::new(shared.clock.clone())),
            hold: Arc::new(TickHold::always()),
            consuming: AtomicBool::new(false),
            log_grew: AtomicBool::new(false),
        })
    }

    /// The time sanity rule for what reaches this tenant at `now`.
    pub fn time_sanity(&self, now: jiff::Timestamp) -> crate::model::TimeSanity {
        crate::model::TimeSanity::new(now, self.max_future_skew)
    }

    /// Whether a request may go ahead now under the tenant's rate.
    pub fn admit(&self) -> bool {
        self.rate.as_ref().is_none_or(|r| r.check().is_ok())
    }

    /// Whether `hash` (a token's sha256, hex) is one of the tenant's.
    pub(super) fn has_token_hash(&self, hash: &str) -> bool {
        self.token_hashes
            .iter()
            .any(|h| h.eq_ignore_ascii_case(hash))
    }

    /// Appends `observations` to the tenant's ingest log and, once that is
    /// flushed, evaluates them; the answer counts their records. Without
    /// waiting for evaluation, callers use [`Tenant::ingest_awaited`].
    pub fn ingest(self: &Arc<Self>, observations: &[Observation]) -> Result<Ingested, LedgerError> {
        let appended = self.scheduler.append(observations)?;
        self.scheduler.evaluate_log()?;
        let fresh: Vec<(&Observation, [u8; 32])> = observations
            .iter()
            .zip(&appended.receipts)
            .filter(|(_, r)| r.new)
            .map(|(o, r)| (o, r.digest))
            .collect();
        Ok(Ingested {
            evaluations: Some(self.scheduler.records_for(&fresh)?),
            ..Ingested::appended(observations.len(), &appended)
        })
    }

    /// Appends `observations` and answers once that is flushed, their
    /// evaluation running behind; for a task, whose append waits for its
    /// group without holding a thread. The append runs to its end even if
    /// the caller stops waiting (its client left), as a blocking call
    /// would: every chunk of the request is stored and evaluated, none only
    /// half.
    pub async fn ingest_awaited(
        self: &Arc<Self>,
        observations: Vec<Observation>,
    ) -> Result<Ingested, LedgerError> {
        let tenant = self.clone();
        let append = tokio::spawn(async move {
            let appended = tenant.scheduler.append_awaited(&observations).await?;
            tenant.evaluate_behind();
            Ok(Ingested::appended(observations.len(), &appended))
        });
        append
            .await
            .map_err(|e| LedgerError::Storage(format!("the append task failed: {e}")))?
    }

    /// Evaluates the log on a thread of its own. At most one runs; a call
    /// while it runs makes it go round once more.
    pub fn evaluate_behind(self: &Arc<Self>) {
        self.log_grew.store(true, Ordering::SeqCst);
        if self.consuming.swap(true, Ordering::SeqCst) {
            return;
        }
        let tenant = self.clone();
        let work = move || tenant.consume();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(work)),
            Err(_) => drop(std::thread::spawn(work)),
        }
    }

    fn consume(&self) {
        loop {
            self.log_grew.store(false, Ordering::SeqCst);
            if let Err(error) = self.scheduler.evaluate_log() {
                // The clock pass retries; nothing is lost, the log keeps it.
                tracing::error!(tenant = %self.name, %error, "evaluating the ingest log failed");
            }
            self.consuming.store(false, Ordering::SeqCst);
            if !self.log_grew.load(Ordering::SeqCst) || self.consuming.swap(true, Ordering::SeqCst)
            {
                return;
            }
        }
    }

    /// Its clock pass at `now` (see [`ClockPass::run`]), in a span naming it.
    pub fn clock_pass(&self, now: jiff::Timestamp) -> Result<ClockReport, LedgerError> {
        let _span = tracing::info_span!("tenant", tenant = %self.name).entered();
        let mut clock = self.clock.lock().unwrap_or_else(PoisonError::into_inner);
        clock.run(&self.scheduler, now, &self.hold)
    }

    /// Its hold on its ticks and notifications: for ever, unless a central
    /// replica leaves it to the tick lease ([`TickHold::leave_to_lease`]).
    pub fn tick_hold(&self) -> Arc<TickHold> {
        self.hold.clone()
    }
}

fn failure(config: &TenantConfig, message: String) -> ServiceError {
    ServiceError::Tenant {
        tenant: config.name.clone(),
        message,
    }
}

/// How many distinct policies `armed` use.
pub(super) fn distinct_policies(armed: &[Armed]) -> usize {
    armed
        .iter()
        .map(|a| &a.slo.policy.spec)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// The policies `armed` use, by reference, to arm SLOs again without loading them again.
pub(super) fn known_from(armed: &[Armed]) -> Known {
    armed
        .iter()
        .map(|a| (a.slo.policy.spec.clone(), a.policy.clone()))
        .collect()
}
