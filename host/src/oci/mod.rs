//! Policies in OCI registries, as CNCF Wasm artifacts (config
//! `application/vnd.wasm.config.v0+json`, one `application/wasm` layer):
//! push, pull, and the resolution an SLO's `oci://` policy gets when it is
//! armed. A tag is resolved to a manifest digest then, and pulls are cached
//! by digest under `<data_dir>/oci/`, so a reference pulled once works
//! offline (a tag from its last resolution). Registries on a loopback
//! address, and those listed as insecure, are spoken to over plain HTTP.
//!
//! Signatures live in the tag `sha256-<manifest hex>.sig` beside the policy
//! (see `signatures`), cached too.
//!
//! Depends on runtime, trust and model; the service layer, the scheduler's arming and
//! the CLI depend on it.

mod artifact;
mod cache;
mod error;
mod remote;
mod signatures;

pub use artifact::{CONFIG_MEDIA_TYPE, ComponentInfo, LAYER_MEDIA_TYPE, WasmConfig};
pub use cache::{Cache, ManifestRecord, TagRecord};
pub use error::OciError;
pub use remote::{Remote, WasmManifest, is_loopback};
pub use signatures::signature_tag;

use crate::model::{OciRef, OciTarget};
use crate::runtime::Runtime;
use crate::trust::{SecretKey, Signature, Signatures};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// A registry client with (or without) a cache of what it pulled.
#[derive(Debug, Clone)]
pub struct Oci {
    remote: Remote,
    cache: Option<Cache>,
}

/// A policy fetched from a registry.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The reference at its manifest digest.
    pub pinned: OciRef,
    /// The manifest digest, hex.
    pub manifest: String,
    /// The component's sha256, hex.
    pub component: String,
    /// The component.
    pub bytes: Vec<u8>,
}

/// What a push stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The manifest digest, hex.
    pub manifest: String,
    /// The component's sha256, hex.
    pub component: String,
}

impl Oci {
    /// A client; `cache_dir` (`<data_dir>/oci`) keeps what it pulls. Plain
    /// HTTP for loopback registries and those in `insecure` (`host[:port]`).
    pub fn new(cache_dir: Option<PathBuf>, insecure: Vec<String>) -> Self {
        Oci {
            remote: Remote::new(insecure),
            cache: cache_dir.map(Cache::new),
        }
    }

    /// A component this client pulled before, by its sha256 (hex).
    pub fn cached_component(&self, hex: &str) -> Option<Vec<u8>> {
        self.cache.as_ref()?.blob(hex)
    }

