//! The per-call store state: WASI context, resource limiter, and the host side
//! of the `history` and `log` imports.

use super::bindings::{self, Level};
use super::convert;
use super::history::History;
use super::limits::Limits;
use super::virtual_clock::{ClockView, VirtualClock};
use super::wasi::CappedPipe;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Everything one store owns. Dropped with the store after each call.
pub struct Sandbox {
    /// Built on a call's first WASI call: a guest that imports no WASI (the
    /// built-ins) never pays for it, nor for its stdout and stderr.
    wasi: Option<WasiCtx>,
    /// Made with the first context and kept for the store's life: a guest
    /// keeps the stream handles it fetched, so a reused store's later calls
    /// write to the same pipes (emptied between calls).
    pipes: Option<Pipes>,
    stdio_bytes: usize,
    now_nanos: i64,
    seed: [u8; 32],
    table: ResourceTable,
    clock: VirtualClock,
    pub limiter: Limiter,
    history: History,
    history_depth: u32,
    pub log: LogSink,
}

/// The pipes the guest's stdout and stderr write to.
struct Pipes {
    stdout: CappedPipe,
    stderr: CappedPipe,
}

impl Sandbox {
    /// `memory_cap` is the allocator's own bound on any memory, if any.
    pub fn new(
        limits: &Limits,
        memory_cap: Option<usize>,
        now_nanos: i64,
        seed: [u8; 32],
        history: History,
    ) -> Self {
        Sandbox {
            wasi: None,
            pipes: None,
            stdio_bytes: limits.stdio_bytes,
            now_nanos,
            seed,
            table: ResourceTable::new(),
            clock: VirtualClock::default(),
            limiter: Limiter::new(limits, memory_cap),
            history,
            history_depth: limits.history_depth,
            log: LogSink::new(limits),
        }
    }
}

impl Sandbox {
    /// Readies a reused store (a [`super::Session`]) for its next call: that
    /// call's clock, random seed and history; logs (the previous call's were
    /// taken), stdio and the limiter's memory of a refusal cleared.
    pub fn reset(&mut self, now_nanos: i64, seed: [u8; 32], history: History) {
        self.wasi = None;
        self.now_nanos = now_nanos;
        self.seed = seed;
        self.history = history;
        self.clock.reset();
        self.log.lines.clear();
        self.log.panic.clear();
        self.limiter.memory_refused = None;
        if let Some(pipes) = &self.pipes {
            pipes.stdout.take();
            pipes.stderr.take();
        }
    }

    /// The guest's stdout and stderr, if it has used WASI in this store.
    pub fn stdio(&self) -> Option<(&CappedPipe, &CappedPipe)> {
        self.pipes.as_ref().map(|p| (&p.stdout, &p.stderr))
    }
}

impl Sandbox {
    /// The virtual monotonic clock and the table its pollables live in.
    pub fn clock(&mut self) -> ClockView<'_> {
        ClockView {
            clock: &self.clock,
            table: &mut self.table,
        }
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let (now, seed, bytes) = (self.now_nanos, self.seed, self.stdio_bytes);
        let pipes = self.pipes.get_or_insert_with(|| Pipes {
            stdout: CappedPipe::new(bytes),
            stderr: CappedPipe::new(bytes),
        });
        let ctx = self
            .wasi
            .get_or_insert_with(|| super::wasi::context(now, seed, &pipes.stdout, &pipes.stderr));
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

/// Enforces the memory and table limits and remembers a refusal, so that the
/// abort which usually follows is reported as a memory limit, not a bare trap.
pub struct Limiter {
    memory_bytes: usize,
    table_elements: usize,
    pub memory_refused: Option<usize>,
    last_desired: usize,
}

impl Limiter {
    fn new(limits: &Limits, memory_cap: Option<usize>) -> Self {
        Limiter {
            // A pool slot cannot hold more than the pool's memory size.
            memory_bytes: memory_cap
                .map_or(limits.memory_bytes, |cap| cap.min(limits.memory_bytes)),
            table_elements: limits.table_elements,
            memory_refused: None,
            last_desired: 0,
        }
    }

    /// The memory limit in force for this call.
    pub fn memory_bytes(&self) -> usize {
        self.memory_bytes
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_refused = Some(desired);
            return Ok(false);
        }
        self.last_desired = desired;
        Ok(true)
    }

    // Growth the limiter allowed can still fail (e.g. past a pool slot):
    // report it as the memory limit too, not as a bare abort.
    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_refused = Some(self.last_desired);
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.table_elements)
    }

    // A Rust component holds a handful of core instances, tables and memories.
    fn instances(&self) -> usize {
        32
    }
    fn tables(&self) -> usize {
        32
    }
    fn memories(&self) -> usize {
        4
    }
}

