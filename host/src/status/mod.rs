//! The status of SLOs at a time: what `dataslo status` prints and the API's
//! `/v1/slos` answers. Documented in docs/status-json.md; fields are only added.
//!
//! Depends on budget, alert, ledger, slo and model.

use crate::budget::{ObjectiveFigures, objective_figures};
use crate::ledger::{Ledger, LedgerError, PolicyPin};
use crate::model::DatasetRef;
use crate::slo::{Slo, TimeWindow};
use serde::{Deserialize, Serialize};

/// `status --format json`: documented in docs/status-json.md.
#[derive(Debug, Serialize, Deserialize)]
pub struct StatusReport {
    /// The time the figures are for.
    pub at: jiff::Timestamp,
    /// One entry per SLO, in file order.
    pub slos: Vec<SloStatus>,
}

/// One SLO's status.
#[derive(Debug, Serialize, Deserialize)]
pub struct SloStatus {
    /// The SLO's name.
    pub slo: String,
    /// Its dataset.
    pub dataset: DatasetRef,
    /// Its window, e.g. `28d` or `1M calendar`.
    pub window: String,
    /// Figures per objective.
    pub objectives: Vec<ObjectiveFigures>,
    /// Alerts firing at `at`, from the stored transitions.
    pub firing: Vec<String>,
    /// For an `oci://` policy: the manifest digest and component sha256 it
    /// was last armed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_pin: Option<PolicyPin>,
}

/// The status of `slos` at `at`, from the ledger's buckets and alert states.
pub fn status_report(
    ledger: &Ledger,
    slos: Vec<Slo>,
    at: jiff::Timestamp,
) -> Result<StatusReport, LedgerError> {
    let mut report = StatusReport {
        at,
        slos: Vec::new(),
    };
    for slo in slos {
        let objectives = (0..slo.objectives.len())
            .map(|i| objective_figures(ledger, &slo, i, at))
            .collect::<Result<Vec<_>, _>>()?;
        let window = match &slo.window {
            TimeWindow::Rolling(d) => compact(*d),
            TimeWindow::Calendar { length, .. } => format!("{length} cal"),
        };
        let firing = crate::alert::firing_at(ledger, &slo, at)?;
        let firing = firing.iter().map(ToString::to_string).collect();
        let policy_pin = ledger.policy_pins(&slo.name)?.pop();
        report.slos.push(SloStatus {
            policy_pin,
            slo: slo.name,
            dataset: slo.dataset,
            window,
            objectives,
            firing,
        });
    }
    Ok(report)
}

/// The time a status query asks about, `?at=` in the API and the dashboard:
/// RFC 3339, between 1970 and 2100, so that no query walks calendar periods
/// for centuries.
pub fn parse_at(text: &str) -> Result<jiff::Timestamp, String> {
    let t: jiff::Timestamp = text.parse().map_err(|e| format!("at={text:?}: {e}"))?;
    // 1970-01-01 to 2100-01-01.
    if (0..4_102_444_800).contains(&t.as_second()) {
        Ok(t)
    } else {
        Err(format!("at={text:?}: pick a time between 1970 and 2100"))
    }
}

/// `30d`, `12h` or `90m`.
pub fn compact(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{}m", s / 60),
    }
}
