//! What a policy's answers must be, beyond their WIT types: the bounds of
//! `describe`'s strings, and measurements whose SLI `describe` listed.
//!
//! A listed SLI may hold `<placeholders>`, e.g. `null_rate:<column>`: each
//! stands for one or more characters of the emitted name.

use super::bindings;
use super::error::EvalErrorKind;
use super::limits::Limits;
use crate::model::{self, is_unsafe_char};
use std::collections::BTreeMap;

/// Longest policy name, in bytes.
pub const NAME_BYTES: usize = 64;
/// Longest policy version, in bytes.
pub const VERSION_BYTES: usize = 64;
/// Longest description, in bytes.
pub const DESCRIPTION_BYTES: usize = 4 << 10;
/// Longest config schema, in bytes.
pub const CONFIG_SCHEMA_BYTES: usize = 64 << 10;
/// Most SLIs one policy lists.
pub const SLIS_PER_POLICY: usize = 64;
/// Longest SLI name as listed, in bytes.
pub const SLI_NAME_BYTES: usize = 64;
/// Longest SLI name as emitted (a placeholder may take a column's name).
pub const EMITTED_SLI_BYTES: usize = 256;

fn invalid(message: String) -> EvalErrorKind {
    EvalErrorKind::InvalidOutput(message)
}

/// Checks `describe`'s answer. Counts come before sizes, so a flood of empty
/// names is refused before anything walks it.
pub fn check_info(info: &bindings::PolicyInfo) -> Result<(), EvalErrorKind> {
    let count = info.slis.len();
    if count == 0 || count > SLIS_PER_POLICY {
        return Err(invalid(format!(
            "describe() lists {count} SLIs; a policy lists 1 to {SLIS_PER_POLICY}"
        )));
    }
    bounded("name", &info.name, 1, NAME_BYTES)?;
    bounded("version", &info.version, 0, VERSION_BYTES)?;
    if info.description.len() > DESCRIPTION_BYTES {
        return Err(invalid(format!(
            "describe() gave a description of {} bytes; the limit is {DESCRIPTION_BYTES}",
            info.description.len()
        )));
    }
    if info.config_schema.len() > CONFIG_SCHEMA_BYTES {
        return Err(invalid(format!(
            "describe() gave a config schema of {} bytes; the limit is {CONFIG_SCHEMA_BYTES}",
            info.config_schema.len()
        )));
    }
    for (i, sli) in info.slis.iter().enumerate() {
        bounded("SLI name", sli, 1, SLI_NAME_BYTES)?;
        if info.slis[..i].contains(sli) {
            return Err(invalid(format!("describe() lists the SLI `{sli}` twice")));
        }
    }
    Ok(())
}

/// A short name: `min..=max` bytes, no control or bidi characters.
fn bounded(what: &str, text: &str, min: usize, max: usize) -> Result<(), EvalErrorKind> {
    if text.len() < min {
        return Err(invalid(format!("describe() gave an empty {what}")));
    }
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| is_unsafe_char(c)) {
        return Err(invalid(format!(
            "describe() gave a {what} with a control or bidi character (U+{:04X} at byte {at})",
            c as u32
        )));
    }
    if text.len() > max {
        return Err(invalid(format!(
            "describe() gave a {what} of {} bytes; the limit is {max}",
            text.len()
        )));
    }
    Ok(())
}

/// Bounds the answer's size and checks each measurement against the contract
/// and the SLIs `describe` listed.
pub fn check_measurements(
    measurements: &[bindings::Measurement],
    listed: &[String],
    limits: &Limits,
) -> Result<(), EvalErrorKind> {
    let size: usize = measurements
        .iter()
        .map(|m| m.sli.len() + m.detail.len() + 32)
        .sum();
    if size > limits.output_bytes {
        return Err(EvalErrorKind::OutputTooLarge {
            size,
            limit: limits.output_bytes,
        });
    }
    for m in measurements {
        if m.sli.is_empty() {
            return Err(invalid("a measurement has an empty SLI name".into()));
        }
        if m.sli.len() > EMITTED_SLI_BYTES {
            return Err(invalid(format!(
                "a measurement's SLI name is {} bytes; the limit is {EMITTED_SLI_BYTES}",
                m.sli.len()
            )));
        }
        if !listed.iter().any(|l| sli_matches(l, &m.sli)) {
            return Err(invalid(format!(
                "measurement `{}` is not an SLI that describe() lists ({})",
                m.sli,
                listed.join(", ")
            )));
        }
        if m.good > m.total {
            return Err(invalid(format!(
                "measurement `{}` has good {} > total {}",
                m.sli, m.good, m.total
            )));
        }
    }
    Ok(())
}

