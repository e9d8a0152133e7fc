//! `schema-drift`: good when the schema matches an expected one, or the schema
//! of the newest earlier observation (`mode: "previous"`). The detail lists
//! added, removed and retyped fields. Types compare case-insensitively.

use dataslo_guest::prelude::*;
use std::collections::BTreeMap;

/// Config: `{"expected": {"id": "BIGINT", "email": "TEXT"}}`, or
/// `{"mode": "previous"}`. `allow_added: true` tolerates new fields.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct SchemaDrift {
    /// Field name to type.
    pub expected: Option<BTreeMap<String, String>>,
    /// `"previous"`: compare with the newest earlier observation with a schema.
    pub mode: Option<Mode>,
    /// Whether added fields are acceptable. Default false.
    #[serde(default)]
    pub allow_added: bool,
}

/// Where the reference schema comes from.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(crate = "dataslo_guest::serde", rename_all = "lowercase")]
pub enum Mode {
    /// The newest earlier observation.
    Previous,
}

/// How many earlier observations to search for one with a schema.
const HISTORY_DEPTH: u32 = 16;

/// The differences between a reference schema and an observed one.
#[derive(Debug, Default, PartialEq)]
pub struct Drift {
    /// Fields observed but not expected, with their types.
    pub added: Vec<(String, String)>,
    /// Fields expected but not observed.
    pub removed: Vec<String>,
    /// Fields whose type changed: name, expected type, observed type.
    pub retyped: Vec<(String, String, String)>,
}

impl Drift {
    /// Compares `observed` against `reference` (both name → type).
    pub fn between(
        reference: &BTreeMap<String, String>,
        observed: &BTreeMap<String, String>,
    ) -> Self {
        let mut drift = Drift::default();
        for (name, want) in reference {
            match observed.get(name) {
                None => drift.removed.push(name.clone()),
                Some(got) if !got.eq_ignore_ascii_case(want) => {
                    drift
                        .retyped
                        .push((name.clone(), want.clone(), got.clone()))
                }
                Some(_) => {}
            }
        }
        for (name, got) in observed {
            if !reference.contains_key(name) {
                drift.added.push((name.clone(), got.clone()));
            }
        }
        drift
    }

    fn changes(&self, allow_added: bool) -> usize {
        self.removed.len() + self.retyped.len() + if allow_added { 0 } else { self.added.len() }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            let list: Vec<_> = self.added.iter().map(|(n, t)| format!("{n} {t}")).collect();
            parts.push(format!("added: {}", list.join(", ")));
        }
        if !self.removed.is_empty() {
            parts.push(format!("removed: {}", self.removed.join(", ")));
        }
        if !self.retyped.is_empty() {
            let list: Vec<_> = self
                .retyped
                .iter()
                .map(|(n, a, b)| format!("{n} {a} -> {b}"))
                .collect();
            parts.push(format!("retyped: {}", list.join(", ")));
        }
        if parts.is_empty() {
            "no drift".into()
        } else {
            parts.join("; ")
        }
    }
}

fn as_map(fields: &[SchemaField]) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|f| (f.name.clone(), f.data_type.clone()))
        .collect()
}

impl Policy for SchemaDrift {
    const NAME: &'static str = "schema-drift";
    const DESCRIPTION: &'static str = "Good when the schema matches `expected`, or the previous \
         observation's schema with mode \"previous\". The detail lists added, removed and retyped fields.";
    const SLIS: &'static [&'static str] = &["schema_drift"];
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "expected": {"type": "object", "additionalProperties": {"type": "string"},
                 "description": "field name to type"},
    "mode": {"const": "previous"},
    "allow_added": {"type": "boolean", "default": false}
  },
  "oneOf": [{"required": ["expected"]}, {"required": ["mode"]}]
}"#;

    fn validate(&self) -> Result<(), PolicyError> {
        match (&self.expected, &self.mode) {
            (Some(_), None) | (None, Some(Mode::Previous)) => Ok(()),
            (Some(_), Some(_)) => Err(PolicyError::invalid_config(
                "schema-drift: give either expected or mode, not both",
            )),
            (None, None) => Err(PolicyError::invalid_config(
                "schema-drift: give expected (field -> type) or mode: \"previous\"",
            )),
        }
    }

    fn evaluate(&self, obs: &Observation, ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let observed = as_map(obs.require_schema()?);
        let reference = match &self.expected {
            Some(expected) => expected.clone(),
            None => {
                // The previous observation nearly always has a schema: ask for
                // it alone first, since every observation asked for is copied in.
                let earlier = ctx
                    .history(1)
                    .into_iter()
                    .find_map(|o| o.schema)
                    .or_else(|| {
                        ctx.history(HISTORY_DEPTH)
                            .into_iter()
                            .find_map(|o| o.schema)
                    });
                match earlier {
                    Some(fields) => as_map(&fields),
                    None => {
                        let detail =
                            "no earlier observation with a schema: this one is the baseline";
                        return Ok(vec![
                            Measurement::check("schema_drift", true, detail).with_value(0.0),
                        ]);
                    }
                }
            }
        };
        let drift = Drift::between(&reference, &observed);
        let changes = drift.changes(self.allow_added);
        Ok(vec![
            Measurement::check("schema_drift", changes == 0, drift.describe())
                .with_value(changes as f64),
        ])
    }
}

