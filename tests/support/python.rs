//! Python guests: each folder of tests/fixtures-py built by `componentize-py`
//! when it is on PATH (.ci/run installs it), and cached under
//! target/fixtures-py by the hash of the source, the WIT and the tool's
//! version, because a cold build takes about 15 s.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// `componentize-py` on PATH, if any.
fn componentize_py() -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join("componentize-py"))
        .find(|path| path.is_file())
}

/// The component built from tests/fixtures-py/`name`, or `None` (having
/// printed why) when `componentize-py` is not installed.
pub fn python_guest(name: &str) -> Option<PathBuf> {
    // One build at a time in this process; concurrent processes each write
    // their own temporary file and rename it into place.
    static BUILDS: OnceLock<Mutex<()>> = OnceLock::new();
    let Some(tool) = componentize_py() else {
        eprintln!("SKIPPED: no `componentize-py` on PATH (.ci/run installs it)");
        return None;
    };
    let _one = BUILDS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let ws = super::workspace();
    let source = ws.join("tests/fixtures-py").join(name);
    let wit = ws.join("wit");
    let version = Command::new(&tool)
        .arg("--version")
        .output()
        .expect("componentize-py --version");
    let mut hash = Sha256::new();
    hash.update(&version.stdout);
    for dir in [&source, &wit] {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("read the guest's source")
            .map(|e| e.expect("list the guest's source").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            hash.update(file.file_name().unwrap().as_encoded_bytes());
            hash.update(std::fs::read(&file).expect("read the guest's source"));
        }
    }
    let key = &hex::encode(hash.finalize())[..16];
    let out_dir = ws.join("target/fixtures-py");
    let built = out_dir.join(format!("{name}-{key}.wasm"));
    if built.is_file() {
        return Some(built);
    }
    // Built from a copy, so that the tool's __pycache__ stays out of the tree.
    let scratch = out_dir.join(format!("src-{name}-{key}-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("create target/fixtures-py");
    for entry in std::fs::read_dir(&source).expect("read the guest's source") {
        let path = entry.expect("list the guest's source").path();
        if path.is_file() {
            std::fs::copy(&path, scratch.join(path.file_name().unwrap())).expect("copy source");
        }
    }
    let partial = scratch.join("out.wasm");
    let run = Command::new(&tool)
        .arg("-d")
        .arg(&wit)
        .args(["-w", "policy", "componentize", "-p"])
        .arg(&scratch)
        .arg("app")
        .arg("-o")
        .arg(&partial)
        .output()
        .expect("run componentize-py");
    assert!(
        run.status.success(),
        "componentize-py failed on tests/fixtures-py/{name}:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::rename(&partial, &built).expect("move the component into place");
    let _ = std::fs::remove_dir_all(&scratch);
    Some(built)
}
