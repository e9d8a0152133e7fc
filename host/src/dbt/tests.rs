use super::*;
use crate::model::{Assertion, RunState};

/// A manifest v12 of one source, one model and tests on both.
const MANIFEST: &str = r#"{
  "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
  "sources": {"source.shop.raw.orders": {"database": "db", "schema": "raw", "name": "orders", "identifier": "orders_v2"}},
  "nodes": {
    "model.shop.stg_orders": {"resource_type": "model", "database": "db", "schema": null, "name": "stg_orders", "alias": "stg"},
    "test.shop.not_null_stg_orders_id.1": {"resource_type": "test", "name": "not_null_stg_orders_id",
      "column_name": "id", "attached_node": "model.shop.stg_orders",
      "test_metadata": {"name": "not_null", "kwargs": {"column_name": "id"}}},
    "test.shop.unique_orders_id.2": {"resource_type": "test", "name": "unique_orders_id",
      "test_metadata": {"name": "unique", "kwargs": {"column_name": "id"}},
      "depends_on": {"nodes": ["source.shop.raw.orders"]}},
    "test.shop.rows_positive": {"resource_type": "test", "name": "rows_positive", "test_metadata": null,
      "depends_on": {"nodes": ["model.shop.stg_orders"]}},
    "test.shop.orphan": {"resource_type": "test", "name": "orphan", "depends_on": {"nodes": []}},
    "operation.shop.hook": {"resource_type": "operation", "name": "hook"}
  }
}"#;

fn import_of(sources: Option<&str>, run_results: Option<&str>) -> Result<Imported, DbtError> {
    import(&Artifacts {
        manifest: Artifact {
            file: "manifest.json",
            text: MANIFEST,
        },
        sources: sources.map(|text| Artifact {
            file: "sources.json",
            text,
        }),
        run_results: run_results.map(|text| Artifact {
            file: "run_results.json",
            text,
        }),
        namespace: "postgres://db:5432",
    })
}

fn run_results(results: &str) -> String {
    format!(
        r#"{{"metadata": {{"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
        "generated_at": "2026-11-30T10:00:00Z", "invocation_id": "inv"}},
        "args": {{"which": "build"}}, "results": [{results}]}}"#
    )
}

fn assertion(name: &str, column: Option<&str>, success: bool) -> Assertion {
    Assertion {
        name: name.into(),
        column: column.map(String::from),
        success,
    }
}

#[test]
fn a_freshness_result_is_observed_at_the_snapshot_and_modified_at_max_loaded_at() {
    let sources = r#"{"results": [{"unique_id": "source.shop.raw.orders", "status": "warn",
        "max_loaded_at": "2026-11-30T08:00:00+00:00", "snapshotted_at": "2026-11-30T10:00:00"}]}"#;
    let got = import_of(Some(sources), None).unwrap();
    let [obs] = got.observations.as_slice() else {
        panic!("{got:?}")
    };
    // Named by the source's name, not its identifier, as openlineage-dbt does.
    assert_eq!(obs.dataset.name, "db.raw.orders");
    assert_eq!(obs.dataset.namespace, "postgres://db:5432");
    assert_eq!(
        obs.last_modified,
        Some("2026-11-30T08:00:00Z".parse().unwrap())
    );
    // dbt writes UTC; a time without an offset is read as such.
    assert_eq!(obs.observed_at, "2026-11-30T10:00:00Z".parse().unwrap());
    assert_eq!(&*obs.attributes["dbt.freshness_status"], "warn");
}

#[test]
fn a_failed_freshness_query_is_skipped_with_dbts_message() {
    let sources = r#"{"results": [{"unique_id": "source.shop.raw.orders", "status": "runtime error",
        "max_loaded_at": null, "error": "relation does not exist"}]}"#;
    let got = import_of(Some(sources), None).unwrap();
    assert!(got.observations.is_empty());
    assert_eq!(got.skipped[0].unique_id, "source.shop.raw.orders");
    assert!(got.skipped[0].reason.contains("relation does not exist"));
}

