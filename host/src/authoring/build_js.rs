//! A JavaScript project's component: componentize-js (its SpiderMonkey
//! engine; the QuickJS backend maps u64 to `number`) on `policy.js` and
//! `wit/policy.wit`.

use super::TestError;
use super::component::Component;
use super::toolchain::{self, Tool};
use crate::scaffold::COMPONENTIZE_JS;
use std::path::Path;

/// The project in `dir`'s `target/policy.wasm`, built when it is missing or
/// older than `package.json`, `wit/` or a top-level `.js`/`.mjs` file.
pub fn component(dir: &Path) -> Result<Component, TestError> {
    let tool = Tool {
        name: "componentize-js",
        local_dirs: &["node_modules/.bin"],
        install: format!(
            "install it once with `npm install` in the project (its package.json pins it), \
             or `npm install --save-dev --save-exact @bytecodealliance/componentize-js@{COMPONENTIZE_JS}`"
        ),
    };
    toolchain::component(dir, &tool, &ARGS, &["package.json", "wit"], &["js", "mjs"])
}

/// componentize-js's arguments, run in the project's folder. `jco
/// componentize` cannot build this world (a preopens error); the http and
/// fetch-event features are for servers, not policies.
pub const ARGS: [&str; 8] = [
    "policy.js",
    "--wit",
    "wit/policy.wit",
    "--world-name",
    "policy",
    "-d",
    "http",
    "fetch-event",
];
