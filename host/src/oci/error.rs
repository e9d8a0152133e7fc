//! What can go wrong between dataslo and an OCI registry, each naming the
//! reference (or the registry) a user would check.

use crate::runtime::LoadError;

/// A push, pull or resolution that failed.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// No connection to the registry (and, for a tag, no cached resolution).
    #[error("OCI registry {registry} is unreachable ({reference}): {error}")]
    Unreachable {
        /// `host[:port]`.
        registry: String,
        /// The reference being resolved or pushed.
        reference: String,
        /// Why.
        error: String,
    },
    /// The registry has no such tag, digest or repository.
    #[error("{reference}: not found in the registry")]
    NotFound {
        /// The reference.
        reference: String,
    },
    /// The manifest is not a CNCF Wasm artifact: config
    /// `application/vnd.wasm.config.v0+json` and one `application/wasm` layer.
    #[error(
        "{reference} is not a Wasm artifact: {found}; dataslo expects config \
         `application/vnd.wasm.config.v0+json` and one layer `application/wasm`"
    )]
    NotWasm {
        /// The reference.
        reference: String,
        /// What the manifest holds instead.
        found: String,
    },
    /// Bytes that are not those their digest names.
    #[error("{reference}: {what} should have digest sha256:{expected}, but has sha256:{found}")]
    DigestMismatch {
        /// The reference.
        reference: String,
        /// The manifest or the layer.
        what: &'static str,
        /// The digest asked for.
        expected: String,
        /// The digest of what came.
        found: String,
    },
    /// A push names a digest: the registry names what it stores.
    #[error("{reference}: push to a tag (`oci://HOST/REPO:TAG`), not a digest")]
    PushNeedsTag {
        /// The reference.
        reference: String,
    },
    /// The component is not a policy this host runs (push validates first).
    #[error(transparent)]
    Invalid(#[from] LoadError),
    /// The registry answered with an error of another kind.
    #[error("{reference}: the registry refused: {error}")]
    Registry {
        /// The reference.
        reference: String,
        /// What it said.
        error: String,
    },
    /// The local cache could not be read or written.
    #[error("OCI cache {path}: {error}")]
    Cache {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// A signature document that cannot be read.
    #[error(transparent)]
    Trust(#[from] crate::trust::TrustError),
    /// The client's threads or TLS could not start.
    #[error("cannot start the OCI client: {0}")]
    Client(String),
}

impl OciError {
    /// A stable name for the kind of failure, for `--format json`.
    pub fn code(&self) -> &'static str {
        match self {
            OciError::Unreachable { .. } => "oci_unreachable",
            OciError::NotFound { .. } => "oci_not_found",
            OciError::NotWasm { .. } => "oci_not_wasm",
            OciError::DigestMismatch { .. } => "oci_digest_mismatch",
            OciError::PushNeedsTag { .. } => "oci_push_needs_tag",
            OciError::Invalid(_) => "invalid_policy",
            OciError::Registry { .. } => "oci_registry",
            OciError::Cache { .. } => "oci_cache",
            OciError::Client(_) => "oci_client",
            OciError::Trust(e) => e.code(),
        }
    }
}
