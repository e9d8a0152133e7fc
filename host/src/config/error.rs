//! Why a config cannot be used: the file, and the field that is wrong.

/// The config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable.
    #[error("cannot read {file}: {error}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        error: std::io::Error,
    },
    /// Not valid TOML, or a key or value that is not accepted.
    #[error("{file}: {error}")]
    Parse {
        /// The file.
        file: String,
        /// toml's message, with line and column.
        error: String,
    },
    /// Parsed, but refused by [`Config::validate`](super::Config::validate).
    #[error("{file}: {field}: {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// The field, as a path: `engine.memory_mib`, `tenants[2].token_sha256[0]`.
        field: String,
        /// Why.
        reason: String,
    },
}

/// A value [`Config::validate`](super::Config::validate) refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// The field, as a path: `engine.memory_mib`, `tenants[2].token_sha256[0]`.
    pub field: String,
    /// Why, with the value when it is no secret.
    pub reason: String,
}

impl ValidationError {
    pub(super) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
