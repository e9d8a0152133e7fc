//! Finding the component a `dataslo test PATH` tests: a policy crate's
//! `wasm32-wasip2` build (built first when missing or older than its
//! sources), or else the one `.wasm` file in PATH (a component built by
//! another language's toolchain).

use super::TestError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// The target policy crates are built for.
const TARGET: &str = "wasm32-wasip2";

/// The component to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Its file.
    pub path: PathBuf,
    /// How it was found.
    pub origin: Origin,
}

/// How the component was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Cargo built it just now.
    Built,
    /// A crate's build, newer than its sources.
    UpToDate,
    /// The one `.wasm` file in the folder.
    File,
}

/// The component of the policy in `dir`. A crate is built with
/// `cargo build --release --target wasm32-wasip2` (cargo's output goes to
/// stderr) when its component is missing or older than its `Cargo.toml`,
/// `Cargo.lock`, `build.rs`, `src/` or `wit/`.
pub fn find_component(dir: &Path) -> Result<Component, TestError> {
    let manifest = dir.join("Cargo.toml");
    if manifest.is_file() {
        let path = crate_component(&manifest)?;
        if is_fresh(&path, dir) {
            return Ok(Component {
                path,
                origin: Origin::UpToDate,
            });
        }
        build(&manifest)?;
        if !path.is_file() {
            return Err(TestError::Cargo {
                manifest,
                reason: format!("built, but {} is missing", path.display()),
            });
        }
        return Ok(Component {
            path,
            origin: Origin::Built,
        });
    }
    let entries = std::fs::read_dir(dir).map_err(|error| TestError::Read {
        path: dir.to_path_buf(),
        error,
    })?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    found.sort();
    match found.len() {
        0 => Err(TestError::NoPolicy {
            dir: dir.to_path_buf(),
        }),
        1 => Ok(Component {
            path: found.remove(0),
            origin: Origin::File,
        }),
        _ => Err(TestError::SeveralComponents {
            dir: dir.to_path_buf(),
            found: found
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Where cargo puts the crate's component: asks `cargo metadata`, which
/// knows the target directory (a workspace's, or `CARGO_TARGET_DIR`) and the
/// library's name.
fn crate_component(manifest: &Path) -> Result<PathBuf, TestError> {
    let fail = |reason: String| TestError::Cargo {
        manifest: manifest.to_path_buf(),
        reason,
    };
    let output = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(manifest)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot run cargo metadata: {e}")))?;
    if !output.status.success() {
        return Err(fail(
            "cargo metadata failed; see its output above".to_string(),
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| fail(format!("cargo metadata answered no JSON: {e}")))?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .ok_or_else(|| fail("cargo metadata names no target directory".into()))?;
    let wanted = std::fs::canonicalize(manifest).unwrap_or_else(|_| manifest.to_path_buf());
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| std::fs::canonicalize(m).is_ok_and(|m| m == wanted))
        })
        .ok_or_else(|| fail("is no package (a virtual workspace?)".into()))?;
    let library = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| {
            t["crate_types"]
                .as_array()
                .is_some_and(|types| types.iter().any(|k| k == "cdylib"))
        })
        .and_then(|t| t["name"].as_str())
        .ok_or_else(|| TestError::NotAPolicyCrate {
            manifest: manifest.to_path_buf(),
        })?;
    Ok(Path::new(target_dir)
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", library.replace('-', "_"))))
}

fn build(manifest: &Path) -> Result<(), TestError> {
    let status = cargo()
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(manifest)
        // Our stdout is the report; cargo's messages are for the terminal.
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| TestError::Cargo {
            manifest: manifest.to_path_buf(),
            reason: format!("cannot run cargo build: {e}"),
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(TestError::Cargo {
            manifest: manifest.to_path_buf(),
            reason: format!(
                "cargo build --release --target {TARGET} failed ({status}); see its output above \
                 (is the target installed? `rustup target add {TARGET}`)"
            ),
        })
    }
}

/// Whether `component` exists and is newer than every source of `dir`.
fn is_fresh(component: &Path, dir: &Path) -> bool {
    let Some(built) = modified(component) else {
        return false;
    };
    let mut newest = None;
    for name in ["Cargo.toml", "Cargo.lock", "build.rs", "src", "wit"] {
        newest = newest.max(newest_in(&dir.join(name)));
    }
    newest.is_none_or(|source| source <= built)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of `path` or anything under it.
fn newest_in(path: &Path) -> Option<SystemTime> {
    let mut newest = modified(path);
    if path.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            newest = newest.max(newest_in(&entry.path()));
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_wasm_file_of_a_folder_is_its_component() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            find_component(dir.path()),
            Err(TestError::NoPolicy { .. })
        ));
        std::fs::write(dir.path().join("a.wasm"), b"").unwrap();
        let found = find_component(dir.path()).unwrap();
        assert_eq!(found.origin, Origin::File);
        std::fs::write(dir.path().join("b.wasm"), b"").unwrap();
        let err = find_component(dir.path()).unwrap_err().to_string();
        assert!(err.contains("a.wasm, b.wasm"), "{err}");
    }

    #[test]
    fn a_component_older_than_a_source_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let component = dir.path().join("p.wasm");
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
        assert!(!is_fresh(&component, dir.path()), "missing is stale");
        std::fs::write(&component, b"").unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&component)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(!is_fresh(&component, dir.path()));
        std::fs::File::options()
            .write(true)
            .open(&component)
            .unwrap()
            .set_modified(SystemTime::now() + std::time::Duration::from_secs(60))
            .unwrap();
        assert!(is_fresh(&component, dir.path()));
    }
}
