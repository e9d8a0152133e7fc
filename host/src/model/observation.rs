//! The observation JSON format (documented in `docs/observation-format.md`).

use super::{FieldError, ModelError, SharedText, from_json};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::collections::BTreeMap;

/// One snapshot of a dataset's metadata. Only `dataset` and `observed_at` are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// The dataset observed.
    pub dataset: DatasetRef,
    /// When the metadata was read.
    pub observed_at: Timestamp,
    /// When the data last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<Timestamp>,
    /// Number of rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<u64>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_size: Option<u64>,
    /// The schema; absent means unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Vec<SchemaField>>,
    /// Per-column metrics, keyed by column name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnMetrics>,
    /// The partition observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Free key/value attributes. Values are shared text: the datasets of
    /// one OpenLineage event hold its job, run and error alike, once.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, SharedText>,
    /// Data-quality assertions checked on this snapshot, in the source's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Assertion>,
    /// The state of the run that produced it, when a run did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_state: Option<RunState>,
}

/// The outcome of one data-quality assertion (a test), as in OpenLineage's
/// `dataQualityAssertions` facet or a dbt test's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// The assertion's name, e.g. `not_null`.
    pub name: String,
    /// The column it tested, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Whether the data passed it.
    pub success: bool,
}

/// The state of the run that produced an observation: OpenLineage's run
/// event types, written in lower case (`complete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// The run started.
    Start,
    /// The run is running.
    Running,
    /// The run completed.
    Complete,
    /// The run was aborted.
    Abort,
    /// The run failed.
    Fail,
    /// Another state.
    Other,
}

impl RunState {
    /// The state of an OpenLineage `eventType` (`COMPLETE`), if it is one.
    pub fn from_event_type(event_type: &str) -> Option<RunState> {
        Some(match event_type {
            "START" => RunState::Start,
            "RUNNING" => RunState::Running,
            "COMPLETE" => RunState::Complete,
            "ABORT" => RunState::Abort,
            "FAIL" => RunState::Fail,
            "OTHER" => RunState::Other,
            _ => return None,
        })
    }
}

/// A dataset, named the OpenLineage way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetRef {
    /// e.g. `postgres://prod:5432`.
    pub namespace: String,
    /// e.g. `analytics.orders`.
    pub name: String,
}

/// One schema field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaField {
    /// The field's name; nested fields are dotted.
    pub name: String,
    /// The type as the source spells it.
    #[serde(rename = "type")]
    pub data_type: String,
    /// Whether it may hold nulls, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
}

/// Metrics of one column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMetrics {
    /// Null rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null_count: Option<u64>,
    /// Distinct non-null values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_count: Option<u64>,
    /// Sum of values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    /// Rows counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Smallest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Quantiles, keyed by the quantile as text (`"0.5"`), as OpenLineage does.
    #[serde(default, skip_serializing_if = "Quantiles::is_empty")]
    pub quantiles: Quantiles,
}

/// Quantiles sorted by `q`; read from and written as `{"0.5": 12.0, ...}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quantiles(pub Vec<(f64, f64)>);

impl Quantiles {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Quantiles {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, f64>::deserialize(deserializer)?;
        let mut out = Vec::with_capacity(raw.len());
        for (key, value) in raw {
            let q: f64 = key
                .parse()
                .ok()
                .filter(|q: &f64| (0.0..=1.0).contains(q))
                .ok_or_else(|| {
                    de::Error::custom(format!("quantile key {key:?} is not a number in [0, 1]"))
                })?;
            out.push((q, value));
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        Ok(Quantiles(out))
    }
}

impl Serialize for Quantiles {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(q, v)| (q.to_string(), v)))
    }
}

/// Quantiles from an OpenLineage-style map (`{"0.5": 12.0}`); entries that are
/// not a fraction with a number are skipped.
pub fn quantiles_from_map(value: Option<&serde_json::Value>) -> Quantiles {
    let mut out: Vec<(f64, f64)> = value
        .and_then(|v| v.as_object())
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            Some((
                k.parse::<f64>().ok().filter(|q| (0.0..=1.0).contains(q))?,
                v.as_f64()?,
            ))
        })
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Quantiles(out)
}

/// The timestamps the WIT contract can carry: nanoseconds in an `i64`.
fn check_range(ts: Timestamp, field: &str, source_name: &str) -> Result<(), ModelError> {
    if i64::try_from(ts.as_nanosecond()).is_ok() {
        Ok(())
    } else {
        Err(ModelError::Field(FieldError {
            file: source_name.into(),
            field: field.into(),
            line: None,
            reason: format!("{ts} is outside the supported range (years 1678 to 2262)"),
        }))
    }
}

