//! `volume-anomaly`: good when `row_count` is within `max_deviation` robust
//! standard deviations of the median of comparable past row counts (the
//! MAD scaled to a standard deviation). With weekly seasonality only past
//! observations of the same weekday compare. Too little history is the
//! `missing-metadata` error naming `history`, as a missing field is for the
//! other built-ins: it counts neither good nor bad.

use dataslo_guest::prelude::*;
use jiff::tz::TimeZone;

mod stats;
mod weekday;

pub use stats::Robust;

/// Config: `{"max_deviation": 3.5}`, or with every option
/// `{"max_deviation": 3, "seasonality": "weekly", "timezone": "Europe/Berlin",
/// "direction": "decrease", "min_history": 4, "lookback": 100}`.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct VolumeAnomaly {
    /// The largest acceptable robust z score (in standard deviations), > 0.
    pub max_deviation: f64,
    /// Which past observations compare. Default `none`: all of them.
    #[serde(default)]
    pub seasonality: Seasonality,
    /// The IANA time zone whose weekdays count; only with `weekly`. Default UTC.
    pub timezone: Option<String>,
    /// Which deviations are bad. Default `both`.
    #[serde(default)]
    pub direction: Direction,
    /// The fewest comparable past row counts to judge by. Default 5.
    #[serde(default = "default_min_history")]
    pub min_history: u32,
    /// How many past observations to read (before the weekday filter).
    /// Default 100; the host caps it at its `history_depth` limit.
    #[serde(default = "default_lookback")]
    pub lookback: u32,
}

/// Which past observations compare with the current one.
#[derive(Debug, Default, Clone, Copy, PartialEq, Deserialize)]
#[serde(crate = "dataslo_guest::serde", rename_all = "lowercase")]
pub enum Seasonality {
    /// Every past observation.
    #[default]
    None,
    /// Only those of the same weekday.
    Weekly,
}

/// Which deviations are bad.
#[derive(Debug, Default, Clone, Copy, PartialEq, Deserialize)]
#[serde(crate = "dataslo_guest::serde", rename_all = "lowercase")]
pub enum Direction {
    /// Rises and drops.
    #[default]
    Both,
    /// Drops only: more rows than usual is fine.
    Decrease,
}

fn default_min_history() -> u32 {
    5
}

fn default_lookback() -> u32 {
    100
}

/// The largest `lookback` and `min_history` accepted.
const MAX_LOOKBACK: u32 = 10_000;
/// Fewer past counts than this give no spread worth the name.
const MIN_MIN_HISTORY: u32 = 3;

fn bad(reason: impl Into<String>) -> PolicyError {
    PolicyError::invalid_config(format!("volume-anomaly: {}", reason.into()))
}

impl VolumeAnomaly {
    /// The time zone of weekly seasonality; `None` without seasonality.
    fn zone(&self) -> Result<Option<TimeZone>, PolicyError> {
        match (self.seasonality, &self.timezone) {
            (Seasonality::None, None) => Ok(None),
            (Seasonality::None, Some(_)) => {
                Err(bad("timezone applies only with seasonality \"weekly\""))
            }
            (Seasonality::Weekly, name) => weekday::zone(name.as_deref().unwrap_or("UTC"))
                .map(Some)
                .map_err(|e| bad(format!("timezone: {e}"))),
        }
    }

    fn zone_name(&self) -> &str {
        self.timezone.as_deref().unwrap_or("UTC")
    }
}

impl Policy for VolumeAnomaly {
    const NAME: &'static str = "volume-anomaly";
    const DESCRIPTION: &'static str = "Good when row_count is within max_deviation robust standard \
         deviations (scaled MAD) of the median of comparable past row counts; weekly seasonality \
         compares the same weekday only, direction \"decrease\" flags drops only. Emits the robust z score.";
    const SLIS: &'static [&'static str] = &["volume_anomaly"];
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["max_deviation"],
  "properties": {
    "max_deviation": {"type": "number", "exclusiveMinimum": 0,
                      "description": "largest acceptable robust z score, in standard deviations"},
    "seasonality": {"enum": ["none", "weekly"], "default": "none",
                    "description": "weekly: compare with the same weekday only"},
    "timezone": {"type": "string", "default": "UTC",
                 "description": "IANA time zone of the weekdays, with seasonality weekly"},
    "direction": {"enum": ["both", "decrease"], "default": "both",
                  "description": "decrease: only drops are bad"},
    "min_history": {"type": "integer", "minimum": 3, "maximum": 10000, "default": 5,
                    "description": "fewest comparable past row counts; fewer is missing metadata `history`"},
    "lookback": {"type": "integer", "minimum": 3, "maximum": 10000, "default": 100,
                 "description": "past observations read, before the weekday filter; the host caps it"}
  }
}"#;

    fn validate(&self) -> Result<(), PolicyError> {
        if !(self.max_deviation.is_finite() && self.max_deviation > 0.0) {
            return Err(bad(format!(
                "max_deviation must be a number > 0, got {}",
                self.max_deviation
            )));
        }
        if !(MIN_MIN_HISTORY..=MAX_LOOKBACK).contains(&self.min_history) {
            return Err(bad(format!(
                "min_history must be in [{MIN_MIN_HISTORY}, {MAX_LOOKBACK}], got {}",
                self.min_history
            )));
        }
        if !(self.min_history..=MAX_LOOKBACK).contains(&self.lookback) {
            return Err(bad(format!(
                "lookback must be in [min_history ({}), {MAX_LOOKBACK}], got {}",
                self.min_history, self.lookback
            )));
        }
        self.zone().map(drop)
    }

    fn evaluate(&self, obs: &Observation, ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let zone = self.zone()?;
        let rows = obs.require_row_count()?;
        let day = match &zone {
            Some(tz) => Some(weekday::weekday(obs.observed_at, tz).ok_or_else(|| {
                PolicyError::Internal(format!(
                    "volume-anomaly: observed_at {} is out of range",
                    obs.observed_at
                ))
            })?),
            None => None,
        };
        let past: Vec<f64> = ctx
            .history(self.lookback)
            .iter()
            .filter(|o| match (&zone, day) {
                (Some(tz), Some(day)) => weekday::weekday(o.observed_at, tz) == Some(day),
                _ => true,
            })
            .filter_map(|o| o.row_count)
            .map(|n| n as f64)
            .collect();
        let which = match day {
            Some(day) => format!("{day:?}s in {}", self.zone_name()),
            None => "past observations".to_string(),
        };
        if past.len() < self.min_history as usize {
            return Err(PolicyError::missing(format!(
                "history: {} comparable row counts ({which}) in the last {} observations, min_history is {}",
                past.len(),
                self.lookback,
                self.min_history
            )));
        }
        let Some(robust) = Robust::of(&past) else {
            return Err(PolicyError::missing("history"));
        };
        let z = robust.z(rows as f64);
        let good = match self.direction {
            Direction::Both => z.abs() <= self.max_deviation,
            Direction::Decrease => z >= -self.max_deviation,
        };
        let limit = match self.direction {
            Direction::Both => format!("|z| <= {}", self.max_deviation),
            Direction::Decrease => format!("z >= -{} (drops only)", self.max_deviation),
        };
        let detail = format!(
            "{rows} rows; median {} MAD {} over n={} {which}; robust z {z:.2}, limit {limit}",
            robust.median,
            robust.mad,
            past.len()
        );
        Ok(vec![
            Measurement::check("volume_anomaly", good, detail).with_value(z),
        ])
    }
}

export_policy!(VolumeAnomaly);

#[cfg(test)]
mod tests;
