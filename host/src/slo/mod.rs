//! SLO definitions: OpenSLO v1 YAML files in, validated dataslo SLOs out.
//!
//! Every OpenSLO document parses; those whose indicator reads a `dataslo` metric
//! source become [`Slo`]s, the rest are listed as not evaluable with the reason
//! (and, when a name there is not one dataslo knows, a warning with the closest).
//! The YAML is held to limits (size, nesting, alias expansion) before it is
//! parsed, and a mapping with a duplicate key is refused: one reader for SLO
//! files, `slo validate` and `PUT /v1/slos` alike.
//! Depends on [`crate::model`] only; budgets, alerts and the scheduler depend on it.

mod catalog;
mod closest;
mod definition;
mod duration;
mod identity;
mod names;
mod openslo;
mod sites;
mod warnings;
mod yaml_events;
mod yaml_limits;
mod yaml_lines;
mod yaml_value;

/// Alert severities and threshold comparisons are the ledger's too, so they
/// live in the model.
pub use crate::model::{Op, Severity};
pub use catalog::{
    Catalog, DocumentRef, NotEvaluable, SloError, load_files, parse_text, parse_texts,
};
pub use closest::closest;
pub use definition::{
    Alerting, Budgeting, BurnRule, DEFAULT_RULES, Indicator, Objective, PinnedPolicy, Slo,
    TimeWindow, Trigger, nominal_length,
};
pub use duration::{Shorthand, Unit};
pub use warnings::SloWarning;
pub use yaml_limits::{
    MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_EXPANDED_BYTES, MAX_YAML_VALUES, YamlError, check_yaml,
};
pub use yaml_lines::yaml_line;
