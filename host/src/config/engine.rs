//! `[limits]` and `[engine]`: the sandbox of every policy call. Their
//! defaults are the runtime's.

use crate::runtime::{Allocator, CompileLimits, Compiler, EngineOptions, Limits, PerComponent};
use serde::Deserialize;
use std::time::Duration;

/// `[limits]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// CPU deadline per call. Default `100ms`.
    #[serde(with = "humantime_serde")]
    pub deadline: Duration,
    /// Memory per call, in MiB. Default 64.
    pub memory_mib: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let limits = Limits::default();
        LimitsConfig {
            deadline: limits.deadline,
            memory_mib: limits.memory_bytes >> 20,
        }
    }
}

/// `[engine]`: fixed for the life of the process. The pool sizes left unset
/// are [`EngineOptions`]'s.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// `"pooling"` (default) or `"on-demand"`.
    pub allocator: Allocator,
    /// Pooling: instances alive at once; more calls wait. Default 1000.
    pub max_instances: Option<u32>,
    /// Pooling: memory of each instance slot, in MiB. Default 256; at least
    /// `[limits] memory_mib` and every tenant's.
    pub memory_mib: Option<usize>,
    /// Pooling: elements of each table slot. Default 20000.
    pub table_elements: Option<usize>,
    /// Pooling: core instances one policy instance may hold. Default 32.
    pub core_instances_per_component: Option<u32>,
    /// Pooling: linear memories one policy instance may hold. Default 2.
    pub memories_per_component: Option<u32>,
    /// Pooling: tables one policy instance may hold. Default 4.
    pub tables_per_component: Option<u32>,
    /// Initialise memories copy-on-write from the component's image. Default true.
    pub copy_on_write: bool,
    /// Keep compiled policies in `<data_dir>/cache`. Default true.
    pub cache: bool,
    /// The compile child's memory (its data segment), in MiB. Default 2048.
    pub compile_memory_mib: u64,
    /// The compile child's CPU time; it is killed at three times this on
    /// the wall clock. Default `60s`.
    #[serde(with = "humantime_serde")]
    pub compile_time: Duration,
    /// Bytes of code of one component, all its modules. Default 32 MiB.
    pub compile_max_code_bytes: u64,
    /// Bytes of one function. Default 2 MiB.
    pub compile_max_function_bytes: u64,
    /// Locals of one function. Default 10000.
    pub compile_max_function_locals: u64,
    /// (Locals + operand stack depth) × blocks of one function. Default 2000000.
    pub compile_max_function_liveness: u64,
    /// Where policies compile: set by the command line (a child running the
    /// `dataslo` binary), never read from the file. Default in-process.
    #[serde(skip)]
    pub compiler: Compiler,
}

impl Default for EngineConfig {
    fn default() -> Self {
        let options = EngineOptions::default();
        EngineConfig {
            allocator: options.allocator,
            max_instances: None,
            memory_mib: None,
            table_elements: None,
            core_instances_per_component: None,
            memories_per_component: None,
            tables_per_component: None,
            copy_on_write: options.copy_on_write,
            cache: true,
            compile_memory_mib: options.compile.limits.memory_bytes >> 20,
            compile_time: options.compile.limits.time,
            compile_max_code_bytes: options.compile.limits.code_bytes,
            compile_max_function_bytes: options.compile.limits.function_bytes,
            compile_max_function_locals: options.compile.limits.function_locals,
            compile_max_function_liveness: options.compile.limits.function_liveness,
            compiler: options.compile.compiler,
        }
    }
}

impl EngineConfig {
    /// Pooling: what one policy instance may hold, the defaults filling
    /// what is unset.
    pub fn per_component(&self) -> PerComponent {
        let defaults = PerComponent::default();
        PerComponent {
            core_instances: self
                .core_instances_per_component
                .unwrap_or(defaults.core_instances),
            memories: self.memories_per_component.unwrap_or(defaults.memories),
            tables: self.tables_per_component.unwrap_or(defaults.tables),
        }
    }

    /// The compile limits in force.
    pub fn compile_limits(&self) -> CompileLimits {
        CompileLimits {
            memory_bytes: self.compile_memory_mib.saturating_mul(1 << 20),
            time: self.compile_time,
            code_bytes: self.compile_max_code_bytes,
            function_bytes: self.compile_max_function_bytes,
            function_locals: self.compile_max_function_locals,
            function_liveness: self.compile_max_function_liveness,
        }
    }

    /// Pooling: the memory of each slot in force, in MiB.
    pub fn slot_memory_mib(&self) -> usize {
        self.memory_mib
            .unwrap_or(EngineOptions::default().memory_bytes >> 20)
    }
}
