//! Safe ratios: no division by zero, no NaN.

/// `good / total` as a fraction in [0, 1], or `None` when `total` is zero.
pub fn fraction(good: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| good.min(total) as f64 / total as f64)
}

/// `part / whole`, or `default` when `whole` is zero or either is not finite.
pub fn ratio_or(part: f64, whole: f64, default: f64) -> f64 {
    let r = part / whole;
    if whole == 0.0 || !r.is_finite() {
        default
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_of_nothing_is_none() {
        assert_eq!(fraction(0, 0), None);
        assert_eq!(fraction(3, 4), Some(0.75));
        assert_eq!(fraction(9, 4), Some(1.0));
    }

    #[test]
    fn ratio_falls_back_instead_of_nan_or_infinity() {
        assert_eq!(ratio_or(1.0, 0.0, 0.0), 0.0);
        assert_eq!(ratio_or(f64::NAN, 1.0, 7.0), 7.0);
        assert_eq!(ratio_or(1.0, 4.0, 0.0), 0.25);
    }
}
