//! The policy author's kit: `dataslo test` finds (and, for a Rust,
//! JavaScript or Python project, builds) a policy component, reads the cases of its `tests/*.yaml`, runs
//! each through the sandbox as `dataslo eval` would, and reports them as a
//! table, JSON or JUnit XML. The case format is `docs/policy-tests.md`; the
//! Rust SDK's `testing::run_case_file` reads the same files natively.
//!
//! Depends on [`crate::model`], [`crate::runtime`], [`crate::scaffold`] (the
//! toolchain versions it pins) and [`crate::slo`] (its YAML limits).

mod build_js;
mod build_python;
mod build_rust;
mod case_file;
mod compare;
mod component;
mod error;
mod examples;
mod junit;
mod run;
mod toolchain;

/// The toolchains' arguments, for the benches that build the same guests.
pub use build_js::ARGS as COMPONENTIZE_JS_ARGS;
pub use build_python::ARGS as COMPONENTIZE_PY_ARGS;
pub use case_file::{
    Case, CaseFile, Expect, ExpectedMeasurement, parse_case_file, read_case_dir, read_case_file,
};
pub use compare::{DEFAULT_TOLERANCE, compare};
pub use component::{Component, Origin, find_component};
pub use error::TestError;
pub use examples::policy_examples;
pub use junit::junit_xml;
pub use run::{CaseOutcome, TestReport, run_cases};
