//! Finding the name a message is about: the config key a policy refused, the
//! misspelt name serde quotes, the SLI an SLO reads. Each comes with the
//! closest valid name when it looks like a typo.

use crate::runtime::sli_matches;
use crate::slo::closest;

/// The texts between backticks in `text`, in order.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The name serde's "unknown field `x`, expected one of `a`, `b`" (or
/// "unknown variant") quotes, and the names it expected.
fn unknown_name(message: &str) -> Option<(&str, Vec<&str>)> {
    let at = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|lead| message.find(lead))?;
    let name = backticked(&message[at..]).into_iter().next()?;
    let expected = match message[at..].find("expected") {
        Some(e) => backticked(&message[at + e..]),
        None => Vec::new(),
    };
    Some((name, expected))
}

/// The closest name to the unknown one a serde message quotes.
pub fn serde_suggestion(message: &str) -> Option<String> {
    let (name, expected) = unknown_name(message)?;
    closest(name, expected).map(str::to_string)
}

/// The config key a policy's refusal is about, and the closest valid key
/// when the key is unknown. `properties` are the keys of the policy's config
/// schema, `config` the JSON text the policy was given. Serde's words
/// (unknown or missing field) name it; else the first property the message
/// names as a word; else the key whose value holds serde's position.
pub fn config_key(
    message: &str,
    properties: &[String],
    config: &str,
) -> (Option<String>, Option<String>) {
    let known = || properties.iter().map(String::as_str);
    if let Some((name, expected)) = unknown_name(message) {
        let suggestion = closest(name, known().chain(expected)).map(str::to_string);
        return (Some(name.to_string()), suggestion);
    }
    if let Some(at) = message.find("missing field `")
        && let Some(name) = backticked(&message[at..]).first()
    {
        return (Some(name.to_string()), None);
    }
    let key = known()
        .find(|key| names_word(message, key))
        .map(str::to_string);
    (key.or_else(|| key_at_position(message, config)), None)
}

/// The top-level key of `config` whose entry holds the position of serde's
/// "at line 1 column N". The host gives a policy its config as compact JSON
/// (`serde_json::Value`'s own text), so each entry's span can be rebuilt.
fn key_at_position(message: &str, config: &str) -> Option<String> {
    let column: usize = message
        .rsplit_once("at line 1 column ")?
        .1
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    let value: serde_json::Value = serde_json::from_str(config).ok()?;
    // Other text (not the host's) would not have the spans rebuilt below.
    let compact = value.to_string();
    if compact != config {
        return None;
    }
    // Columns count from 1; the object's `{` is the first.
    let mut start = 2;
    for (key, value) in value.as_object()? {
        let end = start
            + serde_json::Value::from(key.as_str()).to_string().len()
            + 1
            + value.to_string().len();
        // The entry, with the `,` or `}` after it (where serde may stop).
        if (start..=end).contains(&column) {
            return Some(key.clone());
        }
        start = end + 1;
    }
    None
}

/// Whether `word` stands in `text` as a word of its own (not inside a longer
/// identifier).
fn names_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Whether an SLO reading `sli` can count a measurement of a policy that
/// lists `listed`: one of them matches it, or emits its parts (`sli:PART`).
pub fn sli_declared(sli: &str, listed: &[String]) -> bool {
    let part = format!("{sli}:");
    listed.iter().any(|l| {
        if sli_matches(l, sli) {
            return true;
        }
        // Up to the first placeholder, the listed name is literal: its parts
        // are counted when that literal starts with `sli:`, or (being
        // shorter) could be followed by what makes it so.
        match l.find('<') {
            None => l.starts_with(&part),
            Some(open) => {
                let literal = &l[..open];
                literal.starts_with(&part) || part.starts_with(literal)
            }
        }
    })
}

/// The listed SLI closest to `sli` (placeholders compared as written).
pub fn closest_sli<'a>(sli: &str, listed: &'a [String]) -> Option<&'a str> {
    closest(sli, listed.iter().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_refused_config_names_its_key_and_the_closest_valid_one() {
        let props = strings(&["max_age"]);
        assert_eq!(
            config_key(
                "freshness: unknown field `max_ag`, expected `max_age` at line 1 column 9",
                &props,
                r#"{"max_ag":"2h"}"#,
            ),
            (Some("max_ag".into()), Some("max_age".into()))
        );
        assert_eq!(
            config_key(
                "freshness: missing field `max_age` at line 1 column 2",
                &props,
                "{}"
            ),
            (Some("max_age".into()), None)
        );
        let props = strings(&["columns", "max_null_fraction"]);
        assert_eq!(
            config_key(
                "null-rate: max_null_fraction must be in [0, 1], got 1.5",
                &props,
                "{}",
            ),
            (Some("max_null_fraction".into()), None)
        );
        assert_eq!(config_key("no key here", &props, "{}"), (None, None));
        // Serde's position, in the compact JSON the policy was given.
        let config = r#"{"a":[1,2],"max_age":-5,"z":{"max_age":1}}"#;
        for (column, key) in [
            (2, Some("a")),
            (11, Some("a")),
            (13, Some("max_age")),
            (24, Some("max_age")),
            (26, Some("z")),
        ] {
            let message =
                format!("freshness: a duration cannot be negative: -5 at line 1 column {column}");
            assert_eq!(
                config_key(&message, &[], config).0.as_deref(),
                key,
                "column {column}"
            );
        }
        assert!(!names_word("my_columns_x", "columns"));
    }

    #[test]
    fn an_sli_is_declared_as_listed_with_its_placeholders_or_parts() {
        let listed = strings(&["freshness", "null_rate:<column>", "rows:total"]);
        for sli in ["freshness", "null_rate:email", "null_rate", "rows"] {
            assert!(sli_declared(sli, &listed), "{sli}");
        }
        for sli in ["freshnes", "null", "fresh", "rows:"] {
            assert!(!sli_declared(sli, &listed), "{sli}");
        }
        assert_eq!(closest_sli("freshnes", &listed), Some("freshness"));
    }

    #[test]
    fn serde_quotes_the_unknown_name_and_the_expected_ones() {
        assert_eq!(
            serde_suggestion("unknown field `sl`, expected one of `dataset`, `policy`, `sli`"),
            Some("sli".into())
        );
        assert_eq!(serde_suggestion("target must be between 0 and 1"), None);
    }
}
