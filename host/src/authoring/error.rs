//! Why `dataslo test` could not run: each names the file (and case) to fix.

use crate::model::FieldError;
use crate::slo::YamlError;
use std::path::PathBuf;
use thiserror::Error;

/// A case file or policy project `dataslo test` cannot use.
#[derive(Debug, Error)]
pub enum TestError {
    /// A file or folder could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// A case file over the YAML limits of SLO files.
    #[error("{}: {error}", file.display())]
    YamlLimits {
        /// The case file.
        file: PathBuf,
        /// The limit passed.
        error: YamlError,
    },
    /// A case file that is not YAML of the case format (an unknown key, a
    /// wrong type); the parser's message carries the line.
    #[error("{}: {error}", file.display())]
    Yaml {
        /// The case file.
        file: PathBuf,
        /// The parser's error, with its line and column.
        error: serde_yaml_ng::Error,
    },
    /// One case that is well-formed YAML but no valid case.
    #[error("{}: case `{case}`: {reason}", file.display())]
    Case {
        /// The case file.
        file: PathBuf,
        /// The case's name (or its index, when it has none yet).
        case: String,
        /// What is wrong, naming the field.
        reason: String,
    },
    /// A case's observation (or history item) that is no valid
    /// observation: the file, its line and the field path.
    #[error("{error} (case `{case}`)")]
    Observation {
        /// The case's name.
        case: String,
        /// Where and what.
        error: FieldError,
    },
    /// No `tests/*.yaml` with a case.
    #[error("no cases: {} holds no *.yaml case file (see docs/policy-tests.md)", dir.display())]
    NoCases {
        /// The folder searched.
        dir: PathBuf,
    },
    /// Neither a project nor a component.
    #[error(
        "no policy in {}: it has no Cargo.toml (a policy crate), package.json and policy.js \
         (JavaScript), app.py (Python) or .wasm component",
        dir.display()
    )]
    NoPolicy {
        /// The folder searched.
        dir: PathBuf,
    },
    /// More than one component and no Cargo project to choose.
    #[error("{} holds several components ({found}); keep one", dir.display())]
    SeveralComponents {
        /// The folder searched.
        dir: PathBuf,
        /// Their names, comma-separated.
        found: String,
    },
    /// A Cargo project whose package is no policy crate.
    #[error(
        "{}: no cdylib library; a policy crate has `[lib] crate-type = [\"cdylib\"]`",
        manifest.display()
    )]
    NotAPolicyCrate {
        /// The project's Cargo.toml.
        manifest: PathBuf,
    },
    /// Cargo could not describe or build the project.
    #[error("{}: {reason}", manifest.display())]
    Cargo {
        /// The project's Cargo.toml.
        manifest: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A JavaScript or Python project whose toolchain is not installed.
    #[error(
        "cannot build {}: `{tool}` is not installed (searched the project and PATH); {install}",
        dir.display()
    )]
    MissingTool {
        /// The project's folder.
        dir: PathBuf,
        /// The executable.
        tool: &'static str,
        /// How to install it.
        install: String,
    },
    /// A JavaScript or Python project's toolchain failed.
    #[error("cannot build {}: {reason}", dir.display())]
    Build {
        /// The project's folder.
        dir: PathBuf,
        /// The executable.
        tool: &'static str,
        /// What failed.
        reason: String,
    },
}
