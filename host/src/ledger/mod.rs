//! The ledger: an embedded sled database, one set of trees per tenant.
//!
//! It holds observations (with the latest per dataset and a bounded history),
//! evaluation records keyed by SLO then time then idempotency key, and
//! per-minute bucket aggregates. A record and its bucket update commit in one
//! transaction; callers are told "stored" only after a flush. Every value
//! carries a CRC-32, so corruption is detected by [`Ledger::verify`].
//!
//! New observations also enter the ingest log (`ingest_log`: an entry
//! per append naming them), evaluated behind it from a cursor that moves with
//! the records; concurrent appends share one transaction (`group_append`,
//! which runs `log_append`'s) and one flush, and a task (an HTTP ingest
//! without `wait`) awaits its group without holding a thread.
//!
//! Records count for objectives, not positions: each SLO's [`Series`] says
//! how, and its buckets follow it (rebuilt when a definition changes).
//!
//! An agent's ledger also keeps a feed of its records in the order they were
//! made, and the cursor of what the stream acknowledged ([`FeedEntry`]), and
//! the SLO set it last synced; central's keeps its agents' heartbeats
//! ([`AgentReport`]).
//!
//! Every record is a link in its SLO's hash chain at its site ([`chain`]):
//! `verify` walks the chains, [`Ledger::export`] writes them (a header per
//! chain, then its links), [`audit`] checks an export offline (docs/ledger-chain.md).
//!
//! Every key is built and parsed in [`keys`], which maps the trees. The
//! database stores its layout's version ([`layout`]): [`Ledger::open`] refuses
//! a ledger of another layout, and only [`migrate`] (`dataslo ledger migrate`)
//! changes it.
//!
//! Depends on [`crate::model`]; budgets, the scheduler and the CLI depend on it.

mod agents;
mod alerts;
mod audit;
#[cfg(test)]
mod audit_tests;
mod buckets;
pub mod chain;
mod chain_draft;
mod chain_index;
#[cfg(test)]
mod chain_index_tests;
mod chain_problems;
mod chain_prune;
#[cfg(test)]
mod chain_tests;
mod chain_verify;
mod codec;
mod error;
mod evaluations;
mod export;
mod feed;
mod group_append;
mod group_commit;
mod health;
mod ingest_log;
pub mod keys;
mod late;
pub mod layout;
mod log_append;
mod migrations;
mod observations;
mod pins;
mod scratch;
mod series;
mod uploads;
mod verification;
mod verify;

pub use agents::AgentReport;
pub use alerts::{AlertPhase, AlertState, LateHeld, OutboxEntry, Transition};
pub use audit::{AuditBreak, AuditReport, audit};
pub use buckets::{Bucket, Level, decompose};
pub use chain::Link;
pub use chain_problems::{ChainProblem, RawPayload, RefusedRecord};
pub use chain_verify::{BreakKind, ChainBreak, ChainHead};
pub use error::LedgerError;
pub use evaluations::{EvalRecord, Events, Outcome, Stored, minute_of};
pub use export::{ChainHeader, ExportError, ExportLine, HeaderLine, PrunedLine};
pub use feed::FeedEntry;
pub use health::StorageHealth;
pub use late::{LateMark, ReadMark};
pub use layout::{CURRENT_LAYOUT, Migration, migrate};
pub use observations::{ObservationReceipt, digest};
pub use pins::PolicyPin;
pub use series::{Counting, Series, SeriesObjective};
pub use uploads::PolicyEntry;
pub use verification::{LedgerVerification, TenantVerification};
pub use verify::{Mismatch, VerifyReport};

use std::path::Path;

/// The tenant every single-machine process (`eval`, `run`, `demo`) uses.
pub const DEFAULT_TENANT: &str = "default";

