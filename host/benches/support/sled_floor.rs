//! How E4's ledger writes, with sled alone: the floors of the `throughput`
//! bench write the same trees, key shapes, value sizes, transactions and
//! flushes as `Scheduler::ingest`, and nothing of dataslo's.

use sled::Transactional;

/// How E4's ledger lays out the ingest log and trims history.
#[derive(Clone, Copy)]
pub struct Layout {
    /// One log entry per append naming its observations, dropped in the
    /// records' transaction (else one entry per observation holding a copy
    /// of it, each removed after that transaction).
    pub log_per_append: bool,
    /// One transaction trims a step's history (else one removal per key,
    /// every [`TRIM_EVERY`] observations).
    pub trim_once: bool,
    /// Flushed after each transaction, as E4 (else never: sled's CPU alone).
    pub flushed: bool,
    /// A step's links of one SLO under one chain index key, as the ledger
    /// files them since layout 5 (else an index key per record).
    pub index_per_step: bool,
    /// A step's records of one SLO stored as one value under one key (else
    /// a key per record, as the ledger stores them): not the ledger's
    /// layout, the headroom of grouping records per batch (issue 15).
    pub records_grouped: bool,
}

/// Since layout 5 (issue 15's seventh session).
pub const LAYOUT_NOW: Layout = Layout {
    log_per_append: true,
    trim_once: true,
    flushed: true,
    index_per_step: true,
    records_grouped: false,
};

/// From issue 15's second round to layout 5: an index key per record.
pub const LAYOUT_INDEX_PER_RECORD: Layout = Layout {
    index_per_step: false,
    ..LAYOUT_NOW
};

/// Before it.
pub const LAYOUT_BEFORE: Layout = Layout {
    log_per_append: false,
    trim_once: false,
    flushed: true,
    index_per_step: false,
    records_grouped: false,
};

/// Stored sizes, measured on E4's ledger (orders.json, the three checks):
/// an observation, a record, a bucket; a log entry naming `n` observations
/// is `LOG_ENTRY_BASE + n * LOG_ENTRY_PER_OBSERVATION` bytes.
const OBSERVATION_VALUE: usize = 755;
const RECORD_VALUE: usize = 607;
const BUCKET_VALUE: usize = 38;
const LOG_ENTRY_BASE: usize = 16;
const LOG_ENTRY_PER_OBSERVATION: usize = 123;
const TRIM_EVERY: usize = 16;
const HISTORY_DEPTH: usize = 100;

