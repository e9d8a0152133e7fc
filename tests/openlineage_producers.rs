//! The events OpenLineage's own integrations emit (tests/data/openlineage/
//! upstream: Hive, Spark, dbt, the Python client, the fluentd proxy): which
//! of their datasets become observations, which are ignored and counted, and
//! the facets kept as attributes a policy can read. Events written from the
//! spec, where no sample carries a facet, say so.

use crate::support::test_data;
use dataslo::model::Observation;
use dataslo::openlineage::{Lineage, MAX_NAME_BYTES, read_events};
use serde_json::{Value, json};

const UPSTREAM: &str = "openlineage/upstream";
const FILLED_TIME: &str = "2024-01-15T10:00:00Z";

/// A file of upstream/ with the placeholders of test expectations filled: an
/// `eventTime` absent or a placeholder becomes [`FILLED_TIME`].
fn upstream(path: &str) -> String {
    let full = test_data(UPSTREAM).join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let events = match &mut value {
        Value::Array(events) => events.iter_mut().collect::<Vec<_>>(),
        event => vec![event],
    };
    for event in events {
        let Some(event) = event.as_object_mut() else {
            continue;
        };
        let placeholder = event
            .get("eventTime")
            .and_then(Value::as_str)
            .is_none_or(|t| t.contains("${") || t.contains("{{"));
        if placeholder {
            event.insert("eventTime".into(), json!(FILLED_TIME));
        }
    }
    value.to_string()
}

fn read(path: &str) -> Lineage {
    read_events(&upstream(path), path).unwrap_or_else(|e| panic!("{e}"))
}

fn attr<'a>(o: &'a Observation, key: &str) -> Option<&'a str> {
    o.attributes.get(key).map(|v| &**v)
}

fn json_attr(o: &Observation, key: &str) -> Value {
    serde_json::from_str(attr(o, key).unwrap_or_else(|| panic!("no {key} on {o:?}"))).unwrap()
}