export_policy!(SchemaDrift);

#[cfg(test)]
mod tests {
    /// The cases `dataslo test policies/schema-drift` runs in the sandbox, run natively.
    #[test]
    fn the_case_files_pass_natively() {
        dataslo_guest::testing::assert_cases_in::<super::SchemaDrift>(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests"
        ));
    }

    use super::*;
    use dataslo_guest::testing::Harness;

    fn with_schema(fields: &[(&str, &str)]) -> Observation {
        let mut obs = Observation::new("postgres://prod", "orders", 0);
        obs.schema = Some(fields.iter().map(|(n, t)| SchemaField::new(n, t)).collect());
        obs
    }

    #[test]
    fn matching_expected_schema_is_good_ignoring_type_case() {
        let cfg = r#"{"expected":{"id":"BIGINT","email":"text"}}"#;
        let obs = with_schema(&[("id", "bigint"), ("email", "TEXT")]);
        let out = Harness::new(0).evaluate::<SchemaDrift>(cfg, &obs).unwrap();
        assert!(out[0].is_good());
        assert_eq!(out[0].detail, "no drift");
    }

    #[test]
    fn detail_lists_added_removed_and_retyped_fields() {
        let cfg = r#"{"expected":{"id":"BIGINT","email":"TEXT","name":"TEXT"}}"#;
        let obs = with_schema(&[("id", "TEXT"), ("email", "TEXT"), ("phone", "TEXT")]);
        let out = Harness::new(0).evaluate::<SchemaDrift>(cfg, &obs).unwrap();
        assert_eq!((out[0].good, out[0].value), (0, Some(3.0)));
        assert_eq!(
            out[0].detail,
            "added: phone TEXT; removed: name; retyped: id BIGINT -> TEXT"
        );
    }

    #[test]
    fn allow_added_tolerates_new_fields_only() {
        let cfg = r#"{"expected":{"id":"BIGINT"},"allow_added":true}"#;
        let h = Harness::new(0);
        assert!(
            h.evaluate::<SchemaDrift>(cfg, &with_schema(&[("id", "BIGINT"), ("x", "INT")]))
                .unwrap()[0]
                .is_good()
        );
        assert!(
            !h.evaluate::<SchemaDrift>(cfg, &with_schema(&[("x", "INT")]))
                .unwrap()[0]
                .is_good()
        );
    }

    #[test]
    fn previous_mode_compares_with_the_newest_earlier_schema() {
        let mut no_schema = Observation::new("postgres://prod", "orders", 0);
        no_schema.schema = None;
        let h = Harness::new(0).with_history(vec![
            no_schema,
            with_schema(&[("id", "BIGINT"), ("total", "NUMERIC")]),
            with_schema(&[("id", "INT")]),
        ]);
        let obs = with_schema(&[("id", "BIGINT"), ("total", "FLOAT")]);
        let out = h
            .evaluate::<SchemaDrift>(r#"{"mode":"previous"}"#, &obs)
            .unwrap();
        assert_eq!(out[0].detail, "retyped: total NUMERIC -> FLOAT");
    }

    #[test]
    fn previous_mode_without_history_is_a_good_baseline() {
        let out = Harness::new(0)
            .evaluate::<SchemaDrift>(r#"{"mode":"previous"}"#, &with_schema(&[("id", "INT")]))
            .unwrap();
        assert!(out[0].is_good());
        assert!(out[0].detail.contains("baseline"));
    }

    #[test]
    fn missing_schema_is_missing_metadata() {
        let obs = Observation::new("postgres://prod", "orders", 0);
        let err = Harness::new(0)
            .evaluate::<SchemaDrift>(r#"{"mode":"previous"}"#, &obs)
            .unwrap_err();
        assert_eq!(err, PolicyError::missing("schema"));
    }

    #[test]
    fn config_needs_exactly_one_of_expected_and_mode() {
        let h = Harness::new(0);
        for bad in [
            "{}",
            r#"{"mode":"latest"}"#,
            r#"{"expected":{},"mode":"previous"}"#,
            r#"{"expected":{"a":1}}"#,
        ] {
            assert!(
                matches!(
                    h.validate::<SchemaDrift>(bad),
                    Err(PolicyError::InvalidConfig(_))
                ),
                "{bad}"
            );
        }
    }
}
