//! A tenant's uploaded policies. An upload is validated (a component of this
//! host's world whose `describe()` answers) before anything is written; its
//! bytes go to `<dir>/<sha256>.wasm` (written whole, then renamed), its entry
//! to the tenant's ledger, and at start every entry is loaded again, its file
//! checked against the sha256 on record.
//!
//! An upload's signatures are kept beside it, `<dir>/<sha256>.sig`, for the
//! arming that checks them under `trusted_keys`. At start, an entry the
//! caller's check refuses (a key revoked since, `trusted_keys` set since) is
//! not loaded at all: loading calls into it. It is logged; SLOs naming it
//! are refused until it is uploaded again, signed.
//!
//! Depends on runtime, ledger, trust and model; the service and the server depend on it.

use crate::ledger::{Ledger, LedgerError, PolicyEntry};
use crate::model::PolicyRef;
use crate::runtime::{Known, LoadError, Policy, Runtime};
use crate::trust::{Signature, Signatures};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

/// An upload refused, or the store failing.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The name cannot name a policy.
    #[error(
        "policy name {0:?}: use 1 to 64 lowercase letters, digits, `-`, `_` or `.`, \
         starting with a letter or digit"
    )]
    BadName(String),
    /// The bytes are not a policy this host can run.
    #[error(transparent)]
    Invalid(#[from] LoadError),
    /// A file could not be written or read.
    #[error("policy {name}: {path}: {error}")]
    Io {
        /// The policy.
        name: String,
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// A stored file no longer has the bytes that were accepted.
    #[error("policy {name}: {path} has sha256 {found}, but {expected} was accepted")]
    Tampered {
        /// The policy.
        name: String,
        /// The file.
        path: String,
        /// What the ledger recorded.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Whether a stored upload may be loaded, from its name, sha256 (hex) and
/// signatures; the refusal names the digest and the keys.
pub type Admit<'a> = &'a dyn Fn(&str, &str, &[Signature]) -> Result<(), String>;

/// One tenant's uploaded policies, loaded.
pub struct Registry {
    dir: PathBuf,
    ledger: Ledger,
    loaded: RwLock<BTreeMap<String, (PolicyEntry, Arc<Policy>)>>,
    signatures: RwLock<BTreeMap<String, Vec<Signature>>>,
}

/// Whether `name` may name an uploaded policy.
pub fn check_name(name: &str) -> Result<(), RegistryError> {
    let ok = (1..=64).contains(&name.len())
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        });
    if ok {
        Ok(())
    } else {
        Err(RegistryError::BadName(name.to_string()))
    }
}

/// Checks that `bytes` are a policy this host runs, loading it as `uploaded:NAME`.
pub fn validate(runtime: &Runtime, name: &str, bytes: &[u8]) -> Result<Policy, RegistryError> {
    check_name(name)?;
    let label = PolicyRef::Uploaded(name.to_string()).to_string();
    Ok(runtime.load(&label, bytes)?)
}

impl Registry {
    /// Loads every policy `ledger` lists from `dir` that `admit` (when given) lets run.
    pub fn open(
        runtime: &Runtime,
        ledger: Ledger,
        dir: PathBuf,
        admit: Option<Admit<'_>>,
    ) -> Result<Self, RegistryError> {
        let mut loaded = BTreeMap::new();
        let mut signatures = BTreeMap::new();
        for entry in ledger.policies()? {
            let sig = dir.join(format!("{}.sig", entry.sha256));
            if let Ok(bytes) = std::fs::read(&sig)
                && let Ok(doc) = Signatures::decode(&sig.display().to_string(), &bytes)
            {
                signatures.insert(entry.sha256.clone(), doc.signatures);
            }
            let path = dir.join(format!("{}.wasm", entry.sha256));
            let io = |error| RegistryError::Io {
                name: entry.name.clone(),
                path: path.display().to_string(),
                error,
            };
            let bytes = std::fs::read(&path).map_err(io)?;
            let found = hex::encode(Sha256::digest(&bytes));
            if found != entry.sha256 {
                return Err(RegistryError::Tampered {
                    name: entry.name.clone(),
                    path: path.display().to_string(),
                    expected: entry.sha256.clone(),
                    found,
                });
            }
            if let Some(admit) = admit {
                let signed = signatures.get(&entry.sha256).cloned().unwrap_or_default();
                if let Err(why) = admit(&entry.name, &entry.sha256, &signed) {
                    tracing::warn!(
                        tenant = %ledger.tenant(),
                        policy = %entry.name,
                        sha256 = %entry.sha256,
                        %why,
                        "uploaded policy not loaded: upload it again, signed by a trusted key"
                    );
                    continue;
                }
            }
            let policy = validate(runtime, &entry.name, &bytes)?;
            loaded.insert(entry.name.clone(), (entry, Arc::new(policy)));
        }
        Ok(Registry {
            dir,
            ledger,
            loaded: RwLock::new(loaded),
            signatures: RwLock::new(signatures),
        })
    }

    /// The uploaded policies, as SLOs name them (`uploaded:NAME`).
    pub fn known(&self) -> Known {
        self.read()
            .iter()
            .map(|(name, (_, policy))| (PolicyRef::Uploaded(name.clone()), policy.clone()))
            .collect()
    }

    /// The signatures that came with the uploads, by component sha256.
    pub fn signatures(&self) -> BTreeMap<String, Vec<Signature>> {
        self.signatures
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every entry, by name.
    pub fn entries(&self) -> Vec<PolicyEntry> {
        self.read().values().map(|(e, _)| e.clone()).collect()
    }

    /// The entry named `name`, if any.
    pub fn entry(&self, name: &str) -> Option<PolicyEntry> {
        self.read().get(name).map(|(e, _)| e.clone())
    }

    /// How many are stored.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether none is stored.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// The bytes of the policy named `name`, checked against its sha256.
    pub fn bytes(&self, name: &str) -> Result<Vec<u8>, RegistryError> {
        let Some(entry) = self.entry(name) else {
            let path = self.dir.join(format!("{name}.wasm"));
            return Err(RegistryError::Io {
                name: name.to_string(),
                path: path.display().to_string(),
                error: std::io::ErrorKind::NotFound.into(),
            });
        };
        let path = self.dir.join(format!("{}.wasm", entry.sha256));
        let bytes = std::fs::read(&path).map_err(|error| RegistryError::Io {
            name: name.to_string(),
            path: path.display().to_string(),
            error,
        })?;
        let found = hex::encode(Sha256::digest(&bytes));
        if found != entry.sha256 {
            return Err(RegistryError::Tampered {
                name: name.to_string(),
                path: path.display().to_string(),
                expected: entry.sha256,
                found,
            });
        }
        Ok(bytes)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, (PolicyEntry, Arc<Policy>)>> {
        self.loaded.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a validated policy durably under `name` (replacing any other
    /// bytes of that name) and returns its entry.
    pub fn store(
        &self,
        name: &str,
        bytes: &[u8],
        policy: Arc<Policy>,
        signatures: &[Signature],
        now: jiff::Timestamp,
    ) -> Result<PolicyEntry, RegistryError> {
        let info = policy.info();
        let entry = PolicyEntry {
            name: name.to_string(),
            sha256: policy.sha256_hex(),
            bytes: bytes.len() as u64,
            uploaded_at: now,
            policy_name: info.name.clone(),
            policy_version: info.version.clone(),
            description: info.description.clone(),
            slis: info.slis.clone(),
        };
        let path = self.dir.join(format!("{}.wasm", entry.sha256));
        write_whole(&path, bytes).map_err(|error| RegistryError::Io {
            name: name.to_string(),
            path: path.display().to_string(),
            error,
        })?;
        if !signatures.is_empty() {
            let mut doc = Signatures::default();
            for s in signatures {
                doc.add(s.clone());
            }
            let sig = self.dir.join(format!("{}.sig", entry.sha256));
            write_whole(&sig, &doc.encode()).map_err(|error| RegistryError::Io {
                name: name.to_string(),
                path: sig.display().to_string(),
                error,
            })?;
            self.signatures
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(entry.sha256.clone(), doc.signatures);
        }
        self.ledger.put_policy(&entry)?;
        self.ledger.flush()?;
        self.loaded
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_string(), (entry.clone(), policy));
        Ok(entry)
    }
}

/// Writes `bytes` to a temporary file, syncs it, and renames it to `path`,
/// so `path` never holds part of a component.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_lowercase_and_cannot_climb_out_of_the_folder() {
        for good in ["null-check", "v2.schema_drift", "a"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "../etc", "Upper", ".hidden", "a/b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
