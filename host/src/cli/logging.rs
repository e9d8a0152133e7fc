//! The process's log: `tracing` events on stderr, as text or JSON lines,
//! filtered by `RUST_LOG`. Command results stay plain stdout.
//!
//! Every record passes through [`Escaping`] on its way out: whatever a field
//! holds (an error quoting an input, a policy's text), a record is one line
//! with no control character, bidi control or line separator in it.

use super::args::LogFormat;
use std::io::Write;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber; `default` is the filter when `RUST_LOG` is unset.
pub fn init(format: LogFormat, default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let writer = move || Escaping(format);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    // A second init (tests calling `run` twice in one process) keeps the first.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Stderr, escaping each record for its format. The formatter hands over a
/// whole record in one write.
struct Escaping(LogFormat);

impl Write for Escaping {
    fn write(&mut self, record: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(record);
        let escaped = match self.0 {
            LogFormat::Text => crate::model::escape_log_record(&text),
            LogFormat::Json => crate::model::escape_json(&text),
        };
        std::io::stderr().lock().write_all(escaped.as_bytes())?;
        Ok(record.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
