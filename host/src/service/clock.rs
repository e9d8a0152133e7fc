//! The clock pass, written once for `run`, `serve`, `demo` and the tests:
//! tick the scheduled SLOs → move alerts → deliver the outbox → refresh
//! Alertmanagers → apply retention. Each step logs what it did.

use crate::alert::alertmanager::{self, REFRESH_EVERY};
use crate::alert::{Delivery, deliver_outbox_while};
use crate::config::Config;
use crate::jetstream::tick_hold::TickHold;
use crate::ledger::{LedgerError, Transition};
use crate::model::Notifier;
use crate::scheduler::{Pass, Scheduler};
use std::time::Duration;

/// Ticks caught up per SLO after a pause.
pub const MAX_CATCH_UP: usize = 10_000;

/// How often retention runs: it scans every record.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// What the clock pass does, the same for every tenant of a process.
#[derive(Debug, Clone)]
pub struct ClockSettings {
    /// Where transitions are sent.
    pub notifiers: Vec<Notifier>,
    /// Records older than this are pruned; `None` keeps everything.
    pub retention: Option<Duration>,
    /// Ticks caught up per SLO and pass.
    pub catch_up: usize,
    /// Alerts are moved at most this often (zero: every pass).
    pub alerts_every: Duration,
    /// Timeout of one notification.
    pub notify_timeout: Duration,
    /// How far back late records are judged again for alerts.
    pub lateness: Duration,
}

impl ClockSettings {
    /// The settings of `config`.
    pub fn from_config(config: &Config) -> Self {
        ClockSettings {
            notifiers: crate::alert::notifiers(&config.notifiers),
            retention: Some(config.retention),
            catch_up: MAX_CATCH_UP,
            alerts_every: Duration::ZERO,
            notify_timeout: Duration::from_secs(5),
            lateness: config.lateness_horizon,
        }
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone)]
pub struct ClockReport {
    /// The scheduled evaluations.
    pub ticked: Pass,
    /// Alert transitions, pending ones included.
    pub transitions: Vec<Transition>,
    /// The outbox's delivery.
    pub delivery: Delivery,
    /// Alertmanagers that failed their refresh; the next one repairs them.
    pub refresh_errors: Vec<String>,
    /// Records removed by retention.
    pub pruned: usize,
    /// Notifications queued for transitions recorded while another replica
    /// held the tick lease, when this one has just taken it over.
    pub handed_over: usize,
}

/// One tenant's clock: the settings, and its periodic steps.
#[derive(Debug)]
pub struct ClockPass {
    settings: ClockSettings,
    alerts: Every,
    refresh: Every,
    prune: Every,
    // The last pass that moved alerts with notifiers: what it recorded is
    // queued already, never handed over again.
    notified_at: Option<jiff::Timestamp>,
}

/// A step due at the first pass, then once `every` has gone by.
#[derive(Debug)]
struct Every {
    every: jiff::SignedDuration,
    last: Option<jiff::Timestamp>,
}

impl Every {
    fn new(every: Duration) -> Self {
        Every {
            every: jiff::SignedDuration::try_from(every).unwrap_or(jiff::SignedDuration::MAX),
            last: None,
        }
    }

    /// Whether the step is due at `now`; if so, counts it as done.
    fn due(&mut self, now: jiff::Timestamp) -> bool {
        let due = self
            .last
            .is_none_or(|last| now.duration_since(last) >= self.every);
        if due {
            self.last = Some(now);
        }
        due
    }
}

