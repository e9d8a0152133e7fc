//! Central's consumer: one durable pull consumer per tenant and replica,
//! each record written into the tenant's ledger (idempotent by key, outside
//! its feed), flushed, then acknowledged. Every site's records are filed,
//! `central`'s too: each replica's ledger is a whole view of the stream.
//!
//! An agent's record must carry its link in its site's chain, and the link
//! must recompute. One that does not (and any record that is never valid) is
//! refused: kept beside the ledger with why ([`Ledger::refused_records`]),
//! counted (`dataslo_chain_problems_total`), logged with its SLO, key and
//! site, and then terminated on the stream. It is never filed into a chain.

use super::{JetStreamError, stream};
use crate::ledger::{ChainProblem, EvalRecord, Ledger, RawPayload, RefusedRecord};
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
        let mut refused = Vec::new();
        let mut terminate = Vec::new();
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
                Err(Refused::Never { why, problem }) => {
                    let kept = refusal(&message, tenant, why, problem)
                        .map_err(|e| failed(e.to_string()))?;
                    tracing::error!(
                        %tenant,
                        site = %kept.site,
                        slo = kept.slo.as_deref().unwrap_or("?"),
                        key = kept.key.as_deref().unwrap_or("?"),
                        problem = kept.problem.map_or("invalid", ChainProblem::as_str),
                        why = %kept.reason,
                        stream_sequence = kept.stream_sequence,
                        "record refused; kept outside the ledger (`ledger verify` lists it)"
                    );
                    refused.push(kept);
                    terminate.push(message);
                }
            }
        }
        let writing = ledger.clone();
        tokio::task::spawn_blocking(move || {
            writing.record_consumed(&records)?;
            writing.keep_refused(&refused)?;
            writing.flush()
        })
        .await
        .map_err(|e| failed(e.to_string()))??;
        for message in keep {
            // A lost acknowledgement means one more delivery, filed as a duplicate.
            let _ = message.ack().await;
        }
        // Kept durably above: the stream need not deliver them again.
        for message in terminate {
            let _ = message.ack_with(AckKind::Term).await;
        }
    }
}

/// An agent's record carries its link in the site's chain: one without a
/// link, or whose hash does not recompute (changed after its agent filed
/// it), is refused. (Central's own records are chained again by the
/// replica that files them.)
fn chain_intact(site: &str, record: &EvalRecord) -> Result<(), Refused> {
    if site == stream::CENTRAL {
        return Ok(());
    }
    match record.chain.as_ref() {
        None => Err(Refused::Never {
            why: format!(
                "SLO {:?} record {} of site {site:?} carries no chain link",
                record.slo, record.key
            ),
            problem: Some(ChainProblem::Unchained),
        }),
        Some(link) if !crate::ledger::chain::recomputes(record, link) => Err(Refused::Never {
            why: format!(
                "SLO {:?} record {} seq {}: its chain hash does not recompute (changed after its agent filed it)",
                record.slo, record.key, link.seq
            ),
            problem: Some(ChainProblem::BrokenHash),
        }),
        Some(_) => Ok(()),
    }
}

pub(super) enum Refused {
    /// A format this dataslo does not read: asked for again later.
    Later(String),
    /// Never valid: kept outside the ledger, with the chain problem it has.
    Never {
        /// Why.
        why: String,
        /// The chain problem, when that is why.
        problem: Option<ChainProblem>,
    },
}

impl Refused {
    fn never(why: String) -> Self {
        Refused::Never { why, problem: None }
    }
}

/// What is kept of a message refused for ever: where it came from, why, and
/// its payload whole.
pub(super) fn refusal(
    message: &jetstream::Message,
    tenant: &str,
    why: String,
    problem: Option<ChainProblem>,
) -> Result<RefusedRecord, async_nats::Error> {
    let stream_sequence = message.info()?.stream_sequence;
    let named: serde_json::Value = serde_json::from_slice(&message.payload).unwrap_or_default();
    let text = |field: &str| {
        named
            .get(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    Ok(RefusedRecord {
        stream_sequence,
        subject: message.subject.to_string(),
        site: stream::site_of(&message.subject, tenant)
            .unwrap_or_default()
            .to_string(),
        slo: text("slo"),
        key: text("key"),
        problem,
        reason: why,
        refused_at: jiff::Timestamp::now(),
        payload: RawPayload::of(&message.payload),
    })
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
        .ok_or_else(|| Refused::never("not a record subject of this tenant".into()))?;
    let mut record: EvalRecord = serde_json::from_slice(&message.payload)
        .map_err(|e| Refused::never(format!("not a record: {e}")))?;
    record.key = stream::filed_key(site, &record.key)
        .ok_or_else(|| Refused::never(format!("key {:?} is not of site {site:?}", record.key)))?;
    chain_intact(site, &record)?;
    // An agent's sandbox refuses these; a record claiming one was not made by it.
    if let Some(e) = record.events.iter().find(|e| e.good > e.total) {
        return Err(Refused::never(format!(
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
        let Err(Refused::Never { why, problem }) = chain_intact("edge-1", &r) else {
            panic!("an edited record passes");
        };
        assert!(
            why.contains("edge-1.ab seq 1") && why.contains("does not recompute"),
            "{why}"
        );
        assert_eq!(problem, Some(ChainProblem::BrokenHash));
        assert!(
            chain_intact("central", &r).is_ok(),
            "central's own are chained again"
        );
    }

    #[test]
    fn an_agents_record_without_a_chain_is_refused_and_centrals_own_is_not() {
        let r = record();
        let Err(Refused::Never { why, problem }) = chain_intact("edge-1", &r) else {
            panic!("an unchained record passes");
        };
        assert_eq!(problem, Some(ChainProblem::Unchained));
        assert!(
            why.contains("edge-1.ab") && why.contains("no chain"),
            "{why}"
        );
        assert!(chain_intact("central", &r).is_ok());
    }
}
