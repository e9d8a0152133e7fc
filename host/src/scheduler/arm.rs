//! Arming an SLO: its policy's sha256 pin checked and, under `trusted_keys`,
//! its signatures judged, before anything of the component is compiled or
//! called; then the policy loaded and the SLO's config validated by it, once,
//! at load time. An `oci://` policy is
//! resolved to a manifest digest here, and stays pinned to it until the SLO
//! is armed again.

use super::trusted::{Gate, sha256_hex};
use crate::ledger::{Ledger, LedgerError, PolicyPin};
use crate::model::PolicyRef;
use crate::oci::Oci;
use crate::runtime::{EvalError, Known, LoadError, Policy, Runtime};
use crate::slo::Slo;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// An SLO ready to evaluate.
#[derive(Clone)]
pub struct Armed {
    /// The definition.
    pub slo: Slo,
    /// Its loaded policy, shared by the SLOs that use the same one.
    pub policy: Arc<Policy>,
    /// What every record of it names, computed once, not per evaluation.
    names: RecordNames,
}

/// The objectives' identities and the policy's sha256 (hex).
#[derive(Clone)]
struct RecordNames {
    objectives: Vec<String>,
    policy_sha256: String,
}

/// An SLO that cannot be evaluated, and why.
#[derive(Debug, thiserror::Error)]
#[error("SLO `{slo}` ({source_file}): {message}")]
pub struct ArmError {
    /// The SLO.
    pub slo: String,
    /// Its file.
    pub source_file: String,
    /// What is wrong.
    pub message: String,
}

/// Why one SLO cannot be armed, typed for `slo validate` to name the field.
#[derive(Debug, thiserror::Error)]
pub enum ArmFailure {
    /// `uploaded:NAME` that no upload provides.
    #[error("no uploaded policy named {0:?}; upload it with PUT /v1/policies/{0}")]
    NoUpload(String),
    /// A policy file that cannot be read.
    #[error("cannot read policy {spec}: {error}")]
    Read {
        /// The reference, as written.
        spec: PolicyRef,
        /// Why.
        error: std::io::Error,
    },
    /// A path, where only built-in and uploaded policies are allowed.
    #[error(
        "policy {0:?}: SLOs sent to the API use `builtin:NAME` or `uploaded:NAME` policies, not files"
    )]
    FileRefused(String),
    /// An `oci://` policy where no registry is consulted (the API's
    /// `slo validate`, an agent's set without its bytes).
    #[error("policy {0}: OCI policies are resolved when `run` or `serve` arms the SLO")]
    OciUnresolved(String),
    /// The component does not load (or the built-in does not exist).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The component is not the one the SLO pins.
    #[error("policy {spec} has sha256 {found}, but the SLO pins {pin}")]
    Pin {
        /// The reference.
        spec: PolicyRef,
        /// The component's sha256.
        found: String,
        /// The SLO's `sha256`.
        pin: String,
    },
    /// Not signed by a key the tenant trusts (or revoked, or tampered).
    #[error("{0}")]
    Untrusted(String),
    /// The policy refuses the SLO's config.
    #[error(transparent)]
    Config(EvalError),
}

impl Armed {
    /// `slo` with its loaded `policy`.
    pub fn new(slo: Slo, policy: Arc<Policy>) -> Armed {
        let names = RecordNames {
            objectives: slo.objectives.iter().map(|o| o.identity()).collect(),
            policy_sha256: policy.sha256_hex(),
        };
        Armed { slo, policy, names }
    }

    /// Its objectives' identities, in order: what its records count for.
    pub fn objective_identities(&self) -> &[String] {
        &self.names.objectives
    }

    /// Its policy's sha256 (hex), as its records name it.
    pub fn policy_sha256(&self) -> &str {
        &self.names.policy_sha256
    }

