//! Holding a policy's answer to what its case expects.

use super::{Expect, ExpectedMeasurement};
use crate::model::Measurement;
use crate::runtime::ErrorCode;

/// How far a value may be from the expected one when the case gives no
/// tolerance: room for rounding, not for a different answer.
pub const DEFAULT_TOLERANCE: f64 = 1e-9;

/// Compares `answer` (the measurements, or the error's kind and message)
/// with `expect`: `Ok` with a short summary when they agree, `Err` saying
/// every difference otherwise.
pub fn compare(
    expect: &Expect,
    answer: Result<&[Measurement], (ErrorCode, &str)>,
) -> Result<String, String> {
    match (expect, answer) {
        (Expect::Error(kind), Err((got, message))) if *kind == got => {
            Ok(format!("{got}: {message}"))
        }
        (Expect::Error(kind), Err((got, message))) => {
            Err(format!("expected error {kind}, got error {got}: {message}"))
        }
        (Expect::Error(kind), Ok(measured)) => Err(format!(
            "expected error {kind}, got measurements: {}",
            summary(measured)
        )),
        (Expect::Measurements(_), Err((got, message))) => {
            Err(format!("expected measurements, got error {got}: {message}"))
        }
        (Expect::Measurements(expected), Ok(measured)) => {
            let problems = differences(expected, measured);
            if problems.is_empty() {
                Ok(summary(measured))
            } else {
                Err(problems.join("; "))
            }
        }
    }
}

fn differences(expected: &[ExpectedMeasurement], measured: &[Measurement]) -> Vec<String> {
    let mut used = vec![false; measured.len()];
    let mut problems = Vec::new();
    for want in expected {
        let found = measured
            .iter()
            .enumerate()
            .find(|(i, m)| !used[*i] && m.sli == want.sli);
        let Some((i, got)) = found else {
            problems.push(format!("no measurement of SLI `{}`", want.sli));
            continue;
        };
        used[i] = true;
        if (got.good, got.total) != (want.good, want.total) {
            problems.push(format!(
                "`{}`: good/total {}/{}, expected {}/{}",
                want.sli, got.good, got.total, want.good, want.total
            ));
        }
        if let Some(value) = want.value {
            let tolerance = want.tolerance.unwrap_or(DEFAULT_TOLERANCE);
            match got.value {
                None => problems.push(format!("`{}`: no value, expected {value}", want.sli)),
                Some(v) if (v - value).abs() > tolerance => problems.push(format!(
                    "`{}`: value {v}, expected {value} ± {tolerance}",
                    want.sli
                )),
                Some(_) => {}
            }
        }
    }
    for (m, _) in measured.iter().zip(&used).filter(|(_, used)| !**used) {
        problems.push(format!(
            "unexpected measurement `{}` {}/{}",
            m.sli, m.good, m.total
        ));
    }
    problems
}

fn summary(measured: &[Measurement]) -> String {
    if measured.is_empty() {
        return "no measurements".into();
    }
    measured
        .iter()
        .map(|m| match m.value {
            Some(v) => format!("{} {}/{} ({v})", m.sli, m.good, m.total),
            None => format!("{} {}/{}", m.sli, m.good, m.total),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(sli: &str, good: u64, total: u64, value: Option<f64>) -> Measurement {
        Measurement {
            sli: sli.into(),
            good,
            total,
            value,
            detail: String::new(),
        }
    }

    fn want(sli: &str, good: u64, total: u64, value: Option<f64>) -> ExpectedMeasurement {
        ExpectedMeasurement {
            sli: sli.into(),
            good,
            total,
            value,
            tolerance: None,
        }
    }

    #[test]
    fn measurements_agree_in_any_order_and_values_within_the_tolerance() {
        let expect = Expect::Measurements(vec![
            want("b", 1, 1, None),
            ExpectedMeasurement {
                tolerance: Some(0.5),
                ..want("a", 3, 4, Some(10.0))
            },
        ]);
        let got = [measured("a", 3, 4, Some(10.4)), measured("b", 1, 1, None)];
        assert!(compare(&expect, Ok(&got)).is_ok());
    }

    #[test]
    fn every_difference_is_named() {
        let expect = Expect::Measurements(vec![want("a", 1, 1, Some(5.0)), want("c", 1, 1, None)]);
        let got = [measured("a", 0, 1, Some(6.0)), measured("b", 1, 1, None)];
        let err = compare(&expect, Ok(&got)).unwrap_err();
        assert!(err.contains("`a`: good/total 0/1, expected 1/1"), "{err}");
        assert!(err.contains("`a`: value 6, expected 5"), "{err}");
        assert!(err.contains("no measurement of SLI `c`"), "{err}");
        assert!(err.contains("unexpected measurement `b`"), "{err}");
    }

    #[test]
    fn an_error_agrees_only_with_its_own_kind() {
        let expect = Expect::Error(ErrorCode::MissingMetadata);
        assert!(compare(&expect, Err((ErrorCode::MissingMetadata, "row_count"))).is_ok());
        let err = compare(&expect, Err((ErrorCode::Trap, "boom"))).unwrap_err();
        assert!(err.contains("got error trap"), "{err}");
        assert!(compare(&expect, Ok(&[])).is_err());
    }
}
