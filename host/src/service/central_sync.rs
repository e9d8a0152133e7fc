//! Central's side of the edge: it publishes each tenant's SLO set (see
//! `jetstream::sets`) whenever it changes, and files its agents'
//! heartbeats into the tenant's ledger, where `GET /v1/agents`, `status`
//! and the dashboard read them without NATS.
//!
//! A set is what central runs for the tenant: the text of its config files
//! and of `PUT /v1/slos`, and every policy its armed SLOs use other than
//! `builtin:` ones (each agent has those), by sha256. A policy given as a
//! file path on central is shipped too: its bytes, read again, must have the
//! sha256 of the policy central armed, or the set is not published (logged).
//! A poll of each tenant's set version once a second finds changes, so that
//! no change path needs to know about the bus.

use super::tenant::{Tenant, UPLOADED_SLOS_FILE};
use super::tenants::Service;
use crate::config::{Config, TenantConfig};
use crate::jetstream::JetStreamError;
use crate::jetstream::agents::{HeartbeatWatch, create_agents_bucket};
use crate::jetstream::sets::{
    Policies, SetDocument, SetPolicy, SloSet, check_policy, create_policies_store,
    create_sets_bucket, publish_set, published_version,
};
use crate::model::PolicyRef;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A tenant's config files as read at start, or why one could not be.
type Files = Result<Vec<SetDocument>, String>;

/// How often each tenant's set is compared with the one published.
const POLL: Duration = Duration::from_secs(1);

/// With `[nats] url`: one task publishing every tenant's set, and one per
/// tenant filing its agents' heartbeats. Abort them to stop.
pub async fn sync_with_agents(
    config: &Config,
    service: &Arc<Service>,
) -> Result<Vec<JoinHandle<()>>, JetStreamError> {
    if config.nats.url.is_none() {
        return Ok(Vec::new());
    }
    let client = crate::jetstream::connect(&config.nats, "dataslo-serve-sync").await?;
    let js = async_nats::jetstream::new(client);
    let tenants = config.tenants.clone();
    let files = tokio::task::spawn_blocking(move || read_files(&tenants))
        .await
        .map_err(|e| JetStreamError::Stream {
            what: "reading the tenants' SLO files".into(),
            error: e.to_string(),
        })?;
    let mut tasks = vec![tokio::spawn(publish_sets(
        service.clone(),
        files,
        js.clone(),
    ))];
    for tenant in &service.tenants {
        tasks.push(tokio::spawn(file_heartbeats(tenant.clone(), js.clone())));
    }
    Ok(tasks)
}

/// The files' text as this process read them at its start. A file that
/// cannot be read again keeps its tenant's set from being published: a set
/// without it would drop its SLOs at every agent.
fn read_files(tenants: &[TenantConfig]) -> BTreeMap<String, Files> {
    tenants
        .iter()
        .map(|t| {
            let documents = t
                .slo_files
                .iter()
                .map(|f| {
                    std::fs::read_to_string(f)
                        .map(|text| SetDocument {
                            source: f.display().to_string(),
                            text,
                        })
                        .map_err(|e| format!("cannot read {}: {e}", f.display()))
                })
                .collect();
            (t.name.clone(), documents)
        })
        .collect()
}

