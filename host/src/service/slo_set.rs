//! The SLOs a single-machine process (`run`, `status`) works with: the
//! config's files, saved in the ledger so that a later `status` reads the
//! same definitions; or, when no file is given, the ones saved last; and
//! those `serve` runs for one of its tenants ([`of_tenant`]). Their
//! objectives become the ledger's series of them (see `budget::sync_series`).

use super::error::ServiceError;
use super::tenant::UPLOADED_SLOS_FILE;
use crate::config::{Config, TenantConfig};
use crate::ledger::Ledger;
use crate::slo::{Slo, load_files, parse_text, parse_texts};

/// Reads the SLO files (and saves their text in `ledger`), or the saved ones.
/// Any invalid document is an error, every one listed.
pub fn load(config: &Config, ledger: &Ledger) -> Result<Vec<Slo>, ServiceError> {
    let catalog = if config.slo_files.is_empty() {
        parse_texts(&ledger.slo_sources()?)
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
        ledger.save_slo_sources(&sources)?;
        catalog
    };
    if !catalog.errors.is_empty() {
        return Err(ServiceError::InvalidSlos {
            errors: catalog.errors.iter().map(ToString::to_string).collect(),
        });
    }
    // `status` reads the buckets as these definitions count them.
    let now = jiff::Timestamp::now();
    for slo in &catalog.slos {
        crate::budget::sync_series(ledger, slo, now)?;
    }
    Ok(catalog.slos)
}

/// The SLOs `serve` runs for `tenant`: those of its files, then those sent
/// to `PUT /v1/slos` (kept in `ledger`, the tenant's trees). Reads only.
pub fn of_tenant(tenant: &TenantConfig, ledger: &Ledger) -> Result<Vec<Slo>, ServiceError> {
    let mut catalog = load_files(&tenant.slo_files);
    if let Some(text) = ledger.uploaded_slos()? {
        let sent = parse_text(&text, UPLOADED_SLOS_FILE);
        catalog.slos.extend(sent.slos);
        catalog.errors.extend(sent.errors);
    }
    if !catalog.errors.is_empty() {
        return Err(ServiceError::InvalidSlos {
            errors: catalog.errors.iter().map(ToString::to_string).collect(),
        });
    }
    Ok(catalog.slos)
}
