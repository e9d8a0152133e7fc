//! Compiled components on disk, so a restart loads policies without compiling.
//!
//! Deserializing compiled code runs it, so only entries this user wrote are
//! trusted: the folder must be ours and writable by nobody else, every entry
//! must be ours, writable by nobody else, and carry its own key and the
//! CRC-32 of its payload. Anything else is discarded and recompiled.
//!
//! An entry is `<component sha256>-<engine key, 16 hex>.cwasm`:
//! `Component::serialize`'s bytes followed by a trailer (component sha256,
//! engine key, payload CRC-32, payload length, magic). The trailer comes
//! last so that the payload starts the file: a hit maps the file itself
//! (`Component::deserialize_file`) instead of reading and copying it, which
//! for an 18 MB Python guest (a 40 MB entry) was most of a hit's time.
//!
//! Why a CRC and not a sha256: the trust is the owner and mode checks (only
//! this user can write here, and a writer with our uid could recompute any
//! digest); the checksum is for accidents (a bit flipped on disk, an entry
//! edited by hand), which a CRC-32 detects as well (every burst up to 32
//! bits), at a fraction of sha256's cost. Torn writes cannot happen: entries
//! are written aside, fsynced and renamed, and the length is checked.
//!
//! A mapped entry must not be changed in place while a runtime uses it (a
//! truncation would fault the process). The cache never does: it replaces
//! entries by rename and removes them by unlink, and both leave a mapped
//! file intact.

use sha2::{Digest, Sha256};
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::Engine;
use wasmtime::component::Component;

// Version 2: the trailer format (version 1 had a header and a payload sha256).
const MAGIC: &[u8; 16] = b"dataslo-cwasm\0\0\x02";
/// Component sha256, engine key, payload CRC-32, payload length, magic.
const TRAILER: usize = 32 + 32 + 4 + 8 + 16;

/// The cache folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// It could not be created or read.
    #[error("compile cache {dir}: {error}")]
    Io {
        /// The folder.
        dir: String,
        /// Why.
        error: std::io::Error,
    },
    /// Someone else could have written into it.
    #[error("compile cache {dir} is not trusted: {reason}")]
    Untrusted {
        /// The folder.
        dir: String,
        /// Which check failed.
        reason: String,
    },
}

/// How loads found their compiled code, since the runtime started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Components compiled (cache misses, and every load without a cache).
    pub compiled: u64,
    /// Components deserialized from a trusted cache entry.
    pub hits: u64,
    /// Entries found but not trusted (corrupt, foreign, or another key).
    pub discarded: u64,
}

#[derive(Default)]
pub(super) struct Counters {
    compiled: AtomicU64,
    hits: AtomicU64,
    discarded: AtomicU64,
}

impl Counters {
    pub fn compiled(&self) {
        self.compiled.fetch_add(1, Ordering::Relaxed);
    }
    pub fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }
    pub fn discarded(&self) {
        self.discarded.fetch_add(1, Ordering::Relaxed);
    }
    pub fn snapshot(&self) -> CacheStats {
        CacheStats {
            compiled: self.compiled.load(Ordering::Relaxed),
            hits: self.hits.load(Ordering::Relaxed),
            discarded: self.discarded.load(Ordering::Relaxed),
        }
    }
}

/// What a lookup found.
pub(super) enum Lookup {
    Hit(Component),
    Miss,
    /// An entry existed but was not trusted; it has been removed if possible.
    Discarded(String),
}

/// A trusted cache folder for one engine configuration.
pub struct Cache {
    dir: PathBuf,
    engine_key: [u8; 32],
    uid: u32,
}

/// Feeds `Hash` output into sha256, for a stable engine key.
struct ShaHasher(Sha256);

impl std::hash::Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

/// The sha256 of what makes compiled code compatible with `engine`.
pub fn engine_key(engine: &Engine) -> [u8; 32] {
    use std::hash::Hash;
    let mut hasher = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().into()
}

fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Why `meta` (of a file or folder we are about to trust) is not ours alone.
fn distrust(meta: &std::fs::Metadata, uid: u32) -> Option<String> {
    if meta.uid() != uid {
        return Some(format!("owned by uid {}, not {uid}", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Some(format!(
            "mode {:o} lets others write to it",
            meta.mode() & 0o7777
        ));
    }
    None
}

impl Cache {
    /// Opens (creating with mode 0700) the cache folder `dir` for `engine`.
    pub fn open(dir: &Path, engine: &Engine) -> Result<Cache, CacheError> {
        let name = dir.display().to_string();
        let io = |error| CacheError::Io {
            dir: name.clone(),
            error,
        };
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        match DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
        let cache = Cache {
            dir: dir.to_path_buf(),
            engine_key: engine_key(engine),
            uid: current_uid(),
        };
        cache.check_dir()?;
        Ok(cache)
    }

    /// The folder is a real directory (not a symlink), ours, and closed to others.
    fn check_dir(&self) -> Result<(), CacheError> {
        let dir = self.dir.display().to_string();
        let meta = std::fs::symlink_metadata(&self.dir).map_err(|error| CacheError::Io {
            dir: dir.clone(),
            error,
        })?;
        let reason = if !meta.is_dir() {
            Some("not a directory".to_string())
        } else {
            distrust(&meta, self.uid)
        };
        match reason {
            Some(reason) => Err(CacheError::Untrusted { dir, reason }),
            None => Ok(()),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry path of the component whose bytes hash to `sha256`.
    pub fn entry_path(&self, sha256: &[u8; 32]) -> PathBuf {
        let engine = hex::encode(&self.engine_key[..8]);
        self.dir
            .join(format!("{}-{engine}.cwasm", hex::encode(sha256)))
    }

    /// Finds the compiled component for `sha256`, trusting only what passes
    /// every check.
    pub(super) fn get(&self, engine: &Engine, sha256: &[u8; 32]) -> Lookup {
        if let Err(e) = self.check_dir() {
            return Lookup::Discarded(e.to_string());
        }
        let path = self.entry_path(sha256);
        let file = match self.open_trusted(&path, sha256) {
            Ok(Some(file)) => file,
            Ok(None) => return Lookup::Miss,
            Err(reason) => return self.discard(&path, reason),
        };
        // SAFETY: the file is what this user's process serialized for an
        // engine with this compatibility key (checked by key and checksum
        // above), in a folder and file nobody else can write, and entries are
        // never changed in place (see the module's doc).
        match unsafe { deserialize_open(engine, &file) } {
            Ok(component) => Lookup::Hit(component),
            Err(e) => self.discard(&path, format!("cannot deserialize: {e:#}")),
        }
    }

    fn discard(&self, path: &Path, reason: String) -> Lookup {
        // Removing may fail (a foreign file in our folder); it is ignored
        // either way and overwritten by the next store.
        let _ = std::fs::remove_file(path);
        Lookup::Discarded(format!("{}: {reason}", path.display()))
    }

    /// The entry at `path`, open and checked, `None` if there is none, or
    /// why it is not trusted.
    fn open_trusted(&self, path: &Path, sha256: &[u8; 32]) -> Result<Option<File>, String> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path);
        let file = match file {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot open: {e}")),
        };
        // Checked on the open file, so it cannot be swapped after the check;
        // the same open file is what gets deserialized.
        let meta = file.metadata().map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        if let Some(reason) = distrust(&meta, self.uid) {
            return Err(reason);
        }
        let size = meta.len();
        let payload_len = size
            .checked_sub(TRAILER as u64)
            .ok_or("shorter than its trailer")?;
        let mut trailer = [0u8; TRAILER];
        file.read_exact_at(&mut trailer, payload_len)
            .map_err(|e| format!("cannot read its trailer: {e}"))?;
        if &trailer[TRAILER - 16..] != MAGIC {
            return Err("not a dataslo cache entry (or one of an older format)".into());
        }
        if &trailer[..32] != sha256 || trailer[32..64] != self.engine_key {
            return Err("its trailer names another component or engine".into());
        }
        let crc = u32::from_le_bytes(trailer[64..68].try_into().map_err(|_| "bad checksum")?);
        let len = u64::from_le_bytes(trailer[68..76].try_into().map_err(|_| "bad length")?);
        if payload_len != len {
            return Err(format!("truncated: {payload_len} of {len} bytes"));
        }
        let len = usize::try_from(len).map_err(|_| "too large to map")?;
        let map = Mapped::new(&file, len).map_err(|e| format!("cannot map: {e}"))?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(map.bytes());
        if hasher.finalize() != crc {
            return Err("checksum mismatch".into());
        }
        Ok(Some(file))
    }

    /// Stores `component` (compiled from bytes hashing to `sha256`)
    /// atomically: a private temporary file, fsynced, then renamed.
    pub fn put(&self, sha256: &[u8; 32], component: &Component) -> std::io::Result<()> {
        // Writing into a folder others can write to would be wasted: never read.
        self.check_dir().map_err(std::io::Error::other)?;
        let payload = component.serialize().map_err(std::io::Error::other)?;
        let path = self.entry_path(sha256);
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            hex::encode(&sha256[..8]),
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            file.write_all(&payload)?;
            file.write_all(sha256)?;
            file.write_all(&self.engine_key)?;
            file.write_all(&crc32fast::hash(&payload).to_le_bytes())?;
            file.write_all(&(payload.len() as u64).to_le_bytes())?;
            file.write_all(MAGIC)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            // Make the rename itself durable.
            File::open(&self.dir)?.sync_all()
        };
        let result = write();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Deserializes the open entry `file` by mapping it, through its
/// `/proc/self/fd` name so that the file checked is the file mapped; where
/// there is no /proc, by copying it.
///
/// # Safety
/// As `Component::deserialize_file`: the file holds what `serialize` wrote
/// for this engine and is not changed while the component lives.
unsafe fn deserialize_open(engine: &Engine, file: &File) -> wasmtime::Result<Component> {
    let fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    if fd.exists() {
        // wasmtime maps the whole file; the ELF it parses ignores the
        // trailer after its last section.
        // SAFETY: as this function's.
        return unsafe { Component::deserialize_file(engine, &fd) };
    }
    let len = file.metadata()?.len().saturating_sub(TRAILER as u64);
    let len = usize::try_from(len)?;
    let map = Mapped::new(file, len)?;
    // SAFETY: as this function's.
    unsafe { Component::deserialize(engine, map.bytes()) }
}

/// A read-only private mapping of a file's first `len` bytes.
struct Mapped {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapped {
    fn new(file: &File, len: usize) -> std::io::Result<Mapped> {
        if len == 0 {
            return Ok(Mapped {
                ptr: std::ptr::null_mut(),
                len,
            });
        }
        // SAFETY: a fresh read-only mapping of an open file, unmapped on drop.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Mapped { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` maps `len` readable bytes for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len != 0 {
            // SAFETY: unmaps exactly the mapping made in `new`.
            unsafe { libc::munmap(self.ptr, self.len) };
        }
    }
}