/// The measurements an SLO sums (an SLI and its `SLI:PART`s) must sum
/// without overflow. Summing per first segment covers every such group.
pub fn check_sums(measurements: &[model::Measurement]) -> Result<(), EvalErrorKind> {
    // One measurement sums to itself: no map on the usual evaluation.
    if measurements.len() < 2 {
        return Ok(());
    }
    let mut groups: BTreeMap<&str, Vec<&model::Measurement>> = BTreeMap::new();
    for m in measurements {
        let first = m.sli.split(':').next().unwrap_or_default();
        groups.entry(first).or_default().push(m);
    }
    for (sli, group) in groups {
        model::sum_events(sli, group).map_err(|e| EvalErrorKind::InvalidOutput(e.to_string()))?;
    }
    Ok(())
}

/// Whether `emitted` is the SLI `listed` names, each `<placeholder>` of it
/// standing for one or more characters. Linear in both lengths: literal
/// pieces are matched leftmost, which leaves the most room for the rest.
pub fn sli_matches(listed: &str, emitted: &str) -> bool {
    // Most SLIs are plain names: compared without allocating.
    if !listed.contains('<') {
        return listed == emitted;
    }
    let pieces = pieces(listed);
    let [first, middle @ .., last] = pieces.as_slice() else {
        // One piece: no placeholder at all.
        return listed == emitted;
    };
    // `first` has no placeholder before it, `last` none after it.
    let Some(rest) = emitted.strip_prefix(first.literal) else {
        return false;
    };
    let mut at = 0;
    for piece in middle {
        match find_after(rest, at, piece) {
            Some(end) => at = end,
            None => return false,
        }
    }
    // The last piece sits at the very end, after its placeholders' minimum.
    rest.len() >= at + last.literal.len()
        && rest.ends_with(last.literal)
        && chars_between(rest, at, rest.len() - last.literal.len()) >= last.wild
}

/// A literal and how many placeholders (characters at least) come before it.
struct Piece<'a> {
    wild: usize,
    literal: &'a str,
}

/// `a<x>b<y><z>c` as (0, "a"), (1, "b"), (2, "c"). A `<` without its `>` is
/// literal text.
fn pieces(listed: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let (mut wild, mut start) = (0, 0);
    while let Some(open) = listed[start..].find('<').map(|i| start + i) {
        let Some(close) = listed[open..].find('>').map(|i| open + i) else {
            break;
        };
        let literal = &listed[start..open];
        // Placeholders side by side make one that takes as many characters.
        if !literal.is_empty() || pieces.is_empty() {
            pieces.push(Piece { wild, literal });
            wild = 0;
        }
        wild += 1;
        start = close + 1;
    }
    pieces.push(Piece {
        wild,
        literal: &listed[start..],
    });
    pieces
}

/// The end of `piece`'s leftmost match in `text` that leaves at least its
/// placeholders' characters after `from`.
fn find_after(text: &str, from: usize, piece: &Piece<'_>) -> Option<usize> {
    let start = text[from..]
        .char_indices()
        .nth(piece.wild)
        .map_or(text.len(), |(i, _)| from + i);
    if start > text.len() || chars_between(text, from, start) < piece.wild {
        return None;
    }
    text[start..]
        .find(piece.literal)
        .map(|i| start + i + piece.literal.len())
}

