//! The chains' index (`chains`): for each chain (SLO, site), its links in
//! seq order, each an [`Entry`]: the record's key, or once pruned its link.
//!
//! A transaction files a ledger's own records as one run per chain: one
//! key (SLO, site, the run's first seq) holding up to [`RUN_LIMIT`]
//! consecutive entries. One key per record cost sled a write each, about
//! a third of a durable evaluation (issue 15). An agent's record at central
//! is filed alone at its own seq, where a late one may fill a gap, so runs
//! of more than one hold only site "" (no stream files there). A run of one
//! is stored as its entry alone, layout 4's form, which is still read.

use super::{Ledger, LedgerError, keys};

/// Links a run holds at most: pruning rewrites a run, so it stays small.
pub(super) const RUN_LIMIT: usize = 256;

/// A link's entry: the record's key, or (after retention) the pruned
/// record's prev and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Entry {
    Record(Vec<u8>),
    Pruned { prev: [u8; 32], hash: [u8; 32] },
}

/// The tag of a run of more than one entry; 0 and 1 are single entries.
const RUN: u8 = 2;

impl Entry {
    fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Entry::Record(key) => {
                out.push(0);
                out.extend_from_slice(key);
            }
            Entry::Pruned { prev, hash } => {
                out.push(1);
                out.extend_from_slice(prev);
                out.extend_from_slice(hash);
            }
        }
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        match bytes.split_first()? {
            (0, key) => Some(Entry::Record(key.to_vec())),
            (1, rest) if rest.len() == 64 => Some(Entry::Pruned {
                prev: rest[..32].try_into().ok()?,
                hash: rest[32..].try_into().ok()?,
            }),
            _ => None,
        }
    }
}

/// A run's value: one entry as itself; more as [`RUN`], then each entry's
/// length (u32, big-endian) and bytes.
pub(super) fn encode_run(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    if let [one] = entries {
        one.encode_into(&mut out);
        return out;
    }
    out.push(RUN);
    let mut one = Vec::new();
    for entry in entries {
        one.clear();
        entry.encode_into(&mut one);
        out.extend_from_slice(&(one.len() as u32).to_be_bytes());
        out.extend_from_slice(&one);
    }
    out
}

/// Reads back what [`encode_run`] wrote; `None` if it does not parse.
pub(super) fn decode_run(bytes: &[u8]) -> Option<Vec<Entry>> {
    let Some((&RUN, mut rest)) = bytes.split_first() else {
        return Entry::decode(bytes).map(|one| vec![one]);
    };
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let (len, tail) = rest.split_at_checked(4)?;
        let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
        let (entry, tail) = tail.split_at_checked(len)?;
        entries.push(Entry::decode(entry)?);
        rest = tail;
    }
    (!entries.is_empty()).then_some(entries)
}

/// One key of a chain's index: its first seq and its entries (`None`: the
/// value does not parse, so only its first seq is known).
#[derive(Debug, Clone)]
pub(super) struct Run {
    pub key: sled::IVec,
    pub first: u64,
    pub entries: Option<Vec<Entry>>,
}

impl Run {
    /// `None` if the key does not parse. Entries that would run past the
    /// last seq read as unreadable.
    fn read(key: sled::IVec, value: &[u8]) -> Option<Self> {
        let first = keys::ChainKey::parse(&key)?.seq;
        let entries = decode_run(value).filter(|e| {
            first
                .checked_add((e.len() as u64).saturating_sub(1))
                .is_some()
        });
        Some(Run {
            first,
            entries,
            key,
        })
    }

    /// Link `seq`'s entry, if this run holds it.
    fn get(&self, seq: u64) -> Option<&Entry> {
        let place = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        self.entries.as_ref()?.get(place)
    }

