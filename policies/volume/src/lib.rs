//! `volume`: good when the row count is within a range, given either as
//! `min_rows`/`max_rows` or as `expected` rows with a relative `tolerance`.

use dataslo_guest::prelude::*;

/// Config: `{"min_rows": 1000}`, `{"min_rows": 10, "max_rows": 99}`, or
/// `{"expected": 5000, "tolerance": 0.1}` (±10 %).
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct Volume {
    /// Fewest acceptable rows.
    pub min_rows: Option<u64>,
    /// Most acceptable rows.
    pub max_rows: Option<u64>,
    /// Expected rows; needs `tolerance`.
    pub expected: Option<u64>,
    /// Relative tolerance around `expected`, e.g. 0.1 for ±10 %.
    pub tolerance: Option<f64>,
}

impl Volume {
    /// The accepted range, inclusive.
    fn range(&self) -> Result<(u64, u64), PolicyError> {
        fn bad(reason: impl Into<String>) -> PolicyError {
            PolicyError::invalid_config(reason)
        }
        match (self.min_rows, self.max_rows, self.expected, self.tolerance) {
            (None, None, None, _) => Err(bad(
                "volume: give min_rows and/or max_rows, or expected with tolerance",
            )),
            (Some(_), _, Some(_), _) | (_, Some(_), Some(_), _) => Err(bad(
                "volume: use either min_rows/max_rows or expected/tolerance, not both",
            )),
            (min, max, None, None) => {
                let (min, max) = (min.unwrap_or(0), max.unwrap_or(u64::MAX));
                if min > max {
                    return Err(bad(format!(
                        "volume: min_rows {min} is above max_rows {max}"
                    )));
                }
                Ok((min, max))
            }
            (_, _, None, Some(_)) => Err(bad("volume: tolerance needs expected")),
            (None, None, Some(_), None) => Err(bad("volume: expected needs tolerance")),
            (None, None, Some(expected), Some(tol)) => {
                if !(tol.is_finite() && tol >= 0.0) {
                    return Err(bad(format!(
                        "volume: tolerance must be a fraction >= 0, got {tol}"
                    )));
                }
                let spread = expected as f64 * tol;
                let low = (expected as f64 - spread).max(0.0).ceil() as u64;
                let high = (expected as f64 + spread).floor().min(u64::MAX as f64) as u64;
                Ok((low, high))
            }
        }
    }
}

impl Policy for Volume {
    const NAME: &'static str = "volume";
    const DESCRIPTION: &'static str = "Good when row_count is within [min_rows, max_rows] or expected ± tolerance. Emits the row count.";
    const SLIS: &'static [&'static str] = &["volume"];
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "min_rows": {"type": "integer", "minimum": 0},
    "max_rows": {"type": "integer", "minimum": 0},
    "expected": {"type": "integer", "minimum": 0},
    "tolerance": {"type": "number", "minimum": 0, "description": "relative, e.g. 0.1 for ±10 %"}
  },
  "oneOf": [
    {"anyOf": [{"required": ["min_rows"]}, {"required": ["max_rows"]}],
     "not": {"anyOf": [{"required": ["expected"]}, {"required": ["tolerance"]}]}},
    {"required": ["expected", "tolerance"],
     "not": {"anyOf": [{"required": ["min_rows"]}, {"required": ["max_rows"]}]}}
  ]
}"#;

    fn validate(&self) -> Result<(), PolicyError> {
        self.range().map(drop)
    }

    fn evaluate(&self, obs: &Observation, _ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let (low, high) = self.range()?;
        let rows = obs.require_row_count()?;
        let good = (low..=high).contains(&rows);
        let bound = if high == u64::MAX {
            format!(">= {low}")
        } else {
            format!("in [{low}, {high}]")
        };
        let detail = format!("{rows} rows, expected {bound}");
        Ok(vec![
            Measurement::check("volume", good, detail).with_value(rows as f64),
        ])
    }
}

export_policy!(Volume);

#[cfg(test)]
mod tests {
    /// The cases `dataslo test policies/volume` runs in the sandbox, run natively.
    #[test]
    fn the_case_files_pass_natively() {
        dataslo_guest::testing::assert_cases_in::<super::Volume>(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests"
        ));
    }

    use super::*;
    use dataslo_guest::testing::Harness;

    fn rows(n: Option<u64>) -> Observation {
        let mut obs = Observation::new("s3://lake", "events", 0);
        obs.row_count = n;
        obs
    }

    fn verdict(config: &str, n: u64) -> (u64, u64, Option<f64>) {
        let out = Harness::new(0)
            .evaluate::<Volume>(config, &rows(Some(n)))
            .unwrap();
        (out[0].good, out[0].total, out[0].value)
    }

    #[test]
    fn min_rows_alone_is_a_lower_bound() {
        assert_eq!(verdict(r#"{"min_rows":100}"#, 100), (1, 1, Some(100.0)));
        assert_eq!(verdict(r#"{"min_rows":100}"#, 99), (0, 1, Some(99.0)));
    }

    #[test]
    fn max_rows_alone_is_an_upper_bound() {
        assert_eq!(verdict(r#"{"max_rows":10}"#, 0).0, 1);
        assert_eq!(verdict(r#"{"max_rows":10}"#, 11).0, 0);
    }

    #[test]
    fn min_and_max_are_inclusive() {
        let cfg = r#"{"min_rows":10,"max_rows":20}"#;
        assert_eq!([9, 10, 20, 21].map(|n| verdict(cfg, n).0), [0, 1, 1, 0]);
    }

    #[test]
    fn expected_with_tolerance_is_a_band() {
        let cfg = r#"{"expected":1000,"tolerance":0.1}"#;
        assert_eq!(
            [899, 900, 1100, 1101].map(|n| verdict(cfg, n).0),
            [0, 1, 1, 0]
        );
    }

    #[test]
    fn missing_row_count_is_missing_metadata() {
        let err = Harness::new(0)
            .evaluate::<Volume>(r#"{"min_rows":1}"#, &rows(None))
            .unwrap_err();
        assert_eq!(err, PolicyError::MissingMetadata("row_count".into()));
    }

    #[test]
    fn contradictory_or_empty_configs_are_invalid() {
        let h = Harness::new(0);
        for bad in [
            "{}",
            r#"{"min_rows":5,"max_rows":4}"#,
            r#"{"expected":5}"#,
            r#"{"tolerance":0.1}"#,
            r#"{"min_rows":1,"expected":5,"tolerance":0.1}"#,
            r#"{"expected":5,"tolerance":-1}"#,
            r#"{"min_rows":-1}"#,
            r#"{"rows":1}"#,
        ] {
            assert!(
                matches!(
                    h.validate::<Volume>(bad),
                    Err(PolicyError::InvalidConfig(_))
                ),
                "{bad} should be invalid"
            );
        }
    }
}
