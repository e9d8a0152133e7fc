//! An agent follows its tenant's SLO set from central (see
//! `jetstream::sets`): each new set is fetched, checked, armed whole and only
//! then swapped in; a set that fails leaves the old one running, and the
//! error goes back to central in the agent's heartbeat.
//!
//! The synced set is durable: its text in the ledger, its policies'
//! bytes in `<data_dir>/policies/synced/<sha256>.wasm`, so a restarted agent
//! runs it again, offline too, rather than its own `slo_files`.

use super::error::ServiceError;
use super::tenant::Tenant;
use super::tenants::Service;
use crate::config::Config;
use crate::jetstream::JetStreamError;
use crate::jetstream::agents::{open_agents_bucket, put_heartbeat};
use crate::jetstream::sets::{
    Policies, SetError, SetWatch, SloSet, check_policy, fetch_policy, open_policies_store,
    open_sets_bucket,
};
use crate::ledger::{AgentReport, LedgerError};
use crate::model::PolicyRef;
use crate::runtime::Known;
use crate::scheduler::{Armed, Gate, TrustCheck};
use crate::slo::parse_text;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

/// A set that cannot run here.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Unreadable, or a policy's bytes are not the ones named.
    #[error(transparent)]
    Set(#[from] SetError),
    /// Another tenant's set.
    #[error("the SLO set is tenant {found}'s, not {expected}'s")]
    OtherTenant {
        /// The agent's tenant.
        expected: String,
        /// The set's.
        found: String,
    },
    /// A document or an SLO cannot be armed; every problem listed.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    /// A policy cannot be loaded here.
    #[error("policy {reference}: {error}")]
    Policy {
        /// As the set names it.
        reference: String,
        /// Why.
        error: String,
    },
    /// A policy file of the synced set could not be written or read.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Where an agent keeps the policies of its synced set.
pub fn synced_policy_dir(config: &Config) -> PathBuf {
    config.data_dir.join("policies").join("synced")
}

/// An agent's one tenant: the SLO set it last synced, if any (and it still
/// arms), else its config's `slo_files`, else none until its first sync.
/// Also returns the version of the synced set it runs.
pub fn agent_service(config: &Config) -> Result<(Service, Option<String>), ServiceError> {
    let service = Service::single_with(config, true)?;
    let Some(tenant) = service.tenants.first() else {
        return Err(ServiceError::NoSlos);
    };
    let version = match tenant.resume_synced(&synced_policy_dir(config)) {
        Ok(version) => version,
        Err(error) => {
            tracing::error!(%error, "the last synced SLO set cannot run again; the config's slo_files run until the next sync");
            None
        }
    };
    Ok((service, version))
}

impl Tenant {
    /// Arms every SLO of `set` with its policies (`bytes` by sha256), all or
    /// nothing; stores the set durably (its policies in `dir`), then swaps
    /// it in. Returns how many SLOs it runs.
    pub fn apply_set(
        &self,
        set: &SloSet,
        bytes: &BTreeMap<String, Vec<u8>>,
        dir: &Path,
    ) -> Result<usize, SyncError> {
        let _one = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut slos = Vec::new();
        let mut problems = Vec::new();
        for document in &set.documents {
            let catalog = parse_text(&document.text, &document.source);
            problems.extend(catalog.errors.iter().map(ToString::to_string));
            slos.extend(catalog.slos);
        }
        if !problems.is_empty() {
            return Err(SyncError::Invalid(problems));
        }
        // Every policy is judged, with the signatures central holds of each,
        // before its bytes are compiled: loading calls into it.
        let check = self.trust.clone().map(|trust| {
            let mut known: BTreeMap<String, Vec<_>> = BTreeMap::new();
            for p in &set.policies {
                known
                    .entry(p.sha256.clone())
                    .or_default()
                    .extend(p.signatures.iter().cloned());
            }
            TrustCheck { trust, known }
        });
        // No file of this machine is read: the set brings every policy.
        let gate = check.as_ref().map(|check| Gate::new(check, None, None));
        let mut known = Known::new();
        for policy in &set.policies {
            let failed = |error: String| SyncError::Policy {
                reference: policy.reference.clone(),
                error,
            };
            let reference: PolicyRef = policy
                .reference
                .parse()
                .map_err(|e: crate::model::PolicyRefError| failed(e.to_string()))?;
            let Some(bytes) = bytes.get(&policy.sha256) else {
                return Err(failed(format!("no bytes of sha256 {}", policy.sha256)));
            };
            check_policy(policy, bytes)?;
            if let Some(gate) = &gate {
                gate.admit(&reference, &policy.sha256, None)
                    .map_err(failed)?;
            }
            let loaded = self
                .runtime
                .load(&policy.reference, bytes)
                .map_err(|e| failed(e.to_string()))?;
            known.insert(reference, Arc::new(loaded));
        }
        let (armed, errors) = Armed::with_known(&self.runtime, slos, None, known, gate.as_ref());
        if !errors.is_empty() {
            return Err(SyncError::Invalid(
                errors.iter().map(ToString::to_string).collect(),
            ));
        }
        for policy in &set.policies {
            if let Some(bytes) = bytes.get(&policy.sha256) {
                keep_policy(&dir.join(format!("{}.wasm", policy.sha256)), bytes)?;
            }
        }
        let ledger = self.scheduler.ledger();
        ledger.save_synced_set(&String::from_utf8_lossy(&set.encode()))?;
        ledger.flush()?;
        let count = armed.len();
        self.scheduler.replace_slos(armed)?;
        Ok(count)
    }

    /// Runs the set this tenant last synced again, its policies from `dir`;
    /// its version, or `None` when it never synced one.
    pub fn resume_synced(&self, dir: &Path) -> Result<Option<String>, SyncError> {
        let Some(text) = self.scheduler.ledger().synced_set()? else {
            return Ok(None);
        };
        let set = SloSet::decode(text.as_bytes())?;
        let bytes = local_policies(&set, dir);
        self.apply_set(&set, &bytes, dir)?;
        Ok(Some(set.version))
    }
}

/// The policies of `set` already in `dir` with the right bytes.
fn local_policies(set: &SloSet, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    set.policies
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(dir.join(format!("{}.wasm", p.sha256))).ok()?;
            check_policy(p, &bytes).ok()?;
            Some((p.sha256.clone(), bytes))
        })
        .collect()
}

