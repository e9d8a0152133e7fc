//! `distribution-drift`: good when a column's distribution, given by its
//! quantiles (`columns[].quantiles`), has not drifted from a baseline: the
//! quantiles of earlier observations in a window, averaged at equal q.
//! Method `quantile_shift` judges the largest relative shift of chosen
//! quantiles, `psi` the population stability index over the baseline's
//! quantile bins. A column without quantiles, or a baseline too small, is
//! the `missing-metadata` error naming it: it counts neither good nor bad.

use dataslo_guest::prelude::*;

mod baseline;
mod stats;

pub use baseline::Quantiles;
pub use stats::{Shift, largest_shift, psi};

/// Config: `{"column": "amount", "method": "psi", "threshold": 0.2}`, or
/// `{"column": "amount", "method": "quantile_shift", "threshold": 0.1,
/// "quantiles": [0.5, 0.9], "baseline_last": 7, "baseline_within": "7d"}`.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct DistributionDrift {
    /// The column whose quantiles are compared.
    pub column: String,
    /// The statistic.
    pub method: Method,
    /// The largest acceptable statistic, > 0 (e.g. 0.1 for a 10 % shift,
    /// 0.2 for PSI).
    pub threshold: f64,
    /// With `quantile_shift`: the q compared. Default: every q the current
    /// observation and the baseline share.
    pub quantiles: Option<Vec<f64>>,
    /// How many earlier observations the baseline reads. Default 10; the
    /// host caps it at its `history_depth` limit.
    #[serde(default = "default_baseline_last")]
    pub baseline_last: u32,
    /// Only earlier observations observed within this of now count.
    pub baseline_within: Option<HumanDuration>,
    /// The fewest baseline observations with the column's quantiles. Default 1.
    #[serde(default = "default_min_baseline")]
    pub min_baseline: u32,
}

/// How drift is measured.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(crate = "dataslo_guest::serde", rename_all = "snake_case")]
pub enum Method {
    /// The largest `|current - baseline| / |baseline|` over the quantiles.
    QuantileShift,
    /// The population stability index.
    Psi,
}

fn default_baseline_last() -> u32 {
    10
}

fn default_min_baseline() -> u32 {
    1
}

/// The largest `baseline_last` accepted.
const MAX_BASELINE: u32 = 10_000;

fn bad(reason: impl Into<String>) -> PolicyError {
    PolicyError::invalid_config(format!("distribution-drift: {}", reason.into()))
}

