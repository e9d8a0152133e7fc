//! `dataslo run`: the scheduler and ledger on one machine, until SIGINT/SIGTERM.

use super::Failure;
use super::setup::{SetupArgs, scheduler};
use crate::alert::alertmanager::{self, RefreshClock};
use crate::model::Notifier;
use crate::scheduler::{Scheduler, take_spool};
use std::path::Path;

/// Ticks caught up per SLO after a pause.
const MAX_CATCH_UP: usize = 10_000;

pub fn run(setup: &SetupArgs, slo_files: &[std::path::PathBuf], once: bool) -> Result<(), Failure> {
    let config = setup.config(slo_files)?;
    let scheduler = scheduler(&config)?;
    let spool = config.spool();
    std::fs::create_dir_all(&spool)
        .map_err(|e| Failure::Input(format!("cannot create {}: {e}", spool.display())))?;
    eprintln!(
        "dataslo run: {} SLO(s), ledger {}, spool {}",
        scheduler.slos().len(),
        config.data_dir.display(),
        spool.display()
    );
    let storage = |e: crate::ledger::LedgerError| Failure::Input(e.to_string());
    let pass = scheduler.evaluate_observations().map_err(storage)?;
    report("pending observations", pass);
    let targets = crate::alert::notifiers(&config.notifiers);
    let mut refresh = RefreshClock::default();
    let retention =
        jiff::SignedDuration::try_from(config.retention).unwrap_or(jiff::SignedDuration::MAX);
    if once {
        return pass_once(&scheduler, &spool, &targets, &mut refresh);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Input(format!("cannot start the scheduler: {e}")))?;
    rt.block_on(async {
        let mut interval = tokio::time::interval(config.poll_interval);
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| Failure::Input(format!("cannot watch SIGTERM: {e}")))?;
        let mut last_prune = jiff::Timestamp::UNIX_EPOCH;
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    pass_once(&scheduler, &spool, &targets, &mut refresh)?;
                    let now = jiff::Timestamp::now();
                    if now.duration_since(last_prune) > jiff::SignedDuration::from_hours(1) {
                        let cutoff = now.checked_sub(retention).unwrap_or(jiff::Timestamp::MIN);
                        let removed = scheduler.ledger().prune(cutoff).map_err(storage)?;
                        if removed > 0 {
                            eprintln!("retention: removed {removed} record(s) older than {cutoff}");
                        }
                        last_prune = now;
                    }
                }
                _ = tokio::signal::ctrl_c() => break,
                _ = terminate.recv() => break,
            }
        }
        // Passes run to completion before the select sees a signal, so only
        // the final flush is left.
        scheduler.ledger().flush().map_err(storage)?;
        eprintln!("dataslo run: stopped cleanly");
        Ok(())
    })
}

fn report(what: &str, pass: crate::scheduler::Pass) {
    if pass.recorded > 0 {
        eprintln!(
            "{what}: {} evaluation(s) recorded, {} error(s)",
            pass.recorded, pass.errors
        );
    }
}

/// One pass: ingest the spool (files are removed only after their
/// observations are flushed), then the clock.
fn pass_once(
    scheduler: &Scheduler,
    spool: &Path,
    targets: &[Notifier],
    refresh: &mut RefreshClock,
) -> Result<(), Failure> {
    let storage = |e: crate::ledger::LedgerError| Failure::Input(e.to_string());
    for (path, parsed) in
        take_spool(spool).map_err(|e| Failure::Input(format!("{}: {e}", spool.display())))?
    {
        match parsed {
            Ok(observations) => {
                let (new, pass) = scheduler.ingest(&observations).map_err(storage)?;
                std::fs::remove_file(&path)
                    .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
                eprintln!(
                    "{}: {} observation(s), {new} new",
                    path.display(),
                    observations.len()
                );
                report("observations", pass);
            }
            Err(error) => {
                let rejected = spool.join("rejected");
                let _ = std::fs::create_dir_all(&rejected);
                let name = path.file_name().unwrap_or_default();
                let _ = std::fs::rename(&path, rejected.join(name));
                eprintln!("rejected {error}");
            }
        }
    }
    let now = jiff::Timestamp::now();
    let pass = scheduler.tick(now, MAX_CATCH_UP).map_err(storage)?;
    report("schedule", pass);
    for t in scheduler.evaluate_alerts(now, targets).map_err(storage)? {
        eprintln!(
            "alert {} {} {} ({}): {}",
            t.to, t.slo, t.alert, t.severity, t.summary
        );
    }
    let delivery =
        crate::alert::deliver_outbox(scheduler.ledger(), now, std::time::Duration::from_secs(5))
            .map_err(storage)?;
    if delivery.failed > 0 {
        eprintln!(
            "notifiers: {} delivered, {} failed (will retry)",
            delivery.delivered, delivery.failed
        );
    }
    if refresh.due(now) {
        let slos = scheduler.slos();
        let timeout = std::time::Duration::from_secs(5);
        let done = alertmanager::refresh(
            scheduler.ledger(),
            slos.iter().map(|a| &a.slo),
            targets,
            now,
            timeout,
        )
        .map_err(storage)?;
        for error in done.errors {
            eprintln!("alertmanager refresh failed (next one repairs it): {error}");
        }
    }
    Ok(())
}
