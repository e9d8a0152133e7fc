//! Where an input is wrong: the file, the field as a path of the user's own
//! key names (`columns.order_id.distinct`; a list item by its index), and
//! the line, when the text has lines to count. One type for every reader
//! of observations: `eval`, `observe`, the spool, `POST /v1/observations`,
//! and the case files of `dataslo test`.

use serde::de::DeserializeOwned;
use std::fmt;

/// A value of an input that is not acceptable, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The file (`-` for standard input, `body` for a request).
    pub file: String,
    /// The field, as a dotted path; empty for the document as a whole.
    pub field: String,
    /// The line of the file, counting from 1, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for FieldError {}

impl FieldError {
    /// The same error, its field under `parent` (`observation`, `history[2]`).
    pub fn under(mut self, parent: &str) -> Self {
        self.field = join(parent, &self.field);
        self
    }
}

/// `parent.field`, without a dot before an index or after an empty part.
pub fn join(parent: &str, field: &str) -> String {
    match (parent.is_empty(), field.is_empty()) {
        (true, _) => field.to_string(),
        (_, true) => parent.to_string(),
        _ if field.starts_with('[') => format!("{parent}{field}"),
        _ => format!("{parent}.{field}"),
    }
}

/// The path serde_path_to_error tracked, empty for the root.
fn path_of(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." { String::new() } else { text }
}

/// Deserializes JSON `text` from `file`, whose first line is line
/// `first_line` of the file; an error names the field path and the line.
pub fn from_json<T: DeserializeOwned>(
    text: &str,
    file: &str,
    first_line: usize,
) -> Result<T, FieldError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let located = |field: String, error: serde_json::Error| {
        let line = (error.line() > 0).then(|| error.line() + first_line - 1);
        let message = error.to_string();
        let suffix = format!(" at line {} column {}", error.line(), error.column());
        FieldError {
            file: file.to_string(),
            field,
            line,
            reason: message
                .strip_suffix(&suffix)
                .unwrap_or(&message)
                .to_string(),
        }
    };
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = path_of(e.path());
        located(field, e.into_inner())
    })?;
    de.end().map_err(|e| located(String::new(), e))?;
    Ok(value)
}

/// Deserializes an already parsed `value` (a YAML document's part, read as
/// JSON values): an error names the field path; the caller finds the line.
pub fn from_value<T: DeserializeOwned>(
    value: &serde_json::Value,
    file: &str,
) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|e| FieldError {
        file: file.to_string(),
        field: path_of(e.path()),
        line: None,
        reason: e.into_inner().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Metrics {
        distinct_count: Option<u64>,
    }

    #[test]
    fn a_json_error_names_the_key_path_and_the_line_of_the_file() {
        let text = "{\n  \"a\": {\"distinct_count\": 1},\n  \"order_id\": {\"distinct\": 2}\n}";
        let e = from_json::<BTreeMap<String, Metrics>>(text, "x.json", 10).unwrap_err();
        assert_eq!(e.field, "order_id.distinct");
        assert_eq!(e.line, Some(12));
        assert!(e.reason.starts_with("unknown field `distinct`"), "{e}");
        assert!(!e.reason.contains("at line"), "{e}");
        assert!(
            e.to_string().starts_with("x.json:12: order_id.distinct: "),
            "{e}"
        );
    }

    #[test]
    fn indices_join_without_a_dot() {
        assert_eq!(join("history", "[2].row_count"), "history[2].row_count");
        assert_eq!(join("observation", ""), "observation");
        assert_eq!(join("", "row_count"), "row_count");
    }
}
