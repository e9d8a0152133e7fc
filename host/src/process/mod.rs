//! Settings a process makes once, at its start, for the whole of it.
//!
//! Depends on nothing else in the crate; the binary, the load examples and
//! the benches that stand for a server call it.

/// Turns transparent huge pages off for this process and the processes it
/// starts (the compile child, `cargo`). mimalloc asks for them, and sled
/// allocates a fresh 512 KiB log buffer per flush: each one then faulted in
/// a whole 2 MiB page, zeroed, and a seventh of ingest time went to zeroing
/// (perf). Off, the OpenLineage load runs about 15 % faster, its p99 halves
/// and it holds less than half the memory (BENCHMARKS.md, round two's third
/// sitting). Only later faults are affected: call it before the work. A
/// kernel without the setting is left as it is: a speed-up, not a need.
pub fn without_huge_pages() {
    // SAFETY: prctl with integer arguments only touches this process's flags.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}
