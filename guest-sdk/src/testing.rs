//! A native test harness: run a policy's logic with plain `cargo test`, no Wasm.
//!
//! ```
//! use dataslo_guest::prelude::*;
//! use dataslo_guest::testing::Harness;
//! # #[derive(Deserialize)]
//! # #[serde(crate = "dataslo_guest::serde")]
//! # struct AlwaysGood {}
//! # impl Policy for AlwaysGood {
//! #     const NAME: &'static str = "always-good";
//! #     const DESCRIPTION: &'static str = "";
//! #     const SLIS: &'static [&'static str] = &["ok"];
//! #     fn evaluate(&self, _: &Observation, _: &Context) -> Result<Vec<Measurement>, PolicyError> {
//! #         Ok(vec![Measurement::check("ok", true, "")])
//! #     }
//! # }
//! let harness = Harness::at("2026-11-26T08:00:00Z");
//! let obs = Observation::new("postgres://prod", "orders", harness.now());
//! let out = harness.evaluate::<AlwaysGood>("{}", &obs).unwrap();
//! assert!(out[0].is_good());
//! ```
//!
//! The case files of `dataslo test` (`tests/*.yaml`, see docs/policy-tests.md)
//! run natively too: [`assert_cases_in`] in a `#[test]` runs every case of a
//! folder against the policy, as `dataslo test` runs them in the sandbox.

use crate::{Context, History, Level, Measurement, Observation, Policy, PolicyError, Timestamp};
use std::cell::RefCell;

#[cfg(not(target_arch = "wasm32"))]
mod cases;
#[cfg(not(target_arch = "wasm32"))]
mod observation_json;

#[cfg(not(target_arch = "wasm32"))]
pub use cases::{
    CaseFileError, CaseResult, Outcome, assert_case_file, assert_cases_in, run_case_file,
};
#[cfg(not(target_arch = "wasm32"))]
pub use observation_json::{observation_from_json, parse_case_time};

/// Evaluates policies natively, with a fixed "now", a fake history and a
/// captured log, exactly as the host would call them (config parsed first).
#[derive(Default)]
pub struct Harness {
    now: Timestamp,
    history: Vec<Observation>,
    logs: RefCell<Vec<(Level, String)>>,
}

impl Harness {
    /// A harness whose "now" is `now`.
    pub fn new(now: Timestamp) -> Self {
        Harness {
            now,
            ..Harness::default()
        }
    }

    /// A harness whose "now" is the RFC 3339 UTC time `now`.
    ///
    /// # Panics
    /// When `now` is not a valid timestamp: this is a test helper.
    pub fn at(now: &str) -> Self {
        match crate::parse_timestamp(now) {
            Ok(ts) => Harness::new(ts),
            Err(e) => panic!("Harness::at: {e}"),
        }
    }

    /// Sets the earlier observations, newest first, as the host would give them.
    pub fn with_history(mut self, newest_first: Vec<Observation>) -> Self {
        self.history = newest_first;
        self
    }

    /// The harness's "now".
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// What the host's `validate-config` would answer for `config_json`.
    pub fn validate<P: Policy>(&self, config_json: &str) -> Result<(), PolicyError> {
        crate::export::validate_config::<P>(config_json)
    }

    /// What the host's `evaluate` would answer for `config_json` and `obs`.
    pub fn evaluate<P: Policy>(
        &self,
        config_json: &str,
        obs: &Observation,
    ) -> Result<Vec<Measurement>, PolicyError> {
        let policy = crate::parse_config::<P>(config_json)?;
        policy.evaluate(obs, &Context::new(self.now, self))
    }

    /// The log lines written so far.
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.logs.borrow().clone()
    }
}

impl History for Harness {
    fn recent(&self, limit: u32) -> Vec<Observation> {
        self.history.iter().take(limit as usize).cloned().collect()
    }
    fn log(&self, level: Level, message: &str) {
        self.logs.borrow_mut().push((level, message.to_string()));
    }
}
