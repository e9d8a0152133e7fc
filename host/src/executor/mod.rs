//! Evaluation on all cores: a fixed pool of worker threads, one queue per
//! tenant, and fair queueing between tenants. Each tenant is charged the wall
//! time its jobs run; a free worker takes the next job of the tenant whose
//! work arrived first among those charged at most a quantum (10 ms) more than
//! the least (a tenant that starts queueing is charged no less than the least
//! charged busy tenant, so idleness is not banked). A tenant whose policies
//! run to their deadline therefore gets its share of the workers (it runs
//! ahead by at most the quantum and the jobs it has running), a tenant of
//! quick checks is not stuck behind it, and a small batch runs to its end
//! instead of finishing together with everyone else's.
//!
//! A bounded pool of OS threads, not async wasmtime: policy calls are short,
//! CPU-bound and synchronous (the epoch deadline bounds each), so a thread
//! per core with no await points is the cheapest way to run them, and the
//! pool's size bounds the instances alive at once.
//!
//! Depends on nothing else in the crate; the scheduler and the service
//! depend on it.

mod fair;

pub use fair::Executor;
