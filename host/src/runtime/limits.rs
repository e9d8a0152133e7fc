use std::time::Duration;

/// What one call into a policy may use. The README's "The sandbox" lists the
/// defaults; `dataslo.toml` takes its own from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock CPU budget, enforced by epoch interruption.
    pub deadline: Duration,
    /// Largest linear memory, in bytes.
    pub memory_bytes: usize,
    /// Largest table, in elements.
    pub table_elements: usize,
    /// Largest answer (measurements or error text), in bytes.
    pub output_bytes: usize,
    /// Most `log` calls; one more stops the policy as a log flood.
    pub log_lines: usize,
    /// Longest kept log line, in bytes; longer ones are truncated.
    pub log_line_bytes: usize,
    /// Kept bytes of each of stdout and stderr; the rest is dropped.
    pub stdio_bytes: usize,
    /// Most earlier observations the `history` import returns.
    pub history_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            deadline: Duration::from_millis(100),
            memory_bytes: 64 << 20,
            table_elements: 20_000,
            output_bytes: 1 << 20,
            log_lines: 256,
            log_line_bytes: 1024,
            stdio_bytes: 16 << 10,
            history_depth: 100,
        }
    }
}
