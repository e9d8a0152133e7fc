//! Build-script helper: compiles workspace crates to components, in one of two
//! [`Shape`]s.
//!
//! - [`Shape::Wasip2`]: `wasm32-wasip2`, std importing WASI p2, as
//!   `dataslo new` scaffolds and as the fixtures are built.
//! - [`Shape::NoWasi`]: `wasm32-unknown-unknown`, made a component here with
//!   `wit-component`: it imports only `dataslo:policy/host` (2 functions
//!   instead of a wasip2 std guest's 15 interfaces), so instantiating it
//!   links no WASI and the host builds no WASI context for it. The
//!   built-in policies ship this way (`DATASLO_BUILTINS_WITH_WASI=1` builds
//!   them for wasip2). Its std allocator would grow memory on every fresh
//!   instance, which a pooled slot pays for in `mprotect`s: the SDK brings
//!   its own (`guest-sdk/src/heap.rs`).
//!
//! Used by the `build.rs` of `dataslo` (to embed the built-in policies) and of the
//! end-to-end tests (to build fixture guests). It runs a nested `cargo build` with
//! its own target directory under `OUT_DIR`, so it never contends for the outer
//! build's lock. Nothing in the runtime depends on this crate.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target of a [`Shape::Wasip2`] guest.
pub const TARGET: &str = "wasm32-wasip2";

/// The target of a [`Shape::NoWasi`] guest, before it is made a component.
pub const NO_WASI_TARGET: &str = "wasm32-unknown-unknown";

/// How a guest is compiled and made a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `wasm32-wasip2`: cargo makes the component, WASI adapter included.
    Wasip2,
    /// `wasm32-unknown-unknown`, then `wit-component`: no WASI imports at all.
    NoWasi,
}

impl Shape {
    /// The Rust target the guest is compiled for.
    pub fn target(self) -> &'static str {
        match self {
            Shape::Wasip2 => TARGET,
            Shape::NoWasi => NO_WASI_TARGET,
        }
    }
}

/// The cargo profile used for guests (defined in the workspace `Cargo.toml`).
pub const PROFILE: &str = "guest";

/// One guest crate to build: its package name and the component file it yields.
#[derive(Debug, Clone)]
pub struct Guest {
    /// The cargo package name, e.g. `policy-freshness`.
    pub package: String,
    /// The crate's directory.
    pub dir: PathBuf,
}

impl Guest {
    /// The file name cargo gives the component.
    pub fn artifact_name(&self) -> String {
        format!("{}.wasm", self.package.replace('-', "_"))
    }
}

/// Lists the guest crates directly under `parent`: each folder with a `Cargo.toml`
/// whose package is named `{prefix}{folder}` by convention. Sorted by folder name.
pub fn guests_in(parent: &Path, prefix: &str) -> Vec<(String, Guest)> {
    let entries = match std::fs::read_dir(parent) {
        Ok(entries) => entries,
        Err(e) => fail(&format!("cannot list {}: {e}", parent.display())),
    };
    let mut found: Vec<(String, Guest)> = entries
        .flatten()
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| {
            let folder = entry.file_name().to_string_lossy().into_owned();
            let package = format!("{prefix}{folder}");
            (
                folder,
                Guest {
                    package,
                    dir: entry.path(),
                },
            )
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// For build scripts: builds `guests` in `shape` under `OUT_DIR`, asks cargo to
/// rerun when they, the contract or the SDK change, and panics with a clear
/// message on failure.
pub fn build_in_build_script(workspace: &Path, guests: &[Guest], shape: Shape) -> Vec<PathBuf> {
    let watched = guests.iter().map(|g| g.dir.clone());
    for path in watched.chain(["wit", "guest-sdk"].map(|d| workspace.join(d))) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let out_dir =
        PathBuf::from(env::var_os("OUT_DIR").unwrap_or_else(|| fail("OUT_DIR is not set")));
    build_as(workspace, guests, &out_dir.join("wasm-target"), shape).unwrap_or_else(|e| fail(&e))
}

/// Builds `guests` for `wasm32-wasip2` with one nested cargo invocation into
/// `target_dir`, and returns the path of each component, in the same order.
pub fn build(
    workspace: &Path,
    guests: &[Guest],
    target_dir: &Path,
) -> Result<Vec<PathBuf>, String> {
    build_as(workspace, guests, target_dir, Shape::Wasip2)
}

/// Builds `guests` in `shape` into `target_dir`, and returns the path of each
/// component, in the same order.
pub fn build_as(
    workspace: &Path,
    guests: &[Guest],
    target_dir: &Path,
    shape: Shape,
) -> Result<Vec<PathBuf>, String> {
    let built = cargo_build(workspace, guests, target_dir, shape.target())?;
    match shape {
        Shape::Wasip2 => Ok(built),
        Shape::NoWasi => guests
            .iter()
            .zip(built)
            .map(|(guest, module)| componentize(guest, &module))
            .collect(),
    }
}

/// Makes the core module at `module` a component beside it
/// (`NAME.component.wasm`), from the component type wit-bindgen embedded.
fn componentize(guest: &Guest, module: &Path) -> Result<PathBuf, String> {
    let bytes =
        std::fs::read(module).map_err(|e| format!("cannot read {}: {e}", module.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&bytes)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|e| {
            format!(
                "{} ({}) cannot be made a component: {e:#}",
                guest.package,
                module.display()
            )
        })?;
    let path = module.with_extension("component.wasm");
    std::fs::write(&path, component)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// One nested `cargo build` of `guests` for `target`: the core modules (or,
/// for wasip2, the components) in the same order.
fn cargo_build(
    workspace: &Path,
    guests: &[Guest],
    target_dir: &Path,
    target: &str,
) -> Result<Vec<PathBuf>, String> {
    check_target_installed(target)?;
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .arg("--target")
        .arg(target)
        .arg("--profile")
        .arg(PROFILE)
        .arg("--target-dir")
        .arg(target_dir);
    for guest in guests {
        cmd.arg("-p").arg(&guest.package);
    }
    // The outer build's settings are for the host, not for the guests.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run cargo for the guests: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the guest components ({}) for {target} failed; see the cargo output above",
            guests
                .iter()
                .map(|g| g.package.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let artifacts = target_dir.join(target).join(PROFILE);
    guests
        .iter()
        .map(|guest| {
            let path = artifacts.join(guest.artifact_name());
            if path.is_file() {
                Ok(path)
            } else {
                Err(format!(
                    "{} built, but {} is missing: is its crate-type cdylib?",
                    guest.package,
                    path.display()
                ))
            }
        })
        .collect()
}

fn check_target_installed(target: &str) -> Result<(), String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot
        && !sysroot.join("lib/rustlib").join(target).is_dir()
    {
        return Err(format!(
            "the Rust target {target} is not installed, so the policies cannot be built.\n\
             Fix: rustup target add {TARGET} {NO_WASI_TARGET}"
        ));
    }
    Ok(())
}

fn fail(message: &str) -> ! {
    panic!("\n\ndataslo build: {message}\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uses_underscores() {
        let guest = Guest {
            package: "policy-null-rate".into(),
            dir: PathBuf::new(),
        };
        assert_eq!(guest.artifact_name(), "policy_null_rate.wasm");
    }
}
