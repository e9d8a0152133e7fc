//! An agent's publisher: its ledger's feed, in order, to its subject; the
//! publish cursor moves only on the stream's acknowledgement.

use super::{JetStreamError, stream};
use crate::ledger::{FeedEntry, Ledger};
use async_nats::HeaderMap;
use async_nats::jetstream;
use std::time::{Duration, Instant};

/// Records sent before their acknowledgements are awaited.
const BATCH: usize = 128;

/// Who publishes, and where.
#[derive(Debug, Clone)]
pub struct PublishSettings {
    /// The tenant, as central names it.
    pub tenant: String,
    /// The agent's site.
    pub site: String,
    /// How long to wait when the feed is empty.
    pub idle: Duration,
    /// How long to wait after a failure (NATS down) before trying again.
    pub retry: Duration,
}

/// Publishes `ledger`'s feed for ever (abort the task to stop it). Offline,
/// the feed grows in the ledger and the publisher says how far behind it
/// is; back online, it resumes from the cursor, in order.
pub async fn publish_feed(ledger: Ledger, js: jetstream::Context, settings: PublishSettings) {
    let subject = stream::subject(&settings.tenant, &settings.site);
    let mut failing_since: Option<Instant> = None;
    let mut last_said = Instant::now();
    loop {
        match publish_some(&ledger, &js, &subject, &settings.site).await {
            Ok(0) => tokio::time::sleep(settings.idle).await,
            Ok(_) => {
                if failing_since.take().is_some() {
                    tracing::info!(%subject, "publishing again");
                }
            }
            Err(error) => {
                let behind = backlog(&ledger).await;
                if failing_since.is_none() || last_said.elapsed() > Duration::from_secs(10) {
                    tracing::warn!(%subject, %error, behind, "records wait in the ledger to be published");
                    last_said = Instant::now();
                }
                failing_since.get_or_insert_with(Instant::now);
                tokio::time::sleep(settings.retry).await;
            }
        }
    }
}

async fn backlog(ledger: &Ledger) -> u64 {
    let ledger = ledger.clone();
    tokio::task::spawn_blocking(move || ledger.publish_backlog())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(0)
}

/// Publishes one batch from the cursor and awaits its acknowledgements in
/// order, moving the cursor past each; how many were acknowledged.
async fn publish_some(
    ledger: &Ledger,
    js: &jetstream::Context,
    subject: &str,
    site: &str,
) -> Result<usize, JetStreamError> {
    let reading = ledger.clone();
    let batch = tokio::task::spawn_blocking(move || reading.unpublished(BATCH))
        .await
        .map_err(|e| JetStreamError::Publish {
            subject: subject.into(),
            error: e.to_string(),
        })??;
    let publishing = |error: String| JetStreamError::Publish {
        subject: subject.into(),
        error,
    };
    let mut pending = Vec::with_capacity(batch.len());
    let mut failed = None;
    for FeedEntry { sequence, record } in batch {
        let id = stream::message_id(site, &record);
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", id.as_str());
        headers.insert(stream::FORMAT_HEADER, stream::FORMAT);
        // The payload keeps `<site>.<key>`: central files the record under it.
        let key = stream::wire_key(site, &record.key);
        let wire = crate::ledger::EvalRecord { key, ..record };
        let payload = serde_json::to_vec(&wire).map_err(|e| publishing(e.to_string()))?;
        match js
            .publish_with_headers(subject.to_string(), headers, payload.into())
            .await
        {
            Ok(ack) => pending.push((sequence, ack)),
            Err(e) => {
                failed = Some(publishing(e.to_string()));
                break;
            }
        }
    }
    let mut acked = None;
    let mut count = 0;
    for (sequence, ack) in pending {
        match ack.await {
            Ok(_) => {
                acked = Some(sequence);
                count += 1;
            }
            Err(e) => {
                failed.get_or_insert(publishing(e.to_string()));
                break;
            }
        }
    }
    if let Some(sequence) = acked {
        let moving = ledger.clone();
        tokio::task::spawn_blocking(move || moving.published(sequence))
            .await
            .map_err(|e| publishing(e.to_string()))??;
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(count),
    }
}
