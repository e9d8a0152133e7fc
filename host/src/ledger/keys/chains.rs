//! Keys of `chains` (the hash chains' index) and of their heads and anchors
//! in `meta`.

use super::{Reader, push_str};

/// A key of `chains`: SLO, site, then the sequence number in the chain
/// (u64, big-endian), so one chain is contiguous and in chain order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainKey<'a> {
    /// The SLO.
    pub slo: &'a str,
    /// The site ("" for the ledger's own records).
    pub site: &'a str,
    /// The sequence number, from 1.
    pub seq: u64,
}

impl<'a> ChainKey<'a> {
    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = chain(self.slo, self.site);
        key.extend_from_slice(&self.seq.to_be_bytes());
        key
    }

    /// Reads back what [`ChainKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key);
        let slo = r.str()?;
        let site = r.str()?;
        let seq = u64::from_be_bytes(r.take(8)?.try_into().ok()?);
        r.end(ChainKey { slo, site, seq })
    }
}

/// The prefix of one chain's keys in `chains`.
pub fn chain(slo: &str, site: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(slo.len() + site.len() + 16);
    push_str(&mut key, slo);
    push_str(&mut key, site);
    key
}

/// In `meta`: a chain's head (its last link), or its anchor (the last link
/// retention removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainMetaKey<'a> {
    /// The last link written.
    Head(&'a str, &'a str),
    /// The last link pruned.
    Anchor(&'a str, &'a str),
}

impl<'a> ChainMetaKey<'a> {
    /// What every head key starts with.
    pub const HEAD_PREFIX: &'static [u8] = b"chain_head/";
    /// What every anchor key starts with.
    pub const ANCHOR_PREFIX: &'static [u8] = b"chain_anchor/";

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let (prefix, slo, site) = match self {
            ChainMetaKey::Head(slo, site) => (Self::HEAD_PREFIX, slo, site),
            ChainMetaKey::Anchor(slo, site) => (Self::ANCHOR_PREFIX, slo, site),
        };
        let mut key = prefix.to_vec();
        key.extend_from_slice(&chain(slo, site));
        key
    }

    /// Reads back (SLO, site) from a head key.
    pub fn parse_head(key: &'a [u8]) -> Option<(&'a str, &'a str)> {
        let mut r = Reader(key.strip_prefix(Self::HEAD_PREFIX)?);
        let slo = r.str()?;
        let site = r.str()?;
        r.end((slo, site))
    }
}

/// In `meta`: how many chain problems of `kind` central found in `site`'s
/// records (u64, big-endian).
pub fn chain_problem(site: &str, kind: &str) -> Vec<u8> {
    let mut key = CHAIN_PROBLEM_PREFIX.to_vec();
    push_str(&mut key, site);
    push_str(&mut key, kind);
    key
}

/// What every [`chain_problem`] key starts with.
pub const CHAIN_PROBLEM_PREFIX: &[u8] = b"chain_problem/";

/// Reads back (site, kind) from a [`chain_problem`] key.
pub fn parse_chain_problem(key: &[u8]) -> Option<(&str, &str)> {
    let mut r = Reader(key.strip_prefix(CHAIN_PROBLEM_PREFIX)?);
    let site = r.str()?;
    let kind = r.str()?;
    r.end((site, kind))
}

/// In `meta`: a record central refused and keeps outside its ledger, by the
/// stream sequence it was delivered at and its payload's sha256 (a stream
/// recreated from sequence 1 delivers other records at the same sequences).
pub fn refused_record(stream_sequence: u64, payload_sha256: &[u8; 32]) -> Vec<u8> {
    let mut key = REFUSED_PREFIX.to_vec();
    key.extend_from_slice(&stream_sequence.to_be_bytes());
    key.extend_from_slice(payload_sha256);
    key
}

/// What every [`refused_record`] key starts with.
pub const REFUSED_PREFIX: &[u8] = b"refused_record/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_key_is_slo_then_site_then_sequence_and_parses_back() {
        let key = ChainKey {
            slo: "s",
            site: "edge-1",
            seq: 258,
        };
        let bytes = key.encode();
        assert!(bytes.starts_with(&chain("s", "edge-1")));
        assert!(bytes.ends_with(&[0, 0, 0, 0, 0, 0, 1, 2]));
        assert_eq!(ChainKey::parse(&bytes), Some(key));
        let next = ChainKey { seq: 259, ..key };
        assert!(bytes < next.encode(), "a chain sorts by sequence");
    }

    #[test]
    fn head_keys_parse_back_and_anchor_keys_are_not_heads() {
        let head = ChainMetaKey::Head("s", "").encode();
        assert_eq!(ChainMetaKey::parse_head(&head), Some(("s", "")));
        let anchor = ChainMetaKey::Anchor("s", "").encode();
        assert_eq!(ChainMetaKey::parse_head(&anchor), None);
    }
}
