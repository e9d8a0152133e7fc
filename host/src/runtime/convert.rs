//! Conversions between the model's types and the WIT bindings' types: the
//! newest contract's, and 0.1.0's, whose observation lacks 0.2.0's fields.

use super::bindings as wit;
use super::bindings::v0_1::dataslo::policy::types as old;
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
            .map(|(k, v)| (k.clone(), String::from(&**v)))
            .collect(),
        assertions: obs
            .assertions
            .iter()
            .map(|a| wit::Assertion {
                name: a.name.clone(),
                column: a.column.clone(),
                success: a.success,
            })
            .collect(),
        run_state: obs.run_state.map(run_state),
    }
}

fn run_state(state: model::RunState) -> wit::RunState {
    match state {
        model::RunState::Start => wit::RunState::Start,
        model::RunState::Running => wit::RunState::Running,
        model::RunState::Complete => wit::RunState::Complete,
        model::RunState::Abort => wit::RunState::Abort,
        model::RunState::Fail => wit::RunState::Fail,
        model::RunState::Other => wit::RunState::Other,
    }
}

/// The observation as 0.1.0 carries it: without assertions and run state.
pub fn observation_v0_1(obs: &model::Observation) -> old::Observation {
    let new = observation(obs);
    old::Observation {
        dataset: old::DatasetId {
            namespace: new.dataset.namespace,
            name: new.dataset.name,
        },
        observed_at: new.observed_at,
        last_modified: new.last_modified,
        row_count: new.row_count,
        byte_size: new.byte_size,
        schema: new.schema.map(|fields| {
            fields
                .into_iter()
                .map(|f| old::SchemaField {
                    name: f.name,
                    data_type: f.data_type,
                    nullable: f.nullable,
                })
                .collect()
        }),
        columns: new
            .columns
            .into_iter()
            .map(|c| old::ColumnMetrics {
                column: c.column,
                null_count: c.null_count,
                distinct_count: c.distinct_count,
                sum: c.sum,
                count: c.count,
                min: c.min,
                max: c.max,
                quantiles: c
                    .quantiles
                    .into_iter()
                    .map(|q| old::Quantile {
                        q: q.q,
                        value: q.value,
                    })
                    .collect(),
            })
            .collect(),
        partition: new.partition,
        attributes: new.attributes,
    }
}

pub fn info_v0_1(info: old::PolicyInfo) -> wit::PolicyInfo {
    wit::PolicyInfo {
        name: info.name,
        version: info.version,
        description: info.description,
        slis: info.slis,
        config_schema: info.config_schema,
    }
}

pub fn measurement_v0_1(m: old::Measurement) -> wit::Measurement {
    wit::Measurement {
        sli: m.sli,
        good: m.good,
        total: m.total,
        value: m.value,
        detail: m.detail,
    }
}

pub fn error_v0_1(error: old::PolicyError) -> wit::PolicyError {
    match error {
        old::PolicyError::InvalidConfig(m) => wit::PolicyError::InvalidConfig(m),
        old::PolicyError::MissingMetadata(m) => wit::PolicyError::MissingMetadata(m),
        old::PolicyError::Internal(m) => wit::PolicyError::Internal(m),
    }
}

pub fn level_v0_1(level: old::Level) -> wit::Level {
    match level {
        old::Level::Trace => wit::Level::Trace,
        old::Level::Debug => wit::Level::Debug,
        old::Level::Info => wit::Level::Info,
        old::Level::Warn => wit::Level::Warn,
        old::Level::Error => wit::Level::Error,
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
