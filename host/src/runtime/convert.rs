//! Conversions between the model's types and the WIT bindings' types.

use super::bindings as wit;
use crate::model;

/// Nanoseconds since the epoch; the model guarantees the range.
pub fn nanos(ts: jiff::Timestamp) -> i64 {
    i64::try_from(ts.as_nanosecond()).unwrap_or(if ts.as_second() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

pub fn observation(obs: &model::Observation) -> wit::Observation {
    wit::Observation {
        dataset: wit::DatasetId {
            namespace: obs.dataset.namespace.clone(),
            name: obs.dataset.name.clone(),
        },
        observed_at: nanos(obs.observed_at),
        last_modified: obs.last_modified.map(nanos),
        row_count: obs.row_count,
        byte_size: obs.byte_size,
        schema: obs.schema.as_ref().map(|fields| {
            fields
                .iter()
                .map(|f| wit::SchemaField {
                    name: f.name.clone(),
                    data_type: f.data_type.clone(),
                    nullable: f.nullable,
                })
                .collect()
        }),
        columns: obs
            .columns
            .iter()
            .map(|(name, c)| wit::ColumnMetrics {
                column: name.clone(),
                null_count: c.null_count,
                distinct_count: c.distinct_count,
                sum: c.sum,
                count: c.count,
                min: c.min,
                max: c.max,
                quantiles: c
                    .quantiles
                    .0
                    .iter()
                    .map(|&(q, value)| wit::Quantile { q, value })
                    .collect(),
            })
            .collect(),
        partition: obs.partition.clone(),
        attributes: obs
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
    }
}

pub fn measurement(m: wit::Measurement) -> model::Measurement {
    model::Measurement {
        sli: m.sli,
        good: m.good,
        total: m.total,
        value: m.value,
        detail: m.detail,
    }
}
