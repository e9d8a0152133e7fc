/// The cases `dataslo test policies/partition-completeness` runs in the sandbox, run natively.
#[test]
fn the_case_files_pass_natively() {
    dataslo_guest::testing::assert_cases_in::<super::PartitionCompleteness>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests"
    ));
}

use super::*;
use dataslo_guest::testing::Harness;

const NOW: &str = "2026-11-26T08:00:00Z";
const DAILY: &str = r#"{"pattern":"ds=%Y-%m-%d","lookback":3}"#;

fn of(partition: Option<&str>, run_state: Option<RunState>) -> Observation {
    let mut obs = Observation::new("s3://lake", "events", 0);
    obs.partition = partition.map(str::to_string);
    obs.run_state = run_state;
    obs
}

fn part(partition: &str) -> Observation {
    of(Some(partition), None)
}

fn measure(harness: Harness, cfg: &str, obs: &Observation) -> Measurement {
    let mut out = harness.evaluate::<PartitionCompleteness>(cfg, obs).unwrap();
    assert_eq!(out.len(), 1);
    out.remove(0)
}

#[test]
fn the_last_periods_that_ended_before_now_are_expected() {
    let h = Harness::at(NOW).with_history(vec![part("ds=2026-11-24"), part("ds=2026-11-23")]);
    let m = measure(h, DAILY, &part("ds=2026-11-25"));
    assert_eq!(
        (m.sli.as_str(), m.good, m.total),
        ("partition_completeness", 3, 3)
    );
    assert_eq!(m.value, Some(1.0));
    assert_eq!(
        m.detail,
        "3 of 3 partitions present (ds=2026-11-23 to ds=2026-11-25)"
    );
}

#[test]
fn the_detail_lists_the_missing_partitions() {
    let h = Harness::at(NOW).with_history(vec![part("ds=2026-11-22"), part("ds=2026-11-20")]);
    let m = measure(h, DAILY, &part("ds=2026-11-24"));
    assert_eq!((m.good, m.total), (1, 3));
    assert!(
        m.detail.ends_with("missing: ds=2026-11-23, ds=2026-11-25"),
        "{}",
        m.detail
    );
}

#[test]
fn a_period_is_expected_only_once_the_delay_after_it_has_passed() {
    let cfg = r#"{"pattern":"ds=%Y-%m-%d","lookback":1,"delay":"9h"}"#;
    // At 08:00 the 25th ended 8 h ago: the 24th is the latest expected.
    let m = measure(Harness::at(NOW), cfg, &part("ds=2026-11-24"));
    assert_eq!((m.good, m.total), (1, 1));
    assert_eq!(m.detail, "1 of 1 partitions present (ds=2026-11-24)");
}

#[test]
fn hours_and_months_are_periods_too() {
    let hourly = r#"{"pattern":"dt=%Y%m%d%H","period":"hour","lookback":2}"#;
    let h = Harness::at(NOW).with_history(vec![part("dt=2026112606")]);
    assert_eq!(measure(h, hourly, &part("dt=2026112607")).good, 2);
    let monthly = r#"{"pattern":"month=%Y-%m","period":"month","lookback":2}"#;
    let m = measure(Harness::at(NOW), monthly, &part("month=2026-10"));
    assert_eq!((m.good, m.total), (1, 2));
    assert!(m.detail.ends_with("missing: month=2026-09"), "{}", m.detail);
}

#[test]
fn a_partition_given_as_a_time_counts_for_its_period() {
    // OpenLineage's nominalTime becomes the partition as RFC 3339.
    let h = Harness::at(NOW).with_history(vec![part("2026-11-24T00:00:00Z")]);
    let m = measure(h, DAILY, &part("2026-11-25T13:30:00Z"));
    assert_eq!((m.good, m.total), (2, 3));
    assert!(m.detail.ends_with("missing: ds=2026-11-23"), "{}", m.detail);
}

#[test]
fn a_run_that_did_not_complete_leaves_its_partition_missing() {
    for state in [
        RunState::Start,
        RunState::Running,
        RunState::Abort,
        RunState::Fail,
    ] {
        let m = measure(
            Harness::at(NOW),
            r#"{"pattern":"ds=%Y-%m-%d","lookback":1}"#,
            &of(Some("ds=2026-11-25"), Some(state)),
        );
        assert_eq!(m.good, 0, "{state:?}");
    }
    for state in [None, Some(RunState::Complete), Some(RunState::Other)] {
        let m = measure(
            Harness::at(NOW),
            r#"{"pattern":"ds=%Y-%m-%d","lookback":1}"#,
            &of(Some("ds=2026-11-25"), state),
        );
        assert_eq!(m.good, 1, "{state:?}");
    }
}

#[test]
fn history_is_read_only_as_deep_as_configured() {
    let cfg = r#"{"pattern":"ds=%Y-%m-%d","lookback":3,"history":1}"#;
    let h = Harness::at(NOW).with_history(vec![part("ds=2026-11-24"), part("ds=2026-11-23")]);
    assert_eq!(measure(h, cfg, &part("ds=2026-11-25")).good, 2);
}

#[test]
fn no_partition_anywhere_is_missing_metadata() {
    let h = Harness::at(NOW).with_history(vec![of(None, None)]);
    assert_eq!(
        h.evaluate::<PartitionCompleteness>(DAILY, &of(None, None))
            .unwrap_err(),
        PolicyError::missing("partition")
    );
}

#[test]
fn at_most_ten_missing_partitions_are_named() {
    let cfg = r#"{"pattern":"ds=%Y-%m-%d","lookback":30}"#;
    let m = measure(Harness::at(NOW), cfg, &part("ds=2026-11-25"));
    assert_eq!((m.good, m.total), (1, 30));
    assert!(m.detail.ends_with(" and 19 more"), "{}", m.detail);
}

#[test]
fn bad_configs_are_invalid() {
    let h = Harness::at(NOW);
    for bad in [
        r#"{"pattern":"ds=%Y-%m-%d"}"#,
        r#"{"lookback":3}"#,
        r#"{"pattern":"ds=%Y-%m-%d","lookback":0}"#,
        r#"{"pattern":"ds=%Y-%m-%d","lookback":1001}"#,
        r#"{"pattern":"ds=%Y-%m-%d","lookback":3,"history":0}"#,
        r#"{"pattern":"ds=%Y-%m","lookback":3}"#,
        r#"{"pattern":"ds=%Y-%m-%d","period":"hour","lookback":3}"#,
        r#"{"pattern":"ds=%Y-%m-%d","period":"week","lookback":3}"#,
        r#"{"pattern":"ds=%F","lookback":3}"#,
        r#"{"pattern":"ds=%Y-%m-%d","lookback":3,"delay":"soon"}"#,
        r#"{"pattern":"ds=%Y-%m-%d","lookback":3,"partitions":[]}"#,
    ] {
        match h.validate::<PartitionCompleteness>(bad) {
            Err(PolicyError::InvalidConfig(msg)) => {
                assert!(msg.starts_with("partition-completeness:"), "{bad}: {msg}")
            }
            other => panic!("{bad}: expected invalid config, got {other:?}"),
        }
    }
}

#[test]
fn describe_has_a_json_schema_of_the_config() {
    let info = dataslo_guest::export::info::<PartitionCompleteness>();
    let schema: dataslo_guest::serde_json::Value =
        dataslo_guest::serde_json::from_str(&info.config_schema).unwrap();
    assert_eq!(
        schema["required"],
        dataslo_guest::serde_json::json!(["pattern", "lookback"])
    );
}
