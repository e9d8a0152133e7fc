//! Agents' heartbeats on the bus: each agent puts its [`AgentReport`] as the
//! JSON value of key `<site>` in its tenant's KV bucket
//! `dataslo-agents-<tenant>` ([`agents_bucket_name`]); central makes each of
//! its tenants' buckets and watches them. One bucket per tenant, so that
//! NATS permissions (on subjects) keep tenants apart.

use super::JetStreamError;
use super::kv_bucket::{kv_bucket, open_kv_bucket};
use crate::ledger::AgentReport;
use async_nats::jetstream::{self, kv};
use futures_util::StreamExt;

/// The KV bucket of `tenant`'s heartbeats.
pub fn agents_bucket_name(tenant: &str) -> String {
    format!("dataslo-agents-{tenant}")
}

/// The bucket of `tenant`'s heartbeats, made if absent (central).
pub async fn create_agents_bucket(
    js: &jetstream::Context,
    tenant: &str,
) -> Result<kv::Store, JetStreamError> {
    kv_bucket(js, &agents_bucket_name(tenant), 1).await
}

/// The bucket of `tenant`'s heartbeats, as central made it (an agent);
/// [`JetStreamError::Absent`] until then.
pub async fn open_agents_bucket(
    js: &jetstream::Context,
    tenant: &str,
) -> Result<kv::Store, JetStreamError> {
    open_kv_bucket(js, &agents_bucket_name(tenant)).await
}

/// Puts `report` as the heartbeat of its site of `tenant`.
pub async fn put_heartbeat(
    agents: &kv::Store,
    tenant: &str,
    report: &AgentReport,
) -> Result<(), JetStreamError> {
    let value = serde_json::to_vec(report).unwrap_or_default();
    agents
        .put(&report.site, value.into())
        .await
        .map(drop)
        .map_err(|e| JetStreamError::Publish {
            subject: format!("KV {} key {}", agents_bucket_name(tenant), report.site),
            error: e.to_string(),
        })
}

/// A watch of every heartbeat of a tenant: the last of each site first,
/// then every new one.
pub struct HeartbeatWatch {
    watch: kv::Watch,
    bucket: String,
}

impl HeartbeatWatch {
    /// Starts watching `tenant`'s bucket.
    pub async fn start(agents: &kv::Store, tenant: &str) -> Result<Self, JetStreamError> {
        let bucket = agents_bucket_name(tenant);
        let watch = agents
            .watch_with_history("*")
            .await
            .map_err(|e| JetStreamError::Stream {
                what: format!("watch of KV {bucket}"),
                error: e.to_string(),
            })?;
        Ok(HeartbeatWatch { watch, bucket })
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
                        what: format!("watch of KV {}", self.bucket),
                        error: e.to_string(),
                    }));
                }
            };
            match serde_json::from_slice::<AgentReport>(&entry.value) {
                Ok(report) if entry.key == report.site => return Some(Ok(report)),
                Ok(report) => tracing::warn!(
                    bucket = %self.bucket,
                    key = %entry.key,
                    site = %report.site,
                    "a heartbeat names another site than its key; ignored"
                ),
                Err(error) => {
                    tracing::warn!(bucket = %self.bucket, key = %entry.key, %error, "an unreadable heartbeat; ignored")
                }
            }
        }
    }
}
