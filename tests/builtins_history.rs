//! The built-ins that judge against history, `volume-anomaly` and
//! `distribution-drift`, run through the host as the engine runs them
//! (embedded bytes, sandbox, the host's history), and their own case files
//! run by `dataslo test`.

use crate::policy_tests::dataslo_test;
use crate::support::*;
use dataslo::model::{Observation, parse_observation};
use dataslo::runtime::{EvalErrorKind, GuestError, Policy};
use std::sync::OnceLock;

fn builtin(name: &'static str) -> Policy {
    runtime().load_builtin(name).expect("built-in loads")
}

fn volume_anomaly() -> &'static Policy {
    static LOADED: OnceLock<Policy> = OnceLock::new();
    LOADED.get_or_init(|| builtin("volume-anomaly"))
}

fn distribution_drift() -> &'static Policy {
    static LOADED: OnceLock<Policy> = OnceLock::new();
    LOADED.get_or_init(|| builtin("distribution-drift"))
}

/// An observation of `postgres://prod/orders` at `at`, with `extra` JSON fields.
fn observed(at: &str, extra: &str) -> Observation {
    let text = format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}",{extra}}}"#
    );
    parse_observation(&text, "test").expect("test observation parses")
}

/// Three weeks of two observations every Sunday (UTC), newest first: the
/// Sunday load near 500 rows at 12:00, and the Monday batch near 5000 rows
/// at 23:30, which is already Monday 00:30 in Berlin.
fn three_weeks() -> Vec<Observation> {
    [("15", 4900), ("08", 5100), ("01", 5000)]
        .into_iter()
        .flat_map(|(day, batch)| {
            [
                observed(
                    &format!("2026-11-{day}T23:30:00Z"),
                    &format!(r#""row_count":{batch}"#),
                ),
                observed(&format!("2026-11-{day}T12:00:00Z"), r#""row_count":500"#),
            ]
        })
        .collect()
}

#[test]
fn volume_anomaly_compares_weekdays_in_the_configured_time_zone_inside_the_sandbox() {
    let batch = observed("2026-11-22T23:30:00Z", r#""row_count":5010"#);
    let judge = |tz: &str| {
        let config = format!(
            r#"{{"max_deviation":3.5,"seasonality":"weekly","timezone":"{tz}","min_history":3}}"#
        );
        evaluate_with(volume_anomaly(), &config, &batch, three_weeks(), None)
            .expect("evaluates")
            .measurements
            .remove(0)
    };
    let berlin = judge("Europe/Berlin");
    assert_eq!(
        (berlin.sli.as_str(), berlin.good, berlin.total),
        ("volume_anomaly", 1, 1)
    );
    assert!(
        berlin
            .detail
            .contains("median 5000 MAD 100 over n=3 Mondays in Europe/Berlin"),
        "{}",
        berlin.detail
    );
    let utc = judge("UTC");
    assert!(
        utc.detail.contains("over n=6 Sundays in UTC"),
        "{}",
        utc.detail
    );
}

#[test]
fn volume_anomaly_with_too_little_history_is_missing_metadata_not_a_bad_event() {
    let short: Vec<_> = three_weeks().into_iter().take(2).collect();
    let obs = observation(r#""row_count":10"#);
    match evaluate_with(
        volume_anomaly(),
        r#"{"max_deviation":3}"#,
        &obs,
        short,
        None,
    ) {
        Err(e) => match e.kind {
            EvalErrorKind::Guest(GuestError::MissingMetadata(what)) => {
                assert!(
                    what.starts_with("history: 2 comparable row counts"),
                    "{what}"
                )
            }
            other => panic!("expected missing metadata, got {other:?}"),
        },
        Ok(eval) => panic!("expected an error, got {:?}", eval.measurements),
    }
}

#[test]
fn distribution_drift_reads_the_baseline_from_the_hosts_history() {
    let quartiles = |scale: f64| {
        format!(
            r#""columns":{{"amount":{{"quantiles":{{"0.25":{},"0.5":{},"0.75":{}}}}}}}"#,
            25.0 * scale,
            50.0 * scale,
            75.0 * scale
        )
    };
    let history = vec![
        observed("2026-11-26T07:00:00Z", &quartiles(1.0)),
        observed("2026-11-26T06:00:00Z", &quartiles(1.0)),
    ];
    let shifted = observation(&quartiles(1.2));
    let eval = evaluate_with(
        distribution_drift(),
        r#"{"column":"amount","method":"quantile_shift","threshold":0.1}"#,
        &shifted,
        history.clone(),
        None,
    )
    .expect("evaluates");
    let m = &eval.measurements[0];
    assert_eq!((m.sli.as_str(), m.good), ("distribution_drift", 0));
    assert!((m.value.expect("a value") - 0.2).abs() < 1e-9, "{m:?}");
    let psi = evaluate_with(
        distribution_drift(),
        r#"{"column":"amount","method":"psi","threshold":0.2}"#,
        &observation(&quartiles(1.0)),
        history,
        None,
    )
    .expect("evaluates");
    assert_eq!(
        (psi.measurements[0].good, psi.measurements[0].value),
        (1, Some(0.0))
    );
    match evaluate_with(
        distribution_drift(),
        r#"{"column":"amount","method":"psi","threshold":0.2}"#,
        &observation(r#""columns":{"amount":{"null_count":0}}"#),
        Vec::new(),
        None,
    ) {
        Err(e) => assert_eq!(
            e.kind,
            EvalErrorKind::Guest(GuestError::MissingMetadata(
                "columns.amount.quantiles".into()
            ))
        ),
        Ok(eval) => panic!("expected an error, got {:?}", eval.measurements),
    }
}

#[test]
fn both_crates_pass_their_own_cases_in_the_sandbox() {
    for (crate_dir, cases) in [
        ("policies/volume-anomaly", "13 passed, 0 failed"),
        ("policies/distribution-drift", "11 passed, 0 failed"),
    ] {
        let out = dataslo_test(&[crate_dir]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{crate_dir}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(cases), "{crate_dir}:\n{stdout}");
    }
}