impl ClockPass {
    /// A clock that has not run yet: its first pass does every step.
    pub fn new(settings: ClockSettings) -> Self {
        ClockPass {
            alerts: Every::new(settings.alerts_every),
            refresh: Every::new(REFRESH_EVERY),
            prune: Every::new(PRUNE_EVERY),
            notified_at: None,
            settings,
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &ClockSettings {
        &self.settings
    }

    /// One pass over `scheduler` at `now`, by the only process ticking its
    /// tenant.
    pub fn run_alone(
        &mut self,
        scheduler: &Scheduler,
        now: jiff::Timestamp,
    ) -> Result<ClockReport, LedgerError> {
        self.run(scheduler, now, &TickHold::always())
    }

    /// One pass over `scheduler` at `now`, asking `hold` before each step
    /// that only the holder of the tick lease takes: ticking, moving alerts
    /// with notifiers, each delivery. Without it (a central replica not
    /// holding the lease) it moves its alerts from its ledger, so that every
    /// replica's status agrees, and queues nothing to send; the holder does
    /// that, once. Having just taken the lease over, it first queues what
    /// it recorded after the previous holder's last renewal.
    pub fn run(
        &mut self,
        scheduler: &Scheduler,
        now: jiff::Timestamp,
        hold: &TickHold,
    ) -> Result<ClockReport, LedgerError> {
        let s = &self.settings;
        let ledger = scheduler.ledger();
        // Whatever the log still holds (after a restart, or a consumer that
        // failed) is evaluated before the clock moves on.
        let logged = scheduler.evaluate_log()?;
        if logged.recorded > 0 {
            tracing::info!(
                recorded = logged.recorded,
                errors = logged.errors,
                "logged observations evaluated"
            );
        }
        let mut report = ClockReport {
            ticked: match hold.holds() {
                true => scheduler.tick(now, s.catch_up)?,
                false => Pass::default(),
            },
            ..ClockReport::default()
        };
        if hold.holds()
            && let Some(handover) = hold.handover()
        {
            // Transitions before this replica first saw the previous
            // holder's last renewal were that holder's to send; so were
            // this process's own queued ones.
            let after = self.notified_at.map_or(handover, |n| n.max(handover));
            report.handed_over = ledger.queue_transitions_after(after, &s.notifiers)?;
            ledger.flush()?;
            hold.handed_over(handover);
            if report.handed_over > 0 {
                tracing::info!(
                    notifications = report.handed_over,
                    %after,
                    "queued the transitions recorded while another replica held the tick lease"
                );
            }
        }
        if report.ticked.recorded > 0 {
            tracing::info!(
                recorded = report.ticked.recorded,
                errors = report.ticked.errors,
                "scheduled evaluations"
            );
        }
        if self.alerts.due(now) {
            let notifiers: &[Notifier] = match hold.holds() {
                true => &s.notifiers,
                false => &[],
            };
            if !notifiers.is_empty() {
                self.notified_at = Some(now);
            }
            report.transitions = scheduler.evaluate_alerts(now, notifiers, s.lateness)?;
            for t in &report.transitions {
                tracing::info!(
                    slo = %t.slo, alert = %t.alert, to = %t.to, severity = %t.severity,
                    summary = %t.summary, "alert"
                );
            }
        }
        if hold.holds() {
            // Each notification ends (or times out) before the hold does.
            report.delivery = deliver_outbox_while(ledger, now, s.notify_timeout, || hold.left())?;
        }
        if report.delivery.failed > 0 {
            tracing::warn!(
                delivered = report.delivery.delivered,
                failed = report.delivery.failed,
                "notifications failed; they will be retried"
            );
        }
        if self.refresh.due(now) {
            let notifiers: &[Notifier] = match hold.holds() {
                true => &s.notifiers,
                false => &[],
            };
            let slos = scheduler.slos();
            let slos = slos.iter().map(|a| &a.slo);
            let done = alertmanager::refresh(ledger, slos, notifiers, now, s.notify_timeout)?;
            for error in &done.errors {
                tracing::warn!(%error, "alertmanager refresh failed; the next one repairs it");
            }
            report.refresh_errors = done.errors;
        }
        if let Some(retention) = s.retention
            && self.prune.due(now)
        {
            let keep =
                jiff::SignedDuration::try_from(retention).unwrap_or(jiff::SignedDuration::MAX);
            let cutoff = now.checked_sub(keep).unwrap_or(jiff::Timestamp::MIN);
            report.pruned = ledger.prune(cutoff)?;
            if report.pruned > 0 {
                tracing::info!(removed = report.pruned, %cutoff, "retention");
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_step_is_due_first_then_once_its_interval_has_gone_by() {
        let mut refresh = Every::new(REFRESH_EVERY);
        assert!(refresh.due(ts("2026-11-26T08:00:00Z")));
        assert!(!refresh.due(ts("2026-11-26T08:00:59Z")));
        assert!(refresh.due(ts("2026-11-26T08:01:00Z")));
        assert!(!refresh.due(ts("2026-11-26T08:01:30Z")));
        let mut every_pass = Every::new(Duration::ZERO);
        assert!(every_pass.due(ts("2026-11-26T08:00:00Z")));
        assert!(every_pass.due(ts("2026-11-26T08:00:00Z")));
    }
}
