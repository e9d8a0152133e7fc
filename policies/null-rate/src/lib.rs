//! `null-rate`: per column, good = non-null rows and total = rows; the value is
//! the null fraction, judged against `max_null_fraction` in the detail.

use dataslo_guest::prelude::*;

/// Config: `{"columns": ["email", "id"], "max_null_fraction": 0.01}` or
/// `{"columns": "*", "max_null_fraction": 0}`.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct NullRate {
    /// Which columns to check.
    pub columns: Columns,
    /// The largest acceptable null fraction, in [0, 1].
    pub max_null_fraction: f64,
}

/// Column names, or `"*"` for every column with a null count.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", untagged)]
pub enum Columns {
    /// `"*"`.
    All(AllColumns),
    /// Named columns.
    Named(Vec<String>),
}

/// The literal `"*"`.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde")]
pub enum AllColumns {
    /// Every column.
    #[serde(rename = "*")]
    All,
}

impl Policy for NullRate {
    const NAME: &'static str = "null-rate";
    const DESCRIPTION: &'static str = "One measurement per column: good = non-null rows, total = rows, \
         value = null fraction. SLI names are null_rate:<column>.";
    const SLIS: &'static [&'static str] = &["null_rate:<column>"];
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["columns", "max_null_fraction"],
  "properties": {
    "columns": {
      "oneOf": [
        {"const": "*"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1}
      ]
    },
    "max_null_fraction": {"type": "number", "minimum": 0, "maximum": 1}
  }
}"#;

    fn validate(&self) -> Result<(), PolicyError> {
        if !(0.0..=1.0).contains(&self.max_null_fraction) {
            return Err(PolicyError::invalid_config(format!(
                "null-rate: max_null_fraction must be in [0, 1], got {}",
                self.max_null_fraction
            )));
        }
        if matches!(&self.columns, Columns::Named(names) if names.is_empty()) {
            return Err(PolicyError::invalid_config("null-rate: columns is empty"));
        }
        Ok(())
    }

    fn evaluate(&self, obs: &Observation, ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let rows = obs.require_row_count()?;
        let mut out = Vec::new();
        match &self.columns {
            Columns::Named(names) => {
                for name in names {
                    let metrics = obs
                        .column(name)
                        .ok_or_else(|| PolicyError::missing(format!("columns.{name}")))?;
                    let nulls = metrics.null_count.ok_or_else(|| {
                        PolicyError::missing(format!("columns.{name}.null_count"))
                    })?;
                    out.push(self.measure(name, nulls, rows));
                }
            }
            Columns::All(AllColumns::All) => {
                for metrics in &obs.columns {
                    match metrics.null_count {
                        Some(nulls) => out.push(self.measure(&metrics.column, nulls, rows)),
                        None => ctx.log(
                            Level::Debug,
                            &format!("{}: no null count, skipped", metrics.column),
                        ),
                    }
                }
                if out.is_empty() {
                    return Err(PolicyError::missing("columns.*.null_count"));
                }
            }
        }
        Ok(out)
    }
}

impl NullRate {
    fn measure(&self, column: &str, nulls: u64, rows: u64) -> Measurement {
        let nulls = nulls.min(rows);
        let null_fraction = fraction(nulls, rows).unwrap_or(0.0);
        let verdict = if null_fraction <= self.max_null_fraction {
            "within"
        } else {
            "above"
        };
        let detail = format!(
            "{column}: {nulls} nulls in {rows} rows ({:.4}%), {verdict} max {}%",
            null_fraction * 100.0,
            self.max_null_fraction * 100.0
        );
        Measurement::ratio(format!("null_rate:{column}"), rows - nulls, rows, detail)
            .with_value(null_fraction)
    }
}

export_policy!(NullRate);