    /// For an `oci://` policy, what the ledger records of it at `now`.
    pub fn pin(&self, now: jiff::Timestamp) -> Option<PolicyPin> {
        let manifest = self.policy.manifest_digest()?;
        matches!(self.slo.policy.spec, PolicyRef::Oci(_)).then(|| PolicyPin {
            reference: self.slo.policy.spec.to_string(),
            manifest: format!("sha256:{manifest}"),
            sha256: self.policy.sha256_hex(),
            since: now,
        })
    }

    /// Records the OCI pin of each of `armed` that has one (unless unchanged).
    pub fn record_pins(
        ledger: &Ledger,
        armed: &[Armed],
        now: jiff::Timestamp,
    ) -> Result<(), LedgerError> {
        for a in armed {
            if let Some(pin) = a.pin(now) {
                ledger.record_policy_pin(&a.slo.name, &pin)?;
            }
        }
        Ok(())
    }

    /// Loads the policies of `slos` (each distinct one once; relative paths from
    /// `base`) and validates each SLO's config. Returns the armed SLOs and the errors.
    pub fn all(runtime: &Runtime, slos: Vec<Slo>, base: &Path) -> (Vec<Armed>, Vec<ArmError>) {
        Self::with_known(runtime, slos, Some(base), Known::new(), None)
    }

    /// As [`Armed::all`], using the policies in `known` first (`uploaded:`
    /// ones come only from there). With `files` `None`, paths are refused:
    /// SLOs that came through the API must not read the server's files.
    /// With a `gate`, every policy is judged by it before any call into it.
    pub fn with_known(
        runtime: &Runtime,
        slos: Vec<Slo>,
        files: Option<&Path>,
        mut loaded: Known,
        gate: Option<&Gate>,
    ) -> (Vec<Armed>, Vec<ArmError>) {
        let mut armed = Vec::new();
        let mut errors = Vec::new();
        for slo in slos {
            match Self::policy_for(runtime, &slo, files, &mut loaded, gate) {
                Ok(policy) => armed.push(Armed::new(slo, policy)),
                Err(failure) => errors.push(ArmError {
                    slo: slo.name.clone(),
                    source_file: slo.source.file.clone(),
                    message: failure.to_string(),
                }),
            }
        }
        (armed, errors)
    }

