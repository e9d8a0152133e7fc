//! Why `dataslo new` wrote no project: each names the name, folder or file to fix.

use std::path::PathBuf;
use thiserror::Error;

/// A project `dataslo new` cannot create.
#[derive(Debug, Error)]
pub enum ScaffoldError {
    /// A name that is no package name in every language.
    #[error(
        "{name:?} is not a policy name: use 1 to 64 lowercase letters, digits, `-` or `_`, \
         starting with a letter{reason}"
    )]
    BadName {
        /// The name given.
        name: String,
        /// More, for a reserved name.
        reason: &'static str,
    },
    /// The project folder exists and holds something.
    #[error("{} already exists and is not empty; choose another name or remove it", dir.display())]
    NotEmpty {
        /// The folder.
        dir: PathBuf,
    },
    /// `--sdk-path` that is no checkout of the SDK.
    #[error(
        "--sdk-path {}: {reason}; give the guest-sdk/ folder of a dataslo checkout",
        path.display()
    )]
    BadSdkPath {
        /// The path given.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `--sdk-path` for a language whose project has no SDK crate.
    #[error(
        "--sdk-path is for Rust projects; a {lang} project builds against wit/policy.wit alone"
    )]
    SdkPathNotRust {
        /// The language asked for.
        lang: &'static str,
    },
    /// The SDK's manifest names a workspace value the workspace lacks.
    #[error(
        "the embedded SDK's Cargo.toml inherits `{key}`, which the workspace's Cargo.toml does not give"
    )]
    Inheritance {
        /// The key, e.g. `dependencies.serde`.
        key: String,
    },
    /// A file or folder could not be written.
    #[error("cannot write {}: {error}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
}
