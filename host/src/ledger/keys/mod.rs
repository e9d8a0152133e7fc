//! Every key of the ledger, built and parsed here and nowhere else: this is the
//! stored layout that [`super::layout`] versions. Other ledger files call the
//! typed builders and parsers below and never slice a key by offset.
//!
//! Big-endian, sign-flipped times, so sled's byte order is time order; names
//! length-prefixed (u32), so no name can forge another's prefix.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | default tree (db-wide) | [`LAYOUT_VERSION`] | [`layout_version`]: u32 |
//! | `t/{tenant}/observations` | [`ObservationKey`]: dataset, observed_at, digest\[..8\] | observation |
//! | `t/{tenant}/latest` | [`dataset`] | the newest [`ObservationKey`] |
//! | `t/{tenant}/evaluations` | [`RecordKey`]: SLO, time, idempotency key | record |
//! | `t/{tenant}/buckets` | [`BucketKey`]: SLO, level, index | binary bucket |
//! | `t/{tenant}/alerts` | [`AlertKey`]: SLO, alert | alert state |
//! | `t/{tenant}/alert_log` | [`AlertLogKey`]: time, SLO, alert | transition |
//! | `t/{tenant}/outbox` | [`OutboxKey`]: sled-generated id | outbox entry |
//! | `t/{tenant}/meta` | [`SLO_SOURCES`], [`UPLOADED_SLOS`] | SLO texts |
//! | `t/{tenant}/meta` | [`INGEST_NEXT`], [`INGEST_CURSOR`] | [`sequence`]: u64 (layout 2) |
//! | `t/{tenant}/ingest` | [`IngestKey`]: the first sequence number it covers | `{"stored": [hex, …]}`: the [`ObservationKey`]s of one append's new observations, up to the next entry's number; in layouts 2 and 3, one observation itself (both read) |
//! | `t/{tenant}/meta` | [`SeriesKey`]: SLO | how an SLO's objectives count |
//! | `t/{tenant}/meta` | [`FEED_NEXT`], [`PUBLISH_CURSOR`] | [`sequence`]: u64 (agents only) |
//! | `t/{tenant}/feed` | [`FeedKey`]: sequence number | [`RecordKey`] of a record to publish (agents only) |
//! | `t/{tenant}/policies` | [`PolicyKey`]: policy name | policy entry |
//! | `t/{tenant}/meta` | [`SYNCED_SET`] | the SLO set synced from central (agents only) |
//! | `t/{tenant}/meta` | [`AgentKey`]: site | an agent's last heartbeat (central only) |
//! | `t/{tenant}/meta` | [`JudgedKey`]: SLO | the minute its alerts were last judged at |
//! | `t/{tenant}/meta` | [`LateKey`]: SLO | the minutes filed behind it since ([`LateMark`](super::LateMark)) |
//! | `t/{tenant}/meta` | [`LateEpisodeKey`]: SLO, alert | the spans of minutes late records made it fire for |
//! | `t/{tenant}/meta` | [`PinKey`]: SLO | the OCI policies it was armed with ([`PolicyPin`](super::PolicyPin)s) |
//! | `t/{tenant}/chains` | [`ChainKey`]: SLO, site, sequence | one link's entry: 0 then the record's [`RecordKey`], or 1 then the pruned record's prev and hash (layout 3); or a run of links from that sequence on: 2, then per link its entry's length (u32) and entry (layout 5, see `chain_index`) |
//! | `t/{tenant}/meta` | [`ChainMetaKey`]: head or anchor, SLO, site | the chain's last link, or the last link retention removed (layout 3) |
//!
//! Values other than buckets and the layout version are a CRC-32 and JSON
//! (`codec`). Depends on [`crate::model`] and the bucket [`Level`](super::Level).

mod alerts;
mod chains;
mod evaluations;
mod late;
mod observations;

pub use alerts::{AlertKey, AlertLogKey, OutboxKey, alert_log_until};
pub use chains::{
    CHAIN_PROBLEM_PREFIX, ChainKey, ChainMetaKey, REFUSED_PREFIX, chain, chain_problem,
    parse_chain_problem, refused_record,
};
pub use evaluations::{BucketKey, RecordKey, records_until, slo};
pub use late::{JudgedKey, LateEpisodeKey, LateKey};
pub use observations::{ObservationKey, dataset, observations_until};

/// The db-wide key, in sled's default tree, of the ledger's layout version.
/// Absent in ledgers written before it existed (layout 1).
pub const LAYOUT_VERSION: &[u8] = b"dataslo/layout_version";

/// The stored form of a layout version: u32, big-endian.
pub fn layout_version(version: u32) -> [u8; 4] {
    version.to_be_bytes()
}

/// Reads back what [`layout_version`] wrote.
pub fn parse_layout_version(value: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(value.try_into().ok()?))
}

