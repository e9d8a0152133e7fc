//! A KV bucket made the way nats-server 2.9 takes it, and buckets opened
//! without making them.

use super::JetStreamError;
use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::{self, ErrorCode, kv};

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
    open_kv_bucket(js, bucket).await
}

/// The KV bucket `bucket` as it is; [`JetStreamError::Absent`] when it is
/// not there. Asks only for the stream's info: a user without the right to
/// make streams can open it.
pub(super) async fn open_kv_bucket(
    js: &jetstream::Context,
    bucket: &str,
) -> Result<kv::Store, JetStreamError> {
    let what = format!("KV bucket {bucket}");
    stream_exists(js, &format!("KV_{bucket}"), &what).await?;
    js.get_key_value(bucket)
        .await
        .map_err(|e| JetStreamError::Stream {
            what,
            error: e.to_string(),
        })
}

/// Whether `stream` is there: `Ok`, [`JetStreamError::Absent`] (naming
/// `what`), or the error asking gave (a refused permission among them).
pub(super) async fn stream_exists(
    js: &jetstream::Context,
    stream: &str,
    what: &str,
) -> Result<(), JetStreamError> {
    match js.get_stream(stream).await {
        Ok(_) => Ok(()),
        Err(e) => match e.kind() {
            GetStreamErrorKind::JetStream(error)
                if error.error_code() == ErrorCode::STREAM_NOT_FOUND =>
            {
                Err(JetStreamError::Absent {
                    what: what.to_string(),
                })
            }
            _ => Err(JetStreamError::Stream {
                what: what.to_string(),
                error: e.to_string(),
            }),
        },
    }
}
