//! Robust statistics of a sample: median, MAD and the robust z score.

/// MAD times this estimates the standard deviation of normal data, so a
/// robust z score reads in standard deviations.
const MAD_TO_SIGMA: f64 = 1.4826;
/// The same for the mean absolute deviation, used when the MAD is 0
/// (more than half of the sample equal to the median).
const MEAN_AD_TO_SIGMA: f64 = 1.2533;

/// The centre and spread of past row counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Robust {
    /// The median.
    pub median: f64,
    /// The median absolute deviation from the median.
    pub mad: f64,
    /// The spread a deviation is divided by: scaled MAD, else scaled mean
    /// absolute deviation, else 0 (a constant sample).
    scale: f64,
}

impl Robust {
    /// The statistics of `sample`; `None` when it is empty.
    pub fn of(sample: &[f64]) -> Option<Self> {
        let centre = median(sample.to_vec())?;
        let deviations: Vec<f64> = sample.iter().map(|x| (x - centre).abs()).collect();
        let mean_ad = deviations.iter().sum::<f64>() / deviations.len() as f64;
        let mad = median(deviations)?;
        let scale = if mad > 0.0 {
            mad * MAD_TO_SIGMA
        } else {
            mean_ad * MEAN_AD_TO_SIGMA
        };
        Some(Robust {
            median: centre,
            mad,
            scale,
        })
    }

    /// How many robust standard deviations `x` lies above (positive) or
    /// below (negative) the median. Infinite when the sample is constant
    /// and `x` differs from it.
    pub fn z(&self, x: f64) -> f64 {
        let deviation = x - self.median;
        if deviation == 0.0 {
            0.0
        } else {
            deviation / self.scale
        }
    }
}

/// The median of `values`; `None` when empty.
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_sample_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(vec![5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn one_outlier_moves_neither_the_median_nor_the_mad() {
        let calm = Robust::of(&[100.0, 102.0, 98.0, 101.0, 99.0]).unwrap();
        let spiky = Robust::of(&[100.0, 102.0, 98.0, 101.0, 1e9]).unwrap();
        assert_eq!((calm.median, calm.mad), (100.0, 1.0));
        assert_eq!((spiky.median, spiky.mad), (101.0, 1.0));
    }

    #[test]
    fn z_is_the_deviation_in_scaled_mads() {
        let r = Robust::of(&[100.0, 102.0, 98.0, 101.0, 99.0]).unwrap();
        assert!((r.z(100.0 + 3.0 * 1.4826) - 3.0).abs() < 1e-12);
        assert!((r.z(100.0 - 1.4826) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_zero_mad_falls_back_to_the_mean_absolute_deviation() {
        let r = Robust::of(&[10.0, 10.0, 10.0, 14.0]).unwrap();
        assert_eq!((r.median, r.mad), (10.0, 0.0));
        assert!((r.z(11.0) - 1.0 / 1.2533).abs() < 1e-12);
    }

    #[test]
    fn a_constant_sample_makes_any_change_infinitely_unusual() {
        let r = Robust::of(&[7.0, 7.0, 7.0]).unwrap();
        assert_eq!(r.z(7.0), 0.0);
        assert_eq!(r.z(6.0), f64::NEG_INFINITY);
    }
}