impl Observation {
    /// Checks what serde cannot: names present, timestamps in range.
    pub fn check(&self, source_name: &str) -> Result<(), ModelError> {
        let invalid = |field: &str, reason: &str| {
            ModelError::Field(FieldError {
                file: source_name.into(),
                field: field.into(),
                line: None,
                reason: reason.into(),
            })
        };
        if self.dataset.name.is_empty() {
            return Err(invalid("dataset.name", "must not be empty"));
        }
        check_range(self.observed_at, "observed_at", source_name)?;
        if let Some(ts) = self.last_modified {
            check_range(ts, "last_modified", source_name)?;
        }
        if let Some(i) = self.assertions.iter().position(|a| a.name.is_empty()) {
            return Err(invalid(
                &format!("assertions[{i}].name"),
                "must not be empty",
            ));
        }
        Ok(())
    }

    /// Whether its JSON reads back as itself. Not so for a number that does
    /// not ([`super::number_read_back`]), or for quantiles out of order or
    /// repeated (read back sorted, one per key).
    /// Then only the stored form is the one to evaluate.
    pub fn reads_back_as_itself(&self) -> bool {
        let number = |v: &Option<f64>| v.is_none_or(json_reads_back);
        self.columns.values().all(|c| {
            number(&c.sum)
                && number(&c.min)
                && number(&c.max)
                && c.quantiles.0.iter().all(|&(q, v)| {
                    (0.0..=1.0).contains(&q) && q.to_string().parse() == Ok(q) && json_reads_back(v)
                })
                && c.quantiles.0.windows(2).all(|w| w[0].0 < w[1].0)
        })
    }
}

/// Whether serde_json reads `v`'s JSON back as exactly `v`.
fn json_reads_back(v: f64) -> bool {
    super::number_read_back(v).is_some_and(|back| back.to_bits() == v.to_bits())
}

/// Parses one observation from JSON text that came from `source_name`; an
/// error names the field path and the line.
pub fn parse_observation(text: &str, source_name: &str) -> Result<Observation, ModelError> {
    parse_observation_at(text, source_name, 1)
}

/// [`parse_observation`] of text that starts at line `first_line` of the
/// file (a line of NDJSON).
pub fn parse_observation_at(
    text: &str,
    source_name: &str,
    first_line: usize,
) -> Result<Observation, ModelError> {
    let obs: Observation = from_json(text, source_name, first_line)?;
    obs.check(source_name).map_err(|e| match e {
        // One line of text: the whole observation is on it.
        ModelError::Field(mut e) if e.line.is_none() && !text.trim().contains('\n') => {
            e.line = Some(first_line);
            ModelError::Field(e)
        }
        other => other,
    })?;
    Ok(obs)
}

/// Parses a JSON array of observations (a history), newest or oldest first.
pub fn parse_history(text: &str, source_name: &str) -> Result<Vec<Observation>, ModelError> {
    let list: Vec<Observation> = from_json(text, source_name, 1)?;
    for (i, obs) in list.iter().enumerate() {
        obs.check(source_name)
            .map_err(|e| under(e, &format!("[{i}]")))?;
    }
    Ok(list)
}

