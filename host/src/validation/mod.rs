//! `slo validate`: SLO files checked as `run` would arm them. Each SLO's
//! policy is loaded the way `run` loads it (file, sha256 pin, built-in) and
//! its config validated by the policy in the sandbox
//! ([`Armed::policy_for`]); its `sli` must be one the policy declares. Every
//! failure names the file, the document and the field, and a misspelt name
//! the closest valid one. A threshold that contradicts the policy's own
//! verdict on its examples is a warning ([`threshold_verdict`]).
//!
//! Depends on scheduler, authoring, runtime, slo and model.

mod names;
mod report;
mod threshold_verdict;

pub use report::{Finding, Report, Skipped, SloReport, Verdict};

use crate::authoring::policy_examples;
use crate::model::PolicyRef;
use crate::runtime::{EvalErrorKind, GuestError, Known, LoadErrorKind, Runtime, builtin_names};
use crate::scheduler::{ArmFailure, Armed};
use crate::slo::{Catalog, Indicator, Slo, Trigger, closest, load_files};
use std::path::{Path, PathBuf};

/// Reads `files` and checks every SLO in them, policy files read from `base`
/// (`run` reads them from its working directory).
pub fn validate_files(runtime: &Runtime, files: &[PathBuf], base: &Path) -> Report {
    let catalog = load_files(files);
    let mut report = check_catalog(runtime, catalog, base);
    report.files = files.iter().map(|f| f.display().to_string()).collect();
    report
}

/// Checks the SLOs of `catalog` against their policies.
pub fn check_catalog(runtime: &Runtime, catalog: Catalog, base: &Path) -> Report {
    let mut report = Report {
        skipped: catalog.not_evaluable.into_iter().map(Into::into).collect(),
        errors: catalog.errors.into_iter().map(Into::into).collect(),
        warnings: catalog.warnings.into_iter().map(Into::into).collect(),
        ..Report::default()
    };
    let mut known = Known::new();
    for slo in catalog.slos {
        let at = source_field(slo.indicator);
        let (verdict, sha256) = match Armed::policy_for(runtime, &slo, Some(base), &mut known, None)
        {
            Ok(policy) => {
                let listed = &policy.info().slis;
                let verdict = if names::sli_declared(&slo.sli, listed) {
                    Verdict::Ok
                } else {
                    let message = format!(
                        "`{}` is not an SLI of {} (it declares {})",
                        slo.sli,
                        slo.policy.spec,
                        listed.join(", ")
                    );
                    let finding = Finding::at(&slo.source, format!("{at}.sli"), message)
                        .suggesting(names::closest_sli(&slo.sli, listed));
                    report.errors.push(finding);
                    Verdict::Invalid
                };
                if verdict == Verdict::Ok {
                    let examples = policy_examples(&slo.policy.spec, base);
                    let warnings =
                        threshold_verdict::contradictions(runtime, &policy, &slo, &examples);
                    report.warnings.extend(warnings);
                }
                (verdict, Some(policy.sha256_hex()))
            }
            Err(ArmFailure::NoUpload(name)) => {
                let message = format!(
                    "uploaded:{name} lives on the server, so its config and sli are not checked \
                     here; the server checks them when the SLO is sent (PUT /v1/slos)"
                );
                let finding = Finding::at(&slo.source, format!("{at}.policy"), message);
                report.warnings.push(finding);
                (Verdict::Unchecked, None)
            }
            Err(ArmFailure::OciUnresolved(reference)) => {
                let message = format!(
                    "{reference} is resolved when `run` or `serve` arms the SLO, so its config \
                     and sli are not checked here; `dataslo policy pull {reference} -o FILE` \
                     fetches the component to validate against"
                );
                let finding = Finding::at(&slo.source, format!("{at}.policy"), message);
                report.warnings.push(finding);
                (Verdict::Unchecked, None)
            }
            Err(failure) => {
                let sha256 = known.get(&slo.policy.spec).map(|p| p.sha256_hex());
                report.errors.push(refusal(&slo, &known, &at, failure));
                (Verdict::Invalid, sha256)
            }
        };
        report.slos.push(SloReport {
            file: slo.source.file.clone(),
            document: slo.source.index,
            name: slo.name.clone(),
            dataset: slo.dataset.clone(),
            policy: slo.policy.spec.clone(),
            sha256,
            sli: slo.sli.clone(),
            trigger: match slo.trigger {
                Trigger::Observation => "observation".into(),
                Trigger::Schedule(every) => format!("every {}", humantime::format_duration(every)),
            },
            objectives: slo.objectives.len(),
            verdict,
        });
    }
    report.valid = report.errors.is_empty();
    report
}

/// The field path of the dataslo metric source's `spec` in an SLO document.
fn source_field(indicator: Indicator) -> String {
    let metric = match indicator {
        Indicator::Threshold => "thresholdMetric",
        Indicator::Ratio => "ratioMetric.total",
    };
    format!("spec.indicator.spec.{metric}.metricSource.spec")
}

/// Why `run` would refuse `slo`, at the field that says so.
fn refusal(slo: &Slo, known: &Known, at: &str, failure: ArmFailure) -> Finding {
    let message = failure.to_string();
    match failure {
        ArmFailure::Pin { .. } => Finding::at(&slo.source, format!("{at}.sha256"), message),
        ArmFailure::Config(e) => {
            let properties = known
                .get(&slo.policy.spec)
                .map(|p| schema_properties(&p.info().config_schema))
                .unwrap_or_default();
            let (key, suggestion) = match &e.kind {
                EvalErrorKind::Guest(GuestError::InvalidConfig(text)) => {
                    names::config_key(text, &properties, &slo.config)
                }
                _ => (None, None),
            };
            let field = match key {
                Some(key) => format!("{at}.config.{key}"),
                None => format!("{at}.config"),
            };
            Finding::at(&slo.source, field, message).suggesting(suggestion.as_deref())
        }
        ArmFailure::Load(e) => {
            let suggestion = match (&e.kind, &slo.policy.spec) {
                (LoadErrorKind::UnknownBuiltin { .. }, PolicyRef::Builtin(name)) => {
                    closest(name, builtin_names()).map(|n| format!("builtin:{n}"))
                }
                _ => None,
            };
            Finding::at(&slo.source, format!("{at}.policy"), message)
                .suggesting(suggestion.as_deref())
        }
        ArmFailure::Read { .. }
        | ArmFailure::NoUpload(_)
        | ArmFailure::FileRefused(_)
        | ArmFailure::OciUnresolved(_)
        | ArmFailure::Untrusted(_) => Finding::at(&slo.source, format!("{at}.policy"), message),
    }
}

/// The keys of a config schema's top-level `properties`.
fn schema_properties(schema: &serde_json::Value) -> Vec<String> {
    schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}
