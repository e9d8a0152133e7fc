//! The SDK's `Cargo.toml` for a standalone project: every `KEY.workspace =
//! true` replaced by the value the workspace's `Cargo.toml` gives, so that
//! the copy builds outside the workspace and never drifts from it.

use super::ScaffoldError;

/// `sdk_manifest` with its workspace inheritance resolved from `workspace_manifest`.
pub fn standalone_manifest(
    sdk_manifest: &str,
    workspace_manifest: &str,
) -> Result<String, ScaffoldError> {
    let workspace: toml::Table =
        toml::from_str(workspace_manifest).map_err(|e| ScaffoldError::Inheritance {
            key: format!("(the workspace's Cargo.toml is no TOML: {e})"),
        })?;
    let lookup = |section: &str, key: &str| {
        workspace
            .get("workspace")
            .and_then(|w| w.get(section))
            .and_then(|s| s.get(key))
            .ok_or_else(|| ScaffoldError::Inheritance {
                key: format!("{section}.{key}"),
            })
    };
    let mut out = String::with_capacity(sdk_manifest.len());
    let mut section = "";
    for line in sdk_manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed;
        }
        let inherited = trimmed
            .strip_suffix(".workspace = true")
            .filter(|key| !key.contains(' '));
        match inherited {
            Some(key) if section == "[package]" => {
                let value = lookup("package", key)?;
                out.push_str(&format!("{key} = {}", render(value)));
            }
            Some(key) if section.ends_with("dependencies]") => {
                let value = lookup("dependencies", key)?;
                if value.get("path").is_some() {
                    return Err(ScaffoldError::Inheritance {
                        key: format!("dependencies.{key} (a path dependency)"),
                    });
                }
                out.push_str(&format!("{key} = {}", render(value)));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    Ok(out)
}

/// A TOML value as inline TOML.
fn render(value: &toml::Value) -> String {
    match value {
        // JSON's string escapes are TOML's basic-string escapes.
        toml::Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        toml::Value::Integer(n) => n.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", items.join(", "))
        }
        toml::Value::Table(table) => {
            let pairs: Vec<String> = table
                .iter()
                .map(|(k, v)| format!("{} = {}", render_key(k), render(v)))
                .collect();
            format!("{{ {} }}", pairs.join(", "))
        }
    }
}

fn render_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        render(&toml::Value::String(key.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKSPACE: &str = r#"
[workspace.package]
version = "0.3.0"
edition = "2024"

[workspace.dependencies]
serde = { version = "1", features = ["derive"] }
humantime = "2"
local = { path = "x" }
"#;

    #[test]
    fn inherited_keys_become_the_workspaces_values() {
        let sdk = "[package]\nname = \"dataslo-guest\"\nversion.workspace = true\n\
                   edition.workspace = true\n\n[dependencies]\nserde.workspace = true\n\
                   humantime.workspace = true\n\n\
                   [target.'cfg(not(target_arch = \"wasm32\"))'.dependencies]\nhumantime.workspace = true\n";
        let out = standalone_manifest(sdk, WORKSPACE).unwrap();
        assert!(!out.contains("workspace"), "{out}");
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        let want: toml::Table = toml::from_str(
            "[package]\nname = \"dataslo-guest\"\nversion = \"0.3.0\"\nedition = \"2024\"\n\
             [dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nhumantime = \"2\"\n\
             [target.'cfg(not(target_arch = \"wasm32\"))'.dependencies]\nhumantime = \"2\"\n",
        )
        .unwrap();
        assert_eq!(parsed, want);
    }

    #[test]
    fn a_key_the_workspace_lacks_or_a_path_dependency_is_refused_by_name() {
        let err = standalone_manifest("[package]\nlicense.workspace = true\n", WORKSPACE);
        assert!(
            err.unwrap_err().to_string().contains("`package.license`"),
            "names the key"
        );
        let err = standalone_manifest("[dependencies]\nlocal.workspace = true\n", WORKSPACE);
        assert!(err.unwrap_err().to_string().contains("path dependency"));
    }
}