/// The set central runs for `tenant`, its files' text being `files`.
pub fn current_set(tenant: &Tenant, files: &[SetDocument]) -> Result<SloSet, String> {
    let mut documents = files.to_vec();
    let uploaded = tenant
        .scheduler
        .ledger()
        .uploaded_slos()
        .map_err(|e| e.to_string())?;
    if let Some(text) = uploaded {
        documents.push(SetDocument {
            source: UPLOADED_SLOS_FILE.to_string(),
            text,
        });
    }
    let mut policies = Vec::new();
    for armed in tenant.scheduler.slos().iter() {
        let bytes = match &armed.slo.policy.spec {
            PolicyRef::Builtin(_) => continue,
            PolicyRef::Uploaded(name) => tenant.registry.entry(name).map(|e| e.bytes),
            PolicyRef::File(path) => std::fs::metadata(Path::new(".").join(path))
                .ok()
                .map(|m| m.len()),
            PolicyRef::Oci(_) => tenant
                .oci
                .cached_component(&armed.policy.sha256_hex())
                .map(|b| b.len() as u64),
        };
        let Some(bytes) = bytes else {
            return Err(format!(
                "policy {} of SLO {} is gone",
                armed.slo.policy.spec, armed.slo.name
            ));
        };
        policies.push(SetPolicy {
            reference: armed.slo.policy.spec.to_string(),
            sha256: armed.policy.sha256_hex(),
            bytes,
            signatures: signatures_of(tenant, armed),
        });
    }
    Ok(SloSet::new(&tenant.name, documents, policies))
}

/// The signatures central holds of `armed`'s policy, for agents that check
/// them: an upload's, a file's `.sig`, an OCI policy's as last fetched.
fn signatures_of(tenant: &Tenant, armed: &crate::scheduler::Armed) -> Vec<crate::trust::Signature> {
    let sha256 = armed.policy.sha256_hex();
    let mut found = tenant
        .registry
        .signatures()
        .remove(&sha256)
        .unwrap_or_default();
    match &armed.slo.policy.spec {
        PolicyRef::File(path) => {
            let name = armed.slo.policy.spec.to_string();
            let path = Path::new(".").join(path);
            found.extend(crate::scheduler::file_signatures(&name, &path).unwrap_or_default());
        }
        PolicyRef::Oci(_) => {
            if let Some(manifest) = armed.policy.manifest_digest() {
                found.extend(tenant.oci.cached_signatures(manifest).signatures);
            }
        }
        _ => {}
    }
    found.retain(|s| s.sha256 == sha256);
    found.sort();
    found.dedup();
    found
}

/// The bytes of `policy` as `tenant` runs it, checked against its sha256.
fn policy_bytes(tenant: &Tenant, policy: &SetPolicy) -> Result<Vec<u8>, String> {
    let bytes = match policy.reference.parse::<PolicyRef>() {
        Ok(PolicyRef::Uploaded(name)) => tenant.registry.bytes(&name).map_err(|e| e.to_string()),
        Ok(PolicyRef::File(path)) => std::fs::read(Path::new(".").join(&path))
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        Ok(PolicyRef::Oci(r)) => tenant
            .oci
            .cached_component(&policy.sha256)
            .ok_or_else(|| format!("{r}: its component is no longer in the OCI cache")),
        Ok(PolicyRef::Builtin(_)) => Err("builtin policies are not shipped".into()),
        Err(e) => Err(e.to_string()),
    }?;
    check_policy(policy, &bytes).map_err(|e| {
        format!("{e}: the file changed since central armed it; restart central to ship it")
    })?;
    Ok(bytes)
}

