//! The sandbox: one wasmtime [`Engine`](wasmtime::Engine) per process, policies
//! compiled once and pre-instantiated, and a fresh, limited `Store` for every
//! call into a policy.
//!
//! [`Session`] keeps one instance for many calls, trading isolation for speed.
//!
//! Depends on [`crate::model`] only. Nothing here knows about SLOs, the ledger
//! or the CLI; they call [`Runtime::load`] and [`Runtime::evaluate`].

mod bindings;
mod builtins;
mod cache;
mod compile;
mod contract;
mod convert;
mod engine;
mod error;
mod evaluate;
mod footprint;
mod history;
mod instance;
mod known;
mod limits;
mod loader;
mod options;
mod pool;
mod sandbox;
mod session;
mod shared_code;
mod ticker;
mod virtual_clock;
mod wasi;

pub use builtins::{BUILTINS, builtin_bytes, builtin_names};
pub use cache::{Cache, CacheError, CacheStats};
pub use compile::{
    COMPILE_CHILD_ARG, CompileLimits, CompileOptions, Compiler, child_main as compile_child_main,
};
pub use contract::{
    CONFIG_SCHEMA_BYTES, DESCRIPTION_BYTES, EMITTED_SLI_BYTES, NAME_BYTES, SLI_NAME_BYTES,
    SLIS_PER_POLICY, VERSION_BYTES, sli_matches,
};
pub use engine::EngineError;
pub use engine::Runtime;
pub use error::{
    ErrorCode, EvalError, EvalErrorKind, GuestError, LoadError, LoadErrorKind, TrapKind,
    UnknownErrorCode,
};
pub use evaluate::{Evaluation, EvaluationInput, LogLine, PolicyLevel, log_policy_line};
pub use footprint::{Footprint, footprint};
pub use history::{History, HistoryError, HistorySource, no_history};
pub use known::Known;
pub use limits::Limits;
pub use loader::{InterfaceInfo, Policy, PolicyInfo, interface_of};
pub use options::{
    Allocator, CORE_INSTANCES_PER_COMPONENT, EngineOptions, MEMORIES_PER_COMPONENT,
    MEMORY_GUARD_BYTES, PerComponent, TABLES_PER_COMPONENT,
};
pub use session::Session;

/// The WIT package this host implements.
pub const WIT_PACKAGE: &str = "dataslo:policy";
/// The newest WIT package version this host implements: that of `wit/policy.wit`.
pub const WIT_VERSION: &str = "0.2.0";
/// Every WIT package version this host loads, newest first.
pub const WIT_VERSIONS: [&str; 2] = ["0.2.0", "0.1.0"];
