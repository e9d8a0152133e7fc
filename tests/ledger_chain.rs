//! The hash-chained ledger through the `dataslo` binary: a ledger written by
//! the release before the chain (layout 2, tests/data/ledgers/layout-2.tar.gz)
//! migrates, verifies and chains on; `ledger export` carries the links and
//! `ledger audit` checks an export offline, naming the first tampered line.

use crate::support::{test_data, workspace};
use std::path::Path;
use std::process::{Command, Output};

fn dataslo(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("dataslo runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeds(out: Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The layout-2 fixture (one SLO, four records, 08:00 to 11:00 on
/// 2026-11-30) unpacked as `<dir>/data/ledger`, with its SLO file beside.
fn released_ledger(dir: &Path) {
    let untar = Command::new("tar")
        .arg("xzf")
        .arg(test_data("ledgers/layout-2.tar.gz"))
        .arg("-C")
        .arg(dir)
        .status()
        .unwrap();
    assert!(untar.success());
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::rename(dir.join("ledger"), dir.join("data/ledger")).unwrap();
    std::fs::copy(
        workspace().join("tests/support/orders-volume.yaml"),
        dir.join("slo.yaml"),
    )
    .unwrap();
}

fn observe(dir: &Path, at: &str, rows: u64) {
    let obs = format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{at}","row_count":{rows}}}"#
    );
    std::fs::write(dir.join("obs.json"), obs).unwrap();
    succeeds(dataslo(&["observe", "obs.json", "--data-dir", "data"], dir));
    succeeds(dataslo(
        &["run", "--once", "--data-dir", "data", "slo.yaml"],
        dir,
    ));
}

#[test]
fn a_ledger_of_the_release_before_the_chain_migrates_verifies_and_chains_on() {
    let dir = tempfile::tempdir().unwrap();
    released_ledger(dir.path());
    let refused = dataslo(&["status", "--data-dir", "data"], dir.path());
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is at layout 2"), "{stderr}");

    let migrated = succeeds(dataslo(
        &["ledger", "migrate", "--data-dir", "data"],
        dir.path(),
    ));
    assert!(
        migrated.contains("layout 2 -> 3: a hash chain per SLO and site"),
        "{migrated}"
    );
    let verified = succeeds(dataslo(
        &["ledger", "verify", "--data-dir", "data"],
        dir.path(),
    ));
    assert!(
        verified.contains("4 record(s)") && verified.contains("4 chain link(s), 0 problem(s)"),
        "{verified}"
    );

    observe(dir.path(), "2026-11-30T12:00:00Z", 50);
    let verified = succeeds(dataslo(
        &["ledger", "verify", "--data-dir", "data"],
        dir.path(),
    ));
    assert!(
        verified.contains("5 chain link(s), 0 problem(s)"),
        "{verified}"
    );
    let export = succeeds(dataslo(
        &["ledger", "export", "--data-dir", "data"],
        dir.path(),
    ));
    let first: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    assert_eq!(first["chain"]["to_seq"], 5, "a header per chain: {export}");
    let last: serde_json::Value = serde_json::from_str(export.lines().last().unwrap()).unwrap();
    assert_eq!(last["seq"], 5, "{export}");
    assert_eq!(last["time"], "2026-11-30T12:00:00Z");
}

#[test]
fn ledger_audit_passes_an_export_and_names_the_first_tampered_line() {
    let dir = tempfile::tempdir().unwrap();
    released_ledger(dir.path());
    succeeds(dataslo(
        &["ledger", "migrate", "--data-dir", "data"],
        dir.path(),
    ));
    let export = succeeds(dataslo(
        &["ledger", "export", "--data-dir", "data"],
        dir.path(),
    ));
    let lines: Vec<&str> = export.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with(r#"{"chain":"#), "{}", lines[0]);
    for (i, line) in lines[1..].iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["seq"], i as u64 + 1, "chain order: {line}");
        assert_eq!(v["hash"].as_str().unwrap().len(), 64);
        assert_eq!(v["prev"].as_str().unwrap().len(), 64);
    }
    std::fs::write(dir.path().join("export.ndjson"), &export).unwrap();
    let clean = succeeds(dataslo(&["ledger", "audit", "export.ndjson"], dir.path()));
    assert!(
        clean.contains("5 line(s), 1 chain(s), every link checks out"),
        "{clean}"
    );

    // The bad hour (5 rows) rewritten as good.
    assert!(lines[3].contains(r#""outcome":"bad""#), "{}", lines[3]);
    let tampered = lines[3]
        .replace(r#""good":0"#, r#""good":1"#)
        .replace(r#""outcome":"bad""#, r#""outcome":"good""#)
        .replace(r#"{"good":0,"total":1}"#, r#"{"good":1,"total":1}"#);
    let mut edited = lines.clone();
    edited[3] = &tampered;
    std::fs::write(dir.path().join("edited.ndjson"), edited.join("\n")).unwrap();
    let out = dataslo(&["ledger", "audit", "edited.ndjson"], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("edited.ndjson line 4: SLO orders-volume seq 3: edited"),
        "{stderr}"
    );

    let mut deleted = lines.clone();
    deleted.remove(2);
    std::fs::write(dir.path().join("deleted.ndjson"), deleted.join("\n")).unwrap();
    let out = dataslo(
        &["ledger", "audit", "deleted.ndjson", "--format", "json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["first_break"]["line"], 3);
    assert_eq!(report["first_break"]["kind"], "deleted");
}

/// The migrated fixture, then a late record: 07:00, filed as seq 5.
fn migrated_with_a_late_record(dir: &Path) {
    released_ledger(dir);
    succeeds(dataslo(&["ledger", "migrate", "--data-dir", "data"], dir));
    observe(dir, "2026-11-30T07:00:00Z", 50);
}

/// `dataslo ledger audit` of these lines, written to `name`.
fn audit(dir: &Path, name: &str, lines: &[&str]) -> Output {
    std::fs::write(dir.join(name), lines.join("\n")).unwrap();
    dataslo(&["ledger", "audit", name], dir)
}

#[test]
fn an_export_since_a_time_carries_the_late_records_after_it_and_audits_clean() {
    let dir = tempfile::tempdir().unwrap();
    migrated_with_a_late_record(dir.path());
    let export = succeeds(dataslo(
        &[
            "ledger",
            "export",
            "--data-dir",
            "data",
            "--since",
            "2026-11-30T10:00:00Z",
        ],
        dir.path(),
    ));
    let lines: Vec<serde_json::Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["chain"]["from_seq"], 3, "{export}");
    assert_eq!(lines[0]["chain"]["to_seq"], 5, "{export}");
    let times: Vec<_> = lines[1..]
        .iter()
        .map(|l| l["time"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2026-11-30T10:00:00Z",
            "2026-11-30T11:00:00Z",
            "2026-11-30T07:00:00Z"
        ],
        "every link after the first at or after --since, the late one too"
    );
    let lines: Vec<&str> = export.lines().collect();
    let clean = succeeds(audit(dir.path(), "since.ndjson", &lines));
    assert!(
        clean.contains("4 line(s), 1 chain(s), every link checks out"),
        "{clean}"
    );
    // The header's head is the live ledger's, as `verify --format json` says.
    let verified = succeeds(dataslo(
        &["ledger", "verify", "--data-dir", "data", "--format", "json"],
        dir.path(),
    ));
    let verified: serde_json::Value = serde_json::from_str(&verified).unwrap();
    let head = &verified["tenants"][0]["heads"][0];
    let header: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(head["seq"], header["chain"]["to_seq"], "{verified}");
    assert_eq!(head["hash"], header["chain"]["to_hash"], "{verified}");
}

#[test]
fn an_export_cut_at_a_chains_first_or_last_line_fails_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    migrated_with_a_late_record(dir.path());
    let export = succeeds(dataslo(
        &["ledger", "export", "--data-dir", "data"],
        dir.path(),
    ));
    let lines: Vec<&str> = export.lines().collect();
    assert_eq!(lines.len(), 6);

    let mut first_cut = lines.clone();
    first_cut.remove(1);
    let out = audit(dir.path(), "first.ndjson", &first_cut);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("first.ndjson line 2: SLO orders-volume seq 2: a line before it deleted"),
        "{stderr}"
    );

    let tail_cut = &lines[..5];
    let out = audit(dir.path(), "tail.ndjson", tail_cut);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "tail.ndjson end (chain cut after line 5): tenant default SLO orders-volume seq 5: \
             a line before it deleted (or moved): expected links up to the head, seq 5, \
             found the last is seq 4, at line 5"
        ),
        "{stderr}"
    );
}

#[test]
fn an_export_line_moved_to_another_tenant_or_site_fails_the_audit_at_that_line() {
    let dir = tempfile::tempdir().unwrap();
    migrated_with_a_late_record(dir.path());
    let export = succeeds(dataslo(
        &["ledger", "export", "--data-dir", "data"],
        dir.path(),
    ));
    let lines: Vec<&str> = export.lines().collect();

    let other_tenant = lines[3].replace(r#""tenant":"default""#, r#""tenant":"acme""#);
    let mut moved = lines.clone();
    moved[3] = &other_tenant;
    let out = audit(dir.path(), "tenant.ndjson", &moved);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("tenant.ndjson line 4: SLO orders-volume seq 3: edited"),
        "{stderr}"
    );
    assert!(stderr.contains("which no header declares"), "{stderr}");

    let key = serde_json::from_str::<serde_json::Value>(lines[3]).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let other_site = lines[3].replace(
        &format!(r#""key":"{key}""#),
        &format!(r#""key":"east.{key}""#),
    );
    assert_ne!(other_site, lines[3]);
    let mut moved = lines.clone();
    moved[3] = &other_site;
    let out = audit(dir.path(), "site.ndjson", &moved);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("site.ndjson line 4: SLO orders-volume site east seq 3: edited"),
        "{stderr}"
    );
}
