//! `dataslo import dbt`: dbt artifacts to NDJSON observations on standard
//! output (or `-o FILE`); the summary and the skipped results on stderr.

use super::args::{DbtArgs, Format};
use super::{Failure, input};
use crate::dbt::{Artifact, Artifacts, Imported, import};
use crate::model::{escape_control, to_json};
use std::io::Write;
use std::path::Path;

pub fn run(args: &DbtArgs) -> Result<(), Failure> {
    let read = |path: &Path| -> Result<(String, String), Failure> {
        let name = path.display().to_string();
        let text = input::read_text(&name)?;
        Ok((name, text))
    };
    let manifest = read(&args.manifest)?;
    let sources = args.sources.as_deref().map(read).transpose()?;
    let run_results = args.run_results.as_deref().map(read).transpose()?;
    let imported = import(&Artifacts {
        manifest: artifact(&manifest),
        sources: sources.as_ref().map(artifact),
        run_results: run_results.as_ref().map(artifact),
        namespace: &args.namespace,
    })
    .map_err(|e| Failure::Input(e.to_string()))?;
    let mut ndjson = String::new();
    for obs in &imported.observations {
        let line = to_json(obs).map_err(|e| Failure::Input(format!("cannot write JSON: {e}")))?;
        ndjson.push_str(&line);
        ndjson.push('\n');
    }
    match &args.output {
        Some(path) => std::fs::write(path, ndjson)
            .map_err(|e| Failure::Input(format!("cannot write {}: {e}", path.display())))?,
        None => std::io::stdout()
            .write_all(ndjson.as_bytes())
            .map_err(|e| Failure::Input(format!("cannot write standard output: {e}")))?,
    }
    summarize(&imported, args.format)
}

fn artifact((file, text): &(String, String)) -> Artifact<'_> {
    Artifact { file, text }
}

fn summarize(imported: &Imported, format: Format) -> Result<(), Failure> {
    match format {
        Format::Json => {
            let summary = serde_json::json!({
                "observations": imported.observations.len(),
                "skipped": imported.skipped,
            });
            let text = to_json(&summary).map_err(|e| Failure::Input(e.to_string()))?;
            eprintln!("{text}");
        }
        Format::Table => {
            for skipped in &imported.skipped {
                eprintln!(
                    "skipped   {}: {}: {}",
                    escape_control(&skipped.file),
                    escape_control(&skipped.unique_id),
                    escape_control(&skipped.reason)
                );
            }
            eprintln!(
                "imported {} observation(s), skipped {} result(s)",
                imported.observations.len(),
                imported.skipped.len()
            );
        }
    }
    Ok(())
}
