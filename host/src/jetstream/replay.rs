//! `ledger rebuild`'s side of the bus: a tenant's records, from the first
//! message of the stream to its last at the start, decoded as central's
//! consumer decodes them and written into a ledger in batches.

use super::consume::{Refused, decode, refusal};
use super::{JetStreamError, stream};
use crate::ledger::{EvalRecord, Ledger, RefusedRecord, Stored};
use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull::OrderedConfig};
use futures_util::StreamExt;
use std::time::Duration;

/// Records written and flushed together.
const BATCH: usize = 1024;

/// How long the stream may stay silent before the replay gives up: it only
/// reads messages that exist already.
const SILENCE: Duration = Duration::from_secs(30);

/// What a replay filed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Messages read.
    pub messages: u64,
    /// Records new to the ledger.
    pub records: u64,
    /// Messages carrying a record already filed (the same key twice).
    pub duplicates: u64,
    /// Messages central would not file either (another format, a key of
    /// another site, an invalid record, an agent's record without its chain
    /// or with a broken hash): logged, skipped; those never valid are kept
    /// beside the ledger as central keeps them.
    pub refused: u64,
}

/// Files every record of `tenant` the stream holds now into `ledger`, in
/// stream order, and flushes. Messages published meanwhile are left to
/// central's consumer.
pub async fn replay_records(
    js: &jetstream::Context,
    tenant: &str,
    ledger: &Ledger,
) -> Result<Replayed, JetStreamError> {
    let failed = |what: &str, error: String| JetStreamError::Stream {
        what: format!("{what} of stream {}", stream::STREAM),
        error,
    };
    let mut records = js
        .get_stream(stream::STREAM)
        .await
        .map_err(|e| failed("lookup", e.to_string()))?;
    let last = records
        .info()
        .await
        .map_err(|e| failed("info", e.to_string()))?
        .state
        .last_sequence;
    let mut consumer = records
        .create_consumer(OrderedConfig {
            filter_subject: stream::tenant_subjects(tenant),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|e| failed("ordered consumer", e.to_string()))?;
    let mut done = Replayed::default();
    let pending = consumer
        .info()
        .await
        .map_err(|e| failed("ordered consumer", e.to_string()))?
        .num_pending;
    if pending == 0 {
        return Ok(done);
    }
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| failed("ordered consumer", e.to_string()))?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut kept = Vec::new();
    loop {
        let message = match tokio::time::timeout(SILENCE, messages.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => return Err(failed("ordered consumer", e.to_string())),
            Ok(None) => return Err(failed("ordered consumer", "ended early".into())),
            Err(_) => {
                return Err(failed(
                    "ordered consumer",
                    format!("no message for {SILENCE:?} before sequence {last}"),
                ));
            }
        };
        let (sequence, left) = message
            .info()
            .map(|i| (i.stream_sequence, i.pending))
            .map_err(|e| failed("message info", e.to_string()))?;
        done.messages += 1;
        match decode(&message, tenant) {
            Ok(record) => batch.push(record),
            Err(Refused::Later(why)) => {
                tracing::warn!(%tenant, subject = %message.subject, sequence, why, "message skipped");
                done.refused += 1;
            }
            Err(Refused::Never { why, problem }) => {
                tracing::warn!(%tenant, subject = %message.subject, sequence, why, "message kept outside the ledger");
                done.refused += 1;
                kept.push(
                    refusal(&message, tenant, why, problem)
                        .map_err(|e| failed("message info", e.to_string()))?,
                );
            }
        }
        let end = sequence >= last || left == 0;
        if batch.len() >= BATCH || end {
            write(
                ledger,
                std::mem::take(&mut batch),
                std::mem::take(&mut kept),
                &mut done,
            )
            .await?;
        }
        if end {
            break;
        }
    }
    let flushing = ledger.clone();
    tokio::task::spawn_blocking(move || flushing.flush())
        .await
        .map_err(|e| failed("flush", e.to_string()))??;
    Ok(done)
}

async fn write(
    ledger: &Ledger,
    batch: Vec<EvalRecord>,
    kept: Vec<RefusedRecord>,
    done: &mut Replayed,
) -> Result<(), JetStreamError> {
    let writing = ledger.clone();
    let stored = tokio::task::spawn_blocking(move || {
        writing.keep_refused(&kept)?;
        writing.record_batch(&batch)
    })
    .await
    .map_err(|e| JetStreamError::Stream {
        what: "writing replayed records".into(),
        error: e.to_string(),
    })??;
    for s in stored {
        match s {
            Stored::New => done.records += 1,
            Stored::Duplicate => done.duplicates += 1,
        }
    }
    Ok(())
}
