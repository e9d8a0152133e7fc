//! The registry calls, through `oci-client`: each runs on a thread of its own
//! with a small tokio runtime, so callers may be sync code or inside another
//! runtime (the server's) alike.

use super::OciError;
use super::artifact::{CONFIG_MEDIA_TYPE, LAYER_MEDIA_TYPE};
use crate::model::{OciRef, OciTarget};
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};
use oci_client::manifest::OciImageManifest;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use std::time::Duration;

/// Which registries are spoken to over plain HTTP.
#[derive(Debug, Clone, Default)]
pub struct Remote {
    insecure: Vec<String>,
}

/// A pulled manifest that is a Wasm artifact.
#[derive(Debug, Clone)]
pub struct WasmManifest {
    /// Its digest, hex.
    pub digest: String,
    /// The layer's digest (the component's sha256), hex.
    pub layer: String,
    /// The layer's size in bytes.
    pub size: i64,
}

/// Whether `registry` (`host[:port]`) is this machine: spoken to over HTTP.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => registry,
    };
    host == "localhost"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(super) fn reference(r: &OciRef) -> Reference {
    match &r.target {
        OciTarget::Tag(tag) => {
            Reference::with_tag(r.registry.clone(), r.repository.clone(), tag.clone())
        }
        OciTarget::Digest(hex) => Reference::with_digest(
            r.registry.clone(),
            r.repository.clone(),
            format!("sha256:{hex}"),
        ),
    }
}

/// The hex of `sha256:<hex>`.
pub(super) fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

impl Remote {
    /// Plain HTTP for loopback registries and for those in `insecure`
    /// (`host[:port]`); HTTPS for every other.
    pub fn new(insecure: Vec<String>) -> Self {
        Remote { insecure }
    }

    fn plain_http(&self, registry: &str) -> bool {
        is_loopback(registry) || self.insecure.iter().any(|r| r == registry)
    }

    pub(super) fn client(&self, registry: &str) -> Result<Client, OciError> {
        // reqwest is built without a TLS provider of its own: ring, the one
        // the rest of the tree uses. Installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let protocol = if self.plain_http(registry) {
            ClientProtocol::HttpsExcept(vec![registry.to_string()])
        } else {
            ClientProtocol::Https
        };
        Client::try_from(ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            platform_resolver: None,
            ..ClientConfig::default()
        })
        .map_err(|e| OciError::Client(e.to_string()))
    }

    /// Resolves `r` to its manifest, checked to be a Wasm artifact (and,
    /// for a digest reference, to have that digest).
    pub fn manifest(&self, r: &OciRef) -> Result<WasmManifest, OciError> {
        let client = self.client(&r.registry)?;
        let image = reference(r);
        let (manifest, digest) = block(|| async {
            client
                .pull_image_manifest(&image, &RegistryAuth::Anonymous)
                .await
        })?
        .map_err(|e| classify(r, e))?;
        let digest = hex_of(&digest).to_string();
        if let OciTarget::Digest(wanted) = &r.target
            && *wanted != digest
        {
            return Err(OciError::DigestMismatch {
                reference: r.to_string(),
                what: "the manifest",
                expected: wanted.clone(),
                found: digest,
            });
        }
        wasm_layer(r, &manifest, digest)
    }

    /// The component bytes of `manifest`, checked against its layer digest.
    pub fn component(&self, r: &OciRef, manifest: &WasmManifest) -> Result<Vec<u8>, OciError> {
        let client = self.client(&r.registry)?;
        let image = reference(&r.at_digest(&manifest.digest));
        let layer = oci_client::manifest::OciDescriptor {
            media_type: LAYER_MEDIA_TYPE.to_string(),
            digest: format!("sha256:{}", manifest.layer),
            size: manifest.size,
            ..Default::default()
        };
        let bytes = block(|| async {
            let mut out = Vec::new();
            client
                .pull_blob(&image, &layer, &mut out)
                .await
                .map(|()| out)
        })?
        .map_err(|e| classify(r, e))?;
        let found = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        if found != manifest.layer {
            return Err(OciError::DigestMismatch {
                reference: r.to_string(),
                what: "the component layer",
                expected: manifest.layer.clone(),
                found,
            });
        }
        Ok(bytes)
    }

    /// Pushes `component` with `config` (the artifact's config JSON) to `r`
    /// (a tag or a digest); returns the manifest digest, hex.
    pub fn push(&self, r: &OciRef, component: &[u8], config: Vec<u8>) -> Result<String, OciError> {
        let client = self.client(&r.registry)?;
        let image = reference(r);
        let layers = vec![ImageLayer::new(
            component.to_vec(),
            LAYER_MEDIA_TYPE.to_string(),
            None,
        )];
        let config = Config::new(config, CONFIG_MEDIA_TYPE.to_string(), None);
        let mut manifest = OciImageManifest::build(&layers, &config, None);
        manifest.media_type = Some(oci_client::manifest::OCI_IMAGE_MEDIA_TYPE.to_string());
        block(|| async {
            let auth = RegistryAuth::Anonymous;
            client
                .push(&image, &layers, config, &auth, Some(manifest))
                .await?;
            client.fetch_manifest_digest(&image, &auth).await
        })?
        .map(|digest| hex_of(&digest).to_string())
        .map_err(|e| classify(r, e))
    }
}

