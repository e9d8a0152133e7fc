//! The stream of evaluation records: its name, subjects and headers.
//!
//! A record of tenant `t` made at site `s` is published to
//! `dataslo.t.records.s` (`central` for central's own records), as the JSON
//! of the ledger's record, with `Nats-Msg-Id` = `<site>.<key>` and
//! `Dataslo-Format` = [`FORMAT`].

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

/// The record's idempotency key on the bus: its site, then its key in the
/// ledger, so that agents of one tenant never collide.
pub fn message_id(site: &str, key: &str) -> String {
    format!("{site}.{key}")
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
}
