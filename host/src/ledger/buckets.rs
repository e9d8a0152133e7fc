//! Bucket aggregates at three levels — minute, hour and day — written in the
//! same transaction as their record. A sum over any minute range reads the
//! minutes at its ragged edges, whole hours, then whole days, so a 30-day
//! window costs about a hundred reads, not 43,200.
//!
//! Values are fixed binary with a CRC-32: they are read on every query.

use super::evaluations::{EvalRecord, Events, Outcome};
use super::{Ledger, LedgerError, keys};
use serde::{Deserialize, Serialize};

/// One SLO's aggregate over one minute, hour or day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Per objective, summed events.
    pub events: Vec<Events>,
    /// Evaluations that measured.
    pub evaluations: u64,
    /// Evaluations that failed.
    pub errors: u64,
}

impl Bucket {
    /// Adds one record's contribution, with the events it recorded. Sums
    /// saturate at `u64::MAX`, never wrap; returns whether one did.
    pub fn add(&mut self, record: &EvalRecord) -> bool {
        self.add_counted(record, &record.events)
    }

    /// Adds one record's contribution, with `events` as what it counts for
    /// its SLO's objectives (see [`super::Series`]). Sums saturate; returns
    /// whether one did.
    pub fn add_counted(&mut self, record: &EvalRecord, events: &[Events]) -> bool {
        let count = match record.outcome {
            Outcome::Measured => &mut self.evaluations,
            Outcome::Error { .. } => &mut self.errors,
        };
        saturating_add(count, 1) | self.merge_events(events)
    }

    /// Adds another bucket. Sums saturate; returns whether one did.
    pub fn merge(&mut self, other: &Bucket) -> bool {
        saturating_add(&mut self.evaluations, other.evaluations)
            | saturating_add(&mut self.errors, other.errors)
            | self.merge_events(&other.events)
    }

    fn merge_events(&mut self, events: &[Events]) -> bool {
        if self.events.len() < events.len() {
            self.events.resize(events.len(), Events::default());
        }
        let mut saturated = false;
        for (sum, e) in self.events.iter_mut().zip(events) {
            saturated |= saturating_add(&mut sum.good, e.good);
            saturated |= saturating_add(&mut sum.total, e.total);
        }
        saturated
    }

    /// Its stored bytes: fixed binary behind a CRC-32.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(18 + 16 * self.events.len());
        body.extend_from_slice(&self.evaluations.to_be_bytes());
        body.extend_from_slice(&self.errors.to_be_bytes());
        body.extend_from_slice(&(self.events.len() as u16).to_be_bytes());
        for e in &self.events {
            body.extend_from_slice(&e.good.to_be_bytes());
            body.extend_from_slice(&e.total.to_be_bytes());
        }
        let mut out = crc32fast::hash(&body).to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out
    }

    pub(super) fn decode(key: &[u8], bytes: &[u8]) -> Result<Bucket, LedgerError> {
        let corrupt = |reason: &str| LedgerError::Corrupt {
            tree: "buckets".into(),
            key: hex::encode(key),
            reason: reason.into(),
        };
        let (sum, body) = bytes
            .split_at_checked(4)
            .ok_or_else(|| corrupt("shorter than its checksum"))?;
        if crc32fast::hash(body).to_be_bytes() != sum {
            return Err(corrupt("checksum mismatch"));
        }
        let u64_at = |at: usize| {
            body.get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
        };
        let n = body
            .get(16..18)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
            .ok_or_else(|| corrupt("truncated"))?;
        if body.len() != 18 + 16 * n {
            return Err(corrupt("wrong length"));
        }
        let events = (0..n)
            .map(|i| Events {
                good: u64_at(18 + 16 * i).unwrap_or(0),
                total: u64_at(26 + 16 * i).unwrap_or(0),
            })
            .collect();
        Ok(Bucket {
            events,
            evaluations: u64_at(0).unwrap_or(0),
            errors: u64_at(8).unwrap_or(0),
        })
    }
}

/// `*sum += add`, stopping at `u64::MAX`; whether it had to stop. Two
/// records each valid can overflow a sum (u64::MAX of u64::MAX, then 0 of 2):
/// wrapped, it would read as good > total.
fn saturating_add(sum: &mut u64, add: u64) -> bool {
    match sum.checked_add(add) {
        Some(v) => {
            *sum = v;
            false
        }
        None => {
            *sum = u64::MAX;
            true
        }
    }
}

/// Bucket granularity. The discriminant is the level's byte in bucket keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// One minute.
    Minute = 0,
    /// Sixty minutes, aligned to the epoch.
    Hour = 1,
    /// 1,440 minutes, aligned to the epoch (UTC days).
    Day = 2,
}

impl Level {
    /// Minutes per bucket.
    pub fn minutes(self) -> i64 {
        match self {
            Level::Minute => 1,
            Level::Hour => 60,
            Level::Day => 1440,
        }
    }

    /// Every level.
    pub const ALL: [Level; 3] = [Level::Minute, Level::Hour, Level::Day];
}

/// The bucket index of `minute` at `level`.
pub fn index_of(minute: i64, level: Level) -> i64 {
    minute.div_euclid(level.minutes())
}

