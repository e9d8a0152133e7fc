use super::*;
use dataslo_guest::testing::Harness;

/// The cases `dataslo test policies/volume-anomaly` runs in the sandbox, run natively.
#[test]
fn the_case_files_pass_natively() {
    dataslo_guest::testing::assert_cases_in::<VolumeAnomaly>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests"
    ));
}

const DAY: i64 = 86_400 * 1_000_000_000;
/// A Thursday, 08:00 UTC.
const NOW: &str = "2026-11-26T08:00:00Z";

fn obs(at: i64, rows: Option<u64>) -> Observation {
    let mut o = Observation::new("s3://lake", "events", at);
    o.row_count = rows;
    o
}

/// A harness at NOW whose history holds one observation a day before it,
/// newest first, with the given row counts.
fn daily(counts: &[u64]) -> Harness {
    let h = Harness::at(NOW);
    let now = h.now();
    let history = counts
        .iter()
        .enumerate()
        .map(|(i, n)| obs(now - (i as i64 + 1) * DAY, Some(*n)))
        .collect();
    h.with_history(history)
}

fn judge(h: &Harness, config: &str, rows: u64) -> Result<Measurement, PolicyError> {
    let mut out = h.evaluate::<VolumeAnomaly>(config, &obs(h.now(), Some(rows)))?;
    assert_eq!(out.len(), 1);
    Ok(out.remove(0))
}

const CALM: [u64; 7] = [1000, 1010, 990, 1005, 995, 1000, 1020];

