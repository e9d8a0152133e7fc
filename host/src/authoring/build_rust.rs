//! A policy crate's component: `cargo build --release --target
//! wasm32-wasip2`, where `cargo metadata` says it lands.

use super::TestError;
use super::component::{Component, Origin, is_fresh};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target policy crates are built for.
const TARGET: &str = "wasm32-wasip2";

/// The crate in `dir`'s component, built when it is missing or older than
/// the crate's `Cargo.toml`, `Cargo.lock`, `build.rs`, `src/`, `wit/` or
/// `sdk/` (the SDK `dataslo new` copies).
pub fn component(dir: &Path) -> Result<Component, TestError> {
    let manifest = dir.join("Cargo.toml");
    let path = crate_component(&manifest)?;
    let sources = ["Cargo.toml", "Cargo.lock", "build.rs", "src", "wit", "sdk"];
    if is_fresh(&path, dir, &sources, &[]) {
        return Ok(Component {
            path,
            origin: Origin::UpToDate,
            cache_dir: None,
        });
    }
    build(&manifest)?;
    if !path.is_file() {
        return Err(TestError::Cargo {
            manifest,
            reason: format!("built, but {} is missing", path.display()),
        });
    }
    Ok(Component {
        path,
        origin: Origin::Built,
        cache_dir: None,
    })
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
