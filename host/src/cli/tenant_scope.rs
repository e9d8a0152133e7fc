//! What the read commands (`status`, `ledger verify`, `ledger export`) read:
//! a ledger that must already exist (or, while `run` or `serve` holds it,
//! that process, through its control socket), and the tenants named by
//! `--tenant`, else every tenant of the config (`default` when it has none).

use super::Failure;
use crate::config::Config;
use crate::ledger::{DEFAULT_TENANT, Ledger, LedgerError, VerifyReport};
use crate::service::control;
use std::path::PathBuf;

/// Where the read commands read from.
pub enum Source {
    /// The ledger itself.
    Ledger(Ledger),
    /// The process holding the ledger of this data directory, and its
    /// tenants (asked once).
    Running(PathBuf, Vec<String>),
}

impl Source {
    /// The tenants with data: in the ledger, or in the running process.
    pub fn tenants(&self) -> Result<Vec<String>, Failure> {
        match self {
            Source::Ledger(ledger) => Ok(ledger.tenants()),
            Source::Running(_, tenants) => Ok(tenants.clone()),
        }
    }
}

/// The ledger of `config`, or the process holding it. A read command never
/// creates one: a data directory without a ledger is a wrong `--data-dir`
/// or `data_dir`.
pub fn existing_ledger(config: &Config) -> Result<Source, Failure> {
    let dir = config.data_dir.join("ledger");
    if !dir.join("db").is_file() {
        return Err(Failure::Input(format!(
            "no ledger in {}: check --data-dir, or data_dir in the config",
            dir.display()
        )));
    }
    match Ledger::open(&dir, DEFAULT_TENANT, config.history_depth) {
        Ok(ledger) => Ok(Source::Ledger(ledger)),
        Err(LedgerError::Busy { .. }) => {
            let tenants = control::ask_tenants(&config.data_dir)?;
            Ok(Source::Running(config.data_dir.clone(), tenants))
        }
        Err(e) => Err(Failure::Input(e.to_string())),
    }
}

/// The tenants to read: `requested`, each one the config or the ledger
/// knows; or, when none is, every tenant of the config.
pub fn selected(
    config: &Config,
    source: &Source,
    requested: &[String],
) -> Result<Vec<String>, Failure> {
    let mut known: Vec<String> = config.tenants.iter().map(|t| t.name.clone()).collect();
    if known.is_empty() {
        known.push(DEFAULT_TENANT.into());
    }
    if requested.is_empty() {
        return Ok(known);
    }
    let stored = source.tenants()?;
    for name in requested {
        if !known.contains(name) && !stored.contains(name) {
            known.extend(
                stored
                    .iter()
                    .filter(|s| !known.contains(s))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            return Err(Failure::Input(format!(
                "no tenant {name:?} in the config or the ledger; known: {}",
                known.join(", ")
            )));
        }
    }
    let mut names = requested.to_vec();
    names.dedup();
    Ok(names)
}

impl Source {
    /// `tenant`'s verification, or `None` when it has no data here.
    pub fn verify(&self, tenant: &str) -> Result<Option<VerifyReport>, Failure> {
        match self {
            Source::Ledger(ledger) => match trees(ledger, tenant)? {
                Some(trees) => Ok(Some(
                    trees.verify().map_err(|e| Failure::Input(e.to_string()))?,
                )),
                None => Ok(None),
            },
            Source::Running(dir, tenants) if tenants.iter().any(|t| t == tenant) => {
                Ok(Some(control::ask_verify(dir, tenant)?))
            }
            Source::Running(..) => Ok(None),
        }
    }
}

/// `tenant`'s trees, or `None` when it has never written to this ledger
/// (reading must not create them).
pub fn trees(ledger: &Ledger, tenant: &str) -> Result<Option<Ledger>, Failure> {
    if !ledger.tenants().iter().any(|t| t == tenant) {
        return Ok(None);
    }
    ledger
        .for_tenant(tenant)
        .map(Some)
        .map_err(|e| Failure::Input(format!("tenant {tenant}: {e}")))
}
