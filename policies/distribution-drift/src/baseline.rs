//! The baseline distribution: the quantiles of past observations of a
//! column, averaged at equal q.

use dataslo_guest::Quantile;

/// Two q closer than this are the same quantile.
const Q_EPSILON: f64 = 1e-9;

/// A distribution given by quantiles: (q, value), in increasing q, finite.
pub type Quantiles = Vec<(f64, f64)>;

/// `quantiles` as a distribution: sorted by q, q outside [0, 1] and
/// non-finite values dropped.
pub fn tidy(quantiles: &[Quantile]) -> Quantiles {
    let mut out: Quantiles = quantiles
        .iter()
        .filter(|p| (0.0..=1.0).contains(&p.q) && p.value.is_finite())
        .map(|p| (p.q, p.value))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out.dedup_by(|b, a| (a.0 - b.0).abs() < Q_EPSILON);
    out
}

/// The value at `q` in `quantiles`, if it has that q.
pub fn at(quantiles: &Quantiles, q: f64) -> Option<f64> {
    quantiles
        .iter()
        .find(|(at, _)| (at - q).abs() < Q_EPSILON)
        .map(|(_, v)| *v)
}

/// The mean of `samples` at each q that every sample has; empty when they
/// share none (or there is no sample).
pub fn average(samples: &[Quantiles]) -> Quantiles {
    let Some((first, rest)) = samples.split_first() else {
        return Vec::new();
    };
    first
        .iter()
        .filter_map(|&(q, v)| {
            let others: Option<Vec<f64>> = rest.iter().map(|s| at(s, q)).collect();
            let others = others?;
            let sum = v + others.iter().sum::<f64>();
            Some((q, sum / samples.len() as f64))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantiles(points: &[(f64, f64)]) -> Vec<Quantile> {
        points
            .iter()
            .map(|&(q, value)| Quantile { q, value })
            .collect()
    }

    #[test]
    fn tidy_sorts_by_q_and_drops_what_is_no_quantile() {
        let raw = quantiles(&[(0.9, 9.0), (0.1, 1.0), (1.5, 3.0), (0.5, f64::NAN)]);
        assert_eq!(tidy(&raw), vec![(0.1, 1.0), (0.9, 9.0)]);
    }

    #[test]
    fn the_baseline_averages_the_values_at_each_shared_q() {
        let a = vec![(0.25, 10.0), (0.5, 20.0), (0.75, 30.0)];
        let b = vec![(0.5, 40.0), (0.75, 50.0)];
        assert_eq!(average(&[a, b]), vec![(0.5, 30.0), (0.75, 40.0)]);
        assert_eq!(average(&[]), Vec::new());
    }
}
