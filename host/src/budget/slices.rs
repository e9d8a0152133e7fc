//! Where Timeslices begin and end.
//!
//! Rolling windows: slices of a fixed number of minutes from the Unix epoch.
//! Calendar windows: slices restart at each period's start and have their
//! civil length in the window's time zone. A slice of whole days is that
//! many local days (23 or 25 hours across a DST change); a shorter one is
//! that many minutes from the period's start; the last slice of a period
//! ends with it. So every minute of a period lies in exactly one slice of
//! that period, whatever the offset of the day.

use super::window::{minute_ceil as first_minute, period_at};
use crate::slo::{Shorthand, TimeWindow};

/// A slice: its first minute and the minute after its last.
pub type Slice = (i64, i64);

/// Finds the slice of a minute, for minutes read in ascending order: it
/// remembers the last slice and period, so a window costs one period
/// lookup per period it spans, not one per minute.
pub struct Slicer<'a> {
    window: &'a TimeWindow,
    len: i64,
    slice: Option<Slice>,
    period: Option<Period>,
}

/// A calendar period: its start in its time zone, and its minutes.
struct Period {
    start: jiff::ZonedDateTime,
    from: i64,
    /// The next period's first minute; `i64::MAX` past the calendar's end.
    until: i64,
}

impl<'a> Slicer<'a> {
    /// Slices of `len` minutes (at least one) in `window`.
    pub fn new(window: &'a TimeWindow, len: i64) -> Self {
        Slicer {
            window,
            len: len.max(1),
            slice: None,
            period: None,
        }
    }

    /// The slice holding `minute`.
    pub fn slice_of(&mut self, minute: i64) -> Slice {
        if let Some((from, until)) = self.slice
            && from <= minute
            && minute < until
        {
            return (from, until);
        }
        let window = self.window;
        let slice = match window {
            TimeWindow::Rolling(_) => fixed(minute, 0, self.len),
            TimeWindow::Calendar { length, start } => self.calendar(length, start, minute),
        };
        self.slice = Some(slice);
        slice
    }

    fn calendar(&mut self, length: &Shorthand, start: &jiff::ZonedDateTime, minute: i64) -> Slice {
        let anchor = first_minute(start.timestamp());
        if minute < anchor {
            // Before the calendar: no period, slices counted back from its start.
            return fixed(minute, anchor, self.len);
        }
        if !self
            .period
            .as_ref()
            .is_some_and(|p| p.from <= minute && minute < p.until)
        {
            let at = jiff::Timestamp::from_second(minute.saturating_mul(60))
                .unwrap_or(jiff::Timestamp::MAX);
            self.period = period_at(length, start, at).map(|(start, next)| Period {
                from: first_minute(start.timestamp()),
                until: next.map_or(i64::MAX, first_minute),
                start,
            });
        }
        let Some(period) = &self.period else {
            return fixed(minute, anchor, self.len);
        };
        let (from, until) = if self.len % 1440 == 0 {
            local_days(period, self.len / 1440, minute)
        } else {
            fixed(minute, period.from, self.len)
        };
        (from.max(period.from), until.min(period.until))
    }
}

/// The slice of `len` minutes counted from `anchor` that holds `minute`.
fn fixed(minute: i64, anchor: i64, len: i64) -> Slice {
    let from = anchor + (minute - anchor).div_euclid(len) * len;
    (from, from + len)
}

