//! Reading the command's inputs; every failure names the file.

use super::Failure;
use crate::config::Config;
use crate::model::PolicyRef;
use crate::runtime::{CompileOptions, Compiler, EngineOptions, ErrorCode, Policy, Runtime};
use crate::scheduler::sha256_hex;
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

/// Loads `builtin:NAME`, a component file or an `oci://` policy. `admit`
/// sees a component's sha256 (hex) and OCI manifest digest first, before
/// its bytes are compiled (loading calls into them).
pub fn load_policy(
    runtime: &Runtime,
    spec: &str,
    admit: impl FnOnce(&str, Option<&str>) -> Result<(), Failure>,
) -> Result<Policy, Failure> {
    match spec.parse::<PolicyRef>() {
        Ok(PolicyRef::Builtin(name)) => Ok(runtime.load_builtin(&name)?),
        Ok(PolicyRef::File(path)) => {
            let bytes = read_bytes(&path)?;
            admit(&sha256_hex(&bytes), None)?;
            Ok(runtime.load(spec, &bytes)?)
        }
        Ok(PolicyRef::Uploaded(_)) => Err(Failure::Input(format!(
            "policy {spec:?}: uploaded policies live on a server; give the component file"
        ))),
        Ok(PolicyRef::Oci(r)) => {
            let pulled = crate::oci::Oci::new(None, Vec::new())
                .resolve(&r)
                .map_err(|e| Failure::Input(e.to_string()))?;
            admit(&sha256_hex(&pulled.bytes), Some(&pulled.manifest))?;
            let mut policy = runtime.load(spec, &pulled.bytes)?;
            policy.set_manifest_digest(pulled.manifest);
            Ok(policy)
        }
        Err(e) => Err(Failure::Input(e.to_string())),
    }
}

/// Reads a whole binary file.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))
}

/// Starts the runtime with default limits, compiling policies in a child.
pub fn runtime() -> Result<Runtime, Failure> {
    runtime_caching(None)
}

/// Starts the runtime with default limits and engine, keeping compiled
/// components in `cache_dir` when given.
pub fn runtime_caching(cache_dir: Option<std::path::PathBuf>) -> Result<Runtime, Failure> {
    let options = EngineOptions {
        cache_dir,
        compile: CompileOptions {
            compiler: Compiler::this_program(),
            ..CompileOptions::default()
        },
        ..EngineOptions::default()
    };
    Runtime::with_engine(Default::default(), options).map_err(|e| Failure::Input(e.to_string()))
}

/// Starts the runtime with default limits and engine or, given
/// `--engine-config FILE`, the sandbox that file's `[engine]` and `[limits]`
/// describe (the file is validated whole; its errors name the file and the
/// field).
pub fn runtime_from(engine_config: Option<&Path>) -> Result<Runtime, Failure> {
    let Some(path) = engine_config else {
        return runtime();
    };
    let mut config = Config::load(path).map_err(|e| Failure::Input(e.to_string()))?;
    config.engine.compiler = Compiler::this_program();
    Runtime::with_engine(config.runtime_limits(), config.engine_options())
        .map_err(|e| Failure::Input(e.to_string()))
}

/// A pool-limit failure under `--engine-config FILE` also names the file
/// whose `[engine]` set the limit.
pub fn naming_engine_config(failure: Failure, engine_config: Option<&Path>) -> Failure {
    match (failure, engine_config) {
        (Failure::Policy { code, message }, Some(path))
            if code == ErrorCode::PoolLimit.as_str() =>
        {
            Failure::Policy {
                code,
                message: format!(
                    "{message} (the `[engine]` in force is {}'s)",
                    path.display()
                ),
            }
        }
        (failure, _) => failure,
    }
}
