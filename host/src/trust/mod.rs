//! Policy signatures: ed25519 over a component's sha256, and the keys a
//! tenant trusts. A signature signs the ASCII message
//! `dataslo-policy-signature-v1:sha256:<hex>` (see [`message`]); signatures
//! travel as a small JSON document ([`Signatures`]) beside a file
//! (`<file>.sig`), in a cosign-style OCI tag (`sha256-<manifest hex>.sig`) or
//! with an upload (`Dataslo-Signature` headers). Which of them a policy has
//! is for the caller to gather; [`Trust::check`] judges them.
//!
//! Depends on nothing in the crate; the OCI client, the registry, the
//! scheduler's arming, the service and the CLI depend on it.

mod error;
mod key;
mod signature;

pub use error::TrustError;
pub use key::{PublicKey, SecretKey};
pub use signature::{MEDIA_TYPE, Signature, Signatures, message};

use std::collections::BTreeSet;

/// The keys a tenant (or `run`, or `eval`) trusts and those it revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    trusted: BTreeSet<PublicKey>,
    revoked: BTreeSet<PublicKey>,
}

impl Trust {
    /// From the base64 keys of `trusted_keys` and `revoked_keys`; `None`
    /// when no key is trusted (then every policy loads, signed or not).
    pub fn from_config(trusted: &[String], revoked: &[String]) -> Result<Option<Self>, TrustError> {
        if trusted.is_empty() {
            return Ok(None);
        }
        let parse = |keys: &[String]| -> Result<BTreeSet<PublicKey>, TrustError> {
            keys.iter().map(|k| k.parse()).collect()
        };
        Ok(Some(Trust {
            trusted: parse(trusted)?,
            revoked: parse(revoked)?,
        }))
    }

    /// Whether `policy` (its component's sha256 `sha256`, hex) carries a
    /// valid signature by a trusted key that is not revoked; that key, or
    /// why not. A revoked key never counts, even when also trusted.
    pub fn check(
        &self,
        policy: &str,
        sha256: &str,
        signatures: &[Signature],
    ) -> Result<PublicKey, TrustError> {
        let mut tampered = None;
        let mut bad = Vec::new();
        let mut revoked = Vec::new();
        let mut untrusted = Vec::new();
        for s in signatures {
            if self.revoked.contains(&s.key) {
                revoked.push(s.key.to_string());
            } else if !self.trusted.contains(&s.key) {
                untrusted.push(s.key.to_string());
            } else if !s.sha256.eq_ignore_ascii_case(sha256) {
                if s.verifies() {
                    tampered.get_or_insert((s.key.to_string(), s.sha256.clone()));
                } else {
                    bad.push(s.key.to_string());
                }
            } else if s.verifies() {
                return Ok(s.key);
            } else {
                bad.push(s.key.to_string());
            }
        }
        let policy = policy.to_string();
        let sha256 = sha256.to_string();
        Err(if let Some((key, signed)) = tampered {
            TrustError::Tampered {
                policy,
                sha256,
                signed,
                key,
            }
        } else if !bad.is_empty() {
            TrustError::BadSignature {
                policy,
                sha256,
                keys: bad.join(", "),
            }
        } else if !revoked.is_empty() {
            TrustError::Revoked {
                policy,
                sha256,
                keys: revoked.join(", "),
            }
        } else if !untrusted.is_empty() {
            TrustError::Untrusted {
                policy,
                sha256,
                keys: untrusted.join(", "),
            }
        } else {
            TrustError::Unsigned { policy, sha256 }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SecretKey {
        SecretKey::from_bytes([seed; 32])
    }

    fn trust(trusted: &[&SecretKey], revoked: &[&SecretKey]) -> Trust {
        let b64 = |keys: &[&SecretKey]| {
            keys.iter()
                .map(|k| k.public().to_string())
                .collect::<Vec<_>>()
        };
        Trust::from_config(&b64(trusted), &b64(revoked))
            .unwrap()
            .unwrap()
    }

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn a_signature_by_a_trusted_key_over_the_digest_is_accepted() {
        let k = key(1);
        assert_eq!(
            trust(&[&k], &[]).check("p", SHA, &[k.sign(SHA)]).unwrap(),
            k.public()
        );
    }

    #[test]
    fn each_refusal_has_its_kind() {
        let (old, new, stranger) = (key(1), key(2), key(3));
        let t = trust(&[&old, &new], &[&old]);
        let code = |sigs: &[Signature]| t.check("p", SHA, sigs).unwrap_err().code();
        assert_eq!(code(&[]), "policy_unsigned");
        assert_eq!(code(&[stranger.sign(SHA)]), "policy_untrusted");
        assert_eq!(code(&[old.sign(SHA)]), "policy_revoked");
        let other = "0".repeat(64);
        assert_eq!(code(&[new.sign(&other)]), "policy_tampered");
        let mut forged = new.sign(&other);
        forged.sha256 = SHA.to_string();
        assert_eq!(code(&[forged]), "policy_bad_signature");
        // Rotation: the old key's signature is ignored, the new one's counts.
        assert!(t.check("p", SHA, &[old.sign(SHA), new.sign(SHA)]).is_ok());
    }

    #[test]
    fn no_trusted_key_means_no_check_and_bad_keys_are_refused() {
        assert_eq!(Trust::from_config(&[], &[]).unwrap(), None);
        let e = Trust::from_config(&["bm90IGEga2V5".into()], &[]).unwrap_err();
        assert_eq!(e.code(), "trust_key_invalid");
    }
}
