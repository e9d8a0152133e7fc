//! A dataslo SLO, validated: everything the scheduler and budget need, typed.

use super::catalog::DocumentRef;
use super::duration::{Shorthand, Unit};
use super::openslo::{DatasloSource, ObjectiveDoc, SliDoc, SloDoc, TriggerDoc};
use crate::model::{DatasetRef, Op, PolicyRef, Severity};
use std::time::Duration;

/// One evaluable SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// `metadata.name`.
    pub name: String,
    /// Where it was defined.
    pub source: DocumentRef,
    /// The dataset it watches.
    pub dataset: DatasetRef,
    /// The policy that measures it.
    pub policy: PinnedPolicy,
    /// The policy's config, as JSON text.
    pub config: String,
    /// The SLI (measurement name) it reads.
    pub sli: String,
    /// What makes one event.
    pub trigger: Trigger,
    /// How an evaluation becomes good/total events.
    pub indicator: Indicator,
    /// How the budget is counted.
    pub budgeting: Budgeting,
    /// Over which window.
    pub window: TimeWindow,
    /// One or more objectives.
    pub objectives: Vec<Objective>,
    /// Alert rules and low-volume settings, scaled to the window.
    pub alerting: Alerting,
    /// The agents' sites a scheduled SLO ticks at; empty: central.
    pub sites: Vec<String>,
}

/// A multi-window burn-rate rule: fires when both windows burn at least `factor`.
#[derive(Debug, Clone, PartialEq)]
pub struct BurnRule {
    /// Page or ticket.
    pub severity: Severity,
    /// The long window.
    pub long: Duration,
    /// The short window.
    pub short: Duration,
    /// The burn rate both windows must reach.
    pub factor: f64,
}

/// An SLO's alerting.
#[derive(Debug, Clone, PartialEq)]
pub struct Alerting {
    /// Burn-rate rules, windows already scaled and widened.
    pub rules: Vec<BurnRule>,
    /// A window with fewer events than this is "no data", not "fine".
    pub min_events: u64,
    /// No evaluation for this long fires the no-data alert.
    pub no_data_after: Duration,
}

/// The SRE workbook's multi-window rules for a 30-day window, as the README
/// lists them: (severity, long, short, factor).
pub const DEFAULT_RULES: [(Severity, u64, u64, f64); 4] = [
    (Severity::Page, 3600, 300, 14.4),
    (Severity::Page, 6 * 3600, 1800, 6.0),
    (Severity::Ticket, 86_400, 2 * 3600, 3.0),
    (Severity::Ticket, 3 * 86_400, 6 * 3600, 1.0),
];

/// The nominal length of a window (a month is 30 days), for scaling rules.
pub fn nominal_length(window: &TimeWindow) -> Duration {
    match window {
        TimeWindow::Rolling(d) => *d,
        TimeWindow::Calendar { length, .. } => {
            let days = match length.unit {
                Unit::Year => 365,
                Unit::Quarter => 90,
                Unit::Month => 30,
                Unit::Week => 7,
                _ => 1,
            };
            Duration::from_secs(days * 86_400 * u64::from(length.count))
        }
    }
}

/// Rounds to whole minutes, at least one, and at least `floor`.
fn widen(d: Duration, floor: Duration) -> Duration {
    let minutes = d
        .as_secs()
        .div_ceil(60)
        .max(1)
        .max(floor.as_secs().div_ceil(60));
    Duration::from_secs(minutes * 60)
}

