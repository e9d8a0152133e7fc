//! `dataslo policies`: the built-ins and what they describe.

use super::args::Format;
use super::{Failure, input, table};
use crate::model::PolicyRef;
use crate::runtime::{PolicyInfo, builtin_names};
use serde::Serialize;

/// One row of `dataslo policies --format json`.
#[derive(Debug, Serialize)]
pub struct BuiltinRow {
    /// `builtin:NAME`, as `--policy` takes it.
    pub policy: PolicyRef,
    /// The component's sha256.
    pub sha256: String,
    /// What `describe()` says.
    #[serde(flatten)]
    pub info: PolicyInfo,
}

pub fn run(format: Format) -> Result<(), Failure> {
    let runtime = input::runtime()?;
    let mut rows = Vec::new();
    for name in builtin_names() {
        let policy = runtime.load_builtin(name)?;
        rows.push(BuiltinRow {
            policy: PolicyRef::Builtin(name.to_string()),
            sha256: policy.sha256_hex(),
            info: policy.info().clone(),
        });
    }
    match format {
        Format::Json => println!(
            "{}",
            crate::model::to_json_pretty(&rows).unwrap_or_default()
        ),
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.policy.to_string(),
                        r.info.version.clone(),
                        r.info.slis.join(", "),
                        r.info.description.clone(),
                    ]
                })
                .collect();
            print!(
                "{}",
                table::render(&["POLICY", "VERSION", "SLIS", "DESCRIPTION"], &cells, &[])
            );
        }
    }
    Ok(())
}
