//! OpenLineage events to observations: every input and output dataset of a
//! RunEvent or JobEvent, and the dataset of a DatasetEvent, becomes one
//! observation at the event's time.
//!
//! Read: `schema` (nested fields flattened with dots), `dataQualityMetrics` (as
//! a dataset facet or the deprecated input facet), `outputStatistics`,
//! `inputStatistics`, `lifecycleStateChange`, `dataQualityAssertions` (as
//! counts), and `eventTime` as `last_modified` for outputs of COMPLETE events.
//! Unknown facets are ignored, never an error. Depends on `model` only.

use crate::model::{ColumnMetrics, DatasetRef, Observation, SchemaField, quantiles_from_map};
use serde_json::Value;
use std::collections::BTreeMap;

/// An event that cannot be read, naming where and what.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {field}: {reason}")]
pub struct OpenLineageError {
    /// The file or request, with the event's index for arrays.
    pub source_name: String,
    /// The field, as a dotted path.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// Reads one event or a JSON array of events.
pub fn observations_from(
    text: &str,
    source_name: &str,
) -> Result<Vec<Observation>, OpenLineageError> {
    let fail = |field: &str, reason: String| OpenLineageError {
        source_name: source_name.into(),
        field: field.into(),
        reason,
    };
    let value: Value =
        serde_json::from_str(text).map_err(|e| fail("", format!("not JSON: {e}")))?;
    match value {
        Value::Array(events) => {
            let mut out = Vec::new();
            for (i, event) in events.iter().enumerate() {
                out.extend(event_observations(event, &format!("{source_name}[{i}]"))?);
            }
            Ok(out)
        }
        event => event_observations(&event, source_name),
    }
}

/// The observations of one event.
pub fn event_observations(
    event: &Value,
    source_name: &str,
) -> Result<Vec<Observation>, OpenLineageError> {
    let fail = |field: &str, reason: &str| OpenLineageError {
        source_name: source_name.into(),
        field: field.into(),
        reason: reason.into(),
    };
    if !event.is_object() {
        return Err(fail("", "an event is a JSON object"));
    }
    let time_text = event
        .get("eventTime")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("eventTime", "is required"))?;
    let event_time = parse_time(time_text).ok_or_else(|| {
        fail(
            "eventTime",
            &format!("{time_text:?} is not an ISO 8601 time"),
        )
    })?;
    let event_type = event.get("eventType").and_then(Value::as_str).unwrap_or("");
    let mut context = BTreeMap::new();
    if !event_type.is_empty() {
        context.insert("openlineage.event_type".to_string(), event_type.to_string());
    }
    if let Some(job) = event.get("job") {
        let ns = job.get("namespace").and_then(Value::as_str).unwrap_or("");
        let name = job.get("name").and_then(Value::as_str).unwrap_or("");
        context.insert("openlineage.job".into(), format!("{ns}/{name}"));
    }
    if let Some(run_id) = event.pointer("/run/runId").and_then(Value::as_str) {
        context.insert("openlineage.run_id".into(), run_id.to_string());
    }

    let mut out = Vec::new();
    if let Some(dataset) = event.get("dataset") {
        out.push(dataset_observation(
            dataset,
            "dataset",
            event_time,
            false,
            &context,
            source_name,
        )?);
    }
    for (side, is_output) in [("inputs", false), ("outputs", true)] {
        let Some(list) = event.get(side) else {
            continue;
        };
        let list = list
            .as_array()
            .ok_or_else(|| fail(side, "must be an array"))?;
        for (i, dataset) in list.iter().enumerate() {
            let modified = is_output && event_type == "COMPLETE";
            out.push(dataset_observation(
                dataset,
                &format!("{side}[{i}]"),
                event_time,
                modified,
                &context,
                source_name,
            )?);
        }
    }
    Ok(out)
}

/// RFC 3339, or an offset-less ISO 8601 time (seen in real events), read as UTC.
fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    text.parse::<jiff::Timestamp>().ok().or_else(|| {
        let civil: jiff::civil::DateTime = text.parse().ok()?;
        civil
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    })
}

