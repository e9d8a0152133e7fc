//! A policy's example inputs: its own case files. A built-in's are embedded
//! at build time (`policies/NAME/tests/*.yaml`); a component file's are the
//! `tests/*.yaml` of its crate, found by walking up from the `.wasm` to the
//! first folder with a `Cargo.toml` or a `tests/` folder, as `dataslo test`
//! lays a project out. `slo validate` evaluates them under an SLO's config.

use super::{CaseFile, parse_case_file, read_case_dir};
use crate::model::PolicyRef;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/builtin_cases.rs"));

/// The case files of the policy `spec` (file policies read from `base`);
/// none for an upload or an OCI reference, for a file whose crate has none, or for a case file
/// that does not read (the policy's `dataslo test` names it).
pub fn policy_examples(spec: &PolicyRef, base: &Path) -> Vec<CaseFile> {
    match spec {
        PolicyRef::Builtin(name) => builtin_examples(name),
        // Shown as written when read from the working directory.
        PolicyRef::File(path) if base == Path::new(".") => project_examples(path),
        PolicyRef::File(path) => project_examples(&base.join(path)),
        PolicyRef::Uploaded(_) | PolicyRef::Oci(_) => Vec::new(),
    }
}

/// The case files of the crate of the component at `wasm`.
fn project_examples(wasm: &Path) -> Vec<CaseFile> {
    project_of(wasm)
        .and_then(|dir| read_case_dir(&dir.join("tests")).ok())
        .unwrap_or_default()
}

/// The embedded case files of built-in `name`.
fn builtin_examples(name: &str) -> Vec<CaseFile> {
    let files = BUILTIN_CASES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, files)| *files)
        .unwrap_or_default();
    files
        .iter()
        .filter_map(|(file, text)| {
            let shown = PathBuf::from(format!("policies/{name}/tests/{file}"));
            parse_case_file(text, &shown).ok()
        })
        .collect()
}

/// The project folder of the component at `wasm`: the nearest folder above
/// it with a `Cargo.toml` or a `tests/` folder.
fn project_of(wasm: &Path) -> Option<PathBuf> {
    wasm.ancestors()
        .skip(1)
        .find(|dir| dir.join("Cargo.toml").is_file() || dir.join("tests").is_dir())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_carries_its_case_files() {
        for name in crate::runtime::builtin_names() {
            assert!(!builtin_examples(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn a_component_in_a_crates_target_finds_the_crates_tests() {
        let dir = tempfile::tempdir().unwrap();
        let release = dir.path().join("target/wasm32-wasip2/release");
        std::fs::create_dir_all(&release).unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        assert_eq!(
            project_of(&release.join("p.wasm")).as_deref(),
            Some(dir.path())
        );
    }
}