/// Every tree a tenant has.
pub const TENANT_TREES: [&str; 12] = [
    "ingest",
    "feed",
    "observations",
    "latest",
    "evaluations",
    "buckets",
    "alerts",
    "alert_log",
    "outbox",
    "meta",
    "policies",
    "chains",
];

/// The sled name of `tenant`'s tree `tree` (one of [`TENANT_TREES`]).
pub fn tenant_tree(tenant: &str, tree: &str) -> String {
    format!("t/{tenant}/{tree}")
}

/// Reads back (tenant, tree) from what [`tenant_tree`] wrote; `None` for
/// sled's own trees.
pub fn parse_tenant_tree(name: &[u8]) -> Option<(&str, &str)> {
    let rest = std::str::from_utf8(name).ok()?.strip_prefix("t/")?;
    rest.rsplit_once('/')
}

/// In `meta`: the SLO files a process ran with.
pub const SLO_SOURCES: &[u8] = b"slo_sources";

/// In `meta`: the tenant's uploaded OpenSLO text.
pub const UPLOADED_SLOS: &[u8] = b"uploaded_slos";

/// In `meta`: the SLO set an agent last synced from central, as published.
pub const SYNCED_SET: &[u8] = b"synced_set";

/// In `meta`: the last heartbeat of an agent's site, as central keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentKey<'a>(pub &'a str);

impl<'a> AgentKey<'a> {
    /// What every key of it starts with.
    pub const PREFIX: &'static [u8] = b"agent/";

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Self::PREFIX.to_vec();
        push_str(&mut key, self.0);
        key
    }

    /// Reads back what [`AgentKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key.strip_prefix(Self::PREFIX)?);
        let site = r.str()?;
        r.end(AgentKey(site))
    }
}

/// In `meta`: the `oci://` policies an SLO was armed with, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinKey<'a>(pub &'a str);

impl PinKey<'_> {
    const PREFIX: &'static [u8] = b"policy_pins/";

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Self::PREFIX.to_vec();
        push_str(&mut key, self.0);
        key
    }
}

/// In `meta`: the sequence number the next appended observation gets.
pub const INGEST_NEXT: &[u8] = b"ingest_next";

/// In `meta`: the sequence number of the last observation evaluated; it
/// moves in the transaction of the records it produced.
pub const INGEST_CURSOR: &[u8] = b"ingest_cursor";

/// The stored form of a sequence number (a key of `ingest`, and the values
/// of [`INGEST_NEXT`] and [`INGEST_CURSOR`]): u64, big-endian, so sled's order
/// is arrival order.
pub fn sequence(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Reads back what [`sequence`] wrote.
pub fn parse_sequence(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// In `meta`: the sequence number the next record of the feed gets. Absent
/// until an agent first opens the ledger: only agents keep a feed.
pub const FEED_NEXT: &[u8] = b"feed_next";

/// In `meta`: the last sequence of the feed that the stream acknowledged.
pub const PUBLISH_CURSOR: &[u8] = b"publish_cursor";

/// A key of `feed`: the record's place in the order its records were made,
/// from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedKey(pub u64);

impl FeedKey {
    /// The key's bytes.
    pub fn encode(&self) -> [u8; 8] {
        sequence(self.0)
    }

    /// Reads back what [`FeedKey::encode`] wrote.
    pub fn parse(key: &[u8]) -> Option<Self> {
        parse_sequence(key).map(FeedKey)
    }
}

/// A key of `ingest`: the first sequence number its entry covers, from 1 (an
/// entry of layout 2 or 3 covers one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IngestKey(pub u64);

impl IngestKey {
    /// The key's bytes.
    pub fn encode(&self) -> [u8; 8] {
        sequence(self.0)
    }

    /// Reads back what [`IngestKey::encode`] wrote.
    pub fn parse(key: &[u8]) -> Option<Self> {
        parse_sequence(key).map(IngestKey)
    }
}

/// A key of `meta`: `series`, then the SLO's name, length-prefixed. Its
/// value says how the SLO's records count for its objectives, in the order
/// its buckets hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesKey<'a>(pub &'a str);

impl<'a> SeriesKey<'a> {
    const PREFIX: &'static [u8] = b"series/";

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Self::PREFIX.to_vec();
        push_str(&mut key, self.0);
        key
    }

    /// Reads back what [`SeriesKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key.strip_prefix(Self::PREFIX)?);
        let slo = r.str()?;
        r.end(SeriesKey(slo))
    }
}

/// A key of `policies`: the policy's name, as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyKey<'a>(pub &'a str);

impl<'a> PolicyKey<'a> {
    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }

    /// Reads back what [`PolicyKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        std::str::from_utf8(key).ok().map(PolicyKey)
    }
}

