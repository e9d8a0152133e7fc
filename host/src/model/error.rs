use super::FieldError;
use thiserror::Error;

/// Input that does not fit the model. Every variant names where it came from.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The text is malformed, or a value does not fit the format: the file,
    /// the field path and the line.
    #[error(transparent)]
    Field(#[from] FieldError),
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
