//! Measurement details written without `core::fmt`.
//!
//! In a fresh instance every function `fmt` reaches through a trait object
//! is set up on its first call, so `format!` of a duration and a timestamp
//! cost a built-in `freshness` about an eighth of its evaluation (E1,
//! BENCHMARKS.md). These write the same text as humantime, digit by digit.
//! `format!` still works; these are for details written on every call.

use crate::Timestamp;
use std::time::Duration;

/// Appends a detail's parts to a `String`: `detail.push_duration(age)`.
pub trait DetailText {
    /// `n` in decimal.
    fn push_u64(&mut self, n: u64);
    /// `n` in decimal, with a `-` when negative.
    fn push_i64(&mut self, n: i64);
    /// `d` as humantime's `format_duration` writes it, e.g. `1h 30m`
    /// (microseconds as `us`: humantime without its `mu` feature).
    fn push_duration(&mut self, d: Duration);
    /// `ts` as [`crate::format_timestamp`] writes it.
    fn push_timestamp(&mut self, ts: Timestamp);
}

impl DetailText for String {
    fn push_u64(&mut self, n: u64) {
        push_padded(self, n, 1);
    }

    fn push_i64(&mut self, n: i64) {
        if n < 0 {
            self.push('-');
        }
        push_padded(self, n.unsigned_abs(), 1);
    }

    fn push_duration(&mut self, d: Duration) {
        push_duration(self, d);
    }

    fn push_timestamp(&mut self, ts: Timestamp) {
        push_timestamp(self, ts);
    }
}

/// `n` in decimal, zero-padded to at least `width` digits.
fn push_padded(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = start.min(digits.len().saturating_sub(width));
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// humantime 2's `format_duration`: a year is 365.25 days, a month 30.44.
fn push_duration(out: &mut String, d: Duration) {
    let secs = d.as_secs();
    let nanos = u64::from(d.subsec_nanos());
    if secs == 0 && nanos == 0 {
        out.push_str("0s");
        return;
    }
    let (years, ydays) = (secs / 31_557_600, secs % 31_557_600);
    let (months, mdays) = (ydays / 2_630_016, ydays % 2_630_016);
    let (days, day_secs) = (mdays / 86_400, mdays % 86_400);
    let items = [
        (years, "year", true),
        (months, "month", true),
        (days, "day", true),
        (day_secs / 3600, "h", false),
        (day_secs % 3600 / 60, "m", false),
        (day_secs % 60, "s", false),
        (nanos / 1_000_000, "ms", false),
        (nanos / 1000 % 1000, "us", false),
        (nanos % 1000, "ns", false),
    ];
    let mut started = false;
    for (value, unit, plural) in items {
        if value == 0 {
            continue;
        }
        if started {
            out.push(' ');
        }
        started = true;
        push_padded(out, value, 1);
        out.push_str(unit);
        if plural && value > 1 {
            out.push('s');
        }
    }
}

/// RFC 3339 UTC, nanoseconds shown when there are any (humantime's
/// `format_rfc3339`); before 1970, seconds before it. Nanoseconds in an
/// `i64` end in 2262, so the year always has four digits.
fn push_timestamp(out: &mut String, ts: Timestamp) {
    let secs = ts.div_euclid(1_000_000_000);
    let nanos = ts.rem_euclid(1_000_000_000) as u64;
    if secs < 0 {
        push_padded(out, secs.unsigned_abs(), 1);
        out.push_str("s before 1970");
        return;
    }
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = (secs % 86_400) as u64;
    push_padded(out, year as u64, 4);
    out.push('-');
    push_padded(out, month, 2);
    out.push('-');
    push_padded(out, day, 2);
    out.push('T');
    push_padded(out, of_day / 3600, 2);
    out.push(':');
    push_padded(out, of_day % 3600 / 60, 2);
    out.push(':');
    push_padded(out, of_day % 60, 2);
    if nanos > 0 {
        out.push('.');
        push_padded(out, nanos, 9);
    }
    out.push('Z');
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u64;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u64;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    /// Deterministic spread of values: a linear congruential sequence.
    fn spread(n: usize, max: u64) -> impl Iterator<Item = u64> {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        (0..n).map(move |_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 11) % max
        })
    }

    fn written(f: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        f(&mut out);
        out
    }

    #[test]
    fn durations_read_as_humantime_writes_them() {
        let edges = [
            0, 1, 59, 60, 3599, 3600, 86_399, 86_400, 2_630_016, 31_557_600,
        ];
        let secs = edges.into_iter().chain(spread(5000, 400 * 31_557_600));
        let nanos = spread(6000, 1_000_000_000).skip(7);
        for (i, (secs, nanos)) in secs.zip(nanos).enumerate() {
            // A third of the cases whole seconds, the rest with nanoseconds.
            let nanos = if i % 3 == 0 { 0 } else { nanos as u32 };
            let d = Duration::new(secs, nanos);
            let ours = written(|out| out.push_duration(d));
            assert_eq!(ours, humantime::format_duration(d).to_string(), "{d:?}");
        }
    }

    #[test]
    fn timestamps_read_as_humantime_writes_them() {
        // The last whole second an i64 of nanoseconds holds, in 2262.
        let last = i64::MAX as u64 / 1_000_000_000;
        let edges = [0, 68_169_600, 951_782_400, 951_868_800, last];
        let secs = edges.into_iter().chain(spread(5000, last));
        for (i, secs) in secs.enumerate() {
            let nanos = if i % 2 == 0 {
                0
            } else {
                (secs % 1_000_003) * 997
            };
            let ts = secs as i64 * 1_000_000_000 + nanos as i64;
            let ours = written(|out| out.push_timestamp(ts));
            let t = UNIX_EPOCH + Duration::new(secs, nanos as u32);
            assert_eq!(ours, humantime::format_rfc3339(t).to_string(), "{ts}");
        }
    }

    #[test]
    fn timestamps_before_1970_are_seconds_before_it() {
        assert_eq!(written(|o| o.push_timestamp(-1)), "1s before 1970");
        assert_eq!(
            written(|o| o.push_timestamp(i64::MIN)),
            "9223372037s before 1970"
        );
        assert_eq!(
            written(|o| o.push_timestamp(i64::MAX)),
            "2262-04-11T23:47:16.854775807Z"
        );
    }

    #[test]
    fn integers_are_decimal() {
        for n in [0, 7, 10, 1_204_331, u64::MAX] {
            assert_eq!(written(|o| o.push_u64(n)), n.to_string());
        }
        for n in [0, -1, 42, i64::MIN, i64::MAX] {
            assert_eq!(written(|o| o.push_i64(n)), n.to_string());
        }
    }
}
