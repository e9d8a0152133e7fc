//! The JavaScript and Python guests of the benches: `dataslo new`'s
//! row-count policy (good when `row_count >= min_rows`) in each language,
//! built here with the pinned toolchain and kept under
//! `target/bench-guests/` by the hash of its source, its WIT and the tool's
//! version, so that a rerun does not rebuild (a cold build takes a minute).
//!
//! The tool is looked for on PATH, then in the workspace's
//! `node_modules/.bin` and `target/componentize-{js,py}` (where `.ci/run`
//! installs the pinned versions). Without it, one line says so and the
//! bench skips that language.

use dataslo::scaffold::{self, Lang};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A built guest.
pub struct Guest {
    /// `javascript` or `python`.
    pub lang: &'static str,
    /// The component's bytes.
    pub bytes: Vec<u8>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The tool's name, where `.ci/run` installs it, and its arguments before `-o`.
fn toolchain(lang: Lang) -> (&'static str, &'static str, &'static [&'static str]) {
    match lang {
        // As `dataslo test` builds a project (host/src/authoring/build_*.rs).
        Lang::Javascript => (
            "componentize-js",
            "target/componentize-js/node_modules/.bin",
            &dataslo::authoring::COMPONENTIZE_JS_ARGS,
        ),
        _ => (
            "componentize-py",
            "target/componentize-py/bin",
            &dataslo::authoring::COMPONENTIZE_PY_ARGS,
        ),
    }
}

fn find(tool: &str, installed: &str) -> Option<PathBuf> {
    let ws = workspace();
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([ws.join("node_modules/.bin"), ws.join(installed)])
        .map(|dir| dir.join(tool))
        .find(|exe| exe.is_file())
}

/// The JavaScript and Python guests whose toolchain is installed.
pub fn guests() -> Vec<Guest> {
    [Lang::Javascript, Lang::Python]
        .into_iter()
        .filter_map(build)
        .collect()
}

/// `lang`'s guest, built unless a build of the same source is kept.
fn build(lang: Lang) -> Option<Guest> {
    let (tool, installed, args) = toolchain(lang);
    let Some(exe) = find(tool, installed) else {
        println!(
            "SKIPPED {} guest: no `{tool}` on PATH, in node_modules/.bin or {installed} \
             (`.ci/run` installs the pinned version there)",
            lang.as_str()
        );
        return None;
    };
    let out = workspace().join("target/bench-guests");
    let scratch = out.join(format!("src-{}-{}", lang.as_str(), std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&out).expect("create target/bench-guests");
    let created = scaffold::create(&scratch, "rows", lang, None).expect("scaffold the guest");
    let version = Command::new(&exe)
        .arg("--version")
        .output()
        .expect("ask the tool its version");
    let mut hash = Sha256::new();
    hash.update(&version.stdout);
    let mut files = created.files.clone();
    files.sort();
    for file in &files {
        hash.update(file.as_bytes());
        hash.update(std::fs::read(created.dir.join(file)).expect("read the guest's source"));
    }
    let key = &hex::encode(hash.finalize())[..16];
    let built = out.join(format!("{}-{key}.wasm", lang.as_str()));
    if !built.is_file() {
        println!(
            "building the {} guest with {} ...",
            lang.as_str(),
            exe.display()
        );
        let partial = created.dir.join("out.wasm");
        let status = Command::new(&exe)
            .args(args)
            .arg("-o")
            .arg(&partial)
            .current_dir(&created.dir)
            .stdout(Stdio::null())
            .status()
            .expect("run the tool");
        assert!(
            status.success(),
            "`{tool}` failed on {}",
            created.dir.display()
        );
        std::fs::rename(&partial, &built).expect("keep the built guest");
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Some(Guest {
        lang: lang.as_str(),
        bytes: std::fs::read(&built).expect("read the built guest"),
    })
}
