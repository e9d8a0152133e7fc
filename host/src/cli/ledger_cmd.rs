//! `dataslo ledger verify`, `dataslo ledger export` and `dataslo ledger migrate`.

use super::Failure;
use super::args::Format;
use super::setup::SetupArgs;
use super::tenant_scope::{Source, existing_ledger, selected, trees};
use crate::ledger::{LedgerVerification, Mismatch, TenantVerification, VerifyReport};
use crate::model::{escape_control, to_json_pretty};
use crate::service::control;
use std::io::Write;

/// Verifies each tenant in scope; exit 1 on a mismatch, 2 when a tenant
/// cannot be read at all.
pub fn verify(setup: &SetupArgs, tenants: &[String], format: Format) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    let source = existing_ledger(&config)?;
    let mut found = LedgerVerification::default();
    for tenant in selected(&config, &source, tenants)? {
        let (report, unreadable) = match source.verify(&tenant) {
            Ok(Some(report)) => (Some(report), None),
            // `serve` makes a tenant's trees when it starts: a configured
            // tenant without them points at the wrong data directory.
            Ok(None) => (
                None,
                Some("not in this ledger (is --data-dir right?)".into()),
            ),
            Err(e) => (None, Some(e.to_string())),
        };
        found.tenants.push(TenantVerification {
            tenant,
            report,
            unreadable,
        });
    }
    let problems = found.problems();
    let unreadable = found.unreadable().join(", ");
    found.valid = problems == 0 && unreadable.is_empty();
    match format {
        Format::Json => println!("{}", to_json_pretty(&found).unwrap_or_default()),
        Format::Table => {
            for t in &found.tenants {
                match (&t.report, &t.unreadable) {
                    (Some(report), _) => print_report(&t.tenant, report),
                    (None, reason) => println!(
                        "unreadable  tenant {}: {}",
                        t.tenant,
                        escape_control(reason.as_deref().unwrap_or_default())
                    ),
                }
            }
        }
    }
    // Under `--format json` the report above is the whole answer.
    let failure = |code, message| match format {
        Format::Json => Failure::Reported { code, message },
        Format::Table if code == "input" => Failure::Input(message),
        Format::Table => Failure::Policy { code, message },
    };
    if !unreadable.is_empty() {
        return Err(failure(
            "input",
            format!("tenant(s) {unreadable} cannot be read"),
        ));
    }
    if problems == 0 {
        Ok(())
    } else {
        Err(failure(
            "ledger_mismatch",
            format!("{problems} problem(s) found"),
        ))
    }
}

