//! The ledger's layout version through the `dataslo` binary: a ledger of
//! another layout is refused by every command that opens it, naming both
//! versions and `dataslo ledger migrate`; `ledger migrate` brings a ledger
//! written before versions existed (layout 1) to the current one, which then
//! opens.

use dataslo::ledger::{CURRENT_LAYOUT, keys};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn slo_file() -> PathBuf {
    crate::support::workspace().join("tests/support/orders-volume.yaml")
}

/// `dataslo ARGS --data-dir DATA_DIR [EXTRA]`.
fn dataslo(args: &[&str], data_dir: &Path, extra: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
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

/// A ledger with one SLO, written by `run --once`.
fn ledger_in(data_dir: &Path) {
    succeeds(dataslo(&["run", "--once"], data_dir, &[&slo_file()]));
}

/// Opens the ledger's sled database directly, as another tool would.
fn with_db<T>(data_dir: &Path, f: impl FnOnce(&sled::Db) -> T) -> T {
    let dir = data_dir.join("ledger");
    let db = sled::open(&dir).expect("the ledger opens in sled");
    let out = f(&db);
    db.flush().expect("flush");
    drop(db);
    // sled releases its file lock from a background thread, a moment later.
    let file = std::fs::File::open(dir.join("db")).expect("sled's db file");
    for _ in 0..250 {
        if file.try_lock().is_ok() {
            return out;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("{} stays locked", dir.display())
}

fn stored_layout(data_dir: &Path) -> Option<u32> {
    with_db(data_dir, |db| {
        let value = db.get(keys::LAYOUT_VERSION).expect("read")?;
        keys::parse_layout_version(&value)
    })
}

#[test]
fn a_ledger_of_another_layout_is_refused_by_status_and_run_naming_both_versions() {
    let data = tempfile::tempdir().unwrap();
    ledger_in(data.path());
    assert_eq!(stored_layout(data.path()), Some(CURRENT_LAYOUT));
    let other = CURRENT_LAYOUT + 1;
    with_db(data.path(), |db| {
        db.insert(keys::LAYOUT_VERSION, &keys::layout_version(other))
    })
    .unwrap();

    let refusals = [
        dataslo(&["status"], data.path(), &[]),
        dataslo(&["run", "--once"], data.path(), &[&slo_file()]),
        dataslo(&["ledger", "migrate"], data.path(), &[]),
    ];
    for out in refusals {
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        for part in [
            format!("is at layout {other}"),
            format!("this dataslo reads layout {CURRENT_LAYOUT}"),
            "`dataslo ledger migrate` cannot migrate a ledger down".into(),
        ] {
            assert!(stderr.contains(&part), "{stderr:?} lacks {part:?}");
        }
    }
    assert_eq!(
        stored_layout(data.path()),
        Some(other),
        "nothing rewrote it"
    );
}

#[test]
fn a_ledger_from_before_versions_is_layout_1_refused_until_migrated_which_then_opens() {
    let data = tempfile::tempdir().unwrap();
    ledger_in(data.path());
    with_db(data.path(), |db| db.remove(keys::LAYOUT_VERSION)).unwrap();

    let refused = dataslo(&["status"], data.path(), &[]);
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    for part in [
        "is at layout 1".to_string(),
        format!("this dataslo reads layout {CURRENT_LAYOUT}"),
        "run `dataslo ledger migrate --data-dir".into(),
    ] {
        assert!(stderr.contains(&part), "{stderr:?} lacks {part:?}");
    }
    assert_eq!(stored_layout(data.path()), None, "status does not migrate");

    let out = succeeds(dataslo(&["ledger", "migrate"], data.path(), &[]));
    assert!(
        out.contains(&format!(
            "migrated from layout 1 to layout {CURRENT_LAYOUT}"
        )),
        "{out}"
    );
    assert_eq!(stored_layout(data.path()), Some(CURRENT_LAYOUT));

    let again = succeeds(dataslo(&["ledger", "migrate"], data.path(), &[]));
    assert!(
        again.contains(&format!("already at layout {CURRENT_LAYOUT}")),
        "{again}"
    );
    assert!(!again.contains("recorded"), "nothing left to do: {again}");
    succeeds(dataslo(&["status"], data.path(), &[]));
    succeeds(dataslo(&["run", "--once"], data.path(), &[]));
}

#[test]
fn ledger_migrate_of_a_missing_data_dir_is_an_error_and_creates_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let missing = parent.path().join("nowhere");
    let out = dataslo(&["ledger", "migrate"], &missing, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no ledger in") && stderr.contains("nowhere"),
        "{stderr}"
    );
    assert!(!missing.exists());
}
