//! Pulled policies on disk, so that a reference pulled once works offline:
//! `blobs/<sha256>.wasm` (the component, named by its own sha256, which is
//! its layer digest), `manifests/<sha256>.json` (a manifest digest to its
//! layer) and `tags/<sha256 of the reference>.json` (a tag to the manifest it
//! was last resolved to), `signatures/<manifest sha256>.json` (the signature
//! document of its `sha256-<hex>.sig` tag). Each file is written whole, then renamed.

use super::OciError;
use crate::model::OciRef;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The cache's folder, `<data_dir>/oci`.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// A manifest digest and the component it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// The repository it was pulled from, `oci://host/repo@sha256:…`.
    pub reference: String,
    /// The component's sha256 (its layer digest), hex.
    pub layer: String,
}

/// What a tag was last resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord {
    /// The tag reference.
    pub reference: String,
    /// Its manifest digest then, hex.
    pub manifest: String,
    /// When.
    pub resolved_at: jiff::Timestamp,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OciError + '_ {
    move |error| OciError::Cache {
        path: path.display().to_string(),
        error,
    }
}

impl Cache {
    /// The cache under `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        Cache { dir }
    }

    /// The component file of sha256 `hex`.
    pub fn blob_path(&self, hex: &str) -> PathBuf {
        self.dir.join("blobs").join(format!("{hex}.wasm"))
    }

    fn manifest_path(&self, hex: &str) -> PathBuf {
        self.dir.join("manifests").join(format!("{hex}.json"))
    }

    fn tag_path(&self, reference: &OciRef) -> PathBuf {
        let name = hex::encode(Sha256::digest(reference.to_string().as_bytes()));
        self.dir.join("tags").join(format!("{name}.json"))
    }

    /// The cached component of sha256 `hex`, checked against it; `None` when
    /// absent or no longer those bytes.
    pub fn blob(&self, hex: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.blob_path(hex)).ok()?;
        (hex::encode(Sha256::digest(&bytes)) == hex).then_some(bytes)
    }

    /// Stores a component under its sha256.
    pub fn put_blob(&self, hex: &str, bytes: &[u8]) -> Result<(), OciError> {
        write_whole(&self.blob_path(hex), bytes)
    }

    /// The layer of a cached manifest.
    pub fn manifest(&self, hex: &str) -> Option<ManifestRecord> {
        read_json(&self.manifest_path(hex))
    }

    /// Records a manifest digest's layer.
    pub fn put_manifest(&self, hex: &str, record: &ManifestRecord) -> Result<(), OciError> {
        write_whole(&self.manifest_path(hex), &to_json(record))
    }

    fn signatures_path(&self, manifest: &str) -> PathBuf {
        self.dir.join("signatures").join(format!("{manifest}.json"))
    }

    /// The signature document last pulled for manifest `manifest` (hex).
    pub fn signatures(&self, manifest: &str) -> Option<Vec<u8>> {
        std::fs::read(self.signatures_path(manifest)).ok()
    }

    /// Keeps the signature document pulled for manifest `manifest`.
    pub fn put_signatures(&self, manifest: &str, bytes: &[u8]) -> Result<(), OciError> {
        write_whole(&self.signatures_path(manifest), bytes)
    }

    /// What `reference` (a tag) was last resolved to.
    pub fn tag(&self, reference: &OciRef) -> Option<TagRecord> {
        read_json(&self.tag_path(reference))
    }

    /// Records what a tag resolved to.
    pub fn put_tag(&self, reference: &OciRef, record: &TagRecord) -> Result<(), OciError> {
        write_whole(&self.tag_path(reference), &to_json(record))
    }
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it
/// over `path`: a reader sees the old file or the new one, never a part.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), OciError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // Unique per process and call: two arms may cache the same blob at once.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    let mut file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
