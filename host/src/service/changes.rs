//! Changing a tenant while it runs: `PUT /v1/slos` and `PUT /v1/policies/{name}`.
//! A change is checked whole (every SLO armed, limits kept) before anything
//! is stored; then it is stored durably, then the scheduler swaps to it.

use super::tenant::{Tenant, UPLOADED_SLOS_FILE, distinct_policies, known_from};
use crate::ledger::{LedgerError, PolicyEntry};
use crate::model::PolicyRef;
use crate::registry::{RegistryError, check_name, validate};
use crate::runtime::Known;
use crate::scheduler::{Armed, Gate, TrustCheck, sha256_hex};
use crate::slo::{Slo, parse_text};
use crate::trust::{Signature, TrustError};
use serde::Serialize;
use std::sync::{Arc, PoisonError};

/// A change refused, or storage failing.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The YAML or an SLO in it is invalid; every problem is listed.
    #[error("{}", .0.join("; "))]
    InvalidSlos(Vec<String>),
    /// An SLO sent has the name of one from the tenant's config files.
    #[error("SLO `{0}` is defined in the tenant's config files; choose another name")]
    NameTaken(String),
    /// The change would make the tenant use more policies than it may.
    #[error("{used} policies, over tenant {tenant}'s limit of {max}")]
    OverLimit {
        /// The tenant.
        tenant: String,
        /// How many the change needs.
        used: usize,
        /// The limit.
        max: usize,
    },
    /// The upload is refused, or its store failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The upload is not signed by a key the tenant trusts.
    #[error(transparent)]
    Untrusted(#[from] TrustError),
}

/// What `PUT /v1/slos` applied.
#[derive(Debug, Serialize)]
pub struct SlosApplied {
    /// The SLOs now evaluated from the text sent.
    pub applied: Vec<String>,
    /// Valid documents not evaluated here, with the reason.
    pub not_evaluable: Vec<String>,
    /// All SLOs the tenant now evaluates.
    pub total: usize,
}

/// What `PUT /v1/policies/{name}` stored.
#[derive(Debug, Serialize)]
pub struct PolicyStored {
    /// Its entry.
    #[serde(flatten)]
    pub entry: PolicyEntry,
    /// Whether the name is new.
    pub created: bool,
    /// The SLOs that now run it.
    pub used_by: Vec<String>,
}

impl Tenant {
    /// Replaces the SLOs sent to the API with those in `text`.
    pub fn put_slos(&self, text: &str) -> Result<SlosApplied, ChangeError> {
        let _one = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let catalog = parse_text(text, UPLOADED_SLOS_FILE);
        if !catalog.errors.is_empty() {
            return Err(ChangeError::InvalidSlos(
                catalog.errors.iter().map(|e| e.to_string()).collect(),
            ));
        }
        if let Some(taken) = catalog
            .slos
            .iter()
            .find(|s| self.config_slos.iter().any(|c| c.name == s.name))
        {
            return Err(ChangeError::NameTaken(taken.name.clone()));
        }
        let applied = catalog.slos.iter().map(|s| s.name.clone()).collect();
        let not_evaluable = catalog
            .not_evaluable
            .iter()
            .map(|n| format!("{}: {}", n.source, n.reason))
            .collect();
        let armed = self.arm(catalog.slos, self.known(), true)?;
        self.scheduler.ledger().save_uploaded_slos(text)?;
        self.scheduler.ledger().flush()?;
        let total = armed.len();
        self.scheduler.replace_slos(armed)?;
        Ok(SlosApplied {
            applied,
            not_evaluable,
            total,
        })
    }

