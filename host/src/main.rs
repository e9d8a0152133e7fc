//! The `dataslo` binary: parses arguments and hands them to [`dataslo::cli`].

// sled copies tree nodes on every write; glibc's malloc spends a fifth of
// ingest time on them (perf), mimalloc much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    dataslo::process::without_huge_pages();
    dataslo::cli::main()
}
