//! OpenLineage events from other projects, as they are, become the expected
//! observations: every file of tests/data/openlineage. Only what a run wrote
//! or measured becomes one (see `dataslo::openlineage`); the events of every
//! producer under upstream/ are in `openlineage_producers`.

use crate::support::test_data;
use dataslo::model::Observation;
use dataslo::openlineage::observations_from;
use std::collections::BTreeSet;

fn read(name: &str) -> String {
    let path = test_data("openlineage").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn file(name: &str) -> Vec<Observation> {
    observations_from(&read(name), name).unwrap_or_else(|e| panic!("{e}"))
}

/// A facet file placed where it stands in a real event: in a dataset's
/// `facets`, `inputFacets` or `outputFacets` (dataset and output facets on
/// an output of the COMPLETE event, which is always observed).
fn facet(name: &str, group: &str) -> Observation {
    let side = if group == "inputFacets" {
        "inputs"
    } else {
        "outputs"
    };
    let event = format!(
        r#"{{"eventType":"COMPLETE","eventTime":"2023-05-30T11:00:00Z","run":{{"runId":"r"}},"job":{{"namespace":"j","name":"n"}},
            "{side}":[{{"namespace":"s3://bucket","name":"payments","{group}":{}}}]}}"#,
        read(name)
    );
    let mut obs = observations_from(&event, name).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(obs.len(), 1);
    obs.remove(0)
}

fn attr<'a>(o: &'a Observation, key: &str) -> Option<&'a str> {
    o.attributes.get(key).map(|v| &**v)
}

#[test]
fn the_full_example_gives_its_input_and_its_output() {
    let obs = file("example_full_event.json");
    assert_eq!(obs.len(), 2);
    let (input, output) = (&obs[0], &obs[1]);
    assert_eq!(
        (
            input.dataset.namespace.as_str(),
            input.dataset.name.as_str()
        ),
        ("my-datasource-namespace", "instance.schema.table")
    );
    assert_eq!(input.observed_at.to_string(), "2020-12-28T19:51:01.641Z");
    let schema = input.schema.as_ref().unwrap();
    assert_eq!(
        (schema[0].name.as_str(), schema[0].data_type.as_str()),
        ("column1", "VARCHAR")
    );
    assert_eq!(
        (
            attr(input, "assertions_total"),
            attr(input, "assertions_failed")
        ),
        (Some("2"), Some("0"))
    );
    assert_eq!(input.last_modified, None, "inputs are read, not modified");
    assert_eq!(
        (output.row_count, output.byte_size),
        (Some(2000), Some(2_097_152))
    );
    assert_eq!(
        output.last_modified,
        Some(output.observed_at),
        "outputs of a COMPLETE event were modified then"
    );
    assert_eq!(
        attr(output, "openlineage.job"),
        Some("my-scheduler-namespace/myjob.mytask")
    );
    assert_eq!(
        attr(output, "openlineage.run_id"),
        Some("ea041791-68bc-4ae1-bd89-4c8106a157e4")
    );
    assert_eq!(attr(output, "openlineage.event_type"), Some("COMPLETE"));
}

#[test]
fn the_datasets_of_one_event_share_its_job_and_run_rather_than_copy_them() {
    let obs = file("example_full_event.json");
    assert_eq!(obs.len(), 2);
    for key in ["openlineage.job", "openlineage.run_id"] {
        let (first, second) = (&obs[0].attributes[key], &obs[1].attributes[key]);
        assert!(first.shares_with(second), "{key} is copied, not shared");
    }
    // Stored, each observation holds the text in full.
    let json = serde_json::to_value(&obs[1]).unwrap();
    assert!(json["attributes"]["openlineage.job"].is_string(), "{json}");
}

