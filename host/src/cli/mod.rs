//! The `dataslo` command: argument parsing and the subcommands' I/O. Each
//! subcommand reads its inputs, calls the library, and prints.
//!
//! Nothing in the library depends on this module.

mod agent;
mod args;
mod completions;
mod demo;
mod eval;
mod failure;
mod import_dbt;
mod input;
mod inspect;
mod ledger_audit;
mod ledger_cmd;
mod ledger_rebuild;
mod logging;
mod new;
mod observe;
mod policies;
mod policy_cmd;
mod policy_sign;
mod policy_test;
mod progress;
mod replay;
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let json = cli.command.format() == Format::Json;
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
            if let Some(line) = json.then(|| failure.json_line()).flatten() {
                println!("{line}");
            }
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Prints clap's answer to arguments it refused (or `--help`, `--version`)
/// and gives its exit code; under `--format json` the refusal is also an
/// error object on stdout, kind `usage`.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let code = e.exit_code();
    // Failing to print help or an error leaves nothing better to do.
    let _ = e.print();
    let helping = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if !helping && asked_for_json(std::env::args_os().skip(1)) {
        // clap's first paragraph, without the usage and help lines after it.
        let rendered = e.render().to_string();
        let paragraph: Vec<&str> = rendered
            .lines()
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        let text = paragraph.join(" ");
        let message = text.strip_prefix("error: ").unwrap_or(&text);
        let value = serde_json::json!({"error": {"kind": "usage", "message": message}});
        println!("{value}");
    }
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}

/// Whether raw arguments clap refused ask for `--format json`.
fn asked_for_json(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<_> = args.collect();
    args.iter().any(|a| a == "--format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json")
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
        Command::Completions { shell } => completions::run(shell),
        Command::Test(args) => policy_test::run(args),
        Command::New(args) => new::run(args),
        Command::Inspect {
            file,
            format,
            engine_config,
        } => inspect::run(&file, format, engine_config.as_deref()),
        Command::Slo(args::SloCommand::Validate { files, format }) => slo::validate(&files, format),
        Command::Policy(command) => policy_cmd::run(command),
        Command::Observe {
            setup,
            source,
            openlineage,
            wait,
            format,
        } => observe::run(&setup, &source, openlineage, wait, format),
        Command::Demo {
            data_dir,
            days,
            format,
        } => demo::run(data_dir, days, format),
        Command::Serve { setup, .. } => serve::run(&setup),
        Command::Agent { setup, .. } => agent::run(&setup),
        Command::Run {
            setup,
            slo_files,
            once,
            format,
        } => run::run(&setup, &slo_files, once, format),
        Command::Status {
            setup,
            slo_files,
            at,
            format,
            tenants,
        } => status::run(&setup, &slo_files, at.as_deref(), format, &tenants),
        Command::Ledger(args::LedgerCommand::Verify {
            setup,
            tenants,
            format,
        }) => ledger_cmd::verify(&setup, &tenants, format),
        Command::Ledger(args::LedgerCommand::Export {
            setup,
            slo,
            since,
            tenants,
            ..
        }) => ledger_cmd::export(
            &setup,
            ledger_cmd::ExportFilter {
                tenants: &tenants,
                slo: slo.as_deref(),
                since: since.as_deref(),
            },
        ),
        Command::Import(args::ImportCommand::Dbt(args)) => import_dbt::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Ledger(args::LedgerCommand::Migrate { setup, format }) => {
            ledger_cmd::migrate(&setup, format)
        }
        Command::Ledger(args::LedgerCommand::Audit { file, format }) => {
            ledger_audit::audit(&file, format)
        }
        Command::Ledger(args::LedgerCommand::Rebuild {
            setup,
            tenants,
            format,
        }) => ledger_rebuild::run(&setup, &tenants, format),
    }
}
