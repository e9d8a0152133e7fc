//! `[limits]` and `[engine]`: the sandbox of every policy call. Their
//! defaults are the runtime's.

use crate::runtime::{Allocator, EngineOptions, Limits, PerComponent};
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

    /// Pooling: the memory of each slot in force, in MiB.
    pub fn slot_memory_mib(&self) -> usize {
        self.memory_mib
            .unwrap_or(EngineOptions::default().memory_bytes >> 20)
    }
}
