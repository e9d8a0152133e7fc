//! `run_results.json`: test results become assertions on the tested
//! relation; model, seed and snapshot results become the run's state.

use super::doc::{Doc, join};
use super::freshness::{check, observation};
use super::manifest::{Manifest, Node};
use super::{Artifact, DbtError, Imported, Skipped};
use crate::model::{Assertion, Observation, RunState};
use jiff::Timestamp;
use serde_json::Value;
use std::collections::HashMap;

/// The commands (`args.which`) whose results ran something; the others
/// (`generate` of `dbt docs generate`, `compile`, …) only compiled.
const RUNNING: [&str; 6] = ["run", "build", "test", "seed", "snapshot", "retry"];

/// The assertions on one tested relation.
struct Tested {
    name: String,
    unique_id: String,
    assertions: Vec<Assertion>,
}

/// Adds the observations of `artifact` to `out`.
pub(super) fn read(
    artifact: Artifact<'_>,
    manifest: &Manifest<'_>,
    namespace: &str,
    out: &mut Imported,
) -> Result<(), DbtError> {
    let doc = Doc::parse(artifact, "run-results")?;
    let metadata = doc
        .root
        .get("metadata")
        .ok_or_else(|| doc.error("metadata", "missing"))?;
    let generated_at = doc.member(metadata, "generated_at", "metadata")?;
    let generated_at = doc.time(generated_at, "metadata.generated_at")?;
    let invocation = doc.metadata("invocation_id");
    let command = match doc.root.get("args").and_then(|a| a.get("which")) {
        Some(which) => Some(doc.str(which, "args.which")?),
        None => None,
    };
    let results = doc.array("results")?;
    let skip = |out: &mut Imported, id: &str, reason: String| {
        out.skipped.push(Skipped {
            file: doc.file.into(),
            unique_id: id.into(),
            reason,
        })
    };
    if let Some(command) = command.filter(|c| !RUNNING.contains(c)) {
        for (i, result) in results.iter().enumerate() {
            let id = doc.str_member(result, "unique_id", &format!("results[{i}]"))?;
            skip(
                out,
                id,
                format!(
                    "written by a command that runs nothing (args.which = {command:?}): compiled, not run"
                ),
            );
        }
        return Ok(());
    }
    let mut tested: Vec<Tested> = Vec::new();
    let mut tested_index: HashMap<String, usize> = HashMap::new();
    for (i, result) in results.iter().enumerate() {
        let path = format!("results[{i}]");
        let id = doc.str_member(result, "unique_id", &path)?;
        let status = doc.str_member(result, "status", &path)?;
        match manifest.node(id)? {
            None if id.starts_with("unit_test.") => {
                skip(out, id, "a unit test checks SQL logic, not data".into())
            }
            None => skip(out, id, format!("not in {}", manifest.file())),
            Some(Node::Other(resource)) => skip(
                out,
                id,
                format!("a {resource}, neither a relation nor a data test"),
            ),
            Some(Node::Test(test)) => {
                let success = match status {
                    "pass" => true,
                    "fail" | "warn" | "error" => false,
                    "skipped" => {
                        skip(out, id, "skipped by dbt".into());
                        continue;
                    }
                    other => {
                        skip(
                            out,
                            id,
                            format!("status {other:?} is no test outcome: not run"),
                        );
                        continue;
                    }
                };
                let Some(tested_id) = test.tested else {
                    skip(out, id, "the manifest names no node it tests".into());
                    continue;
                };
                let Some(Node::Relation(name)) = manifest.node(&tested_id)? else {
                    skip(
                        out,
                        id,
                        format!(
                            "the node it tests, {tested_id}, is no relation of {}",
                            manifest.file()
                        ),
                    );
                    continue;
                };
                let at = *tested_index.entry(name.clone()).or_insert_with(|| {
                    tested.push(Tested {
                        name,
                        unique_id: tested_id,
                        assertions: Vec::new(),
                    });
                    tested.len() - 1
                });
                tested[at].assertions.push(Assertion {
                    name: test.name,
                    column: test.column,
                    success,
                });
            }
            Some(Node::Relation(name)) => {
                let (run_state, ran) = match status {
                    "success" => (RunState::Complete, true),
                    "error" => (RunState::Fail, false),
                    "skipped" => {
                        skip(out, id, "skipped by dbt".into());
                        continue;
                    }
                    other => {
                        skip(out, id, format!("status {other:?} is no run outcome"));
                        continue;
                    }
                };
                let ended = execute_end(&doc, result, &path)?;
                let mut obs =
                    observation(namespace, name, ended.unwrap_or(generated_at), &doc, &path)?;
                if ran {
                    obs.last_modified = Some(ended.unwrap_or(generated_at));
                }
                obs.run_state = Some(run_state);
                let mut attributes = vec![("dbt.unique_id", id), ("dbt.status", status)];
                attributes.extend(invocation.map(|v| ("dbt.invocation_id", v)));
                obs.attributes = attributes
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.into()))
                    .collect();
                check(&obs, &doc, &path)?;
                out.observations.push(obs);
            }
        }
    }
    for group in tested {
        let failed = group.assertions.iter().filter(|a| !a.success).count();
        let mut obs: Observation = observation(namespace, group.name, generated_at, &doc, "")?;
        obs.attributes = [
            ("dbt.unique_id", group.unique_id),
            ("assertions_total", group.assertions.len().to_string()),
            ("assertions_failed", failed.to_string()),
        ]
        .into_iter()
        .chain(invocation.map(|v| ("dbt.invocation_id", v.to_string())))
        .map(|(k, v)| (k.to_string(), v.into()))
        .collect();
        obs.assertions = group.assertions;
        check(&obs, &doc, "metadata.generated_at")?;
        out.observations.push(obs);
    }
    Ok(())
}

/// When the result's `execute` step ended; none when dbt recorded no
/// timing (a node that failed before it ran).
fn execute_end(doc: &Doc<'_>, result: &Value, path: &str) -> Result<Option<Timestamp>, DbtError> {
    let Some(Value::Array(timing)) = result.get("timing") else {
        return Ok(None);
    };
    for (j, step) in timing.iter().enumerate() {
        let at = format!("{}[{j}]", join(path, "timing"));
        if step.get("name").and_then(Value::as_str) == Some("execute") {
            let ended = doc.member(step, "completed_at", &at)?;
            return doc.time(ended, &join(&at, "completed_at")).map(Some);
        }
    }
    Ok(None)
}
