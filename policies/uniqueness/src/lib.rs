//! `uniqueness`: per column, the fraction of non-null values that repeat an
//! earlier one, from the column metrics' `distinct_count`. Nulls are left out,
//! as `distinct_count` leaves them out: good = distinct values, total =
//! non-null values; the value is the duplicate fraction, judged against
//! `max_duplicate_fraction` in the detail.

use dataslo_guest::prelude::*;

/// Config: `{"column": "id", "max_duplicate_fraction": 0}` or
/// `{"columns": ["id", "email"], "max_duplicate_fraction": 0.01}`.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct Uniqueness {
    /// One column to check.
    pub column: Option<String>,
    /// Several columns to check.
    pub columns: Option<Vec<String>>,
    /// The largest acceptable duplicate fraction, in [0, 1].
    pub max_duplicate_fraction: f64,
}

impl Uniqueness {
    /// The columns to check, whichever way the config names them.
    fn names(&self) -> Result<Vec<&str>, PolicyError> {
        match (&self.column, &self.columns) {
            (Some(one), None) if !one.is_empty() => Ok(vec![one.as_str()]),
            (Some(_), None) => Err(PolicyError::invalid_config("uniqueness: column is empty")),
            (None, Some(many)) if many.is_empty() => {
                Err(PolicyError::invalid_config("uniqueness: columns is empty"))
            }
            (None, Some(many)) => Ok(many.iter().map(String::as_str).collect()),
            (Some(_), Some(_)) => Err(PolicyError::invalid_config(
                "uniqueness: give column or columns, not both",
            )),
            (None, None) => Err(PolicyError::invalid_config(
                "uniqueness: give column (a name) or columns (a list of names)",
            )),
        }
    }
}

impl Policy for Uniqueness {
    const NAME: &'static str = "uniqueness";
    const DESCRIPTION: &'static str = "One measurement per column: good = distinct non-null values, \
         total = non-null values, value = duplicate fraction. SLI names are uniqueness:<column>.";
    const SLIS: &'static [&'static str] = &["uniqueness:<column>"];
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["max_duplicate_fraction"],
  "properties": {
    "column": {"type": "string", "minLength": 1},
    "columns": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "max_duplicate_fraction": {"type": "number", "minimum": 0, "maximum": 1}
  },
  "oneOf": [{"required": ["column"]}, {"required": ["columns"]}]
}"#;

    fn validate(&self) -> Result<(), PolicyError> {
        if !(0.0..=1.0).contains(&self.max_duplicate_fraction) {
            return Err(PolicyError::invalid_config(format!(
                "uniqueness: max_duplicate_fraction must be in [0, 1], got {}",
                self.max_duplicate_fraction
            )));
        }
        self.names().map(drop)
    }

    fn evaluate(&self, obs: &Observation, _ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        self.names()?
            .into_iter()
            .map(|name| self.measure(obs, name))
            .collect()
    }
}

impl Uniqueness {
    fn measure(&self, obs: &Observation, name: &str) -> Result<Measurement, PolicyError> {
        let metrics = obs
            .column(name)
            .ok_or_else(|| PolicyError::missing(format!("columns.{name}")))?;
        let distinct = metrics
            .distinct_count
            .ok_or_else(|| PolicyError::missing(format!("columns.{name}.distinct_count")))?;
        let nulls = metrics
            .null_count
            .ok_or_else(|| PolicyError::missing(format!("columns.{name}.null_count")))?;
        let counted = metrics
            .count
            .or(obs.row_count)
            .ok_or_else(|| PolicyError::missing(format!("columns.{name}.count or row_count")))?;
        let values = counted.saturating_sub(nulls);
        // Sources that estimate distinct counts may overshoot: never below zero duplicates.
        let distinct = distinct.min(values);
        let duplicates = values - distinct;
        let duplicate_fraction = fraction(duplicates, values).unwrap_or(0.0);
        let verdict = if duplicate_fraction <= self.max_duplicate_fraction {
            "within"
        } else {
            "above"
        };
        let detail = format!(
            "{name}: {distinct} distinct in {values} non-null values, {duplicates} duplicates \
             ({:.4}%), {verdict} max {}%",
            duplicate_fraction * 100.0,
            self.max_duplicate_fraction * 100.0
        );
        Ok(
            Measurement::ratio(format!("uniqueness:{name}"), distinct, values, detail)
                .with_value(duplicate_fraction),
        )
    }
}

export_policy!(Uniqueness);

