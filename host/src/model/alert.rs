//! What names an alert and its changes: the alert (`page:1h/5m`, `no-data`,
//! `errors`), its severity and the state a transition leads to. Each is
//! stored and sent as the string its `Display` writes and its `FromStr`
//! reads, so the JSON of transitions stays as it was when these were strings.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use thiserror::Error;

/// A text that is not one of the names it should be.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{text:?} is not {expected}")]
pub struct NameError {
    /// The text read.
    pub text: String,
    /// What it should have been, e.g. `page or ticket`.
    pub expected: &'static str,
}

fn refuse<T>(text: &str, expected: &'static str) -> Result<T, NameError> {
    Err(NameError {
        text: text.to_string(),
        expected,
    })
}

/// How loud an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Wake someone.
    Page,
    /// Look at it in working hours.
    Ticket,
}

impl Severity {
    /// `page` or `ticket`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        match s {
            "page" => Ok(Severity::Page),
            "ticket" => Ok(Severity::Ticket),
            _ => refuse(s, "page or ticket"),
        }
    }
}

/// The state a transition leads to. Going back to inactive from pending is
/// no transition: nothing was announced, so nothing is taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransitionState {
    /// The condition holds, not yet for long enough. Logged, never notified.
    Pending,
    /// The alert fires.
    Firing,
    /// A firing alert stopped.
    Resolved,
}

impl TransitionState {
    /// `pending`, `firing` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionState::Pending => "pending",
            TransitionState::Firing => "firing",
            TransitionState::Resolved => "resolved",
        }
    }

    /// Whether notifiers hear of it: pending is only logged.
    pub fn is_notified(self) -> bool {
        match self {
            TransitionState::Pending => false,
            TransitionState::Firing | TransitionState::Resolved => true,
        }
    }
}

impl fmt::Display for TransitionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for TransitionState {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        match s {
            "pending" => Ok(TransitionState::Pending),
            "firing" => Ok(TransitionState::Firing),
            "resolved" => Ok(TransitionState::Resolved),
            _ => refuse(s, "pending, firing or resolved"),
        }
    }
}

/// A window of whole minutes, written the shortest exact way: `5m`, `1h`, `3d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertWindow {
    minutes: u64,
}

impl AlertWindow {
    /// `d` in whole minutes, at least one.
    pub fn from_duration(d: Duration) -> Self {
        AlertWindow {
            minutes: (d.as_secs() / 60).max(1),
        }
    }

    /// Its length in minutes (at least one).
    pub fn minutes(self) -> u64 {
        self.minutes
    }
}

impl fmt::Display for AlertWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.minutes;
        if m.is_multiple_of(1440) {
            write!(f, "{}d", m / 1440)
        } else if m.is_multiple_of(60) {
            write!(f, "{}h", m / 60)
        } else {
            write!(f, "{m}m")
        }
    }
}

impl FromStr for AlertWindow {
    type Err = NameError;

    /// Only the form `Display` writes: `60m` is refused for `1h`, so a name
    /// read and written again is the same bytes.
    fn from_str(s: &str) -> Result<Self, NameError> {
        let window = [('m', 1), ('h', 60), ('d', 1440)]
            .into_iter()
            .find_map(|(unit, per)| {
                let count: u64 = s.strip_suffix(unit)?.parse().ok()?;
                let minutes = count.checked_mul(per).filter(|m| *m > 0)?;
                Some(AlertWindow { minutes })
            });
        match window {
            Some(w) if w.to_string() == s => Ok(w),
            _ => refuse(s, "a window like 5m, 1h or 3d"),
        }
    }
}

/// Which alert of an SLO: one of its burn-rate rules, or the no-data or
/// error alert every SLO has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum AlertName {
    /// A multi-window burn-rate rule, e.g. `page:1h/5m`.
    BurnRate {
        /// The rule's severity.
        severity: Severity,
        /// Its long window.
        long: AlertWindow,
        /// Its short window.
        short: AlertWindow,
    },
    /// No measured evaluation for too long: `no-data`.
    NoData,
    /// Evaluations fail more than they measure: `errors`.
    Errors,
}

impl AlertName {
    /// How loud it is: a rule's own severity; no data and errors are tickets.
    pub fn severity(self) -> Severity {
        match self {
            AlertName::BurnRate { severity, .. } => severity,
            AlertName::NoData | AlertName::Errors => Severity::Ticket,
        }
    }
}

impl fmt::Display for AlertName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlertName::BurnRate {
                severity,
                long,
                short,
            } => f.pad(&format!("{severity}:{long}/{short}")),
            AlertName::NoData => f.pad("no-data"),
            AlertName::Errors => f.pad("errors"),
        }
    }
}

