//! The built-in policies, run through the host exactly as the engine runs
//! them: embedded bytes, sandbox, config validated at load.

use crate::support::*;
use dataslo::runtime::{
    EvalErrorKind, GuestError, Policy, builtin_bytes, builtin_names, footprint,
};
use std::sync::OnceLock;

fn builtin(name: &str) -> &'static Policy {
    static LOADED: OnceLock<Vec<(String, Policy)>> = OnceLock::new();
    let all = LOADED.get_or_init(|| {
        builtin_names()
            .map(|n| {
                (
                    n.to_string(),
                    runtime().load_builtin(n).expect("built-in loads"),
                )
            })
            .collect()
    });
    &all.iter()
        .find(|(n, _)| n == name)
        .expect("known built-in")
        .1
}

fn guest_error(policy: &str, config: &str, obs: &str) -> GuestError {
    match evaluate(builtin(policy), config, &observation(obs)) {
        Err(e) => match e.kind {
            EvalErrorKind::Guest(g) => g,
            other => panic!("expected a guest error, got {other:?}"),
        },
        Ok(eval) => panic!("expected an error, got {:?}", eval.measurements),
    }
}

fn invalid_config(policy: &str, config: &str) -> String {
    match runtime().validate_config(builtin(policy), config) {
        Err(e) => match e.kind {
            EvalErrorKind::Guest(GuestError::InvalidConfig(message)) => message,
            other => panic!("expected invalid config, got {other:?}"),
        },
        Ok(()) => panic!("{policy}: {config} should be invalid"),
    }
}

#[test]
fn the_binary_embeds_exactly_the_builtins_and_each_describes_itself() {
    let names: Vec<_> = builtin_names().collect();
    assert_eq!(
        names,
        [
            "assertions",
            "distribution-drift",
            "freshness",
            "null-rate",
            "partition-completeness",
            "schema-drift",
            "uniqueness",
            "volume",
            "volume-anomaly",
        ]
    );
    for name in names {
        let info = builtin(name).info();
        assert_eq!(info.name, name);
        assert!(!info.slis.is_empty(), "{name} lists its SLIs");
        assert_eq!(
            info.config_schema["type"], "object",
            "{name} has a JSON Schema of its config"
        );
    }
}

#[test]
fn a_builtin_that_reads_no_history_and_writes_no_log_instantiates_one_core_instance() {
    // Built with WASI, std's imports take strings as well.
    if option_env!("DATASLO_BUILTINS_WITH_WASI") == Some("1") {
        return;
    }
    let core_instances = |name: &str| {
        let bytes = builtin_bytes(name).expect("a built-in");
        footprint(bytes).expect("a component").core_instances
    };
    // Their one import, `panic-bytes`, takes numbers: no shim, no fixup.
    for name in ["assertions", "freshness", "uniqueness", "volume"] {
        assert_eq!(core_instances(name), 1, "{name}");
    }
    // `history` returns a list into the guest's memory: three, as before.
    assert_eq!(core_instances("volume-anomaly"), 3);
}

