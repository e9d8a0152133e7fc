//! The weekday of a timestamp in a time zone, for weekly seasonality.

use dataslo_guest::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;

/// A time zone by IANA name (`Europe/Berlin`) or `UTC`; the reason when the
/// name is unknown.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|e| format!("unknown time zone {name:?}: {e}"))
}

/// The weekday at `at` in `tz`; `None` when `at` is out of jiff's range.
pub fn weekday(at: Timestamp, tz: &TimeZone) -> Option<Weekday> {
    let ts = jiff::Timestamp::from_nanosecond(i128::from(at)).ok()?;
    Some(tz.to_datetime(ts).weekday())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_sunday_in_utc_is_already_monday_in_tokyo() {
        let at = dataslo_guest::parse_timestamp("2026-11-29T20:00:00Z").unwrap();
        assert_eq!(weekday(at, &zone("UTC").unwrap()), Some(Weekday::Sunday));
        assert_eq!(
            weekday(at, &zone("Asia/Tokyo").unwrap()),
            Some(Weekday::Monday)
        );
    }

    #[test]
    fn an_unknown_zone_is_named() {
        assert!(zone("Mars/Olympus").unwrap_err().contains("Mars/Olympus"));
    }
}
