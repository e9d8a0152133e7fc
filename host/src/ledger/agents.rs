//! Edge bookkeeping: at an agent, the SLO set it last synced from central;
//! at central, the last heartbeat of each of a tenant's agents.

use super::{Ledger, LedgerError, codec, keys};
use serde::{Deserialize, Serialize};

/// What an agent says of itself in its heartbeat; central keeps the last one
/// per site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// The agent's site.
    pub site: String,
    /// When it wrote this.
    pub last_seen: jiff::Timestamp,
    /// Records it made that the stream has not acknowledged yet.
    pub records_behind: u64,
    /// The version of the SLO set it runs; `None` until its first sync.
    pub slo_set_version: Option<String>,
    /// Why the last set it was sent failed; cleared by the next good one.
    pub last_error: Option<String>,
}

impl AgentReport {
    /// Its SLO set version as people read it: the first 12 hex digits, or
    /// `none yet`.
    pub fn short_version(&self) -> String {
        self.slo_set_version
            .as_deref()
            .unwrap_or("none yet")
            .chars()
            .take(12)
            .collect()
    }
}

impl Ledger {
    /// Replaces the synced SLO set (its published text).
    pub fn save_synced_set(&self, text: &str) -> Result<(), LedgerError> {
        self.meta.insert(keys::SYNCED_SET, codec::encode(&text))?;
        Ok(())
    }

    /// The synced SLO set, if the agent ever synced one.
    pub fn synced_set(&self) -> Result<Option<String>, LedgerError> {
        self.meta
            .get(keys::SYNCED_SET)?
            .map(|bytes| codec::decode("meta", keys::SYNCED_SET, &bytes))
            .transpose()
    }

    /// Stores `report` as its site's last heartbeat.
    pub fn put_agent_report(&self, report: &AgentReport) -> Result<(), LedgerError> {
        let key = keys::AgentKey(&report.site).encode();
        self.meta.insert(key, codec::encode(report))?;
        Ok(())
    }

    /// The last heartbeat of every site, by site.
    pub fn agent_reports(&self) -> Result<Vec<AgentReport>, LedgerError> {
        self.meta
            .scan_prefix(keys::AgentKey::PREFIX)
            .map(|item| {
                let (key, bytes) = item?;
                codec::decode("meta", &key, &bytes)
            })
            .collect()
    }
}
