//! OpenSLO v1 documents as written, before dataslo's own checks. Lenient where
//! the OpenSLO spec has fields dataslo does not use.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SloDoc {
    pub metadata: Metadata,
    pub spec: SloSpec,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SloSpec {
    #[serde(default)]
    pub indicator: Option<SliDoc>,
    #[serde(default)]
    pub indicator_ref: Option<String>,
    pub time_window: Vec<TimeWindowDoc>,
    pub budgeting_method: String,
    pub objectives: Vec<ObjectiveDoc>,
}

/// An SLI, inline in an SLO or as its own `kind: SLI` document.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliDoc {
    pub metadata: Metadata,
    pub spec: SliSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliSpec {
    #[serde(default)]
    pub threshold_metric: Option<SourceHolder>,
    #[serde(default)]
    pub ratio_metric: Option<RatioMetric>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceHolder {
    pub metric_source: MetricSource,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetricSource {
    #[serde(rename = "type")]
    pub source_type: String,
    #[serde(default)]
    pub spec: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatioMetric {
    #[serde(default)]
    pub good: Option<SourceHolder>,
    #[serde(default)]
    pub bad: Option<SourceHolder>,
    #[serde(default)]
    pub total: Option<SourceHolder>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeWindowDoc {
    pub duration: String,
    #[serde(default)]
    pub is_rolling: Option<bool>,
    #[serde(default)]
    pub calendar: Option<CalendarDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarDoc {
    pub start_time: String,
    pub time_zone: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectiveDoc {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub op: Option<String>,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub target_percent: Option<f64>,
    #[serde(default)]
    pub time_slice_target: Option<f64>,
    #[serde(default)]
    pub time_slice_window: Option<String>,
}

/// The `spec` of a `dataslo` metric source. Unknown fields are errors: a typo
/// here would silently change what is measured.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasloSource {
    pub dataset: crate::model::DatasetRef,
    /// Parsed here, so a bad reference is an error at `...spec.policy`.
    pub policy: crate::model::PolicyRef,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    pub sli: String,
    pub trigger: TriggerDoc,
    #[serde(default)]
    pub alerting: Option<AlertingDoc>,
    /// The agents' sites a scheduled SLO ticks at; none: central.
    #[serde(default)]
    pub sites: Option<Vec<String>>,
}

/// `alerting:` in a dataslo source: overrides of the default alert rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingDoc {
    #[serde(default)]
    pub rules: Option<Vec<RuleDoc>>,
    #[serde(default)]
    pub min_events: Option<u64>,
    #[serde(default)]
    pub no_data_after: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    pub severity: String,
    pub long: String,
    pub short: String,
    pub burn: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerDoc {
    Observation,
    Schedule(String),
}
