use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One SLI value from one evaluation, as printed and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The SLI's name.
    pub sli: String,
    /// Good events.
    pub good: u64,
    /// All events.
    pub total: u64,
    /// The raw figure, if the policy gave one.
    pub value: Option<f64>,
    /// A human explanation.
    pub detail: String,
}

impl Measurement {
    /// Whether it counts for an SLO of SLI `sli`: it is `sli` or one of its
    /// parts, `sli:PART`.
    pub fn counts_for(&self, sli: &str) -> bool {
        self.sli
            .strip_prefix(sli)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
    }
}

/// Measurements that count together summed past `u64::MAX`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "the measurements of SLI `{sli}` overflow when summed: {what} {sum} + {add} is more than {max}",
    max = u64::MAX
)]
pub struct SumOverflow {
    /// The SLI summed.
    pub sli: String,
    /// `good` or `total`.
    pub what: &'static str,
    /// The sum so far.
    pub sum: u64,
    /// The measurement's count that overflowed it.
    pub add: u64,
}

/// Good and total events of `measurements`, summed as counting for SLI `sli`;
/// never wrapped.
pub fn sum_events<'a>(
    sli: &str,
    measurements: impl IntoIterator<Item = &'a Measurement>,
) -> Result<(u64, u64), SumOverflow> {
    let (mut good, mut total) = (0u64, 0u64);
    for m in measurements {
        // good <= total per measurement, so total overflows first: check it first.
        for (what, sum, add) in [("total", &mut total, m.total), ("good", &mut good, m.good)] {
            *sum = sum.checked_add(add).ok_or_else(|| SumOverflow {
                sli: sli.to_string(),
                what,
                sum: *sum,
                add,
            })?;
        }
    }
    Ok((good, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(sli: &str, good: u64, total: u64) -> Measurement {
        Measurement {
            sli: sli.into(),
            good,
            total,
            value: None,
            detail: String::new(),
        }
    }

    #[test]
    fn an_sli_counts_its_parts_and_not_its_namesakes() {
        assert!(m("rows", 1, 1).counts_for("rows"));
        assert!(m("rows:eu", 1, 1).counts_for("rows"));
        assert!(!m("rows_eu", 1, 1).counts_for("rows"));
        assert!(!m("row", 1, 1).counts_for("rows"));
    }

    #[test]
    fn two_valid_measurements_that_overflow_together_are_an_error_naming_the_sli() {
        let pair = [m("ok", u64::MAX, u64::MAX), m("ok", 0, 2)];
        let error = sum_events("ok", &pair).unwrap_err();
        assert_eq!(
            error,
            SumOverflow {
                sli: "ok".into(),
                what: "total",
                sum: u64::MAX,
                add: 2
            }
        );
        assert!(error.to_string().contains("SLI `ok` overflow"), "{error}");
        assert_eq!(
            sum_events("ok", &[m("ok", u64::MAX - 2, u64::MAX - 2), m("ok", 0, 2)]),
            Ok((u64::MAX - 2, u64::MAX)),
            "up to u64::MAX exactly is a sum"
        );
    }
}