/// One line written through the `log` import, or captured from stdio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLogLine {
    pub level: Level,
    pub message: String,
}

/// Collects log lines within the limits, and a panic message.
pub struct LogSink {
    pub lines: Vec<RawLogLine>,
    max_lines: usize,
    max_line_bytes: usize,
    /// What the guest sent through `panic-bytes`, at most [`PANIC_BYTES`].
    pub panic: Vec<u8>,
}

/// The most of a panic message the host keeps (the SDK sends no more).
pub const PANIC_BYTES: usize = 4096;

impl LogSink {
    fn new(limits: &Limits) -> Self {
        LogSink {
            lines: Vec::new(),
            max_lines: limits.log_lines,
            max_line_bytes: limits.log_line_bytes,
            panic: Vec::new(),
        }
    }
}

/// Raised inside the guest when it logs more lines than allowed.
#[derive(Debug, thiserror::Error)]
#[error("more than {limit} log lines")]
pub struct LogFlood {
    pub limit: usize,
}

/// Truncates `text` to at most `max` bytes on a character boundary.
pub fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

impl bindings::v0_2::dataslo::policy::types::Host for Sandbox {}

impl bindings::v0_2::dataslo::policy::host::Host for Sandbox {
    fn history(&mut self, limit: u32) -> wasmtime::Result<Vec<bindings::Observation>> {
        self.history_as(limit, convert::observation)
    }

    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.log_line(level, message)
    }

    fn panic_bytes(&mut self, bytes: u64, len: u8) -> wasmtime::Result<()> {
        let panic = &mut self.log.panic;
        let len = usize::from(len)
            .min(8)
            .min(PANIC_BYTES.saturating_sub(panic.len()));
        panic.extend_from_slice(&bytes.to_le_bytes()[..len]);
        Ok(())
    }
}

impl bindings::v0_1::dataslo::policy::types::Host for Sandbox {}

impl bindings::v0_1::dataslo::policy::host::Host for Sandbox {
    fn history(
        &mut self,
        limit: u32,
    ) -> wasmtime::Result<Vec<bindings::v0_1::dataslo::policy::types::Observation>> {
        self.history_as(limit, convert::observation_v0_1)
    }

    fn log(
        &mut self,
        level: bindings::v0_1::dataslo::policy::types::Level,
        message: String,
    ) -> wasmtime::Result<()> {
        self.log_line(convert::level_v0_1(level), message)
    }
}

impl Sandbox {
    /// The `history` import, converted by `convert` for the caller's version.
    fn history_as<T>(
        &mut self,
        limit: u32,
        convert: impl Fn(&crate::model::Observation) -> T,
    ) -> wasmtime::Result<Vec<T>> {
        let n = limit.min(self.history_depth) as usize;
        let history = self.history.newest(n).map_err(wasmtime::Error::new)?;
        Ok(history.iter().take(n).map(convert).collect())
    }

    /// The `log` import.
    fn log_line(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        let sink = &mut self.log;
        if sink.lines.len() >= sink.max_lines {
            return Err(wasmtime::Error::new(LogFlood {
                limit: sink.max_lines,
            }));
        }
        let message = truncate(message, sink.max_line_bytes);
        sink.lines.push(RawLogLine { level, message });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{PANIC_BYTES, Sandbox, truncate};
    use crate::runtime::bindings::v0_2::dataslo::policy::host::Host;
    use crate::runtime::{Limits, no_history};

    #[test]
    fn panic_bytes_keep_the_given_length_in_order_and_stop_at_the_cap() {
        let mut sandbox = Sandbox::new(&Limits::default(), None, 0, [0; 32], no_history());
        let word = |text: &[u8]| {
            let mut bytes = [0u8; 8];
            bytes[..text.len()].copy_from_slice(text);
            u64::from_le_bytes(bytes)
        };
        sandbox.panic_bytes(word(b"panicked"), 8).unwrap();
        sandbox.panic_bytes(word(b" at"), 3).unwrap();
        // A length past eight counts as eight: nothing is read past the word.
        sandbox.panic_bytes(word(b"!"), 200).unwrap();
        assert_eq!(sandbox.log.panic, b"panicked at!\0\0\0\0\0\0\0");
        for _ in 0..PANIC_BYTES {
            sandbox.panic_bytes(word(b"xxxxxxxx"), 8).unwrap();
        }
        assert_eq!(sandbox.log.panic.len(), PANIC_BYTES);
    }

    #[test]
    fn truncation_respects_utf8_boundaries() {
        assert_eq!(truncate("héllo".into(), 2), "h…");
        assert_eq!(truncate("ok".into(), 2), "ok");
    }
}