    /// Validates and stores a policy under `name` with the `signatures`
    /// sent with it (checked under the tenant's `trusted_keys`); SLOs that
    /// use `uploaded:NAME` run it from now on.
    pub fn put_policy(
        &self,
        name: &str,
        bytes: &[u8],
        signatures: &[Signature],
        now: jiff::Timestamp,
    ) -> Result<PolicyStored, ChangeError> {
        let _one = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        check_name(name)?;
        // Judged by its sha256 before it is compiled: `validate` calls into it.
        if let Some(trust) = &self.trust {
            let label = PolicyRef::Uploaded(name.to_string()).to_string();
            let sha256 = sha256_hex(bytes);
            if !crate::scheduler::builtin_digests().contains(&sha256) {
                trust.check(&label, &sha256, signatures)?;
            }
        }
        let policy = match validate(&self.runtime, name, bytes) {
            Ok(p) => Arc::new(p),
            Err(e) => {
                self.scheduler.stats().load_failed();
                return Err(e.into());
            }
        };
        let created = self.registry.entry(name).is_none();
        if let Some(max) = self.max_policies
            && created
            && self.registry.len() + 1 > max
        {
            return Err(ChangeError::OverLimit {
                tenant: self.name.clone(),
                used: self.registry.len() + 1,
                max,
            });
        }
        let spec = PolicyRef::Uploaded(name.to_string());
        let mut known = self.known();
        known.insert(spec.clone(), policy.clone());
        let current = self.scheduler.slos();
        let armed = self.arm_with(self.sent_slos(&current), known, false, signatures)?;
        let entry = self.registry.store(name, bytes, policy, signatures, now)?;
        let used_by = armed
            .iter()
            .filter(|a| a.slo.policy.spec == spec)
            .map(|a| a.slo.name.clone())
            .collect();
        self.scheduler.replace_slos(armed)?;
        Ok(PolicyStored {
            entry,
            created,
            used_by,
        })
    }

    /// The policies in use and those uploaded, by spec.
    fn known(&self) -> Known {
        let mut known = known_from(&self.scheduler.slos());
        known.extend(self.registry.known());
        known
    }

    /// The SLOs in force that came through the API.
    fn sent_slos(&self, current: &[Armed]) -> Vec<Slo> {
        current
            .iter()
            .filter(|a| !self.config_slos.iter().any(|c| c.name == a.slo.name))
            .map(|a| a.slo.clone())
            .collect()
    }

    /// Arms the config's SLOs and `sent` with `known`, all or nothing; with
    /// `resolve`, `oci://` policies are resolved again (a tag to its current
    /// digest), else they keep the digest they run.
    fn arm(&self, sent: Vec<Slo>, known: Known, resolve: bool) -> Result<Vec<Armed>, ChangeError> {
        self.arm_with(sent, known, resolve, &[])
    }

    /// As [`Tenant::arm`], with `upload`'s signatures known beside the stored ones.
    fn arm_with(
        &self,
        sent: Vec<Slo>,
        known: Known,
        resolve: bool,
        upload: &[Signature],
    ) -> Result<Vec<Armed>, ChangeError> {
        let mut slos = self.config_slos.clone();
        slos.extend(sent);
        let check = self.trust.clone().map(|trust| {
            let mut known = self.registry.signatures();
            for s in upload {
                known.entry(s.sha256.clone()).or_default().push(s.clone());
            }
            TrustCheck { trust, known }
        });
        // Config SLOs' files are read from where the tenant's start read them,
        // for their signatures only: API SLOs may not name files.
        let files = Some(std::path::Path::new("."));
        let gate = check
            .as_ref()
            .map(|check| Gate::new(check, files, Some(&self.oci)));
        let (armed, errors) = if resolve {
            Armed::with_oci(&self.runtime, slos, None, known, &self.oci, gate.as_ref())
        } else {
            Armed::with_known(&self.runtime, slos, None, known, gate.as_ref())
        };
        if !errors.is_empty() {
            for _ in &errors {
                self.scheduler.stats().load_failed();
            }
            return Err(ChangeError::InvalidSlos(
                errors.iter().map(|e| e.to_string()).collect(),
            ));
        }
        if let Some(max) = self.max_policies {
            let used = distinct_policies(&armed);
            if used > max {
                return Err(ChangeError::OverLimit {
                    tenant: self.name.clone(),
                    used,
                    max,
                });
            }
        }
        Ok(armed)
    }
}
