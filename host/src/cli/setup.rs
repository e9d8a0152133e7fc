//! What the ledger-backed commands share: the config, the ledger, the SLOs.

use super::Failure;
use crate::config::Config;
use crate::ledger::Ledger;
use crate::runtime::Compiler;
use crate::service::{self, ServiceError};
use crate::slo::Slo;
use std::path::{Path, PathBuf};

/// Options of `run`, `observe`, `status` and `ledger`.
#[derive(Debug, Clone, clap::Args)]
pub struct SetupArgs {
    /// The config file. Default: `dataslo.toml` in the current folder, if any.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The data directory (overrides the config's `data_dir`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl SetupArgs {
    /// The config in force, with the command line's overrides.
    pub fn config(&self, extra_slo_files: &[PathBuf]) -> Result<Config, Failure> {
        let mut config = match &self.config {
            Some(path) => Config::load(path).map_err(|e| Failure::Input(e.to_string()))?,
            None if Path::new("dataslo.toml").is_file() => Config::load(Path::new("dataslo.toml"))
                .map_err(|e| Failure::Input(e.to_string()))?,
            None => Config::default(),
        };
        if let Some(dir) = &self.data_dir {
            config.data_dir = dir.clone();
        }
        // Uploaded and file policies compile in a child, within the
        // `[engine]` compile limits.
        config.engine.compiler = Compiler::this_program();
        config.slo_files.extend(extra_slo_files.iter().cloned());
        Ok(config)
    }
}

/// Opens the default tenant's ledger.
pub fn ledger(config: &Config) -> Result<Ledger, Failure> {
    Ok(service::open_ledger(config)?)
}

/// Reads the SLO files, or, when none are given, the ones the ledger saw last.
/// Any invalid document stops the command; an empty set too.
pub fn slos(config: &Config, ledger: &Ledger) -> Result<Vec<Slo>, Failure> {
    let slos = service::slo_set::load(config, ledger)?;
    if slos.is_empty() {
        return Err(ServiceError::NoSlos.into());
    }
    Ok(slos)
}
