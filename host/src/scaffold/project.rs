//! The files of a new project, per language, written into an empty folder.

use super::manifest::standalone_manifest;
use super::name::{type_name, validate_name};
use super::{COMPONENTIZE_JS, COMPONENTIZE_PY, ScaffoldError, embedded};
use std::path::{Path, PathBuf};

/// The language of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// A Cargo crate on the embedded SDK.
    Rust,
    /// An ES module built by componentize-js.
    Javascript,
    /// A module built by componentize-py.
    Python,
}

impl Lang {
    /// Its name, as `--lang` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Javascript => "javascript",
            Lang::Python => "python",
        }
    }
}

/// A project written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Its folder.
    pub dir: PathBuf,
    /// Every file written, relative to `dir`.
    pub files: Vec<String>,
    /// The one-time toolchain install, run in `dir` (none for Rust).
    pub install: Option<String>,
}

/// The template's Rust component as measured (dataslo 0.1.0, rustc 1.95):
/// for its README and `Cargo.toml`.
const RUST_SIZE: &str = "140 KB, where Cargo's default release profile gives 2.6 MB";

/// Writes the project `name` in `parent/name`, which must not exist or be
/// empty. `sdk_path` (Rust only) makes the SDK dependency point at that
/// checkout's `guest-sdk/` instead of a copy.
pub fn create(
    parent: &Path,
    name: &str,
    lang: Lang,
    sdk_path: Option<&Path>,
) -> Result<Created, ScaffoldError> {
    validate_name(name)?;
    if sdk_path.is_some() && lang != Lang::Rust {
        return Err(ScaffoldError::SdkPathNotRust {
            lang: lang.as_str(),
        });
    }
    let sdk = sdk_path.map(checkout_sdk).transpose()?;
    let dir = parent.join(name);
    let occupied = std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied || dir.is_file() {
        return Err(ScaffoldError::NotEmpty { dir });
    }
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{type}}", &type_name(name))
            .replace("{{lib}}", &name.replace('-', "_"))
            .replace("{{rust_size}}", RUST_SIZE)
            .replace("{{componentize_js}}", COMPONENTIZE_JS)
            .replace("{{componentize_py}}", COMPONENTIZE_PY)
    };
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            ".gitignore".into(),
            include_bytes!("templates/gitignore").to_vec(),
        ),
        (
            "tests/cases.yaml".into(),
            include_bytes!("templates/cases.yaml").to_vec(),
        ),
        // An observation for the README's `dataslo eval`.
        (
            "obs.json".into(),
            include_bytes!("templates/obs.json").to_vec(),
        ),
    ];
    let text = |path: &str, template: &str| (path.to_string(), fill(template).into_bytes());
    let install = match lang {
        Lang::Rust => {
            let dependency = match &sdk {
                Some(path) => format!(
                    "# dataslo's Rust SDK, from a checkout.\ndataslo-guest = {{ path = {} }}",
                    serde_json::to_string(&path.to_string_lossy()).unwrap_or_default()
                ),
                None => "# dataslo's Rust SDK, copied into sdk/ by `dataslo new`; it reads the\n\
                         # contract from ../wit.\n\
                         dataslo-guest = { path = \"sdk\" }"
                    .to_string(),
            };
            files.push((
                "Cargo.toml".into(),
                fill(include_str!("templates/rust_Cargo.toml"))
                    .replace("{{sdk_dependency}}", &dependency)
                    .into_bytes(),
            ));
            files.push(text("src/lib.rs", include_str!("templates/rust_lib.rs")));
            files.push(text("README.md", include_str!("templates/rust_README.md")));
            if sdk.is_none() {
                files.extend(sdk_copy()?);
                files.push(("wit/policy.wit".into(), embedded::WIT.to_vec()));
            }
            None
        }
        Lang::Javascript => {
            files.push(text("policy.js", include_str!("templates/policy.js")));
            files.push(text("package.json", include_str!("templates/package.json")));
            files.push(text("README.md", include_str!("templates/js_README.md")));
            files.push(("wit/policy.wit".into(), embedded::WIT.to_vec()));
            Some("npm install".to_string())
        }
        Lang::Python => {
            files.push(text("app.py", include_str!("templates/app.py")));
            files.push(text(
                "requirements.txt",
                include_str!("templates/requirements.txt"),
            ));
            files.push(text("README.md", include_str!("templates/py_README.md")));
            files.push(("wit/policy.wit".into(), embedded::WIT.to_vec()));
            Some("pip install -r requirements.txt".to_string())
        }
    };
    for (path, bytes) in &files {
        write(&dir.join(path), bytes)?;
    }
    Ok(Created {
        dir,
        files: files.into_iter().map(|(path, _)| path).collect(),
        install,
    })
}