/// Every event file of upstream/ (not the Spark plan nodes, the dbt
/// projects' target/ files or the single facet).
fn event_files() -> Vec<String> {
    let root = test_data(UPSTREAM);
    let mut todo = vec![root.clone()];
    let mut out = Vec::new();
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(&root).unwrap().display().to_string();
            if path.is_dir() {
                if !rel.ends_with("target") {
                    todo.push(path);
                }
            } else if rel.ends_with(".json")
                && !rel.ends_with("-node.json")
                && !rel.ends_with("nominal_time_without_end.json")
            {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_producers_event_is_accepted_but_the_one_with_a_string_row_count() {
    let files = event_files();
    assert_eq!(files.len(), 81, "{files:#?}");
    let (mut observed, mut ignored) = (0, 0);
    for path in &files {
        match read_events(&upstream(path), path) {
            Ok(lineage) => {
                observed += lineage.observations.len();
                ignored += lineage.ignored;
                for o in &lineage.observations {
                    let kind = attr(o, "openlineage.event_type");
                    assert!(
                        matches!(kind, Some("COMPLETE" | "FAIL") | None),
                        "{path}: an observation of a {kind:?} event"
                    );
                }
            }
            Err(e) => assert_eq!(
                (path.as_str(), e.field.as_str()),
                (
                    "proxy/fluentd/events/event_invalid_output_dataset_facet.json",
                    "outputs[0].outputFacets.outputStatistics.rowCount"
                ),
                "{e}"
            ),
        }
    }
    // Of the 190 datasets the accepted events name, those of START events
    // and the inputs no facet measures are acknowledged as ignored.
    assert_eq!((observed, ignored), (57, 133));
}

#[test]
fn start_events_and_bare_inputs_are_ignored_and_counted() {
    let start =
        read("integration/hive/hive-openlineage-hook/integrations/container/simpleCtasStart.json");
    assert_eq!((start.observations.len(), start.ignored), (0, 4));
    // The COMPLETE event: its output was written; its three inputs carry a
    // schema and symlinks only, nothing measured.
    let complete = read(
        "integration/hive/hive-openlineage-hook/integrations/container/simpleCtasComplete.json",
    );
    assert_eq!((complete.observations.len(), complete.ignored), (1, 3));
    let output = &complete.observations[0];
    assert_eq!(output.dataset.name, "test.result_t");
    assert_eq!(output.last_modified, Some(FILLED_TIME.parse().unwrap()));
    assert_eq!(
        json_attr(output, "symlinks"),
        json!([{"namespace": "file", "name": "/opt/hive/data/warehouse/test.db/result_t", "type": "LOCATION"}])
    );
}

#[test]
fn a_job_event_declares_lineage_and_a_dataset_event_is_observed() {
    let job = read("client/python/tests/serde_example_job_event.json");
    assert_eq!((job.observations.len(), job.ignored), (0, 2));
    let dataset = read("client/python/tests/serde_example_dataset_event.json");
    assert_eq!((dataset.observations.len(), dataset.ignored), (1, 0));
    assert_eq!(dataset.observations[0].last_modified, None);
}

#[test]
fn a_failed_dbt_test_keeps_which_assertion_failed_on_which_column_and_why() {
    let lineage = read(
        "integration/common/tests/dbt/structured_logs/postgres/test/results/test_ol_events.json",
    );
    let failed: Vec<_> = lineage
        .observations
        .iter()
        .filter(|o| attr(o, "openlineage.event_type") == Some("FAIL"))
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "the failed run's audit table measures nothing"
    );
    let customers = failed[0];
    assert_eq!(customers.dataset.name, "postgres.public.customers");
    assert_eq!(
        customers.last_modified, None,
        "a test reads, it does not write"
    );
    assert_eq!(
        json_attr(customers, "assertions"),
        json!([{"assertion": "accepted_values", "column": "first_name", "success": false}])
    );
    assert_eq!(
        customers.assertions,
        vec![dataslo::model::Assertion {
            name: "accepted_values".into(),
            column: Some("first_name".into()),
            success: false
        }]
    );
    assert_eq!(customers.run_state, Some(dataslo::model::RunState::Fail));
    assert_eq!(
        attr(customers, "openlineage.error_message"),
        Some("Got 78 results, configured to fail if != 0")
    );
    assert_eq!(
        (
            attr(customers, "data_source_name"),
            attr(customers, "data_source_uri")
        ),
        (
            Some("postgres://postgres:5432"),
            Some("postgres://postgres:5432")
        )
    );
}

#[test]
fn spark_outputs_keep_their_data_source_symlinks_and_lifecycle() {
    let lineage = read("integration/spark/cli/tests/test_failing/example_failing.json");
    let output = &lineage.observations[0];
    assert_eq!(attr(output, "data_source_uri"), Some("file"));
    assert_eq!(attr(output, "lifecycle_state_change"), Some("CREATE"));
    assert_eq!(
        json_attr(output, "symlinks")[0]["name"],
        json!("default.t2")
    );
}

#[test]
fn a_whole_count_written_as_a_float_is_a_count() {
    // Spark's serde sample: a START event (ignored) whose input metrics say
    // `"count": 10.0` and a quantile keyed "25"; both read without error.
    let lineage =
        read("integration/spark/app/src/test/resources/test_data/serde/openlineage-event.json");
    assert_eq!((lineage.observations.len(), lineage.ignored), (0, 2));
    let complete =
        upstream("integration/spark/app/src/test/resources/test_data/serde/openlineage-event.json")
            .replace("\"START\"", "\"COMPLETE\"");
    let read = read_events(&complete, "as COMPLETE").unwrap();
    let input = &read.observations[0];
    assert_eq!(input.columns["mycol"].count, Some(10));
    assert!(input.columns["mycol"].quantiles.0.is_empty());
    assert_eq!(attr(input, "openlineage.error_message"), Some("failed"));
}

#[test]
fn nominal_time_is_kept_and_is_the_partition() {
    let lineage = read("client/python/tests/example_full_event.json");
    for o in &lineage.observations {
        assert_eq!(
            attr(o, "openlineage.nominal_start_time"),
            Some("2020-12-17T03:00:00.001Z")
        );
        assert_eq!(
            attr(o, "openlineage.nominal_end_time"),
            Some("2020-12-17T04:00:00.001Z")
        );
        assert_eq!(o.partition.as_deref(), Some("2020-12-17T03:00:00.001Z"));
    }
    // The Python client's facet without an end, a date only, in a COMPLETE event.
    let facet = std::fs::read_to_string(
        test_data(UPSTREAM).join("client/python/tests/nominal_time_without_end.json"),
    )
    .unwrap();
    let event = format!(
        r#"{{"eventType":"COMPLETE","eventTime":"{FILLED_TIME}","run":{{"runId":"r","facets":{{"nominalTime":{facet}}}}},"job":{{"namespace":"j","name":"n"}},"outputs":[{{"namespace":"n","name":"t"}}]}}"#
    );
    let o = &read_events(&event, "nominal").unwrap().observations[0];
    assert_eq!(o.partition.as_deref(), Some("2020-01-01T00:00:00Z"));
    assert_eq!(attr(o, "openlineage.nominal_end_time"), None);
}

/// An event written from the spec: a COMPLETE run writing `output`.
fn synthetic(output: Value) -> String {
    json!({
        "eventType": "COMPLETE", "eventTime": FILLED_TIME,
        "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943904e5e8"},
        "job": {"namespace": "airflow", "name": "etl.orders"},
        "outputs": [output],
    })
    .to_string()
}