fn length_prefixed(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn sortable(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

/// One tenant's trees and counters.
pub struct FloorTenant {
    slos: Vec<String>,
    observations: sled::Tree,
    latest: sled::Tree,
    ingest: sled::Tree,
    meta: sled::Tree,
    evaluations: sled::Tree,
    buckets: sled::Tree,
    feed: sled::Tree,
    chains: sled::Tree,
    next_seq: u64,
    chain_seq: u64,
    trimmed: std::collections::VecDeque<Vec<u8>>,
}

type FloorTx = Result<(), sled::transaction::ConflictableTransactionError<()>>;

impl FloorTenant {
    /// `tenant`'s trees in `db`, for SLOs named `<tenant>-<check>`.
    pub fn open(db: &sled::Db, tenant: &str, checks: &[&str]) -> Self {
        let tree = |name: &str| db.open_tree(format!("t/{tenant}/{name}")).expect("tree");
        FloorTenant {
            slos: checks.iter().map(|c| format!("{tenant}-{c}")).collect(),
            observations: tree("observations"),
            latest: tree("latest"),
            ingest: tree("ingest"),
            meta: tree("meta"),
            evaluations: tree("evaluations"),
            buckets: tree("buckets"),
            feed: tree("feed"),
            chains: tree("chains"),
            next_seq: 1,
            chain_seq: 0,
            trimmed: Default::default(),
        }
    }

    /// `times.len()` observations appended and evaluated, as one
    /// `Scheduler::ingest` writes them.
    /// `evaluate` runs between the append and the records, as E4's
    /// evaluations do.
    pub fn step(&mut self, db: &sled::Db, layout: Layout, times: &[i64], evaluate: impl FnOnce()) {
        let mut dataset = Vec::new();
        length_prefixed(&mut dataset, "postgres://prod:5432");
        length_prefixed(&mut dataset, "analytics.orders");
        let observation_keys: Vec<Vec<u8>> = times
            .iter()
            .map(|t| [&dataset[..], &sortable(t * 1_000_000_000), &t.to_le_bytes()].concat())
            .collect();
        let observation = vec![b'o'; OBSERVATION_VALUE];
        let entry = match layout.log_per_append {
            true => vec![b'l'; LOG_ENTRY_BASE + times.len() * LOG_ENTRY_PER_OBSERVATION],
            false => observation.clone(),
        };
        let first = self.next_seq;
        // The append: one transaction, then a flush.
        (&self.observations, &self.latest, &self.ingest, &self.meta)
            .transaction(|(stored, latest, log, meta)| -> FloorTx {
                meta.get(b"ingest_next")?;
                let mut seq = first;
                if layout.log_per_append {
                    log.insert(&seq.to_be_bytes(), entry.as_slice())?;
                }
                for key in &observation_keys {
                    stored.get(key)?;
                    if !layout.log_per_append {
                        log.insert(&seq.to_be_bytes(), entry.as_slice())?;
                    }
                    stored.insert(key.as_slice(), observation.as_slice())?;
                    latest.get(&dataset)?;
                    latest.insert(dataset.as_slice(), key.as_slice())?;
                    seq += 1;
                }
                meta.insert(b"ingest_next", &seq.to_be_bytes())?;
                Ok(())
            })
            .expect("append");
        self.next_seq += times.len() as u64;
        if layout.flushed {
            db.flush().expect("flush");
        }
        evaluate();
        // The records: one transaction (three per observation; an index
        // key per SLO, or per record; grouped, one value per SLO; the
        // buckets once, the cursor and the heads), then a flush.
        let last = self.next_seq - 1;
        let mut records = Vec::new();
        let mut buckets = std::collections::BTreeSet::new();
        for (i, slo) in self.slos.iter().enumerate() {
            for t in times {
                let mut key = Vec::new();
                length_prefixed(&mut key, slo);
                key.extend_from_slice(&sortable(t * 1_000_000_000));
                key.extend_from_slice(format!("{:032x}", (*t as u128) << 8 | i as u128).as_bytes());
                records.push((i, key));
                for (level, minutes) in [(0u8, 1), (1, 60), (2, 1440)] {
                    let mut bucket = Vec::new();
                    length_prefixed(&mut bucket, slo);
                    bucket.push(level);
                    bucket.extend_from_slice(&sortable(t.div_euclid(60 * minutes)));
                    buckets.insert(bucket);
                }
            }
        }
        let mut value = vec![b'r'; RECORD_VALUE];
        if layout.records_grouped {
            // One key per SLO: its first record's, holding all of its records.
            records = records.into_iter().step_by(times.len()).collect();
            value = vec![b'r'; RECORD_VALUE * times.len()];
        }
        let bucket_value = vec![b'b'; BUCKET_VALUE];
        let chain_seq = self.chain_seq;
        let step = times.len();
        let slos = &self.slos;
        let log_first = first;
        (
            &self.evaluations,
            &self.buckets,
            &self.meta,
            &self.feed,
            &self.chains,
            &self.ingest,
        )
            .transaction(
                |(evaluations, bucket_tree, meta, _feed, chains, log)| -> FloorTx {
                    if layout.log_per_append {
                        log.remove(&log_first.to_be_bytes())?;
                    }
                    meta.insert(b"ingest_cursor", &last.to_be_bytes())?;
                    let mut seq = chain_seq;
                    let mut indexed = None;
                    for (slo, key) in &records {
                        evaluations.get(key)?;
                        evaluations.insert(key.as_slice(), value.as_slice())?;
                        seq += 1;
                        if layout.index_per_step && indexed.replace(*slo) == Some(*slo) {
                            continue;
                        }
                        let mut index = Vec::new();
                        length_prefixed(&mut index, &slos[*slo]);
                        length_prefixed(&mut index, "");
                        index.extend_from_slice(&seq.to_be_bytes());
                        // A run: per record, its length and its entry.
                        let entry = [&[0][..], key].concat();
                        let value = match layout.index_per_step && !layout.records_grouped {
                            true => vec![2; 1 + step * (4 + entry.len())],
                            false => entry,
                        };
                        chains.insert(index, value)?;
                    }
                    for bucket in &buckets {
                        bucket_tree.get(bucket)?;
                        bucket_tree.insert(bucket.as_slice(), bucket_value.as_slice())?;
                    }
                    for slo in slos {
                        let mut head = b"chain_head/".to_vec();
                        length_prefixed(&mut head, slo);
                        length_prefixed(&mut head, "");
                        meta.get(&head)?;
                        meta.insert(head, &[0u8; 40][..])?;
                    }
                    Ok(())
                },
            )
            .expect("records");
        self.chain_seq += times.len() as u64;
        if layout.flushed {
            db.flush().expect("flush");
        }
        if !layout.log_per_append {
            for seq in first..=last {
                self.ingest.remove(seq.to_be_bytes()).expect("forget");
            }
        }
        // The history trimmed back to its depth, oldest first.
        self.trimmed.extend(observation_keys);
        let excess = self.trimmed.len().saturating_sub(HISTORY_DEPTH);
        let doomed: Vec<Vec<u8>> = self.trimmed.drain(..excess).collect();
        if layout.trim_once {
            (&self.observations, &self.meta)
                .transaction(|(stored, meta)| -> FloorTx {
                    meta.get(b"ingest_next")?;
                    meta.get(b"ingest_cursor")?;
                    for key in &doomed {
                        stored.remove(key.as_slice())?;
                    }
                    Ok(())
                })
                .expect("trim");
        } else {
            for chunk in doomed.chunks(TRIM_EVERY) {
                for key in chunk {
                    self.observations.remove(key).expect("trim");
                }
            }
        }
    }
}
