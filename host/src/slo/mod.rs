//! SLO definitions: OpenSLO v1 YAML files in, validated dataslo SLOs out.
//!
//! Every OpenSLO document parses; those whose indicator reads a `dataslo` metric
//! source become [`Slo`]s, the rest are listed as not evaluable with the reason.
//! Depends on [`crate::model`] only; budgets, alerts and the scheduler depend on it.

mod catalog;
mod definition;
mod duration;
mod identity;
mod names;
mod openslo;

/// Alert severities and threshold comparisons are the ledger's too, so they
/// live in the model.
pub use crate::model::{Op, Severity};
pub use catalog::{Catalog, DocumentRef, NotEvaluable, SloError, load_files, parse_text};
pub use definition::{
    Alerting, Budgeting, BurnRule, DEFAULT_RULES, Indicator, Objective, PinnedPolicy, Slo,
    TimeWindow, Trigger, nominal_length,
};
pub use duration::{Shorthand, Unit};
