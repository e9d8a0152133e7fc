//! Where tallies come from: the ledger (hour and day buckets where they
//! fit), or a span of minute buckets read once, for judging many times
//! over the same minutes (late records, see the alerts).

use super::compute::{Tally, tally, tally_slices};
use super::slices::Slicer;
use super::window::MinuteRange;
use crate::ledger::{Bucket, Ledger, LedgerError};
use crate::slo::{Budgeting, Slo};

/// Tallies an objective of an SLO over a range of minutes.
pub trait Tallies {
    /// As [`tally`].
    fn tally(&self, slo: &Slo, objective: usize, range: MinuteRange) -> Result<Tally, LedgerError>;
}

impl Tallies for Ledger {
    fn tally(&self, slo: &Slo, objective: usize, range: MinuteRange) -> Result<Tally, LedgerError> {
        tally(self, slo, objective, range)
    }
}

/// The minute buckets of one SLO over a span, in memory, with running sums
/// of its first objective: a tally of that objective costs O(1) for
/// Occurrences. Minutes outside the span count as empty.
#[derive(Debug, Clone)]
pub struct MinuteSpan {
    slo: String,
    buckets: Vec<(i64, Bucket)>,
    /// Before bucket `i`: (good, total, errors, evaluations) of objective 0.
    sums: Vec<[u64; 4]>,
}

impl MinuteSpan {
    /// Reads `slo`'s minute buckets for `from..=to`.
    pub fn read(ledger: &Ledger, slo: &Slo, from: i64, to: i64) -> Result<Self, LedgerError> {
        let buckets = ledger.buckets(&slo.name, from, to)?;
        let mut sums = Vec::with_capacity(buckets.len() + 1);
        let mut running = [0u64; 4];
        sums.push(running);
        for (_, b) in &buckets {
            let e = b.events.first().copied().unwrap_or_default();
            for (sum, add) in running
                .iter_mut()
                .zip([e.good, e.total, b.errors, b.evaluations])
            {
                *sum = sum.saturating_add(add);
            }
            sums.push(running);
        }
        Ok(MinuteSpan {
            slo: slo.name.clone(),
            buckets,
            sums,
        })
    }

    /// The buckets' indexes of minutes `range`.
    fn indexes(&self, range: MinuteRange) -> std::ops::Range<usize> {
        let start = self.buckets.partition_point(|(m, _)| *m < range.from);
        let end = self.buckets.partition_point(|(m, _)| *m <= range.to);
        start..end.max(start)
    }
}

impl Tallies for MinuteSpan {
    fn tally(&self, slo: &Slo, objective: usize, range: MinuteRange) -> Result<Tally, LedgerError> {
        if slo.name != self.slo || range.from > range.to {
            return Ok(Tally::default());
        }
        let at = self.indexes(range);
        let buckets = &self.buckets[at.clone()];
        match (
            slo.budgeting,
            slo.objectives.get(objective).and_then(|o| o.slice),
        ) {
            (Budgeting::Timeslices, Some((length, slice_target))) => {
                let len = (length.as_secs() / 60).max(1) as i64;
                Ok(tally_slices(
                    buckets,
                    objective,
                    range,
                    Slicer::new(&slo.window, len),
                    slice_target,
                ))
            }
            _ if objective == 0 => {
                let (before, after) = (self.sums[at.start], self.sums[at.end]);
                let d = |i: usize| after[i].saturating_sub(before[i]);
                Ok(Tally {
                    good: d(0),
                    total: d(1),
                    errors: d(2),
                    evaluations: d(3),
                })
            }
            _ => {
                let mut sum = Bucket::default();
                for (_, b) in buckets {
                    sum.merge(b);
                }
                let e = sum.events.get(objective).copied().unwrap_or_default();
                Ok(Tally {
                    good: e.good,
                    total: e.total,
                    errors: sum.errors,
                    evaluations: sum.evaluations,
                })
            }
        }
    }
}
