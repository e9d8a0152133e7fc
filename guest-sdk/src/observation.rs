//! Reading observations: accessors that turn an absent field into the
//! `missing-metadata` error naming it.

use crate::{ColumnMetrics, DatasetId, Observation, PolicyError, SchemaField, Timestamp};

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
        }
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