/// Checks that `manifest` is a CNCF Wasm artifact: its config's media type
/// and exactly one `application/wasm` layer.
fn wasm_layer(
    r: &OciRef,
    manifest: &OciImageManifest,
    digest: String,
) -> Result<WasmManifest, OciError> {
    let not_wasm = |found: String| OciError::NotWasm {
        reference: r.to_string(),
        found,
    };
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(not_wasm(format!(
            "its config is `{}`",
            manifest.config.media_type
        )));
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(not_wasm(format!("it has {} layers", manifest.layers.len())));
    };
    if layer.media_type != LAYER_MEDIA_TYPE {
        return Err(not_wasm(format!("its layer is `{}`", layer.media_type)));
    }
    let layer_hex = hex_of(&layer.digest);
    if !layer.digest.starts_with("sha256:") || layer_hex.len() != 64 {
        return Err(not_wasm(format!("its layer digest is `{}`", layer.digest)));
    }
    Ok(WasmManifest {
        digest,
        layer: layer_hex.to_string(),
        size: layer.size,
    })
}

/// Runs the future `make` builds on a thread of its own with a current-thread
/// runtime: never nested in a caller's runtime, which would panic.
pub(super) fn block<T: Send, F: Future<Output = T>>(
    make: impl FnOnce() -> F + Send,
) -> Result<T, OciError> {
    std::thread::scope(|s| {
        s.spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| OciError::Client(e.to_string()))?;
            Ok(runtime.block_on(make()))
        })
        .join()
        .map_err(|_| OciError::Client("the registry call's thread panicked".into()))?
    })
}

/// The registry's error, as a user reads it.
pub(super) fn classify(r: &OciRef, error: OciDistributionError) -> OciError {
    let not_found = || OciError::NotFound {
        reference: r.to_string(),
    };
    match &error {
        OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
            OciError::Unreachable {
                registry: r.registry.clone(),
                reference: r.to_string(),
                error: chain(e),
            }
        }
        OciDistributionError::DigestError(DigestError::VerificationError { expected, actual }) => {
            OciError::DigestMismatch {
                reference: r.to_string(),
                what: "what the registry sent",
                expected: hex_of(expected).to_string(),
                found: hex_of(actual).to_string(),
            }
        }
        OciDistributionError::ImageManifestNotFoundError(_) => not_found(),
        OciDistributionError::ServerError { code: 404, .. } => not_found(),
        OciDistributionError::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|e| {
                matches!(
                    e.code,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                        | OciErrorCode::BlobUnknown
                )
            }) =>
        {
            not_found()
        }
        _ => OciError::Registry {
            reference: r.to_string(),
            error: chain(&error),
        },
    }
}

/// An error and its sources on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