fn print_report(tenant: &str, report: &VerifyReport) {
    let unit = |level: &u8| {
        ["minute", "hour", "day"]
            .get(usize::from(*level))
            .copied()
            .unwrap_or("?")
    };
    for m in &report.mismatches {
        match m {
            Mismatch::Corrupt(message) => {
                println!("corrupt   tenant {tenant}: {}", escape_control(message))
            }
            Mismatch::Bucket {
                slo,
                level,
                index,
                expected,
                stored,
            } => println!(
                "mismatch  tenant {tenant}: SLO {} {} {index}: records give {expected:?}, bucket holds {stored:?}",
                escape_control(slo),
                unit(level)
            ),
            Mismatch::RecordGoodAboveTotal {
                slo,
                time,
                key,
                objective,
                good,
                total,
            } => println!(
                "invalid   tenant {tenant}: SLO {} record {time} key {}: objective {objective} has good {good} > total {total}",
                escape_control(slo),
                escape_control(key)
            ),
            Mismatch::BucketGoodAboveTotal {
                slo,
                level,
                index,
                objective,
                good,
                total,
            } => println!(
                "invalid   tenant {tenant}: SLO {} {} bucket {index}: objective {objective} has good {good} > total {total}",
                escape_control(slo),
                unit(level)
            ),
            Mismatch::Saturated { slo, level, index } => println!(
                "saturated tenant {tenant}: SLO {} {} bucket {index}: its records sum past {}; it holds that ceiling, not their sum",
                escape_control(slo),
                unit(level),
                u64::MAX
            ),
            Mismatch::Chain(b) => println!(
                "chain     tenant {tenant}: SLO {}{} seq {}{}: {}: expected {}, found {}",
                escape_control(&b.slo),
                match b.site.as_str() {
                    "" => String::new(),
                    site => format!(" site {}", escape_control(site)),
                },
                b.seq,
                match (&b.time, &b.key) {
                    (Some(time), Some(key)) =>
                        format!(" (record {time} key {})", escape_control(key)),
                    _ => String::new(),
                },
                match b.kind {
                    crate::ledger::BreakKind::Edited => "edited",
                    crate::ledger::BreakKind::Deleted => "deleted (a gap)",
                    crate::ledger::BreakKind::Inserted => "inserted",
                    crate::ledger::BreakKind::Reordered => "reordered",
                },
                escape_control(&b.expected),
                escape_control(&b.found),
            ),
        }
    }
    for r in &report.refused {
        println!(
            "refused   tenant {tenant}: site {} SLO {} key {} (stream sequence {}): {}; kept outside the ledger",
            escape_control(&r.site),
            escape_control(r.slo.as_deref().unwrap_or("?")),
            escape_control(r.key.as_deref().unwrap_or("?")),
            r.stream_sequence,
            escape_control(&r.reason)
        );
    }
    println!(
        "tenant {tenant}: {} record(s), {} bucket(s), {} observation(s), {} chain link(s), {} problem(s)",
        report.records,
        report.buckets,
        report.observations,
        report.links,
        report.mismatches.len()
    );
}

/// What `ledger export` selects.
pub struct ExportFilter<'a> {
    /// `--tenant`: these tenants, or every tenant of the config.
    pub tenants: &'a [String],
    /// `--slo`.
    pub slo: Option<&'a str>,
    /// `--since`.
    pub since: Option<&'a str>,
}

pub fn export(setup: &SetupArgs, filter: ExportFilter<'_>) -> Result<(), Failure> {
    let since = filter
        .since
        .map(|t| {
            t.parse::<jiff::Timestamp>()
                .map_err(|e| Failure::Input(format!("--since {t:?}: {e}")))
        })
        .transpose()?;
    let config = setup.config(&[])?;
    let source = existing_ledger(&config)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let write = |e: std::io::Error| Failure::Input(format!("cannot write: {e}"));
    for tenant in selected(&config, &source, filter.tenants)? {
        match &source {
            Source::Ledger(ledger) => {
                if let Some(trees) = trees(ledger, &tenant)? {
                    trees
                        .export(&tenant, filter.slo, since, &mut out)
                        .map_err(|e| Failure::Input(e.to_string()))?;
                }
            }
            Source::Running(dir, running) => {
                if running.contains(&tenant) {
                    let text = control::ask_export(dir, &tenant, filter.slo, since)?;
                    out.write_all(text.as_bytes()).map_err(write)?;
                }
            }
        }
    }
    out.flush().map_err(write)
}

pub fn migrate(setup: &SetupArgs, format: Format) -> Result<(), Failure> {
    let config = setup.config(&[])?;
    let done = crate::ledger::migrate(&config.data_dir.join("ledger"))
        .map_err(|e| Failure::Input(e.to_string()))?;
    if format == Format::Json {
        println!("{}", to_json_pretty(&done).unwrap_or_default());
        return Ok(());
    }
    let dir = done.dir.display();
    for (from, what) in &done.steps {
        println!("layout {from} -> {}: {what}", from + 1);
    }
    if done.steps.is_empty() {
        let recorded = if done.recorded {
            " (layout version recorded)"
        } else {
            ""
        };
        println!("ledger {dir} already at layout {}{recorded}", done.to);
    } else {
        println!(
            "ledger {dir} migrated from layout {} to layout {}",
            done.from, done.to
        );
    }
    Ok(())
}
