//! OpenSLO's duration shorthand: a positive integer and a unit, e.g. `28d`,
//! `5m`, `1M` (m = minute, M = month, Q = quarter, Y = year).

use std::fmt;
use std::time::Duration;

/// A duration unit of the shorthand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `s`
    Second,
    /// `m`
    Minute,
    /// `h`
    Hour,
    /// `d`
    Day,
    /// `w`
    Week,
    /// `M`
    Month,
    /// `Q`
    Quarter,
    /// `Y`
    Year,
}

/// A parsed shorthand, e.g. `28d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shorthand {
    /// How many units.
    pub count: u32,
    /// Which unit.
    pub unit: Unit,
}

impl Shorthand {
    /// Parses `text`; the error says what is expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let count: u32 = digits
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{text:?} is not a duration like 5m, 1h, 28d, 1w or 1M"))?;
        let unit = match unit {
            "s" => Unit::Second,
            "m" => Unit::Minute,
            "h" => Unit::Hour,
            "d" => Unit::Day,
            "w" => Unit::Week,
            "M" => Unit::Month,
            "Q" => Unit::Quarter,
            "Y" => Unit::Year,
            other => {
                return Err(format!(
                    "{text:?} has unknown unit {other:?}; use s, m, h, d, w, M, Q or Y"
                ));
            }
        };
        Ok(Shorthand { count, unit })
    }

    /// The fixed length, for units that have one (s to w).
    pub fn fixed(&self) -> Option<Duration> {
        let secs: u64 = match self.unit {
            Unit::Second => 1,
            Unit::Minute => 60,
            Unit::Hour => 3600,
            Unit::Day => 86_400,
            Unit::Week => 7 * 86_400,
            Unit::Month | Unit::Quarter | Unit::Year => return None,
        };
        Some(Duration::from_secs(secs * u64::from(self.count)))
    }
}

impl fmt::Display for Shorthand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.unit {
            Unit::Second => "s",
            Unit::Minute => "m",
            Unit::Hour => "h",
            Unit::Day => "d",
            Unit::Week => "w",
            Unit::Month => "M",
            Unit::Quarter => "Q",
            Unit::Year => "Y",
        };
        write!(f, "{}{unit}", self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_and_months_differ_by_case() {
        assert_eq!(
            Shorthand::parse("5m").unwrap().fixed(),
            Some(Duration::from_secs(300))
        );
        assert_eq!(Shorthand::parse("1M").unwrap().unit, Unit::Month);
        assert_eq!(Shorthand::parse("1M").unwrap().fixed(), None);
        assert_eq!(Shorthand::parse("28d").unwrap().to_string(), "28d");
    }

    #[test]
    fn garbage_is_refused_with_the_text() {
        for bad in ["", "d", "0d", "-1d", "5 days", "3x"] {
            assert!(Shorthand::parse(bad).is_err(), "{bad}");
        }
        assert!(Shorthand::parse("3x").unwrap_err().contains("\"3x\""));
    }
}
