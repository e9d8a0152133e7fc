//! SLO files: OpenSLO v1 from other projects parses as valid (and is reported
//! as not evaluable here), dataslo's own SLOs become typed definitions, and
//! every error names the file, the document and the field.

use crate::support::{test_data, workspace};
use dataslo::model::PolicyRef;
use dataslo::slo::{Budgeting, Indicator, Op, TimeWindow, Trigger, load_files, parse_text};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn openslo_testdata() -> Vec<PathBuf> {
    let dir = test_data("openslo");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_openslo_example_from_upstream_is_valid_and_reported_not_evaluable() {
    let files = openslo_testdata();
    assert_eq!(files.len(), 4, "{files:?}");
    let catalog = load_files(&files);
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    assert!(catalog.slos.is_empty());
    assert_eq!(catalog.not_evaluable.len(), 4);
    for n in &catalog.not_evaluable {
        assert_eq!(n.kind, "SLO");
        assert!(n.reason.contains("`Any`, not `dataslo`"), "{}", n.reason);
    }
}

#[test]
fn the_example_slos_are_evaluable_with_every_field_typed() {
    let catalog = load_files(&[workspace().join("examples/slos.yaml")]);
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    let names: Vec<_> = catalog.slos.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["orders-fresh", "orders-volume", "customers-email-nulls"]
    );

    let fresh = &catalog.slos[0];
    assert_eq!(fresh.trigger, Trigger::Schedule(Duration::from_secs(300)));
    assert_eq!(fresh.indicator, Indicator::Threshold);
    assert_eq!(
        fresh.window,
        TimeWindow::Rolling(Duration::from_secs(28 * 86_400))
    );
    assert_eq!(fresh.objectives[0].threshold, Some((Op::Lte, 7200.0)));
    assert_eq!(fresh.config, r#"{"max_age":"2h"}"#);
    assert_eq!(fresh.source.index, 1);

    let volume = &catalog.slos[1];
    assert_eq!(volume.objectives[0].target, 0.95);
    match &volume.window {
        TimeWindow::Calendar { length, start } => {
            assert_eq!(length.to_string(), "1M");
            assert_eq!(start.time_zone().iana_name(), Some("Europe/Paris"));
            assert_eq!(start.timestamp().to_string(), "2025-12-31T23:00:00Z");
        }
        other => panic!("expected a calendar window, got {other:?}"),
    }

    let nulls = &catalog.slos[2];
    assert_eq!(
        (nulls.indicator, nulls.budgeting),
        (Indicator::Ratio, Budgeting::Timeslices)
    );
    assert_eq!(
        nulls.objectives[0].slice,
        Some((Duration::from_secs(3600), 0.99))
    );
    assert_eq!(nulls.sli, "null_rate:email");
}

const GOOD: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: fresh }
spec:
  indicator:
    metadata: { name: f }
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec:
            dataset: { namespace: "s3://b", name: t }
            policy: builtin:freshness
            config: { max_age: 1h }
            sli: freshness
            trigger: observation
  timeWindow: [{ duration: 7d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ op: lte, value: 3600, target: 0.99 }]
"#;

fn only_error(yaml: &str) -> String {
    let catalog = parse_text(yaml, "slos.yaml");
    assert_eq!(
        catalog.errors.len(),
        1,
        "{:#?} {:#?}",
        catalog.errors,
        catalog.slos
    );
    catalog.errors[0].to_string()
}

#[test]
fn a_valid_dataslo_slo_parses() {
    let catalog = parse_text(GOOD, "slos.yaml");
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    assert_eq!(catalog.slos.len(), 1);
}