    /// Fetches `r`'s component. A tag asks the registry for its digest; when
    /// the registry cannot be reached, the digest it last resolved to here is
    /// used. A digest already cached needs no registry at all.
    pub fn resolve(&self, r: &OciRef) -> Result<Resolved, OciError> {
        let manifest = match &r.target {
            OciTarget::Tag(_) => match self.remote.manifest(r) {
                Ok(m) => {
                    self.remember_tag(r, &m)?;
                    return self.fetch(r, &m);
                }
                Err(e @ OciError::Unreachable { .. }) => {
                    match self.cache.as_ref().and_then(|c| c.tag(r)) {
                        Some(tag) => tag.manifest,
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            },
            OciTarget::Digest(hex) => hex.clone(),
        };
        let pinned = r.at_digest(&manifest);
        if let Some(cache) = &self.cache
            && let Some(record) = cache.manifest(&manifest)
            && let Some(bytes) = cache.blob(&record.layer)
        {
            return Ok(Resolved {
                pinned,
                manifest,
                component: record.layer,
                bytes,
            });
        }
        let m = self.remote.manifest(&pinned)?;
        self.remember_manifest(&pinned, &m)?;
        self.fetch(r, &m)
    }

    /// The component of `m`: from the cache, or pulled and cached.
    fn fetch(&self, r: &OciRef, m: &WasmManifest) -> Result<Resolved, OciError> {
        let pinned = r.at_digest(&m.digest);
        let cached = self.cache.as_ref().and_then(|c| c.blob(&m.layer));
        let bytes = match cached {
            Some(bytes) => bytes,
            None => {
                let bytes = self.remote.component(&pinned, m)?;
                if let Some(cache) = &self.cache {
                    cache.put_blob(&m.layer, &bytes)?;
                }
                bytes
            }
        };
        self.remember_manifest(&pinned, m)?;
        Ok(Resolved {
            pinned,
            manifest: m.digest.clone(),
            component: m.layer.clone(),
            bytes,
        })
    }

    fn remember_manifest(&self, pinned: &OciRef, m: &WasmManifest) -> Result<(), OciError> {
        match &self.cache {
            Some(cache) => cache.put_manifest(
                &m.digest,
                &ManifestRecord {
                    reference: pinned.to_string(),
                    layer: m.layer.clone(),
                },
            ),
            None => Ok(()),
        }
    }

    fn remember_tag(&self, r: &OciRef, m: &WasmManifest) -> Result<(), OciError> {
        match &self.cache {
            Some(cache) => cache.put_tag(
                r,
                &TagRecord {
                    reference: r.to_string(),
                    manifest: m.digest.clone(),
                    resolved_at: jiff::Timestamp::now(),
                },
            ),
            None => Ok(()),
        }
    }

    /// Checks that `component` is a policy this host runs, then pushes it to
    /// `r`'s tag as a CNCF Wasm artifact.
    pub fn push(
        &self,
        runtime: &Runtime,
        component: &[u8],
        r: &OciRef,
    ) -> Result<Pushed, OciError> {
        if let OciTarget::Digest(_) = r.target {
            return Err(OciError::PushNeedsTag {
                reference: r.to_string(),
            });
        }
        let policy = runtime.load(&r.to_string(), component)?;
        let hex = hex::encode(Sha256::digest(component));
        let config = WasmConfig::new(
            format!("sha256:{hex}"),
            policy.interface().exports.clone(),
            policy.interface().imports.clone(),
        );
        let config = serde_json::to_vec(&config).unwrap_or_default();
        let manifest = self.remote.push(r, component, config)?;
        Ok(Pushed {
            manifest,
            component: hex,
        })
    }

    /// The signatures of manifest `manifest` (hex) in `r`'s repository:
    /// from its signature tag (kept in the cache), or, when the registry
    /// cannot be reached, those cached. None is an empty list.
    pub fn signatures(&self, r: &OciRef, manifest: &str) -> Result<Signatures, OciError> {
        let source = signature_tag(r, manifest).to_string();
        let bytes = match self.remote.signatures(r, manifest) {
            Ok(Some(bytes)) => {
                if let Some(cache) = &self.cache {
                    cache.put_signatures(manifest, &bytes)?;
                }
                bytes
            }
            Ok(None) => return Ok(Signatures::default()),
            Err(e @ OciError::Unreachable { .. }) => {
                match self.cache.as_ref().and_then(|c| c.signatures(manifest)) {
                    Some(bytes) => bytes,
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        Ok(Signatures::decode(&source, &bytes)?)
    }

    /// The signatures of manifest `manifest` this client fetched before;
    /// none when it never did.
    pub fn cached_signatures(&self, manifest: &str) -> Signatures {
        self.cache
            .as_ref()
            .and_then(|c| c.signatures(manifest))
            .and_then(|bytes| Signatures::decode(manifest, &bytes).ok())
            .unwrap_or_default()
    }

    /// Signs the component `r` resolves to with `key`, adding the signature
    /// to those of its manifest's signature tag.
    pub fn sign(&self, r: &OciRef, key: &SecretKey) -> Result<(Resolved, Signature), OciError> {
        let resolved = self.resolve(r)?;
        let mut all = self.signatures(r, &resolved.manifest)?;
        let signature = key.sign(&resolved.component);
        all.add(signature.clone());
        self.remote
            .push_signatures(r, &resolved.manifest, all.encode())?;
        Ok((resolved, signature))
    }
}
