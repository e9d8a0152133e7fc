//! Building measurements and errors.

use crate::{Measurement, PolicyError};

impl Measurement {
    /// A pass/fail event: 1/1 when `good`, 0/1 otherwise.
    pub fn check(sli: impl Into<String>, good: bool, detail: impl Into<String>) -> Self {
        Measurement {
            sli: sli.into(),
            good: u64::from(good),
            total: 1,
            value: None,
            detail: detail.into(),
        }
    }

    /// `good` of `total` events were good. `good` is capped at `total`.
    pub fn ratio(sli: impl Into<String>, good: u64, total: u64, detail: impl Into<String>) -> Self {
        Measurement {
            sli: sli.into(),
            good: good.min(total),
            total,
            value: None,
            detail: detail.into(),
        }
    }

    /// Attaches the raw figure, e.g. an age in seconds. Non-finite values are dropped.
    pub fn with_value(mut self, value: f64) -> Self {
        self.value = value.is_finite().then_some(value);
        self
    }

    /// Whether every event was good.
    pub fn is_good(&self) -> bool {
        self.good == self.total
    }
}

impl PolicyError {
    /// The observation lacks `field`.
    pub fn missing(field: impl Into<String>) -> Self {
        PolicyError::MissingMetadata(field.into())
    }

    /// The config is unusable, for the reason given.
    pub fn invalid_config(reason: impl Into<String>) -> Self {
        PolicyError::InvalidConfig(reason.into())
    }
}
