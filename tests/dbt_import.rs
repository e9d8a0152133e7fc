//! `dataslo import dbt` on the real artifacts of tests/data/dbt (see its
//! README): source freshness and test results become the expected
//! observations, named as OpenLineage's dbt integration names the same
//! relations, and an SLO evaluates them.

use crate::support::{dataslo, stderr_of, stdout_of, test_data};
use dataslo::ledger::{Ledger, Outcome};
use dataslo::model::{Assertion, Observation, RunState, parse_observations};
use std::path::Path;
use std::process::Command;

fn artifact(folder: &str, file: &str) -> String {
    format!("tests/data/dbt/{folder}/{file}")
}

/// The observations `import dbt` prints for `folder`'s manifest and the
/// given artifact flags; the summary it wrote on stderr.
fn import(folder: &str, namespace: &str, flags: &[(&str, &str)]) -> (Vec<Observation>, String) {
    let manifest = artifact(folder, "manifest.json");
    let mut args = vec![
        "import",
        "dbt",
        "--manifest",
        &manifest,
        "--namespace",
        namespace,
    ];
    let files: Vec<(String, String)> = flags
        .iter()
        .map(|(flag, file)| (flag.to_string(), artifact(folder, file)))
        .collect();
    for (flag, file) in &files {
        args.push(flag);
        args.push(file);
    }
    let out = dataslo(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let observations = if text.is_empty() {
        Vec::new()
    } else {
        parse_observations(&text, "stdout").unwrap_or_else(|e| panic!("{e}"))
    };
    (observations, stderr_of(&out))
}

fn freshness(folder: &str) -> Vec<(String, String, String)> {
    import(folder, "snowflake://acct", &[("--sources", "sources.json")])
        .0
        .into_iter()
        .map(|o| {
            assert_eq!(o.dataset.namespace, "snowflake://acct");
            let last = o.last_modified.expect("last_modified").to_string();
            (o.dataset.name, o.observed_at.to_string(), last)
        })
        .collect()
}

fn row(name: &str, observed: &str, modified: &str) -> (String, String, String) {
    (name.into(), observed.into(), modified.into())
}

#[test]
fn source_freshness_of_real_projects_becomes_one_observation_per_source() {
    assert_eq!(
        freshness("orders-mart-analytics"),
        [
            row(
                "orders_mart.raw.orders_raw",
                "2025-08-18T13:50:58.205Z",
                "2025-08-15T10:35:02.826Z"
            ),
            row(
                "orders_mart.raw.products_raw",
                "2025-08-18T13:50:57.791Z",
                "2025-08-15T10:24:18.224Z"
            ),
            row(
                "orders_mart.raw.customers_raw",
                "2025-08-18T13:50:58.379Z",
                "2025-08-15T10:34:56.056Z"
            ),
        ]
    );
    assert_eq!(
        freshness("btc"),
        [row(
            "btc.btc_schema.btc",
            "2025-09-16T15:35:20.917Z",
            "2025-09-16T13:24:31Z"
        )]
    );
    // Only raw_orders has a loaded_at_field, so only it was checked.
    assert_eq!(
        freshness("dbt-fundamentals"),
        [row(
            "raw.jaffle_shop.raw_orders",
            "2024-02-09T02:13:10.9Z",
            "2024-02-07T20:14:58.449Z"
        )]
    );
    // Manifest v4, dbt 1.0.1, Redshift.
    assert_eq!(
        freshness("dbt-repo"),
        [
            row(
                "dev.stripe.payment",
                "2022-01-07T11:54:44Z",
                "2022-01-05T16:45:12.831928Z"
            ),
            row(
                "dev.jaffle_shop.orders",
                "2022-01-07T11:54:44Z",
                "2022-01-05T16:45:10.507101Z"
            ),
        ]
    );
}

fn assertion(name: &str, column: Option<&str>, success: bool) -> Assertion {
    Assertion {
        name: name.into(),
        column: column.map(String::from),
        success,
    }
}

#[test]
fn a_failed_test_is_a_failed_assertion_on_the_tested_relation() {
    // piperider ships a manifest without metadata and run results without
    // elapsed_time or args: both are read.
    let (obs, summary) = import(
        "piperider",
        "snowflake://acct",
        &[("--run-results", "run_results.json")],
    );
    let names: Vec<&str> = obs.iter().map(|o| o.dataset.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "INFUSE_FINANCE.PUBLIC.PRICE_PRESENT",
            "INFUSE_FINANCE.PUBLIC.ACTION",
            "INFUSE_FINANCE.PUBLIC.PRICE_PRESENT"
        ],
        "{summary}"
    );
    let model_run = &obs[0];
    assert_eq!(model_run.run_state, Some(RunState::Complete));
    assert_eq!(model_run.last_modified, Some(model_run.observed_at));
    let tested = &obs[2];
    assert_eq!(
        tested.observed_at.to_string(),
        "2022-11-16T06:12:10.998913Z"
    );
    assert_eq!(
        tested.assertions,
        [
            assertion("not_null", Some("MA60"), false),
            assertion("not_null", Some("symbol"), true)
        ]
    );
    assert_eq!(
        obs[1].assertions,
        [
            assertion("action_split_greater_than_zero", None, true),
            assertion("not_null", Some("splits"), true)
        ]
    );
}

