//! What a tenant uploaded through the API: its policies' index (name →
//! sha256 and what `describe()` said; the bytes live in files named by their
//! sha256) and its OpenSLO text. Both survive restarts.

use super::{Ledger, LedgerError, codec, keys};
use serde::{Deserialize, Serialize};

/// One uploaded policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyEntry {
    /// The name SLOs use, as `uploaded:NAME`.
    pub name: String,
    /// sha256 of the component's bytes, hex.
    pub sha256: String,
    /// Size of the component.
    pub bytes: u64,
    /// When it was accepted.
    pub uploaded_at: jiff::Timestamp,
    /// `describe()`'s name and version.
    pub policy_name: String,
    /// The policy's own version.
    pub policy_version: String,
    /// `describe()`'s description.
    pub description: String,
    /// SLIs it may emit.
    pub slis: Vec<String>,
}

impl Ledger {
    /// Stores (or replaces) an uploaded policy's entry.
    pub fn put_policy(&self, entry: &PolicyEntry) -> Result<(), LedgerError> {
        let key = keys::PolicyKey(&entry.name).encode();
        self.policies.insert(key, codec::encode(entry))?;
        Ok(())
    }

    /// Every uploaded policy, by name.
    pub fn policies(&self) -> Result<Vec<PolicyEntry>, LedgerError> {
        self.policies
            .iter()
            .map(|item| {
                let (key, bytes) = item?;
                codec::decode("policies", &key, &bytes)
            })
            .collect()
    }

    /// Replaces the tenant's uploaded OpenSLO text.
    pub fn save_uploaded_slos(&self, text: &str) -> Result<(), LedgerError> {
        self.meta
            .insert(keys::UPLOADED_SLOS, codec::encode(&text))?;
        Ok(())
    }

    /// The tenant's uploaded OpenSLO text, if any.
    pub fn uploaded_slos(&self) -> Result<Option<String>, LedgerError> {
        self.meta
            .get(keys::UPLOADED_SLOS)?
            .map(|bytes| codec::decode("meta", keys::UPLOADED_SLOS, &bytes))
            .transpose()
    }
}
