//! `dataslo new`: a standalone policy project in Rust, JavaScript or Python,
//! with a small real policy (a row-count floor), a strict config with a JSON
//! Schema, its `tests/*.yaml` cases for `dataslo test`, and a README. A Rust
//! project gets the SDK's source (carried by the binary) and the WIT, so that
//! it builds with crates.io alone; a JavaScript or Python one gets the WIT and
//! the pinned toolchain to build against it.
//!
//! Depends on nothing else in the crate.

mod embedded;
mod error;
mod manifest;
mod name;
mod project;

pub use error::ScaffoldError;
pub use name::validate_name;
pub use project::{Created, Lang, create};

/// The componentize-js `dataslo new` pins for JavaScript (and `.ci/run` installs).
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// The componentize-py `dataslo new` pins for Python (and `.ci/run` installs).
pub const COMPONENTIZE_PY: &str = "0.25.1";
