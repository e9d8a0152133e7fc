//! Keys of `evaluations` and `buckets`, both ordered by SLO first.

use super::super::buckets::Level;
use super::{Reader, nanos, push_i64, push_str};

/// The prefix of one SLO's keys in `evaluations`, `buckets` and `alerts`.
pub fn slo(name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() + 4);
    push_str(&mut key, name);
    key
}

/// A key of `evaluations`: SLO, then time, then the idempotency key, so one
/// SLO's records are contiguous and in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordKey<'a> {
    /// The SLO.
    pub slo: &'a str,
    /// The evaluation's time, nanoseconds since the epoch (i64::MAX beyond).
    pub time: i64,
    /// The idempotency key (hex).
    pub key: &'a str,
}

impl<'a> RecordKey<'a> {
    /// The key of `slo`'s record at `time` with idempotency key `key`.
    pub fn new(slo: &'a str, time: jiff::Timestamp, key: &'a str) -> Self {
        RecordKey {
            slo,
            time: nanos(time),
            key,
        }
    }

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.slo.len() + self.key.len() + 12);
        push_str(&mut key, self.slo);
        push_i64(&mut key, self.time);
        key.extend_from_slice(self.key.as_bytes());
        key
    }

    /// Reads back what [`RecordKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key);
        let slo = r.str()?;
        let time = r.i64()?;
        let key = r.rest_str()?;
        Some(RecordKey { slo, time, key })
    }
}

/// The end (exclusive) of `slo`'s records at or before `until`: every key of
/// such a time sorts before the prefix of the next nanosecond.
pub fn records_until(slo_name: &str, until: jiff::Timestamp) -> Vec<u8> {
    let mut key = slo(slo_name);
    push_i64(&mut key, nanos(until).saturating_add(1));
    key
}

/// A key of `buckets`: SLO, level byte, then the bucket's index at that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketKey<'a> {
    /// The SLO.
    pub slo: &'a str,
    /// Minute, hour or day.
    pub level: Level,
    /// Minutes, hours or days since the epoch.
    pub index: i64,
}

impl<'a> BucketKey<'a> {
    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.slo.len() + 13);
        push_str(&mut key, self.slo);
        key.push(self.level as u8);
        push_i64(&mut key, self.index);
        key
    }

    /// Reads back what [`BucketKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key);
        let slo = r.str()?;
        let level = match r.u8()? {
            0 => Level::Minute,
            1 => Level::Hour,
            2 => Level::Day,
            _ => return None,
        };
        let index = r.i64()?;
        r.end(BucketKey { slo, level, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_key_is_slo_then_time_then_idempotency_key() {
        let at = jiff::Timestamp::from_nanosecond(-1).unwrap();
        let key = RecordKey::new("s", at, "ab").encode();
        let expected = [
            &[0, 0, 0, 1, b's'][..],
            &[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            b"ab",
        ]
        .concat();
        assert_eq!(key, expected, "the stored layout is unchanged");
    }

    #[test]
    fn a_record_key_parses_back_to_what_built_it() {
        let built = RecordKey::new(
            "orders-volume",
            "2026-11-26T08:00:00Z".parse().unwrap(),
            "0f",
        );
        let bytes = built.encode();
        assert_eq!(RecordKey::parse(&bytes), Some(built));
        let no_key = RecordKey::new("s", jiff::Timestamp::UNIX_EPOCH, "");
        assert_eq!(RecordKey::parse(&no_key.encode()), Some(no_key));
        assert_eq!(RecordKey::parse(&slo("s")), None, "a prefix is not a key");
    }

    #[test]
    fn records_until_ends_after_every_record_of_that_nanosecond_only() {
        let at: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().unwrap();
        let end = records_until("s", at);
        assert!(RecordKey::new("s", at, "ffff").encode() < end);
        let next = at + jiff::SignedDuration::from_nanos(1);
        assert!(RecordKey::new("s", next, "").encode() >= end);
    }

    #[test]
    fn a_bucket_key_is_slo_then_level_then_index() {
        let key = BucketKey {
            slo: "s",
            level: Level::Hour,
            index: 2,
        }
        .encode();
        let expected = [&[0, 0, 0, 1, b's', 1][..], &[0x80, 0, 0, 0, 0, 0, 0, 2]].concat();
        assert_eq!(key, expected, "the stored layout is unchanged");
    }

    #[test]
    fn a_bucket_key_parses_back_to_what_built_it_at_every_level() {
        for level in Level::ALL {
            let built = BucketKey {
                slo: "orders",
                level,
                index: -29_000_000,
            };
            assert_eq!(BucketKey::parse(&built.encode()), Some(built));
        }
        let mut bad_level = BucketKey {
            slo: "s",
            level: Level::Day,
            index: 0,
        }
        .encode();
        bad_level[5] = 3;
        assert_eq!(BucketKey::parse(&bad_level), None);
        let mut long = slo("s");
        long.extend_from_slice(&[0; 10]);
        assert_eq!(BucketKey::parse(&long), None, "one byte too many");
    }
}