fn chars_between(text: &str, from: usize, to: usize) -> usize {
    text.get(from..to).map_or(0, |t| t.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, slis: &[&str]) -> bindings::PolicyInfo {
        bindings::PolicyInfo {
            name: name.into(),
            version: "1.0.0".into(),
            description: String::new(),
            slis: slis.iter().map(|s| s.to_string()).collect(),
            config_schema: "{}".into(),
        }
    }

    fn refusal(info: &bindings::PolicyInfo) -> String {
        check_info(info).expect_err("refused").to_string()
    }

    #[test]
    fn a_placeholder_stands_for_one_or_more_characters() {
        assert!(sli_matches("null_rate:<column>", "null_rate:email"));
        assert!(sli_matches("null_rate:<column>", "null_rate:a.b c"));
        assert!(!sli_matches("null_rate:<column>", "null_rate:"));
        assert!(!sli_matches("null_rate:<column>", "volume"));
        assert!(sli_matches("<a>/<b>", "x/y/z"));
        assert!(!sli_matches("<a>/<b>", "x/"));
        assert!(sli_matches("freshness", "freshness"));
        assert!(!sli_matches("freshness", "freshness2"));
        assert!(sli_matches("a<x><y>", "abc"));
        assert!(!sli_matches("a<x><y>", "ab"));
        assert!(sli_matches("<x>:<y>:z", "a:b:c:z"));
        assert!(sli_matches("p<x>", "pé"));
        assert!(!sli_matches("p<x", "pa"));
        assert!(sli_matches("p<x", "p<x"));
    }

    #[test]
    fn matching_a_hostile_pattern_takes_linear_time() {
        let listed = format!("{}z", "<>".repeat(31));
        let emitted = "a".repeat(256);
        let started = std::time::Instant::now();
        assert!(!sli_matches(&listed, &emitted));
        assert!(sli_matches(&listed, &format!("{emitted}z")));
        // A backtracking matcher takes longer than the universe's age here.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn the_sli_list_is_bounded_unique_and_named() {
        assert!(check_info(&info("ok", &["a", "null_rate:<column>"])).is_ok());
        assert!(refusal(&info("ok", &[])).contains("lists 0 SLIs"));
        assert!(refusal(&info("ok", &["a", "a"])).contains("`a` twice"));
        assert!(refusal(&info("ok", &["a", ""])).contains("empty SLI name"));
        let many: Vec<String> = (0..=SLIS_PER_POLICY).map(|i| format!("s{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(refusal(&info("ok", &many)).contains("lists 65 SLIs"));
    }

    #[test]
    fn names_are_short_and_printable() {
        assert!(refusal(&info("", &["a"])).contains("empty name"));
        assert!(refusal(&info(&"n".repeat(65), &["a"])).contains("name of 65 bytes"));
        assert!(refusal(&info("a\u{1b}[2J", &["a"])).contains("control or bidi character (U+"));
        assert!(refusal(&info("ok", &["a\u{202e}b"])).contains("control or bidi character (U+"));
    }

    fn m(sli: &str, good: u64, total: u64) -> model::Measurement {
        model::Measurement {
            sli: sli.into(),
            good,
            total,
            value: None,
            detail: String::new(),
        }
    }

    #[test]
    fn measurements_an_slo_could_sum_together_must_not_overflow() {
        let max = u64::MAX;
        for (what, answer) in [
            ("one SLI twice", vec![m("ok", max, max), m("ok", 0, 2)]),
            (
                "an SLI and its part",
                vec![m("ok", max, max), m("ok:eu", 0, 2)],
            ),
            (
                "two parts of one SLI",
                vec![m("ok:us", max, max), m("ok:eu", 0, 2)],
            ),
        ] {
            match check_sums(&answer) {
                Err(EvalErrorKind::InvalidOutput(message)) => {
                    assert!(message.contains("SLI `ok`"), "{what}: {message}")
                }
                other => panic!("{what}: {other:?}"),
            }
        }
        assert_eq!(
            check_sums(&[m("ok", max, max), m("other", 0, 2), m("ok_eu", 1, 1)]),
            Ok(()),
            "no SLO sums different SLIs"
        );
    }
}
