//! What a replay shows: the same figures for the SLO as recorded (old) and
//! as the other policy or config gives them (new), over the same span.

use crate::budget::{MinuteRange, tally, window_at};
use crate::ledger::{Ledger, LedgerError, Transition, minute_of};
use crate::model::DatasetRef;
use crate::slo::Slo;
use serde::Serialize;

/// Old against new, for one SLO over one span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The SLO.
    pub slo: String,
    /// Its dataset.
    pub dataset: DatasetRef,
    /// `observation`, or `schedule <every>`.
    pub trigger: String,
    /// The first evaluation time replayed.
    pub from: jiff::Timestamp,
    /// The last.
    pub to: jiff::Timestamp,
    /// Evaluations made again (ticks, or observations).
    pub evaluations: usize,
    /// Observations read (those before `from` too, as history).
    pub observations: usize,
    /// As recorded in the ledger.
    pub old: Side,
    /// As the replay computed.
    pub new: Side,
    /// Why the new figures may not differ though the config did, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where `--apply` wrote the new evaluations; absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<Applied>,
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// The policy, as referenced.
    pub policy: String,
    /// The component's sha256 (old: as the newest record in the span names it).
    pub policy_sha256: String,
    /// The policy's config.
    pub config: serde_json::Value,
    /// Per objective, in the SLO's order.
    pub objectives: Vec<Figures>,
    /// Alerts that fired or resolved in the span, oldest first.
    pub alerts: Vec<AlertChange>,
}

/// One objective's figures over the span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// The objective's display name.
    pub objective: String,
    /// Its target.
    pub target: f64,
    /// Good events (good slices, for Timeslices) in the span.
    pub good: u64,
    /// Bad events (slices) in the span.
    pub bad: u64,
    /// Failed evaluations in the span: neither good nor bad.
    pub errors: u64,
    /// good / (good + bad); `null` without events.
    pub sli: Option<f64>,
    /// The error budget left at `to`, over the SLO's window from `from` on;
    /// `null` without events.
    pub budget_remaining: Option<f64>,
}

/// An alert's move to firing or resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertChange {
    /// When.
    pub at: jiff::Timestamp,
    /// The alert, e.g. `page:1h/5m`, `no-data`.
    pub alert: String,
    /// `firing` or `resolved`.
    pub to: String,
    /// The figures that moved it.
    pub summary: String,
}

/// What `--apply` wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    /// The new series' name: `SLO@REV`.
    pub series: String,
    /// Evaluation records written.
    pub records: usize,
}

impl AlertChange {
    /// The firing and resolved transitions of `slo` in `from..=to`.
    pub(super) fn of(
        transitions: &[Transition],
        slo: &str,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Vec<AlertChange> {
        transitions
            .iter()
            .filter(|t| t.slo == slo && t.to.is_notified() && from <= t.at && t.at <= to)
            .map(|t| AlertChange {
                at: t.at,
                alert: t.alert.to_string(),
                to: t.to.to_string(),
                summary: t.summary.clone(),
            })
            .collect()
    }
}

/// Every objective's figures of `slo` in `ledger` over `from..=to`, from
/// its buckets, as `status` counts them.
pub(super) fn figures(
    ledger: &Ledger,
    slo: &Slo,
    from: jiff::Timestamp,
    to: jiff::Timestamp,
) -> Result<Vec<Figures>, LedgerError> {
    let span = MinuteRange {
        from: minute_of(from),
        to: minute_of(to),
    };
    let window = window_at(&slo.window, to);
    // Records before the span are not replayed: the old side leaves them out too.
    let budgeted = MinuteRange {
        from: window.from.max(span.from),
        to: window.to,
    };
    let mut out = Vec::new();
    for (i, objective) in slo.objectives.iter().enumerate() {
        let spanned = tally(ledger, slo, i, span)?;
        let windowed = tally(ledger, slo, i, budgeted)?;
        let allowed = (1.0 - objective.target) * windowed.total as f64;
        out.push(Figures {
            objective: objective.name.clone(),
            target: objective.target,
            good: spanned.good.min(spanned.total),
            bad: spanned.bad(),
            errors: spanned.errors,
            sli: (spanned.total > 0)
                .then(|| spanned.good.min(spanned.total) as f64 / spanned.total as f64),
            // As `status`: 1 − spent / allowed.
            budget_remaining: (windowed.total > 0).then(|| 1.0 - windowed.bad() as f64 / allowed),
        });
    }
    Ok(out)
}