/// Appends `text` with a u32 big-endian length prefix.
fn push_str(key: &mut Vec<u8>, text: &str) {
    key.extend_from_slice(&(text.len() as u32).to_be_bytes());
    key.extend_from_slice(text.as_bytes());
}

/// An i64 as 8 bytes that sort like the number.
fn push_i64(key: &mut Vec<u8>, value: i64) {
    key.extend_from_slice(&((value as u64) ^ (1 << 63)).to_be_bytes());
}

/// Nanoseconds since the epoch, as evaluation and alert keys store them: a
/// time beyond i64 nanoseconds (before 1677 or after 2262) becomes i64::MAX.
fn nanos(t: jiff::Timestamp) -> i64 {
    i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX)
}

/// Reads a key front to back; every method is `None` past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn str(&mut self) -> Option<&'a str> {
        let len = u32::from_be_bytes(self.take(4)?.try_into().ok()?);
        std::str::from_utf8(self.take(usize::try_from(len).ok()?)?).ok()
    }

    fn i64(&mut self) -> Option<i64> {
        let raw: [u8; 8] = self.take(8)?.try_into().ok()?;
        Some((u64::from_be_bytes(raw) ^ (1 << 63)) as i64)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// The rest, as text.
    fn rest_str(self) -> Option<&'a str> {
        std::str::from_utf8(self.0).ok()
    }

    /// `value` if nothing is left.
    fn end<T>(self, value: T) -> Option<T> {
        self.0.is_empty().then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: i64) -> Vec<u8> {
        let mut k = Vec::new();
        push_i64(&mut k, v);
        k
    }

    #[test]
    fn times_sort_as_numbers_across_zero() {
        assert!(enc(-5) < enc(0) && enc(0) < enc(7) && enc(i64::MIN) < enc(i64::MAX));
        assert_eq!(Reader(&enc(-42)).i64(), Some(-42));
    }

    #[test]
    fn a_name_cannot_forge_another_prefix() {
        assert!(!slo("ab").starts_with(&slo("a")));
    }

    #[test]
    fn a_truncated_name_does_not_parse() {
        let mut key = Vec::new();
        push_str(&mut key, "orders");
        assert_eq!(Reader(&key).str(), Some("orders"));
        assert_eq!(Reader(&key[..key.len() - 1]).str(), None);
        assert_eq!(Reader(&key[..2]).str(), None);
    }

    #[test]
    fn the_layout_version_round_trips_and_rejects_other_lengths() {
        assert_eq!(parse_layout_version(&layout_version(7)), Some(7));
        assert_eq!(layout_version(1), [0, 0, 0, 1]);
        assert_eq!(parse_layout_version(b"\x01"), None);
    }

    #[test]
    fn tenant_trees_round_trip_and_sled_trees_are_not_tenants() {
        let name = tenant_tree("acme/eu", "buckets");
        assert_eq!(name, "t/acme/eu/buckets");
        assert_eq!(
            parse_tenant_tree(name.as_bytes()),
            Some(("acme/eu", "buckets"))
        );
        assert_eq!(parse_tenant_tree(b"__sled__default"), None);
    }

    #[test]
    fn a_series_key_is_its_prefix_then_the_slo_and_parses_back() {
        let key = SeriesKey("s").encode();
        assert_eq!(key, b"series/\0\0\0\x01s");
        assert_eq!(SeriesKey::parse(&key), Some(SeriesKey("s")));
        assert_eq!(SeriesKey::parse(SLO_SOURCES), None);
        assert_eq!(SeriesKey::parse(&key[..key.len() - 1]), None);
    }

    #[test]
    fn policy_and_meta_keys_are_the_bytes_of_their_names() {
        assert_eq!(PolicyKey("p-1").encode(), b"p-1");
        assert_eq!(PolicyKey::parse(b"p-1"), Some(PolicyKey("p-1")));
        assert_eq!(SLO_SOURCES, b"slo_sources");
        assert_eq!(INGEST_NEXT, b"ingest_next");
        assert_eq!(INGEST_CURSOR, b"ingest_cursor");
        assert_eq!(IngestKey(258).encode(), [0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(IngestKey::parse(&IngestKey(7).encode()), Some(IngestKey(7)));
        assert_eq!(IngestKey::parse(&[1, 2, 3]), None);
        assert_eq!(UPLOADED_SLOS, b"uploaded_slos");
        assert_eq!(SYNCED_SET, b"synced_set");
    }

    #[test]
    fn an_agent_key_is_its_prefix_then_the_site_and_parses_back() {
        let key = AgentKey("plant-7").encode();
        assert_eq!(key, b"agent/\0\0\0\x07plant-7");
        assert_eq!(AgentKey::parse(&key), Some(AgentKey("plant-7")));
        assert_eq!(AgentKey::parse(SYNCED_SET), None);
    }
}
