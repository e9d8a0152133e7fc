//! Partition key patterns: `ds=%Y-%m-%d` and the like.

use crate::calendar::Period;
use std::fmt::Write;

/// A parsed pattern.
#[derive(Debug)]
pub struct Pattern(Vec<Piece>);

#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Year,
    Month,
    Day,
    Hour,
}

impl Pattern {
    /// Parses `text`, which must name every field that tells `period`'s
    /// partitions apart (`%Y%m` for months, `%d` too for days, `%H` too for hours).
    pub fn parse(text: &str, period: Period) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            let piece = match chars.next() {
                Some('%') => {
                    literal.push('%');
                    continue;
                }
                Some('Y') => Piece::Year,
                Some('m') => Piece::Month,
                Some('d') => Piece::Day,
                Some('H') => Piece::Hour,
                Some(other) => {
                    return Err(format!(
                        "pattern {text:?}: %{other} is not one of %Y, %m, %d, %H, %%"
                    ));
                }
                None => return Err(format!("pattern {text:?} ends with a lone %")),
            };
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(piece);
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        let needed: &[(Piece, &str)] = match period {
            Period::Month => &[(Piece::Year, "%Y"), (Piece::Month, "%m")],
            Period::Day => &[
                (Piece::Year, "%Y"),
                (Piece::Month, "%m"),
                (Piece::Day, "%d"),
            ],
            Period::Hour => &[
                (Piece::Year, "%Y"),
                (Piece::Month, "%m"),
                (Piece::Day, "%d"),
                (Piece::Hour, "%H"),
            ],
        };
        let lacking: Vec<&str> = needed
            .iter()
            .filter(|(p, _)| !pieces.contains(p))
            .map(|(_, name)| *name)
            .collect();
        if !lacking.is_empty() {
            return Err(format!(
                "pattern {text:?} lacks {} for a period of a {}, so two periods would share a key",
                lacking.join(", "),
                period.name()
            ));
        }
        Ok(Pattern(pieces))
    }

    /// The key of slot `slot` of `period`.
    pub fn format(&self, slot: i64, period: Period) -> String {
        let start = period.start(slot);
        let mut key = String::new();
        for piece in &self.0 {
            // Writing to a String cannot fail.
            let _ = match piece {
                Piece::Text(text) => write!(key, "{text}"),
                Piece::Year => write!(key, "{:04}", start.year),
                Piece::Month => write!(key, "{:02}", start.month),
                Piece::Day => write!(key, "{:02}", start.day),
                Piece::Hour => write!(key, "{:02}", start.hour),
            };
        }
        key
    }
}

impl Period {
    fn name(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
            Period::Month => "month",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_formats_the_start_of_its_period() {
        let p = Pattern::parse("ds=%Y-%m-%d/hr=%H%%", Period::Hour).unwrap();
        // 2026-11-26T08:00Z is hour 498_800 since the epoch.
        assert_eq!(p.format(498_800, Period::Hour), "ds=2026-11-26/hr=08%");
        let months = Pattern::parse("month=%Y%m", Period::Month).unwrap();
        assert_eq!(months.format(0, Period::Month), "month=197001");
    }

    #[test]
    fn a_pattern_must_tell_its_periods_apart_and_know_its_directives() {
        let lacking = Pattern::parse("ds=%Y-%m", Period::Day).unwrap_err();
        assert!(
            lacking.contains("lacks %d for a period of a day"),
            "{lacking}"
        );
        let unknown = Pattern::parse("ds=%Y-%m-%e", Period::Day).unwrap_err();
        assert!(unknown.contains("%e is not one of"), "{unknown}");
        assert!(
            Pattern::parse("%Y%m%", Period::Month)
                .unwrap_err()
                .contains("lone %")
        );
    }
}
