//! `{{name}}`: good when a dataset has at least `min_rows` rows.

use dataslo_guest::prelude::*;

/// The config, from the SLO's `config:`. `deny_unknown_fields` turns a
/// misspelt key into invalid config instead of a silently ignored one.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct {{type}} {
    /// Fewest acceptable rows.
    pub min_rows: u64,
}

impl Policy for {{type}} {
    const NAME: &'static str = "{{name}}";
    const DESCRIPTION: &'static str = "Good when row_count >= min_rows. Emits the row count.";
    const SLIS: &'static [&'static str] = &["min_rows"];
    /// What `dataslo slo validate` and editors show of the config.
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["min_rows"],
  "properties": {
    "min_rows": {"type": "integer", "minimum": 0, "description": "fewest acceptable rows"}
  }
}"#;

    fn evaluate(&self, obs: &Observation, _ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let rows = obs.require_row_count()?;
        let detail = format!("{rows} rows, need {}", self.min_rows);
        Ok(vec![
            Measurement::check("min_rows", rows >= self.min_rows, detail).with_value(rows as f64),
        ])
    }
}

export_policy!({{type}});

#[cfg(test)]
mod tests {
    use super::*;
    use dataslo_guest::testing::Harness;

    #[test]
    fn a_misspelt_key_is_invalid_config() {
        let err = Harness::new(0).validate::<{{type}}>(r#"{"min_row": 1}"#);
        assert!(matches!(err, Err(PolicyError::InvalidConfig(_))), "{err:?}");
    }

    /// The same cases `dataslo test` runs in the sandbox, run natively.
    #[test]
    fn the_case_files_pass_natively() {
        dataslo_guest::testing::assert_cases_in::<{{type}}>(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests"
        ));
    }
}
