//! The spool folder: observation files (`*.json`, `*.ndjson`) dropped there
//! are ingested, then deleted only after their observations are flushed, so
//! an acknowledged file is never lost. A file that cannot be read, or that
//! holds an observation dated too far ahead of the clock (time sanity), is
//! moved to `rejected/` beside them, with the reason logged.

use super::error::ServiceError;
use super::handoff::{wants_ack, write_ack, write_refusal};
use super::tenant::Tenant;
use crate::model::{TimeFields, TimeSanity};
use crate::scheduler::take_spool;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What one spool pass did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SpoolReport {
    /// Files ingested (and deleted).
    pub files: usize,
    /// Observations in them, and how many were new.
    pub observations: usize,
    /// Of those, the ones not seen before.
    pub new: usize,
    /// The evaluation records of the new ones.
    pub evaluations: usize,
    /// Files moved to `rejected/`, with why.
    pub rejected: Vec<(PathBuf, String)>,
}

/// Ingests every file waiting in `spool` into `tenant`, oldest name first,
/// evaluating each before it is removed, and refusing those `sanity`
/// refuses; `observe`'s files get an answer.
pub fn ingest_spool(
    tenant: &Arc<Tenant>,
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
                let answer = tenant.ingest(&observations)?;
                if wants_ack(&path) {
                    write_ack(&path, &answer).map_err(|e| io(&path, e))?;
                }
                std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
                let evaluations = answer.evaluations.unwrap_or(0);
                tracing::info!(
                    file = %path.display(), observations = observations.len(), new = answer.new,
                    evaluations, "spool file ingested"
                );
                report.files += 1;
                report.observations += observations.len();
                report.new += answer.new;
                report.evaluations += evaluations;
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
                if wants_ack(&path)
                    && let Err(e) = write_refusal(&path, &error)
                {
                    tracing::error!(file = %path.display(), error = %e, "cannot answer a refused spool file");
                }
                report.rejected.push((path, error));
            }
        }
    }
    Ok(report)
}
