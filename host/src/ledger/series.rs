//! Which records count for which objective (DESIGN.md, "SLO identity").
//!
//! A record counts for an objective, not for a position in a list: it
//! carries the identities of the objectives its events are for. An SLO's
//! [`Series`], stored in `meta`, lists its objectives in the order its
//! buckets hold them, each with how records count for it:
//!
//! - a record that recorded events for the objective's identity counts with
//!   them;
//! - otherwise a threshold objective recomputes them from the record's raw
//!   `value` (one event, good when the value meets `op`/`value`): its past
//!   is rebuilt under the new definition, never reinterpreted;
//!   (from the objective's `since`, when it has one: records before it were
//!   made under another indicator and hold no comparable value);
//! - otherwise (a ratio objective whose definition changed) the record does
//!   not count: the objective's series started anew at `since`, with the
//!   first records made under it.
//!
//! Buckets are always what the records give under the SLO's series: when a
//! new definition changes it, [`Ledger::set_series`] rebuilds the SLO's
//! buckets from its records; [`Ledger::verify`] recomputes them the same way.

use super::buckets::{Bucket, Level, index_of};
use super::evaluations::{EvalRecord, Events, Outcome, minute_of};
use super::{Ledger, LedgerError, codec, keys};
use crate::model::Op;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::PoisonError;

/// How an SLO's records count for its objectives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Its objectives, in the order its buckets hold their events.
    pub objectives: Vec<SeriesObjective>,
    /// The identities the events of records without any (written before
    /// identities) are for, in order: the SLO's objectives when the ledger
    /// first recorded its series.
    pub legacy: Vec<String>,
    /// Objectives the SLO no longer has, most recent last, so that putting
    /// one back resumes its series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<SeriesObjective>,
}

/// One objective of a [`Series`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesObjective {
    /// Its identity.
    pub identity: String,
    /// How a record that recorded nothing for it counts.
    pub counting: Counting,
    /// When its series began; `None`: with the SLO's first records. A
    /// record that recorded nothing for a threshold objective is recounted
    /// from its value only from then on.
    pub since: Option<jiff::Timestamp>,
}

/// How a record that recorded no events for an objective counts for it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Counting {
    /// A ratio objective: it does not.
    Recorded,
    /// A threshold objective: one event, good when the raw value meets it.
    Threshold {
        /// The comparison.
        op: Op,
        /// The threshold.
        value: f64,
    },
}

/// How many retired objectives a series remembers.
const RETIRED: usize = 32;

impl Series {
    /// The events `record` counts for each objective, in bucket order.
    /// Failed evaluations count none.
    pub fn events(&self, record: &EvalRecord) -> Vec<Events> {
        if matches!(record.outcome, Outcome::Error { .. }) {
            return Vec::new();
        }
        let recorded_for = match record.objectives.is_empty() {
            true => &self.legacy,
            false => &record.objectives,
        };
        self.objectives
            .iter()
            .map(|o| {
                if let Some(i) = recorded_for.iter().position(|id| *id == o.identity) {
                    return record.events.get(i).copied().unwrap_or_default();
                }
                match o.counting {
                    Counting::Threshold { op, value }
                        if o.since.is_none_or(|since| record.time >= since) =>
                    {
                        Events {
                            good: u64::from(record.value.is_some_and(|v| op.holds(v, value))),
                            total: 1,
                        }
                    }
                    _ => Events::default(),
                }
            })
            .collect()
    }

    /// This series with `objectives` instead, the ones dropped kept as retired.
    pub fn with_objectives(&self, objectives: Vec<SeriesObjective>) -> Series {
        let mut retired: Vec<SeriesObjective> = Vec::new();
        for r in self.retired.iter().chain(&self.objectives) {
            if objectives.iter().all(|o| o.identity != r.identity) {
                retired.retain(|kept| kept.identity != r.identity);
                retired.push(r.clone());
            }
        }
        let excess = retired.len().saturating_sub(RETIRED);
        retired.drain(..excess);
        Series {
            objectives,
            legacy: self.legacy.clone(),
            retired,
        }
    }

