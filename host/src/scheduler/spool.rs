//! The spool directory `run` watches: its files, read and parsed.

use crate::model::{Observation, parse_observations};
use std::path::{Path, PathBuf};

/// A spool file and its observations, or why it is rejected.
pub type SpoolFile = (PathBuf, Result<Vec<Observation>, String>);

/// Files waiting in `spool`, oldest name first, each with its observations or
/// the error that rejects it. Files named `*.json` or `*.ndjson` only.
pub fn take_spool(spool: &Path) -> std::io::Result<Vec<SpoolFile>> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(spool) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json" || x == "ndjson"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| {
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| {
                    parse_observations(&text, &path.display().to_string())
                        .map_err(|e| e.to_string())
                });
            (path, parsed)
        })
        .collect())
}
