//! The stream of evaluation records: its name, subjects and headers.
//!
//! A record of tenant `t` made at site `s` is published to
//! `dataslo.t.records.s` (`central` for central's own records), as the JSON
//! of the ledger's record with its key as `<site>.<key>`, `Nats-Msg-Id` =
//! [`message_id`] and `Dataslo-Format` = [`FORMAT`].

use super::JetStreamError;
use async_nats::jetstream::{self, stream};

/// The stream every record goes through.
pub const STREAM: &str = "DATASLO_RECORDS";

/// The subjects it holds: every tenant, every site.
pub const SUBJECTS: &str = "dataslo.*.records.*";

/// The header naming the payload's format.
pub const FORMAT_HEADER: &str = "Dataslo-Format";

/// The payload's format: version 1 is the JSON of `ledger::EvalRecord`.
pub const FORMAT: &str = "1";

/// The subject of `tenant`'s records made at `site`.
pub fn subject(tenant: &str, site: &str) -> String {
    format!("dataslo.{tenant}.records.{site}")
}

/// Every subject of `tenant`'s records.
pub fn tenant_subjects(tenant: &str) -> String {
    format!("dataslo.{tenant}.records.*")
}

/// The site a subject names, if it is one of `tenant`'s record subjects.
pub fn site_of<'a>(subject: &'a str, tenant: &str) -> Option<&'a str> {
    let rest = subject.strip_prefix("dataslo.")?.strip_prefix(tenant)?;
    let site = rest.strip_prefix(".records.")?;
    (!site.is_empty() && !site.contains('.')).then_some(site)
}

/// The key a record made at `site` travels under: `<site>.<key>`, so that
/// agents of one tenant never collide.
pub fn wire_key(site: &str, key: &str) -> String {
    format!("{site}.{key}")
}

/// The record's idempotency key on the bus (`Nats-Msg-Id`): its site, then
/// the sha256 of its SLO, time and key, the triple that names it in a
/// ledger. A tick's key (`tick-<ns>`) is the same for every SLO ticking at
/// that instant, so the key alone would make the stream drop all but one.
pub fn message_id(site: &str, record: &crate::ledger::EvalRecord) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [
        record.slo.as_bytes(),
        record.time.as_nanosecond().to_string().as_bytes(),
        record.key.as_bytes(),
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    format!("{site}.{}", hex::encode(hash.finalize()))
}

/// The site of central's own records, whichever replica made them.
pub const CENTRAL: &str = "central";

/// The key a record from `site` with `wire_key` (its `Nats-Msg-Id`) is
/// filed under; `None` when the key is not of that site. Central's records
/// lose the prefix: the replica that made one then recognises it in its
/// ledger, and two replicas that made the same record (one observation, one
/// tick) file one. Agents' records keep `<site>.<key>`, so sites never collide.
pub fn filed_key(site: &str, wire_key: &str) -> Option<String> {
    let key = wire_key.strip_prefix(site)?.strip_prefix('.')?;
    if key.is_empty() {
        return None;
    }
    Some(match site {
        CENTRAL => key.to_string(),
        _ => wire_key.to_string(),
    })
}

/// The stream, created with limits retention and the server's dedupe window
/// (2 minutes) if it is not there.
pub async fn ensure(js: &jetstream::Context) -> Result<stream::Stream, JetStreamError> {
    js.get_or_create_stream(stream::Config {
        name: STREAM.into(),
        subjects: vec![SUBJECTS.into()],
        retention: stream::RetentionPolicy::Limits,
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| JetStreamError::Stream {
        what: format!("stream {STREAM}"),
        error: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_names_its_tenant_and_site() {
        let s = subject("acme", "plant-7");
        assert_eq!(s, "dataslo.acme.records.plant-7");
        assert_eq!(site_of(&s, "acme"), Some("plant-7"));
        assert_eq!(site_of(&s, "acm"), None);
        assert_eq!(site_of("dataslo.acme.records.a.b", "acme"), None);
        assert_eq!(site_of("dataslo.acme.records.", "acme"), None);
    }

    #[test]
    fn central_records_are_filed_under_their_own_key_and_agents_under_their_site() {
        let wire = wire_key(CENTRAL, "tick-60000000000");
        assert_eq!(wire, "central.tick-60000000000");
        assert_eq!(
            filed_key(CENTRAL, &wire).as_deref(),
            Some("tick-60000000000")
        );
        assert_eq!(
            filed_key("plant-7", "plant-7.ab12").as_deref(),
            Some("plant-7.ab12")
        );
        // A key of another site, or none, is refused.
        assert_eq!(filed_key("plant-7", "plant-8.ab12"), None);
        assert_eq!(filed_key("plant-7", "plant-7ab12"), None);
        assert_eq!(filed_key(CENTRAL, "central."), None);
        assert_eq!(filed_key(CENTRAL, "plant-7.ab12"), None);
    }

    #[test]
    fn two_slos_ticking_at_one_instant_have_two_message_ids() {
        let record = |slo: &str| -> crate::ledger::EvalRecord {
            serde_json::from_value(serde_json::json!({
                "slo": slo, "dataset": {"namespace": "n", "name": "d"},
                "time": "2026-12-02T00:05:00Z", "key": "tick-1764633900000000000",
                "outcome": {"kind": "measured"}, "events": [], "value": null, "detail": "",
                "policy_sha256": ""
            }))
            .unwrap()
        };
        let (a, b) = (record("freshness"), record("volume"));
        assert_ne!(message_id("plant-7", &a), message_id("plant-7", &b));
        assert_eq!(message_id("plant-7", &a), message_id("plant-7", &a.clone()));
        assert!(message_id("plant-7", &a).starts_with("plant-7."));
        assert_ne!(message_id("plant-7", &a), message_id("plant-8", &a));
    }
}
