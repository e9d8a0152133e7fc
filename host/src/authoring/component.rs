//! Finding the component a `dataslo test PATH` tests: a policy crate's
//! `wasm32-wasip2` build, a JavaScript project's (package.json and
//! policy.js) or a Python project's (app.py) `target/policy.wasm`, each built
//! first when missing or older than its sources; or else the one `.wasm`
//! file in PATH (a component built by another toolchain).

use super::{TestError, build_js, build_python, build_rust};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The component to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Its file.
    pub path: PathBuf,
    /// How it was found.
    pub origin: Origin,
    /// Where compiled code of it may be cached between runs: the project's
    /// `target/` for a JavaScript or Python project, whose components take
    /// seconds to compile.
    pub cache_dir: Option<PathBuf>,
}

/// How the component was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Its toolchain built it just now.
    Built,
    /// A project's build, newer than its sources.
    UpToDate,
    /// The one `.wasm` file in the folder.
    File,
}

/// The component of the policy in `dir`: a Cargo crate (`Cargo.toml`), a
/// JavaScript project (`package.json` and `policy.js`) or a Python project
/// (`app.py`) is built when its component is missing or older than its
/// sources (the toolchain's output goes to stderr); else the folder's one
/// `.wasm` file.
pub fn find_component(dir: &Path) -> Result<Component, TestError> {
    if dir.join("Cargo.toml").is_file() {
        return build_rust::component(dir);
    }
    if dir.join("package.json").is_file() && dir.join("policy.js").is_file() {
        return build_js::component(dir);
    }
    if dir.join("app.py").is_file() {
        return build_python::component(dir);
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
            cache_dir: None,
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

/// Whether `component` exists and is newer than every source of `dir`: the
/// files or folders `names`, and its top-level files ending in one of
/// `extensions`.
pub(super) fn is_fresh(component: &Path, dir: &Path, names: &[&str], extensions: &[&str]) -> bool {
    let Some(built) = modified(component) else {
        return false;
    };
    let mut newest = None;
    for name in names {
        newest = newest.max(newest_in(&dir.join(name)));
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_file()
            && path
                .extension()
                .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            newest = newest.max(modified(&path));
        }
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
        let fresh = |c: &Path| is_fresh(c, dir.path(), &["src"], &["py"]);
        assert!(!fresh(&component), "missing is stale");
        std::fs::write(&component, b"").unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&component)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(!fresh(&component));
        std::fs::File::options()
            .write(true)
            .open(&component)
            .unwrap()
            .set_modified(SystemTime::now() + std::time::Duration::from_secs(60))
            .unwrap();
        assert!(fresh(&component));
        // A top-level source of a listed extension counts too.
        std::fs::write(dir.path().join("app.py"), "").unwrap();
        assert!(fresh(&component));
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("app.py"))
            .unwrap()
            .set_modified(SystemTime::now() + std::time::Duration::from_secs(120))
            .unwrap();
        assert!(!fresh(&component));
    }
}
