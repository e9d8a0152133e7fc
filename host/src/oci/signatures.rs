//! Signatures in a registry without a referrers API, cosign-style: the tag
//! `sha256-<manifest hex>.sig` in the policy's repository holds an artifact
//! whose one layer ([`crate::trust::MEDIA_TYPE`]) is the signature document.
//! Its config is the OCI empty descriptor.

use super::OciError;
use super::remote::{Remote, block, classify, hex_of, reference};
use crate::model::{OciRef, OciTarget};
use crate::trust::MEDIA_TYPE;
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use oci_client::secrets::RegistryAuth;

/// The empty config every signature artifact has.
const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

/// The signature tag of manifest `manifest` (hex) in `r`'s repository.
pub fn signature_tag(r: &OciRef, manifest: &str) -> OciRef {
    OciRef {
        registry: r.registry.clone(),
        repository: r.repository.clone(),
        target: OciTarget::Tag(format!("sha256-{manifest}.sig")),
    }
}

impl Remote {
    /// The signature document of manifest `manifest`; `None` when the
    /// registry has no signature tag for it.
    pub fn signatures(&self, r: &OciRef, manifest: &str) -> Result<Option<Vec<u8>>, OciError> {
        let tag = signature_tag(r, manifest);
        let client = self.client(&tag.registry)?;
        let image = reference(&tag);
        let pulled = block(|| async {
            let auth = RegistryAuth::Anonymous;
            let (m, _) = client.pull_image_manifest(&image, &auth).await?;
            let mut out = Vec::new();
            if let Some(layer) = m.layers.iter().find(|l| l.media_type == MEDIA_TYPE) {
                client.pull_blob(&image, layer, &mut out).await?;
            }
            Ok::<_, oci_client::errors::OciDistributionError>(out)
        })?;
        match pulled.map_err(|e| classify(&tag, e)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(OciError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Pushes `document` as the signature artifact of manifest `manifest`,
    /// replacing the tag's earlier one; returns the artifact's digest, hex.
    pub fn push_signatures(
        &self,
        r: &OciRef,
        manifest: &str,
        document: Vec<u8>,
    ) -> Result<String, OciError> {
        let tag = signature_tag(r, manifest);
        let client = self.client(&tag.registry)?;
        let image = reference(&tag);
        let layers = vec![ImageLayer::new(document, MEDIA_TYPE.to_string(), None)];
        let config = Config::new(b"{}".to_vec(), EMPTY_CONFIG.to_string(), None);
        let mut m = OciImageManifest::build(&layers, &config, None);
        m.media_type = Some(oci_client::manifest::OCI_IMAGE_MEDIA_TYPE.to_string());
        block(|| async {
            let auth = RegistryAuth::Anonymous;
            client.push(&image, &layers, config, &auth, Some(m)).await?;
            client.fetch_manifest_digest(&image, &auth).await
        })?
        .map(|digest| hex_of(&digest).to_string())
        .map_err(|e| classify(&tag, e))
    }
}