    /// As [`Armed::with_known`], resolving every `oci://` policy of `slos`
    /// afresh through `oci` (a tag to its current digest), once per
    /// reference: the SLOs keep that digest until they are armed again.
    /// A pulled component is checked against each SLO's sha256 pin, and with
    /// a `gate` judged, before it is compiled: an SLO whose pin it does not
    /// match is refused, and bytes no SLO accepts are never loaded.
    pub fn with_oci(
        runtime: &Runtime,
        slos: Vec<Slo>,
        files: Option<&Path>,
        mut loaded: Known,
        oci: &Oci,
        gate: Option<&Gate>,
    ) -> (Vec<Armed>, Vec<ArmError>) {
        let mut failed: BTreeMap<PolicyRef, String> = BTreeMap::new();
        // By the SLO's index: its pin refuses the bytes its reference resolved to.
        let mut mispinned: BTreeMap<usize, String> = BTreeMap::new();
        let mut resolved = std::collections::BTreeSet::new();
        for slo in &slos {
            let spec = &slo.policy.spec;
            let PolicyRef::Oci(reference) = spec else {
                continue;
            };
            if !resolved.insert(spec.clone()) {
                continue;
            }
            let policy = oci
                .resolve(reference)
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    let sha256 = sha256_hex(&r.bytes);
                    let mut accepted = false;
                    for (i, other) in slos.iter().enumerate() {
                        if &other.policy.spec != spec {
                            continue;
                        }
                        match &other.policy.sha256 {
                            Some(pin) if !pin.eq_ignore_ascii_case(&sha256) => {
                                let refused = ArmFailure::Pin {
                                    spec: spec.clone(),
                                    found: sha256.clone(),
                                    pin: pin.clone(),
                                };
                                mispinned.insert(i, refused.to_string());
                            }
                            _ => accepted = true,
                        }
                    }
                    if !accepted {
                        return Err(String::new()); // each SLO says why
                    }
                    if let Some(gate) = gate {
                        gate.admit(spec, &sha256_hex(&r.bytes), Some(&r.manifest))?;
                    }
                    let mut policy = runtime
                        .load(&spec.to_string(), &r.bytes)
                        .map_err(|e| e.to_string())?;
                    policy.set_manifest_digest(r.manifest);
                    Ok(policy)
                });
            match policy {
                Ok(policy) => {
                    loaded.insert(spec.clone(), Arc::new(policy));
                }
                Err(message) => {
                    loaded.remove(spec);
                    failed.insert(spec.clone(), message);
                }
            }
        }
        let mut ready = Vec::new();
        let mut refused = Vec::new();
        for (i, slo) in slos.into_iter().enumerate() {
            match mispinned
                .remove(&i)
                .or_else(|| failed.get(&slo.policy.spec).cloned())
            {
                Some(message) => refused.push(ArmError {
                    message,
                    slo: slo.name,
                    source_file: slo.source.file,
                }),
                None => ready.push(slo),
            }
        }
        let (armed, mut errors) = Self::with_known(runtime, ready, files, loaded, gate);
        errors.extend(refused);
        (armed, errors)
    }

    /// One SLO's policy: from `loaded` or loaded into it, its pin checked,
    /// judged by `gate` (before its bytes are compiled), and the SLO's config
    /// validated by it.
    pub fn policy_for(
        runtime: &Runtime,
        slo: &Slo,
        files: Option<&Path>,
        loaded: &mut Known,
        gate: Option<&Gate>,
    ) -> Result<Arc<Policy>, ArmFailure> {
        let spec = &slo.policy.spec;
        let admit = |sha256: &str, manifest: Option<&str>| -> Result<(), ArmFailure> {
            if let Some(pin) = &slo.policy.sha256
                && !pin.eq_ignore_ascii_case(sha256)
            {
                return Err(ArmFailure::Pin {
                    spec: spec.clone(),
                    found: sha256.to_string(),
                    pin: pin.clone(),
                });
            }
            match gate {
                Some(gate) => gate
                    .admit(spec, sha256, manifest)
                    .map_err(ArmFailure::Untrusted),
                None => Ok(()),
            }
        };
        let policy = match loaded.get(spec) {
            Some(p) => {
                admit(&p.sha256_hex(), p.manifest_digest())?;
                p.clone()
            }
            None => {
                let policy = match (spec, files) {
                    (PolicyRef::Uploaded(name), _) => {
                        return Err(ArmFailure::NoUpload(name.clone()));
                    }
                    // The binary's own bytes, trusted by their digest.
                    (PolicyRef::Builtin(name), _) => runtime.load_builtin(name)?,
                    (PolicyRef::File(path), Some(base)) => {
                        let bytes =
                            std::fs::read(base.join(path)).map_err(|error| ArmFailure::Read {
                                spec: spec.clone(),
                                error,
                            })?;
                        admit(&sha256_hex(&bytes), None)?;
                        runtime.load(&spec.to_string(), &bytes)?
                    }
                    (PolicyRef::Oci(_), _) => {
                        return Err(ArmFailure::OciUnresolved(spec.to_string()));
                    }
                    (PolicyRef::File(path), None) => {
                        return Err(ArmFailure::FileRefused(path.display().to_string()));
                    }
                };
                admit(&policy.sha256_hex(), policy.manifest_digest())?;
                let policy = Arc::new(policy);
                loaded.insert(spec.clone(), policy.clone());
                policy
            }
        };
        runtime
            .validate_config(&policy, &slo.config)
            .map_err(|e| ArmFailure::Config(e.for_slo(&slo.name)))?;
        Ok(policy)
    }
}