fn alerting(
    doc: Option<&super::openslo::AlertingDoc>,
    window: &TimeWindow,
    trigger: Trigger,
    slice: Option<Duration>,
    spec_field: &str,
) -> Result<Alerting, FieldError> {
    let interval = match trigger {
        Trigger::Schedule(every) => every,
        Trigger::Observation => Duration::from_secs(60),
    };
    // Windows shorter than one trigger interval (or one slice) hold no event.
    let floor = interval.max(slice.unwrap_or_default());
    let field = format!("{spec_field}.alerting");
    let rules = match doc.and_then(|d| d.rules.as_ref()) {
        Some(rules) => rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let at = format!("{field}.rules[{i}]");
                let severity: Severity = match r.severity.parse() {
                    Ok(severity) => severity,
                    Err(e) => return err(format!("{at}.severity"), e.to_string()),
                };
                let parse = |text: &str, name: &str| {
                    Shorthand::parse(text)
                        .ok()
                        .and_then(|s| s.fixed())
                        .ok_or_else(|| {
                            (
                                format!("{at}.{name}"),
                                format!("{text:?} is not a window like 5m or 1h"),
                            )
                        })
                };
                let (long, short) = (parse(&r.long, "long")?, parse(&r.short, "short")?);
                if short > long || r.burn.is_nan() || r.burn <= 0.0 {
                    return err(at, "needs short <= long and burn > 0");
                }
                Ok(BurnRule {
                    severity,
                    long: widen(long, floor),
                    short: widen(short, floor),
                    factor: r.burn,
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => {
            let scale = nominal_length(window).as_secs_f64() / (30.0 * 86_400.0);
            DEFAULT_RULES
                .iter()
                .map(|&(severity, long, short, factor)| BurnRule {
                    severity,
                    long: widen(Duration::from_secs_f64(long as f64 * scale), floor),
                    short: widen(Duration::from_secs_f64(short as f64 * scale), floor),
                    factor,
                })
                .collect()
        }
    };
    let no_data_after = match doc.and_then(|d| d.no_data_after.as_deref()) {
        Some(text) => Shorthand::parse(text)
            .ok()
            .and_then(|s| s.fixed())
            .ok_or_else(|| {
                (
                    format!("{field}.no_data_after"),
                    format!("{text:?} is not a duration like 1h"),
                )
            })?,
        None => match trigger {
            Trigger::Schedule(every) => every * 3,
            Trigger::Observation => Duration::from_secs(86_400),
        },
    };
    Ok(Alerting {
        rules,
        min_events: doc.and_then(|d| d.min_events).unwrap_or(3),
        no_data_after,
    })
}

/// `policy` plus its optional `sha256` pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedPolicy {
    /// `builtin:NAME`, `uploaded:NAME` or a path.
    pub spec: PolicyRef,
    /// The expected sha256 of the component, hex.
    pub sha256: Option<String>,
}

/// What makes one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Once per new observation.
    Observation,
    /// On the clock, against the latest observation.
    Schedule(Duration),
}

/// How measurements become events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indicator {
    /// Each evaluation is one event, good when `value` meets the objective's op/value.
    Threshold,
    /// The measurement's good/total are the events.
    Ratio,
}

/// How the error budget is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budgeting {
    /// Budget = (1 − target) × events.
    Occurrences,
    /// Good slices over slices with data.
    Timeslices,
}

/// The SLO window.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeWindow {
    /// The last `length`, always.
    Rolling(Duration),
    /// Calendar periods of `length`, from `start` in its time zone.
    Calendar {
        /// e.g. `1M`.
        length: Shorthand,
        /// The first period's start, with its time zone.
        start: jiff::ZonedDateTime,
    },
}

/// One objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// Its display name, or `objective N`.
    pub name: String,
    /// The target fraction, in (0, 1).
    pub target: f64,
    /// For threshold indicators: the comparison and threshold.
    pub threshold: Option<(Op, f64)>,
    /// For Timeslices: the slice length and the fraction a slice needs to be good.
    pub slice: Option<(Duration, f64)>,
}

/// An error at `field` of the document.
pub type FieldError = (String, String);

fn err<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T, FieldError> {
    Err((field.into(), message.into()))
}

/// The objective's target as a fraction; both OpenSLO spellings accepted.
pub fn target_of(o: &ObjectiveDoc, field: &str) -> Result<f64, FieldError> {
    let target = match (o.target, o.target_percent) {
        (Some(t), None) => t,
        (None, Some(p)) => p / 100.0,
        (Some(_), Some(_)) => return err(field, "give target or targetPercent, not both"),
        (None, None) => return err(field, "needs target (0 to 1) or targetPercent (0 to 100)"),
    };
    if !(target > 0.0 && target < 1.0) {
        return err(
            field,
            format!("target must be between 0 and 1 exclusive, got {target}"),
        );
    }
    Ok(target)
}

