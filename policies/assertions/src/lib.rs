//! `assertions`: the pass rate of the data-quality assertions (tests) checked
//! on the observation (OpenLineage's `dataQualityAssertions`, dbt tests),
//! optionally only those of some names or columns.
//!
//! An observation with no assertion to consider is missing metadata, as the
//! other built-ins treat missing input: an evaluation error, neither good nor bad.

use dataslo_guest::prelude::*;

/// Config: `{}` (every assertion), `{"names": ["unique", "not_null"]}`,
/// `{"columns": ["id"]}`, or both filters.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct Assertions {
    /// Only assertions of these names, when given.
    #[serde(default)]
    pub names: Option<Vec<String>>,
    /// Only assertions on these columns, when given.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
}

/// Failed assertions named in the detail, at most.
const LISTED: usize = 10;

impl Assertions {
    fn considers(&self, a: &Assertion) -> bool {
        let named = self.names.as_ref().is_none_or(|n| n.contains(&a.name));
        let on_column = self.columns.as_ref().is_none_or(|cols| {
            a.column
                .as_ref()
                .is_some_and(|c| cols.iter().any(|x| x == c))
        });
        named && on_column
    }

    /// The field the missing-metadata error names: the filters, if any.
    fn wanted(&self) -> String {
        let mut field = String::from("assertions");
        if let Some(names) = &self.names {
            field.push_str(&format!(" named {}", names.join(" or ")));
        }
        if let Some(columns) = &self.columns {
            field.push_str(&format!(" on column {}", columns.join(" or ")));
        }
        field
    }
}

