//! The service layer: what every process shape (`run`, `serve`, `demo` and
//! `agent`) shares, written once.
//!
//! - [`assemble`]: a runtime, SLOs and a ledger become a scheduler.
//! - [`Tenant`]: one tenant, its tokens, limits, uploaded policies and
//!   changes (`PUT /v1/slos`, `PUT /v1/policies`); [`Service`]: the tenants
//!   of a process and who may act for them.
//! - [`ClockPass`]: tick → alerts → outbox → Alertmanager refresh → retention.
//! - [`ingest_spool`]: observation files dropped in the spool folder.
//! - [`slo_set`]: the SLOs of a single-machine process.
//! - [`hand_off`]: observations for a `run` that holds the ledger.
//! - [`synced`]: an agent follows its tenant's SLO set from central and
//!   writes its heartbeat; [`central_sync`]: central publishes each tenant's
//!   set and files its agents' heartbeats.
//! - [`Agent`]: `dataslo agent`'s feed publisher, set follower, spool and
//!   clock, bounded by `max_unpublished`.
//! - [`rebuild_ledger`]: `ledger rebuild`, central's ledger from the stream.
//! - [`control`]: the socket through which `status` and `ledger …` ask the
//!   process that holds the ledger.
//!
//! Depends on scheduler, status, alert, jetstream, budget, registry, oci,
//! executor, config, ledger, runtime, slo, trust and model; server, dashboard, demo and cli depend on
//! it.

mod agent;
mod assemble;
pub mod central_sync;
mod changes;
mod clock;
pub mod control;
mod error;
mod handoff;
mod rebuild;
mod replica;
pub mod slo_set;
mod spool;
pub mod synced;
mod tenant;
mod tenants;

pub use agent::{Agent, agent_runtime};
pub use assemble::{SchedulerSettings, assemble};
pub use changes::{ChangeError, PolicyStored, SlosApplied};
pub use clock::{ClockPass, ClockReport, ClockSettings, MAX_CATCH_UP};
pub use error::ServiceError;
pub use handoff::{announce_holder, hand_off, holder};
pub use rebuild::{RebuildError, Rebuilt, rebuild_ledger};
pub use replica::{REPLICA_ID_FILE, replica_name, start_replica};
pub use spool::{SpoolReport, ingest_spool};
pub use tenant::{Ingested, Shared, Tenant, UPLOADED_SLOS_FILE, token_hash};
pub use tenants::{Service, open_ledger, open_runtime};