async fn publish_sets(
    service: Arc<Service>,
    files: BTreeMap<String, Files>,
    js: async_nats::jetstream::Context,
) {
    // Per tenant: the version published, and the last refusal said.
    let mut published: BTreeMap<String, String> = BTreeMap::new();
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    loop {
        if let Err(error) =
            publish_while_up(&service, &files, &js, &mut published, &mut refused).await
        {
            tracing::warn!(%error, "publishing SLO sets; again in a second");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn publish_while_up(
    service: &Service,
    files: &BTreeMap<String, Files>,
    js: &async_nats::jetstream::Context,
    published: &mut BTreeMap<String, String>,
    refused: &mut BTreeMap<String, String>,
) -> Result<(), JetStreamError> {
    // Each tenant's own buckets, made here (agents only open them).
    let mut buckets: BTreeMap<String, (async_nats::jetstream::kv::Store, Policies)> =
        BTreeMap::new();
    for tenant in &service.tenants {
        let sets = create_sets_bucket(js, &tenant.name).await?;
        let store = create_policies_store(js, &tenant.name).await?;
        buckets.insert(tenant.name.clone(), (sets, store));
    }
    loop {
        for tenant in &service.tenants {
            // One replica speaks for the tenant: the one holding its tick
            // lease, so a restarted replica never brings back an older set.
            if !tenant.tick_hold().holds() {
                continue;
            }
            let files = match files.get(&tenant.name) {
                Some(Ok(documents)) => documents.clone(),
                Some(Err(reason)) => {
                    refuse(refused, &tenant.name, reason.clone());
                    continue;
                }
                None => Vec::new(),
            };
            // Not in the middle of a change (a half-applied set is no set),
            // and never waiting for one: a change may hold the lock through
            // a compile. The next poll, a second later, tries again. The
            // ledger and the policies' files are read on the blocking pool.
            let reading = tenant.clone();
            let current = tokio::task::spawn_blocking(move || {
                let _one = match reading.changes.try_lock() {
                    Ok(guard) => guard,
                    Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock) => return None,
                };
                Some(current_set(&reading, &files))
            })
            .await
            .unwrap_or_else(|e| Some(Err(format!("reading the set panicked: {e}"))));
            let set = match current {
                None => continue,
                Some(Ok(set)) => set,
                Some(Err(reason)) => {
                    refuse(refused, &tenant.name, reason);
                    continue;
                }
            };
            if published.get(&tenant.name) == Some(&set.version) {
                continue;
            }
            let Some((sets, store)) = buckets.get(&tenant.name) else {
                continue;
            };
            if !published.contains_key(&tenant.name)
                && published_version(sets).await?.as_ref() == Some(&set.version)
            {
                published.insert(tenant.name.clone(), set.version);
                continue;
            }
            let bytes_of = |p: &SetPolicy| {
                let (tenant, p) = (tenant.clone(), p.clone());
                async move {
                    tokio::task::spawn_blocking(move || policy_bytes(&tenant, &p))
                        .await
                        .unwrap_or_else(|e| Err(format!("reading the policy panicked: {e}")))
                }
            };
            match publish_set(sets, store, &set, bytes_of).await {
                Ok(revision) => {
                    tracing::info!(tenant = %tenant.name, version = %set.version, revision, "SLO set published");
                    refused.remove(&tenant.name);
                    published.insert(tenant.name.clone(), set.version);
                }
                Err(JetStreamError::Stream { what, error }) if what.starts_with("policy ") => {
                    refuse(refused, &tenant.name, format!("{what}: {error}"));
                }
                Err(e) => return Err(e),
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Logs why `tenant`'s set is not published, once per reason.
fn refuse(refused: &mut BTreeMap<String, String>, tenant: &str, reason: String) {
    if refused.get(tenant) != Some(&reason) {
        tracing::error!(%tenant, %reason, "SLO set not published; agents keep the one before");
        refused.insert(tenant.to_string(), reason);
    }
}

/// Files the heartbeats of `tenant`'s agents into its ledger, until aborted.
async fn file_heartbeats(tenant: Arc<Tenant>, js: async_nats::jetstream::Context) {
    loop {
        if let Err(error) = file_while_up(&tenant, &js).await {
            tracing::warn!(tenant = %tenant.name, %error, "reading agents' heartbeats; again in a second");
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn file_while_up(
    tenant: &Tenant,
    js: &async_nats::jetstream::Context,
) -> Result<(), JetStreamError> {
    let agents = create_agents_bucket(js, &tenant.name).await?;
    let mut watch = HeartbeatWatch::start(&agents, &tenant.name).await?;
    while let Some(report) = watch.next().await {
        let report = report?;
        let ledger = tenant.scheduler.ledger().clone();
        tokio::task::spawn_blocking(move || ledger.put_agent_report(&report))
            .await
            .map_err(|e| JetStreamError::Stream {
                what: format!("filing a heartbeat of tenant {}", tenant.name),
                error: e.to_string(),
            })??;
    }
    Ok(())
}