impl Policy for DistributionDrift {
    const NAME: &'static str = "distribution-drift";
    const DESCRIPTION: &'static str = "Good when a column's quantiles have not drifted from the \
         average quantiles of a baseline window of earlier observations: the largest relative \
         quantile shift (quantile_shift) or the PSI over the baseline's quantile bins (psi) is \
         at most threshold. Emits the statistic.";
    const SLIS: &'static [&'static str] = &["distribution_drift"];
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["column", "method", "threshold"],
  "properties": {
    "column": {"type": "string", "minLength": 1},
    "method": {"enum": ["quantile_shift", "psi"]},
    "threshold": {"type": "number", "exclusiveMinimum": 0,
                  "description": "largest acceptable statistic, e.g. 0.1 (10 % shift) or 0.2 (PSI)"},
    "quantiles": {"type": "array", "minItems": 1,
                  "items": {"type": "number", "minimum": 0, "maximum": 1},
                  "description": "quantile_shift only: the q compared; default every shared q"},
    "baseline_last": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10,
                      "description": "earlier observations read for the baseline; the host caps it"},
    "baseline_within": {"type": ["string", "integer"], "minimum": 0,
                        "description": "only earlier observations this recent count, e.g. \"7d\""},
    "min_baseline": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1,
                     "description": "fewest baseline observations with quantiles; fewer is missing metadata `history`"}
  }
}"#;

    fn validate(&self) -> Result<(), PolicyError> {
        if self.column.is_empty() {
            return Err(bad("column is empty"));
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(bad(format!(
                "threshold must be a number > 0, got {}",
                self.threshold
            )));
        }
        match (&self.quantiles, self.method) {
            (Some(_), Method::Psi) => {
                return Err(bad(
                    "quantiles applies only with method \"quantile_shift\" (psi uses every baseline quantile)",
                ));
            }
            (Some(qs), Method::QuantileShift) => {
                if qs.is_empty() {
                    return Err(bad("quantiles is empty"));
                }
                if let Some(q) = qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
                    return Err(bad(format!("quantiles: {q} is not in [0, 1]")));
                }
            }
            (None, _) => {}
        }
        if !(1..=MAX_BASELINE).contains(&self.baseline_last) {
            return Err(bad(format!(
                "baseline_last must be in [1, {MAX_BASELINE}], got {}",
                self.baseline_last
            )));
        }
        if !(1..=self.baseline_last).contains(&self.min_baseline) {
            return Err(bad(format!(
                "min_baseline must be in [1, baseline_last ({})], got {}",
                self.baseline_last, self.min_baseline
            )));
        }
        if self.baseline_within.is_some_and(|d| d.0.is_zero()) {
            return Err(bad("baseline_within must be longer than 0"));
        }
        Ok(())
    }

    fn evaluate(&self, obs: &Observation, ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let column = &self.column;
        let metrics = obs
            .column(column)
            .ok_or_else(|| PolicyError::missing(format!("columns.{column}")))?;
        let current = baseline::tidy(&metrics.quantiles);
        if current.is_empty() {
            return Err(PolicyError::missing(format!("columns.{column}.quantiles")));
        }
        let since = self
            .baseline_within
            .map(|d| ctx.now().saturating_sub(d.as_nanos_i64()));
        let samples: Vec<Quantiles> = ctx
            .history(self.baseline_last)
            .iter()
            .filter(|o| since.is_none_or(|since| o.observed_at >= since))
            .filter_map(|o| o.column(column).map(|c| baseline::tidy(&c.quantiles)))
            .filter(|q| !q.is_empty())
            .collect();
        let window = match self.baseline_within {
            Some(d) => format!("the last {} observations within {d}", self.baseline_last),
            None => format!("the last {} observations", self.baseline_last),
        };
        if samples.len() < self.min_baseline as usize {
            return Err(PolicyError::missing(format!(
                "history: {} baseline observations with columns.{column}.quantiles in {window}, min_baseline is {}",
                samples.len(),
                self.min_baseline
            )));
        }
        let base = baseline::average(&samples);
        if base.is_empty() {
            return Err(PolicyError::missing(format!(
                "history: the baseline's columns.{column}.quantiles share no q"
            )));
        }
        let n = samples.len();
        let (statistic, what) = match self.method {
            Method::QuantileShift => self.shift(&base, &current)?,
            Method::Psi => {
                let psi = psi(&base, &current);
                (
                    psi,
                    format!("PSI {psi:.4} over {} baseline bins", base.len() + 1),
                )
            }
        };
        let good = statistic <= self.threshold;
        let detail = format!(
            "{column}: {what}, baseline of {n} observations; threshold {}",
            self.threshold
        );
        Ok(vec![
            Measurement::check("distribution_drift", good, detail).with_value(statistic),
        ])
    }
}

impl DistributionDrift {
    /// The largest relative shift and its description.
    fn shift(&self, base: &Quantiles, current: &Quantiles) -> Result<(f64, String), PolicyError> {
        let column = &self.column;
        let qs: Vec<f64> = match &self.quantiles {
            Some(qs) => qs.clone(),
            None => base
                .iter()
                .map(|(q, _)| *q)
                .filter(|q| baseline::at(current, *q).is_some())
                .collect(),
        };
        let shift = largest_shift(base, current, &qs).map_err(|(q, in_current)| {
            if in_current {
                PolicyError::missing(format!("columns.{column}.quantiles[q={q}]"))
            } else {
                PolicyError::missing(format!("history: columns.{column}.quantiles[q={q}]"))
            }
        })?;
        let Some(s) = shift else {
            return Err(PolicyError::missing(format!(
                "columns.{column}.quantiles: no q shared with the baseline"
            )));
        };
        Ok((
            s.relative,
            format!(
                "largest shift {:.2}% at q={} ({} -> {})",
                s.relative * 100.0,
                s.q,
                s.baseline,
                s.current
            ),
        ))
    }
}

export_policy!(DistributionDrift);

#[cfg(test)]
mod tests;
