//! Holds the code to the `# Layout` table of `lib.rs`: every `crate::` path
//! a module names (in `use` lines and inline, grouped imports too) must be of
//! a lower layer, and its doc's "Depends on" line must name exactly the
//! modules it imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module → layer, read from the table in `lib.rs`'s doc.
fn layers() -> BTreeMap<String, usize> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("read lib.rs");
    let mut layers = BTreeMap::new();
    for line in lib.lines() {
        let cells: Vec<&str> = line
            .trim_start_matches("//!")
            .split('|')
            .map(str::trim)
            .collect();
        // `| layer | modules | what |` rows: cells[0] is before the first bar.
        if let [_, layer, modules, _, _] = cells.as_slice()
            && let Ok(layer) = layer.parse::<usize>()
        {
            for module in modules.split(',') {
                layers.insert(module.trim().to_string(), layer);
            }
        }
    }
    layers
}

/// Every `.rs` file of a module folder (or the module's one file).
fn files_of(module: &str) -> Vec<PathBuf> {
    let dir = src().join(module);
    let mut out = Vec::new();
    let mut todo = vec![dir.clone()];
    if !dir.is_dir() {
        return vec![src().join(format!("{module}.rs"))];
    }
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read module folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// The code of a file without comments (doc links are not imports).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules that `text` names as `crate::NAME` or inside
/// `crate::{A, B::C, ...}`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        found.insert(ident(&group[j..]));
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

/// The modules a module's own doc says it depends on.
fn declared(module: &str) -> Option<BTreeSet<String>> {
    let doc_file = files_of(module)
        .into_iter()
        .find(|p| p.ends_with("mod.rs") || p.ends_with(format!("{module}.rs")))?;
    let text = std::fs::read_to_string(doc_file).ok()?;
    let doc: String = text
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.trim_start_matches("//!"))
        .collect::<Vec<_>>()
        .join(" ");
    let start = doc.find("Depends on ")? + "Depends on ".len();
    let sentence = doc[start..].split(';').next()?.split(". ").next()?;
    let names = layers();
    Some(
        sentence
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| names.contains_key(*w))
            .map(String::from)
            .collect(),
    )
}

fn imports() -> BTreeMap<String, BTreeSet<String>> {
    layers()
        .keys()
        .filter(|m| m.as_str() != "cli")
        .map(|module| {
            let mut deps = BTreeSet::new();
            for file in files_of(module) {
                let text = std::fs::read_to_string(&file).expect("read source");
                deps.extend(crate_paths(&code(&text)));
            }
            deps.remove(module);
            (module.clone(), deps)
        })
        .collect()
}

#[test]
fn every_module_of_the_crate_has_a_layer() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("read lib.rs");
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    let tabled: BTreeSet<String> = layers().into_keys().collect();
    assert_eq!(
        declared, tabled,
        "lib.rs's modules and its # Layout table differ"
    );
}

#[test]
fn no_module_imports_its_own_layer_or_one_above() {
    let layers = layers();
    let mut upward = Vec::new();
    for (module, deps) in imports() {
        for dep in deps {
            match layers.get(&dep) {
                Some(layer) if *layer < layers[&module] => {}
                Some(layer) => upward.push(format!(
                    "{module} (layer {}) imports {dep} (layer {layer})",
                    layers[&module]
                )),
                None => upward.push(format!("{module} imports crate::{dep}, in no layer")),
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the layers:\n{}",
        upward.join("\n")
    );
}

#[test]
fn every_depends_on_line_names_exactly_what_the_module_imports() {
    let mut wrong = Vec::new();
    for (module, deps) in imports() {
        let said = declared(&module).unwrap_or_default();
        if said != deps {
            wrong.push(format!("{module}: says {said:?}, imports {deps:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "stale \"Depends on\" lines:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn grouped_and_inline_paths_are_both_found() {
    let text = "use crate::{ledger::{A, B}, model::C};\nfn f() { crate::slo::parse(); }";
    let found: Vec<String> = crate_paths(text).into_iter().collect();
    assert_eq!(found, ["ledger", "model", "slo"]);
}
