//! The facets of one dataset into an observation: figures into its fields,
//! the rest a policy can use into attributes (names in
//! `docs/observation-format.md`). Counts are strict, the rest lenient.

use crate::model::{Assertion, ColumnMetrics, Observation, SchemaField, quantiles_from_map};
use serde_json::{Map, Value};

/// A refusal: the field's path inside the event, and why.
pub(super) type Fail = (String, String);

/// The facets that measure the data; an input (or a failed run's output) is
/// observed only when it carries one.
const MEASUREMENTS: [&str; 4] = [
    "dataQualityMetrics",
    "dataQualityAssertions",
    "inputStatistics",
    "outputStatistics",
];

const GROUPS: [&str; 3] = ["facets", "inputFacets", "outputFacets"];

/// Whether `dataset` carries a quality or statistics facet.
pub(super) fn has_measurement(dataset: &Value) -> bool {
    GROUPS.iter().any(|group| {
        dataset
            .get(group)
            .and_then(Value::as_object)
            .is_some_and(|facets| {
                MEASUREMENTS
                    .iter()
                    .any(|m| facets.get(*m).is_some_and(Value::is_object))
            })
    })
}

/// Applies the facets of `dataset` (at `field` in its event) to `obs`.
pub(super) fn apply_facets(
    obs: &mut Observation,
    dataset: &Value,
    field: &str,
) -> Result<(), Fail> {
    // Dataset facets first, then the run-specific ones, which are more precise.
    for group in GROUPS {
        let Some(facets) = dataset.get(group).and_then(Value::as_object) else {
            continue;
        };
        for (facet, body) in facets {
            if body.is_object() {
                let at = Place(format!("{field}.{group}.{facet}"));
                apply(obs, facet, body, &at)?;
            }
        }
    }
    Ok(())
}

/// Where a facet is, to name its fields in errors.
struct Place(String);

impl Place {
    fn of(&self, key: &str) -> String {
        format!("{}.{key}", self.0)
    }

    /// A count at `key`: a whole number ≥ 0. JSON Schema's `integer` takes
    /// `10.0` as well as `10`; absent and `null` are unknown.
    fn count(&self, body: &Value, key: &str) -> Result<Option<u64>, Fail> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                if let Some(u) = n.as_u64() {
                    return Ok(Some(u));
                }
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && (0.0..1.8e19).contains(&f) => Ok(Some(f as u64)),
                    _ => Err((self.of(key), format!("must be a whole number ≥ 0, not {n}"))),
                }
            }
            Some(other) => Err((
                self.of(key),
                format!("must be a whole number ≥ 0, not {}", kind(other)),
            )),
        }
    }

    /// A number at `key`; absent and `null` are unknown.
    fn number(&self, body: &Value, key: &str) -> Result<Option<f64>, Fail> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err((
                self.of(key),
                format!("must be a number, not {}", kind(other)),
            )),
        }
    }
}

fn kind(value: &Value) -> String {
    match value {
        Value::String(s) if s.len() <= 40 => format!("the string {s:?}"),
        Value::String(_) => "a string".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        Value::Null | Value::Number(_) => value.to_string(),
    }
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Copies the text fields `keys` of each object of `list` into a JSON array,
/// skipping objects without `required`: `None` when none is left.
fn objects(list: Option<&Value>, required: &str, keys: &[&str]) -> Option<String> {
    let kept: Vec<Value> = list
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|item| text(item, required).is_some())
        .map(|item| {
            let mut out = Map::new();
            for key in keys {
                if let Some(v) = item.get(*key).filter(|v| v.is_string() || v.is_boolean()) {
                    out.insert((*key).to_string(), v.clone());
                }
            }
            Value::Object(out)
        })
        .collect();
    (!kept.is_empty()).then(|| Value::Array(kept).to_string())
}

