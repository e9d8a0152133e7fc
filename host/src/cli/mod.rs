//! The `dataslo` command: argument parsing and the subcommands' I/O. Each
//! subcommand reads its inputs, calls the library, and prints.
//!
//! Nothing in the library depends on this module.

mod agent;
mod args;
mod demo;
mod eval;
mod failure;
mod import_dbt;
mod input;
mod inspect;
mod ledger_cmd;
mod ledger_rebuild;
mod logging;
mod observe;
mod policies;
mod policy_test;
mod run;
mod serve;
mod setup;
mod slo;
mod status;
mod table;
mod tenant_scope;

pub use args::{Cli, Command, Format, LogFormat};
pub use failure::Failure;

use clap::Parser;
use std::process::ExitCode;

/// Runs the command line in `std::env::args`, printing errors to stderr.
pub fn main() -> ExitCode {
    // The compile child (see `runtime::Compiler::Child`) is no command: it
    // takes no logging and no parsing, only the runtime's own arguments.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == crate::runtime::COMPILE_CHILD_ARG)
    {
        let args: Vec<String> = std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let code = crate::runtime::compile_child_main(&args);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let cli = Cli::parse();
    if !matches!(
        cli.command,
        Command::Serve { .. } | Command::Run { .. } | Command::Agent { .. }
    ) {
        quiet_on_closed_stdout();
    }
    // The demo prints its own timeline; its alerts would flood the log.
    let quiet = matches!(cli.command, Command::Demo { .. });
    logging::init(cli.log_format, if quiet { "warn" } else { "info" });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // Errors quote policies and inputs.
            eprintln!("{}", crate::model::escape_control(&failure.to_string()));
            ExitCode::from(failure.exit_code())
        }
    }
}

/// A command whose reader goes away (`dataslo status | head -1`) ends
/// quietly, as `cat` does, instead of panicking in `println!`. Rust ignores
/// SIGPIPE by default; `serve`, `run` and `agent` keep it ignored, since they write
/// to sockets whose peers may hang up.
fn quiet_on_closed_stdout() {
    // SAFETY: sets this process's SIGPIPE disposition back to the default,
    // before any thread is started; no handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Eval(args) => eval::run(args),
        Command::Policies { format } => policies::run(format),
        Command::Test(args) => policy_test::run(args),
        Command::Inspect {
            file,
            format,
            engine_config,
        } => inspect::run(&file, format, engine_config.as_deref()),
        Command::Slo(args::SloCommand::Validate { files, format }) => slo::validate(&files, format),
        Command::Observe {
            setup,
            source,
            openlineage,
            wait,
        } => observe::run(&setup, &source, openlineage, wait),
        Command::Demo { data_dir, days } => demo::run(data_dir, days),
        Command::Serve { setup } => serve::run(&setup),
        Command::Agent { setup } => agent::run(&setup),
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
            tenants,
        } => status::run(&setup, &slo_files, at.as_deref(), format, &tenants),
        Command::Ledger(args::LedgerCommand::Verify { setup, tenants }) => {
            ledger_cmd::verify(&setup, &tenants)
        }
        Command::Ledger(args::LedgerCommand::Export {
            setup,
            slo,
            since,
            tenants,
        }) => ledger_cmd::export(
            &setup,
            ledger_cmd::ExportFilter {
                tenants: &tenants,
                slo: slo.as_deref(),
                since: since.as_deref(),
            },
        ),
        Command::Import(args::ImportCommand::Dbt(args)) => import_dbt::run(&args),
        Command::Ledger(args::LedgerCommand::Migrate { setup }) => ledger_cmd::migrate(&setup),
        Command::Ledger(args::LedgerCommand::Rebuild { setup, tenants }) => {
            ledger_rebuild::run(&setup, &tenants)
        }
    }
}
