//! The end-to-end tests, one module per capability, linked into one test
//! binary: each binary links wasmtime, and a dozen of them cost gigabytes of
//! disk and minutes of linking. The sandbox tests keep a binary of their own
//! because they measure the process's RSS and CPU time.

mod support;

mod alertmanager;
mod alerts;
mod blocking_calls;
mod budget_properties;
mod builtins;
mod builtins_history;
mod cli_eval;
mod cli_manners;
mod compile_bounds;
mod contract_versions;
mod dashboard;
mod dbt_import;
mod demo;
mod disk_full;
mod edge;
mod edge_backlog;
mod edge_http;
mod edge_kills;
mod edge_late;
mod edge_lease;
mod edge_rebuild;
mod edge_replicas;
mod edge_silence;
mod edge_sync;
mod edge_tenants;
mod engine;
mod ingest_log;
mod late_alerts;
mod late_records;
mod ledger_layout;
mod load;
mod logging;
mod metrics;
mod metrics_prometheus;
mod oci;
mod openlineage;
mod openlineage_http;
mod openlineage_producers;
mod output_contract;
mod output_edges;
mod overflow;
mod parallel;
mod policies_api;
mod policy_tests;
mod pool_limits;
mod python_guest;
mod read_commands;
mod read_while_running;
mod scheduler;
mod serve_process;
mod server;
mod session;
mod slo_files;
mod slo_identity;
mod slo_validate;
mod slo_yaml;
mod slow_clients;
mod status_at;
mod time_sanity;
