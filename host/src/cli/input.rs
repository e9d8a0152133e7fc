//! Reading the command's inputs; every failure names the file.

use super::Failure;
use crate::model::PolicyRef;
use crate::runtime::{CompileOptions, Compiler, EngineOptions, Policy, Runtime};
use std::io::Read;
use std::path::Path;

/// Reads a file, or standard input for `-`.
pub fn read_text(path: &str) -> Result<String, Failure> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Input(format!("cannot read standard input: {e}")))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| Failure::Input(format!("cannot read {path}: {e}")))
}

/// The config argument: JSON text, or `@FILE`. Must be JSON; the policy judges the rest.
pub fn config_text(arg: &str) -> Result<String, Failure> {
    let (text, source) = match arg.strip_prefix('@') {
        Some(path) => (read_text(path)?, path.to_string()),
        None => (arg.to_string(), "--config".to_string()),
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| Failure::Input(format!("{source}: the config is not JSON: {e}")))?;
    Ok(text)
}

/// Loads `builtin:NAME` or a component file.
pub fn load_policy(runtime: &Runtime, spec: &str) -> Result<Policy, Failure> {
    match spec.parse::<PolicyRef>() {
        Ok(PolicyRef::Builtin(name)) => Ok(runtime.load_builtin(&name)?),
        Ok(PolicyRef::File(path)) => {
            let bytes = read_bytes(&path)?;
            Ok(runtime.load(spec, &bytes)?)
        }
        Ok(PolicyRef::Uploaded(_)) => Err(Failure::Input(format!(
            "policy {spec:?}: uploaded policies live on a server; give the component file"
        ))),
        Err(e) => Err(Failure::Input(e.to_string())),
    }
}

/// Reads a whole binary file.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))
}

/// Starts the runtime with default limits, compiling policies in a child.
pub fn runtime() -> Result<Runtime, Failure> {
    let options = EngineOptions {
        compile: CompileOptions {
            compiler: Compiler::this_program(),
            ..CompileOptions::default()
        },
        ..EngineOptions::default()
    };
    Runtime::with_engine(Default::default(), options).map_err(|e| Failure::Input(e.to_string()))
}
