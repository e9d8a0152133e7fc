//! Arming under `trusted_keys`: a policy runs only when a trusted, unrevoked
//! key signed the component's sha256. Built-ins (and any component with a
//! built-in's sha256) are trusted by digest. Signatures come from
//! `<file>.sig` beside a file, the `sha256-<manifest>.sig` tag of an
//! `oci://` policy, or those the caller already holds by sha256 (an upload's,
//! an agent set's). The [`Gate`] judges from the sha256 alone, so arming asks
//! it before the bytes are compiled or any call goes into them.

use crate::model::PolicyRef;
use crate::oci::Oci;
use crate::runtime::{BUILTINS, Policy};
use crate::trust::{Signature, Signatures, Trust, TrustError};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

/// The keys to judge by and the signatures already known.
#[derive(Debug, Clone)]
pub struct TrustCheck {
    /// The keys trusted and revoked.
    pub trust: Trust,
    /// Signatures by component sha256 (hex): uploads', an agent set's.
    pub known: BTreeMap<String, Vec<Signature>>,
}

/// Why a policy is refused under `trusted_keys`.
#[derive(Debug, thiserror::Error)]
pub enum TrustFailure {
    /// Unsigned, untrusted, revoked, a bad signature, tampered.
    #[error(transparent)]
    Refused(#[from] TrustError),
    /// The signatures could not be fetched from the registry.
    #[error("policy {policy}: cannot fetch its signatures: {error}")]
    Fetch {
        /// The policy.
        policy: String,
        /// Why.
        error: crate::oci::OciError,
    },
    /// A `<file>.sig` that cannot be read.
    #[error("policy {policy}: cannot read {path}: {error}")]
    Read {
        /// The policy.
        policy: String,
        /// The signature file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

impl TrustFailure {
    /// A stable name for the kind of failure, for `--format json`.
    pub fn code(&self) -> &'static str {
        match self {
            TrustFailure::Refused(e) => e.code(),
            TrustFailure::Fetch { error, .. } => error.code(),
            TrustFailure::Read { .. } => "signature_unreadable",
        }
    }
}

/// The sha256s of the built-ins this binary carries.
pub fn builtin_digests() -> &'static BTreeSet<String> {
    static DIGESTS: OnceLock<BTreeSet<String>> = OnceLock::new();
    DIGESTS.get_or_init(|| {
        BUILTINS
            .iter()
            .map(|(_, bytes)| hex::encode(Sha256::digest(bytes)))
            .collect()
    })
}

/// The file beside a policy file holding its signatures.
pub fn signature_file(policy: &Path) -> std::path::PathBuf {
    let mut name = policy.as_os_str().to_owned();
    name.push(".sig");
    name.into()
}

/// The signatures of a policy file: its `<file>.sig`, none when absent.
pub fn file_signatures(policy: &str, path: &Path) -> Result<Vec<Signature>, TrustFailure> {
    let sig = signature_file(path);
    match std::fs::read(&sig) {
        Ok(bytes) => Ok(Signatures::decode(&sig.display().to_string(), &bytes)?.signatures),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(TrustFailure::Read {
            policy: policy.to_string(),
            path: sig.display().to_string(),
            error,
        }),
    }
}

impl TrustCheck {
    /// Whether `policy`, armed as `spec`, may run: a built-in's bytes, or signed by
    /// a trusted key. Files are read from `files`, OCI signatures through `oci`.
    pub fn judge(
        &self,
        spec: &PolicyRef,
        policy: &Policy,
        files: Option<&Path>,
        oci: Option<&Oci>,
    ) -> Result<(), TrustFailure> {
        self.judge_digest(
            spec,
            &policy.sha256_hex(),
            policy.manifest_digest(),
            files,
            oci,
        )
    }

    /// As [`TrustCheck::judge`], from the component's sha256 (hex) and the
    /// OCI manifest digest (hex) it was pulled as: what is known before the
    /// bytes are compiled, so nothing of an untrusted component runs.
    pub fn judge_digest(
        &self,
        spec: &PolicyRef,
        sha256: &str,
        manifest: Option<&str>,
        files: Option<&Path>,
        oci: Option<&Oci>,
    ) -> Result<(), TrustFailure> {
        // By digest only: a `builtin:` name is no proof, since a synced set
        // may list any bytes under it.
        if builtin_digests().contains(sha256) {
            return Ok(());
        }
        let name = spec.to_string();
        let mut signatures = self.known.get(sha256).cloned().unwrap_or_default();
        match (spec, files, oci, manifest) {
            (PolicyRef::File(path), Some(base), _, _) => {
                signatures.extend(file_signatures(&name, &base.join(path))?);
            }
            (PolicyRef::Oci(r), _, Some(oci), Some(manifest)) => {
                let found = oci
                    .signatures(r, manifest)
                    .map_err(|error| TrustFailure::Fetch {
                        policy: name.clone(),
                        error,
                    })?;
                signatures.extend(found.signatures);
            }
            _ => {}
        }
        self.trust.check(&name, sha256, &signatures)?;
        Ok(())
    }
}

/// What arming consults before any call into a component (its compile
/// included): a [`TrustCheck`] with where signatures are found, remembering
/// each verdict so a policy shared by many SLOs is judged once.
pub struct Gate<'a> {
    check: &'a TrustCheck,
    files: Option<&'a Path>,
    oci: Option<&'a Oci>,
    verdicts: RefCell<BTreeMap<(PolicyRef, String), Result<(), String>>>,
}

impl<'a> Gate<'a> {
    /// A gate judging by `check`, files read from `files`, OCI signatures through `oci`.
    pub fn new(check: &'a TrustCheck, files: Option<&'a Path>, oci: Option<&'a Oci>) -> Self {
        Gate {
            check,
            files,
            oci,
            verdicts: RefCell::new(BTreeMap::new()),
        }
    }

    /// Whether the component of sha256 `sha256` (hex), armed as `spec`,
    /// may run; the refusal names the digest and the keys.
    pub fn admit(
        &self,
        spec: &PolicyRef,
        sha256: &str,
        manifest: Option<&str>,
    ) -> Result<(), String> {
        let key = (spec.clone(), sha256.to_ascii_lowercase());
        if let Some(verdict) = self.verdicts.borrow().get(&key) {
            return verdict.clone();
        }
        let verdict = self
            .check
            .judge_digest(spec, &key.1, manifest, self.files, self.oci)
            .map_err(|e| e.to_string());
        self.verdicts.borrow_mut().insert(key, verdict.clone());
        verdict
    }
}

/// The sha256 (hex) of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
