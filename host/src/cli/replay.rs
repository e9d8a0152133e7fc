//! `dataslo replay`: reads the arguments, calls [`crate::replay`], prints
//! old against new.

use super::args::{Format, ReplayArgs};
use super::input::read_text;
use super::tenant_scope::{Source, existing_ledger};
use super::{Failure, progress, table};
use crate::replay::{Figures, ReplayError, Report, Request, apply, definitions, find, replay};
use crate::scheduler::{ArmFailure, TrustCheck};
use std::path::Path;

pub fn run(args: &ReplayArgs) -> Result<(), Failure> {
    let config = args.setup.config(&[])?;
    let since = args
        .since
        .as_deref()
        .map(|text| {
            text.parse::<jiff::Timestamp>().map_err(|e| {
                Failure::Input(format!(
                    "--since {text:?} is not an RFC 3339 timestamp: {e}"
                ))
            })
        })
        .transpose()?;
    let policy_config = match args.policy_config.as_deref() {
        Some(arg) => Some(match arg.strip_prefix('@') {
            Some(path) => read_text(path)?,
            None => arg.to_string(),
        }),
        None => None,
    };
    let ledger = match existing_ledger(&config)? {
        Source::Ledger(ledger) => ledger,
        Source::Running(dir, _) => {
            return Err(Failure::Input(format!(
                "the ledger in {} is held by a running dataslo (run or serve): replay reads it \
                 directly, so stop that process first",
                dir.display()
            )));
        }
    };
    let mut slo_files = config.slo_files.clone();
    slo_files.extend(args.slo_files.iter().cloned());
    let slos = definitions(&ledger, &slo_files).map_err(failure)?;
    let slo = find(&slos, &args.slo).map_err(failure)?;
    let runtime = crate::service::open_runtime(&config)?;
    let trust = config.trust().map(|trust| TrustCheck {
        trust,
        known: Default::default(),
    });
    let request = Request {
        ledger: &ledger,
        runtime: &runtime,
        slo,
        policy: args.policy.as_deref(),
        policy_config: policy_config.as_deref(),
        since,
        files: Path::new("."),
        history_depth: config.history_depth,
        trust: trust.as_ref(),
    };
    let mut line = progress::line("replaying evaluation");
    let result = replay(&request, &mut |done, total| line(done as u64, total as u64));
    line(1, 0);
    let mut replayed = result.map_err(failure)?;
    if args.apply {
        apply(&ledger, &mut replayed).map_err(failure)?;
    }
    match args.format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&replayed.report)
                .map_err(|e| Failure::Input(format!("cannot write the report: {e}")))?;
            println!("{text}");
        }
        Format::Table => print!("{}", render(&replayed.report)),
    }
    Ok(())
}

fn failure(e: ReplayError) -> Failure {
    match e {
        ReplayError::Policy {
            source: ArmFailure::Config(error),
            ..
        } => error.into(),
        ReplayError::Policy {
            source: ArmFailure::Load(error),
            ..
        } => error.into(),
        e => Failure::Input(e.to_string()),
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.2}%", v * 100.0))
}

fn render(report: &Report) -> String {
    let mut out = format!(
        "replay of {} ({}/{}, {})\n{} to {}: {} evaluations from {} observations\n\n",
        report.slo,
        report.dataset.namespace,
        report.dataset.name,
        report.trigger,
        report.from,
        report.to,
        report.evaluations,
        report.observations
    );
    let sides = [("old", &report.old), ("new", &report.new)];
    let rows: Vec<Vec<String>> = sides
        .iter()
        .map(|(name, side)| {
            vec![
                name.to_string(),
                side.policy.clone(),
                side.policy_sha256.chars().take(12).collect(),
                side.config.to_string(),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &["", "POLICY", "SHA256", "CONFIG"],
        &rows,
        &[],
    ));
    out.push('\n');
    let mut rows = Vec::new();
    for (name, side) in sides {
        for f in &side.objectives {
            rows.push(figures_row(name, f));
        }
    }
    out.push_str(&table::render(
        &[
            "",
            "OBJECTIVE",
            "TARGET",
            "GOOD",
            "BAD",
            "ERRORS",
            "SLI",
            "BUDGET LEFT",
        ],
        &rows,
        &[2, 3, 4, 5, 6, 7],
    ));
    out.push_str("\nalerts (firing and resolved):\n");
    let mut rows = Vec::new();
    for (name, side) in sides {
        for a in &side.alerts {
            rows.push(vec![
                name.to_string(),
                a.at.strftime("%Y-%m-%d %H:%M").to_string(),
                a.to.clone(),
                a.alert.clone(),
                a.summary.clone(),
            ]);
        }
    }
    if rows.is_empty() {
        out.push_str("  none on either side\n");
    } else {
        out.push_str(&table::render(
            &["", "AT", "TO", "ALERT", "WHY"],
            &rows,
            &[],
        ));
    }
    if let Some(note) = &report.note {
        out.push_str(&format!("\nnote: {note}\n"));
    }
    match &report.applied {
        Some(applied) => out.push_str(&format!(
            "\napplied: {} evaluation records written as the series {}\n",
            applied.records, applied.series
        )),
        None => {
            out.push_str("\nnothing was written to the ledger (--apply writes the new series)\n")
        }
    }
    out
}

fn figures_row(side: &str, f: &Figures) -> Vec<String> {
    vec![
        side.to_string(),
        f.objective.clone(),
        format!("{}%", f.target * 100.0),
        f.good.to_string(),
        f.bad.to_string(),
        f.errors.to_string(),
        percent(f.sli),
        percent(f.budget_remaining),
    ]
}