/// An open ledger, scoped to one tenant.
#[derive(Clone)]
pub struct Ledger {
    db: sled::Db,
    commits: std::sync::Arc<group_commit::GroupCommit>,
    /// Concurrent appends to this tenant's log share transactions: shared by clones.
    appends: std::sync::Arc<group_append::GroupAppend<log_append::Pending>>,
    ingest: sled::Tree,
    feed: sled::Tree,
    /// Whether new records also go to `feed` (agents): shared by clones.
    feeding: std::sync::Arc<std::sync::atomic::AtomicBool>,
    observations: sled::Tree,
    latest: sled::Tree,
    evaluations: sled::Tree,
    buckets: sled::Tree,
    alerts: sled::Tree,
    alert_log: sled::Tree,
    outbox: sled::Tree,
    meta: sled::Tree,
    policies: sled::Tree,
    /// The hash chains' index (see `chain`).
    chains: sled::Tree,
    history_depth: usize,
    /// Observations younger than this (ns, from their dataset's newest) are
    /// kept beyond `history_depth`, for `replay`. Zero: the depth alone.
    observation_retention: i64,
    /// Writers of records hold it shared; a rebuild of buckets after an SLO's
    /// definition changed holds it alone. One for the database.
    series_lock: std::sync::Arc<std::sync::RwLock<()>>,
    /// Retention holds it alone; `export` holds it shared from its headers
    /// to its last link, so a record pruned meanwhile cannot leave a chain's
    /// header and links disagreeing. One for the database.
    prune_lock: std::sync::Arc<std::sync::RwLock<()>>,
    /// Per dataset key: new observations since its history was last trimmed.
    untrimmed: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Vec<u8>, usize>>>,
    /// Per SLO, the minute its alerts were last judged at (see `late`).
    judged: late::JudgedCache,
    tenant: String,
}

impl Ledger {
    /// Opens (or creates) the ledger in `dir`, for `tenant`. `history_depth` is
    /// how many observations per dataset are kept. A ledger of another layout
    /// than [`CURRENT_LAYOUT`] is refused, never migrated.
    pub fn open(dir: &Path, tenant: &str, history_depth: usize) -> Result<Self, LedgerError> {
        room_to_open(dir)?;
        let config = sled::Config::new().path(dir);
        let db = config.open().map_err(|e| open_error(dir, e))?;
        layout::check(&db, dir)?;
        let commits = group_commit::GroupCommit::new(config, dir.display().to_string());
        Self::with_db(
            db,
            std::sync::Arc::new(commits),
            Default::default(),
            tenant,
            history_depth,
        )
    }

    /// The same database, another tenant's trees.
    pub fn for_tenant(&self, tenant: &str) -> Result<Self, LedgerError> {
        let mut other = Self::with_db(
            self.db.clone(),
            self.commits.clone(),
            self.series_lock.clone(),
            tenant,
            self.history_depth,
        )?;
        other.observation_retention = self.observation_retention;
        other.prune_lock = self.prune_lock.clone();
        Ok(other)
    }

    /// This ledger keeping, beyond the history depth, every observation
    /// observed within `keep` of its dataset's newest (`observation_retention`).
    pub fn with_observation_retention(mut self, keep: std::time::Duration) -> Self {
        self.observation_retention = i64::try_from(keep.as_nanos()).unwrap_or(i64::MAX);
        self
    }

