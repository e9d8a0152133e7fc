//! UTC periods as numbered slots (hours, days or months since 1970-01-01),
//! and their civil start dates, without a date library.

use dataslo_guest::prelude::*;

/// The length of one partition's period, in UTC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(crate = "dataslo_guest::serde", rename_all = "lowercase")]
pub enum Period {
    /// One partition an hour.
    Hour,
    /// One partition a day.
    #[default]
    Day,
    /// One partition a month.
    Month,
}

const NANOS_PER_HOUR: i64 = 3_600_000_000_000;
const NANOS_PER_DAY: i64 = 24 * NANOS_PER_HOUR;

/// The start of a slot: year, month (1-12), day (1-31) and hour (0-23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
}

impl Period {
    /// The number of the period holding `at`.
    pub fn slot_of(self, at: Timestamp) -> i64 {
        match self {
            Period::Hour => at.div_euclid(NANOS_PER_HOUR),
            Period::Day => at.div_euclid(NANOS_PER_DAY),
            Period::Month => {
                let (year, month, _) = civil_from_days(at.div_euclid(NANOS_PER_DAY));
                (year - 1970) * 12 + i64::from(month) - 1
            }
        }
    }

    /// When slot `slot` starts.
    pub fn start(self, slot: i64) -> Start {
        match self {
            Period::Hour => {
                let (year, month, day) = civil_from_days(slot.div_euclid(24));
                let hour = slot.rem_euclid(24) as u32;
                Start {
                    year,
                    month,
                    day,
                    hour,
                }
            }
            Period::Day => {
                let (year, month, day) = civil_from_days(slot);
                Start {
                    year,
                    month,
                    day,
                    hour: 0,
                }
            }
            Period::Month => Start {
                year: 1970 + slot.div_euclid(12),
                month: slot.rem_euclid(12) as u32 + 1,
                day: 1,
                hour: 0,
            },
        }
    }
}

/// (year, month, day) of day `days` since 1970-01-01, proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        dataslo_guest::parse_timestamp(text).unwrap()
    }

    fn start(period: Period, text: &str) -> Start {
        period.start(period.slot_of(at(text)))
    }

    #[test]
    fn each_period_starts_at_its_civil_boundary() {
        let s = |year, month, day, hour| Start {
            year,
            month,
            day,
            hour,
        };
        assert_eq!(
            start(Period::Hour, "2026-11-26T08:59:59Z"),
            s(2026, 11, 26, 8)
        );
        assert_eq!(
            start(Period::Day, "2026-11-26T23:59:59Z"),
            s(2026, 11, 26, 0)
        );
        assert_eq!(
            start(Period::Month, "2026-11-26T08:00:00Z"),
            s(2026, 11, 1, 0)
        );
        assert_eq!(
            start(Period::Day, "2024-02-29T12:00:00Z"),
            s(2024, 2, 29, 0)
        );
        // 1969-12-31T23:00:00Z, which the SDK's parser cannot read.
        let before_1970 = -NANOS_PER_HOUR;
        let (d, m) = (Period::Day, Period::Month);
        assert_eq!(d.start(d.slot_of(before_1970)), s(1969, 12, 31, 0));
        assert_eq!(m.start(m.slot_of(before_1970)), s(1969, 12, 1, 0));
    }

    #[test]
    fn slots_count_across_month_and_year_ends() {
        let d = Period::Day;
        assert_eq!(d.start(d.slot_of(at("2026-03-01T00:00:00Z")) - 1).day, 28);
        let m = Period::Month;
        let jan = m.slot_of(at("2027-01-15T00:00:00Z"));
        assert_eq!((m.start(jan - 1).year, m.start(jan - 1).month), (2026, 12));
    }
}
