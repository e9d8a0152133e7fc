//! JSON for every edge that carries text from policies or inputs (`--format
//! json`, the API's answers, log records as JSON). serde_json escapes C0
//! itself but leaves DEL, C1 and the bidi controls raw, which a terminal
//! showing the JSON, or a page quoting it, would act on: here they are
//! written as `\uXXXX`, which decodes to the same string.

use super::text::is_unsafe_char;
use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write;

/// `value` as compact JSON, every unsafe character escaped.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string(value).map(|text| escape_json(&text).into_owned())
}

/// `value` as indented JSON, every unsafe character escaped.
pub fn to_json_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(value).map(|text| escape_json(&text).into_owned())
}

/// `v` as serde_json reads its JSON back: not always `v` itself. Some
/// 17-digit numbers read one step off (serde_json is built without its
/// `float_roundtrip` feature); NaN and the infinities are written as `null`
/// (then none).
pub fn number_read_back(v: f64) -> Option<f64> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < EXACT_INTEGERS {
        return Some(v);
    }
    written_and_read(v)
}

/// Integers below this are written `N.0` and read as N·10 divided by ten,
/// both exact in f64: they read back as themselves without the round trip,
/// which is most of the values records hold (counts, seconds).
const EXACT_INTEGERS: f64 = (1u64 << 49) as f64;

fn written_and_read(v: f64) -> Option<f64> {
    let text = serde_json::to_string(&v).ok()?;
    serde_json::from_str::<f64>(&text).ok()
}

/// JSON text a serializer wrote, with each character it left raw that
/// [`super::escape_control`] would escape written as `\uXXXX`. Outside
/// strings JSON is ASCII without control characters, so every such
/// character is inside a string, where the escape is valid and means the
/// same.
pub fn escape_json(serialized: &str) -> Cow<'_, str> {
    if !serialized.chars().any(raw_unsafe) {
        return Cow::Borrowed(serialized);
    }
    let mut out = String::with_capacity(serialized.len() + 16);
    for c in serialized.chars() {
        if raw_unsafe(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Unsafe, and left raw by a JSON serializer: a newline, a tab or another C0
/// character in serialized JSON is the serializer's own (between records or
/// lines of indented output).
fn raw_unsafe(c: char) -> bool {
    u32::from(c) >= 0x7f && is_unsafe_char(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integer_read_back_without_the_round_trip_is_what_the_round_trip_gives() {
        let edge = EXACT_INTEGERS;
        let mut values = vec![0.0, -0.0, 1.0, -1.0, 1e14, edge - 1.0, -(edge - 1.0)];
        // Spread over the range, every magnitude of ten.
        let mut x = 7.0_f64;
        while x < edge {
            values.extend([x, -x, x + 1.0, (x * 1.37).round()]);
            x *= 3.0;
        }
        for v in values.into_iter().filter(|v| v.abs() < edge) {
            let back = written_and_read(v).unwrap();
            assert_eq!(
                number_read_back(v).map(f64::to_bits),
                Some(back.to_bits()),
                "{v}"
            );
        }
        // Past the edge, and every fraction, it is the round trip.
        for v in [edge, edge + 1.0, 0.1, 1.0 / 3.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                number_read_back(v).map(f64::to_bits),
                written_and_read(v).map(f64::to_bits),
                "{v}"
            );
        }
    }

    const HOSTILE: &str = "x\x1b[31m\u{7}\r\nlevel=ERROR\u{9b}2J\u{202e}rev\u{2066}\0end\\";

    #[test]
    fn json_carries_no_raw_control_bidi_or_separator_and_decodes_to_the_same_text() {
        let json = to_json(&serde_json::json!({ "detail": HOSTILE })).unwrap();
        assert!(
            !json.chars().any(is_unsafe_char),
            "raw unsafe character in {json:?}"
        );
        assert!(json.contains(r"\u001b[31m"), "{json}");
        assert!(json.contains(r"\u009b2J\u202erev\u2066"), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["detail"], HOSTILE);
    }

    #[test]
    fn pretty_json_keeps_its_own_newlines_and_escapes_the_rest() {
        let json = to_json_pretty(&serde_json::json!({ "a": ["\u{85}\u{2028}"] })).unwrap();
        assert_eq!(json, "{\n  \"a\": [\n    \"\\u0085\\u2028\"\n  ]\n}");
    }

    #[test]
    fn plain_json_is_not_copied() {
        assert!(matches!(escape_json(r#"{"a":"é ✓"}"#), Cow::Borrowed(_)));
    }
}