    fn with_db(
        db: sled::Db,
        commits: std::sync::Arc<group_commit::GroupCommit>,
        series_lock: std::sync::Arc<std::sync::RwLock<()>>,
        tenant: &str,
        history_depth: usize,
    ) -> Result<Self, LedgerError> {
        let tree = |name: &str| {
            db.open_tree(keys::tenant_tree(tenant, name))
                .map_err(LedgerError::from)
        };
        let meta = tree("meta")?;
        // A ledger an agent ever fed keeps feeding, whoever writes to it
        // (`observe --wait`, `run`): a record without its entry is never published.
        let feeding = meta.get(keys::FEED_NEXT)?.is_some();
        let observations = tree("observations")?;
        let latest = tree("latest")?;
        let ingest = tree("ingest")?;
        let writer = log_append::LogAppender {
            observations: observations.clone(),
            latest: latest.clone(),
            ingest: ingest.clone(),
            meta: meta.clone(),
            db: db.clone(),
            commits: commits.clone(),
        };
        let appends = group_append::GroupAppend::new(
            observations::APPEND_CHUNK,
            Box::new(move |all, flush| writer.commit(all, flush)),
        );
        Ok(Ledger {
            ingest,
            feed: tree("feed")?,
            feeding: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(feeding)),
            observations,
            latest,
            evaluations: tree("evaluations")?,
            buckets: tree("buckets")?,
            alerts: tree("alerts")?,
            alert_log: tree("alert_log")?,
            outbox: tree("outbox")?,
            meta,
            policies: tree("policies")?,
            chains: tree("chains")?,
            db,
            commits,
            appends: std::sync::Arc::new(appends),
            series_lock,
            prune_lock: Default::default(),
            history_depth: history_depth.max(1),
            observation_retention: 0,
            untrimmed: Default::default(),
            judged: Default::default(),
            tenant: tenant.to_string(),
        })
    }

    /// The tenant whose trees these are.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Every tenant with trees in the database, sorted.
    pub fn tenants(&self) -> Vec<String> {
        let names: std::collections::BTreeSet<String> = self
            .db
            .tree_names()
            .iter()
            .filter_map(|n| keys::parse_tenant_tree(n).map(|(t, _)| t.to_string()))
            .collect();
        names.into_iter().collect()
    }

    /// Remembers the SLO files a process ran with, (name, text), so that
    /// `status` can read the same definitions later.
    pub fn save_slo_sources(&self, sources: &[(String, String)]) -> Result<(), LedgerError> {
        self.meta
            .insert(keys::SLO_SOURCES, codec::encode(&sources))?;
        Ok(())
    }

    /// The SLO files saved by [`Ledger::save_slo_sources`].
    pub fn slo_sources(&self) -> Result<Vec<(String, String)>, LedgerError> {
        match self.meta.get(keys::SLO_SOURCES)? {
            Some(bytes) => codec::decode("meta", keys::SLO_SOURCES, &bytes),
            None => Ok(Vec::new()),
        }
    }

    /// Makes everything written so far durable. Group commit: write a batch,
    /// then flush once, then acknowledge the batch. Concurrent callers (of
    /// every tenant) share flushes.
    pub fn flush(&self) -> Result<(), LedgerError> {
        self.commits.flush(&self.db)
    }

    /// Whether the storage still works, known without calling sled: a
    /// process whose writes failed must not read the ledger either.
    pub fn health(&self) -> StorageHealth {
        self.commits.health()
    }
}

/// The sled database in `dir`, created if absent, without any layout check.
fn open_db(dir: &Path) -> Result<sled::Db, LedgerError> {
    room_to_open(dir)?;
    sled::Config::new()
        .path(dir)
        .open()
        .map_err(|e| open_error(dir, e))
}

fn open_error(dir: &Path, e: sled::Error) -> LedgerError {
    match e {
        // sled locks its directory, and says so only in its message.
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            LedgerError::Busy {
                dir: dir.display().to_string(),
            }
        }
        // On a full disk sled cannot finish its recovery and calls the
        // ledger corrupt; say what the operator can fix.
        e if no_space_left(dir) => LedgerError::Open {
            dir: dir.display().to_string(),
            error: format!(
                "{e} (the filesystem holding it has no space left: free some and retry)"
            ),
        },
        e => LedgerError::Open {
            dir: dir.display().to_string(),
            error: e.to_string(),
        },
    }
}

/// Free bytes a ledger needs before sled may open it. sled writes while it
/// opens (recovery, a new segment); cut short by a full disk, that write
/// leaves a log it later reads as corrupt. Measured: an open on a full 8 MiB
/// tmpfs corrupted the ledger; so none is attempted below this.
pub const MIN_FREE_TO_OPEN: u64 = 2 << 20;

/// Refuses to open the ledger in `dir` on a filesystem with less than
/// [`MIN_FREE_TO_OPEN`] free.
fn room_to_open(dir: &Path) -> Result<(), LedgerError> {
    match free_bytes(dir) {
        Some(free) if free < MIN_FREE_TO_OPEN => Err(LedgerError::NoRoomToOpen {
            dir: dir.display().to_string(),
            free,
        }),
        _ => Ok(()),
    }
}

/// Bytes free for us on the filesystem holding `dir` (or its nearest
/// existing ancestor); `None` when that cannot be told.
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let existing = dir.ancestors().find(|p| p.exists())?;
    let path = std::ffi::CString::new(existing.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is
    // NUL-terminated and outlives the call.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(path.as_ptr(), &mut stats) };
    (rc == 0).then(|| stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Whether the filesystem holding `dir` has no room left.
fn no_space_left(dir: &Path) -> bool {
    free_bytes(dir).is_some_and(|free| free < MIN_FREE_TO_OPEN)
}

/// Opens the ledger in `dir` again once sled lets go of it: its own threads
/// may hold a dropped database a moment longer.
#[cfg(test)]
pub(crate) fn reopen(dir: &Path) -> Ledger {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Ledger::open(dir, "default", 10) {
            Err(LedgerError::Busy { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            opened => return opened.unwrap(),
        }
    }
}