/// The `dataslo` source of an indicator, if it has one: `Ok(None)` means the
/// indicator reads another metric source (its type is returned as the reason).
pub fn dataslo_source(
    sli: &SliDoc,
) -> Result<Result<(Indicator, serde_json::Value), String>, FieldError> {
    let field = "spec.indicator.spec";
    let (indicator, source) = match (&sli.spec.threshold_metric, &sli.spec.ratio_metric) {
        (Some(t), None) => (Indicator::Threshold, &t.metric_source),
        (None, Some(r)) => match (&r.total, &r.good, &r.bad) {
            (Some(total), Some(_), _) | (Some(total), _, Some(_)) => {
                (Indicator::Ratio, &total.metric_source)
            }
            // A dataslo policy counts good and total itself: `good` adds
            // nothing, so it may be left out.
            (Some(total), None, None) if total.metric_source.source_type == "dataslo" => {
                (Indicator::Ratio, &total.metric_source)
            }
            _ => {
                return err(
                    format!("{field}.ratioMetric"),
                    "needs total and one of good or bad (with a dataslo total, good may be left out)",
                );
            }
        },
        (Some(_), Some(_)) => return err(field, "give thresholdMetric or ratioMetric, not both"),
        (None, None) => return err(field, "needs thresholdMetric or ratioMetric"),
    };
    if source.source_type != "dataslo" {
        return Ok(Err(format!(
            "its metric source is of type `{}`, not `dataslo`",
            source.source_type
        )));
    }
    Ok(Ok((
        indicator,
        source.spec.clone().unwrap_or(serde_json::Value::Null),
    )))
}

/// Builds an evaluable SLO from a parsed document whose indicator is `dataslo`.
pub fn build(
    doc: &SloDoc,
    source: DocumentRef,
    indicator: Indicator,
    spec: serde_json::Value,
) -> Result<Slo, FieldError> {
    let spec_field = "spec.indicator.spec.<metric>.metricSource.spec";
    let ds: DatasloSource = serde_path_to_error::deserialize(spec)
        .map_err(|e| (format!("{spec_field}.{}", e.path()), e.inner().to_string()))?;
    if ds.dataset.name.is_empty() {
        return err(format!("{spec_field}.dataset.name"), "must not be empty");
    }
    if let Some(sha) = &ds.sha256
        && (sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return err(format!("{spec_field}.sha256"), "must be 64 hex digits");
    }
    let trigger = match &ds.trigger {
        TriggerDoc::Observation => Trigger::Observation,
        TriggerDoc::Schedule(text) => {
            let every = Shorthand::parse(text)
                .ok()
                .and_then(|s| s.fixed())
                .ok_or_else(|| {
                    (
                        format!("{spec_field}.trigger.schedule"),
                        format!("{text:?} is not an interval like 5m or 1h"),
                    )
                })?;
            Trigger::Schedule(every)
        }
    };
    let budgeting = match doc.spec.budgeting_method.as_str() {
        "Occurrences" => Budgeting::Occurrences,
        "Timeslices" => Budgeting::Timeslices,
        other => {
            return err(
                "spec.budgetingMethod",
                format!("{other} is not supported by dataslo; use Occurrences or Timeslices"),
            );
        }
    };
    let window = window(&doc.spec.time_window)?;
    let mut objectives = Vec::new();
    for (i, o) in doc.spec.objectives.iter().enumerate() {
        let field = format!("spec.objectives[{i}]");
        let target = target_of(o, &field)?;
        let threshold = match (indicator, &o.op, o.value) {
            (Indicator::Threshold, Some(op), Some(v)) => {
                Some((Op::parse(op).map_err(|m| (format!("{field}.op"), m))?, v))
            }
            (Indicator::Threshold, _, _) => {
                return err(field, "a thresholdMetric objective needs op and value");
            }
            (Indicator::Ratio, _, _) => None,
        };
        let slice = match budgeting {
            Budgeting::Occurrences => None,
            Budgeting::Timeslices => {
                let (Some(w), Some(t)) = (&o.time_slice_window, o.time_slice_target) else {
                    return err(
                        field,
                        "Timeslices needs timeSliceWindow and timeSliceTarget",
                    );
                };
                let length = Shorthand::parse(w)
                    .ok()
                    .and_then(|s| s.fixed())
                    .ok_or_else(|| {
                        (
                            format!("{field}.timeSliceWindow"),
                            format!("{w:?} is not a slice like 1m or 1h"),
                        )
                    })?;
                if length.as_secs() % 60 != 0 {
                    return err(
                        format!("{field}.timeSliceWindow"),
                        format!("{w:?}: slices are whole minutes"),
                    );
                }
                if !(t > 0.0 && t <= 1.0) {
                    return err(
                        format!("{field}.timeSliceTarget"),
                        format!("must be in (0, 1], got {t}"),
                    );
                }
                Some((length, t))
            }
        };
        let name = o
            .display_name
            .clone()
            .unwrap_or_else(|| format!("objective {}", i + 1));
        objectives.push(Objective {
            name,
            target,
            threshold,
            slice,
        });
    }
    if objectives.is_empty() {
        return err("spec.objectives", "needs at least one objective");
    }
    super::identity::check_distinct(&objectives)?;
    let slice = objectives
        .iter()
        .filter_map(|o| o.slice.map(|(l, _)| l))
        .max();
    let alerting = alerting(ds.alerting.as_ref(), &window, trigger, slice, spec_field)?;
    let sites = super::sites::checked(ds.sites, trigger, spec_field)?;
    Ok(Slo {
        name: doc.metadata.name.clone(),
        source,
        dataset: ds.dataset,
        policy: PinnedPolicy {
            spec: ds.policy,
            sha256: ds.sha256,
        },
        config: ds
            .config
            .unwrap_or_else(|| serde_json::json!({}))
            .to_string(),
        sli: ds.sli,
        trigger,
        indicator,
        budgeting,
        window,
        objectives,
        alerting,
        sites,
    })
}

