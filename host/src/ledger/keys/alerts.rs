//! Keys of `alerts`, `alert_log` and `outbox`.

use super::{Reader, nanos, push_i64, push_str};

/// A key of `alerts`: the SLO, then the alert's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertKey<'a> {
    /// The SLO.
    pub slo: &'a str,
    /// The alert, e.g. `page:1h/5m`.
    pub alert: &'a str,
}

impl<'a> AlertKey<'a> {
    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.slo.len() + self.alert.len() + 8);
        self.push(&mut key);
        key
    }

    fn push(&self, key: &mut Vec<u8>) {
        push_str(key, self.slo);
        push_str(key, self.alert);
    }

    /// Reads back what [`AlertKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key);
        let slo = r.str()?;
        let alert = r.str()?;
        r.end(AlertKey { slo, alert })
    }
}

/// A key of `alert_log`: the transition's time, then its alert's key, so the
/// log reads oldest first across SLOs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertLogKey<'a> {
    /// When, nanoseconds since the epoch (i64::MAX beyond).
    pub at: i64,
    /// Whose.
    pub alert: AlertKey<'a>,
}

impl<'a> AlertLogKey<'a> {
    /// The key of a transition of `alert` at `at`.
    pub fn new(at: jiff::Timestamp, alert: AlertKey<'a>) -> Self {
        AlertLogKey {
            at: nanos(at),
            alert,
        }
    }

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.alert.slo.len() + self.alert.alert.len() + 16);
        push_i64(&mut key, self.at);
        self.alert.push(&mut key);
        key
    }

    /// Reads back what [`AlertLogKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key);
        let at = r.i64()?;
        let alert = AlertKey::parse(r.0)?;
        Some(AlertLogKey { at, alert })
    }
}

/// The end (exclusive) of the transitions at or before `until`: every key
/// of such a time sorts before the next nanosecond.
pub fn alert_log_until(until: jiff::Timestamp) -> Vec<u8> {
    let mut key = Vec::with_capacity(8);
    push_i64(&mut key, nanos(until).saturating_add(1));
    key
}

/// A key of `outbox`: the entry's id (from sled's id generator), big-endian,
/// so entries are read oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxKey(pub u64);

impl OutboxKey {
    /// The key's bytes.
    pub fn encode(&self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// Reads back what [`OutboxKey::encode`] wrote.
    pub fn parse(key: &[u8]) -> Option<Self> {
        Some(OutboxKey(u64::from_be_bytes(key.try_into().ok()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: AlertKey<'static> = AlertKey {
        slo: "s",
        alert: "page:1h/5m",
    };

    #[test]
    fn an_alert_key_is_slo_then_alert_and_parses_back() {
        let bytes = PAGE.encode();
        let expected = [&[0, 0, 0, 1, b's', 0, 0, 0, 10][..], b"page:1h/5m"].concat();
        assert_eq!(bytes, expected, "the stored layout is unchanged");
        assert_eq!(AlertKey::parse(&bytes), Some(PAGE));
        assert_eq!(AlertKey::parse(&bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn an_alert_log_key_is_time_then_alert_key_and_parses_back() {
        let at: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().unwrap();
        let built = AlertLogKey::new(at, PAGE);
        let bytes = built.encode();
        assert!(bytes.ends_with(&PAGE.encode()));
        assert_eq!(AlertLogKey::parse(&bytes), Some(built));
        let later = AlertLogKey::new(at + jiff::SignedDuration::from_secs(1), PAGE);
        assert!(bytes < later.encode(), "the log sorts by time");
    }

    #[test]
    fn alert_log_until_ends_after_every_transition_of_that_nanosecond_only() {
        let at: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().unwrap();
        let end = alert_log_until(at);
        assert!(AlertLogKey::new(at, PAGE).encode() < end);
        let next = at + jiff::SignedDuration::from_nanos(1);
        let first = AlertKey { slo: "", alert: "" };
        assert!(AlertLogKey::new(next, first).encode() >= end);
    }

    #[test]
    fn an_outbox_key_is_its_id_big_endian() {
        assert_eq!(OutboxKey(258).encode(), [0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(OutboxKey::parse(&OutboxKey(7).encode()), Some(OutboxKey(7)));
        assert_eq!(OutboxKey::parse(&[1, 2, 3]), None);
    }
}
