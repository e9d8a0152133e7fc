//! `dataslo ledger audit FILE`: an export's hash chains checked offline.

use super::Failure;
use super::args::Format;
use crate::ledger::BreakKind;
use crate::model::{escape_control, to_json_pretty};
use std::io::BufRead;
use std::path::Path;

/// Audits the export in `file` (`-`: stdin); exit 1 at a tampered line.
pub fn audit(file: &Path, format: Format) -> Result<(), Failure> {
    let read = |e: std::io::Error| Failure::Input(format!("cannot read {}: {e}", file.display()));
    let input: Box<dyn BufRead> = match file.to_str() {
        Some("-") => Box::new(std::io::stdin().lock()),
        _ => Box::new(std::io::BufReader::new(
            std::fs::File::open(file).map_err(read)?,
        )),
    };
    let report = crate::ledger::audit(input).map_err(read)?;
    if format == Format::Json {
        println!("{}", to_json_pretty(&report).unwrap_or_default());
    }
    let Some(b) = &report.first_break else {
        if format == Format::Table {
            println!(
                "{}: {} line(s), {} chain(s), every link checks out",
                file.display(),
                report.lines,
                report.chains
            );
        }
        return Ok(());
    };
    let kind = match b.kind {
        BreakKind::Edited => "edited",
        BreakKind::Deleted => "a line before it deleted (or moved)",
        BreakKind::Inserted => "inserted",
        BreakKind::Reordered => "reordered",
    };
    let site = match b.site.as_deref() {
        Some("") | None => String::new(),
        Some(site) => format!(" site {}", escape_control(site)),
    };
    let (place, tenant) = match b.at_end {
        true => (
            format!("end (chain cut after line {})", b.line),
            format!(
                "tenant {} ",
                escape_control(b.tenant.as_deref().unwrap_or("?"))
            ),
        ),
        false => (format!("line {}", b.line), String::new()),
    };
    let message = format!(
        "{} {place}: {tenant}SLO {}{site} seq {}: {kind}: expected {}, found {}",
        file.display(),
        escape_control(b.slo.as_deref().unwrap_or("?")),
        b.seq.map_or("?".into(), |s| s.to_string()),
        escape_control(&b.expected),
        escape_control(&b.found),
    );
    match format {
        Format::Json => Err(Failure::Reported {
            code: "ledger_tampered",
            message,
        }),
        Format::Table => Err(Failure::Policy {
            code: "ledger_tampered",
            message,
        }),
    }
}
