//! Arming an SLO: its policy loaded (and its sha256 pin checked), its config
//! validated by the policy, once, at load time.

use crate::model::PolicyRef;
use crate::runtime::{Known, Policy, Runtime};
use crate::slo::Slo;
use std::path::Path;
use std::sync::Arc;

/// An SLO ready to evaluate.
#[derive(Clone)]
pub struct Armed {
    /// The definition.
    pub slo: Slo,
    /// Its loaded policy, shared by the SLOs that use the same one.
    pub policy: Arc<Policy>,
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

impl Armed {
    /// Loads the policies of `slos` (each distinct one once; relative paths from
    /// `base`) and validates each SLO's config. Returns the armed SLOs and the errors.
    pub fn all(runtime: &Runtime, slos: Vec<Slo>, base: &Path) -> (Vec<Armed>, Vec<ArmError>) {
        Self::with_known(runtime, slos, Some(base), Known::new())
    }

    /// As [`Armed::all`], using the policies in `known` first (`uploaded:`
    /// ones come only from there). With `files` `None`, paths are refused:
    /// SLOs that came through the API must not read the server's files.
    pub fn with_known(
        runtime: &Runtime,
        slos: Vec<Slo>,
        files: Option<&Path>,
        mut loaded: Known,
    ) -> (Vec<Armed>, Vec<ArmError>) {
        let mut armed = Vec::new();
        let mut errors = Vec::new();
        for slo in slos {
            let fail = |message: String| ArmError {
                slo: slo.name.clone(),
                source_file: slo.source.file.clone(),
                message,
            };
            let policy = match loaded.get(&slo.policy.spec) {
                Some(p) => p.clone(),
                None => {
                    let spec = &slo.policy.spec;
                    let result = match (spec, files) {
                        (PolicyRef::Uploaded(name), _) => Err(format!(
                            "no uploaded policy named {name:?}; upload it with PUT /v1/policies/{name}"
                        )),
                        (PolicyRef::Builtin(name), _) => {
                            runtime.load_builtin(name).map_err(|e| e.to_string())
                        }
                        (PolicyRef::File(path), Some(base)) => std::fs::read(base.join(path))
                            .map_err(|e| format!("cannot read policy {spec}: {e}"))
                            .and_then(|bytes| {
                                runtime
                                    .load(&spec.to_string(), &bytes)
                                    .map_err(|e| e.to_string())
                            }),
                        (PolicyRef::File(path), None) => Err(format!(
                            "policy {:?}: SLOs sent to the API use `builtin:NAME` or \
                             `uploaded:NAME` policies, not files",
                            path.display().to_string()
                        )),
                    };
                    match result {
                        Ok(p) => {
                            let p = Arc::new(p);
                            loaded.insert(slo.policy.spec.clone(), p.clone());
                            p
                        }
                        Err(message) => {
                            errors.push(fail(message));
                            continue;
                        }
                    }
                }
            };
            if let Some(pin) = &slo.policy.sha256
                && !pin.eq_ignore_ascii_case(&policy.sha256_hex())
            {
                errors.push(fail(format!(
                    "policy {} has sha256 {}, but the SLO pins {pin}",
                    slo.policy.spec,
                    policy.sha256_hex()
                )));
                continue;
            }
            if let Err(e) = runtime.validate_config(&policy, &slo.config) {
                errors.push(fail(e.for_slo(&slo.name).to_string()));
                continue;
            }
            armed.push(Armed { slo, policy });
        }
        (armed, errors)
    }
}
