//! A KV bucket made the way nats-server 2.9 takes it.

use super::JetStreamError;
use async_nats::jetstream::{self, kv};

/// The KV bucket `bucket`, created (keeping `history` values per key) if it
/// is not there. Its stream is made here as the KV convention has it
/// (`KV_<bucket>` on `$KV.<bucket>.>`): the client's own bucket creation asks
/// for account details that nats-server 2.9 answers in another shape.
pub(super) async fn kv_bucket(
    js: &jetstream::Context,
    bucket: &str,
    history: i64,
) -> Result<kv::Store, JetStreamError> {
    let what = || format!("KV bucket {bucket}");
    if js.get_stream(format!("KV_{bucket}")).await.is_err() {
        js.get_or_create_stream(jetstream::stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: history,
            storage: jetstream::stream::StorageType::File,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: jetstream::stream::DiscardPolicy::New,
            num_replicas: 1,
            ..Default::default()
        })
        .await
        .map_err(|e| JetStreamError::Stream {
            what: what(),
            error: e.to_string(),
        })?;
    }
    js.get_key_value(bucket)
        .await
        .map_err(|e| JetStreamError::Stream {
            what: what(),
            error: e.to_string(),
        })
}
