//! Untrusted text (from policies and inputs) made safe for each medium it
//! leaves by: control characters (C0, DEL, C1), bidirectional controls and
//! line separators are shown escaped, so a string can neither move the
//! cursor, recolour the screen, forge a line, nor reorder what follows it.
//!
//! One function per medium: [`escape_control`] for a terminal (and a field
//! of a log line), [`escape_log_record`] for a whole log record,
//! [`escape_html`] for a page. JSON is in `super::json`; Prometheus label
//! values are [`escape_control`]'d, and the exposition format escapes the rest.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal, a log line or a page raw: a
/// control character, a bidirectional control (marks, embeddings,
/// overrides, isolates) or a line or paragraph separator.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write;
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

/// `text` for a terminal: every unsafe character written as `\u{XX}` (a
/// backslash doubled, so an escape cannot be forged).
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe_char(c) || c == '\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if is_unsafe_char(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// One record of the process's log, as its writer is handed it: every
/// unsafe character but the final newline written as `\u{XX}`, so a record
/// is one line whatever its fields hold. Backslashes stay: the fields that
/// carry a policy's text were [`escape_control`]'d when logged, and this is
/// the net under every other field.
pub fn escape_log_record(record: &str) -> Cow<'_, str> {
    let body = record.strip_suffix('\n').unwrap_or(record);
    if !body.chars().any(is_unsafe_char) {
        return Cow::Borrowed(record);
    }
    let mut out = String::with_capacity(record.len() + 8);
    for c in body.chars() {
        if is_unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    if body.len() < record.len() {
        out.push('\n');
    }
    Cow::Owned(out)
}

/// `text` for HTML element content or a quoted attribute value: as
/// [`escape_control`] shows it (a control character or a bidi override as
/// visible `\u{XX}` text, not as a character reference a browser would act
/// on), with the five markup characters as entities.
pub fn escape_html(text: &str) -> String {
    let shown = escape_control(text);
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
        assert!(matches!(
            escape_log_record("INFO a line\n"),
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

    #[test]
    fn every_control_bidi_and_separator_character_is_escaped() {
        let unsafe_ones = (0..0x20)
            .chain(0x7f..0xa0)
            .chain([0x61c, 0x200e, 0x200f, 0x2028, 0x2029])
            .chain(0x202a..=0x202e)
            .chain(0x2066..=0x2069)
            .filter_map(char::from_u32);
        for c in unsafe_ones {
            let text = c.to_string();
            assert_eq!(escape_control(&text), format!("\\u{{{:x}}}", c as u32));
            assert!(!escape_html(&text).contains(c), "{c:?}");
        }
        for c in ['a', 'é', '✓', '\u{a0}', '\u{200b}', '\u{fe0f}'] {
            assert_eq!(escape_control(&c.to_string()), c.to_string());
        }
    }

    #[test]
    fn a_log_record_stays_one_line_and_keeps_its_backslashes() {
        assert_eq!(
            escape_log_record("WARN x=a\r\nlevel=ERROR forged \\u{1b}\u{1b}[2J\n"),
            "WARN x=a\\u{d}\\u{a}level=ERROR forged \\u{1b}\\u{1b}[2J\n"
        );
        assert_eq!(escape_log_record("no newline\x07"), "no newline\\u{7}");
    }

    #[test]
    fn html_escaping_makes_markup_inert_and_controls_visible() {
        assert_eq!(
            escape_html(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(
            escape_html("a\u{1b}[31m\u{202e}<b>"),
            "a\\u{1b}[31m\\u{202e}&lt;b&gt;"
        );
        assert_eq!(escape_html("orders · Größe 10%"), "orders · Größe 10%");
    }
}
