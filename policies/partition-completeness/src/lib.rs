//! `partition-completeness`: of the last `lookback` periods (hours, days or
//! months, UTC) before the evaluation's now, how many have their partition
//! among the partitions observed: this observation's and its history's.
//!
//! Partition keys come from `pattern` (`ds=%Y-%m-%d`). A partition that reads
//! as an RFC 3339 time, as OpenLineage's `nominalTime` gives it, counts for
//! the period it falls in. A period is expected once it has ended and `delay`
//! has passed; a partition from a run that did not complete does not count.

use dataslo_guest::prelude::*;

mod calendar;
mod pattern;

use calendar::Period;
use pattern::Pattern;

/// Config: `{"pattern": "ds=%Y-%m-%d", "period": "day", "lookback": 7}`, with
/// optional `"delay": "2h"` and `"history": 100`.
#[derive(Debug, Deserialize)]
#[serde(crate = "dataslo_guest::serde", deny_unknown_fields)]
pub struct PartitionCompleteness {
    /// The partition key of a period: `%Y`, `%m`, `%d`, `%H` and `%%`.
    pub pattern: String,
    /// The length of one partition's period.
    #[serde(default)]
    pub period: Period,
    /// How many periods, the latest expected one included, must be present.
    pub lookback: u32,
    /// How long after its period ends a partition is expected.
    #[serde(default)]
    pub delay: Option<HumanDuration>,
    /// How many earlier observations to read for their partitions (the host
    /// caps it at its own history depth).
    #[serde(default = "default_history")]
    pub history: u32,
}

fn default_history() -> u32 {
    100
}

/// Most periods a config may expect.
const MAX_LOOKBACK: u32 = 1000;
/// Most earlier observations a config may ask for.
const MAX_HISTORY: u32 = 10_000;
/// Missing partitions named in the detail, at most.
const LISTED: usize = 10;

impl PartitionCompleteness {
    fn pattern(&self) -> Result<Pattern, PolicyError> {
        Pattern::parse(&self.pattern, self.period)
            .map_err(|e| PolicyError::invalid_config(format!("partition-completeness: {e}")))
    }

    /// The partition key an observed partition stands for.
    fn key_of(&self, pattern: &Pattern, partition: &str) -> String {
        match dataslo_guest::parse_timestamp(partition) {
            Ok(at) => pattern.format(self.period.slot_of(at), self.period),
            Err(_) => partition.to_string(),
        }
    }
}

/// Whether an observation's partition is there: its run, if any, completed.
fn counts(obs: &Observation) -> bool {
    matches!(
        obs.run_state,
        None | Some(RunState::Complete | RunState::Other)
    )
}

impl Policy for PartitionCompleteness {
    const NAME: &'static str = "partition-completeness";
    const DESCRIPTION: &'static str = "Of the last `lookback` periods before now, the partitions \
         present in this observation and its history: good = present, total = expected, \
         value = the fraction present; the detail lists the missing ones.";
    const SLIS: &'static [&'static str] = &["partition_completeness"];
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["pattern", "lookback"],
  "properties": {
    "pattern": {
      "description": "the partition key of a period: %Y, %m, %d, %H and %%, e.g. \"ds=%Y-%m-%d\"",
      "type": "string", "minLength": 1
    },
    "period": {"enum": ["hour", "day", "month"], "default": "day"},
    "lookback": {"type": "integer", "minimum": 1, "maximum": 1000},
    "delay": {
      "description": "how long after its period ends a partition is expected, e.g. \"2h\"",
      "type": ["string", "integer"], "minimum": 0
    },
    "history": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}
  }
}"#;

    fn validate(&self) -> Result<(), PolicyError> {
        if !(1..=MAX_LOOKBACK).contains(&self.lookback) {
            return Err(PolicyError::invalid_config(format!(
                "partition-completeness: lookback must be in [1, {MAX_LOOKBACK}], got {}",
                self.lookback
            )));
        }
        if !(1..=MAX_HISTORY).contains(&self.history) {
            return Err(PolicyError::invalid_config(format!(
                "partition-completeness: history must be in [1, {MAX_HISTORY}], got {}",
                self.history
            )));
        }
        self.pattern().map(drop)
    }

    fn evaluate(&self, obs: &Observation, ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let pattern = self.pattern()?;
        let earlier = ctx.history(self.history);
        let seen: Vec<&Observation> = std::iter::once(obs).chain(&earlier).collect();
        if seen.iter().all(|o| o.partition.is_none()) {
            return Err(PolicyError::missing("partition"));
        }
        let present: Vec<String> = seen
            .iter()
            .filter(|o| counts(o))
            .filter_map(|o| o.partition.as_deref())
            .map(|p| self.key_of(&pattern, p))
            .collect();

        let delay = self.delay.map_or(0, HumanDuration::as_nanos_i64);
        let latest = self.period.slot_of(ctx.now().saturating_sub(delay)) - 1;
        let expected: Vec<String> = (latest - i64::from(self.lookback) + 1..=latest)
            .map(|slot| pattern.format(slot, self.period))
            .collect();
        let missing: Vec<&String> = expected.iter().filter(|k| !present.contains(k)).collect();
        let total = expected.len() as u64;
        let good = total - missing.len() as u64;

        let span = match (expected.first(), expected.last()) {
            (Some(first), Some(last)) if first != last => format!(" ({first} to {last})"),
            (Some(only), _) => format!(" ({only})"),
            _ => String::new(),
        };
        let mut detail = format!("{good} of {total} partitions present{span}");
        if !missing.is_empty() {
            let listed: Vec<&str> = missing.iter().take(LISTED).map(|k| k.as_str()).collect();
            detail.push_str(&format!("; missing: {}", listed.join(", ")));
            if missing.len() > LISTED {
                detail.push_str(&format!(" and {} more", missing.len() - LISTED));
            }
        }
        Ok(vec![
            Measurement::ratio("partition_completeness", good, total, detail)
                .with_value(fraction(good, total).unwrap_or(0.0)),
        ])
    }
}

export_policy!(PartitionCompleteness);

#[cfg(test)]
mod tests;
