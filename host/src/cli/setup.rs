//! What the ledger-backed commands share: the config, the ledger, the SLOs.

use super::Failure;
use crate::config::Config;
use crate::ledger::{DEFAULT_TENANT, Ledger};
use crate::runtime::Runtime;
use crate::scheduler::{Armed, Scheduler};
use crate::slo::{Slo, load_files};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
        config.slo_files.extend(extra_slo_files.iter().cloned());
        Ok(config)
    }
}

/// Opens the default tenant's ledger.
pub fn ledger(config: &Config) -> Result<Ledger, Failure> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| Failure::Input(format!("cannot create {}: {e}", config.data_dir.display())))?;
    Ledger::open(
        &config.data_dir.join("ledger"),
        DEFAULT_TENANT,
        config.history_depth,
    )
    .map_err(|e| Failure::Input(e.to_string()))
}

/// Reads the SLO files, or, when none are given, the ones the ledger saw last.
/// Any invalid document stops the command.
pub fn slos(config: &Config, ledger: &Ledger) -> Result<Vec<Slo>, Failure> {
    let storage = |e: crate::ledger::LedgerError| Failure::Input(e.to_string());
    let catalog = if config.slo_files.is_empty() {
        let mut merged = crate::slo::Catalog::default();
        for (name, text) in ledger.slo_sources().map_err(storage)? {
            let part = crate::slo::parse_text(&text, &name);
            merged.slos.extend(part.slos);
            merged.errors.extend(part.errors);
        }
        merged
    } else {
        let catalog = load_files(&config.slo_files);
        let sources: Vec<(String, String)> = config
            .slo_files
            .iter()
            .filter_map(|f| {
                std::fs::read_to_string(f)
                    .ok()
                    .map(|t| (f.display().to_string(), t))
            })
            .collect();
        ledger.save_slo_sources(&sources).map_err(storage)?;
        catalog
    };
    if let Some(first) = catalog.errors.first() {
        for e in &catalog.errors {
            eprintln!("invalid   {e}");
        }
        return Err(Failure::Input(format!(
            "{} invalid SLO document(s), first: {first}",
            catalog.errors.len()
        )));
    }
    if catalog.slos.is_empty() {
        return Err(Failure::Input(
            "no SLOs: give SLO files, set slo_files in dataslo.toml, or run once with them".into(),
        ));
    }
    Ok(catalog.slos)
}

/// Everything `run` needs: SLOs armed with their policies, over the ledger.
pub fn scheduler(config: &Config) -> Result<Scheduler, Failure> {
    let ledger = ledger(config)?;
    let slos = slos(config, &ledger)?;
    let runtime = Runtime::with_engine(config.runtime_limits(), config.engine_options())
        .map_err(|e| Failure::Input(e.to_string()))?;
    let runtime = Arc::new(runtime);
    let (armed, errors) = Armed::all(&runtime, slos, Path::new("."));
    if let Some(first) = errors.first() {
        for e in &errors {
            eprintln!("error     {e}");
        }
        return Err(Failure::Input(format!(
            "{} SLO(s) cannot be armed, first: {first}",
            errors.len()
        )));
    }
    let mut scheduler = Scheduler::new(runtime, ledger, armed, config.history_depth);
    scheduler.set_executor(
        crate::executor::Executor::with_workers(config.workers)
            .map(Arc::new)
            .map_err(|e| Failure::Input(format!("cannot start the evaluation threads: {e}")))?,
    );
    Ok(scheduler)
}
