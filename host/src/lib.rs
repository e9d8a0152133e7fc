//! dataslo: a WebAssembly policy engine that checks data against Service Level
//! Objectives.
//!
//! # Layout
//!
//! The crate is built in layers. A module may import only modules of a lower
//! layer, never one of its own layer or above; `layout_tests` below reads
//! every `crate::` path of every module and holds the code to this table, and
//! each module's "Depends on" line to its imports.
//!
//! | layer | modules | what they hold |
//! | --- | --- | --- |
//! | 0 | model, executor, process, scaffold | plain data (observations, measurements, alerts, policy references); the fair worker pool; settings made once at a process's start (no transparent huge pages); the policy projects of `dataslo new`, with the SDK and WIT the binary carries |
//! | 1 | runtime, slo, ledger, openlineage, dbt, trust | the wasmtime sandbox; OpenSLO definitions; the sled ledger; OpenLineage events to observations; dbt artifacts (source freshness, test results) to observations; ed25519 policy signatures and the keys trusted |
//! | 2 | config, budget, registry, authoring, oci | `dataslo.toml`; error budgets and burn rates; a tenant's uploaded policies; a policy's test cases run through the sandbox (`dataslo test`); policies pushed to and pulled from OCI registries, cached by digest |
//! | 3 | alert, jetstream | burn-rate, no-data and error alerts, and their notifiers; NATS JetStream: the record stream, its publishers, central's consumer, the tick lease, SLO sets and heartbeats |
//! | 4 | scheduler, status | observations in, evaluations recorded; the status report |
//! | 5 | service, metrics, validation, replay | what every process shape shares: tenants, the clock pass, the spool, the agent, central's replica, ledger rebuild; the Prometheus exposition; `slo validate`'s checks against each SLO's policy; `dataslo replay`: stored observations evaluated again with another policy or config |
//! | 6 | server, dashboard, demo | the HTTP API of `serve` and `agent`; its HTML pages; the simulated month of `dataslo demo` |
//! | 7 | cli | the `dataslo` command: parses arguments and prints |

pub mod alert;
pub mod authoring;
pub mod budget;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod dbt;
pub mod demo;
pub mod executor;
pub mod jetstream;
pub mod ledger;
pub mod metrics;
pub mod model;
pub mod oci;
pub mod openlineage;
pub mod process;
pub mod registry;
pub mod replay;
pub mod runtime;
pub mod scaffold;
pub mod scheduler;
pub mod server;
pub mod service;
pub mod slo;
pub mod status;
pub mod trust;
pub mod validation;

#[cfg(test)]
mod layout_tests;