    /// Its links: (seq, entry), `None` for an unreadable value.
    pub fn links(&self) -> Vec<(u64, Option<Entry>)> {
        match &self.entries {
            // `read` checked that the last seq fits.
            Some(entries) => entries
                .iter()
                .enumerate()
                .map(|(i, e)| (self.first + i as u64, Some(e.clone())))
                .collect(),
            None => vec![(self.first, None)],
        }
    }
}

/// Looks links' entries up, keeping the last run read: records read in key
/// order (SLO, time) mostly follow their chain's order, so one run serves
/// many in a row. For one pass of `verify` or `export`.
#[derive(Default)]
pub(super) struct Lookup {
    last: Option<(String, String, Run)>,
}

impl Lookup {
    /// Link `seq`'s entry in the chain (SLO, site), if the index holds one.
    pub fn entry(
        &mut self,
        ledger: &Ledger,
        slo: &str,
        site: &str,
        seq: u64,
    ) -> Result<Option<Entry>, LedgerError> {
        if let Some((s, t, run)) = &self.last
            && s == slo
            && t == site
            && let Some(entry) = run.get(seq)
        {
            return Ok(Some(entry.clone()));
        }
        let Some((run, _)) = ledger.run_at(slo, site, seq)? else {
            return Ok(None);
        };
        let entry = run.get(seq).cloned();
        self.last = Some((slo.to_string(), site.to_string(), run));
        Ok(entry)
    }
}

impl Ledger {
    /// A chain's runs, in seq order.
    pub(super) fn chain_runs(
        &self,
        slo: &str,
        site: &str,
    ) -> impl Iterator<Item = Result<Run, LedgerError>> + use<> {
        self.chains.scan_prefix(keys::chain(slo, site)).map(|item| {
            let (key, value) = item?;
            let bad = LedgerError::bad_key("chains", &key);
            Run::read(key, &value).ok_or(bad)
        })
    }

    /// A chain's links in seq order: (seq, entry), `None` where an index
    /// value does not parse.
    pub(super) fn chain_links(
        &self,
        slo: &str,
        site: &str,
    ) -> impl Iterator<Item = Result<(u64, Option<Entry>), LedgerError>> + use<> {
        self.chain_runs(slo, site).flat_map(|run| match run {
            Ok(run) => run.links().into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }

    /// The run holding link `seq` of a chain, and the link's place in it.
    pub(super) fn run_at(
        &self,
        slo: &str,
        site: &str,
        seq: u64,
    ) -> Result<Option<(Run, usize)>, LedgerError> {
        let at = keys::ChainKey { slo, site, seq }.encode();
        for item in self.chains.range(keys::chain(slo, site)..=at).rev() {
            let (key, value) = item?;
            // A key that does not parse is `verify`'s to name, not in the way.
            let Some(run) = Run::read(key, &value) else {
                continue;
            };
            let place = usize::try_from(seq - run.first).unwrap_or(usize::MAX);
            return Ok(run.get(seq).is_some().then_some((run, place)));
        }
        Ok(None)
    }

    /// Link `seq`'s entry, if the index holds one.
    pub(super) fn chain_entry(
        &self,
        slo: &str,
        site: &str,
        seq: u64,
    ) -> Result<Option<Entry>, LedgerError> {
        Lookup::default().entry(self, slo, site, seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_one_is_stored_as_its_entry_alone_and_longer_runs_round_trip() {
        let record = Entry::Record(b"key".to_vec());
        let pruned = Entry::Pruned {
            prev: [1; 32],
            hash: [2; 32],
        };
        assert_eq!(encode_run(std::slice::from_ref(&record)), b"\0key");
        for run in [vec![record.clone()], vec![record, pruned.clone(), pruned]] {
            assert_eq!(decode_run(&encode_run(&run)), Some(run));
        }
    }

    #[test]
    fn a_run_that_does_not_parse_is_none() {
        for bad in [
            &b""[..],
            b"\x02",
            b"\x02\0\0\0\x09\0k",
            b"\x01short",
            b"\x07",
        ] {
            assert_eq!(decode_run(bad), None, "{bad:?}");
        }
    }
}
