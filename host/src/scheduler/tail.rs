//! The log's newest observations, kept in memory by the scheduler that
//! appended them, with their digests: its consumer takes them from here
//! instead of reading back and decoding what it has just encoded, and hashing
//! it again. The log stays the truth: a number missing here (appended by
//! another handle, before a restart, past the bound, or not reading back as
//! itself) is read from the log, and so is everything after it in that step.

use crate::ledger::ObservationReceipt;
use crate::model::Observation;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Observations held at most, per scheduler: a consumer far behind reads
/// the log, and memory does not grow with its lag.
const BOUND: usize = 256;

/// An observation of the log, as appended.
pub(super) struct Logged {
    pub obs: Arc<Observation>,
    /// sha256 of its stored JSON, from its receipt.
    pub digest: Option<[u8; 32]>,
}

/// Appended observations not yet taken, by sequence number.
#[derive(Default)]
pub(super) struct Tail {
    held: Mutex<BTreeMap<u64, Logged>>,
}

impl Tail {
    /// Keeps the new ones of `observations`, appended with `receipts`.
    pub fn keep(&self, observations: &[Observation], receipts: &[ObservationReceipt]) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        for (obs, receipt) in observations.iter().zip(receipts) {
            let Some(seq) = receipt.seq else { continue };
            if held.len() >= BOUND {
                break;
            }
            // Evaluated as the log holds it, so as a restart would.
            if obs.reads_back_as_itself() {
                let logged = Logged {
                    obs: Arc::new(obs.clone()),
                    digest: Some(receipt.digest),
                };
                held.insert(seq, logged);
            }
        }
    }

    /// Up to `limit` observations numbered from `cursor + 1` on, without a
    /// gap; forgets those at or before `cursor` (taken from the log).
    pub fn take(&self, cursor: u64, limit: usize) -> Vec<(u64, Logged)> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let first = cursor.saturating_add(1);
        held.retain(|&seq, _| seq >= first);
        let mut out = Vec::new();
        for seq in (first..).take(limit) {
            match held.remove(&seq) {
                Some(logged) => out.push((seq, logged)),
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation(second: i64, sum: f64) -> Observation {
        let text = r#"{"dataset":{"namespace":"s3://lake","name":"t"},"observed_at":"2026-11-26T08:00:00Z","columns":{"c":{"sum":1.0}}}"#;
        let mut obs = crate::model::parse_observation(text, "t").unwrap();
        obs.observed_at = jiff::Timestamp::from_second(second).unwrap();
        obs.columns.get_mut("c").unwrap().sum = Some(sum);
        obs
    }

    fn receipts(seqs: &[Option<u64>]) -> Vec<ObservationReceipt> {
        seqs.iter()
            .map(|&seq| ObservationReceipt {
                digest: [seq.unwrap_or(0) as u8; 32],
                new: seq.is_some(),
                seq,
            })
            .collect()
    }

    fn seqs(taken: &[(u64, Logged)]) -> Vec<u64> {
        taken.iter().map(|(seq, _)| *seq).collect()
    }

    #[test]
    fn the_new_observations_are_taken_in_order_with_their_digests_and_only_once() {
        let tail = Tail::default();
        let obs: Vec<_> = (0..3).map(|i| observation(i, 1.0)).collect();
        tail.keep(&obs, &receipts(&[Some(4), None, Some(5)]));
        let taken = tail.take(3, 10);
        assert_eq!(seqs(&taken), [4, 5]);
        assert_eq!(*taken[1].1.obs, obs[2]);
        assert_eq!(taken[1].1.digest, Some([5; 32]));
        assert!(tail.take(3, 10).is_empty());
    }

    #[test]
    fn a_take_stops_at_a_gap_and_at_its_limit_and_forgets_what_the_log_gave() {
        let tail = Tail::default();
        let obs: Vec<_> = (0..5).map(|i| observation(i, 1.0)).collect();
        tail.keep(
            &obs,
            &receipts(&[Some(1), Some(2), Some(3), Some(5), Some(6)]),
        );
        // 1 was read from the log: the cursor is past it.
        assert_eq!(seqs(&tail.take(1, 1)), [2]);
        assert_eq!(seqs(&tail.take(2, 10)), [3]);
        // 4 is not held: the log gives it, and 5.
        assert!(tail.take(3, 10).is_empty());
        assert_eq!(seqs(&tail.take(5, 10)), [6]);
    }

    #[test]
    fn one_that_would_not_read_back_as_itself_is_left_to_the_log() {
        let tail = Tail::default();
        let obs = [observation(0, f64::NAN), observation(1, 2.0)];
        tail.keep(&obs, &receipts(&[Some(1), Some(2)]));
        assert!(tail.take(0, 10).is_empty());
        assert_eq!(seqs(&tail.take(1, 10)), [2]);
    }

    #[test]
    fn no_more_than_the_bound_is_held() {
        let tail = Tail::default();
        let n = BOUND as u64 + 10;
        let obs: Vec<_> = (0..n as i64).map(|i| observation(i, 1.0)).collect();
        let seqs_given: Vec<_> = (1..=n).map(Some).collect();
        tail.keep(&obs, &receipts(&seqs_given));
        assert_eq!(seqs(&tail.take(0, usize::MAX)).len(), BOUND);
    }
}