impl Policy for Assertions {
    const NAME: &'static str = "assertions";
    const DESCRIPTION: &'static str = "The pass rate of the observation's data-quality assertions, \
         optionally only those of some names or columns: good = passed, total = considered, \
         value = pass rate. No assertion to consider is missing metadata.";
    const SLIS: &'static [&'static str] = &["assertions"];
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "names": {
      "description": "only assertions of these names, e.g. unique, not_null",
      "type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1
    },
    "columns": {
      "description": "only assertions on these columns",
      "type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1
    }
  }
}"#;

    fn validate(&self) -> Result<(), PolicyError> {
        for (key, list) in [("names", &self.names), ("columns", &self.columns)] {
            match list {
                Some(list) if list.is_empty() => {
                    return Err(PolicyError::invalid_config(format!(
                        "assertions: {key} is empty; leave it out to take every assertion"
                    )));
                }
                Some(list) if list.iter().any(String::is_empty) => {
                    return Err(PolicyError::invalid_config(format!(
                        "assertions: {key} holds an empty name"
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn evaluate(&self, obs: &Observation, _ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let considered: Vec<&Assertion> = obs
            .assertions
            .iter()
            .filter(|a| self.considers(a))
            .collect();
        if considered.is_empty() {
            return Err(PolicyError::missing(self.wanted()));
        }
        let total = considered.len() as u64;
        let failed: Vec<String> = considered
            .iter()
            .filter(|a| !a.success)
            .map(|a| match &a.column {
                Some(column) => format!("{}({column})", a.name),
                None => a.name.clone(),
            })
            .collect();
        let passed = total - failed.len() as u64;
        let mut detail = format!("{passed} of {total} assertions passed");
        if !failed.is_empty() {
            detail.push_str("; failed: ");
            detail.push_str(
                &failed
                    .iter()
                    .take(LISTED)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            if failed.len() > LISTED {
                detail.push_str(&format!(" and {} more", failed.len() - LISTED));
            }
        }
        let pass_rate = fraction(passed, total).unwrap_or(0.0);
        Ok(vec![
            Measurement::ratio("assertions", passed, total, detail).with_value(pass_rate),
        ])
    }
}

export_policy!(Assertions);

#[cfg(test)]
mod tests {
    /// The cases `dataslo test policies/assertions` runs in the sandbox, run natively.
    #[test]
    fn the_case_files_pass_natively() {
        dataslo_guest::testing::assert_cases_in::<super::Assertions>(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests"
        ));
    }

    use super::*;
    use dataslo_guest::testing::Harness;

    fn checked(assertions: &[(&str, Option<&str>, bool)]) -> Observation {
        let mut obs = Observation::new("postgres://prod", "customers", 0);
        obs.assertions = assertions
            .iter()
            .map(|(name, column, ok)| Assertion::new(name, *column, *ok))
            .collect();
        obs
    }

    fn sample() -> Observation {
        checked(&[
            ("not_null", Some("id"), true),
            ("unique", Some("id"), false),
            ("accepted_values", Some("status"), false),
            ("row_count", None, true),
        ])
    }

    fn measure(cfg: &str, obs: &Observation) -> Measurement {
        let mut out = Harness::new(0).evaluate::<Assertions>(cfg, obs).unwrap();
        assert_eq!(out.len(), 1);
        out.remove(0)
    }

    #[test]
    fn every_assertion_counts_without_filters() {
        let m = measure("{}", &sample());
        assert_eq!((m.sli.as_str(), m.good, m.total), ("assertions", 2, 4));
        assert_eq!(m.value, Some(0.5));
        assert_eq!(
            m.detail,
            "2 of 4 assertions passed; failed: unique(id), accepted_values(status)"
        );
    }

    #[test]
    fn names_and_columns_filter_and_both_must_hold() {
        let by_name = measure(r#"{"names":["unique","not_null"]}"#, &sample());
        assert_eq!((by_name.good, by_name.total), (1, 2));
        let by_column = measure(r#"{"columns":["status"]}"#, &sample());
        assert_eq!((by_column.good, by_column.total), (0, 1));
        let both = measure(r#"{"names":["not_null"],"columns":["id"]}"#, &sample());
        assert_eq!((both.good, both.total, both.value), (1, 1, Some(1.0)));
    }

    #[test]
    fn an_assertion_on_no_column_is_left_out_by_a_column_filter() {
        let m = measure(r#"{"columns":["id"]}"#, &sample());
        assert_eq!(m.total, 2);
        assert_eq!(measure("{}", &sample()).total, 4);
    }

    #[test]
    fn no_assertion_to_consider_is_missing_metadata_naming_the_filter() {
        let h = Harness::new(0);
        assert_eq!(
            h.evaluate::<Assertions>("{}", &checked(&[])).unwrap_err(),
            PolicyError::missing("assertions")
        );
        assert_eq!(
            h.evaluate::<Assertions>(
                r#"{"names":["unique"],"columns":["email","phone"]}"#,
                &sample()
            )
            .unwrap_err(),
            PolicyError::missing("assertions named unique on column email or phone")
        );
    }

    #[test]
    fn the_detail_lists_at_most_ten_failures() {
        let many: Vec<_> = (0..12).map(|_| ("unique", Some("id"), false)).collect();
        let m = measure("{}", &checked(&many));
        assert_eq!((m.good, m.total, m.value), (0, 12, Some(0.0)));
        assert!(m.detail.ends_with("unique(id) and 2 more"), "{}", m.detail);
    }

    #[test]
    fn bad_configs_are_invalid() {
        let h = Harness::new(0);
        for bad in [
            r#"{"names":[]}"#,
            r#"{"columns":[]}"#,
            r#"{"names":[""]}"#,
            r#"{"names":"unique"}"#,
            r#"{"name":["unique"]}"#,
        ] {
            match h.validate::<Assertions>(bad) {
                Err(PolicyError::InvalidConfig(msg)) => {
                    assert!(msg.starts_with("assertions:"), "{bad}: {msg}")
                }
                other => panic!("{bad}: expected invalid config, got {other:?}"),
            }
        }
        assert_eq!(h.validate::<Assertions>("{}"), Ok(()));
    }
}
