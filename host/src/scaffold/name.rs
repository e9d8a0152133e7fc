//! A policy's name: the package name of every language's project (Cargo,
//! npm) and the name `describe` gives.

use super::ScaffoldError;

/// Names Cargo refuses for a package or a library (keywords and the
/// standard crates), and the SDK's own.
const RESERVED: &[&str] = &[
    "abstract",
    "alloc",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "core",
    "crate",
    "dataslo-guest",
    "dataslo_guest",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "proc_macro",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "std",
    "struct",
    "super",
    "test",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
];

/// Checks `name`: 1 to 64 of `a-z`, `0-9`, `-`, `_`, starting with a letter,
/// and no Rust keyword or standard crate.
pub fn validate_name(name: &str) -> Result<(), ScaffoldError> {
    let bad = |reason| ScaffoldError::BadName {
        name: name.to_string(),
        reason,
    };
    let well_formed = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !well_formed {
        return Err(bad(""));
    }
    if RESERVED.contains(&name) {
        return Err(bad(" (it is reserved by Rust or Cargo)"));
    }
    Ok(())
}

/// `min-rows` → `MinRowsConfig`: the Rust config struct's name, on which
/// `Policy` is implemented (the suffix keeps it apart from the SDK's
/// prelude, e.g. a policy named `policy`).
pub fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .chain(["Config".to_string()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_pass_and_others_are_refused() {
        for good in ["min-rows", "orders_fresh", "p2"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Min",
            "2fast",
            "-x",
            "a b",
            "a.b",
            "ünï",
            &"a".repeat(65),
        ] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.contains("is not a policy name"), "{bad}: {err}");
        }
        let err = validate_name("fn").unwrap_err().to_string();
        assert!(err.contains("reserved"), "{err}");
    }

    #[test]
    fn the_struct_is_named_in_camel_case() {
        assert_eq!(type_name("min-rows"), "MinRowsConfig");
        assert_eq!(type_name("orders_fresh_2"), "OrdersFresh2Config");
        assert_eq!(type_name("policy"), "PolicyConfig");
    }
}
