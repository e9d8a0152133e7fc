//! The spool folder: observation files (`*.json`, `*.ndjson`) dropped there
//! are ingested, then deleted only after their observations are flushed, so
//! an acknowledged file is never lost. A file that cannot be read, or that
//! holds an observation dated too far ahead of the clock (time sanity), is
//! moved to `rejected/` beside them, with the reason logged.

use super::error::ServiceError;
use crate::model::{TimeFields, TimeSanity};
use crate::scheduler::{Pass, Scheduler, take_spool};
use std::path::{Path, PathBuf};

/// What one spool pass did.
#[derive(Debug, Default, Clone)]
pub struct SpoolReport {
    /// Files ingested (and deleted).
    pub files: usize,
    /// Observations in them, and how many were new.
    pub observations: usize,
    /// Of those, the ones not seen before.
    pub new: usize,
    /// The evaluations they triggered.
    pub pass: Pass,
    /// Files moved to `rejected/`, with why.
    pub rejected: Vec<(PathBuf, String)>,
}

/// Ingests every file waiting in `spool` into `scheduler`, oldest name first,
/// refusing files that `sanity` refuses.
pub fn ingest_spool(
    scheduler: &Scheduler,
    spool: &Path,
    sanity: &TimeSanity,
) -> Result<SpoolReport, ServiceError> {
    let io = |path: &Path, error| ServiceError::Io {
        what: path.display().to_string(),
        error,
    };
    let mut report = SpoolReport::default();
    for (path, parsed) in take_spool(spool).map_err(|e| io(spool, e))? {
        let parsed = parsed.and_then(|observations| {
            sanity
                .check_observations(
                    &observations,
                    &path.display().to_string(),
                    TimeFields::Observation,
                )
                .map(|()| observations)
                .map_err(|e| e.to_string())
        });
        match parsed {
            Ok(observations) => {
                let (new, pass) = scheduler.ingest(&observations)?;
                std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
                tracing::info!(
                    file = %path.display(), observations = observations.len(), new,
                    recorded = pass.recorded, errors = pass.errors, "spool file ingested"
                );
                report.files += 1;
                report.observations += observations.len();
                report.new += new;
                report.pass.recorded += pass.recorded;
                report.pass.errors += pass.errors;
                report.pass.duplicates += pass.duplicates;
            }
            Err(error) => {
                let rejected = spool.join("rejected");
                let moved = std::fs::create_dir_all(&rejected).and_then(|()| {
                    std::fs::rename(&path, rejected.join(path.file_name().unwrap_or_default()))
                });
                if let Err(e) = moved {
                    tracing::error!(file = %path.display(), error = %e, "cannot move a rejected spool file");
                }
                tracing::warn!(file = %path.display(), %error, "spool file rejected");
                report.rejected.push((path, error));
            }
        }
    }
    Ok(report)
}
