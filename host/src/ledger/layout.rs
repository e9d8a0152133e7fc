//! The ledger's layout version: one per database (its tenants share it),
//! stored under [`keys::LAYOUT_VERSION`], checked whenever a ledger opens, and
//! moved forward only by [`migrate`] (`dataslo ledger migrate`), one step per
//! version. `run`, `serve` and `status` never migrate on their own: rewriting
//! a ledger is the operator's call.

use super::{LedgerError, keys};
use std::path::{Path, PathBuf};

/// The layout this dataslo reads and writes.
pub const CURRENT_LAYOUT: u32 = 5;

/// The layout of a ledger that stores no version: written before there was one.
pub const UNVERSIONED_LAYOUT: u32 = 1;

/// One migration step, from layout `from` to `from + 1`. A crash can cut it
/// short and `migrate` then runs it again, so it must be safe to rerun.
struct Step {
    from: u32,
    /// What it does, for the operator.
    what: &'static str,
    run: fn(&sled::Db) -> Result<(), LedgerError>,
}

/// Every step, in order.
const STEPS: &[Step] = &[
    Step {
        from: 1,
        what: "an ingest log for each tenant, holding the observations it stored",
        run: super::migrations::ingest_log,
    },
    Step {
        from: 2,
        what: "a hash chain per SLO and site, linking the records stored",
        run: super::migrations::chains,
    },
    Step {
        from: 3,
        what: "ingest log entries that name their observations instead of copying them",
        run: super::migrations::named_log,
    },
    Step {
        from: 4,
        what: "the chains' index holding a transaction's links of a chain under one key",
        run: super::migrations::chain_runs,
    },
];

// Step i goes from layout i + 1, and the last one ends at the current layout.
const _: () = {
    assert!(STEPS.len() as u32 + 1 == CURRENT_LAYOUT);
    let mut i = 0;
    while i < STEPS.len() {
        assert!(STEPS[i].from == i as u32 + 1);
        i += 1;
    }
};

/// What [`migrate`] did (as `ledger migrate --format json` prints it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Migration {
    /// The ledger's directory.
    pub dir: PathBuf,
    /// Its layout before.
    pub from: u32,
    /// Its layout now.
    pub to: u32,
    /// The steps applied, in order: (layout they started from, what they did).
    pub steps: Vec<(u32, &'static str)>,
    /// Whether the version was written without any step: the ledger stored
    /// none (it predates versions, or is new).
    pub recorded: bool,
}

/// Refuses a ledger of another layout; writes the current one into a new ledger.
pub(super) fn check(db: &sled::Db, dir: &Path) -> Result<(), LedgerError> {
    check_reading(db, dir, CURRENT_LAYOUT)
}

fn check_reading(db: &sled::Db, dir: &Path, current: u32) -> Result<(), LedgerError> {
    match stored(db, dir)? {
        Some(found) if found == current => Ok(()),
        Some(found) => Err(mismatch(dir, found, current)),
        None if is_new(db) => {
            db.insert(keys::LAYOUT_VERSION, &keys::layout_version(current))?;
            db.flush()?;
            Ok(())
        }
        None if UNVERSIONED_LAYOUT == current => Ok(()),
        None => Err(mismatch(dir, UNVERSIONED_LAYOUT, current)),
    }
}

/// Brings the ledger in `dir` to [`CURRENT_LAYOUT`], one step at a time, each
/// made durable before the version that claims it: after a crash, running it
/// again resumes. A ledger written by a newer dataslo is refused.
pub fn migrate(dir: &Path) -> Result<Migration, LedgerError> {
    if !dir.is_dir() {
        return Err(LedgerError::NoLedger {
            dir: dir.display().to_string(),
        });
    }
    let db = super::open_db(dir)?;
    apply(&db, dir, STEPS)
}

fn apply(db: &sled::Db, dir: &Path, steps: &[Step]) -> Result<Migration, LedgerError> {
    let current = steps.len() as u32 + 1;
    let stored = stored(db, dir)?;
    let from = match stored {
        Some(found) => found,
        None if is_new(db) => current,
        None => UNVERSIONED_LAYOUT,
    };
    if from > current {
        return Err(mismatch(dir, from, current));
    }
    let mut applied = Vec::new();
    for step in steps.iter().skip(from as usize - 1) {
        (step.run)(db)?;
        db.flush()?;
        db.insert(keys::LAYOUT_VERSION, &keys::layout_version(step.from + 1))?;
        db.flush()?;
        applied.push((step.from, step.what));
    }
    let recorded = stored.is_none() && applied.is_empty();
    if recorded {
        db.insert(keys::LAYOUT_VERSION, &keys::layout_version(current))?;
        db.flush()?;
    }
    Ok(Migration {
        dir: dir.to_path_buf(),
        from,
        to: current,
        steps: applied,
        recorded,
    })
}

