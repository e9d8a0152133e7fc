//! How the engine is built: which instance allocator, how large its pool, and
//! where compiled components are cached. Fixed for the life of a [`Runtime`].
//!
//! [`Runtime`]: super::Runtime

use std::path::PathBuf;
use wasmtime::{Config, Enabled, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Where instances' memories, tables and metadata come from. In
/// `dataslo.toml`: `allocator = "pooling"` or `"on-demand"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocator {
    /// Slots reserved once at start-up and reused: instantiation is a few
    /// `madvise`s instead of `mmap`s. Concurrent instances are capped; calls
    /// beyond the cap wait for a slot.
    Pooling,
    /// `mmap` per instance: no reservation up front, for small machines.
    OnDemand,
}

/// Core instances one component may hold, by default. A std Rust
/// `wasm32-wasip2` guest holds 3, a componentize-js one 4, a componentize-py
/// one 14 (its interpreter, libc and other shared libraries, and their
/// shims). Twice Python's leaves room; the pool only counts core instances,
/// so a higher limit reserves nothing.
pub const CORE_INSTANCES_PER_COMPONENT: u32 = 32;
/// Linear memories one component may hold, by default: a Rust guest defines
/// 1, and so does a componentize-py one (its libraries share it). Each is a
/// pool slot of `memory_mib` address space (reserved, not resident) times
/// `max_instances`.
pub const MEMORIES_PER_COMPONENT: u32 = 2;
/// Tables one component may hold, by default: a Rust guest defines 2 (its
/// own and the shim's; 1 when it needs no shim), and so does a
/// componentize-py one.
pub const TABLES_PER_COMPONENT: u32 = 4;
/// Unmapped bytes after each pooled memory. Bounds checks stay explicit (the
/// reservation is below 4 GiB), but offsets up to this size need no addition.
pub const MEMORY_GUARD_BYTES: u64 = 2 << 20;

/// Bytes of each pooled memory kept resident between calls. With Linux
/// `PAGEMAP_SCAN` only the pages a call wrote are rewritten, instead of an
/// `madvise` now and a page fault per page on the next call. A Rust guest's
/// stack, data and small heap fit.
pub const MEMORY_KEEP_RESIDENT: usize = 2 << 20;
/// The same for each pooled table. One page: a table that fits (a Rust
/// guest's do) is reset by zeroing that page, with no `PAGEMAP_SCAN` syscall.
pub const TABLE_KEEP_RESIDENT: usize = 4 << 10;

/// Pooling: what one component instance may hold. A component over any of
/// them is refused at load with [`LoadErrorKind::PoolLimit`].
///
/// [`LoadErrorKind::PoolLimit`]: super::LoadErrorKind::PoolLimit
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerComponent {
    /// Core module instances, nested components' included.
    pub core_instances: u32,
    /// Linear memories its modules define.
    pub memories: u32,
    /// Tables its modules define.
    pub tables: u32,
}

impl Default for PerComponent {
    fn default() -> Self {
        PerComponent {
            core_instances: CORE_INSTANCES_PER_COMPONENT,
            memories: MEMORIES_PER_COMPONENT,
            tables: TABLES_PER_COMPONENT,
        }
    }
}

/// The engine's construction options. `Default` is what `dataslo.toml` gives
/// when `[engine]` is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOptions {
    /// The instance allocator.
    pub allocator: Allocator,
    /// Pooling: component instances alive at once (each call holds one).
    pub max_instances: u32,
    /// Pooling: the largest linear memory, in bytes; also each slot's address
    /// space reservation. Per-call memory limits above it are capped to it.
    pub memory_bytes: usize,
    /// Pooling: the largest table, in elements.
    pub table_elements: usize,
    /// Pooling: what one component instance may hold.
    pub per_component: PerComponent,
    /// Initialise memories by mapping the component's data copy-on-write.
    pub copy_on_write: bool,
    /// Where compiled components are cached; `None` compiles every load.
    pub cache_dir: Option<PathBuf>,
    /// How untrusted components are compiled, and within which bounds.
    pub compile: super::CompileOptions,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            allocator: Allocator::Pooling,
            max_instances: 1000,
            memory_bytes: 256 << 20,
            // A slot holds the largest table a call may use.
            table_elements: super::Limits::default().table_elements,
            per_component: PerComponent::default(),
            copy_on_write: true,
            cache_dir: None,
            compile: super::CompileOptions::default(),
        }
    }
}

impl EngineOptions {
    /// On-demand allocation, nothing cached: the smallest footprint.
    pub fn on_demand() -> Self {
        EngineOptions {
            allocator: Allocator::OnDemand,
            ..EngineOptions::default()
        }
    }

    /// The cap on any one memory, if the allocator has one.
    pub fn memory_cap(&self) -> Option<usize> {
        (self.allocator == Allocator::Pooling).then_some(self.memory_bytes)
    }

    /// Concurrent calls the allocator can hold, if it has a cap.
    pub fn instance_cap(&self) -> Option<usize> {
        (self.allocator == Allocator::Pooling).then_some(self.max_instances as usize)
    }

    /// Applies these options to a wasmtime config.
    pub(super) fn apply(&self, config: &mut Config) {
        config.memory_init_cow(self.copy_on_write);
        if self.allocator == Allocator::OnDemand {
            return;
        }
        let n = self.max_instances;
        let per = self.per_component;
        let memory = self.memory_bytes as u64;
        // A slot's reservation is its memory limit: 1,000 instances of 2
        // memories reserve 1,000 × 2 × (memory + guard) of address space,
        // not 2,000 × 4 GiB.
        config.memory_reservation(memory);
        config.memory_guard_size(MEMORY_GUARD_BYTES);
        config.memory_reservation_for_growth(0);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(per.core_instances))
            .total_memories(n.saturating_mul(per.memories))
            .total_tables(n.saturating_mul(per.tables))
            .max_core_instances_per_component(per.core_instances)
            .max_memories_per_component(per.memories)
            .max_tables_per_component(per.tables)
            .max_memory_size(self.memory_bytes)
            .table_elements(self.table_elements)
            .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT.min(self.memory_bytes))
            .table_keep_resident(TABLE_KEEP_RESIDENT)
            // Off by default in wasmtime 48: without it every reset rewrites
            // the whole kept-resident prefix (a Rust guest's 1 MiB stack
            // included), which was 40 % of an evaluation.
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
}
