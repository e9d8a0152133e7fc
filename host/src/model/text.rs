//! Untrusted text (from policies and inputs) made safe for a terminal or a
//! log line: control characters (C0, DEL, C1) and bidirectional overrides are
//! shown escaped, so a string can neither move the cursor, recolour the
//! screen, forge a line, nor reorder what follows it.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal or a log line raw.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character written as `\u{XX}` (a backslash
/// doubled, so an escape cannot be forged).
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe_char(c) || c == '\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched_and_not_copied() {
        assert!(matches!(
            escape_control("orders: 5 rows, ok ✓"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn escapes_newlines_colour_codes_c1_and_bidi_overrides() {
        let hostile = "a\nb\x1b[31mred\u{9b}2J\u{202e}txt\\u{a}";
        assert_eq!(
            escape_control(hostile),
            "a\\u{a}b\\u{1b}[31mred\\u{9b}2J\\u{202e}txt\\\\u{a}"
        );
    }
}