/// The slice of `days` local days counted from the period's start that
/// holds `minute` (inside the period).
fn local_days(period: &Period, days: i64, minute: i64) -> Slice {
    let start_of = |k: i64| {
        period
            .start
            .checked_add(jiff::Span::new().days(k * days))
            .map_or(i64::MAX, |z| first_minute(z.timestamp()))
    };
    // A local day is 23 to 25 hours: the estimate is off by one at most.
    let mut k = (minute - period.from).div_euclid(days * 1440);
    while k > 0 && start_of(k) > minute {
        k -= 1;
    }
    while start_of(k + 1) <= minute {
        k += 1;
    }
    (start_of(k), start_of(k + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar(length: &str, start: &str, tz: &str) -> TimeWindow {
        let start: jiff::civil::DateTime = start.parse().unwrap();
        TimeWindow::Calendar {
            length: Shorthand::parse(length).unwrap(),
            start: start
                .to_zoned_datetime(jiff::tz::TimeZone::get(tz).unwrap())
                .unwrap(),
        }
    }

    fn minute(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>()
            .unwrap()
            .as_second()
            .div_euclid(60)
    }

    fn hours(slice: Slice) -> f64 {
        (slice.1 - slice.0) as f64 / 60.0
    }

    #[test]
    fn rolling_slices_are_fixed_from_the_epoch() {
        let w = TimeWindow::Rolling(std::time::Duration::from_secs(86_400));
        let mut s = Slicer::new(&w, 5);
        assert_eq!(s.slice_of(7), (5, 10));
        assert_eq!(s.slice_of(-1), (-5, 0));
    }

    #[test]
    fn berlin_day_slices_are_local_days_in_summer_and_in_winter() {
        let w = calendar("1w", "2026-01-05T00:00:00", "Europe/Berlin");
        let mut s = Slicer::new(&w, 1440);
        // Monday 2026-06-01, summer time: local midnight is 22:00 UTC.
        let summer = s.slice_of(minute("2026-05-31T22:30:00Z"));
        assert_eq!(
            summer,
            (
                minute("2026-05-31T22:00:00Z"),
                minute("2026-06-01T22:00:00Z")
            )
        );
        let winter = s.slice_of(minute("2026-01-05T23:30:00Z"));
        assert_eq!(
            winter,
            (
                minute("2026-01-05T23:00:00Z"),
                minute("2026-01-06T23:00:00Z")
            )
        );
    }

    #[test]
    fn the_days_of_the_berlin_dst_changes_are_23_and_25_hours_long() {
        let w = calendar("1M", "2026-01-01T00:00:00", "Europe/Berlin");
        let mut s = Slicer::new(&w, 1440);
        // Sunday 2026-03-29: clocks go from 02:00 to 03:00.
        let march = s.slice_of(minute("2026-03-29T12:00:00Z"));
        assert_eq!(march.0, minute("2026-03-28T23:00:00Z"));
        assert_eq!(hours(march), 23.0);
        // Sunday 2026-10-25: clocks go from 03:00 back to 02:00.
        let october = s.slice_of(minute("2026-10-25T12:00:00Z"));
        assert_eq!(october.0, minute("2026-10-24T22:00:00Z"));
        assert_eq!(hours(october), 25.0);
    }

    #[test]
    fn the_last_slice_of_a_period_ends_with_it() {
        // 2-day slices in a 1w period: the fourth is one day long.
        let w = calendar("1w", "2026-01-05T00:00:00", "UTC");
        let mut s = Slicer::new(&w, 2 * 1440);
        let last = s.slice_of(minute("2026-01-11T12:00:00Z"));
        assert_eq!(
            last,
            (
                minute("2026-01-11T00:00:00Z"),
                minute("2026-01-12T00:00:00Z")
            )
        );
        // 90-minute slices restart at each day of a 1d calendar.
        let w = calendar("1d", "2026-01-01T00:00:00", "UTC");
        let mut s = Slicer::new(&w, 90);
        assert_eq!(
            s.slice_of(minute("2026-01-02T23:59:00Z")),
            (
                minute("2026-01-02T22:30:00Z"),
                minute("2026-01-03T00:00:00Z")
            )
        );
        assert_eq!(
            s.slice_of(minute("2026-01-03T00:00:00Z")).0,
            minute("2026-01-03T00:00:00Z")
        );
    }

    #[test]
    fn every_minute_of_a_summer_week_lies_in_one_slice_of_its_period() {
        let w = calendar("1w", "2026-01-05T00:00:00", "Europe/Berlin");
        for len in [60, 120, 1440] {
            let mut s = Slicer::new(&w, len);
            // The week of Monday 2026-06-01, local time.
            let (from, until) = (
                minute("2026-05-31T22:00:00Z"),
                minute("2026-06-07T22:00:00Z"),
            );
            let mut previous = (from, from);
            for m in from..until {
                let slice = s.slice_of(m);
                assert!(slice.0 <= m && m < slice.1, "{len}: {m} in {slice:?}");
                assert!(
                    from <= slice.0 && slice.1 <= until,
                    "{len}: {slice:?} leaves the week"
                );
                assert!(
                    slice == previous || slice.0 == previous.1,
                    "{len}: gap or overlap"
                );
                previous = slice;
            }
            assert_eq!(previous.1, until);
        }
    }
}