/// The embedded SDK under `sdk/`, its manifest made standalone.
fn sdk_copy() -> Result<Vec<(String, Vec<u8>)>, ScaffoldError> {
    embedded::SDK_FILES
        .iter()
        .map(|(path, bytes)| {
            let bytes = if *path == "Cargo.toml" {
                let manifest = String::from_utf8_lossy(bytes);
                let standalone = standalone_manifest(&manifest, embedded::WORKSPACE_MANIFEST)?;
                format!(
                    "# Written by `dataslo new` {}: the SDK's manifest, its versions\n\
                     # made concrete so that it builds outside dataslo's workspace.\n{standalone}",
                    env!("CARGO_PKG_VERSION")
                )
                .into_bytes()
            } else {
                bytes.to_vec()
            };
            Ok((format!("sdk/{path}"), bytes))
        })
        .collect()
}

/// `--sdk-path`, checked to be the SDK crate, made absolute.
fn checkout_sdk(path: &Path) -> Result<PathBuf, ScaffoldError> {
    let bad = |reason: String| ScaffoldError::BadSdkPath {
        path: path.to_path_buf(),
        reason,
    };
    let manifest = std::fs::read_to_string(path.join("Cargo.toml"))
        .map_err(|e| bad(format!("cannot read its Cargo.toml: {e}")))?;
    if !manifest
        .lines()
        .any(|l| l.trim() == "name = \"dataslo-guest\"")
    {
        return Err(bad("its Cargo.toml is not the dataslo-guest crate's".into()));
    }
    std::fs::canonicalize(path).map_err(|e| bad(e.to_string()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ScaffoldError> {
    let fail = |error| ScaffoldError::Write {
        path: path.to_path_buf(),
        error,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, bytes).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_project_holds_the_sdk_the_wit_and_a_standalone_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let created = create(dir.path(), "min-rows", Lang::Rust, None).unwrap();
        assert_eq!(created.dir, dir.path().join("min-rows"));
        assert_eq!(created.install, None);
        let read = |p: &str| std::fs::read_to_string(created.dir.join(p)).unwrap();
        for file in [
            "Cargo.toml",
            "src/lib.rs",
            "README.md",
            "tests/cases.yaml",
            "obs.json",
        ] {
            assert!(created.files.iter().any(|f| f == file), "{file}");
        }
        let manifest = read("Cargo.toml");
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        assert!(manifest.contains("dataslo-guest = { path = \"sdk\" }"));
        assert!(read("src/lib.rs").contains("impl Policy for MinRowsConfig"));
        assert_eq!(read("wit/policy.wit").as_bytes(), embedded::WIT);
        let sdk = read("sdk/Cargo.toml");
        assert!(!sdk.contains("workspace = true"), "{sdk}");
        assert!(!read("README.md").contains("{{"));
    }

    #[test]
    fn javascript_and_python_projects_pin_their_toolchain() {
        let dir = tempfile::tempdir().unwrap();
        let js = create(dir.path(), "js-rows", Lang::Javascript, None).unwrap();
        let package = std::fs::read_to_string(js.dir.join("package.json")).unwrap();
        let package: serde_json::Value = serde_json::from_str(&package).unwrap();
        assert_eq!(
            package["devDependencies"]["@bytecodealliance/componentize-js"],
            COMPONENTIZE_JS
        );
        assert_eq!(js.install.as_deref(), Some("npm install"));
        let py = create(dir.path(), "py_rows", Lang::Python, None).unwrap();
        let requirements = std::fs::read_to_string(py.dir.join("requirements.txt")).unwrap();
        assert_eq!(
            requirements.trim(),
            format!("componentize-py=={COMPONENTIZE_PY}")
        );
        assert!(py.files.iter().any(|f| f == "wit/policy.wit"));
    }

    #[test]
    fn a_folder_that_holds_something_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("p")).unwrap();
        std::fs::write(dir.path().join("p/keep.txt"), "mine").unwrap();
        let err = create(dir.path(), "p", Lang::Rust, None).unwrap_err();
        assert!(
            err.to_string().contains("already exists and is not empty"),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(dir.path().join("p")).unwrap().count(), 1);
        // An empty folder is fine.
        std::fs::create_dir(dir.path().join("q")).unwrap();
        create(dir.path(), "q", Lang::Python, None).unwrap();
    }

    #[test]
    fn sdk_path_is_for_rust_and_must_be_the_sdk() {
        let dir = tempfile::tempdir().unwrap();
        let err = create(dir.path(), "p", Lang::Javascript, Some(dir.path())).unwrap_err();
        assert!(matches!(err, ScaffoldError::SdkPathNotRust { .. }), "{err}");
        let err = create(dir.path(), "p", Lang::Rust, Some(dir.path())).unwrap_err();
        assert!(err.to_string().contains("--sdk-path"), "{err}");
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk");
        let created = create(dir.path(), "p", Lang::Rust, Some(&sdk)).unwrap();
        assert!(!created.dir.join("sdk").exists());
        let manifest = std::fs::read_to_string(created.dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("guest-sdk\" }"), "{manifest}");
    }

    #[test]
    fn ci_installs_the_toolchain_versions_projects_pin() {
        let ci = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/run"))
            .unwrap();
        assert!(
            ci.contains(&format!("componentize_py={COMPONENTIZE_PY}\n")),
            "{ci}"
        );
        assert!(
            ci.contains(&format!("componentize_js={COMPONENTIZE_JS}\n")),
            "{ci}"
        );
    }
}
