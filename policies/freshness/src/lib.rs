//! `freshness`: good when the data changed within `max_age` of the evaluation's now.

use dataslo_guest::prelude::*;

/// Config: `{"max_age": "2h"}`.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct Freshness {
    /// The largest acceptable age of `last_modified`.
    pub max_age: HumanDuration,
}

impl Policy for Freshness {
    const NAME: &'static str = "freshness";
    const DESCRIPTION: &'static str =
        "Good when now - last_modified <= max_age. Emits the age in seconds as the value.";
    const SLIS: &'static [&'static str] = &["freshness"];
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["max_age"],
  "properties": {
    "max_age": {
      "description": "Largest acceptable age, e.g. \"2h\", \"1d 6h\", or seconds",
      "type": ["string", "integer"],
      "minimum": 0
    }
  }
}"#;

    fn evaluate(&self, obs: &Observation, ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let modified = obs.require_last_modified()?;
        let age_nanos = ctx.now().saturating_sub(modified);
        let age_secs = age_nanos as f64 / 1e9;
        let good = age_nanos <= self.max_age.as_nanos_i64();
        // Written part by part, not with `format!`: see `DetailText`.
        let mut detail = String::with_capacity(64);
        detail.push_str("last modified ");
        detail.push_duration(std::time::Duration::from_secs(age_secs.max(0.0) as u64));
        detail.push_str(" ago (at ");
        detail.push_timestamp(modified);
        detail.push_str("), limit ");
        detail.push_duration(self.max_age.0);
        Ok(vec![
            Measurement::check("freshness", good, detail).with_value(age_secs),
        ])
    }
}

export_policy!(Freshness);

#[cfg(test)]
mod tests {
    /// The cases `dataslo test policies/freshness` runs in the sandbox, run natively.
    #[test]
    fn the_case_files_pass_natively() {
        dataslo_guest::testing::assert_cases_in::<super::Freshness>(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests"
        ));
    }

    use super::*;
    use dataslo_guest::testing::Harness;

    const NOW: &str = "2026-11-26T08:00:00Z";

    fn modified_at(harness: &Harness, secs_ago: i64) -> Observation {
        let mut obs = Observation::new("postgres://prod", "orders", harness.now());
        obs.last_modified = Some(harness.now() - secs_ago * 1_000_000_000);
        obs
    }

    #[test]
    fn data_younger_than_max_age_is_good_and_reports_its_age() {
        let h = Harness::at(NOW);
        let out = h
            .evaluate::<Freshness>(r#"{"max_age":"2h"}"#, &modified_at(&h, 3600))
            .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].good, out[0].total), (1, 1));
        assert_eq!(out[0].value, Some(3600.0));
        assert_eq!(out[0].sli, "freshness");
    }

    #[test]
    fn data_exactly_at_max_age_is_still_good() {
        let h = Harness::at(NOW);
        let out = h
            .evaluate::<Freshness>(r#"{"max_age":"2h"}"#, &modified_at(&h, 7200))
            .unwrap();
        assert!(out[0].is_good());
    }

    #[test]
    fn data_older_than_max_age_is_bad() {
        let h = Harness::at(NOW);
        let out = h
            .evaluate::<Freshness>(r#"{"max_age":"2h"}"#, &modified_at(&h, 7201))
            .unwrap();
        assert_eq!((out[0].good, out[0].total), (0, 1));
        assert!(out[0].detail.contains("limit 2h"), "{}", out[0].detail);
    }

    #[test]
    fn missing_last_modified_is_missing_metadata() {
        let h = Harness::at(NOW);
        let obs = Observation::new("postgres://prod", "orders", h.now());
        let err = h
            .evaluate::<Freshness>(r#"{"max_age":"2h"}"#, &obs)
            .unwrap_err();
        assert_eq!(err, PolicyError::MissingMetadata("last_modified".into()));
    }

    #[test]
    fn config_without_max_age_or_with_garbage_is_invalid() {
        let h = Harness::at(NOW);
        for bad in [
            r#"{}"#,
            r#"{"max_age":"soon"}"#,
            r#"{"max_age":"2h","x":1}"#,
            "not json",
        ] {
            match h.validate::<Freshness>(bad) {
                Err(PolicyError::InvalidConfig(msg)) => {
                    assert!(msg.starts_with("freshness:"), "{msg}")
                }
                other => panic!("{bad}: expected invalid config, got {other:?}"),
            }
        }
    }

    #[test]
    fn describe_has_a_json_schema_of_the_config() {
        let info = dataslo_guest::export::info::<Freshness>();
        let schema: dataslo_guest::serde_json::Value =
            dataslo_guest::serde_json::from_str(&info.config_schema).unwrap();
        assert_eq!(schema["required"][0], "max_age");
    }
}
