//! The process-wide engine and linker, and the epoch ticker that drives deadlines.

use super::cache::{Cache, CacheStats, Counters};
use super::limits::Limits;
use super::options::EngineOptions;
use super::pool::Slots;
use super::sandbox::Sandbox;
use super::ticker::Ticker;
use super::virtual_clock::VirtualClocks;
use super::{error::LoadError, instance};
use crate::model::PolicyRef;
use std::sync::Arc;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, WasmBacktraceDetails};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;

/// Loads and runs policies. Create one per process and share it.
pub struct Runtime {
    pub(super) engine: Engine,
    pub(super) linker: Linker<Sandbox>,
    pub(super) limits: Limits,
    pub(super) options: EngineOptions,
    /// Pooling only: one permit per instance slot, so a full pool queues calls.
    pub(super) slots: Option<Arc<Slots>>,
    pub(super) cache: Option<Cache>,
    pub(super) counters: Counters,
    pub(super) code: super::shared_code::SharedCode,
    _ticker: Ticker,
}

/// The engine could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the WebAssembly engine: {0}")]
pub struct EngineError(String);

/// The wasmtime config of `options`. The compile child builds its engine
/// from the same function, so its code loads into this one.
pub(super) fn wasmtime_config(options: &EngineOptions) -> Config {
    let mut config = Config::new();
    options.apply(&mut config);
    config.epoch_interruption(true);
    // Capturing a backtrace walks the whole guest stack: after a deep
    // recursion that costs seconds, longer than the deadline itself.
    config.wasm_backtrace_max_frames(None);
    // With no backtraces, the address map (native to wasm offsets) is never
    // read, and native unwind info only serves outside unwinders (perf,
    // gdb): both were kept per policy, in every artifact (E6).
    config.generate_address_map(false);
    config.native_unwind_info(false);
    config.wasm_backtrace_details(WasmBacktraceDetails::Disable);
    config
}

impl EngineOptions {
    /// The wasmtime config a runtime with these options builds its engine
    /// from: for measuring wasmtime itself beside dataslo (the benches' floor).
    pub fn wasmtime_config(&self) -> Config {
        wasmtime_config(self)
    }
}

impl Runtime {
    /// A runtime whose calls use `limits` unless a call brings its own, with
    /// the default engine: pooling allocator, copy-on-write, no disk cache.
    pub fn new(limits: Limits) -> Result<Self, EngineError> {
        Self::with_engine(limits, EngineOptions::default())
    }

    /// A runtime built with `options`. A cache folder that cannot be trusted
    /// is reported and not used: loads then compile.
    pub fn with_engine(limits: Limits, options: EngineOptions) -> Result<Self, EngineError> {
        let engine =
            Engine::new(&wasmtime_config(&options)).map_err(|e| EngineError(format!("{e:#}")))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| EngineError(format!("{e:#}")))?;
        // WASI's monotonic clock waits for real, and epoch interruption cannot
        // stop a host call: the virtual clock replaces it.
        linker.allow_shadowing(true);
        monotonic_clock::add_to_linker::<_, VirtualClocks>(&mut linker, Sandbox::clock)
            .map_err(|e| EngineError(format!("{e:#}")))?;
        linker.allow_shadowing(false);
        instance::add_to_linker(&mut linker).map_err(|e| EngineError(format!("{e:#}")))?;

        let ticker =
            Ticker::start(&engine).map_err(|e| EngineError(format!("epoch ticker: {e}")))?;
        let cache = options
            .cache_dir
            .as_deref()
            .and_then(|dir| match Cache::open(dir, &engine) {
                Ok(cache) => Some(cache),
                Err(e) => {
                    tracing::warn!(error = %e, "compile cache unusable; compiling every policy instead");
                    None
                }
            });
        Ok(Runtime {
            engine,
            linker,
            limits,
            slots: options.instance_cap().map(|cap| Arc::new(Slots::new(cap))),
            options,
            cache,
            counters: Counters::default(),
            code: Default::default(),
            _ticker: ticker,
        })
    }

    /// The options the engine was built with.
    pub fn engine_options(&self) -> &EngineOptions {
        &self.options
    }

    /// Compilations and cache hits since this runtime started.
    pub fn cache_stats(&self) -> CacheStats {
        self.counters.snapshot()
    }

    /// Free instance slots now (pooling only): calls beyond them wait.
    pub fn free_slots(&self) -> Option<usize> {
        self.slots.as_deref().map(Slots::available)
    }

    /// The compile cache in use, if any.
    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }

    /// The default limits of this runtime's calls.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Loads built-in policy `name` (without the `builtin:` prefix).
    pub fn load_builtin(&self, name: &str) -> Result<super::Policy, LoadError> {
        let label = PolicyRef::Builtin(name.to_string()).to_string();
        match super::builtin_bytes(name) {
            Some(bytes) => self.load_as(&label, bytes, super::loader::Trust::Builtin),
            None => Err(LoadError {
                policy: label,
                kind: super::LoadErrorKind::UnknownBuiltin {
                    available: super::builtin_names().collect::<Vec<_>>().join(", "),
                },
            }),
        }
    }
}
