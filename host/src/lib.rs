//! dataslo: a WebAssembly policy engine that checks data against Service Level
//! Objectives.
//!
//! - [`model`]: the host's data types (observations, measurements) and their JSON form.
//! - [`runtime`]: the wasmtime sandbox that loads and runs policies.
//! - [`slo`]: SLO definitions read from OpenSLO YAML.
//! - [`cli`]: the `dataslo` command's subcommands, as library functions.
//! - [`server`] and [`dashboard`]: `dataslo serve`'s HTTP API and its HTML pages.

pub mod alert;
pub mod budget;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod demo;
pub mod executor;
pub mod ledger;
pub mod metrics;
pub mod model;
pub mod openlineage;
pub mod registry;
pub mod runtime;
pub mod scheduler;
pub mod server;
pub mod slo;
pub mod status;
