//! NATS JetStream between machines: the record stream and its subjects, an
//! agent's publisher and central's consumer.
//!
//! - [`connect`]: a client from `[nats]`, with its credentials.
//! - [`stream`]: the stream `DATASLO_RECORDS`, its subjects and headers.
//! - [`publish_feed`]: an agent's feed to `dataslo.<tenant>.records.<site>`
//!   (central's to `...records.central`), its cursor moved only on the
//!   stream's acknowledgement.
//! - [`consume_records`]: a tenant's records into its ledger, acknowledged
//!   only after the ledger's flush.
//! - [`lease`]: the tick lease, held by one central replica at a time;
//!   [`tick_hold`]: whether this process holds it now.
//! - [`replay_records`]: a tenant's records, from the stream's start, into
//!   an empty ledger (`ledger rebuild`).
//! - [`sets`]: a tenant's SLO set (KV) and its policies (Object Store).
//! - [`agents`]: agents' heartbeats (KV).
//!
//! Depends on config, trust (a set's policy signatures) and ledger; service and cli depend on it.

pub mod agents;
mod connect;
mod consume;
mod error;
mod kv_bucket;
pub mod lease;
mod publish;
mod replay;
pub mod sets;
pub mod stream;
pub mod tick_hold;

pub use connect::connect;
pub use consume::{ConsumeSettings, consume_records};
pub use error::JetStreamError;
pub use publish::{PublishSettings, publish_feed};
pub use replay::{Replayed, replay_records};
