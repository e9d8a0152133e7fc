//! Building a JavaScript or Python project with its toolchain: finding the
//! tool (in the project, then on PATH) and running it into
//! `target/policy.wasm`.

use super::TestError;
use super::component::{Component, Origin, is_fresh};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where a project's component is built, under its folder.
pub const OUTPUT: &str = "target/policy.wasm";

/// A toolchain's command and how to get it.
pub struct Tool {
    /// The executable's name.
    pub name: &'static str,
    /// Folders of the project it may be installed in, searched before PATH.
    pub local_dirs: &'static [&'static str],
    /// How to install it, for the error when it is missing.
    pub install: String,
}

/// The project in `dir`'s component, built by `tool` with `args` (the
/// output file is appended after `-o`) when it is missing or older than the
/// sources (`names`, and top-level files ending in `extensions`).
pub fn component(
    dir: &Path,
    tool: &Tool,
    args: &[&str],
    names: &[&str],
    extensions: &[&str],
) -> Result<Component, TestError> {
    let path = dir.join(OUTPUT);
    let cache_dir = Some(dir.join("target/compiled"));
    if is_fresh(&path, dir, names, extensions) {
        return Ok(Component {
            path,
            origin: Origin::UpToDate,
            cache_dir,
        });
    }
    let exe = find(dir, tool).ok_or_else(|| TestError::MissingTool {
        tool: tool.name,
        dir: dir.to_path_buf(),
        install: tool.install.clone(),
    })?;
    let fail = |reason: String| TestError::Build {
        dir: dir.to_path_buf(),
        tool: tool.name,
        reason,
    };
    let target = dir.join("target");
    std::fs::create_dir_all(&target).map_err(|e| fail(format!("cannot create target/: {e}")))?;
    // Written aside and renamed, so that a failed build leaves no
    // fresh-looking file; relative to `dir`, where the tool runs.
    let partial = "target/policy.partial.wasm";
    let status = Command::new(&exe)
        .args(args)
        .arg("-o")
        .arg(partial)
        .current_dir(dir)
        // Our stdout is the report; the tool's messages are for the terminal.
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| fail(format!("cannot run {}: {e}", exe.display())))?;
    if !status.success() {
        let _ = std::fs::remove_file(dir.join(partial));
        return Err(fail(format!(
            "`{} {}` failed ({status}); see its output above",
            tool.name,
            args.join(" ")
        )));
    }
    std::fs::rename(dir.join(partial), &path)
        .map_err(|e| fail(format!("built, but cannot move it to {OUTPUT}: {e}")))?;
    Ok(Component {
        path,
        origin: Origin::Built,
        cache_dir,
    })
}

/// The tool in one of the project's `local_dirs`, else on PATH.
fn find(dir: &Path, tool: &Tool) -> Option<PathBuf> {
    let local = tool.local_dirs.iter().map(|d| dir.join(d));
    let path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    local
        .chain(path)
        .map(|d| d.join(tool.name))
        .find(|exe| exe.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_is_named_with_its_install_command() {
        let dir = tempfile::tempdir().unwrap();
        let tool = Tool {
            name: "no-such-tool-for-dataslo",
            local_dirs: &["bin"],
            install: "get it with `pkg install no-such-tool`".into(),
        };
        let err = component(dir.path(), &tool, &[], &["src"], &[]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("no-such-tool-for-dataslo") && text.contains("pkg install no-such-tool"),
            "{text}"
        );
    }

    #[test]
    fn a_failed_build_leaves_no_component() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        let exe = dir.path().join("bin/fails");
        std::fs::write(&exe, "#!/bin/sh\necho partial > \"$2\"\nexit 3\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tool = Tool {
            name: "fails",
            local_dirs: &["bin"],
            install: String::new(),
        };
        let err = component(dir.path(), &tool, &[], &[], &[]).unwrap_err();
        assert!(matches!(err, TestError::Build { .. }), "{err}");
        assert!(!dir.path().join(OUTPUT).exists());
        assert!(!dir.path().join("target/policy.partial.wasm").exists());
    }
}
