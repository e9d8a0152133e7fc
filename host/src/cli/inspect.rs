//! `dataslo inspect`: what a component is, without evaluating it. Only
//! `describe()` runs, in the sandbox.

use super::args::Format;
use super::{Failure, input};
use crate::model::{escape_control, to_json, to_json_pretty};
use crate::runtime::{InterfaceInfo, PolicyInfo};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The `--format json` output.
#[derive(Debug, Serialize)]
pub struct Inspection {
    /// The file inspected.
    pub file: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Its world, e.g. `dataslo:policy/policy@0.1.0`, when it exports the check.
    pub world: Option<String>,
    /// Imports and exports.
    #[serde(flatten)]
    pub interface: InterfaceInfo,
    /// What `describe()` says, when the component loads.
    pub describe: Option<PolicyInfo>,
    /// Why it does not load here, if it does not.
    pub error: Option<String>,
}

pub fn run(file: &Path, format: Format, engine_config: Option<&Path>) -> Result<(), Failure> {
    let bytes = input::read_bytes(file)?;
    let runtime = input::runtime_from(engine_config)?;
    let label = file.display().to_string();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let (interface, loaded) = runtime
        .inspect_and_load(&label, &bytes)
        .map_err(|e| input::naming_engine_config(e.into(), engine_config))?;
    let world = match (&interface.package, &interface.version) {
        (Some(p), Some(v)) => Some(format!("{p}/policy@{v}")),
        (Some(p), None) => Some(format!("{p}/policy")),
        _ => None,
    };
    let (describe, error) = match &loaded {
        Ok(policy) => (Some(policy.info().clone()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let report = Inspection {
        file: label,
        sha256,
        world,
        interface,
        describe,
        error,
    };
    match format {
        Format::Json => println!("{}", to_json_pretty(&report).unwrap_or_default()),
        Format::Table => print!("{}", render(&report)),
    }
    loaded
        .map(drop)
        .map_err(|e| input::naming_engine_config(e.into(), engine_config))
}

/// The table: everything `describe()` says and the component's own names
/// are escaped, one line each.
fn render(r: &Inspection) -> String {
    let e = |text: &str| escape_control(text).into_owned();
    let mut out = format!(
        "file     {}\nsha256   {}\nworld    {}\n",
        e(&r.file),
        r.sha256,
        e(r.world.as_deref().unwrap_or("-"))
    );
    if let Some(info) = &r.describe {
        let slis: Vec<String> = info.slis.iter().map(|s| e(s)).collect();
        out.push_str(&format!(
            "policy   {} {}\n         {}\nslis     {}\nconfig   {}\n",
            e(&info.name),
            e(&info.version),
            e(&info.description),
            slis.join(", "),
            to_json(&info.config_schema).unwrap_or_default()
        ));
    }
    out.push_str(&format!("imports  ({})\n", r.interface.imports.len()));
    for name in &r.interface.imports {
        out.push_str(&format!("  {}\n", e(name)));
    }
    out.push_str(&format!("exports  ({})\n", r.interface.exports.len()));
    for name in &r.interface.exports {
        out.push_str(&format!("  {}\n", e(name)));
    }
    out
}
