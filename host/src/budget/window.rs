//! Which minutes a window covers at a given time.

use crate::slo::{Shorthand, TimeWindow, Unit};

/// Minutes since the epoch, `from..=to`. Empty when `from > to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteRange {
    /// First minute.
    pub from: i64,
    /// Last minute.
    pub to: i64,
}

impl MinuteRange {
    /// Whether `minute` is inside.
    pub fn contains(&self, minute: i64) -> bool {
        self.from <= minute && minute <= self.to
    }

    /// The last `minutes` minutes of this range's end.
    pub fn last(to: i64, minutes: i64) -> Self {
        MinuteRange {
            from: to - minutes.max(1) + 1,
            to,
        }
    }
}

fn minute(t: jiff::Timestamp) -> i64 {
    t.as_second().div_euclid(60)
}

/// First minute at or after `t`: where a period starting at `t` begins.
pub(super) fn minute_ceil(t: jiff::Timestamp) -> i64 {
    let secs = t.as_second() + i64::from(t.subsec_nanosecond() > 0);
    secs.div_euclid(60) + i64::from(secs.rem_euclid(60) > 0)
}

/// The SLO window holding `at`.
pub fn window_at(window: &TimeWindow, at: jiff::Timestamp) -> MinuteRange {
    let to = minute(at);
    match window {
        TimeWindow::Rolling(length) => MinuteRange::last(to, (length.as_secs() / 60) as i64),
        TimeWindow::Calendar { length, start } => match period_at(length, start, at) {
            Some((period_start, _)) => MinuteRange {
                from: minute_ceil(period_start.timestamp()),
                to,
            },
            None => MinuteRange { from: to + 1, to },
        },
    }
}

/// `n` periods of `length`.
fn span(length: &Shorthand, n: i64) -> jiff::Span {
    let n = n * i64::from(length.count);
    match length.unit {
        Unit::Year => jiff::Span::new().years(n),
        Unit::Quarter => jiff::Span::new().months(3 * n),
        Unit::Month => jiff::Span::new().months(n),
        Unit::Week => jiff::Span::new().weeks(n),
        _ => jiff::Span::new().days(n),
    }
}

/// The calendar period holding `at`: its start, in the window's time zone,
/// and the next period's start (`None` past the calendar's end). `None`
/// before the first period.
pub(super) fn period_at(
    length: &Shorthand,
    start: &jiff::ZonedDateTime,
    at: jiff::Timestamp,
) -> Option<(jiff::ZonedDateTime, Option<jiff::Timestamp>)> {
    if at < start.timestamp() {
        return None;
    }
    // Periods are start + n·length, not cumulative, so Jan 31 + 1M
    // does not drift to the 28th.
    let mut period_start = start.clone();
    let mut n = 0;
    loop {
        match start.checked_add(span(length, n + 1)) {
            Ok(next) if next.timestamp() > at => {
                return Some((period_start, Some(next.timestamp())));
            }
            Ok(next) => {
                n += 1;
                period_start = next;
            }
            Err(_) => return Some((period_start, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar(length: &str, start: &str, tz: &str) -> TimeWindow {
        let start: jiff::civil::DateTime = start.parse().unwrap();
        let start = start
            .to_zoned_datetime(jiff::tz::TimeZone::get(tz).unwrap())
            .unwrap();
        TimeWindow::Calendar {
            length: Shorthand::parse(length).unwrap(),
            start,
        }
    }

    fn minute_of(text: &str) -> i64 {
        minute(text.parse().unwrap())
    }

    #[test]
    fn a_rolling_day_is_1440_minutes_ending_now() {
        let w = window_at(
            &TimeWindow::Rolling(std::time::Duration::from_secs(86_400)),
            "2026-11-26T08:00:30Z".parse().unwrap(),
        );
        assert_eq!(w.to - w.from + 1, 1440);
        assert_eq!(w.to, minute_of("2026-11-26T08:00:00Z"));
    }

    #[test]
    fn a_calendar_month_starts_at_local_midnight_of_the_first() {
        let w = window_at(
            &calendar("1M", "2026-01-01T00:00:00", "Europe/Paris"),
            "2026-03-15T12:00:00Z".parse().unwrap(),
        );
        assert_eq!(
            w.from,
            minute_of("2026-02-28T23:00:00Z"),
            "March 1st 00:00 in Paris is 23:00 UTC"
        );
        let after_dst = window_at(
            &calendar("1M", "2026-01-01T00:00:00", "Europe/Paris"),
            "2026-04-02T12:00:00Z".parse().unwrap(),
        );
        assert_eq!(
            after_dst.from,
            minute_of("2026-03-31T22:00:00Z"),
            "April 1st 00:00 in summer time is 22:00 UTC"
        );
    }

    #[test]
    fn calendar_days_across_a_dst_change_are_23_hours_long() {
        let w = window_at(
            &calendar("1d", "2026-01-01T00:00:00", "America/New_York"),
            "2026-03-08T23:00:00-04:00".parse().unwrap(),
        );
        assert_eq!(w.from, minute_of("2026-03-08T05:00:00Z"));
        let next = window_at(
            &calendar("1d", "2026-01-01T00:00:00", "America/New_York"),
            "2026-03-09T01:00:00-04:00".parse().unwrap(),
        );
        assert_eq!(
            next.from,
            minute_of("2026-03-09T04:00:00Z"),
            "the day of the change lasted 23 hours"
        );
    }

    #[test]
    fn month_ends_do_not_drift() {
        let w = window_at(
            &calendar("1M", "2026-01-31T00:00:00", "UTC"),
            "2026-03-31T12:00:00Z".parse().unwrap(),
        );
        assert_eq!(w.from, minute_of("2026-03-31T00:00:00Z"));
    }
}