/// The stored version; `None` when there is none. Layouts start at 1.
fn stored(db: &sled::Db, dir: &Path) -> Result<Option<u32>, LedgerError> {
    let Some(value) = db.get(keys::LAYOUT_VERSION)? else {
        return Ok(None);
    };
    match keys::parse_layout_version(&value) {
        Some(version) if version >= 1 => Ok(Some(version)),
        _ => Err(LedgerError::UnreadableLayout {
            dir: dir.display().to_string(),
            value: hex::encode(&value),
        }),
    }
}

/// No tenant has a tree and nothing is stored: nothing to be at any layout.
fn is_new(db: &sled::Db) -> bool {
    let tenants = db.tree_names();
    db.is_empty() && !tenants.iter().any(|n| keys::parse_tenant_tree(n).is_some())
}

fn mismatch(dir: &Path, found: u32, reads: u32) -> LedgerError {
    if found > reads {
        return LedgerError::NewerLayout {
            dir: dir.display().to_string(),
            found,
            reads,
        };
    }
    // The commands keep the ledger in `<data_dir>/ledger`.
    let data_dir = match (dir.file_name(), dir.parent()) {
        (Some(name), Some(parent)) if name == "ledger" && !parent.as_os_str().is_empty() => parent,
        (Some(name), Some(_)) if name == "ledger" => Path::new("."),
        _ => dir,
    };
    LedgerError::OlderLayout {
        dir: dir.display().to_string(),
        data_dir: data_dir.display().to_string(),
        found,
        reads,
    }
}

#[cfg(test)]
mod tests {
    use super::super::Ledger;
    use super::*;

    fn version(db: &sled::Db) -> Option<u32> {
        let value = db.get(keys::LAYOUT_VERSION).unwrap()?;
        keys::parse_layout_version(&value)
    }

    fn set_version(db: &sled::Db, v: u32) {
        db.insert(keys::LAYOUT_VERSION, &keys::layout_version(v))
            .unwrap();
    }

    /// A ledger as dataslo wrote it before layout versions: trees, no version.
    fn unversioned(dir: &Path) -> Ledger {
        let ledger = Ledger::open(dir, "default", 10).unwrap();
        ledger.db.remove(keys::LAYOUT_VERSION).unwrap();
        ledger
    }

    /// Counts its runs in the db, so a rerun shows.
    fn counting_step(db: &sled::Db, name: &str) -> Result<(), LedgerError> {
        let runs = db.get(name)?.map_or(0, |v| v[0]);
        db.insert(name, &[runs + 1])?;
        Ok(())
    }

    const TWO_STEPS: &[Step] = &[
        Step {
            from: 1,
            what: "one to two",
            run: |db| counting_step(db, "ran 1"),
        },
        Step {
            from: 2,
            what: "two to three",
            run: |db| counting_step(db, "ran 2"),
        },
    ];