/// A test's name and column.
type Checked<'a> = (&'a str, Option<&'a str>);

#[test]
fn tests_of_a_v4_manifest_find_their_relation_through_depends_on() {
    let (obs, summary) = import(
        "diy9-dbt",
        "bigquery",
        &[("--run-results", "run_results.json")],
    );
    let tested: Vec<(&str, Vec<Checked>)> = obs
        .iter()
        .filter(|o| !o.assertions.is_empty())
        .map(|o| {
            assert!(o.assertions.iter().all(|a| a.success));
            assert_eq!(o.observed_at.to_string(), "2022-02-21T12:19:46.955904Z");
            let a = o
                .assertions
                .iter()
                .map(|a| (a.name.as_str(), a.column.as_deref()))
                .collect();
            (o.dataset.name.as_str(), a)
        })
        .collect();
    assert_eq!(
        tested,
        [
            (
                "dbt-tutorial.jaffle_shop.customers",
                vec![("not_null", Some("id")), ("unique", Some("id"))]
            ),
            (
                "dbt-tutorial.jaffle_shop.orders",
                vec![("not_null", Some("id")), ("unique", Some("id"))]
            ),
            (
                "striking-gadget-328313.dev.stg_payments",
                vec![("assert_positive_total_for_payments", None)]
            ),
            (
                "striking-gadget-328313.dev.stg_customers",
                vec![
                    ("not_null", Some("customer_id")),
                    ("unique", Some("customer_id"))
                ]
            ),
            // The relationships test depends on stg_customers and stg_orders; it tests the last.
            (
                "striking-gadget-328313.dev.stg_orders",
                vec![
                    ("accepted_values", Some("status")),
                    ("not_null", Some("order_id")),
                    ("relationships", Some("customer_id")),
                    ("unique", Some("order_id"))
                ]
            ),
        ]
    );
    // 7 models ran; the seed and the failed snapshot are not in the reduced manifest.
    assert_eq!(
        obs.iter()
            .filter(|o| o.run_state == Some(RunState::Complete))
            .count(),
        7
    );
    assert!(
        summary.contains("snapshot.jaffle_shop.orders_snapshot: not in"),
        "{summary}"
    );
}

#[test]
fn tests_of_v5_and_v6_run_results_all_pass_and_unit_tests_are_left_out() {
    for (folder, relations) in [
        ("dbt-artifacts-parser/run-results-v5-dbt-1.7.0", 5),
        ("dbt-artifacts-parser/run-results-v6-dbt-1.9.0", 5),
        ("correlator-dbt", 9),
    ] {
        let (obs, summary) = import(folder, "bigquery", &[("--run-results", "run_results.json")]);
        let assertions: Vec<&Assertion> = obs.iter().flat_map(|o| &o.assertions).collect();
        let tested = obs.iter().filter(|o| !o.assertions.is_empty()).count();
        assert_eq!(tested, relations, "{folder}");
        let expected = if folder == "correlator-dbt" { 27 } else { 20 };
        assert_eq!(assertions.len(), expected, "{folder}");
        assert!(assertions.iter().all(|a| a.success), "{folder}");
        if folder == "correlator-dbt" {
            assert_eq!(
                summary.matches("a unit test checks SQL logic").count(),
                3,
                "{summary}"
            );
        }
    }
}

#[test]
fn run_results_of_docs_generate_give_no_passed_test() {
    let (obs, summary) = import(
        "orders-mart-analytics",
        "snowflake://acct",
        &[("--run-results", "run_results.json")],
    );
    assert!(obs.is_empty(), "{obs:?}");
    assert!(
        summary.contains("imported 0 observation(s), skipped 35 result(s)"),
        "{summary}"
    );
}