#[test]
fn a_dataset_event_without_an_offset_is_read_as_utc() {
    let obs = file("serde_example_dataset_event.json");
    assert_eq!(obs.len(), 1);
    assert_eq!(obs[0].dataset.name, "name");
    assert_eq!(
        obs[0].observed_at.to_string(),
        "2021-11-03T10:53:52.427343Z"
    );
    let names: Vec<_> = obs[0]
        .schema
        .as_ref()
        .unwrap()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn a_run_event_without_datasets_gives_nothing() {
    assert!(file("serde_example_run_event.json").is_empty());
}

#[test]
fn data_quality_metrics_as_a_dataset_facet_and_as_the_deprecated_input_facet() {
    for (name, group) in [
        ("facet-DataQualityMetricsDatasetFacet-1.json", "facets"),
        (
            "facet-DataQualityMetricsInputDatasetFacet-1.json",
            "inputFacets",
        ),
    ] {
        let o = facet(name, group);
        assert_eq!(o.row_count, Some(10), "{name}");
        assert_eq!(attr(&o, "file_count"), Some("5"));
        let amount = &o.columns["amount"];
        assert_eq!(
            (amount.count, amount.sum, amount.min, amount.max),
            (Some(10), Some(6600.0), Some(100.0), Some(1500.0))
        );
        assert_eq!(
            (
                o.columns["user_id"].distinct_count,
                o.columns["user_id"].null_count
            ),
            (Some(3), Some(0))
        );
        assert_eq!(o.columns["counterparty_id"].null_count, Some(0));
    }
}

#[test]
fn output_statistics_give_rows_bytes_and_files() {
    let o = facet(
        "facet-OutputStatisticsOutputDatasetFacet-1.json",
        "outputFacets",
    );
    assert_eq!(
        (o.row_count, o.byte_size, attr(&o, "file_count")),
        (Some(2000), Some(2_097_152), Some("5"))
    );
}

#[test]
fn nested_schema_fields_are_flattened_with_dots() {
    let o = facet("facet-SchemaDatasetFacet-1.json", "facets");
    let names: Vec<_> = o
        .schema
        .as_ref()
        .unwrap()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    for expected in [
        "user_id",
        "amount",
        "phones",
        "phones._element",
        "addresses",
        "addresses.type",
        "addresses.country",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let phones = o
        .schema
        .as_ref()
        .unwrap()
        .iter()
        .find(|f| f.name == "phones")
        .unwrap();
    assert_eq!(phones.data_type, "array");
}

#[test]
fn dbt_test_events_with_placeholder_run_ids() {
    // 17 datasets in all: the 9 of START events and the failed run's audit
    // table (no measurement) are ignored.
    let obs = file("dbt-postgres-test-test_ol_events.json");
    assert_eq!(obs.len(), 7);
    assert_eq!(obs.iter().filter(|o| o.last_modified.is_some()).count(), 3);
    assert!(
        obs.iter()
            .all(|o| attr(o, "openlineage.run_id") == Some("{{ any(result) }}"))
    );
    let datasets: BTreeSet<_> = obs.iter().map(|o| o.dataset.name.as_str()).collect();
    assert_eq!(datasets.len(), 5);
    let failed_check = obs
        .iter()
        .find(|o| {
            attr(o, "openlineage.event_type") == Some("FAIL")
                && o.dataset.name == "postgres.public.customers"
        })
        .unwrap();
    assert_eq!(attr(failed_check, "assertions_failed"), Some("1"));
    let customers = failed_check.schema.as_ref().unwrap();
    assert_eq!(customers[0].name, "customer_id");
}

#[test]
fn dbt_build_events() {
    // 79 datasets: 19 written by COMPLETE runs, 12 inputs measured by tests.
    let obs = file("dbt-postgres-build_command-build_ol_events.json");
    assert_eq!(obs.len(), 31);
    assert_eq!(obs.iter().filter(|o| o.last_modified.is_some()).count(), 19);
    let datasets: BTreeSet<_> = obs.iter().map(|o| o.dataset.name.as_str()).collect();
    assert_eq!(datasets.len(), 20);
    assert!(
        obs.iter()
            .all(|o| o.dataset.namespace == "postgres://postgres:5432")
    );
}

/// What the scheduler evaluates from memory, as appended, must be what it
/// would read back from the log after a restart.
#[test]
fn every_observation_is_valid_for_the_model_and_reads_back_as_itself() {
    let events = [
        "example_full_event.json",
        "serde_example_dataset_event.json",
        "dbt-postgres-test-test_ol_events.json",
        "dbt-postgres-build_command-build_ol_events.json",
    ]
    .map(|name| (name, file(name)));
    let facets = [
        ("facet-DataQualityMetricsDatasetFacet-1.json", "facets"),
        (
            "facet-DataQualityMetricsInputDatasetFacet-1.json",
            "inputFacets",
        ),
        (
            "facet-OutputStatisticsOutputDatasetFacet-1.json",
            "outputFacets",
        ),
        ("facet-SchemaDatasetFacet-1.json", "facets"),
    ]
    .map(|(name, group)| (name, vec![facet(name, group)]));
    for (name, observations) in events.into_iter().chain(facets) {
        for o in observations {
            o.check(name).unwrap();
            let json = serde_json::to_string(&o).unwrap();
            assert_eq!(
                dataslo::model::parse_observation(&json, name).unwrap(),
                o,
                "round trip through the JSON format"
            );
            assert!(o.reads_back_as_itself(), "{name}");
        }
    }
}

#[test]
fn observe_stores_openlineage_events_and_acknowledges_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = test_data("openlineage/dbt-postgres-test-test_ol_events.json");
    let observe = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dataslo"))
            .args(["observe", "--openlineage", "--data-dir"])
            .arg(dir.path())
            .arg(&path)
            .output()
            .unwrap()
    };
    let first = observe();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "acknowledged 7 observation(s), 7 new; 10 OpenLineage dataset(s) ignored"
    );
    let again = observe();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "acknowledged 7 observation(s), 0 new; 10 OpenLineage dataset(s) ignored"
    );
}
