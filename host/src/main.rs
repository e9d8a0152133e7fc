//! The `dataslo` binary: parses arguments and hands them to [`dataslo::cli`].

fn main() -> std::process::ExitCode {
    dataslo::cli::main()
}
