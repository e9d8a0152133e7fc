use super::*;
use dataslo_guest::Quantile;
use dataslo_guest::testing::Harness;

/// The cases `dataslo test policies/distribution-drift` runs in the sandbox, run natively.
#[test]
fn the_case_files_pass_natively() {
    dataslo_guest::testing::assert_cases_in::<DistributionDrift>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests"
    ));
}

const HOUR: i64 = 3_600 * 1_000_000_000;
const NOW: &str = "2026-11-26T08:00:00Z";

/// An observation at `at` whose column `amount` has the quartiles `values`.
fn obs(at: i64, values: Option<[f64; 3]>) -> Observation {
    let mut o = Observation::new("s3://lake", "payments", at);
    let mut c = ColumnMetrics::new("amount");
    if let Some(values) = values {
        c.quantiles = [0.25, 0.5, 0.75]
            .into_iter()
            .zip(values)
            .map(|(q, value)| Quantile { q, value })
            .collect();
    }
    o.columns.push(c);
    o
}

/// A harness at NOW with one observation an hour before it per entry, newest first.
fn hourly(history: &[Option<[f64; 3]>]) -> Harness {
    let h = Harness::at(NOW);
    let now = h.now();
    let past = history
        .iter()
        .enumerate()
        .map(|(i, v)| obs(now - (i as i64 + 1) * HOUR, *v))
        .collect();
    h.with_history(past)
}

fn judge(h: &Harness, config: &str, current: [f64; 3]) -> Result<Measurement, PolicyError> {
    let mut out = h.evaluate::<DistributionDrift>(config, &obs(h.now(), Some(current)))?;
    assert_eq!(out.len(), 1);
    Ok(out.remove(0))
}

const SHIFT: &str = r#"{"column":"amount","method":"quantile_shift","threshold":0.1}"#;
const PSI: &str = r#"{"column":"amount","method":"psi","threshold":0.2}"#;

#[test]
fn the_baseline_averages_earlier_quantiles_and_the_shift_is_relative_to_it() {
    let h = hourly(&[Some([90.0, 190.0, 290.0]), Some([110.0, 210.0, 310.0])]);
    let m = judge(&h, SHIFT, [100.0, 200.0, 331.0]).unwrap();
    assert_eq!(
        (m.sli.as_str(), m.good, m.total),
        ("distribution_drift", 0, 1)
    );
    assert!(
        (m.value.unwrap() - 31.0 / 300.0).abs() < 1e-12,
        "{:?}",
        m.value
    );
    assert!(m.detail.contains("at q=0.75 (300 -> 331)"), "{}", m.detail);
    // A shift of exactly the threshold is still good.
    assert!(judge(&h, SHIFT, [100.0, 200.0, 330.0]).unwrap().is_good());
}

#[test]
fn chosen_quantiles_limit_the_shift_to_them() {
    let h = hourly(&[Some([100.0, 200.0, 300.0])]);
    let median_only =
        r#"{"column":"amount","method":"quantile_shift","threshold":0.1,"quantiles":[0.5]}"#;
    let m = judge(&h, median_only, [100.0, 200.0, 900.0]).unwrap();
    assert_eq!((m.good, m.value), (1, Some(0.0)));
    let missing =
        r#"{"column":"amount","method":"quantile_shift","threshold":0.1,"quantiles":[0.99]}"#;
    assert_eq!(
        judge(&h, missing, [1.0, 2.0, 3.0]).unwrap_err(),
        PolicyError::missing("columns.amount.quantiles[q=0.99]")
    );
}

#[test]
fn psi_is_zero_without_drift_and_large_for_a_moved_distribution() {
    let h = hourly(&[Some([100.0, 200.0, 300.0]); 3]);
    let same = judge(&h, PSI, [100.0, 200.0, 300.0]).unwrap();
    assert_eq!((same.good, same.value), (1, Some(0.0)));
    let moved = judge(&h, PSI, [300.0, 400.0, 500.0]).unwrap();
    assert_eq!(moved.good, 0);
    assert!(moved.value.unwrap() > 0.2, "{:?}", moved.value);
    assert!(
        moved.detail.contains("over 4 baseline bins"),
        "{}",
        moved.detail
    );
}