impl FromStr for AlertName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        const EXPECTED: &str = "an alert name like page:1h/5m, no-data or errors";
        match s {
            "no-data" => return Ok(AlertName::NoData),
            "errors" => return Ok(AlertName::Errors),
            _ => {}
        }
        let rule = s.split_once(':').and_then(|(severity, windows)| {
            let (long, short) = windows.split_once('/')?;
            Some(AlertName::BurnRate {
                severity: severity.parse().ok()?,
                long: long.parse().ok()?,
                short: short.parse().ok()?,
            })
        });
        rule.map_or_else(|| refuse(s, EXPECTED), Ok)
    }
}

impl From<AlertName> for String {
    fn from(name: AlertName) -> String {
        name.to_string()
    }
}

impl TryFrom<String> for AlertName {
    type Error = NameError;

    fn try_from(s: String) -> Result<Self, NameError> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(minutes: u64) -> AlertWindow {
        AlertWindow::from_duration(Duration::from_secs(minutes * 60))
    }

    #[test]
    fn every_alert_name_reads_back_as_the_alert_it_names() {
        let names = [
            "page:1h/5m",
            "page:6h/30m",
            "ticket:1d/2h",
            "ticket:3d/6h",
            "page:1h/15m",
            "ticket:48m/5m",
            "no-data",
            "errors",
        ];
        for text in names {
            let name: AlertName = text.parse().unwrap();
            assert_eq!(name.to_string(), text);
        }
        assert_eq!(
            "page:1h/5m".parse::<AlertName>(),
            Ok(AlertName::BurnRate {
                severity: Severity::Page,
                long: window(60),
                short: window(5),
            })
        );
    }

    #[test]
    fn every_alert_writes_a_name_that_reads_back_as_itself() {
        let minutes = [1, 5, 59, 60, 90, 120, 1439, 1440, 2880, 4320, 43_200];
        for severity in [Severity::Page, Severity::Ticket] {
            for long in minutes {
                for short in minutes {
                    let name = AlertName::BurnRate {
                        severity,
                        long: window(long),
                        short: window(short),
                    };
                    assert_eq!(name.to_string().parse(), Ok(name), "{name}");
                }
            }
        }
        for name in [AlertName::NoData, AlertName::Errors] {
            assert_eq!(name.to_string().parse(), Ok(name));
        }
    }

    #[test]
    fn names_in_another_spelling_are_refused_so_none_is_rewritten() {
        for text in [
            "page:60m/5m",
            "page:24h/1h",
            "page:1h/0m",
            "page:1h/05m",
            "page:+1h/5m",
            "page:1é/5m",
            "page:1h",
            "page:1w/1h",
            "warn:1h/5m",
            "Page:1h/5m",
            "no_data",
            "",
        ] {
            let refused = text.parse::<AlertName>().unwrap_err();
            assert!(refused.to_string().starts_with(&format!("{text:?} is not")));
        }
    }

    #[test]
    fn a_window_is_written_in_its_largest_whole_unit() {
        assert_eq!(window(5).to_string(), "5m");
        assert_eq!(window(90).to_string(), "90m");
        assert_eq!(window(120).to_string(), "2h");
        assert_eq!(window(2880).to_string(), "2d");
        // Under a minute counts as one.
        assert_eq!(AlertWindow::from_duration(Duration::ZERO).to_string(), "1m");
    }

    #[test]
    fn severities_and_states_read_back_as_themselves() {
        for s in [Severity::Page, Severity::Ticket] {
            assert_eq!(s.to_string().parse(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        for t in [
            TransitionState::Pending,
            TransitionState::Firing,
            TransitionState::Resolved,
        ] {
            assert_eq!(t.to_string().parse(), Ok(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
        assert_eq!(
            "warn".parse::<Severity>().unwrap_err().to_string(),
            "\"warn\" is not page or ticket"
        );
        assert!("inactive".parse::<TransitionState>().is_err());
    }

    #[test]
    fn an_alert_name_is_json_as_its_string_and_pads_like_one() {
        let name: AlertName = "ticket:1d/2h".parse().unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"ticket:1d/2h\"");
        assert_eq!(
            serde_json::from_str::<AlertName>("\"ticket:1d/2h\"").unwrap(),
            name
        );
        assert!(serde_json::from_str::<AlertName>("\"ticket:24h/2h\"").is_err());
        assert_eq!(format!("[{:<9}]", AlertName::NoData), "[no-data  ]");
        assert_eq!(format!("[{:<8}]", TransitionState::Firing), "[firing  ]");
    }

    #[test]
    fn no_data_and_errors_are_tickets_and_a_rule_has_its_own_severity() {
        assert_eq!(AlertName::NoData.severity(), Severity::Ticket);
        assert_eq!(AlertName::Errors.severity(), Severity::Ticket);
        let page: AlertName = "page:1h/5m".parse().unwrap();
        assert_eq!(page.severity(), Severity::Page);
    }
}
