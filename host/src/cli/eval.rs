//! `dataslo eval`: one policy, one observation, no ledger.

use super::args::{EvalArgs, Format};
use super::{Failure, input, table};
use crate::config::Config;
use crate::model::PolicyRef;
use crate::model::{Measurement, escape_control, parse_history, parse_observation, to_json_pretty};
use crate::oci::Oci;
use crate::runtime::{Evaluation, EvaluationInput, Policy};
use crate::scheduler::TrustCheck;
use crate::trust::Trust;
use serde::Serialize;
use std::sync::Arc;

/// The `--format json` output.
#[derive(Debug, Serialize)]
pub struct EvalOutput<'a> {
    /// The policy as named on the command line.
    pub policy: &'a str,
    /// The component's sha256.
    pub sha256: String,
    /// What it measured.
    pub measurements: &'a [Measurement],
    /// Fresh store, instantiation and call, in microseconds.
    pub duration_us: u128,
}

pub fn run(args: EvalArgs) -> Result<(), Failure> {
    let config = input::config_text(&args.config)?;
    let observation = parse_observation(&input::read_text(&args.observation)?, &args.observation)
        .map_err(|e| Failure::Input(e.to_string()))?;
    let history = match &args.history {
        Some(path) => {
            let name = path.display().to_string();
            parse_history(&input::read_text(&name)?, &name)
                .map_err(|e| Failure::Input(e.to_string()))?
        }
        None => Vec::new(),
    };
    let now = match &args.now {
        Some(text) => text.parse::<jiff::Timestamp>().map_err(|e| {
            Failure::Input(format!("--now {text:?} is not an RFC 3339 timestamp: {e}"))
        })?,
        None => jiff::Timestamp::now(),
    };

    let engine_config = args.engine_config.as_deref();
    let runtime = input::runtime_from(engine_config)?;
    // Judged before it is loaded: loading calls into it.
    let policy = input::load_policy(&runtime, &args.policy, |sha256, manifest| {
        check_trust(&args, sha256, manifest)
    })
    .map_err(|f| input::naming_engine_config(f, engine_config))?;
    runtime.validate_config(&policy, &config)?;
    let evaluation = runtime.evaluate(
        &policy,
        EvaluationInput {
            config: &config,
            observation: &observation,
            history: Arc::new(history),
            now,
            limits: None,
        },
    )?;
    for line in &evaluation.logs {
        crate::runtime::log_policy_line(line);
    }
    print!(
        "{}",
        render(&args.policy, &policy, &evaluation, args.format)
    );
    Ok(())
}

/// Under `--trust` (or `--engine-config`'s `trusted_keys`), refuses a
/// policy no trusted key signed.
fn check_trust(args: &EvalArgs, sha256: &str, manifest: Option<&str>) -> Result<(), Failure> {
    let (mut trusted, revoked) = match &args.engine_config {
        Some(path) => {
            let config = Config::load(path).map_err(|e| Failure::Input(e.to_string()))?;
            (config.trusted_keys, config.revoked_keys)
        }
        None => (Vec::new(), Vec::new()),
    };
    trusted.extend(args.trust.iter().cloned());
    let refused = |code: &'static str, message: String| Failure::Policy { code, message };
    let Some(trust) = Trust::from_config(&trusted, &revoked)
        .map_err(|e| Failure::Input(format!("--trust: {e}")))?
    else {
        return Ok(());
    };
    let spec: PolicyRef = args
        .policy
        .parse()
        .map_err(|e: crate::model::PolicyRefError| Failure::Input(e.to_string()))?;
    let check = TrustCheck {
        trust,
        known: Default::default(),
    };
    let oci = Oci::new(None, Vec::new());
    check
        .judge_digest(
            &spec,
            sha256,
            manifest,
            Some(std::path::Path::new(".")),
            Some(&oci),
        )
        .map_err(|e| refused(e.code(), e.to_string()))
}

fn render(label: &str, policy: &Policy, evaluation: &Evaluation, format: Format) -> String {
    match format {
        Format::Json => {
            let out = EvalOutput {
                policy: label,
                sha256: policy.sha256_hex(),
                measurements: &evaluation.measurements,
                duration_us: evaluation.duration.as_micros(),
            };
            let mut text = to_json_pretty(&out).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Table => {
            let rows: Vec<Vec<String>> = evaluation
                .measurements
                .iter()
                .map(|m| {
                    vec![
                        m.sli.clone(),
                        if m.good == m.total {
                            "good".into()
                        } else {
                            "BAD".into()
                        },
                        m.good.to_string(),
                        m.total.to_string(),
                        m.value
                            .map(|v| format!("{v}"))
                            .unwrap_or_else(|| "-".into()),
                        m.detail.clone(),
                    ]
                })
                .collect();
            let mut text = format!(
                "policy {} ({} {}), sha256 {}, {} µs\n\n",
                escape_control(label),
                escape_control(&policy.info().name),
                escape_control(&policy.info().version),
                &policy.sha256_hex()[..16],
                evaluation.duration.as_micros()
            );
            text.push_str(&table::render(
                &["SLI", "VERDICT", "GOOD", "TOTAL", "VALUE", "DETAIL"],
                &rows,
                &[2, 3, 4],
            ));
            text
        }
    }
}
