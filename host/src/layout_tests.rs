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

/// The code of a file without comments and string or char literals (a doc
/// link or a URL is not an import).
fn code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let at = |k: usize| chars.get(k).copied();
        match (chars[i], at(i + 1)) {
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && at(i + 1) == Some('*') {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == Some('/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            ('r', Some('#' | '"')) if !out.ends_with(|c: char| c.is_alphanumeric() || c == '_') => {
                let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
                if chars.get(i + 1 + hashes) != Some(&'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                i += 2 + hashes;
                while i < chars.len() {
                    let closes =
                        chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#'));
                    i += 1;
                    if closes {
                        i += hashes;
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            ('"', _) => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            // A char literal ('x', '\n', '\u{..}'), not a lifetime.
            ('\'', Some(c)) if c == '\\' || at(i + 2) == Some('\'') => {
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("' '");
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The names inside a `{A, B::C, ...}` group, `group` starting after the `{`.
fn group_heads(group: &str) -> Vec<String> {
    let mut found = Vec::new();
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
                found.push(ident(&group[j..]));
            }
            _ => {}
        }
    }
    found
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The names a path starting right after `rest` names at its head: one
/// identifier, or every head of a `{...}` group.
fn heads(rest: &str) -> Vec<String> {
    match rest.strip_prefix('{') {
        Some(group) => group_heads(group),
        None => vec![ident(rest)],
    }
}

/// The top-level modules that `text` names as `crate::NAME`, inside
/// `crate::{A, B::C, ...}`, or through enough `super::` to leave the module
/// (`depth` is how deep the file's module is: 1 for `x/mod.rs`, 2 for
/// `x/y.rs`).
fn crate_paths(text: &str, depth: usize) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        if text[..i].ends_with('$') {
            continue;
        }
        found.extend(heads(&text[i + "crate::".len()..]));
    }
    for (i, _) in text.match_indices("super::") {
        let before = text[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // counted from the first `super::` of the chain
        }
        let mut rest = &text[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        // An inline module (`mod tests`) is one level deeper than its file,
        // so only a head that names a module of the crate counts.
        if ups >= depth {
            let modules = layers();
            found.extend(heads(rest).into_iter().filter(|h| modules.contains_key(h)));
        }
    }
    found.retain(|m| !m.is_empty() && m != "self" && m != "super");
    found
}

/// How deep the module of `file` (under `src/`) is.
fn depth_of(file: &Path) -> usize {
    let relative = file.strip_prefix(src()).unwrap_or(file);
    let parts = relative.components().count();
    if file.ends_with("mod.rs") {
        parts - 1
    } else {
        parts
    }
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
                deps.extend(crate_paths(&code(&text), depth_of(&file)));
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
fn grouped_inline_and_super_paths_are_found() {
    let text = "use crate::{ledger::{A, B}, model::C};\nfn f() { crate::slo::parse(); }\n\
                use super::super::alert::X; use super::Y; use super::super::{budget, self};";
    let found: Vec<String> = crate_paths(text, 2).into_iter().collect();
    assert_eq!(found, ["alert", "budget", "ledger", "model", "slo"]);
}

#[test]
fn comments_and_literals_are_not_imports() {
    let text = "let u = \"http://x crate::server\"; // crate::cli\n/* crate::demo */ \
                let r = r#\"crate::dashboard\"#; let c = '\\''; let k = crate::model::X;";
    let found: Vec<String> = crate_paths(&code(text), 1).into_iter().collect();
    assert_eq!(found, ["model"]);
}
