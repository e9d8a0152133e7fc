//! Compiling untrusted components within bounds. Two layers:
//!
//! 1. [`structure`]: before cranelift sees the code, the bytes are validated
//!    and measured with `wasmparser` (code size, and per function: size,
//!    locals, and values kept live across blocks). A component over a
//!    structural limit is refused in milliseconds.
//! 2. [`child`]: what structure cannot predict is bounded by compiling in a
//!    child process (`dataslo __compile`, see [`entry`]) under `RLIMIT_DATA`
//!    and `RLIMIT_CPU`, killed at a wall-clock limit. The child's memory is
//!    the child's: the parent's RSS does not grow by it.
//!
//! Built-in policies are trusted bytes: they compile in-process, unmeasured.

mod child;
mod entry;
mod structure;

pub use entry::{COMPILE_CHILD_ARG, child_main};

use super::cache::engine_key;
use super::error::LoadErrorKind;
use std::path::PathBuf;
use std::time::Duration;
use wasmtime::component::Component;

/// Where untrusted components are compiled.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Compiler {
    /// In this process: structural limits only. The library's default, so
    /// tests and benches need no binary.
    #[default]
    InProcess,
    /// In a child process running this program (the `dataslo` binary, which
    /// answers [`COMPILE_CHILD_ARG`]), under `compile_memory_mib` and
    /// `compile_time`.
    Child(PathBuf),
}

impl Compiler {
    /// A child running the program of this process. On Linux
    /// `/proc/self/exe` names the running binary even after an upgrade
    /// replaced the file, so the child's engine matches this one.
    pub fn this_program() -> Self {
        let proc = PathBuf::from("/proc/self/exe");
        if proc.exists() {
            return Compiler::Child(proc);
        }
        std::env::current_exe().map_or(Compiler::InProcess, Compiler::Child)
    }
}

/// The bounds of one compile. In `dataslo.toml` they are the `[engine]`
/// settings named by [`CompileLimits::SETTINGS`].
///
/// The structural defaults are set from measured guests, with room:
///
/// | component | code | largest function | most locals | most liveness |
/// | --- | --- | --- | --- | --- |
/// | built-in policies (Rust, wasip2) | 141 KB | 6.4 KB | 45 | 5,984 |
/// | componentize-js 0.23 (SpiderMonkey, 12.1 MB) | 9.2 MB | 172 KB | 122 | 330,150 |
/// | componentize-py (CPython, 18.4 MB) | 6.6 MB | 427 KB | 273 | 93,138 |
/// | the compile bomb: 2,000 locals across 2,500 blocks | 67 KB | 67 KB | 2,001 | 5,007,500 |
///
/// Compiling the JS component took 37 s of CPU and 600 MiB peak RSS in a
/// child (debug build, cranelift and regalloc2 optimised, 2 cores); it
/// fits in an `RLIMIT_DATA` of 977 MiB, not of 683. The Python one took
/// 17 s and 417 MiB in-process; the bomb 12 s and 203 MiB for 67 KB, twice
/// its blocks 21 s and 340 MiB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileLimits {
    /// Child only: the child's data segment (`RLIMIT_DATA`: heap and
    /// private writable mappings), in bytes.
    pub memory_bytes: u64,
    /// Child only: its CPU time (`RLIMIT_CPU`, all threads). It is killed
    /// at three times this on the wall clock.
    pub time: Duration,
    /// Bytes of code in all the component's core modules together.
    pub code_bytes: u64,
    /// Bytes of one function's body.
    pub function_bytes: u64,
    /// Locals (parameters included) of one function.
    pub function_locals: u64,
    /// Of one function: (locals + deepest operand stack) × blocks, a bound
    /// on the live values × blocks the register allocator works through.
    pub function_liveness: u64,
}

impl CompileLimits {
    /// The `[engine]` setting of each limit, in field order.
    pub const SETTINGS: [&'static str; 6] = [
        "compile_memory_mib",
        "compile_time",
        "compile_max_code_bytes",
        "compile_max_function_bytes",
        "compile_max_function_locals",
        "compile_max_function_liveness",
    ];
}

impl Default for CompileLimits {
    fn default() -> Self {
        CompileLimits {
            // Twice what the JS component needs; under the 640 KB bomb's 3.3 GB.
            memory_bytes: 2 << 30,
            // The JS component takes 37 s of CPU in a debug build; the
            // 640 KB bomb 82 s.
            time: Duration::from_secs(60),
            // 3.5× the JS component's code; compiling takes ~55 bytes of
            // memory per byte of code, so this is about `memory_bytes`.
            code_bytes: 32 << 20,
            // 5× Python's interpreter loop.
            function_bytes: 2 << 20,
            // 37× Python's most.
            function_locals: 10_000,
            // 6× JS's most, 2.5× under the bomb's.
            function_liveness: 2_000_000,
        }
    }
}

/// How untrusted components are compiled, and within which bounds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompileOptions {
    /// In-process, or in a child.
    pub compiler: Compiler,
    /// The bounds.
    pub limits: CompileLimits,
}

impl super::Runtime {
    /// Compiles bytes nobody vouched for: measured against the structural
    /// limits, then compiled where the options say.
    pub(super) fn compile_untrusted(&self, bytes: &[u8]) -> Result<Component, LoadErrorKind> {
        let compile = &self.options.compile;
        structure::check(bytes, &compile.limits)?;
        match &compile.compiler {
            Compiler::InProcess => Component::new(&self.engine, bytes)
                .map_err(|e| LoadErrorKind::Corrupt(format!("{e:#}"))),
            Compiler::Child(exe) => {
                let key = engine_key(&self.engine);
                let artifact = child::compile(exe, &self.options, &key, bytes, &compile.limits)?;
                // SAFETY: the artifact is what our own program compiled, in
                // a child we started, for an engine whose compatibility key
                // it checked equals this one's, and it came back over a pipe
                // only that child could write to. wasmtime checks the
                // header and the engine's compatibility again.
                unsafe { Component::deserialize(&self.engine, &artifact) }.map_err(|e| {
                    LoadErrorKind::CompileFailed(format!(
                        "cannot load the compile child's code: {e:#}"
                    ))
                })
            }
        }
    }
}