#[test]
fn freshness_judges_the_age_against_max_age_at_the_virtual_now() {
    let fresh = evaluate(
        builtin("freshness"),
        r#"{"max_age":"2h"}"#,
        &observation(r#""last_modified":"2026-11-26T06:00:00Z""#),
    )
    .unwrap();
    assert_eq!(
        (fresh.measurements[0].good, fresh.measurements[0].value),
        (1, Some(7200.0))
    );
    let stale = evaluate(
        builtin("freshness"),
        r#"{"max_age":"2h"}"#,
        &observation(r#""last_modified":"2026-11-26T05:59:59Z""#),
    )
    .unwrap();
    assert_eq!(
        (stale.measurements[0].good, stale.measurements[0].total),
        (0, 1)
    );
}

#[test]
fn freshness_without_last_modified_is_missing_metadata() {
    assert_eq!(
        guest_error("freshness", r#"{"max_age":"2h"}"#, ""),
        GuestError::MissingMetadata("last_modified".into())
    );
    assert!(invalid_config("freshness", r#"{"max_age":"later"}"#).contains("later"));
}

#[test]
fn volume_checks_the_row_count_range() {
    let eval = evaluate(
        builtin("volume"),
        r#"{"expected":100,"tolerance":0.1}"#,
        &observation(r#""row_count":95"#),
    )
    .unwrap();
    assert_eq!(
        (eval.measurements[0].good, eval.measurements[0].value),
        (1, Some(95.0))
    );
    let low = evaluate(
        builtin("volume"),
        r#"{"min_rows":100}"#,
        &observation(r#""row_count":95"#),
    )
    .unwrap();
    assert_eq!(low.measurements[0].good, 0);
    assert_eq!(
        guest_error("volume", r#"{"min_rows":1}"#, ""),
        GuestError::MissingMetadata("row_count".into())
    );
    assert!(invalid_config("volume", r#"{"min_rows":10,"max_rows":1}"#).contains("above max_rows"));
}

#[test]
fn null_rate_gives_one_ratio_per_column() {
    let obs = r#""row_count":200,"columns":{"email":{"null_count":2},"id":{"null_count":0}}"#;
    let eval = evaluate(
        builtin("null-rate"),
        r#"{"columns":"*","max_null_fraction":0.005}"#,
        &observation(obs),
    )
    .unwrap();
    let got: Vec<_> = eval
        .measurements
        .iter()
        .map(|m| (m.sli.as_str(), m.good, m.total))
        .collect();
    assert_eq!(
        got,
        [("null_rate:email", 198, 200), ("null_rate:id", 200, 200)]
    );
    assert_eq!(
        guest_error(
            "null-rate",
            r#"{"columns":["phone"],"max_null_fraction":0}"#,
            obs
        ),
        GuestError::MissingMetadata("columns.phone".into())
    );
    assert!(
        invalid_config("null-rate", r#"{"columns":["a"],"max_null_fraction":2}"#)
            .contains("max_null_fraction")
    );
}

#[test]
fn schema_drift_compares_with_the_previous_observation_through_history() {
    let previous =
        observation(r#""schema":[{"name":"id","type":"BIGINT"},{"name":"email","type":"TEXT"}]"#);
    let current =
        observation(r#""schema":[{"name":"id","type":"TEXT"},{"name":"phone","type":"TEXT"}]"#);
    let eval = evaluate_with(
        builtin("schema-drift"),
        r#"{"mode":"previous"}"#,
        &current,
        vec![previous],
        None,
    )
    .unwrap();
    let m = &eval.measurements[0];
    assert_eq!((m.good, m.value), (0, Some(3.0)));
    assert_eq!(
        m.detail,
        "added: phone TEXT; removed: email; retyped: id BIGINT -> TEXT"
    );
}

#[test]
fn schema_drift_against_an_expected_schema() {
    let current = observation(r#""schema":[{"name":"id","type":"bigint"}]"#);
    let eval = evaluate(
        builtin("schema-drift"),
        r#"{"expected":{"id":"BIGINT"}}"#,
        &current,
    )
    .unwrap();
    assert!(eval.measurements[0].good == 1);
    assert_eq!(
        guest_error("schema-drift", r#"{"mode":"previous"}"#, ""),
        GuestError::MissingMetadata("schema".into())
    );
    assert!(invalid_config("schema-drift", "{}").contains("expected"));
}

#[test]
fn uniqueness_gives_the_duplicate_fraction_of_non_null_values() {
    let obs = r#""row_count":100,"columns":{"email":{"null_count":20,"distinct_count":60},"id":{"null_count":0}}"#;
    let eval = evaluate(
        builtin("uniqueness"),
        r#"{"column":"email","max_duplicate_fraction":0.1}"#,
        &observation(obs),
    )
    .unwrap();
    let m = &eval.measurements[0];
    assert_eq!(
        (m.sli.as_str(), m.good, m.total, m.value),
        ("uniqueness:email", 60, 80, Some(0.25))
    );
    assert_eq!(
        guest_error(
            "uniqueness",
            r#"{"column":"id","max_duplicate_fraction":0}"#,
            obs
        ),
        GuestError::MissingMetadata("columns.id.distinct_count".into())
    );
    assert!(
        invalid_config(
            "uniqueness",
            r#"{"column":"id","max_duplicate_fraction":2}"#
        )
        .contains("max_duplicate_fraction")
    );
}

#[test]
fn assertions_gives_the_pass_rate_of_the_observations_assertions() {
    let obs = r#""assertions":[{"name":"not_null","column":"id","success":true},
        {"name":"unique","column":"id","success":false},{"name":"row_count","success":true}]"#;
    let eval = evaluate(builtin("assertions"), "{}", &observation(obs)).unwrap();
    let m = &eval.measurements[0];
    assert_eq!((m.good, m.total), (2, 3));
    assert_eq!(m.detail, "2 of 3 assertions passed; failed: unique(id)");
    let on_id = evaluate(
        builtin("assertions"),
        r#"{"columns":["id"]}"#,
        &observation(obs),
    )
    .unwrap();
    assert_eq!(on_id.measurements[0].value, Some(0.5));
    assert_eq!(
        guest_error("assertions", "{}", r#""row_count":5"#),
        GuestError::MissingMetadata("assertions".into())
    );
    assert!(invalid_config("assertions", r#"{"names":[]}"#).contains("names is empty"));
}

#[test]
fn partition_completeness_finds_the_partitions_in_history_through_the_host() {
    let day = |ds: &str| observation(&format!(r#""partition":"ds={ds}""#));
    let eval = evaluate_with(
        builtin("partition-completeness"),
        r#"{"pattern":"ds=%Y-%m-%d","lookback":3}"#,
        &day("2026-11-25"),
        vec![day("2026-11-23"), day("2026-11-22")],
        None,
    )
    .unwrap();
    let m = &eval.measurements[0];
    assert_eq!((m.good, m.total), (2, 3));
    assert_eq!(
        m.detail,
        "2 of 3 partitions present (ds=2026-11-23 to ds=2026-11-25); missing: ds=2026-11-24"
    );
    assert_eq!(
        guest_error(
            "partition-completeness",
            r#"{"pattern":"ds=%Y-%m-%d","lookback":3}"#,
            ""
        ),
        GuestError::MissingMetadata("partition".into())
    );
    assert!(
        invalid_config(
            "partition-completeness",
            r#"{"pattern":"ds=%Y-%m","lookback":3}"#
        )
        .contains("lacks %d")
    );
}

/// `dataslo test` on a folder holding built-in `name`'s embedded component
/// and a copy of its case files: the cases run in the sandbox, nothing is built.
fn dataslo_test_builtin(name: &str) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes = dataslo::runtime::builtin_bytes(name).expect("a built-in");
    std::fs::write(dir.path().join(format!("{name}.wasm")), bytes).expect("write the component");
    let cases = workspace().join("policies").join(name).join("tests");
    std::fs::create_dir(dir.path().join("tests")).expect("make tests/");
    for entry in std::fs::read_dir(&cases).expect("the built-in has case files") {
        let path = entry.expect("read tests/").path();
        let file = path.file_name().expect("a file name");
        std::fs::copy(&path, dir.path().join("tests").join(file)).expect("copy a case file");
    }
    std::process::Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .arg("test")
        .arg(dir.path())
        .output()
        .expect("run dataslo test")
}

#[test]
fn every_builtin_passes_its_own_case_files_in_the_sandbox() {
    for name in builtin_names() {
        let out = dataslo_test_builtin(name);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(" passed, 0 failed"), "{name}: {stdout}");
    }
}
