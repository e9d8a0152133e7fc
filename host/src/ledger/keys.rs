//! Key encodings. Big-endian, sign-flipped times, so sled's byte order is
//! time order; names length-prefixed, so no name can forge another's prefix.

use crate::model::DatasetRef;

/// Appends `text` with a u32 big-endian length prefix.
pub fn push_str(key: &mut Vec<u8>, text: &str) {
    key.extend_from_slice(&(text.len() as u32).to_be_bytes());
    key.extend_from_slice(text.as_bytes());
}

/// An i64 as 8 bytes that sort like the number.
pub fn push_i64(key: &mut Vec<u8>, value: i64) {
    key.extend_from_slice(&((value as u64) ^ (1 << 63)).to_be_bytes());
}

/// Reads back what [`push_i64`] wrote.
pub fn read_i64(bytes: &[u8]) -> Option<i64> {
    let raw: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(raw) ^ (1 << 63)) as i64)
}

/// The prefix of one dataset's keys.
pub fn dataset(d: &DatasetRef) -> Vec<u8> {
    let mut key = Vec::with_capacity(d.namespace.len() + d.name.len() + 8);
    push_str(&mut key, &d.namespace);
    push_str(&mut key, &d.name);
    key
}

/// The prefix of one SLO's keys.
pub fn slo(name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() + 4);
    push_str(&mut key, name);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_sort_as_numbers_across_zero() {
        let enc = |v| {
            let mut k = Vec::new();
            push_i64(&mut k, v);
            k
        };
        assert!(enc(-5) < enc(0) && enc(0) < enc(7) && enc(i64::MIN) < enc(i64::MAX));
        assert_eq!(read_i64(&enc(-42)), Some(-42));
    }

    #[test]
    fn a_name_cannot_forge_another_prefix() {
        assert!(!slo("ab").starts_with(&slo("a")));
    }
}
