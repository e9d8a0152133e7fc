//! dataslo: a WebAssembly policy engine that checks data against Service Level
//! Objectives.
//!
//! - [`model`]: the host's data types (observations, measurements) and their JSON form.
//! - [`runtime`]: the wasmtime sandbox that loads and runs policies (pooling
//!   allocator, compile cache).
//! - [`slo`]: SLO definitions read from OpenSLO YAML.
//! - [`config`]: the settings of `dataslo.toml`.
//! - [`ledger`]: the sled ledger, one set of trees per tenant.
//! - [`budget`], [`alert`], [`status`]: error budgets, burn-rate alerts and
//!   their notifiers, and the status report, all read from the ledger.
//! - [`executor`]: the worker pool that runs evaluations, fair between tenants.
//! - [`scheduler`]: observations in, evaluations recorded, idempotently.
//! - [`openlineage`]: OpenLineage events to observations.
//! - [`registry`]: a tenant's uploaded policies.
//! - [`metrics`]: the Prometheus exposition.
//! - [`server`], [`dashboard`]: `dataslo serve`'s API and HTML pages.
//! - [`demo`]: the simulated month of `dataslo demo`.
//! - [`cli`]: the `dataslo` command's subcommands, as library functions.

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
