//! Arming under `trusted_keys`: an armed SLO keeps its policy only when a
//! trusted, unrevoked key signed the component's sha256. Built-ins (and any
//! component with a built-in's sha256) are trusted by digest. Signatures come
//! from `<file>.sig` beside a file, the `sha256-<manifest>.sig` tag of an
//! `oci://` policy, or those the caller already holds by sha256 (an upload's,
//! an agent set's).

use super::{ArmError, Armed};
use crate::model::PolicyRef;
use crate::oci::Oci;
use crate::runtime::{BUILTINS, Policy};
use crate::trust::{Signature, Signatures, Trust, TrustError};
use sha2::{Digest, Sha256};
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
        let sha256 = policy.sha256_hex();
        // By digest only: a `builtin:` name is no proof, since a synced set
        // may list any bytes under it.
        if builtin_digests().contains(&sha256) {
            return Ok(());
        }
        let name = spec.to_string();
        let mut signatures = self.known.get(&sha256).cloned().unwrap_or_default();
        match (spec, files, oci, policy.manifest_digest()) {
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
        self.trust.check(&name, &sha256, &signatures)?;
        Ok(())
    }
}

impl Armed {
    /// Keeps those of `armed` whose policy `check` trusts (all of them with
    /// no check); the others become errors naming the digest and the keys.
    pub fn keep_trusted(
        armed: Vec<Armed>,
        check: Option<&TrustCheck>,
        files: Option<&Path>,
        oci: Option<&Oci>,
    ) -> (Vec<Armed>, Vec<ArmError>) {
        let Some(check) = check else {
            return (armed, Vec::new());
        };
        let mut verdicts: BTreeMap<PolicyRef, Result<(), String>> = BTreeMap::new();
        let mut kept = Vec::new();
        let mut errors = Vec::new();
        for a in armed {
            let verdict = verdicts
                .entry(a.slo.policy.spec.clone())
                .or_insert_with(|| {
                    check
                        .judge(&a.slo.policy.spec, &a.policy, files, oci)
                        .map_err(|e| e.to_string())
                })
                .clone();
            match verdict {
                Ok(()) => kept.push(a),
                Err(message) => errors.push(ArmError {
                    slo: a.slo.name.clone(),
                    source_file: a.slo.source.file.clone(),
                    message,
                }),
            }
        }
        (kept, errors)
    }
}
