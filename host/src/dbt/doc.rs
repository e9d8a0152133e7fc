//! Reading an artifact's JSON with the path of each value, so that every
//! error names the file and the place.

use super::{Artifact, DbtError};
use jiff::Timestamp;
use serde_json::Value;

/// One artifact, parsed.
pub(super) struct Doc<'a> {
    /// The file, for errors.
    pub file: &'a str,
    /// Its top-level object.
    pub root: serde_json::Map<String, Value>,
}

impl<'a> Doc<'a> {
    /// Parses `artifact`, whose `metadata.dbt_schema_version`, when present,
    /// must be of `kind` (`manifest`, `sources`, `run-results`): a sources
    /// file given as the manifest is named as such.
    pub fn parse(artifact: Artifact<'a>, kind: &str) -> Result<Doc<'a>, DbtError> {
        let file = artifact.file;
        let value: Value = serde_json::from_str(artifact.text)
            .map_err(|e| error(file, "", format!("not JSON: {e}")))?;
        let Value::Object(root) = value else {
            return Err(error(
                file,
                "",
                format!("a dbt {kind} artifact is a JSON object"),
            ));
        };
        let doc = Doc { file, root };
        if let Some(version) = doc
            .root
            .get("metadata")
            .and_then(|m| m.get("dbt_schema_version"))
        {
            let path = "metadata.dbt_schema_version";
            let version = doc.str(version, path)?;
            let found = version.rsplit('/').nth(1).unwrap_or_default();
            if found != kind {
                return Err(error(
                    file,
                    path,
                    format!("{version:?} is a dbt {found:?} artifact, not a {kind:?} one"),
                ));
            }
        }
        Ok(doc)
    }

    /// An error at `path` of this file.
    pub fn error(&self, path: &str, reason: impl Into<String>) -> DbtError {
        error(self.file, path, reason.into())
    }

    /// `value`, which must be a string.
    pub fn str<'v>(&self, value: &'v Value, path: &str) -> Result<&'v str, DbtError> {
        value
            .as_str()
            .ok_or_else(|| self.error(path, format!("expected a string, found {}", kind(value))))
    }

    /// The member `key` of `object`, which must be there.
    pub fn member<'v>(
        &self,
        object: &'v Value,
        key: &str,
        path: &str,
    ) -> Result<&'v Value, DbtError> {
        let Value::Object(map) = object else {
            return Err(self.error(path, format!("expected an object, found {}", kind(object))));
        };
        map.get(key)
            .ok_or_else(|| self.error(&join(path, key), "missing"))
    }

    /// The string member `key` of `object`.
    pub fn str_member<'v>(
        &self,
        object: &'v Value,
        key: &str,
        path: &str,
    ) -> Result<&'v str, DbtError> {
        self.str(self.member(object, key, path)?, &join(path, key))
    }

    /// The top-level array `key`.
    pub fn array(&self, key: &str) -> Result<&Vec<Value>, DbtError> {
        match self.root.get(key) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => {
                Err(self.error(key, format!("expected an array, found {}", kind(other))))
            }
            None => Err(self.error(key, "missing")),
        }
    }

    /// `value` as a time: RFC 3339, or without an offset, which dbt writes
    /// in UTC.
    pub fn time(&self, value: &Value, path: &str) -> Result<Timestamp, DbtError> {
        let text = self.str(value, path)?;
        if let Ok(ts) = text.parse::<Timestamp>() {
            return Ok(ts);
        }
        text.parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| jiff::tz::TimeZone::UTC.to_timestamp(dt).ok())
            .ok_or_else(|| self.error(path, format!("{text:?} is not a time (RFC 3339)")))
    }

    /// The string member `key` of the top-level `metadata`, if any.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.root.get("metadata")?.get(key)?.as_str()
    }
}

/// An error at `path` of `file`.
pub(super) fn error(file: &str, path: &str, reason: String) -> DbtError {
    DbtError {
        file: file.into(),
        path: path.into(),
        reason,
    }
}

/// `path.key`, or `key` at the top.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.into()
    } else {
        format!("{path}.{key}")
    }
}

/// The member of an object keyed by a dbt id, which holds dots:
/// `nodes["model.shop.orders"]`.
pub(super) fn keyed(path: &str, id: &str) -> String {
    format!("{path}[{}]", Value::from(id))
}

/// What a JSON value is, for errors.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
