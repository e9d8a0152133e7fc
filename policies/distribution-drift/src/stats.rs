//! The two drift statistics: the largest relative quantile shift, and the
//! population stability index over the baseline's quantile bins.

use crate::baseline::{Quantiles, at};

/// A bin's share of the data is taken as at least this, so an empty bin
/// gives a large but finite PSI term (a common choice).
const MIN_SHARE: f64 = 1e-4;

/// The largest shift: its q, the baseline and current values, and
/// `|current - baseline| / |baseline|` (infinite when the baseline is 0
/// and the current value is not).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shift {
    /// The quantile.
    pub q: f64,
    /// The baseline's value there.
    pub baseline: f64,
    /// The current value there.
    pub current: f64,
    /// The relative shift.
    pub relative: f64,
}

/// The largest relative shift between `baseline` and `current` at the
/// quantiles `qs`; `Err(q)` names a q one of them lacks (`true`: the
/// current observation lacks it).
pub fn largest_shift(
    baseline: &Quantiles,
    current: &Quantiles,
    qs: &[f64],
) -> Result<Option<Shift>, (f64, bool)> {
    let mut largest: Option<Shift> = None;
    for &q in qs {
        let now = at(current, q).ok_or((q, true))?;
        let base = at(baseline, q).ok_or((q, false))?;
        let relative = if now == base {
            0.0
        } else {
            (now - base).abs() / base.abs()
        };
        if largest.is_none_or(|l| relative > l.relative) {
            largest = Some(Shift {
                q,
                baseline: base,
                current: now,
                relative,
            });
        }
    }
    Ok(largest)
}

/// The population stability index of `current` against `baseline`.
///
/// The baseline's quantile values cut the line into bins, whose expected
/// shares are the differences of their q (below the first value: its q;
/// above the last: 1 minus its q). The current shares come from the
/// current quantiles, read as a CDF linear between them and extended
/// linearly beyond them (see `cdf`). PSI = Σ (actual − expected) ·
/// ln(actual / expected), each share at least 1e-4.
pub fn psi(baseline: &Quantiles, current: &Quantiles) -> f64 {
    // Cut points: distinct baseline values, each with the largest q at it.
    let mut cuts: Vec<(f64, f64)> = Vec::new();
    for &(q, v) in baseline {
        match cuts.last_mut() {
            Some(last) if last.1 == v => last.0 = q,
            _ => cuts.push((q, v)),
        }
    }
    let mut total = 0.0;
    let (mut expected_below, mut actual_below) = (0.0, 0.0);
    for (q, v) in cuts
        .iter()
        .copied()
        .chain(std::iter::once((1.0, f64::INFINITY)))
    {
        let actual = cdf(current, v);
        total += term(actual - actual_below, q - expected_below);
        (expected_below, actual_below) = (q, actual);
    }
    total
}

fn term(actual: f64, expected: f64) -> f64 {
    let (a, e) = (actual.max(MIN_SHARE), expected.max(MIN_SHARE));
    (a - e) * (a / e).ln()
}

/// P(X <= v) under the quantiles `points`: linear between them, and
/// beyond the extreme ones extended along the nearest segment's slope,
/// within [0, 1] (a single point is a step).
fn cdf(points: &Quantiles, v: f64) -> f64 {
    let (Some(&(q_low, low)), Some(&(q_high, high))) = (points.first(), points.last()) else {
        return 0.0;
    };
    if v < low {
        return match points.iter().find(|&&(_, w)| w > low) {
            Some(&(q, w)) => (q_low - (q - q_low) / (w - low) * (low - v)).max(0.0),
            None => 0.0,
        };
    }
    if v > high {
        return match points.iter().rev().find(|&&(_, w)| w < high) {
            Some(&(q, w)) => (q_high + (q_high - q) / (high - w) * (v - high)).min(1.0),
            None => 1.0,
        };
    }
    // The last point at or below v: v == its value, or v lies before the next.
    let i = points.iter().rposition(|&(_, w)| w <= v).unwrap_or(0);
    let (q0, w0) = points[i];
    match points.get(i + 1) {
        Some(&(q1, w1)) if v > w0 && w1 > w0 => q0 + (q1 - q0) * (v - w0) / (w1 - w0),
        _ => q0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deciles(shift: f64) -> Quantiles {
        (1..=9)
            .map(|i| (f64::from(i) / 10.0, f64::from(i) * 10.0 + shift))
            .collect()
    }

    #[test]
    fn the_same_distribution_has_no_drift() {
        assert_eq!(psi(&deciles(0.0), &deciles(0.0)), 0.0);
        let shift = largest_shift(&deciles(0.0), &deciles(0.0), &[0.5]).unwrap();
        assert_eq!(shift.map(|s| s.relative), Some(0.0));
    }

    #[test]
    fn psi_grows_with_the_shift() {
        let small = psi(&deciles(0.0), &deciles(2.0));
        let large = psi(&deciles(0.0), &deciles(20.0));
        assert!(0.0 < small && small < 0.1, "{small}");
        assert!(large > 0.2, "{large}");
    }

    #[test]
    fn a_current_cdf_is_linear_between_quantiles_and_extended_beyond_them() {
        let points = vec![(0.25, 10.0), (0.75, 20.0)];
        assert_eq!(cdf(&points, 5.0), 0.0);
        assert_eq!(cdf(&points, 8.0), 0.15);
        assert_eq!(cdf(&points, 10.0), 0.25);
        assert_eq!(cdf(&points, 15.0), 0.5);
        assert_eq!(cdf(&points, 20.0), 0.75);
        assert_eq!(cdf(&points, 22.0), 0.85);
        assert_eq!(cdf(&points, 40.0), 1.0);
        let single = vec![(0.5, 10.0)];
        assert_eq!([9.0, 10.0, 11.0].map(|v| cdf(&single, v)), [0.0, 0.5, 1.0]);
    }

    #[test]
    fn repeated_baseline_values_make_one_bin() {
        // Half the baseline is exactly 0: a current half of zeros is no drift.
        let baseline = vec![(0.25, 0.0), (0.5, 0.0), (0.75, 5.0)];
        assert!(psi(&baseline, &baseline) < 1e-12);
    }

    #[test]
    fn the_largest_shift_names_its_quantile_or_the_missing_one() {
        let shift = largest_shift(&deciles(0.0), &deciles(5.0), &[0.1, 0.9])
            .unwrap()
            .unwrap();
        assert_eq!((shift.q, shift.relative), (0.1, 0.5));
        assert_eq!(
            largest_shift(&deciles(0.0), &deciles(0.0), &[0.95]),
            Err((0.95, true))
        );
        let zero = vec![(0.5, 0.0)];
        let moved = vec![(0.5, 1.0)];
        let from_zero = largest_shift(&zero, &moved, &[0.5]).unwrap().unwrap();
        assert_eq!(from_zero.relative, f64::INFINITY);
    }
}
