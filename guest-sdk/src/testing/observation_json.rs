//! The observation JSON format (docs/observation-format.md) into the
//! contract's [`Observation`], for case files run natively. Unknown fields
//! are refused by name, as the host refuses them.

use crate::{Assertion, ColumnMetrics, Observation, Quantile, RunState, SchemaField, Timestamp};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(crate = "crate::serde", deny_unknown_fields)]
struct JsonObservation {
    dataset: JsonDataset,
    observed_at: String,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    row_count: Option<u64>,
    #[serde(default)]
    byte_size: Option<u64>,
    #[serde(default)]
    schema: Option<Vec<JsonField>>,
    #[serde(default)]
    columns: BTreeMap<String, JsonColumn>,
    #[serde(default)]
    partition: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    assertions: Vec<JsonAssertion>,
    #[serde(default)]
    run_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(crate = "crate::serde", deny_unknown_fields)]
struct JsonAssertion {
    name: String,
    #[serde(default)]
    column: Option<String>,
    success: bool,
}

#[derive(Deserialize)]
#[serde(crate = "crate::serde", deny_unknown_fields)]
struct JsonDataset {
    namespace: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(crate = "crate::serde", deny_unknown_fields)]
struct JsonField {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    #[serde(default)]
    nullable: Option<bool>,
}

#[derive(Deserialize)]
#[serde(crate = "crate::serde", deny_unknown_fields)]
struct JsonColumn {
    #[serde(default)]
    null_count: Option<u64>,
    #[serde(default)]
    distinct_count: Option<u64>,
    #[serde(default)]
    sum: Option<f64>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    quantiles: BTreeMap<String, f64>,
}

/// Reads one observation in the observation JSON format.
pub fn observation_from_json(value: &serde_json::Value) -> Result<Observation, String> {
    let json: JsonObservation = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    if json.dataset.name.is_empty() {
        return Err("dataset.name: must not be empty".into());
    }
    let time = |field: &str, text: &str| parse_case_time(text).map_err(|e| format!("{field}: {e}"));
    let mut obs = Observation::new(
        &json.dataset.namespace,
        &json.dataset.name,
        time("observed_at", &json.observed_at)?,
    );
    obs.last_modified = match &json.last_modified {
        Some(text) => Some(time("last_modified", text)?),
        None => None,
    };
    obs.row_count = json.row_count;
    obs.byte_size = json.byte_size;
    obs.schema = json.schema.map(|fields| {
        fields
            .into_iter()
            .map(|f| SchemaField {
                nullable: f.nullable,
                ..SchemaField::new(&f.name, &f.data_type)
            })
            .collect()
    });
    for (name, c) in json.columns {
        let mut quantiles = Vec::with_capacity(c.quantiles.len());
        for (key, value) in c.quantiles {
            let q = key
                .parse::<f64>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .ok_or_else(|| {
                    format!("columns.{name}.quantiles: {key:?} is not a number in [0, 1]")
                })?;
            quantiles.push(Quantile { q, value });
        }
        quantiles.sort_by(|a, b| a.q.total_cmp(&b.q));
        obs.columns.push(ColumnMetrics {
            null_count: c.null_count,
            distinct_count: c.distinct_count,
            sum: c.sum,
            count: c.count,
            min: c.min,
            max: c.max,
            quantiles,
            ..ColumnMetrics::new(&name)
        });
    }
    obs.partition = json.partition;
    obs.attributes = json.attributes.into_iter().collect();
    for (i, a) in json.assertions.iter().enumerate() {
        if a.name.is_empty() {
            return Err(format!("assertions[{i}].name: must not be empty"));
        }
        obs.assertions
            .push(Assertion::new(&a.name, a.column.as_deref(), a.success));
    }
    obs.run_state = match json.run_state.as_deref() {
        None => None,
        Some(text) => Some(
            [
                RunState::Start,
                RunState::Running,
                RunState::Complete,
                RunState::Abort,
                RunState::Fail,
                RunState::Other,
            ]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "run_state: {text:?} is not one of start, running, complete, abort, fail, other"
                )
            })?,
        ),
    };
    Ok(obs)
}

/// Parses an RFC 3339 timestamp with `Z` or a `±HH:MM` offset.
pub fn parse_case_time(text: &str) -> Result<Timestamp, String> {
    let bytes = text.as_bytes();
    let offset_at = text.len().saturating_sub(6);
    let has_offset = text.len() > 6
        && matches!(bytes[offset_at], b'+' | b'-')
        && bytes[offset_at + 3] == b':'
        && text[offset_at + 1..offset_at + 3]
            .bytes()
            .all(|b| b.is_ascii_digit())
        && text[offset_at + 4..].bytes().all(|b| b.is_ascii_digit());
    if !has_offset {
        return crate::parse_timestamp(text);
    }
    let hours: i64 = text[offset_at + 1..offset_at + 3].parse().unwrap_or(0);
    let minutes: i64 = text[offset_at + 4..].parse().unwrap_or(0);
    let sign = if bytes[offset_at] == b'-' { -1 } else { 1 };
    let local = crate::parse_timestamp(&text[..offset_at])?;
    Ok(local - sign * (hours * 3600 + minutes * 60) * 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_is_the_same_instant_as_utc() {
        assert_eq!(
            parse_case_time("2026-11-26T10:00:00+02:00"),
            parse_case_time("2026-11-26T08:00:00Z")
        );
        assert_eq!(
            parse_case_time("2026-11-26T05:30:00-02:30"),
            parse_case_time("2026-11-26T08:00:00Z")
        );
    }

    #[test]
    fn assertions_and_the_run_state_are_read() {
        let obs = observation_from_json(&serde_json::json!({
            "dataset": {"namespace": "postgres://prod", "name": "orders"},
            "observed_at": "2026-11-26T08:00:00Z",
            "assertions": [{"name": "not_null", "column": "id", "success": false}],
            "run_state": "complete"
        }))
        .unwrap();
        assert_eq!(
            obs.assertions,
            [Assertion::new("not_null", Some("id"), false)]
        );
        assert_eq!(obs.run_state, Some(RunState::Complete));
        let bad = serde_json::json!({
            "dataset": {"namespace": "n", "name": "t"},
            "observed_at": "2026-11-26T08:00:00Z",
            "run_state": "done"
        });
        assert!(
            observation_from_json(&bad)
                .unwrap_err()
                .contains("run_state")
        );
    }

    #[test]
    fn columns_and_quantiles_are_read_and_unknown_fields_refused() {
        let value = serde_json::json!({
            "dataset": {"namespace": "n", "name": "t"},
            "observed_at": "2026-11-26T08:00:00Z",
            "columns": {"a": {"null_count": 3, "quantiles": {"0.9": 9.0, "0.5": 5.0}}}
        });
        let obs = observation_from_json(&value).unwrap();
        let a = obs.column("a").unwrap();
        assert_eq!(a.null_count, Some(3));
        assert_eq!(a.quantiles[0].q, 0.5);
        let bad = serde_json::json!({
            "dataset": {"namespace": "n", "name": "t"},
            "observed_at": "2026-11-26T08:00:00Z",
            "rowcount": 1
        });
        let err = observation_from_json(&bad).unwrap_err();
        assert!(err.contains("unknown field `rowcount`"), "{err}");
    }
}