/// A check's error, its field under `parent`.
fn under(e: ModelError, parent: &str) -> ModelError {
    match e {
        ModelError::Field(e) => ModelError::Field(e.under(parent)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(obs: &Observation) -> Observation {
        serde_json::from_slice(&serde_json::to_vec(obs).unwrap()).unwrap()
    }

    #[test]
    fn an_observation_read_from_json_reads_back_as_itself() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/orders.json");
        let obs = parse_observation(&std::fs::read_to_string(path).unwrap(), path).unwrap();
        assert!(obs.reads_back_as_itself());
        assert_eq!(read_back(&obs), obs);
    }

    #[test]
    fn numbers_json_cannot_hold_and_quantiles_out_of_order_do_not_read_back() {
        let base = parse_observation(MINIMAL, "obs.json").unwrap();
        let with = |metrics: ColumnMetrics| {
            let mut obs = base.clone();
            obs.columns.insert("c".into(), metrics);
            obs
        };
        let cases = [
            ColumnMetrics {
                sum: Some(f64::NAN),
                ..ColumnMetrics::default()
            },
            ColumnMetrics {
                max: Some(f64::INFINITY),
                ..ColumnMetrics::default()
            },
            ColumnMetrics {
                quantiles: Quantiles(vec![(0.9, 1.0), (0.5, 2.0)]),
                ..ColumnMetrics::default()
            },
            ColumnMetrics {
                quantiles: Quantiles(vec![(0.5, 1.0), (0.5, 2.0)]),
                ..ColumnMetrics::default()
            },
        ];
        // A number serde_json reads back one step off: found, not assumed.
        let drifting = (1..1_000_000u64)
            .map(|i| f64::from_bits(0x3e8e_f5c3_0000_0000 + i * 7_919_999_999))
            .find(|&v| crate::model::number_read_back(v) != Some(v))
            .expect("a number serde_json reads back one step off");
        let cases = cases.into_iter().chain([ColumnMetrics {
            min: Some(drifting),
            ..ColumnMetrics::default()
        }]);
        for metrics in cases {
            let obs = with(metrics);
            assert!(!obs.reads_back_as_itself(), "{obs:?}");
            assert_ne!(read_back(&obs), obs);
        }
        let fine = with(ColumnMetrics {
            sum: Some(-0.0),
            min: Some(1e-300),
            max: Some(0.1 + 0.2),
            quantiles: Quantiles(vec![(0.1, f64::MIN_POSITIVE), (0.5, 3.0), (0.99, 1e300)]),
            ..ColumnMetrics::default()
        });
        assert!(fine.reads_back_as_itself());
        assert_eq!(read_back(&fine), fine);
    }

    const MINIMAL: &str = r#"{"dataset":{"namespace":"s3://lake","name":"events"},"observed_at":"2026-11-26T08:00:00Z"}"#;

    #[test]
    fn only_dataset_and_observed_at_are_required() {
        let obs = parse_observation(MINIMAL, "obs.json").unwrap();
        assert_eq!(obs.dataset.name, "events");
        assert_eq!(obs.row_count, None);
        assert!(obs.columns.is_empty());
    }

    #[test]
    fn an_unknown_top_level_field_is_rejected_by_name() {
        let text = MINIMAL.replacen("\"observed_at\"", "\"rowcount\":5,\"observed_at\"", 1);
        let err = parse_observation(&text, "obs.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("obs.json:1: rowcount: unknown field `rowcount`"),
            "{err}"
        );
    }

    #[test]
    fn timestamps_must_be_rfc3339_with_an_offset() {
        let text = MINIMAL.replace("2026-11-26T08:00:00Z", "yesterday");
        let err = parse_observation(&text, "obs.json")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("obs.json:1: observed_at: "), "{err}");
        let offset = MINIMAL.replace("08:00:00Z", "10:00:00+02:00");
        assert_eq!(
            parse_observation(&offset, "x").unwrap(),
            parse_observation(MINIMAL, "x").unwrap()
        );
    }

    #[test]
    fn quantile_keys_must_be_fractions() {
        let text = MINIMAL.replace(
            "\"observed_at\"",
            r#""columns":{"a":{"quantiles":{"0.9":3,"0.1":1}}},"observed_at""#,
        );
        let obs = parse_observation(&text, "x").unwrap();
        assert_eq!(obs.columns["a"].quantiles.0, vec![(0.1, 1.0), (0.9, 3.0)]);
        let bad = text.replace("\"0.9\"", "\"p90\"");
        let err = parse_observation(&bad, "x").unwrap_err().to_string();
        assert!(err.contains("\"p90\""), "{err}");
    }

    #[test]
    fn timestamps_beyond_the_contract_range_are_refused_with_the_field() {
        let text = MINIMAL.replace("2026-11-26", "2300-01-01");
        let err = parse_observation(&text, "x").unwrap_err().to_string();
        assert!(err.starts_with("x:1: observed_at:"), "{err}");
    }

    #[test]
    fn assertions_and_the_run_state_are_read_and_checked() {
        let text = MINIMAL.replace(
            "\"observed_at\"",
            r#""assertions":[{"name":"not_null","column":"id","success":true},{"name":"rows","success":false}],"run_state":"fail","observed_at""#,
        );
        let obs = parse_observation(&text, "x").unwrap();
        assert_eq!(obs.run_state, Some(RunState::Fail));
        assert_eq!(
            obs.assertions,
            vec![
                Assertion {
                    name: "not_null".into(),
                    column: Some("id".into()),
                    success: true
                },
                Assertion {
                    name: "rows".into(),
                    column: None,
                    success: false
                },
            ]
        );
        let written = serde_json::to_string(&obs).unwrap();
        assert_eq!(parse_observation(&written, "x").unwrap(), obs);
        for (bad, named) in [
            (text.replace("\"fail\"", "\"failed\""), "failed"),
            (text.replace("\"success\":false", "\"ok\":false"), "`ok`"),
            (text.replace("\"not_null\"", "\"\""), "assertions[0].name"),
        ] {
            let err = parse_observation(&bad, "x").unwrap_err().to_string();
            assert!(err.contains(named), "{err}");
        }
    }

    #[test]
    fn history_errors_name_the_entry() {
        let text = format!("[{MINIMAL},{}]", MINIMAL.replace("events", ""));
        let err = parse_history(&text, "h.json").unwrap_err().to_string();
        assert!(err.starts_with("h.json: [1].dataset.name"), "{err}");
    }
}