#[test]
fn baseline_within_keeps_only_recent_observations() {
    // The last two hours moved to 200/300/400; before them it was 100/200/300.
    let h = hourly(&[
        Some([200.0, 300.0, 400.0]),
        Some([200.0, 300.0, 400.0]),
        Some([100.0, 200.0, 300.0]),
        Some([100.0, 200.0, 300.0]),
    ]);
    let recent =
        r#"{"column":"amount","method":"quantile_shift","threshold":0.1,"baseline_within":"2h"}"#;
    assert_eq!(
        judge(&h, recent, [200.0, 300.0, 400.0]).unwrap().value,
        Some(0.0)
    );
    let last_one =
        r#"{"column":"amount","method":"quantile_shift","threshold":0.1,"baseline_last":1}"#;
    assert_eq!(
        judge(&h, last_one, [200.0, 300.0, 400.0]).unwrap().value,
        Some(0.0)
    );
    assert!(!judge(&h, SHIFT, [200.0, 300.0, 400.0]).unwrap().is_good());
}

#[test]
fn a_column_without_quantiles_is_missing_metadata_naming_it() {
    let h = hourly(&[Some([1.0, 2.0, 3.0])]);
    let none = h.evaluate::<DistributionDrift>(SHIFT, &obs(h.now(), None));
    assert_eq!(
        none.unwrap_err(),
        PolicyError::missing("columns.amount.quantiles")
    );
    let other = r#"{"column":"fee","method":"psi","threshold":0.2}"#;
    let absent = h.evaluate::<DistributionDrift>(other, &obs(h.now(), Some([1.0, 2.0, 3.0])));
    assert_eq!(absent.unwrap_err(), PolicyError::missing("columns.fee"));
}

#[test]
fn a_baseline_below_min_baseline_is_missing_history() {
    let h = hourly(&[None, Some([1.0, 2.0, 3.0])]);
    let cfg = r#"{"column":"amount","method":"psi","threshold":0.2,"min_baseline":2}"#;
    match judge(&h, cfg, [1.0, 2.0, 3.0]).unwrap_err() {
        PolicyError::MissingMetadata(what) => {
            assert!(
                what.starts_with("history: 1 baseline observations with columns.amount.quantiles"),
                "{what}"
            );
            assert!(what.ends_with("min_baseline is 2"), "{what}");
        }
        other => panic!("expected missing metadata, got {other:?}"),
    }
    assert!(matches!(
        judge(&hourly(&[]), PSI, [1.0, 2.0, 3.0]),
        Err(PolicyError::MissingMetadata(_))
    ));
}

#[test]
fn bad_configs_are_invalid_and_say_why() {
    let h = Harness::at(NOW);
    for (bad, why) in [
        (r#"{"column":"a","method":"psi"}"#, "threshold"),
        (r#"{"column":"a","method":"ks","threshold":0.2}"#, "ks"),
        (
            r#"{"column":"","method":"psi","threshold":0.2}"#,
            "column is empty",
        ),
        (
            r#"{"column":"a","method":"psi","threshold":0}"#,
            "threshold must be",
        ),
        (
            r#"{"column":"a","method":"psi","threshold":0.2,"quantiles":[0.5]}"#,
            "only with method",
        ),
        (
            r#"{"column":"a","method":"quantile_shift","threshold":0.2,"quantiles":[]}"#,
            "quantiles is empty",
        ),
        (
            r#"{"column":"a","method":"quantile_shift","threshold":0.2,"quantiles":[1.5]}"#,
            "1.5 is not in [0, 1]",
        ),
        (
            r#"{"column":"a","method":"psi","threshold":0.2,"baseline_last":0}"#,
            "baseline_last must be",
        ),
        (
            r#"{"column":"a","method":"psi","threshold":0.2,"min_baseline":11}"#,
            "min_baseline must be",
        ),
        (
            r#"{"column":"a","method":"psi","threshold":0.2,"baseline_within":0}"#,
            "baseline_within",
        ),
        (
            r#"{"column":"a","method":"psi","threshold":0.2,"window":3}"#,
            "unknown field `window`",
        ),
    ] {
        match h.validate::<DistributionDrift>(bad) {
            Err(PolicyError::InvalidConfig(msg)) => assert!(msg.contains(why), "{bad}: {msg}"),
            other => panic!("{bad}: expected invalid config, got {other:?}"),
        }
    }
}

#[test]
fn describe_has_a_json_schema_of_the_config() {
    let info = dataslo_guest::export::info::<DistributionDrift>();
    let schema: dataslo_guest::serde_json::Value =
        dataslo_guest::serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(
        schema["required"],
        dataslo_guest::serde_json::json!(["column", "method", "threshold"])
    );
}
