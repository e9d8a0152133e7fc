//! Escaping, the page layout, number and time formats, and HTML error pages.
//! Every text that reaches a page goes through [`escape`]: SLO names, dataset
//! names and evaluation details come from SLO files, observations and
//! policies.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

/// Every text from outside, for element content or a quoted attribute:
/// markup characters as entities, control characters and bidi controls as
/// visible `\u{XX}` text (see [`crate::model::escape_html`]).
pub use crate::model::escape_html as escape;

/// `text` percent-encoded for a URL path segment or query value: everything
/// but RFC 3986's unreserved characters.
pub fn url_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `0.9731` → `97.31%`.
pub fn percent(fraction: f64) -> String {
    if fraction.is_finite() {
        format!("{:.2}%", fraction * 100.0)
    } else {
        "–".into()
    }
}

/// A timestamp to the second, in UTC.
pub fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A timestamp to the minute, short, for chart axes.
pub fn short_time(t: jiff::Timestamp) -> String {
    t.strftime("%m-%d %H:%M").to_string()
}

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2430}
header{display:flex;align-items:center;gap:1em;padding:.6em 1.2em;background:#1d2430;color:#fff}
header h1{font-size:1.1em;margin:0;flex:1}
header a{color:#fff;text-decoration:none}
header form{margin:0}
main{padding:1em 1.2em}
h2{font-size:1.05em;margin:1.2em 0 .5em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:1em}
.card{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:.8em 1em}
.card h3{margin:0;font-size:1.05em}
.card h3 a{color:#1a4fa0;text-decoration:none}
.muted{color:#5c6675;font-size:.9em}
.budget{font-size:1.6em;font-weight:600}
.ok{color:#17803d}.warn{color:#b06800}.bad{color:#c0262d}.none{color:#5c6675}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{color:#5c6675;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.card.single{max-width:1000px}
.card.single .charts{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}
.chart h4{margin:.6em 0 .1em;font-size:.85em;color:#5c6675;font-weight:600}
svg{display:block;width:100%;height:auto}
.alert{display:inline-block;padding:.05em .5em;border-radius:3px;background:#fde8e8;color:#c0262d;font-size:.85em;margin:.1em .2em 0 0}
.quiet{color:#17803d;font-size:.85em}
.error{background:#fde8e8;color:#8c1b20;padding:.6em 1em;border-radius:4px}
.login{max-width:26em;margin:4em auto;background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:1.5em}
.login input[type=password]{width:100%;box-sizing:border-box;padding:.4em;margin:.4em 0 .8em}
button{padding:.35em 1em;cursor:pointer}
"#;

/// A whole page: `title` (escaped here), the header's right side and the
/// body (both already HTML).
pub fn layout(title: &str, header_right: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · dataslo</title><style>{STYLE}</style></head><body>\
         <header><h1><a href=\"/\">dataslo</a> · {title}</h1>{header_right}</header>\
         <main>{body}</main></body></html>\n",
        title = escape(title),
    )
}

/// An HTML response with the headers every dashboard page carries: no
/// script may run (the pages have none), nothing is cached, no referrer.
pub fn page(status: StatusCode, html: String) -> Response {
    let mut response = (status, axum::response::Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A request the dashboard cannot answer with its page: rendered as an
/// HTML error page of its status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct PageError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for a human (escaped when rendered).
    pub message: String,
}

impl PageError {
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500: storage failures only, never input.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError {
            status,
            message: message.into(),
        }
    }

    /// The error page.
    pub fn html(&self) -> String {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let title = format!("{} {reason}", self.status.as_u16());
        let body = format!(
            "<p class=\"error\">{}</p><p><a href=\"/\">Back to the dashboard</a></p>",
            escape(&self.message)
        );
        layout(&title, "", &body)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        page(self.status, self.html())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_turns_every_markup_character_into_an_entity() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn escape_leaves_plain_and_non_ascii_text_alone() {
        assert_eq!(escape("orders · Größe 10%"), "orders · Größe 10%");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn escape_shows_control_characters_and_bidi_overrides_as_text() {
        assert_eq!(
            escape("x\u{1b}[31m\u{9b}2J\u{202e}rev\n<"),
            "x\\u{1b}[31m\\u{9b}2J\\u{202e}rev\\u{a}&lt;"
        );
    }

    #[test]
    fn escaping_twice_escapes_the_ampersands_again() {
        assert_eq!(escape(&escape("<")), "&amp;lt;");
    }

    #[test]
    fn url_components_keep_only_unreserved_characters() {
        assert_eq!(url_component("orders-volume_1.x~"), "orders-volume_1.x~");
        assert_eq!(
            url_component("a b/c?d&e=\"<é"),
            "a%20b%2Fc%3Fd%26e%3D%22%3C%C3%A9"
        );
    }

    #[test]
    fn percentages_have_two_decimals_and_no_nan() {
        assert_eq!(percent(0.9731), "97.31%");
        assert_eq!(percent(-0.5), "-50.00%");
        assert_eq!(percent(f64::NAN), "–");
    }

    #[test]
    fn error_pages_escape_their_message_and_forbid_scripts() {
        let error = PageError::not_found("no SLO named \"<b>\"");
        assert!(error.html().contains("no SLO named &quot;&lt;b&gt;&quot;"));
        assert!(
            error
                .html()
                .contains("<title>404 Not Found · dataslo</title>")
        );
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let csp = response.headers().get(header::CONTENT_SECURITY_POLICY);
        assert!(csp.is_some_and(|v| v.as_bytes().starts_with(b"default-src 'none'")));
    }
}
