//! `builtin:freshness` as an Extism plugin, for the E3 comparison: the same
//! check as `policies/freshness`, with JSON in (config text, now, the whole
//! observation) and JSON out (one measurement), as Extism plugins exchange data.

use extism_pdk::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

/// One call's input.
#[derive(Deserialize)]
struct Input {
    /// The SLO's config as JSON text, as dataslo passes it.
    config: String,
    /// The evaluation's now, nanoseconds since the epoch (Extism has no
    /// virtual clock).
    now: i64,
    observation: Observation,
}

/// The host's observation, read whole, as a component lifts the whole record.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Observation {
    dataset: DatasetRef,
    observed_at: String,
    last_modified: Option<String>,
    row_count: Option<u64>,
    byte_size: Option<u64>,
    schema: Option<Vec<SchemaField>>,
    #[serde(default)]
    columns: BTreeMap<String, ColumnMetrics>,
    partition: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct DatasetRef {
    namespace: String,
    name: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct SchemaField {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    nullable: Option<bool>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct ColumnMetrics {
    null_count: Option<u64>,
    distinct_count: Option<u64>,
    sum: Option<f64>,
    count: Option<u64>,
    min: Option<f64>,
    max: Option<f64>,
    #[serde(default)]
    quantiles: BTreeMap<String, f64>,
}

/// The freshness config, as the guest SDK reads it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Freshness {
    max_age: MaxAge,
}

/// `"2h"` or whole seconds.
#[derive(Deserialize)]
#[serde(untagged)]
enum MaxAge {
    Text(String),
    Seconds(u64),
}

#[derive(Serialize)]
struct Measurement {
    sli: &'static str,
    good: u64,
    total: u64,
    value: Option<f64>,
    detail: String,
}

fn nanos(text: &str) -> Result<i64, Error> {
    let t = humantime::parse_rfc3339_weak(text.trim_end_matches('Z'))?;
    Ok(match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos())?,
        Err(before) => -i64::try_from(before.duration().as_nanos())?,
    })
}

#[plugin_fn]
pub fn freshness(Json(input): Json<Input>) -> FnResult<Json<Measurement>> {
    let config: Freshness = serde_json::from_str(&input.config)?;
    let max_age = match config.max_age {
        MaxAge::Text(text) => humantime::parse_duration(&text)?,
        MaxAge::Seconds(secs) => Duration::from_secs(secs),
    };
    let modified_text = input
        .observation
        .last_modified
        .ok_or_else(|| Error::msg("missing metadata: last_modified"))?;
    let modified = nanos(&modified_text)?;
    let age_nanos = input.now.saturating_sub(modified);
    let age_secs = age_nanos as f64 / 1e9;
    let good = age_nanos <= i64::try_from(max_age.as_nanos()).unwrap_or(i64::MAX);
    let at = UNIX_EPOCH
        + Duration::new(
            modified.div_euclid(1_000_000_000) as u64,
            modified.rem_euclid(1_000_000_000) as u32,
        );
    let detail = format!(
        "last modified {} ago (at {}), limit {}",
        humantime::format_duration(Duration::from_secs(age_secs.max(0.0) as u64)),
        humantime::format_rfc3339(at),
        humantime::format_duration(max_age),
    );
    Ok(Json(Measurement {
        sli: "freshness",
        good: u64::from(good),
        total: 1,
        value: age_secs.is_finite().then_some(age_secs),
        detail,
    }))
}
