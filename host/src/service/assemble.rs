//! The one place a runtime, a set of SLOs and a ledger become a scheduler:
//! every SLO's policy judged (its pin and, under `trusted_keys`, its
//! signatures) before it is loaded, its config validated,
//! its objectives recorded as the ledger's series of it, the tenant's limits
//! and the shared executor set.

use crate::executor::Executor;
use crate::ledger::Ledger;
use crate::oci::Oci;
use crate::runtime::{Known, Limits, Runtime};
use crate::scheduler::{ArmError, Armed, Gate, Scheduler, TrustCheck};
use crate::slo::Slo;
use std::path::Path;
use std::sync::Arc;

/// How a scheduler runs its evaluations. The default is a durable scheduler
/// on the caller's thread with the runtime's limits and a history of 100.
#[derive(Clone)]
pub struct SchedulerSettings {
    /// Observations kept per dataset, and the history a policy may read.
    pub history_depth: usize,
    /// The tenant's limits for each policy call; `None` keeps the runtime's.
    pub limits: Option<Limits>,
    /// Workers shared fairly by the tenants; `None` runs on the caller's thread.
    pub executor: Option<Arc<Executor>>,
    /// Whether each call flushes before returning (a simulation flushes itself).
    pub durable: bool,
    /// The agent's site whose scheduled SLOs it ticks; `None`: central's.
    pub site: Option<String>,
    /// Where `oci://` policies are resolved; `None` refuses them.
    pub oci: Option<Oci>,
    /// The keys a policy must be signed by; `None` loads any.
    pub trust: Option<TrustCheck>,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            history_depth: crate::runtime::Limits::default().history_depth as usize,
            limits: None,
            executor: None,
            durable: true,
            site: None,
            oci: None,
            trust: None,
        }
    }
}

/// Arms `slos` (policies in `known` first; files read from `files`, refused
/// when `None`) and builds their scheduler over `ledger`. All or nothing:
/// any SLO that cannot be armed is an error, every one listed.
pub fn assemble(
    runtime: &Arc<Runtime>,
    ledger: Ledger,
    slos: Vec<Slo>,
    known: Known,
    files: Option<&Path>,
    settings: SchedulerSettings,
) -> Result<Scheduler, Vec<ArmError>> {
    // Under `trusted_keys`, every policy is judged before anything of it runs.
    let gate = settings
        .trust
        .as_ref()
        .map(|check| Gate::new(check, files, settings.oci.as_ref()));
    let (armed, errors) = match &settings.oci {
        Some(oci) => Armed::with_oci(runtime, slos, files, known, oci, gate.as_ref()),
        None => Armed::with_known(runtime, slos, files, known, gate.as_ref()),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    // The ledger counts records for the objectives as now defined.
    let now = jiff::Timestamp::now();
    for a in &armed {
        crate::budget::sync_series(&ledger, &a.slo, now).map_err(|e| {
            vec![ArmError {
                slo: a.slo.name.clone(),
                source_file: a.slo.source.file.clone(),
                message: format!("cannot record its objectives in the ledger: {e}"),
            }]
        })?;
    }
    Armed::record_pins(&ledger, &armed, now).map_err(|e| {
        vec![ArmError {
            slo: String::new(),
            source_file: String::new(),
            message: format!("cannot record the OCI policies' digests in the ledger: {e}"),
        }]
    })?;
    let mut scheduler = Scheduler::new(runtime.clone(), ledger, armed, settings.history_depth);
    if let Some(limits) = settings.limits {
        scheduler.set_limits(limits);
    }
    if let Some(executor) = settings.executor {
        scheduler.set_executor(executor);
    }
    scheduler.set_durable(settings.durable);
    scheduler.set_site(settings.site);
    Ok(scheduler)
}
