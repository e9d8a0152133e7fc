//! Why a policy is refused under `trusted_keys`, or a key or signature
//! cannot be read. Each names the policy, its component's sha256 and the
//! keys concerned.

/// A refusal or an unreadable key or signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// No signature at all.
    #[error(
        "policy {policy} (sha256 {sha256}) is not signed, and trusted_keys is set: \
         sign it with `dataslo policy sign` by a trusted key"
    )]
    Unsigned {
        /// The policy as named.
        policy: String,
        /// Its component's sha256.
        sha256: String,
    },
    /// Signed, but by no trusted key.
    #[error(
        "policy {policy} (sha256 {sha256}) is signed by {keys}, not a trusted key \
         (add it to trusted_keys, or sign with a trusted one)"
    )]
    Untrusted {
        /// The policy.
        policy: String,
        /// Its sha256.
        sha256: String,
        /// The keys that signed, base64.
        keys: String,
    },
    /// Signed only by revoked keys.
    #[error("policy {policy} (sha256 {sha256}) is signed only by revoked key(s) {keys}")]
    Revoked {
        /// The policy.
        policy: String,
        /// Its sha256.
        sha256: String,
        /// The revoked keys that signed.
        keys: String,
    },
    /// A trusted key's signature that does not verify.
    #[error(
        "policy {policy} (sha256 {sha256}): the signature by trusted key {keys} does not verify"
    )]
    BadSignature {
        /// The policy.
        policy: String,
        /// Its sha256.
        sha256: String,
        /// The keys whose signature fails.
        keys: String,
    },
    /// A valid signature of other bytes: the component changed after signing.
    #[error(
        "policy {policy} has sha256 {sha256}, but trusted key {key} signed sha256 {signed}: \
         the component changed after it was signed"
    )]
    Tampered {
        /// The policy.
        policy: String,
        /// The sha256 of its bytes now.
        sha256: String,
        /// The sha256 that was signed.
        signed: String,
        /// The key that signed it.
        key: String,
    },
    /// A public key that is not 32 bytes of base64.
    #[error(
        "key {key:?}: {why}; a public key is 32 bytes in base64 (as `dataslo policy keygen` prints it)"
    )]
    BadKey {
        /// The text given.
        key: String,
        /// What is wrong with it.
        why: String,
    },
    /// A private key file that cannot be used.
    #[error("private key {path}: {why}")]
    BadSecret {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// A signature document that cannot be read.
    #[error("signatures {source_name}: {why}")]
    BadDocument {
        /// Where it came from (a file, a tag, a header).
        source_name: String,
        /// What is wrong.
        why: String,
    },
}

impl TrustError {
    /// A stable name for the kind of failure, for `--format json` and the API.
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::Unsigned { .. } => "policy_unsigned",
            TrustError::Untrusted { .. } => "policy_untrusted",
            TrustError::Revoked { .. } => "policy_revoked",
            TrustError::BadSignature { .. } => "policy_bad_signature",
            TrustError::Tampered { .. } => "policy_tampered",
            TrustError::BadKey { .. } => "trust_key_invalid",
            TrustError::BadSecret { .. } => "trust_secret_invalid",
            TrustError::BadDocument { .. } => "signature_invalid",
        }
    }
}