#[test]
fn facets_no_sample_carries_are_kept_as_attributes_synthetic() {
    // Synthetic, from the spec's facets: DatasetVersion, Ownership, Storage,
    // LifecycleStateChange with previousIdentifier, InputStatistics.
    let event = synthetic(json!({
        "namespace": "s3://lake", "name": "orders",
        "facets": {
            "version": {"datasetVersion": "17"},
            "ownership": {"owners": [{"name": "team:data", "type": "MAINTAINER"}, {"no-name": "x"}]},
            "storage": {"storageLayer": "iceberg", "fileFormat": "parquet"},
            "lifecycleStateChange": {"lifecycleStateChange": "RENAME",
                "previousIdentifier": {"namespace": "s3://lake", "name": "orders_v1"}},
        },
    }));
    let o = &read_events(&event, "synthetic").unwrap().observations[0];
    assert_eq!(attr(o, "dataset_version"), Some("17"));
    assert_eq!(
        json_attr(o, "owners"),
        json!([{"name": "team:data", "type": "MAINTAINER"}])
    );
    assert_eq!(
        (attr(o, "storage_layer"), attr(o, "file_format")),
        (Some("iceberg"), Some("parquet"))
    );
    assert_eq!(attr(o, "lifecycle_state_change"), Some("RENAME"));
    assert_eq!(
        (
            attr(o, "lifecycle_previous_namespace"),
            attr(o, "lifecycle_previous_name")
        ),
        (Some("s3://lake"), Some("orders_v1"))
    );
    let read_input = json!({
        "eventType": "COMPLETE", "eventTime": FILLED_TIME, "run": {"runId": "r"},
        "job": {"namespace": "j", "name": "n"},
        "inputs": [{"namespace": "s3://lake", "name": "events",
            "inputFacets": {"inputStatistics": {"rowCount": 12, "size": 3400, "fileCount": 2}}}],
    });
    let input = &read_events(&read_input.to_string(), "synthetic")
        .unwrap()
        .observations[0];
    assert_eq!(
        (input.row_count, input.byte_size, attr(input, "file_count")),
        (Some(12), Some(3400), Some("2"))
    );
}

#[test]
fn a_count_that_is_not_a_whole_number_refuses_the_event_naming_the_field() {
    let err = read_events(
        &upstream("proxy/fluentd/events/event_invalid_output_dataset_facet.json"),
        "body",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "body: outputs[0].outputFacets.outputStatistics.rowCount: must be a whole number ≥ 0, not the string \"wrong\""
    );
    // Synthetic: the example event's statistics and metrics made wrong.
    let full = upstream("client/python/tests/example_full_event.json");
    for (from, to, field) in [
        (
            "\"rowCount\": 2000",
            "\"rowCount\": 20.5",
            "outputs[0].outputFacets.outputStatistics.rowCount",
        ),
        (
            "\"size\": 2097152",
            "\"size\": -1",
            "outputs[0].outputFacets.outputStatistics.size",
        ),
    ] {
        let text =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&full).unwrap()).unwrap();
        assert!(text.contains(from), "{from}");
        let err = read_events(&text.replace(from, to), "body").unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }
    let metrics = synthetic(json!({"namespace": "n", "name": "t",
        "facets": {"dataQualityMetrics": {"columnMetrics": {"id": {"nullCount": "3"}}}}}));
    let err = read_events(&metrics, "body").unwrap_err();
    assert_eq!(
        err.field,
        "outputs[0].facets.dataQualityMetrics.columnMetrics.id.nullCount"
    );
}

#[test]
fn names_are_bounded_and_what_datasets_share_is_small() {
    let long = "j".repeat(200_000);
    let outputs: Vec<Value> = (0..5_000)
        .map(|i| json!({"namespace": "s3://lake", "name": format!("part-{i}")}))
        .collect();
    let event = |job: &str| {
        json!({"eventType": "COMPLETE", "eventTime": FILLED_TIME, "run": {"runId": "r"},
               "job": {"namespace": "spark", "name": job}, "outputs": outputs})
        .to_string()
    };
    let err = read_events(&event(&long), "body").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("body: job.name: is 200000 bytes long; names are at most {MAX_NAME_BYTES} bytes")
    );
    let dataset = synthetic(json!({"namespace": "n", "name": "x".repeat(MAX_NAME_BYTES + 1)}));
    assert_eq!(
        read_events(&dataset, "body").unwrap_err().field,
        "outputs[0].name"
    );
    // At the limit, 5,000 outputs each carry the job name once: about 5 MB.
    let at_limit = read_events(&event(&"j".repeat(MAX_NAME_BYTES)), "body").unwrap();
    assert_eq!(at_limit.observations.len(), 5_000);
    let message = "e".repeat(100_000);
    let failed = json!({"eventType": "FAIL", "eventTime": FILLED_TIME,
        "run": {"runId": "r", "facets": {"errorMessage": {"message": message, "programmingLanguage": "JAVA"}}},
        "job": {"namespace": "j", "name": "n"},
        "outputs": [{"namespace": "n", "name": "t", "outputFacets": {"outputStatistics": {"rowCount": 0}}}]});
    let kept = read_events(&failed.to_string(), "body").unwrap();
    let cut = attr(&kept.observations[0], "openlineage.error_message").unwrap();
    assert!(cut.len() <= dataslo::openlineage::MAX_ERROR_MESSAGE_BYTES && cut.ends_with('…'));
}
