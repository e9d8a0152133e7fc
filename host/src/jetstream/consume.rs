//! Central's consumer: one durable pull consumer per tenant and replica,
//! each record written into the tenant's ledger (idempotent by key, outside
//! its feed), flushed, then acknowledged. Every site's records are filed,
//! `central`'s too: each replica's ledger is a whole view of the stream.

use super::{JetStreamError, stream};
use crate::ledger::{EvalRecord, Ledger};
use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::StreamExt;
use std::time::Duration;

/// How central consumes.
#[derive(Debug, Clone)]
pub struct ConsumeSettings {
    /// Records fetched, written and flushed together.
    pub batch: usize,
    /// How long one fetch waits for records.
    pub wait: Duration,
    /// How long to wait after a failure (NATS down) before trying again.
    pub retry: Duration,
    /// This replica's name (`[central] replica`), naming its consumer.
    pub replica: Option<String>,
}

impl Default for ConsumeSettings {
    fn default() -> Self {
        ConsumeSettings {
            batch: 512,
            wait: Duration::from_secs(1),
            retry: Duration::from_secs(1),
            replica: None,
        }
    }
}

/// The durable consumer of `tenant`'s records for `replica` (each replica
/// keeps its own view); `central-<tenant>` without one, though every
/// central replica has a name, given or generated.
pub fn consumer_name(tenant: &str, replica: Option<&str>) -> String {
    match replica {
        Some(replica) => format!("central-{tenant}-{replica}"),
        None => format!("central-{tenant}"),
    }
}

/// Files `tenant`'s records from the stream into `ledger` for ever (abort
/// the task to stop it). A record is acknowledged only after the flush that
/// makes it durable; one delivered again is recognised by its key.
pub async fn consume_records(
    js: jetstream::Context,
    tenant: String,
    ledger: Ledger,
    settings: ConsumeSettings,
) {
    loop {
        if let Err(error) = consume(&js, &tenant, &ledger, &settings).await {
            tracing::warn!(%tenant, %error, "consuming records stopped; trying again");
            tokio::time::sleep(settings.retry).await;
        }
    }
}

async fn consume(
    js: &jetstream::Context,
    tenant: &str,
    ledger: &Ledger,
    settings: &ConsumeSettings,
) -> Result<(), JetStreamError> {
    let name = consumer_name(tenant, settings.replica.as_deref());
    let failed = |error: String| JetStreamError::Stream {
        what: format!("consumer {name} of stream {}", stream::STREAM),
        error,
    };
    let records = stream::ensure(js).await?;
    let consumer: jetstream::consumer::Consumer<pull::Config> = records
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: stream::tenant_subjects(tenant),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                // A killed central strands one fetch until its ack wait ends;
                // the server's default (1,000) would stall a restarted one
                // after two such crashes.
                max_ack_pending: 64 * i64::try_from(settings.batch).unwrap_or(512),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
    tracing::info!(%tenant, consumer = %name, "consuming records");
    loop {
        let mut batch = consumer
            .fetch()
            .max_messages(settings.batch)
            .expires(settings.wait)
            .messages()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let mut messages = Vec::new();
        while let Some(message) = batch.next().await {
            messages.push(message.map_err(|e| failed(e.to_string()))?);
        }
        if messages.is_empty() {
            continue;
        }
        let mut records = Vec::with_capacity(messages.len());
        let mut keep = Vec::with_capacity(messages.len());
        for message in messages {
            match decode(&message, tenant) {
                Ok(record) => {
                    records.push(record);
                    keep.push(message);
                }
                Err(Refused::Later(why)) => {
                    tracing::warn!(%tenant, subject = %message.subject, why, "record left for a later dataslo");
                    let _ = message
                        .ack_with(AckKind::Nak(Some(Duration::from_secs(60))))
                        .await;
                }
                Err(Refused::Never(why)) => {
                    tracing::error!(%tenant, subject = %message.subject, why, "record refused");
                    let _ = message.ack_with(AckKind::Term).await;
                }
            }
        }
        let writing = ledger.clone();
        tokio::task::spawn_blocking(move || {
            writing.record_consumed(&records)?;
            writing.flush()
        })
        .await
        .map_err(|e| failed(e.to_string()))??;
        for message in keep {
            // A lost acknowledgement means one more delivery, filed as a duplicate.
            let _ = message.ack().await;
        }
    }
}

/// An agent's record carries its link in the site's chain: one whose hash
/// does not recompute was changed after its agent filed it. (Central's own
/// records are chained again by the replica that files them.)
fn chain_intact(site: &str, record: &EvalRecord) -> Result<(), Refused> {
    match record.chain.as_ref().filter(|_| site != stream::CENTRAL) {
        Some(link) if !crate::ledger::chain::recomputes(record, link) => {
            Err(Refused::Never(format!(
                "SLO {:?} record {} seq {}: its chain hash does not recompute (changed after its agent filed it)",
                record.slo, record.key, link.seq
            )))
        }
        _ => Ok(()),
    }
}

pub(super) enum Refused {
    /// A format this dataslo does not read: asked for again later.
    Later(String),
    /// Never valid.
    Never(String),
}

/// The record a message carries, checked against its subject: the key must
/// be of the site the subject names. `ledger rebuild` decodes with it too.
pub(super) fn decode(message: &jetstream::Message, tenant: &str) -> Result<EvalRecord, Refused> {
    let format = message
        .headers
        .as_ref()
        .and_then(|h| h.get(stream::FORMAT_HEADER))
        .map(|v| v.as_str().to_string());
    if format.as_deref() != Some(stream::FORMAT) {
        return Err(Refused::Later(format!(
            "{} is {format:?}, not {:?}",
            stream::FORMAT_HEADER,
            stream::FORMAT
        )));
    }
    let site = stream::site_of(&message.subject, tenant)
        .ok_or_else(|| Refused::Never("not a record subject of this tenant".into()))?;
    let mut record: EvalRecord = serde_json::from_slice(&message.payload)
        .map_err(|e| Refused::Never(format!("not a record: {e}")))?;
    record.key = stream::filed_key(site, &record.key)
        .ok_or_else(|| Refused::Never(format!("key {:?} is not of site {site:?}", record.key)))?;
    chain_intact(site, &record)?;
    // An agent's sandbox refuses these; a record claiming one was not made by it.
    if let Some(e) = record.events.iter().find(|e| e.good > e.total) {
        return Err(Refused::Never(format!(
            "SLO {:?} has good {} > total {}",
            record.slo, e.good, e.total
        )));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::chain::{GENESIS, link};

    fn record() -> EvalRecord {
        serde_json::from_value(serde_json::json!({
            "slo": "s", "dataset": {"namespace": "n", "name": "d"},
            "time": "2026-12-02T00:05:00Z", "key": "edge-1.ab",
            "outcome": {"kind": "measured"}, "events": [{"good": 0, "total": 1}],
            "value": 3.0, "detail": "3 rows", "policy_sha256": "00"
        }))
        .unwrap()
    }

    #[test]
    fn an_agents_record_whose_hash_does_not_recompute_is_refused_naming_it() {
        let mut r = record();
        r.chain = Some(link(&r, 1, &GENESIS));
        assert!(chain_intact("edge-1", &r).is_ok());
        r.events[0].good = 1;
        let Err(Refused::Never(why)) = chain_intact("edge-1", &r) else {
            panic!("an edited record passes");
        };
        assert!(
            why.contains("edge-1.ab seq 1") && why.contains("does not recompute"),
            "{why}"
        );
        assert!(
            chain_intact("central", &r).is_ok(),
            "central's own are chained again"
        );
    }
}