fn dataset_observation(
    dataset: &Value,
    field: &str,
    event_time: jiff::Timestamp,
    modified: bool,
    context: &BTreeMap<String, String>,
    source_name: &str,
) -> Result<Observation, OpenLineageError> {
    let text = |key: &str| {
        dataset
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (Some(namespace), Some(name)) = (text("namespace"), text("name")) else {
        return Err(OpenLineageError {
            source_name: source_name.into(),
            field: field.into(),
            reason: "a dataset needs a namespace and a name".into(),
        });
    };
    let mut obs = Observation {
        dataset: DatasetRef {
            namespace: namespace.into(),
            name: name.into(),
        },
        observed_at: event_time,
        last_modified: modified.then_some(event_time),
        row_count: None,
        byte_size: None,
        schema: None,
        columns: BTreeMap::new(),
        partition: None,
        attributes: context.clone(),
    };
    // Dataset facets first, then the run-specific ones, which are more precise.
    for group in ["facets", "inputFacets", "outputFacets"] {
        let Some(facets) = dataset.get(group).and_then(Value::as_object) else {
            continue;
        };
        for (facet, body) in facets {
            apply_facet(&mut obs, facet, body);
        }
    }
    Ok(obs)
}

fn apply_facet(obs: &mut Observation, facet: &str, body: &Value) {
    let u64_of = |key: &str| body.get(key).and_then(Value::as_u64);
    match facet {
        "schema" => {
            let mut fields = Vec::new();
            flatten_fields(body.get("fields"), "", &mut fields);
            obs.schema = Some(fields);
        }
        "dataQualityMetrics" => {
            obs.row_count = u64_of("rowCount").or(obs.row_count);
            obs.byte_size = u64_of("bytes").or(obs.byte_size);
            if let Some(files) = u64_of("fileCount") {
                obs.attributes
                    .insert("file_count".into(), files.to_string());
            }
            if let Some(columns) = body.get("columnMetrics").and_then(Value::as_object) {
                for (column, m) in columns {
                    let f = |key: &str| m.get(key).and_then(Value::as_f64);
                    let u = |key: &str| m.get(key).and_then(Value::as_u64);
                    obs.columns.insert(
                        column.clone(),
                        ColumnMetrics {
                            null_count: u("nullCount"),
                            distinct_count: u("distinctCount"),
                            sum: f("sum"),
                            count: u("count"),
                            min: f("min"),
                            max: f("max"),
                            quantiles: quantiles_from_map(m.get("quantiles")),
                        },
                    );
                }
            }
        }
        "outputStatistics" | "inputStatistics" => {
            obs.row_count = u64_of("rowCount").or(obs.row_count);
            obs.byte_size = u64_of("size").or(obs.byte_size);
            if let Some(files) = u64_of("fileCount") {
                obs.attributes
                    .insert("file_count".into(), files.to_string());
            }
        }
        "lifecycleStateChange" => {
            if let Some(change) = body.get("lifecycleStateChange").and_then(Value::as_str) {
                obs.attributes
                    .insert("lifecycle_state_change".into(), change.into());
            }
        }
        "dataQualityAssertions" => {
            if let Some(assertions) = body.get("assertions").and_then(Value::as_array) {
                let failed = assertions
                    .iter()
                    .filter(|a| a.get("success") == Some(&Value::Bool(false)))
                    .count();
                obs.attributes
                    .insert("assertions_total".into(), assertions.len().to_string());
                obs.attributes
                    .insert("assertions_failed".into(), failed.to_string());
            }
        }
        _ => {}
    }
}

fn flatten_fields(fields: Option<&Value>, prefix: &str, out: &mut Vec<SchemaField>) {
    for field in fields.and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = field.get("name").and_then(Value::as_str) else {
            continue;
        };
        let full = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        let data_type = field
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        out.push(SchemaField {
            name: full.clone(),
            data_type,
            nullable: None,
        });
        flatten_fields(field.get("fields"), &full, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_without_an_offset_are_utc() {
        assert_eq!(
            parse_time("2021-11-03T10:53:52.427343")
                .unwrap()
                .to_string(),
            "2021-11-03T10:53:52.427343Z"
        );
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn a_dataset_without_a_name_is_refused_with_its_place() {
        let err = observations_from(
            r#"[{"eventTime":"2024-01-01T00:00:00Z","inputs":[{"namespace":"n"}]}]"#,
            "req",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "req[0]: inputs[0]: a dataset needs a namespace and a name"
        );
    }
}