fn window(windows: &[super::openslo::TimeWindowDoc]) -> Result<TimeWindow, FieldError> {
    let [w] = windows else {
        return err(
            "spec.timeWindow",
            format!("needs exactly one window, found {}", windows.len()),
        );
    };
    let field = "spec.timeWindow[0]";
    let length = Shorthand::parse(&w.duration).map_err(|m| (format!("{field}.duration"), m))?;
    match (w.is_rolling.unwrap_or(false), &w.calendar) {
        (true, None) => match length.fixed() {
            Some(d) => Ok(TimeWindow::Rolling(d)),
            None => err(
                format!("{field}.duration"),
                "a rolling window needs fixed units (m, h, d, w), not M, Q or Y",
            ),
        },
        (true, Some(_)) => err(field, "a rolling window has no calendar"),
        (false, None) => err(
            format!("{field}.calendar"),
            "a calendar window needs calendar.startTime and calendar.timeZone",
        ),
        (false, Some(cal)) => {
            if matches!(length.unit, Unit::Second | Unit::Minute | Unit::Hour) {
                return err(
                    format!("{field}.duration"),
                    format!(
                        "{length} is too short for a calendar window; use d, w, M, Q or Y (M is month, m is minute)"
                    ),
                );
            }
            let tz = jiff::tz::TimeZone::get(&cal.time_zone)
                .map_err(|e| (format!("{field}.calendar.timeZone"), e.to_string()))?;
            let civil: jiff::civil::DateTime = cal
                .start_time
                .replacen(' ', "T", 1)
                .parse()
                .map_err(|e: jiff::Error| {
                    (
                        format!("{field}.calendar.startTime"),
                        format!("{:?}: {e}", cal.start_time),
                    )
                })?;
            let start = civil
                .to_zoned_datetime(tz)
                .map_err(|e| (format!("{field}.calendar.startTime"), e.to_string()))?;
            Ok(TimeWindow::Calendar { length, start })
        }
    }
}