#[test]
fn tests_become_assertions_on_the_tested_relation_warn_and_error_failing() {
    let text = run_results(
        r#"{"unique_id": "test.shop.not_null_stg_orders_id.1", "status": "warn"},
           {"unique_id": "test.shop.unique_orders_id.2", "status": "pass"},
           {"unique_id": "test.shop.rows_positive", "status": "error"},
           {"unique_id": "test.shop.orphan", "status": "pass"},
           {"unique_id": "test.shop.unique_orders_id.2", "status": "skipped"}"#,
    );
    let got = import_of(None, Some(&text)).unwrap();
    let names: Vec<&str> = got
        .observations
        .iter()
        .map(|o| o.dataset.name.as_str())
        .collect();
    // A null schema is left out of the name; the model's alias is not used.
    assert_eq!(names, ["db.stg_orders", "db.raw.orders"]);
    let model = &got.observations[0];
    assert_eq!(
        model.assertions,
        [
            assertion("not_null", Some("id"), false),
            assertion("rows_positive", None, false)
        ]
    );
    assert_eq!(model.observed_at, "2026-11-30T10:00:00Z".parse().unwrap());
    assert_eq!(model.last_modified, None);
    assert_eq!(model.run_state, None);
    assert_eq!(&*model.attributes["assertions_failed"], "2");
    assert_eq!(
        got.observations[1].assertions,
        [assertion("unique", Some("id"), true)]
    );
    let skipped: Vec<&str> = got.skipped.iter().map(|s| s.unique_id.as_str()).collect();
    assert_eq!(
        skipped,
        ["test.shop.orphan", "test.shop.unique_orders_id.2"]
    );
}

#[test]
fn node_runs_give_the_run_state_and_a_success_the_last_modification() {
    let text = run_results(
        r#"{"unique_id": "model.shop.stg_orders", "status": "success",
            "timing": [{"name": "compile", "started_at": "2026-11-30T09:00:00Z", "completed_at": "2026-11-30T09:00:01Z"},
                       {"name": "execute", "started_at": "2026-11-30T09:00:01Z", "completed_at": "2026-11-30T09:05:00Z"}]},
           {"unique_id": "model.shop.stg_orders", "status": "error", "timing": []},
           {"unique_id": "operation.shop.hook", "status": "success"},
           {"unique_id": "seed.shop.gone", "status": "success"}"#,
    );
    let got = import_of(None, Some(&text)).unwrap();
    let [ok, failed] = got.observations.as_slice() else {
        panic!("{got:?}")
    };
    assert_eq!(ok.run_state, Some(RunState::Complete));
    assert_eq!(
        ok.last_modified,
        Some("2026-11-30T09:05:00Z".parse().unwrap())
    );
    assert_eq!(ok.observed_at, "2026-11-30T09:05:00Z".parse().unwrap());
    assert_eq!(failed.run_state, Some(RunState::Fail));
    assert_eq!(failed.last_modified, None);
    assert_eq!(failed.observed_at, "2026-11-30T10:00:00Z".parse().unwrap());
    assert_eq!(got.skipped.len(), 2);
}

#[test]
fn results_of_a_command_that_runs_nothing_are_all_skipped() {
    let text = run_results(r#"{"unique_id": "test.shop.unique_orders_id.2", "status": "success"}"#)
        .replace("\"build\"", "\"compile\"");
    let got = import_of(None, Some(&text)).unwrap();
    assert!(got.observations.is_empty());
    assert!(got.skipped[0].reason.contains("\"compile\""), "{got:?}");
}

#[test]
fn errors_name_the_file_and_the_json_path() {
    let cases = [
        (
            import_of(
                Some(
                    r#"{"results": [{"unique_id": "source.shop.raw.orders", "max_loaded_at": 5}]}"#,
                ),
                None,
            ),
            "sources.json: results[0].max_loaded_at: expected a string, found a number",
        ),
        (
            import_of(
                Some(
                    r#"{"results": [{"unique_id": "source.x.y.z", "max_loaded_at": "2026-11-30T08:00:00Z", "snapshotted_at": "2026-11-30T08:00:00Z"}]}"#,
                ),
                None,
            ),
            "sources.json: results[0].unique_id: \"source.x.y.z\" is not among the sources of manifest.json",
        ),
        (
            import_of(
                None,
                Some(&run_results(r#"{"unique_id": "test.shop.orphan"}"#)),
            ),
            "run_results.json: results[0].status: missing",
        ),
        (
            import_of(
                None,
                Some(
                    r#"{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json"}, "results": []}"#,
                ),
            ),
            "run_results.json: metadata.dbt_schema_version: \"https://schemas.getdbt.com/dbt/sources/v3.json\" is a dbt \"sources\" artifact, not a \"run-results\" one",
        ),
        (
            import_of(None, Some(r#"{"results": []}"#)),
            "run_results.json: metadata: missing",
        ),
    ];
    for (got, expected) in cases {
        let message = got.unwrap_err().to_string();
        assert!(message.starts_with(expected), "{message}");
    }
    let bad_node = MANIFEST.replace(r#""name": "stg_orders""#, r#""name": 7"#);
    let err = import(&Artifacts {
        manifest: Artifact {
            file: "m.json",
            text: &bad_node,
        },
        sources: None,
        run_results: Some(Artifact {
            file: "r.json",
            text: &run_results(r#"{"unique_id": "model.shop.stg_orders", "status": "success"}"#),
        }),
        namespace: "n",
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "m.json: nodes[\"model.shop.stg_orders\"].name: expected a string, found a number"
    );
}
