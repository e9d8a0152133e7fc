//! dbt artifacts to observations: source freshness from `sources.json`,
//! test results and node runs from `run_results.json`, each resolved to a
//! relation through `manifest.json`.
//!
//! # Naming
//!
//! Datasets are named as OpenLineage's dbt integration (`openlineage-dbt`)
//! names them, so that an SLO matches the observations of both: the
//! namespace is the connection's (given, since the artifacts lack the
//! profile), the name `database.schema.name` of the manifest node or source,
//! leaving out an empty or null part. Like that integration, it is the
//! node's `name`, not its `alias` or a source's `identifier`.
//!
//! # What becomes an observation
//!
//! | artifact | observation |
//! | --- | --- |
//! | a `sources.json` result | one per source: `observed_at` = `snapshotted_at`, `last_modified` = `max_loaded_at` |
//! | a `runtime error` freshness result (no `max_loaded_at`) | none; skipped with dbt's message |
//! | test results of `run_results.json` | one per tested node, at the file's `generated_at`, with one assertion per test: `pass` succeeds, `fail`, `warn` and `error` do not (as OpenLineage's `success = status == "pass"`) |
//! | a `skipped` test, or one whose status is no test outcome (`success` from `dbt compile` or `docs generate`) | none; skipped |
//! | a model, seed or snapshot result `success` | `observed_at` = `last_modified` = its `execute` end, `run_state` `complete` |
//! | a model, seed or snapshot result `error` | `observed_at` = its `execute` end (else `generated_at`), `run_state` `fail` |
//! | a whole `run_results.json` written by a command that runs nothing (`args.which` is `generate`, `compile`, …) | none; every result skipped |
//! | a result the manifest does not hold, an operation, a unit test | none; skipped |
//!
//! A freshness result for a source the manifest lacks is an error: the
//! manifest is not that project's. Any schema version is read (manifest
//! v2–v12, sources v1–v3, run results v1–v6 are known); only the fields used
//! are looked at. Errors name the file and the JSON path.
//!
//! Depends on `model` only.

mod doc;
mod freshness;
mod manifest;
mod results;

use crate::model::Observation;
use serde::Serialize;

/// An artifact that cannot be read, naming the file and where in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{reason}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct DbtError {
    /// The artifact's file, as given.
    pub file: String,
    /// The JSON path inside it (`results[2].max_loaded_at`); empty for the
    /// whole file.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

/// One artifact's file name and text.
#[derive(Debug, Clone, Copy)]
pub struct Artifact<'a> {
    /// The file, for errors.
    pub file: &'a str,
    /// Its JSON text.
    pub text: &'a str,
}

/// What to import.
#[derive(Debug, Clone, Copy)]
pub struct Artifacts<'a> {
    /// `manifest.json`: maps ids to relations.
    pub manifest: Artifact<'a>,
    /// `sources.json` of `dbt source freshness`.
    pub sources: Option<Artifact<'a>>,
    /// `run_results.json` of `dbt build`, `test`, `run`, `seed` or `snapshot`.
    pub run_results: Option<Artifact<'a>>,
    /// The datasets' namespace, as OpenLineage names the connection
    /// (`postgres://host:5432`, `bigquery`, `snowflake://account`).
    pub namespace: &'a str,
}

/// A result that became no observation, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The artifact's file.
    pub file: String,
    /// The result's `unique_id`.
    pub unique_id: String,
    /// Why.
    pub reason: String,
}

/// What the artifacts give.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    /// Freshness observations first, then those of the run results.
    pub observations: Vec<Observation>,
    /// The results that became none.
    pub skipped: Vec<Skipped>,
}

/// The observations of dbt artifacts, with the namespace given.
pub fn import(artifacts: &Artifacts<'_>) -> Result<Imported, DbtError> {
    let namespace = artifacts.namespace;
    if namespace.is_empty()
        || namespace
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(DbtError {
            file: "--namespace".into(),
            path: String::new(),
            reason: format!(
                "{namespace:?} is no namespace: give the connection's, as OpenLineage names it \
                 (postgres://host:5432, bigquery, snowflake://account)"
            ),
        });
    }
    let manifest = manifest::Manifest::read(artifacts.manifest)?;
    let mut out = Imported::default();
    if let Some(sources) = artifacts.sources {
        freshness::read(sources, &manifest, namespace, &mut out)?;
    }
    if let Some(run_results) = artifacts.run_results {
        results::read(run_results, &manifest, namespace, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
