//! Reading observations: accessors that turn an absent field into the
//! `missing-metadata` error naming it.

use crate::{
    Assertion, ColumnMetrics, DatasetId, Observation, PolicyError, RunState, SchemaField, Timestamp,
};

impl Observation {
    /// An observation of `namespace`/`name` at `observed_at`, with nothing else known.
    pub fn new(namespace: &str, name: &str, observed_at: Timestamp) -> Self {
        Observation {
            dataset: DatasetId {
                namespace: namespace.into(),
                name: name.into(),
            },
            observed_at,
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

    /// The assertions on `column` (all of them when `None`): (passed, total).
    pub fn assertion_counts(&self, column: Option<&str>) -> (u64, u64) {
        self.assertions
            .iter()
            .filter(|a| column.is_none() || a.column.as_deref() == column)
            .fold((0, 0), |(passed, total), a| {
                (passed + u64::from(a.success), total + 1)
            })
    }

    /// `last_modified`, or the missing-metadata error naming it.
    pub fn require_last_modified(&self) -> Result<Timestamp, PolicyError> {
        self.last_modified
            .ok_or_else(|| PolicyError::missing("last_modified"))
    }

    /// `row_count`, or the missing-metadata error naming it.
    pub fn require_row_count(&self) -> Result<u64, PolicyError> {
        self.row_count
            .ok_or_else(|| PolicyError::missing("row_count"))
    }

    /// The schema, or the missing-metadata error naming it.
    pub fn require_schema(&self) -> Result<&[SchemaField], PolicyError> {
        self.schema
            .as_deref()
            .ok_or_else(|| PolicyError::missing("schema"))
    }

    /// The metrics of `column`, if present.
    pub fn column(&self, column: &str) -> Option<&ColumnMetrics> {
        self.columns.iter().find(|c| c.column == column)
    }

    /// The value of attribute `key`, if present.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl ColumnMetrics {
    /// Metrics for `column` with nothing known yet.
    pub fn new(column: &str) -> Self {
        ColumnMetrics {
            column: column.into(),
            null_count: None,
            distinct_count: None,
            sum: None,
            count: None,
            min: None,
            max: None,
            quantiles: Vec::new(),
        }
    }
}

impl Assertion {
    /// An assertion `name`, on `column` if any, that passed or failed.
    pub fn new(name: &str, column: Option<&str>, success: bool) -> Self {
        Assertion {
            name: name.into(),
            column: column.map(str::to_string),
            success,
        }
    }
}

impl RunState {
    /// The state in lower case, as in the observation JSON: `complete`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Start => "start",
            RunState::Running => "running",
            RunState::Complete => "complete",
            RunState::Abort => "abort",
            RunState::Fail => "fail",
            RunState::Other => "other",
        }
    }
}

impl SchemaField {
    /// A field of `data_type`, nullability unknown.
    pub fn new(name: &str, data_type: &str) -> Self {
        SchemaField {
            name: name.into(),
            data_type: data_type.into(),
            nullable: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertions_are_counted_per_column_or_all_together() {
        let mut obs = Observation::new("n", "d", 0);
        obs.assertions = vec![
            Assertion::new("not_null", Some("id"), true),
            Assertion::new("unique", Some("id"), false),
            Assertion::new("row_count", None, true),
        ];
        assert_eq!(obs.assertion_counts(None), (2, 3));
        assert_eq!(obs.assertion_counts(Some("id")), (1, 2));
        assert_eq!(obs.assertion_counts(Some("email")), (0, 0));
    }

    #[test]
    fn a_run_state_reads_as_in_the_observation_json() {
        assert_eq!(RunState::Complete.as_str(), "complete");
        assert_eq!(RunState::Fail.as_str(), "fail");
    }
}
