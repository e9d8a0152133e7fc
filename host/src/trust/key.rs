//! Keys: a public key is its 32 bytes in standard base64 (44 characters);
//! a private key file holds the 32-byte ed25519 seed in base64 on one line.

use super::TrustError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::fmt;
use std::str::FromStr;

/// An ed25519 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey(pub(super) [u8; 32]);

/// An ed25519 private key (its seed).
pub struct SecretKey(ed25519_dalek::SigningKey);

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&STANDARD.encode(self.0))
    }
}

impl FromStr for PublicKey {
    type Err = TrustError;

    fn from_str(text: &str) -> Result<Self, TrustError> {
        let bad = |why: String| TrustError::BadKey {
            key: text.to_string(),
            why,
        };
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| bad(format!("not base64 ({e})")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| bad(format!("{} bytes, not 32", b.len())))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| bad("not an ed25519 point".into()))?;
        Ok(PublicKey(bytes))
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl PublicKey {
    pub(super) fn verifying(&self) -> Option<ed25519_dalek::VerifyingKey> {
        ed25519_dalek::VerifyingKey::from_bytes(&self.0).ok()
    }
}

impl SecretKey {
    /// The key of a 32-byte seed.
    pub fn from_bytes(seed: [u8; 32]) -> Self {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<Self, TrustError> {
        use rand::TryRng;
        let mut seed = [0u8; 32];
        rand::rngs::SysRng
            .try_fill_bytes(&mut seed)
            .map_err(|e| TrustError::BadSecret {
                path: "(new key)".into(),
                why: format!("the OS gave no randomness: {e}"),
            })?;
        Ok(Self::from_bytes(seed))
    }

    /// The file's text: the seed in base64 and a newline.
    pub fn to_file_text(&self) -> String {
        format!("{}\n", STANDARD.encode(self.0.to_bytes()))
    }

    /// Reads the text of a private key file named `path`.
    pub fn from_file_text(path: &str, text: &str) -> Result<Self, TrustError> {
        let bad = |why: String| TrustError::BadSecret {
            path: path.to_string(),
            why,
        };
        let bytes = STANDARD.decode(text.trim()).map_err(|e| {
            bad(format!(
                "not base64 ({e}); write it with `dataslo policy keygen`"
            ))
        })?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| bad(format!("{} bytes, not a 32-byte ed25519 seed", b.len())))?;
        Ok(Self::from_bytes(seed))
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs the component of sha256 `sha256` (hex).
    pub fn sign(&self, sha256: &str) -> super::Signature {
        use ed25519_dalek::Signer;
        let sha256 = sha256.to_ascii_lowercase();
        let signature = self.0.sign(super::message(&sha256).as_bytes());
        super::Signature {
            key: self.public(),
            sha256,
            signature: STANDARD.encode(signature.to_bytes()),
        }
    }
}