#[test]
fn a_count_near_the_median_is_good_and_reports_its_robust_z() {
    let m = judge(&daily(&CALM), r#"{"max_deviation":3}"#, 1000).unwrap();
    assert_eq!((m.sli.as_str(), m.good, m.total), ("volume_anomaly", 1, 1));
    assert_eq!(m.value, Some(0.0));
    assert!(
        m.detail.contains("median 1000 MAD 5 over n=7"),
        "{}",
        m.detail
    );
}

#[test]
fn a_count_beyond_max_deviation_either_way_is_bad() {
    let h = daily(&CALM);
    // MAD 5 → one robust standard deviation is 7.413 rows.
    let up = judge(&h, r#"{"max_deviation":3}"#, 1030).unwrap();
    let down = judge(&h, r#"{"max_deviation":3}"#, 970).unwrap();
    assert_eq!((up.good, down.good), (0, 0));
    assert!((up.value.unwrap() - 30.0 / 7.413).abs() < 1e-9);
    assert!((down.value.unwrap() + 30.0 / 7.413).abs() < 1e-9);
    assert!(judge(&h, r#"{"max_deviation":3}"#, 1022).unwrap().is_good());
}

#[test]
fn decrease_only_tolerates_a_rise_but_not_a_drop() {
    let h = daily(&CALM);
    let cfg = r#"{"max_deviation":3,"direction":"decrease"}"#;
    assert!(judge(&h, cfg, 5000).unwrap().is_good());
    let drop = judge(&h, cfg, 900).unwrap();
    assert!(!drop.is_good());
    assert!(drop.detail.contains("drops only"), "{}", drop.detail);
}

#[test]
fn weekly_seasonality_compares_the_same_weekday_only() {
    // Four weeks of a weekday load of 1000 and weekends of 100: a Thursday
    // of 100 rows is an anomaly only once weekends are set apart.
    let counts: Vec<u64> = (1..=28)
        .map(|back| {
            // NOW is a Thursday: `back` days before it is a weekend day
            // when it lands on Saturday (5) or Sunday (4).
            if matches!(back % 7, 4 | 5) { 100 } else { 1000 }
        })
        .collect();
    let h = daily(&counts);
    let weekly = judge(
        &h,
        r#"{"max_deviation":3,"seasonality":"weekly","min_history":4}"#,
        100,
    )
    .unwrap();
    assert!(!weekly.is_good());
    assert!(
        weekly.detail.contains("n=4 Thursdays in UTC"),
        "{}",
        weekly.detail
    );
    let flat = r#"{"max_deviation":3,"lookback":28,"min_history":3}"#;
    assert_eq!(judge(&h, flat, 1000).unwrap().value, Some(0.0));
}

#[test]
fn the_weekday_is_taken_in_the_configured_time_zone() {
    // 20:00 UTC on Sunday is Monday in Tokyo: the Monday history counts there.
    let h = Harness::at("2026-11-29T20:00:00Z");
    let now = h.now();
    let history = (1..=14)
        .map(|d| obs(now - d * DAY, Some(if d % 7 == 0 { 500 } else { 50 })))
        .collect();
    let h = h.with_history(history);
    let cfg = |tz: &str| {
        format!(r#"{{"max_deviation":3,"seasonality":"weekly","timezone":"{tz}","min_history":3}}"#)
    };
    let tokyo = h.evaluate::<VolumeAnomaly>(&cfg("Asia/Tokyo"), &obs(now, Some(500)));
    // Only two same-weekday observations in 14 days: too few either way.
    assert!(
        matches!(tokyo, Err(PolicyError::MissingMetadata(ref f)) if f.contains("Mondays in Asia/Tokyo"))
    );
    let utc = h.evaluate::<VolumeAnomaly>(&cfg("UTC"), &obs(now, Some(500)));
    assert!(
        matches!(utc, Err(PolicyError::MissingMetadata(ref f)) if f.contains("2 comparable row counts (Sundays in UTC)"))
    );
}

#[test]
fn too_little_history_is_missing_metadata_naming_history() {
    let err = judge(&daily(&[1000, 1000]), r#"{"max_deviation":3}"#, 10).unwrap_err();
    match err {
        PolicyError::MissingMetadata(what) => {
            assert!(
                what.starts_with("history: 2 comparable row counts"),
                "{what}"
            );
            assert!(what.contains("min_history is 5"), "{what}");
        }
        other => panic!("expected missing metadata, got {other:?}"),
    }
}

#[test]
fn past_observations_without_row_count_do_not_count() {
    let h = Harness::at(NOW);
    let now = h.now();
    let history = (1..=6).map(|d| obs(now - d * DAY, None)).collect();
    let err = h
        .with_history(history)
        .evaluate::<VolumeAnomaly>(r#"{"max_deviation":3}"#, &obs(now, Some(1)))
        .unwrap_err();
    assert!(matches!(err, PolicyError::MissingMetadata(ref f) if f.starts_with("history: 0")));
}

#[test]
fn lookback_bounds_the_history_read() {
    let cfg = r#"{"max_deviation":3,"lookback":3,"min_history":3}"#;
    let m = judge(&daily(&[10, 10, 10, 1000, 1000, 1000, 1000]), cfg, 10).unwrap();
    assert!(
        m.detail.contains("median 10 MAD 0 over n=3"),
        "{}",
        m.detail
    );
}

#[test]
fn a_change_from_a_constant_history_is_bad_without_a_value() {
    let m = judge(&daily(&[7; 5]), r#"{"max_deviation":3}"#, 8).unwrap();
    assert_eq!((m.good, m.value), (0, None));
    assert!(
        judge(&daily(&[7; 5]), r#"{"max_deviation":3}"#, 7)
            .unwrap()
            .is_good()
    );
}

#[test]
fn the_current_row_count_is_required() {
    let h = daily(&CALM);
    let err = h
        .evaluate::<VolumeAnomaly>(r#"{"max_deviation":3}"#, &obs(h.now(), None))
        .unwrap_err();
    assert_eq!(err, PolicyError::missing("row_count"));
}

#[test]
fn bad_configs_are_invalid_and_say_why() {
    let h = Harness::at(NOW);
    for (bad, why) in [
        ("{}", "max_deviation"),
        (r#"{"max_deviation":0}"#, "max_deviation must be"),
        (r#"{"max_deviation":3,"seasonality":"daily"}"#, "daily"),
        (r#"{"max_deviation":3,"direction":"increase"}"#, "increase"),
        (
            r#"{"max_deviation":3,"min_history":2}"#,
            "min_history must be in [3",
        ),
        (
            r#"{"max_deviation":3,"min_history":10,"lookback":9}"#,
            "lookback must be",
        ),
        (
            r#"{"max_deviation":3,"timezone":"UTC"}"#,
            "only with seasonality",
        ),
        (
            r#"{"max_deviation":3,"seasonality":"weekly","timezone":"Mars/Olympus"}"#,
            "Mars/Olympus",
        ),
        (
            r#"{"max_deviation":3,"window":7}"#,
            "unknown field `window`",
        ),
    ] {
        match h.validate::<VolumeAnomaly>(bad) {
            Err(PolicyError::InvalidConfig(msg)) => assert!(msg.contains(why), "{bad}: {msg}"),
            other => panic!("{bad}: expected invalid config, got {other:?}"),
        }
    }
}

#[test]
fn describe_has_a_json_schema_of_the_config() {
    let info = dataslo_guest::export::info::<VolumeAnomaly>();
    let schema: dataslo_guest::serde_json::Value =
        dataslo_guest::serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(schema["required"][0], "max_deviation");
    assert_eq!(schema["additionalProperties"], false);
}