    #[test]
    fn a_new_ledger_is_written_at_the_current_layout() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        assert_eq!(version(&ledger.db), Some(CURRENT_LAYOUT));
    }

    #[test]
    fn a_tenant_has_exactly_the_trees_of_the_key_map() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "acme", 10).unwrap();
        let mut trees: Vec<String> = ledger
            .db
            .tree_names()
            .iter()
            .filter_map(|n| keys::parse_tenant_tree(n))
            .map(|(tenant, tree)| format!("{tenant} {tree}"))
            .collect();
        trees.sort();
        let mut expected: Vec<String> = keys::TENANT_TREES.map(|t| format!("acme {t}")).into();
        expected.sort();
        assert_eq!(trees, expected);
    }

    #[test]
    fn a_ledger_without_a_version_is_layout_1_and_is_refused_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = unversioned(dir.path());
        let e = check(&ledger.db, dir.path()).unwrap_err();
        assert!(
            matches!(
                e,
                LedgerError::OlderLayout {
                    found: 1,
                    reads: CURRENT_LAYOUT,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(version(&ledger.db), None, "opening does not migrate");
    }

    #[test]
    fn a_ledger_of_a_newer_layout_is_refused_naming_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        set_version(&ledger.db, CURRENT_LAYOUT + 1);
        let e = check(&ledger.db, dir.path()).unwrap_err();
        assert!(matches!(
            e,
            LedgerError::NewerLayout {
                found,
                reads: CURRENT_LAYOUT,
                ..
            } if found == CURRENT_LAYOUT + 1
        ));
        let text = e.to_string();
        for part in [
            &format!("at layout {}", CURRENT_LAYOUT + 1),
            &format!("reads layout {CURRENT_LAYOUT}"),
            "newer dataslo",
            "ledger migrate",
        ] {
            assert!(text.contains(part), "{text:?} lacks {part:?}");
        }
    }

    #[test]
    fn a_ledger_of_an_older_layout_is_refused_naming_the_migrate_command() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("ledger");
        let ledger = Ledger::open(&dir, "default", 10).unwrap();
        let reads = CURRENT_LAYOUT + 1;
        let e = check_reading(&ledger.db, &dir, reads).unwrap_err();
        let migrate = format!(
            "run `dataslo ledger migrate --data-dir {}`",
            data.path().display()
        );
        let expected = |found| {
            format!(
                "ledger {} is at layout {found}, this dataslo reads layout {reads}: {migrate}",
                dir.display()
            )
        };
        assert_eq!(e.to_string(), expected(CURRENT_LAYOUT));
        ledger.db.remove(keys::LAYOUT_VERSION).unwrap();
        let e = check_reading(&ledger.db, &dir, reads).unwrap_err();
        assert_eq!(e.to_string(), expected(1), "no version is layout 1");
    }

    #[test]
    fn an_unreadable_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        ledger.db.insert(keys::LAYOUT_VERSION, b"one").unwrap();
        let e = check(&ledger.db, dir.path()).unwrap_err();
        assert!(matches!(e, LedgerError::UnreadableLayout { .. }), "{e}");
        set_version(&ledger.db, 0);
        assert!(check(&ledger.db, dir.path()).is_err(), "layouts start at 1");
    }

    #[test]
    fn migrate_brings_an_unversioned_ledger_to_the_current_layout_then_has_nothing_to_do() {
        let dir = tempfile::tempdir().unwrap();
        drop(unversioned(dir.path()));
        let done = reopening(dir.path(), migrate);
        let now = CURRENT_LAYOUT;
        assert_eq!((done.from, done.to, done.recorded), (1, now, false));
        assert_eq!(done.steps.len(), STEPS.len());
        let again = reopening(dir.path(), migrate);
        assert_eq!((again.from, again.to, again.recorded), (now, now, false));
        assert!(again.steps.is_empty());
        let ledger = reopening(dir.path(), |d| Ledger::open(d, "default", 10));
        assert_eq!(version(&ledger.db), Some(now));
    }

    #[test]
    fn migrate_applies_every_step_in_order_and_a_rerun_resumes_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = unversioned(dir.path());
        let done = apply(&ledger.db, dir.path(), TWO_STEPS).unwrap();
        assert_eq!((done.from, done.to, done.recorded), (1, 3, false));
        assert_eq!(done.steps, [(1, "one to two"), (2, "two to three")]);
        assert_eq!(version(&ledger.db), Some(3));
        // A crash during the second step leaves the ledger at layout 2.
        set_version(&ledger.db, 2);
        let resumed = apply(&ledger.db, dir.path(), TWO_STEPS).unwrap();
        assert_eq!(resumed.steps, [(2, "two to three")]);
        let runs = |name: &str| ledger.db.get(name).unwrap().map(|v| v[0]);
        assert_eq!((runs("ran 1"), runs("ran 2")), (Some(1), Some(2)));
        assert_eq!(version(&ledger.db), Some(3));
    }

    #[test]
    fn migrate_refuses_a_newer_ledger_and_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        let newer = CURRENT_LAYOUT + 1;
        set_version(&ledger.db, newer);
        let e = apply(&ledger.db, dir.path(), STEPS).unwrap_err();
        assert!(
            e.to_string().contains("cannot migrate a ledger down"),
            "{e}"
        );
        assert_eq!(version(&ledger.db), Some(newer), "untouched");
        let missing = dir.path().join("absent");
        let e = migrate(&missing).unwrap_err();
        assert!(matches!(e, LedgerError::NoLedger { .. }), "{e}");
        assert!(!missing.exists(), "migrate creates nothing");
    }

    /// sled releases a closed database's lock from a background thread, a
    /// moment later: retry while it is still held.
    fn reopening<T>(dir: &Path, f: impl Fn(&Path) -> Result<T, LedgerError>) -> T {
        for _ in 0..100 {
            match f(dir) {
                Err(LedgerError::Open { .. }) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other.unwrap(),
            }
        }
        panic!("{} stays locked", dir.display())
    }
}
