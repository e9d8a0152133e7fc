//! A Python project's component: componentize-py on `app.py` and `wit/`.

use super::TestError;
use super::component::Component;
use super::toolchain::{self, Tool};
use crate::scaffold::COMPONENTIZE_PY;
use std::path::Path;

/// The project in `dir`'s `target/policy.wasm`, built when it is missing or
/// older than `wit/` or a top-level `.py` file.
pub fn component(dir: &Path) -> Result<Component, TestError> {
    let tool = Tool {
        name: "componentize-py",
        local_dirs: &[".venv/bin", "venv/bin"],
        install: format!(
            "install it once with `pip install componentize-py=={COMPONENTIZE_PY}` \
             (a virtualenv in the project's .venv/ is searched too)"
        ),
    };
    toolchain::component(dir, &tool, &ARGS, &["wit"], &["py"])
}

/// componentize-py's arguments, run in the project's folder.
pub const ARGS: [&str; 8] = [
    "-d",
    "wit",
    "-w",
    "policy",
    "componentize",
    "-p",
    ".",
    "app",
];
