//! The signature document, the same JSON wherever it is kept: a `<file>.sig`,
//! the layer of a `sha256-<manifest hex>.sig` OCI tag (media type
//! [`MEDIA_TYPE`]), or, one signature at a time, an upload's headers.

use super::{PublicKey, TrustError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The media type of the signature document (the OCI layer's).
pub const MEDIA_TYPE: &str = "application/vnd.dataslo.signature.v1+json";

/// What a key signs for the component of sha256 `hex` (lowercase).
pub fn message(hex: &str) -> String {
    format!("dataslo-policy-signature-v1:sha256:{hex}")
}

/// One key's signature of one component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Signature {
    /// The public key, base64.
    pub key: PublicKey,
    /// The component's sha256 it signs, hex.
    pub sha256: String,
    /// The ed25519 signature of [`message`]`(sha256)`, base64.
    pub signature: String,
}

/// Every signature of a component: several during a key rotation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatures {
    /// The signatures, one per key.
    pub signatures: Vec<Signature>,
}

impl Signature {
    /// Whether the signature is the key's over [`message`]`(self.sha256)`.
    pub fn verifies(&self) -> bool {
        let Ok(bytes) = STANDARD.decode(&self.signature) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes) else {
            return false;
        };
        let Some(key) = self.key.verifying() else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        key.verify_strict(
            message(&self.sha256.to_ascii_lowercase()).as_bytes(),
            &signature,
        )
        .is_ok()
    }

    /// An upload's `Dataslo-Signature` header, `<base64 key>:<base64
    /// signature>`, for the component of sha256 `sha256`.
    pub fn from_header(value: &str, sha256: &str) -> Result<Self, TrustError> {
        let bad = |why: &str| TrustError::BadDocument {
            source_name: "header Dataslo-Signature".into(),
            why: why.into(),
        };
        let (key, signature) = value
            .trim()
            .split_once(':')
            .ok_or_else(|| bad("expected `<base64 public key>:<base64 signature>`"))?;
        Ok(Signature {
            key: key.parse()?,
            sha256: sha256.to_string(),
            signature: signature.to_string(),
        })
    }
}

impl Signatures {
    /// Reads a document from `source_name` (for errors).
    pub fn decode(source_name: &str, bytes: &[u8]) -> Result<Self, TrustError> {
        serde_json::from_slice(bytes).map_err(|e| TrustError::BadDocument {
            source_name: source_name.to_string(),
            why: e.to_string(),
        })
    }

    /// The document, pretty JSON with a final newline.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Adds `signature`, replacing any earlier one by the same key of the
    /// same component.
    pub fn add(&mut self, signature: Signature) {
        self.signatures
            .retain(|s| !(s.key == signature.key && s.sha256 == signature.sha256));
        self.signatures.push(signature);
    }
}
