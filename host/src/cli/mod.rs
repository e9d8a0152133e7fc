//! The `dataslo` command: argument parsing and the subcommands' I/O. Each
//! subcommand reads its inputs, calls the library, and prints.
//!
//! Nothing in the library depends on this module.

mod args;
mod demo;
mod eval;
mod failure;
mod input;
mod inspect;
mod ledger_cmd;
mod logging;
mod observe;
mod policies;
mod run;
mod serve;
mod setup;
mod slo;
mod status;
mod table;

pub use args::{Cli, Command, Format, LogFormat};
pub use failure::Failure;

use clap::Parser;
use std::process::ExitCode;

/// Runs the command line in `std::env::args`, printing errors to stderr.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints its own timeline; its alerts would flood the log.
    let quiet = matches!(cli.command, Command::Demo { .. });
    logging::init(cli.log_format, if quiet { "warn" } else { "info" });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Eval(args) => eval::run(args),
        Command::Policies { format } => policies::run(format),
        Command::Inspect { file, format } => inspect::run(&file, format),
        Command::Slo(args::SloCommand::Validate { files }) => slo::validate(&files),
        Command::Observe {
            setup,
            source,
            openlineage,
            wait,
        } => observe::run(&setup, &source, openlineage, wait),
        Command::Demo { data_dir, days } => demo::run(data_dir, days),
        Command::Serve { setup } => serve::run(&setup),
        Command::Run {
            setup,
            slo_files,
            once,
        } => run::run(&setup, &slo_files, once),
        Command::Status {
            setup,
            slo_files,
            at,
            format,
        } => status::run(&setup, &slo_files, at.as_deref(), format),
        Command::Ledger(args::LedgerCommand::Verify { setup }) => ledger_cmd::verify(&setup),
        Command::Ledger(args::LedgerCommand::Export { setup, slo, since }) => {
            ledger_cmd::export(&setup, slo.as_deref(), since.as_deref())
        }
        Command::Ledger(args::LedgerCommand::Migrate { setup }) => ledger_cmd::migrate(&setup),
    }
}
