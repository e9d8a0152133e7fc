//! Durations in configs: `"2h"`, `"90m"`, `"1d 6h"`, or a number of seconds.

use serde::{Deserialize, Deserializer, de};
use std::fmt;
use std::time::Duration;

/// A duration read from config as human text (`"2h"`, `"45m"`, `"1d 12h"`)
/// or as a whole number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// The duration in nanoseconds, saturating at `i64::MAX`.
    pub fn as_nanos_i64(self) -> i64 {
        i64::try_from(self.0.as_nanos()).unwrap_or(i64::MAX)
    }

    /// The duration in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0.as_secs_f64()
    }
}

impl std::str::FromStr for HumanDuration {
    type Err = humantime::DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        humantime::parse_duration(s).map(HumanDuration)
    }
}

/// As humantime writes it (`1h 30m`), without its `core::fmt` calls.
impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::with_capacity(24);
        crate::DetailText::push_duration(&mut text, self.0);
        f.write_str(&text)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration such as "2h", "30m", "1d 6h", or whole seconds"#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse()
                    .map_err(|e| E::custom(format!("invalid duration {v:?}: {e}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(HumanDuration(Duration::from_secs(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(|s| HumanDuration(Duration::from_secs(s)))
                    .map_err(|_| E::custom(format!("a duration cannot be negative: {v}")))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<HumanDuration, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn reads_human_text_and_seconds() {
        assert_eq!(parse(r#""2h""#).unwrap().0, Duration::from_secs(7200));
        assert_eq!(
            parse(r#""1d 6h""#).unwrap().0,
            Duration::from_secs(30 * 3600)
        );
        assert_eq!(parse("90").unwrap().0, Duration::from_secs(90));
    }

    #[test]
    fn rejects_garbage_and_negatives_with_the_value_in_the_message() {
        let err = parse(r#""soon""#).unwrap_err().to_string();
        assert!(err.contains("\"soon\""), "{err}");
        assert!(parse("-5").is_err());
    }
}