fn apply(obs: &mut Observation, facet: &str, body: &Value, at: &Place) -> Result<(), Fail> {
    let mut set = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            obs.attributes.insert(key.to_string(), value.into());
        }
    };
    let own = |key: &str| text(body, key).map(str::to_string);
    match facet {
        "schema" => {
            let mut fields = Vec::new();
            flatten_fields(body.get("fields"), "", &mut fields);
            obs.schema = Some(fields);
        }
        "dataQualityMetrics" => {
            let rows = at.count(body, "rowCount")?;
            let bytes = at.count(body, "bytes")?;
            let files = at.count(body, "fileCount")?;
            set("file_count", files.map(|f| f.to_string()));
            obs.row_count = rows.or(obs.row_count);
            obs.byte_size = bytes.or(obs.byte_size);
            if let Some(columns) = body.get("columnMetrics").and_then(Value::as_object) {
                for (column, m) in columns {
                    let at = Place(at.of(&format!("columnMetrics.{column}")));
                    let metrics = ColumnMetrics {
                        null_count: at.count(m, "nullCount")?,
                        distinct_count: at.count(m, "distinctCount")?,
                        sum: at.number(m, "sum")?,
                        count: at.count(m, "count")?,
                        min: at.number(m, "min")?,
                        max: at.number(m, "max")?,
                        quantiles: quantiles_from_map(m.get("quantiles")),
                    };
                    obs.columns.insert(column.clone(), metrics);
                }
            }
        }
        "outputStatistics" | "inputStatistics" => {
            let rows = at.count(body, "rowCount")?;
            let size = at.count(body, "size")?;
            let files = at.count(body, "fileCount")?;
            set("file_count", files.map(|f| f.to_string()));
            obs.row_count = rows.or(obs.row_count);
            obs.byte_size = size.or(obs.byte_size);
        }
        "dataQualityAssertions" => {
            if let Some(assertions) = body.get("assertions").and_then(Value::as_array) {
                let failed = assertions
                    .iter()
                    .filter(|a| a.get("success") == Some(&Value::Bool(false)))
                    .count();
                set("assertions_total", Some(assertions.len().to_string()));
                set("assertions_failed", Some(failed.to_string()));
                let keys = ["assertion", "column", "success", "severity"];
                set(
                    "assertions",
                    objects(body.get("assertions"), "assertion", &keys),
                );
                // A later group (the run's own facets) replaces an earlier one.
                obs.assertions = assertions.iter().filter_map(assertion).collect();
            }
        }
        "lifecycleStateChange" => {
            set("lifecycle_state_change", own("lifecycleStateChange"));
            if let Some(previous) = body.get("previousIdentifier") {
                let part = |key| text(previous, key).map(str::to_string);
                set("lifecycle_previous_namespace", part("namespace"));
                set("lifecycle_previous_name", part("name"));
            }
        }
        "dataSource" => {
            set("data_source_name", own("name"));
            set("data_source_uri", own("uri"));
        }
        "symlinks" => set(
            "symlinks",
            objects(
                body.get("identifiers"),
                "name",
                &["namespace", "name", "type"],
            ),
        ),
        "version" => set("dataset_version", own("datasetVersion")),
        "ownership" => set(
            "owners",
            objects(body.get("owners"), "name", &["name", "type"]),
        ),
        "storage" => {
            set("storage_layer", own("storageLayer"));
            set("file_format", own("fileFormat"));
        }
        _ => {}
    }
    Ok(())
}

/// An entry of `dataQualityAssertions`, when it has a name and a boolean
/// `success`; others are skipped, as in the attributes.
fn assertion(entry: &Value) -> Option<Assertion> {
    Some(Assertion {
        name: text(entry, "assertion")?.to_string(),
        column: text(entry, "column").map(str::to_string),
        success: entry.get("success")?.as_bool()?,
    })
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
    use serde_json::json;

    fn count(value: Value) -> Result<Option<u64>, Fail> {
        Place("f".into()).count(&json!({ "rowCount": value }), "rowCount")
    }

    #[test]
    fn a_count_is_a_whole_number_at_least_zero() {
        assert_eq!(count(json!(10)), Ok(Some(10)));
        assert_eq!(count(json!(10.0)), Ok(Some(10)), "JSON Schema's integer");
        assert_eq!(count(Value::Null), Ok(None));
        for (bad, shown) in [
            (json!(10.5), "10.5"),
            (json!(-1), "-1"),
            (json!("12"), "the string \"12\""),
            (json!(true), "true"),
        ] {
            assert_eq!(
                count(bad),
                Err((
                    "f.rowCount".into(),
                    format!("must be a whole number ≥ 0, not {shown}")
                ))
            );
        }
    }
}