    /// The objective `identity` had in this series, current or retired.
    pub fn find(&self, identity: &str) -> Option<&SeriesObjective> {
        self.objectives
            .iter()
            .chain(self.retired.iter().rev())
            .find(|o| o.identity == identity)
    }
}

/// The events `record` counts for each objective of its SLO: under
/// `series`, or, for an SLO without one, those it recorded.
pub(super) fn counted(series: Option<&Series>, record: &EvalRecord) -> Vec<Events> {
    match series {
        Some(series) => series.events(record),
        None => record.events.clone(),
    }
}

/// A series as stored: with whether its buckets were rebuilt to the end.
#[derive(Serialize, Deserialize)]
struct Stored {
    series: Series,
    rebuilt: bool,
}

impl Ledger {
    fn stored_series(&self, slo: &str) -> Result<Option<Stored>, LedgerError> {
        let key = keys::SeriesKey(slo).encode();
        match self.meta.get(&key)? {
            Some(bytes) => codec::decode("meta", &key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// How `slo`'s records count for its objectives; `None` for an SLO whose
    /// series was never recorded (its records count as they recorded).
    pub fn series(&self, slo: &str) -> Result<Option<Series>, LedgerError> {
        Ok(self.stored_series(slo)?.map(|s| s.series))
    }

    /// Makes `series` the one `slo`'s buckets follow. When it changes how
    /// records count (or the last rebuild was cut short), rebuilds the SLO's
    /// buckets from its records, blocking writers meanwhile; returns whether
    /// it did. Durable on return. A crash midway leaves the series marked
    /// unfinished, and the next call rebuilds again.
    pub fn set_series(&self, slo: &str, series: &Series) -> Result<bool, LedgerError> {
        let _writers = self
            .series_lock
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let stored = self.stored_series(slo)?;
        let key = keys::SeriesKey(slo).encode();
        let store = |rebuilt: bool| -> Result<(), LedgerError> {
            let value = codec::encode(&Stored {
                series: series.clone(),
                rebuilt,
            });
            self.meta.insert(key.as_slice(), value)?;
            Ok(())
        };
        let rebuild = match &stored {
            Some(s) => !s.rebuilt || s.series.objectives != series.objectives,
            // A first series counts every record as it recorded, unless an
            // earlier definition of the SLO recorded them otherwise.
            None => self.last_record(slo)?.is_some(),
        };
        if !rebuild {
            if stored.is_none_or(|s| s.series != *series) {
                store(true)?;
                self.flush()?;
            }
            return Ok(false);
        }
        store(false)?;
        self.flush()?;
        self.rebuild_buckets(slo, series)?;
        self.flush()?;
        store(true)?;
        self.flush()?;
        Ok(true)
    }

    /// Replaces `slo`'s buckets with what its records give under `series`.
    fn rebuild_buckets(&self, slo: &str, series: &Series) -> Result<(), LedgerError> {
        let mut fresh: BTreeMap<Vec<u8>, Bucket> = BTreeMap::new();
        for record in self.records(Some(slo), None) {
            let record = record?;
            let events = series.events(&record);
            let minute = minute_of(record.time);
            for level in Level::ALL {
                let key = keys::BucketKey {
                    slo,
                    level,
                    index: index_of(minute, level),
                }
                .encode();
                fresh.entry(key).or_default().add_counted(&record, &events);
            }
        }
        let mut batch = sled::Batch::default();
        for item in self.buckets.scan_prefix(keys::slo(slo)).keys() {
            let key = item?;
            if !fresh.contains_key(key.as_ref()) {
                batch.remove(key);
            }
        }
        for (key, bucket) in fresh {
            batch.insert(key, bucket.encode());
        }
        self.buckets.apply_batch(batch)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DatasetRef;

    fn objective(identity: &str, counting: Counting) -> SeriesObjective {
        SeriesObjective {
            identity: identity.into(),
            counting,
            since: None,
        }
    }

    const AT_LEAST_1000: Counting = Counting::Threshold {
        op: Op::Gte,
        value: 1000.0,
    };

    fn record(at: &str, value: f64, objectives: &[&str], events: &[(u64, u64)]) -> EvalRecord {
        EvalRecord {
            slo: "s".into(),
            dataset: DatasetRef {
                namespace: "n".into(),
                name: "d".into(),
            },
            time: at.parse().unwrap(),
            key: at.into(),
            outcome: Outcome::Measured,
            events: events
                .iter()
                .map(|&(good, total)| Events { good, total })
                .collect(),
            objectives: objectives.iter().map(|o| o.to_string()).collect(),
            value: Some(value),
            detail: String::new(),
            policy_sha256: String::new(),
            chain: None,
        }
    }

    #[test]
    fn a_record_counts_what_it_recorded_for_an_objective_wherever_that_objective_now_is() {
        let series = Series {
            objectives: vec![
                objective("b", Counting::Recorded),
                objective("a", Counting::Recorded),
            ],
            legacy: vec!["a".into(), "b".into()],
            retired: Vec::new(),
        };
        let tagged = record("2026-01-01T00:00:00Z", 0.0, &["a", "b"], &[(1, 2), (3, 4)]);
        assert_eq!(
            series.events(&tagged),
            [Events { good: 3, total: 4 }, Events { good: 1, total: 2 }]
        );
        let legacy = record("2026-01-01T00:00:00Z", 0.0, &[], &[(1, 2), (3, 4)]);
        assert_eq!(series.events(&legacy), series.events(&tagged));
    }

    #[test]
    fn a_changed_threshold_recounts_from_the_raw_value_and_a_changed_ratio_counts_nothing() {
        let series = Series {
            objectives: vec![
                objective("new-threshold", AT_LEAST_1000),
                objective("new-ratio", Counting::Recorded),
            ],
            legacy: Vec::new(),
            retired: Vec::new(),
        };
        let old = record("2026-01-01T00:00:00Z", 1500.0, &["old"], &[(0, 1)]);
        assert_eq!(
            series.events(&old),
            [Events { good: 1, total: 1 }, Events::default()]
        );
    }

    #[test]
    fn values_before_a_threshold_objectives_start_and_failed_records_count_nothing() {
        let mut series = Series {
            objectives: vec![objective("t", AT_LEAST_1000)],
            legacy: Vec::new(),
            retired: Vec::new(),
        };
        series.objectives[0].since = Some("2026-06-01T00:00:00Z".parse().unwrap());
        let other = record("2026-01-01T00:00:00Z", 1500.0, &["x"], &[(0, 1)]);
        assert_eq!(
            series.events(&other),
            [Events::default()],
            "another indicator's"
        );
        let own = record("2026-01-01T00:00:00Z", 1500.0, &["t"], &[(1, 1)]);
        assert_eq!(series.events(&own), [Events { good: 1, total: 1 }]);
        let after = record("2026-07-01T00:00:00Z", 1500.0, &["x"], &[(0, 1)]);
        assert_eq!(series.events(&after), [Events { good: 1, total: 1 }]);
        let mut failed = after.clone();
        failed.outcome = Outcome::Error {
            code: "trap".into(),
            message: String::new(),
        };
        assert!(series.events(&failed).is_empty());
    }

    #[test]
    fn dropped_objectives_are_remembered_and_a_restored_one_leaves_the_retired() {
        let start = Series {
            objectives: vec![
                objective("a", Counting::Recorded),
                objective("b", Counting::Recorded),
            ],
            legacy: Vec::new(),
            retired: Vec::new(),
        };
        let dropped = start.with_objectives(vec![objective("a", Counting::Recorded)]);
        assert_eq!(dropped.retired, [objective("b", Counting::Recorded)]);
        assert!(dropped.find("b").is_some());
        let restored = dropped.with_objectives(start.objectives.clone());
        assert!(restored.retired.is_empty());
    }

    #[test]
    fn records_from_before_identities_keep_their_figures_and_follow_their_objectives() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        for minute in 0..3 {
            let at = format!("2026-01-01T00:0{minute}:00Z");
            ledger
                .record(&record(&at, 0.0, &[], &[(1, 2), (3, 4)]))
                .unwrap();
        }
        let sum = |ledger: &Ledger| ledger.sum("s", 0, i64::MAX / 2).unwrap().events;
        let before = sum(&ledger);
        let ratio = |id: &str| objective(id, Counting::Recorded);
        let adopted = Series {
            objectives: vec![ratio("a"), ratio("b")],
            legacy: vec!["a".into(), "b".into()],
            retired: Vec::new(),
        };
        ledger.set_series("s", &adopted).unwrap();
        assert_eq!(sum(&ledger), before, "adopting changes no figure");
        assert!(ledger.verify().unwrap().mismatches.is_empty());
        let swapped = adopted.with_objectives(vec![ratio("b"), ratio("a")]);
        assert!(ledger.set_series("s", &swapped).unwrap());
        assert_eq!(sum(&ledger), [before[1], before[0]]);
        assert!(ledger.verify().unwrap().mismatches.is_empty());
    }

    #[test]
    fn a_rebuild_cut_short_is_redone_even_for_the_same_series() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        ledger
            .record(&record("2026-01-01T00:00:00Z", 1500.0, &["x"], &[(0, 1)]))
            .unwrap();
        let series = Series {
            objectives: vec![objective("t", AT_LEAST_1000)],
            legacy: Vec::new(),
            retired: Vec::new(),
        };
        // What a crash between the marker and the end of a rebuild leaves.
        let unfinished = codec::encode(&Stored {
            series: series.clone(),
            rebuilt: false,
        });
        ledger
            .meta
            .insert(keys::SeriesKey("s").encode(), unfinished)
            .unwrap();
        assert!(ledger.set_series("s", &series).unwrap(), "rebuilt again");
        assert_eq!(
            ledger.sum("s", 0, i64::MAX / 2).unwrap().events,
            [Events { good: 1, total: 1 }]
        );
        assert!(!ledger.set_series("s", &series).unwrap(), "then done");
    }

    #[test]
    fn a_series_is_stored_and_a_change_rebuilds_the_buckets_from_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
        for (at, value) in [
            ("2026-01-01T00:00:00Z", 500.0),
            ("2026-01-01T00:01:00Z", 1500.0),
            ("2026-01-01T00:02:00Z", 2500.0),
        ] {
            let good = u64::from(value >= 1000.0);
            ledger
                .record(&record(at, value, &["1000"], &[(good, 1)]))
                .unwrap();
        }
        let sum = |ledger: &Ledger| ledger.sum("s", 0, i64::MAX / 2).unwrap().events;
        let first = Series {
            objectives: vec![objective("1000", AT_LEAST_1000)],
            legacy: Vec::new(),
            retired: Vec::new(),
        };
        assert!(
            ledger.set_series("s", &first).unwrap(),
            "adopted over records"
        );
        assert!(!ledger.set_series("s", &first).unwrap(), "unchanged");
        assert_eq!(sum(&ledger), [Events { good: 2, total: 3 }]);
        let raised = first.with_objectives(vec![objective(
            "2000",
            Counting::Threshold {
                op: Op::Gte,
                value: 2000.0,
            },
        )]);
        assert!(ledger.set_series("s", &raised).unwrap());
        assert_eq!(ledger.series("s").unwrap(), Some(raised));
        assert_eq!(sum(&ledger), [Events { good: 1, total: 3 }]);
        let report = ledger.verify().unwrap();
        assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
        // A new record counts under the series in force.
        ledger
            .record(&record(
                "2026-01-01T00:03:00Z",
                2200.0,
                &["1000"],
                &[(1, 1)],
            ))
            .unwrap();
        assert_eq!(sum(&ledger), [Events { good: 2, total: 4 }]);
        assert!(ledger.verify().unwrap().mismatches.is_empty());
    }
}