#[cfg(test)]
mod tests {
    /// The cases `dataslo test policies/null-rate` runs in the sandbox, run natively.
    #[test]
    fn the_case_files_pass_natively() {
        dataslo_guest::testing::assert_cases_in::<super::NullRate>(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests"
        ));
    }

    use super::*;
    use dataslo_guest::testing::Harness;

    fn table(rows: Option<u64>, nulls: &[(&str, Option<u64>)]) -> Observation {
        let mut obs = Observation::new("postgres://prod", "users", 0);
        obs.row_count = rows;
        for (name, n) in nulls {
            let mut c = ColumnMetrics::new(name);
            c.null_count = *n;
            obs.columns.push(c);
        }
        obs
    }

    #[test]
    fn named_columns_give_one_ratio_each() {
        let obs = table(
            Some(1000),
            &[("email", Some(10)), ("id", Some(0)), ("bio", Some(900))],
        );
        let cfg = r#"{"columns":["email","id"],"max_null_fraction":0.05}"#;
        let out = Harness::new(0).evaluate::<NullRate>(cfg, &obs).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(
            (out[0].sli.as_str(), out[0].good, out[0].total),
            ("null_rate:email", 990, 1000)
        );
        assert_eq!(out[0].value, Some(0.01));
        assert!(out[0].detail.contains("within"), "{}", out[0].detail);
        assert_eq!((out[1].good, out[1].total), (1000, 1000));
    }

    #[test]
    fn star_takes_every_column_with_a_null_count() {
        let obs = table(Some(100), &[("a", Some(50)), ("b", None), ("c", Some(1))]);
        let h = Harness::new(0);
        let out = h
            .evaluate::<NullRate>(r#"{"columns":"*","max_null_fraction":0.1}"#, &obs)
            .unwrap();
        let slis: Vec<_> = out.iter().map(|m| m.sli.as_str()).collect();
        assert_eq!(slis, ["null_rate:a", "null_rate:c"]);
        assert!(out[0].detail.contains("above"), "{}", out[0].detail);
        assert_eq!(h.logs().len(), 1);
    }

    #[test]
    fn a_null_count_above_the_row_count_is_clamped() {
        let obs = table(Some(10), &[("a", Some(11))]);
        let out = Harness::new(0)
            .evaluate::<NullRate>(r#"{"columns":["a"],"max_null_fraction":0}"#, &obs)
            .unwrap();
        assert_eq!((out[0].good, out[0].total), (0, 10));
    }

    #[test]
    fn an_empty_table_has_no_nulls() {
        let obs = table(Some(0), &[("a", Some(0))]);
        let out = Harness::new(0)
            .evaluate::<NullRate>(r#"{"columns":["a"],"max_null_fraction":0}"#, &obs)
            .unwrap();
        assert_eq!((out[0].good, out[0].total, out[0].value), (0, 0, Some(0.0)));
    }

    #[test]
    fn missing_rows_column_or_null_count_name_the_field() {
        let h = Harness::new(0);
        let cfg = r#"{"columns":["email"],"max_null_fraction":0.1}"#;
        let cases = [
            (table(None, &[("email", Some(1))]), "row_count"),
            (table(Some(5), &[]), "columns.email"),
            (
                table(Some(5), &[("email", None)]),
                "columns.email.null_count",
            ),
        ];
        for (obs, field) in cases {
            assert_eq!(
                h.evaluate::<NullRate>(cfg, &obs).unwrap_err(),
                PolicyError::missing(field)
            );
        }
        let star = r#"{"columns":"*","max_null_fraction":0.1}"#;
        let none = table(Some(5), &[("a", None)]);
        assert_eq!(
            h.evaluate::<NullRate>(star, &none).unwrap_err(),
            PolicyError::missing("columns.*.null_count")
        );
    }

    #[test]
    fn bad_configs_are_invalid() {
        let h = Harness::new(0);
        for bad in [
            r#"{"columns":["a"]}"#,
            r#"{"columns":[],"max_null_fraction":0.1}"#,
            r#"{"columns":"a","max_null_fraction":0.1}"#,
            r#"{"columns":["a"],"max_null_fraction":1.5}"#,
        ] {
            assert!(
                matches!(
                    h.validate::<NullRate>(bad),
                    Err(PolicyError::InvalidConfig(_))
                ),
                "{bad}"
            );
        }
    }
}
