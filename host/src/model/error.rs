use thiserror::Error;

/// Input that does not fit the model. Every variant names where it came from.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The JSON is malformed or does not match the format; serde's message names
    /// the field, line and column.
    #[error("{source_name}: {error}")]
    Json {
        /// The file (or `-` for standard input) the text came from.
        source_name: String,
        /// What serde found.
        error: serde_json::Error,
    },
    /// A value is well-formed JSON but not acceptable.
    #[error("{source_name}: {field}: {reason}")]
    Invalid {
        /// The file the text came from.
        source_name: String,
        /// The field, as a dotted path.
        field: String,
        /// Why it is not acceptable.
        reason: String,
    },
}
