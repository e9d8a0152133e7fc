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
    let mut record = empty_observation();
    observation_into(obs, &mut record);
    record
}

/// A record with nothing in it, allocating nothing.
pub fn empty_observation() -> wit::Observation {
    wit::Observation {
        dataset: wit::DatasetId {
            namespace: String::new(),
            name: String::new(),
        },
        observed_at: 0,
        last_modified: None,
        row_count: None,
        byte_size: None,
        schema: None,
        columns: Vec::new(),
        partition: None,
        attributes: Vec::new(),
        assertions: Vec::new(),
        run_state: None,
    }
}

/// Writes `obs` over `record`, reusing its strings' and lists' allocations:
/// a record kept from the previous call is refilled without allocating when
/// the observations have the same shape (the per-call `convert` was about
/// thirty allocations and frees).
pub fn observation_into(obs: &model::Observation, record: &mut wit::Observation) {
    record.dataset.namespace.clone_from(&obs.dataset.namespace);
    record.dataset.name.clone_from(&obs.dataset.name);
    record.observed_at = nanos(obs.observed_at);
    record.last_modified = obs.last_modified.map(nanos);
    record.row_count = obs.row_count;
    record.byte_size = obs.byte_size;
    match &obs.schema {
        None => record.schema = None,
        Some(fields) => refill(
            record.schema.get_or_insert_with(Vec::new),
            fields,
            || wit::SchemaField {
                name: String::new(),
                data_type: String::new(),
                nullable: None,
            },
            |to, f| {
                to.name.clone_from(&f.name);
                to.data_type.clone_from(&f.data_type);
                to.nullable = f.nullable;
            },
        ),
    }
    refill(
        &mut record.columns,
        &obs.columns,
        || wit::ColumnMetrics {
            column: String::new(),
            null_count: None,
            distinct_count: None,
            sum: None,
            count: None,
            min: None,
            max: None,
            quantiles: Vec::new(),
        },
        |to, (name, c)| {
            to.column.clone_from(name);
            to.null_count = c.null_count;
            to.distinct_count = c.distinct_count;
            to.sum = c.sum;
            to.count = c.count;
            to.min = c.min;
            to.max = c.max;
            to.quantiles.clear();
            (to.quantiles).extend(
                c.quantiles
                    .0
                    .iter()
                    .map(|&(q, value)| wit::Quantile { q, value }),
            );
        },
    );
    record.partition.clone_from(&obs.partition);
    refill(
        &mut record.attributes,
        &obs.attributes,
        || (String::new(), String::new()),
        |to, (k, v)| {
            to.0.clone_from(k);
            to.1.clear();
            to.1.push_str(v);
        },
    );
    refill(
        &mut record.assertions,
        &obs.assertions,
        || wit::Assertion {
            name: String::new(),
            column: None,
            success: false,
        },
        |to, a| {
            to.name.clone_from(&a.name);
            to.column.clone_from(&a.column);
            to.success = a.success;
        },
    );
    record.run_state = obs.run_state.map(run_state);
}

/// Sets `list` to one entry per item of `from`: existing entries are
/// overwritten in place, missing ones made by `blank`, extra ones dropped.
fn refill<T, S>(
    list: &mut Vec<T>,
    from: impl IntoIterator<Item = S>,
    blank: impl Fn() -> T,
    set: impl Fn(&mut T, S),
) {
    let mut n = 0;
    for item in from {
        if n == list.len() {
            list.push(blank());
        }
        set(&mut list[n], item);
        n += 1;
    }
    list.truncate(n);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> model::Observation {
        crate::model::parse_observation(text, "test.json").expect("parses")
    }

    #[test]
    fn a_record_refilled_from_a_larger_observation_equals_a_fresh_conversion() {
        let large = parse(
            r#"{"dataset":{"namespace":"postgres://prod:5432","name":"analytics.orders"},
                "observed_at":"2026-11-26T08:00:00Z","row_count":5,"partition":"ds=1",
                "schema":[{"name":"a","type":"INT"},{"name":"b","type":"TEXT","nullable":true}],
                "columns":{"a":{"null_count":1,"quantiles":{"0.5":2.0,"0.9":3.0}},"b":{"min":1}},
                "attributes":{"owner":"x","team":"y"},
                "assertions":[{"name":"not_null","column":"a","success":true}]}"#,
        );
        let small = parse(
            r#"{"dataset":{"namespace":"s3://b","name":"t"},"observed_at":"2026-11-26T09:00:00Z",
                "columns":{"z":{"max":9}},"attributes":{"k":"v"}}"#,
        );
        let mut record = observation(&large);
        for obs in [&small, &large, &small] {
            observation_into(obs, &mut record);
            assert_eq!(format!("{record:?}"), format!("{:?}", observation(obs)));
        }
    }
}