/// The folder of OpenLineage's own dbt test `name`: the artifacts it read
/// (`target/`) and the events it expects (`result.json`).
fn upstream_dbt(name: &str) -> std::path::PathBuf {
    test_data(&format!(
        "openlineage/upstream/integration/common/tests/dbt/{name}"
    ))
}

/// The observations `import dbt` makes of the artifacts OpenLineage's own
/// dbt test `name` read (tests/data/openlineage/upstream/.../dbt/NAME).
fn upstream_import(name: &str) -> Vec<Observation> {
    let upstream = test_data(&format!(
        "openlineage/upstream/integration/common/tests/dbt/{name}"
    ));
    let out = dataslo(&[
        "import",
        "dbt",
        "--manifest",
        upstream.join("target/manifest.json").to_str().unwrap(),
        "--run-results",
        upstream.join("target/run_results.json").to_str().unwrap(),
        "--namespace",
        "bigquery",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    parse_observations(&stdout_of(&out), "stdout").unwrap()
}

/// OpenLineage's own dbt test (tests/data/openlineage/upstream/.../dbt/test)
/// keeps the artifacts it read beside the events it expects: both name each
/// relation and its assertions alike.
#[test]
fn datasets_and_assertions_are_those_of_openlineages_dbt_integration() {
    let upstream = upstream_dbt("test");
    let mut ours: Vec<(String, String, serde_json::Value)> = upstream_import("test")
        .into_iter()
        .map(|o| {
            let assertions = o
                .assertions
                .iter()
                .map(|a| serde_json::json!({"assertion": a.name, "column": a.column, "success": a.success}))
                .collect();
            (o.dataset.namespace, o.dataset.name, assertions)
        })
        .collect();
    let events: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(upstream.join("result.json")).unwrap())
            .unwrap();
    let mut theirs: Vec<(String, String, serde_json::Value)> = events
        .iter()
        .filter(|e| e["eventType"] != "START")
        .flat_map(|e| e["inputs"].as_array().unwrap())
        .map(|input| {
            let assertions = input["inputFacets"]["dataQualityAssertions"]["assertions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| serde_json::json!({"assertion": a["assertion"], "column": a["column"], "success": a["success"]}))
                .collect();
            let text = |v: &serde_json::Value| v.as_str().unwrap().to_string();
            (text(&input["namespace"]), text(&input["name"]), assertions)
        })
        .collect();
    ours.sort_by(|a, b| a.1.cmp(&b.1));
    theirs.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(ours.len(), 5);
    assert_eq!(ours, theirs);
}

fn write_broken(dir: &Path, from: &str, replace: (&str, &str)) -> String {
    let text = std::fs::read_to_string(test_data("dbt").join(from)).unwrap();
    assert!(text.contains(replace.0));
    let path = dir.join("sources.json");
    std::fs::write(&path, text.replacen(replace.0, replace.1, 1)).unwrap();
    path.display().to_string()
}

#[test]
fn a_malformed_artifact_is_refused_naming_the_file_and_the_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = artifact("btc", "manifest.json");
    let refused = |sources: &str, manifest: &str| {
        let out = dataslo(&[
            "import",
            "dbt",
            "--manifest",
            manifest,
            "--sources",
            sources,
            "--namespace",
            "x",
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", stdout_of(&out));
        assert!(stdout_of(&out).is_empty());
        stderr_of(&out)
    };
    let bad_time = write_broken(
        dir.path(),
        "btc/sources.json",
        ("2025-09-16T13:24:31+00:00", "yesterday"),
    );
    assert_eq!(
        refused(&bad_time, &manifest),
        format!(
            "error: {bad_time}: results[0].max_loaded_at: \"yesterday\" is not a time (RFC 3339)\n"
        )
    );
    let no_id = write_broken(dir.path(), "btc/sources.json", ("\"unique_id\"", "\"id\""));
    assert_eq!(
        refused(&no_id, &manifest),
        format!("error: {no_id}: results[0].unique_id: missing\n")
    );
    // The artifacts swapped: the sources file given as the manifest.
    let sources = artifact("btc", "sources.json");
    assert!(
        refused(&sources, &sources).starts_with(&format!(
            "error: {sources}: metadata.dbt_schema_version: \"https://schemas.getdbt.com/dbt/sources/v3.json\" is a dbt \"sources\" artifact, not a \"manifest\" one"
        ))
    );
    // Another project's manifest.
    let other = artifact("dbt-repo", "manifest.json");
    assert!(refused(&sources, &other).contains(&format!(
        "results[0].unique_id: \"source.btc.btc.btc\" is not among the sources of {other}"
    )));
}

const SLOS: &str = r#"apiVersion: openslo/v1
kind: SLO
metadata: { name: btc-fresh-MAX }
spec:
  indicator:
    metadata: { name: f }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: { dataset: { namespace: "snowflake://acct", name: btc.btc_schema.btc }, policy: "builtin:freshness", config: { max_age: MAX }, sli: freshness, trigger: observation }
  timeWindow: [{ duration: 1d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: LIMIT, target: 0.9 }]
"#;

#[test]
fn a_freshness_slo_evaluates_the_imported_source_freshness() {
    let dir = tempfile::tempdir().unwrap();
    let slos = [("1h", "3600"), ("3h", "10800")]
        .map(|(max, limit)| SLOS.replace("MAX", max).replace("LIMIT", limit))
        .join("---\n");
    std::fs::write(dir.path().join("slo.yaml"), slos).unwrap();
    let spool = dir.path().join("data/spool");
    std::fs::create_dir_all(&spool).unwrap();
    let out = dataslo(&[
        "import",
        "dbt",
        "--manifest",
        &artifact("btc", "manifest.json"),
        "--sources",
        &artifact("btc", "sources.json"),
        "--namespace",
        "snowflake://acct",
        "-o",
        spool.join("btc.ndjson").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // The artifacts are from 2025: a retention counted from today would
    // remove their records. And a loaded machine must not turn a slow debug
    // build's call into a deadline error: this test is about the data.
    let config = dir.path().join("dataslo.toml");
    std::fs::write(
        &config,
        "retention = \"36500d\"\n[limits]\ndeadline = \"10s\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["run", "--once", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg(dir.path().join("slo.yaml"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let said = stderr_of(&out);
    let ledger = Ledger::open(&dir.path().join("data/ledger"), "default", 100)
        .unwrap()
        .for_tenant("default")
        .unwrap();
    // dbt warned: the source was 7849.917 s old, past 1 h, within 3 h.
    for (slo, good) in [("btc-fresh-1h", 0), ("btc-fresh-3h", 1)] {
        let records: Vec<_> = ledger
            .records(Some(slo), None)
            .map(|r| r.unwrap())
            .collect();
        let [record] = records.as_slice() else {
            panic!("{slo}: {} records; run said: {said}", records.len())
        };
        assert_eq!(
            record.outcome,
            Outcome::Measured,
            "{slo}: {}",
            record.detail
        );
        assert_eq!(record.value, Some(7849.917), "{slo}");
        assert_eq!(
            (record.events[0].good, record.events[0].total),
            (good, 1),
            "{slo}"
        );
    }
}

/// OpenLineage's dbt test of a failed run (`.../dbt/fail`): the models whose
/// run completed are the outputs of its COMPLETE events, by the same names.
#[test]
fn completed_model_runs_are_named_as_openlineages_complete_outputs() {
    let upstream = upstream_dbt("fail");
    let ours = upstream_import("fail");
    let mut completed: Vec<String> = ours
        .iter()
        .filter(|o| o.run_state == Some(RunState::Complete))
        .map(|o| format!("{}/{}", o.dataset.namespace, o.dataset.name))
        .collect();
    let events: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(upstream.join("result.json")).unwrap())
            .unwrap();
    let mut theirs: Vec<String> = events
        .iter()
        .filter(|e| e["eventType"] == "COMPLETE")
        .flat_map(|e| e["outputs"].as_array().unwrap())
        .map(|o| {
            format!(
                "{}/{}",
                o["namespace"].as_str().unwrap(),
                o["name"].as_str().unwrap()
            )
        })
        .collect();
    completed.sort();
    theirs.sort();
    assert_eq!(completed.len(), 2);
    assert_eq!(completed, theirs);
    // The failed model is observed with its run's state; the skipped one is not.
    let failed: Vec<&str> = ours
        .iter()
        .filter(|o| o.run_state == Some(RunState::Fail))
        .map(|o| o.dataset.name.as_str())
        .collect();
    assert_eq!(
        failed,
        ["random-gcp-project.dbt_test1.test_second_parallel_dbt_model"]
    );
}