#[cfg(test)]
mod tests {
    /// The cases `dataslo test policies/uniqueness` runs in the sandbox, run natively.
    #[test]
    fn the_case_files_pass_natively() {
        dataslo_guest::testing::assert_cases_in::<super::Uniqueness>(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests"
        ));
    }

    use super::*;
    use dataslo_guest::testing::Harness;

    /// A column's name, null_count, distinct_count and count.
    type Col<'a> = (&'a str, Option<u64>, Option<u64>, Option<u64>);

    /// A table of `rows` rows and these columns.
    fn table(rows: Option<u64>, cols: &[Col<'_>]) -> Observation {
        let mut obs = Observation::new("postgres://prod", "users", 0);
        obs.row_count = rows;
        for (name, nulls, distinct, count) in cols {
            let mut c = ColumnMetrics::new(name);
            c.null_count = *nulls;
            c.distinct_count = *distinct;
            c.count = *count;
            obs.columns.push(c);
        }
        obs
    }

    fn one(cfg: &str, obs: &Observation) -> Measurement {
        let mut out = Harness::new(0).evaluate::<Uniqueness>(cfg, obs).unwrap();
        assert_eq!(out.len(), 1);
        out.remove(0)
    }

    #[test]
    fn a_unique_column_has_no_duplicates() {
        let obs = table(Some(1000), &[("id", Some(0), Some(1000), None)]);
        let m = one(r#"{"column":"id","max_duplicate_fraction":0}"#, &obs);
        assert_eq!(
            (m.sli.as_str(), m.good, m.total),
            ("uniqueness:id", 1000, 1000)
        );
        assert_eq!(m.value, Some(0.0));
        assert!(m.detail.contains("within"), "{}", m.detail);
    }

    #[test]
    fn nulls_are_neither_duplicates_nor_values() {
        // 100 rows, 20 null, 60 distinct among the 80 others: 20 duplicates of 80.
        let obs = table(Some(100), &[("email", Some(20), Some(60), None)]);
        let m = one(r#"{"column":"email","max_duplicate_fraction":0.1}"#, &obs);
        assert_eq!((m.good, m.total), (60, 80));
        assert_eq!(m.value, Some(0.25));
        assert!(m.detail.contains("above max 10%"), "{}", m.detail);
    }

    #[test]
    fn the_column_count_wins_over_the_row_count() {
        let obs = table(Some(1000), &[("sampled", Some(0), Some(40), Some(50))]);
        let m = one(r#"{"column":"sampled","max_duplicate_fraction":0}"#, &obs);
        assert_eq!((m.good, m.total), (40, 50));
        let no_rows = table(None, &[("sampled", Some(0), Some(40), Some(50))]);
        assert_eq!(
            one(
                r#"{"column":"sampled","max_duplicate_fraction":0}"#,
                &no_rows
            )
            .total,
            50
        );
    }

    #[test]
    fn a_distinct_count_above_the_values_is_clamped() {
        let obs = table(Some(10), &[("a", Some(1), Some(10), None)]);
        let m = one(r#"{"column":"a","max_duplicate_fraction":0}"#, &obs);
        assert_eq!((m.good, m.total, m.value), (9, 9, Some(0.0)));
    }

    #[test]
    fn an_all_null_column_has_nothing_to_repeat() {
        let obs = table(Some(5), &[("a", Some(5), Some(0), None)]);
        let m = one(r#"{"column":"a","max_duplicate_fraction":0}"#, &obs);
        assert_eq!((m.good, m.total, m.value), (0, 0, Some(0.0)));
    }

    #[test]
    fn columns_give_one_measurement_each_in_config_order() {
        let obs = table(
            Some(10),
            &[
                ("a", Some(0), Some(10), None),
                ("b", Some(0), Some(5), None),
            ],
        );
        let out = Harness::new(0)
            .evaluate::<Uniqueness>(r#"{"columns":["b","a"],"max_duplicate_fraction":0}"#, &obs)
            .unwrap();
        let got: Vec<_> = out.iter().map(|m| (m.sli.as_str(), m.value)).collect();
        assert_eq!(
            got,
            [("uniqueness:b", Some(0.5)), ("uniqueness:a", Some(0.0))]
        );
    }

    #[test]
    fn a_column_missing_a_figure_is_missing_metadata_naming_it() {
        let h = Harness::new(0);
        let cfg = r#"{"column":"id","max_duplicate_fraction":0}"#;
        let cases = [
            (table(Some(5), &[]), "columns.id"),
            (
                table(Some(5), &[("id", Some(0), None, None)]),
                "columns.id.distinct_count",
            ),
            (
                table(Some(5), &[("id", None, Some(5), None)]),
                "columns.id.null_count",
            ),
            (
                table(None, &[("id", Some(0), Some(5), None)]),
                "columns.id.count or row_count",
            ),
        ];
        for (obs, field) in cases {
            assert_eq!(
                h.evaluate::<Uniqueness>(cfg, &obs).unwrap_err(),
                PolicyError::missing(field)
            );
        }
    }

    #[test]
    fn bad_configs_are_invalid() {
        let h = Harness::new(0);
        for bad in [
            r#"{"column":"a"}"#,
            r#"{"max_duplicate_fraction":0}"#,
            r#"{"column":"a","columns":["b"],"max_duplicate_fraction":0}"#,
            r#"{"columns":[],"max_duplicate_fraction":0}"#,
            r#"{"column":"","max_duplicate_fraction":0}"#,
            r#"{"column":"a","max_duplicate_fraction":-0.1}"#,
            r#"{"column":"a","max_duplicate_fraction":1.5}"#,
            r#"{"column":"a","max_duplicate_fraction":0,"unique":true}"#,
        ] {
            match h.validate::<Uniqueness>(bad) {
                Err(PolicyError::InvalidConfig(msg)) => {
                    assert!(msg.starts_with("uniqueness:"), "{bad}: {msg}")
                }
                other => panic!("{bad}: expected invalid config, got {other:?}"),
            }
        }
    }

    #[test]
    fn describe_has_a_json_schema_of_the_config() {
        let info = dataslo_guest::export::info::<Uniqueness>();
        let schema: dataslo_guest::serde_json::Value =
            dataslo_guest::serde_json::from_str(&info.config_schema).unwrap();
        assert_eq!(schema["required"][0], "max_duplicate_fraction");
    }
}
