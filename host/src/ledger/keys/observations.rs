//! Keys of `observations` and `latest`.

use super::{Reader, push_i64, push_str};
use crate::model::DatasetRef;

/// The prefix of one dataset's keys in `observations`, and its key in `latest`.
pub fn dataset(d: &DatasetRef) -> Vec<u8> {
    let mut key = Vec::with_capacity(d.namespace.len() + d.name.len() + 8);
    push_str(&mut key, &d.namespace);
    push_str(&mut key, &d.name);
    key
}

/// The end (exclusive) of `dataset`'s observations at or before `until`:
/// every key of such a time sorts before the prefix of the next nanosecond.
pub fn observations_until(d: &DatasetRef, until: jiff::Timestamp) -> Vec<u8> {
    let mut key = dataset(d);
    let nanos = until
        .as_nanosecond()
        .clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    push_i64(&mut key, nanos.saturating_add(1));
    key
}

/// A key of `observations`: the dataset, when it was observed, and the first
/// 8 bytes of the observation's digest (two observations of one instant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObservationKey<'a> {
    /// The dataset's namespace.
    pub namespace: &'a str,
    /// The dataset's name.
    pub name: &'a str,
    /// `observed_at` in nanoseconds since the epoch, clamped to i64.
    pub observed_at: i64,
    /// The head of the observation's sha256.
    pub digest: [u8; 8],
}

impl<'a> ObservationKey<'a> {
    /// The key of an observation of `dataset` at `observed_at` with `digest`.
    pub fn new(dataset: &'a DatasetRef, observed_at: jiff::Timestamp, digest: &[u8; 32]) -> Self {
        let mut head = [0; 8];
        head.copy_from_slice(&digest[..8]);
        ObservationKey {
            namespace: &dataset.namespace,
            name: &dataset.name,
            observed_at: observed_at
                .as_nanosecond()
                .clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            digest: head,
        }
    }

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.namespace.len() + self.name.len() + 24);
        push_str(&mut key, self.namespace);
        push_str(&mut key, self.name);
        push_i64(&mut key, self.observed_at);
        key.extend_from_slice(&self.digest);
        key
    }

    /// Reads back what [`ObservationKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key);
        let namespace = r.str()?;
        let name = r.str()?;
        let observed_at = r.i64()?;
        let digest = r.take(8)?.try_into().ok()?;
        r.end(ObservationKey {
            namespace,
            name,
            observed_at,
            digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orders() -> DatasetRef {
        DatasetRef {
            namespace: "pg".into(),
            name: "orders".into(),
        }
    }

    #[test]
    fn an_observation_key_is_its_dataset_prefix_then_time_then_digest_head() {
        let d = orders();
        let digest: [u8; 32] = std::array::from_fn(|i| i as u8);
        let at = jiff::Timestamp::from_nanosecond(5).unwrap();
        let key = ObservationKey::new(&d, at, &digest).encode();
        let mut expected = vec![0, 0, 0, 2, b'p', b'g', 0, 0, 0, 6];
        expected.extend_from_slice(b"orders");
        expected.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 5]);
        expected.extend_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(key, expected, "the stored layout is unchanged");
        assert!(key.starts_with(&dataset(&d)));
    }

    #[test]
    fn an_observation_key_parses_back_to_what_built_it() {
        let d = orders();
        let built = ObservationKey::new(&d, "2026-11-26T08:00:00Z".parse().unwrap(), &[9; 32]);
        let bytes = built.encode();
        assert_eq!(ObservationKey::parse(&bytes), Some(built));
        assert_eq!(ObservationKey::parse(&bytes[..bytes.len() - 1]), None);
        assert_eq!(ObservationKey::parse(&dataset(&d)), None);
    }

    #[test]
    fn observations_until_ends_after_every_observation_of_that_nanosecond_only() {
        let d = orders();
        let at: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().unwrap();
        let end = observations_until(&d, at);
        assert!(ObservationKey::new(&d, at, &[0xff; 32]).encode() < end);
        let next = at + jiff::SignedDuration::from_nanos(1);
        assert!(ObservationKey::new(&d, next, &[0; 32]).encode() >= end);
        assert!(end.starts_with(&dataset(&d)));
    }

    #[test]
    fn times_beyond_i64_nanoseconds_are_clamped() {
        let d = orders();
        let key = ObservationKey::new(&d, jiff::Timestamp::MIN, &[0; 32]);
        assert_eq!(key.observed_at, i64::MIN);
        let key = ObservationKey::new(&d, jiff::Timestamp::MAX, &[0; 32]);
        assert_eq!(key.observed_at, i64::MAX);
    }
}