/// Writes `bytes` to `path` (aside, synced, renamed) unless it is there:
/// named by their sha256, the same name always holds the same bytes.
fn keep_policy(path: &Path, bytes: &[u8]) -> Result<(), SyncError> {
    if path.exists() {
        return Ok(());
    }
    let io = |error| SyncError::Io {
        path: path.display().to_string(),
        error,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = path.with_extension("wasm.partial");
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Who an agent is on the bus, and how often it says so.
pub struct Follow {
    /// Its tenant on the bus (`[agent] tenant`).
    pub tenant: String,
    /// Its site.
    pub site: String,
    /// Where the policies of its synced set live.
    pub policy_dir: PathBuf,
    /// How often it writes its heartbeat (and on every change).
    pub heartbeat: Duration,
    /// The version of the set it runs at the start.
    pub version: Option<String>,
}

impl Follow {
    /// The agent of `config`'s `[agent]`, heartbeating every 2 s.
    pub fn of(
        config: &Config,
        agent: &crate::config::AgentConfig,
        version: Option<String>,
    ) -> Self {
        Follow {
            tenant: agent.tenant.clone(),
            site: agent.site.clone(),
            policy_dir: synced_policy_dir(config),
            heartbeat: Duration::from_secs(2),
            version,
        }
    }
}

/// What the heartbeat says of the set.
struct Synced {
    version: Option<String>,
    last_error: Option<String>,
}

/// Follows the tenant's set and writes heartbeats, until aborted; a lost
/// connection or watch is started again after a second. The agent only
/// opens its tenant's buckets (its NATS user may not make streams): while
/// central has not made them, it waits and asks again.
pub async fn follow_sets(tenant: Arc<Tenant>, js: async_nats::jetstream::Context, follow: Follow) {
    let mut synced = Synced {
        version: follow.version.clone(),
        last_error: None,
    };
    // A server that keeps refusing (no permission on the buckets) is asked
    // again less and less often, up to every 10 s, rather than logged each second.
    let mut delay = Duration::from_secs(1);
    loop {
        let started = std::time::Instant::now();
        match follow_once(&tenant, &js, &follow, &mut synced).await {
            Ok(()) => {}
            Err(error @ JetStreamError::Absent { .. }) => {
                tracing::info!(tenant = %follow.tenant, %error, retry_in = ?delay, "waiting for central to create the tenant's buckets");
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?delay, "following the SLO set from central");
            }
        }
        delay = match started.elapsed() > Duration::from_secs(30) {
            true => Duration::from_secs(1),
            false => (delay * 2).min(Duration::from_secs(10)),
        };
        tokio::time::sleep(delay).await;
    }
}

async fn follow_once(
    tenant: &Arc<Tenant>,
    js: &async_nats::jetstream::Context,
    follow: &Follow,
    synced: &mut Synced,
) -> Result<(), JetStreamError> {
    let sets = open_sets_bucket(js, &follow.tenant).await?;
    let store = open_policies_store(js, &follow.tenant).await?;
    let agents = open_agents_bucket(js, &follow.tenant).await?;
    let mut watch = SetWatch::start(&sets).await?;
    let mut beat = tokio::time::interval(follow.heartbeat);
    loop {
        tokio::select! {
            next = watch.next() => match next {
                None => return Ok(()),
                Some(Err(e)) => return Err(e),
                Some(Ok((revision, bytes))) => {
                    take(tenant, &store, follow, synced, revision, &bytes).await;
                    heartbeat(&agents, tenant, follow, synced).await;
                }
            },
            _ = beat.tick() => heartbeat(&agents, tenant, follow, synced).await,
        }
    }
}

/// Applies the set published at `revision`, or records why not.
async fn take(
    tenant: &Arc<Tenant>,
    store: &Policies,
    follow: &Follow,
    synced: &mut Synced,
    revision: u64,
    bytes: &[u8],
) {
    let outcome = fetch_and_apply(tenant, store, follow, synced, bytes).await;
    match outcome {
        Ok((version, Some(slos))) => {
            tracing::info!(%version, revision, slos, "SLO set applied");
            synced.version = Some(version);
            synced.last_error = None;
        }
        Ok((_, None)) => synced.last_error = None,
        Err(error) => {
            tracing::error!(revision, %error, "SLO set refused; the one before keeps running");
            synced.last_error = Some(error.to_string());
        }
    }
}

/// The set's version, and how many SLOs now run (`None`: it runs already).
async fn fetch_and_apply(
    tenant: &Arc<Tenant>,
    store: &Policies,
    follow: &Follow,
    synced: &Synced,
    bytes: &[u8],
) -> Result<(String, Option<usize>), SyncError> {
    let set = SloSet::decode(bytes)?;
    if set.tenant != follow.tenant {
        return Err(SyncError::OtherTenant {
            expected: follow.tenant.clone(),
            found: set.tenant,
        });
    }
    if synced.version.as_ref() == Some(&set.version) {
        return Ok((set.version, None));
    }
    let (reading, dir) = (set.clone(), follow.policy_dir.clone());
    let mut policies = tokio::task::spawn_blocking(move || local_policies(&reading, &dir))
        .await
        .unwrap_or_default();
    for policy in &set.policies {
        if !policies.contains_key(&policy.sha256) {
            let bytes = fetch_policy(store, policy).await?;
            policies.insert(policy.sha256.clone(), bytes);
        }
    }
    let applying = tenant.clone();
    let dir = follow.policy_dir.clone();
    let version = set.version.clone();
    let count = tokio::task::spawn_blocking(move || applying.apply_set(&set, &policies, &dir))
        .await
        .map_err(|e| SyncError::Invalid(vec![format!("applying the set panicked: {e}")]))??;
    Ok((version, Some(count)))
}

/// Writes the agent's heartbeat; a failure is only logged (the next one
/// comes in a few seconds).
async fn heartbeat(
    agents: &async_nats::jetstream::kv::Store,
    tenant: &Arc<Tenant>,
    follow: &Follow,
    synced: &Synced,
) {
    let ledger = tenant.scheduler.ledger().clone();
    let backlog = tokio::task::spawn_blocking(move || ledger.publish_backlog())
        .await
        .unwrap_or_else(|e| Err(LedgerError::Storage(e.to_string())));
    let records_behind = match backlog {
        Ok(n) => n,
        Err(error) => {
            tracing::warn!(%error, "the heartbeat cannot read the publish backlog");
            0
        }
    };
    let report = AgentReport {
        site: follow.site.clone(),
        last_seen: jiff::Timestamp::now(),
        records_behind,
        slo_set_version: synced.version.clone(),
        last_error: synced.last_error.clone(),
    };
    if let Err(error) = put_heartbeat(agents, &follow.tenant, &report).await {
        tracing::debug!(%error, "heartbeat not written");
    }
}
