//! Stored values: a CRC-32 of the JSON, then the JSON.

use super::LedgerError;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let mut out = Vec::with_capacity(json.len() + 4);
    out.extend_from_slice(&crc32fast::hash(&json).to_be_bytes());
    out.extend_from_slice(&json);
    out
}

/// The JSON inside what [`encode`] returned.
pub fn json(encoded: &[u8]) -> &[u8] {
    encoded.get(4..).unwrap_or_default()
}

pub fn decode<T: DeserializeOwned>(tree: &str, key: &[u8], bytes: &[u8]) -> Result<T, LedgerError> {
    let json = checked(tree, key, bytes)?;
    serde_json::from_slice(json).map_err(|e| corrupt(tree, key, format!("does not decode: {e}")))
}

/// The JSON inside `bytes` once its checksum matches: for a value of more
/// than one form, tried one after the other.
pub fn checked<'a>(tree: &str, key: &[u8], bytes: &'a [u8]) -> Result<&'a [u8], LedgerError> {
    let (sum, json) = bytes
        .split_at_checked(4)
        .ok_or_else(|| corrupt(tree, key, "shorter than its checksum".into()))?;
    let expected = u32::from_be_bytes(sum.try_into().unwrap_or([0; 4]));
    if crc32fast::hash(json) != expected {
        return Err(corrupt(tree, key, "checksum mismatch".into()));
    }
    Ok(json)
}

fn corrupt(tree: &str, key: &[u8], reason: String) -> LedgerError {
    LedgerError::Corrupt {
        tree: tree.into(),
        key: hex::encode(key),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flipped_bit_is_detected() {
        let mut bytes = encode(&vec![1u64, 2, 3]);
        assert_eq!(
            decode::<Vec<u64>>("t", b"k", &bytes).unwrap(),
            vec![1, 2, 3]
        );
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        assert!(
            decode::<Vec<u64>>("t", b"k", &bytes)
                .unwrap_err()
                .to_string()
                .contains("checksum")
        );
        assert!(decode::<Vec<u64>>("t", b"k", &[1, 2]).is_err());
    }
}
