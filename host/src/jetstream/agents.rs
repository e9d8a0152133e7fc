//! Agents' heartbeats on the bus: each agent puts its [`AgentReport`] as the
//! JSON value of key `<tenant>.<site>` in the KV bucket [`AGENTS_BUCKET`];
//! central watches its tenants' keys.

use super::JetStreamError;
use super::kv_bucket::kv_bucket;
use crate::ledger::AgentReport;
use async_nats::jetstream::{self, kv};
use futures_util::StreamExt;

/// The KV bucket of heartbeats.
pub const AGENTS_BUCKET: &str = "dataslo-agents";

/// The key of `site`'s heartbeat.
pub fn heartbeat_key(tenant: &str, site: &str) -> String {
    format!("{tenant}.{site}")
}

/// The bucket of heartbeats.
pub async fn agents_bucket(js: &jetstream::Context) -> Result<kv::Store, JetStreamError> {
    kv_bucket(js, AGENTS_BUCKET, 1).await
}

/// Puts `report` as the heartbeat of its site of `tenant`.
pub async fn put_heartbeat(
    agents: &kv::Store,
    tenant: &str,
    report: &AgentReport,
) -> Result<(), JetStreamError> {
    let key = heartbeat_key(tenant, &report.site);
    let value = serde_json::to_vec(report).unwrap_or_default();
    agents
        .put(&key, value.into())
        .await
        .map(drop)
        .map_err(|e| JetStreamError::Publish {
            subject: format!("KV {AGENTS_BUCKET} key {key}"),
            error: e.to_string(),
        })
}

/// A watch of every heartbeat of a tenant: the last of each site first,
/// then every new one.
pub struct HeartbeatWatch {
    watch: kv::Watch,
    tenant: String,
}

impl HeartbeatWatch {
    /// Starts watching `tenant`'s keys.
    pub async fn start(agents: &kv::Store, tenant: &str) -> Result<Self, JetStreamError> {
        let watch = agents
            .watch_with_history(format!("{tenant}.*"))
            .await
            .map_err(|e| JetStreamError::Stream {
                what: format!("watch of KV {AGENTS_BUCKET} keys {tenant}.*"),
                error: e.to_string(),
            })?;
        Ok(HeartbeatWatch {
            watch,
            tenant: tenant.to_string(),
        })
    }

    /// The next heartbeat; one whose site is not the one its key names is
    /// skipped (logged). `None` when the watch ended, an error when it
    /// failed: start another.
    pub async fn next(&mut self) -> Option<Result<AgentReport, JetStreamError>> {
        loop {
            let entry = match self.watch.next().await? {
                Ok(entry) if entry.operation == kv::Operation::Put => entry,
                Ok(_) => continue,
                Err(e) => {
                    return Some(Err(JetStreamError::Stream {
                        what: format!("watch of KV {AGENTS_BUCKET}"),
                        error: e.to_string(),
                    }));
                }
            };
            match serde_json::from_slice::<AgentReport>(&entry.value) {
                Ok(report) if entry.key == heartbeat_key(&self.tenant, &report.site) => {
                    return Some(Ok(report));
                }
                Ok(report) => tracing::warn!(
                    key = %entry.key,
                    site = %report.site,
                    "a heartbeat names another site than its key; ignored"
                ),
                Err(error) => {
                    tracing::warn!(key = %entry.key, %error, "an unreadable heartbeat; ignored")
                }
            }
        }
    }
}
