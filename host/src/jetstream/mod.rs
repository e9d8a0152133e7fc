//! NATS JetStream between machines: the record stream and its subjects, an
//! agent's publisher and central's consumer.
//!
//! - [`connect`]: a client from `[nats]`, with its credentials.
//! - [`stream`]: the stream `DATASLO_RECORDS`, its subjects and headers.
//! - [`publish_feed`]: an agent's feed to `dataslo.<tenant>.records.<site>`,
//!   its cursor moved only on the stream's acknowledgement.
//! - [`consume_records`]: a tenant's records into its ledger, acknowledged
//!   only after the ledger's flush.
//! - [`sets`]: a tenant's SLO set (KV) and its policies (Object Store).
//! - [`agents`]: agents' heartbeats (KV).
//!
//! Depends on config and ledger; service and cli depend on it.

pub mod agents;
mod connect;
mod consume;
mod error;
mod publish;
pub mod sets;
pub mod stream;

pub use connect::connect;
pub use consume::{ConsumeSettings, consume_records};
pub use error::JetStreamError;
pub use publish::{PublishSettings, publish_feed};
