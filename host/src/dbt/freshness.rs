//! `sources.json` (`dbt source freshness`): one observation per source,
//! observed when dbt took the snapshot, last modified at `max_loaded_at`.

use super::doc::{Doc, join};
use super::manifest::Manifest;
use super::{Artifact, DbtError, Imported, Skipped};
use crate::model::{DatasetRef, Observation};
use jiff::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;

/// Adds the observations of `artifact` to `out`.
pub(super) fn read(
    artifact: Artifact<'_>,
    manifest: &Manifest<'_>,
    namespace: &str,
    out: &mut Imported,
) -> Result<(), DbtError> {
    let doc = Doc::parse(artifact, "sources")?;
    let invocation = doc.metadata("invocation_id");
    for (i, result) in doc.array("results")?.iter().enumerate() {
        let path = format!("results[{i}]");
        let id = doc.str_member(result, "unique_id", &path)?;
        let status = match result.get("status") {
            Some(value) => Some(doc.str(value, &join(&path, "status"))?),
            None => None,
        };
        let max_loaded_at = result.get("max_loaded_at").filter(|v| !v.is_null());
        let Some(max_loaded_at) = max_loaded_at else {
            if status == Some("runtime error") {
                let message = result.get("error").and_then(Value::as_str).unwrap_or("");
                out.skipped.push(Skipped {
                    file: doc.file.into(),
                    unique_id: id.into(),
                    reason: format!("the freshness query failed: {message}"),
                });
                continue;
            }
            return Err(doc.error(&join(&path, "max_loaded_at"), "missing"));
        };
        let last_modified = doc.time(max_loaded_at, &join(&path, "max_loaded_at"))?;
        let snapshotted_at = doc.member(result, "snapshotted_at", &path)?;
        let observed_at = doc.time(snapshotted_at, &join(&path, "snapshotted_at"))?;
        let name = manifest.source(id)?.ok_or_else(|| {
            doc.error(
                &join(&path, "unique_id"),
                format!(
                    "{id:?} is not among the sources of {}: give the manifest of the project \
                     that ran `dbt source freshness`",
                    manifest.file()
                ),
            )
        })?;
        let mut obs = observation(namespace, name, observed_at, &doc, &path)?;
        obs.last_modified = Some(last_modified);
        let mut attributes = vec![("dbt.unique_id", id)];
        attributes.extend(status.map(|s| ("dbt.freshness_status", s)));
        attributes.extend(invocation.map(|v| ("dbt.invocation_id", v)));
        obs.attributes = attributes
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect();
        check(&obs, &doc, &path)?;
        out.observations.push(obs);
    }
    Ok(())
}

/// A bare observation of `namespace`/`name`.
pub(super) fn observation(
    namespace: &str,
    name: String,
    observed_at: Timestamp,
    doc: &Doc<'_>,
    path: &str,
) -> Result<Observation, DbtError> {
    if name.is_empty() {
        return Err(doc.error(
            path,
            "names no relation: database, schema and name are empty",
        ));
    }
    Ok(Observation {
        dataset: DatasetRef {
            namespace: namespace.into(),
            name,
        },
        observed_at,
        last_modified: None,
        row_count: None,
        byte_size: None,
        schema: None,
        columns: BTreeMap::new(),
        partition: None,
        attributes: BTreeMap::new(),
        assertions: Vec::new(),
        run_state: None,
    })
}

/// The model's own checks (times the contract can carry), naming the result.
pub(super) fn check(obs: &Observation, doc: &Doc<'_>, path: &str) -> Result<(), DbtError> {
    obs.check(doc.file).map_err(|e| match e {
        crate::model::ModelError::Field(crate::model::FieldError { field, reason, .. }) => {
            doc.error(path, format!("the observation's {field}: {reason}"))
        }
        other => doc.error(path, other.to_string()),
    })
}