/// Splits minutes `from..=to` into ranges of whole buckets: (level, first index, last index).
pub fn decompose(from: i64, to: i64) -> Vec<(Level, i64, i64)> {
    let mut parts = Vec::new();
    split(from, to + 1, Level::Day, &mut parts);
    parts
}

/// Covers the half-open minute range `[a, b)` with buckets no coarser than `level`.
fn split(a: i64, b: i64, level: Level, parts: &mut Vec<(Level, i64, i64)>) {
    if a >= b {
        return;
    }
    if level == Level::Minute {
        parts.push((Level::Minute, a, b - 1));
        return;
    }
    let size = level.minutes();
    let first = a.div_euclid(size) + i64::from(a.rem_euclid(size) != 0);
    let last = b.div_euclid(size); // exclusive
    let finer = if level == Level::Day {
        Level::Hour
    } else {
        Level::Minute
    };
    if first >= last {
        split(a, b, finer, parts);
        return;
    }
    split(a, first * size, finer, parts);
    parts.push((level, first, last - 1));
    split(last * size, b, finer, parts);
}

impl Ledger {
    /// The minute buckets of `slo` for minutes `from..=to`, in order.
    pub fn buckets(
        &self,
        slo: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, Bucket)>, LedgerError> {
        self.level_buckets(slo, Level::Minute, from, to)
    }

    /// The buckets of `slo` at `level` with indexes `from..=to`, in order.
    pub fn level_buckets(
        &self,
        slo: &str,
        level: Level,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, Bucket)>, LedgerError> {
        let mut out = Vec::new();
        if from > to {
            return Ok(out);
        }
        let key = |index| keys::BucketKey { slo, level, index }.encode();
        for item in self.buckets.range(key(from)..=key(to)) {
            let (key, bytes) = item?;
            let index = keys::BucketKey::parse(&key)
                .ok_or_else(|| LedgerError::bad_key("buckets", &key))?
                .index;
            out.push((index, Bucket::decode(&key, &bytes)?));
        }
        Ok(out)
    }

    /// The sum of `slo`'s buckets over minutes `from..=to`, read coarsest first.
    pub fn sum(&self, slo: &str, from: i64, to: i64) -> Result<Bucket, LedgerError> {
        let mut total = Bucket::default();
        for (level, lo, hi) in decompose(from, to) {
            let key = |index| keys::BucketKey { slo, level, index }.encode();
            for item in self.buckets.range(key(lo)..=key(hi)) {
                let (key, bytes) = item?;
                total.merge(&Bucket::decode(&key, &bytes)?);
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covered(parts: &[(Level, i64, i64)]) -> Vec<i64> {
        let mut minutes: Vec<i64> = parts
            .iter()
            .flat_map(|&(level, lo, hi)| (lo * level.minutes())..((hi + 1) * level.minutes()))
            .collect();
        minutes.sort();
        minutes
    }

    #[test]
    fn decomposition_covers_each_minute_once_with_few_buckets() {
        for (from, to) in [
            (0, 0),
            (5, 70),
            (59, 60),
            (-100, 3000),
            (17, 43_217),
            (1440, 2879),
        ] {
            let parts = decompose(from, to);
            assert_eq!(
                covered(&parts),
                (from..=to).collect::<Vec<_>>(),
                "{from}..={to}"
            );
            let reads: i64 = parts.iter().map(|(_, lo, hi)| hi - lo + 1).sum();
            assert!(
                reads <= 2 * 59 + 2 * 23 + (to - from) / 1440 + 1,
                "{from}..={to}: {reads} reads"
            );
        }
    }

    #[test]
    fn binary_buckets_round_trip_and_detect_damage() {
        let b = Bucket {
            events: vec![Events { good: 3, total: 4 }, Events { good: 1, total: 9 }],
            evaluations: 5,
            errors: 2,
        };
        let mut bytes = b.encode();
        assert_eq!(Bucket::decode(b"k", &bytes).unwrap(), b);
        bytes[10] ^= 1;
        assert!(Bucket::decode(b"k", &bytes).is_err());
    }

    fn measured(good: u64, total: u64) -> EvalRecord {
        EvalRecord {
            slo: "sums".into(),
            dataset: crate::model::DatasetRef {
                namespace: "s3://b".into(),
                name: "t".into(),
            },
            time: jiff::Timestamp::UNIX_EPOCH,
            key: format!("{good}-{total}"),
            outcome: Outcome::Measured,
            events: vec![Events { good, total }],
            objectives: Vec::new(),
            value: None,
            detail: String::new(),
            policy_sha256: String::new(),
            chain: None,
        }
    }

    #[test]
    fn two_valid_records_that_overflow_a_bucket_saturate_it_never_wrap() {
        let mut bucket = Bucket::default();
        assert!(
            !bucket.add(&measured(u64::MAX, u64::MAX)),
            "u64::MAX is a sum"
        );
        assert!(bucket.add(&measured(0, 2)), "the total saturates");
        assert_eq!(
            bucket.events,
            vec![Events {
                good: u64::MAX,
                total: u64::MAX
            }]
        );
        let mut day = Bucket::default();
        assert!(!day.merge(&bucket), "one bucket into an empty one");
        assert!(day.merge(&bucket), "merging saturates too");
        assert_eq!(
            (day.events[0].good, day.events[0].total, day.evaluations),
            (u64::MAX, u64::MAX, 4)
        );
    }
}
