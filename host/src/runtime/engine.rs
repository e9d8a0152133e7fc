//! The process-wide engine and linker, and the epoch ticker that drives deadlines.

use super::limits::Limits;
use super::sandbox::Sandbox;
use super::ticker::Ticker;
use super::{bindings, error::LoadError};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

/// Loads and runs policies. Create one per process and share it.
pub struct Runtime {
    pub(super) engine: Engine,
    pub(super) linker: Linker<Sandbox>,
    pub(super) limits: Limits,
    _ticker: Ticker,
}

/// The engine could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the WebAssembly engine: {0}")]
pub struct EngineError(String);

impl Runtime {
    /// A runtime whose calls use `limits` unless a call brings its own.
    pub fn new(limits: Limits) -> Result<Self, EngineError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Capturing a backtrace walks the whole guest stack: after a deep
        // recursion that costs seconds, longer than the deadline itself.
        config.wasm_backtrace_max_frames(None);
        let engine = Engine::new(&config).map_err(|e| EngineError(format!("{e:#}")))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| EngineError(format!("{e:#}")))?;
        bindings::Policy::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| EngineError(format!("{e:#}")))?;

        let ticker =
            Ticker::start(&engine).map_err(|e| EngineError(format!("epoch ticker: {e}")))?;
        Ok(Runtime {
            engine,
            linker,
            limits,
            _ticker: ticker,
        })
    }

    /// The default limits of this runtime's calls.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Loads built-in policy `name` (without the `builtin:` prefix).
    pub fn load_builtin(&self, name: &str) -> Result<super::Policy, LoadError> {
        let label = format!("builtin:{name}");
        match super::builtin_bytes(name) {
            Some(bytes) => self.load(&label, bytes),
            None => Err(LoadError {
                policy: label,
                kind: super::LoadErrorKind::UnknownBuiltin {
                    available: super::builtin_names().collect::<Vec<_>>().join(", "),
                },
            }),
        }
    }
}