#[test]
fn a_ratio_slo_on_a_dataslo_policy_needs_no_good_source() {
    let short = r#"
apiVersion: openslo/v1
kind: SLO
metadata: { name: email-nulls }
spec:
  indicator:
    metadata: { name: nulls }
    spec:
      ratioMetric:
        total:
          metricSource:
            type: dataslo
            spec:
              dataset: { namespace: "s3://lake", name: crm.customers }
              policy: builtin:null-rate
              config: { columns: [email], max_null_fraction: 0.01 }
              sli: "null_rate:email"
              trigger: observation
  timeWindow: [{ duration: 7d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
"#;
    let catalog = parse_text(short, "slos.yaml");
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    assert_eq!(
        catalog.slos[0].indicator,
        dataslo::slo::Indicator::Ratio,
        "the policy's good and total are the events"
    );
    // Another source's total still needs its good or bad.
    let other = short.replace("type: dataslo", "type: prometheus");
    assert!(
        only_error(&other).contains("needs total and one of good or bad"),
        "{}",
        only_error(&other)
    );
}

#[test]
fn errors_name_the_file_the_document_and_the_field() {
    let cases = [
        (
            "target: 0.99",
            "target: 1.5",
            "spec.objectives[0]: target must be between 0 and 1",
        ),
        (
            "sli: freshness",
            "sli: freshness\n            slis: x",
            "unknown field `slis`",
        ),
        (
            "duration: 7d",
            "duration: 7days",
            "spec.timeWindow[0].duration",
        ),
        ("op: lte", "op: below", "spec.objectives[0].op"),
        (
            "budgetingMethod: Occurrences",
            "budgetingMethod: RatioTimeslices",
            "spec.budgetingMethod: RatioTimeslices is not supported",
        ),
        (
            "trigger: observation",
            "trigger: { schedule: soon }",
            "trigger.schedule",
        ),
        (
            "name: t }",
            "name: \"\" }",
            "dataset.name: must not be empty",
        ),
    ];
    for (from, to, expected) in cases {
        let yaml = format!(
            "{GOOD}---{}",
            GOOD.replace("name: fresh", "name: second")
                .replace(from, to)
        );
        let message = only_error(&yaml);
        assert!(
            message.starts_with("slos.yaml (document 2, `second`): "),
            "{message}"
        );
        assert!(message.contains(expected), "{to}: {message}");
    }
}

#[test]
fn the_policy_is_read_once_as_a_builtin_an_upload_or_a_file() {
    for (text, expected) in [
        ("builtin:freshness", PolicyRef::Builtin("freshness".into())),
        ("uploaded:min-rows", PolicyRef::Uploaded("min-rows".into())),
        ("policies/p.wasm", PolicyRef::File("policies/p.wasm".into())),
    ] {
        let yaml = GOOD.replace("policy: builtin:freshness", &format!("policy: {text}"));
        let catalog = parse_text(&yaml, "slos.yaml");
        assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
        assert_eq!(catalog.slos[0].policy.spec, expected);
    }
}

#[test]
fn a_policy_with_an_empty_builtin_name_is_refused_naming_the_field() {
    for (to, expected) in [
        ("policy: \"builtin:\"", "no name after `builtin:`"),
        ("policy: \"uploaded:\"", "no name after `uploaded:`"),
        ("policy: builtin:../x", "\"../x\" is not a policy name"),
        ("policy: \"\"", "the policy is empty"),
    ] {
        let message = only_error(&GOOD.replace("policy: builtin:freshness", to));
        assert!(
            message.starts_with(
                "slos.yaml (document 1, `fresh`): \
                 spec.indicator.spec.<metric>.metricSource.spec.policy: "
            ),
            "{message}"
        );
        assert!(message.contains(expected), "{to}: {message}");
    }
}

#[test]
fn a_calendar_window_needs_a_real_time_zone() {
    let yaml = GOOD.replace(
        "timeWindow: [{ duration: 7d, isRolling: true }]",
        "timeWindow: [{ duration: 1M, isRolling: false, calendar: { startTime: 2026-01-01 00:00:00, timeZone: Mars/Olympus } }]",
    );
    assert!(only_error(&yaml).contains("calendar.timeZone"));
}

#[test]
fn other_kinds_and_api_versions_are_listed_not_rejected() {
    let yaml = "apiVersion: openslo/v1\nkind: Service\nmetadata: { name: web }\nspec: {}\n---\napiVersion: openslo/v1alpha\nkind: SLO\nmetadata: { name: old }\nspec: {}\n";
    let catalog = parse_text(yaml, "mixed.yaml");
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    let reasons: Vec<_> = catalog
        .not_evaluable
        .iter()
        .map(|n| n.reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "kind Service is not an SLO",
            "SLO (openslo/v1alpha) is not read; dataslo reads openslo/v1"
        ]
    );
}

#[test]
fn an_slo_may_reference_an_sli_document() {
    let sli = "apiVersion: openslo/v1\nkind: SLI\nmetadata: { name: shared-freshness }\nspec:\n  thresholdMetric:\n    metricSource:\n      type: dataslo\n      spec: { dataset: { namespace: \"s3://b\", name: t }, policy: builtin:freshness, config: { max_age: 1h }, sli: freshness, trigger: observation }\n";
    let slo = GOOD.replace(
        "  indicator:\n    metadata: { name: f }\n    spec:\n      thresholdMetric:",
        "  indicatorRef: shared-freshness\n  unused:\n    x:\n      thresholdMetric:",
    );
    let catalog = parse_text(&format!("{sli}---{slo}"), "ref.yaml");
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    assert_eq!(
        catalog.slos[0].policy.spec,
        PolicyRef::Builtin("freshness".into())
    );
    let missing = parse_text(&slo, "ref.yaml");
    assert!(
        missing.errors[0]
            .to_string()
            .contains("no SLI named `shared-freshness`")
    );
}

#[test]
fn a_control_character_in_an_slo_or_objective_name_is_refused_naming_the_field() {
    for (name, shown) in [
        (r#""fresh\0""#, "U+0000"),
        (r#""fre\tsh""#, "U+0009"),
        (r#""fresh\n""#, "U+000A"),
        (r#""\e[31mfresh""#, "U+001B"),
        (r#""fresh\x85""#, "U+0085"),
    ] {
        let message = only_error(&GOOD.replace("name: fresh", &format!("name: {name}")));
        assert!(
            message.contains("metadata.name: must not hold control characters"),
            "{name}: {message}"
        );
        assert!(message.contains(shown), "{name}: {message}");
    }
    let message = only_error(&GOOD.replace("{ op: lte,", r#"{ displayName: "ok\0", op: lte,"#));
    assert!(
        message.contains("spec.objectives[0].displayName: must not hold control characters"),
        "{message}"
    );
    let printable = GOOD.replace("name: fresh", r#"name: "frisch ✓ (ü)""#);
    assert!(parse_text(&printable, "slos.yaml").errors.is_empty());
}

#[test]
fn two_objectives_that_decide_good_and_bad_alike_are_refused() {
    let twice = GOOD.replace(
        "objectives: [{ op: lte, value: 3600, target: 0.99 }]",
        "objectives: [{ displayName: a, op: lte, value: 3600, target: 0.99 }, { displayName: b, op: lte, value: 3600, target: 0.99 }]",
    );
    let message = only_error(&twice);
    assert!(
        message.contains("spec.objectives[1]: decides good and bad exactly as spec.objectives[0]"),
        "{message}"
    );
}

#[test]
fn duplicate_names_and_broken_yaml_are_errors() {
    assert!(
        only_error(&format!("{GOOD}---{GOOD}")).contains("another SLO is already named `fresh`")
    );
    assert!(only_error("kind: [unclosed").contains("not valid YAML"));
    assert!(only_error("apiVersion: openslo/v1\nkind: SLO\nspec: {}\n").contains("metadata.name"));
}

#[test]
fn the_validate_command_exits_0_on_valid_files_and_1_naming_each_error() {
    let mut args: Vec<String> = vec!["slo".into(), "validate".into()];
    args.extend(openslo_testdata().iter().map(|p| p.display().to_string()));
    args.push(workspace().join("examples/slos.yaml").display().to_string());
    let ok = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("3 evaluable, 4 not evaluable, 0 invalid")
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, GOOD.replace("target: 0.99", "targetPercent: 150")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(["slo", "validate"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "bad.yaml (document 1, `fresh`): spec.objectives[0]: target must be between 0 and 1"
        ),
        "{text}"
    );
}
