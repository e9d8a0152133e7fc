use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// dataslo checks data against Service Level Objectives with WebAssembly policies.
#[derive(Debug, Parser)]
#[command(
    name = "dataslo",
    version = version_line(),
    about,
    after_help = "Examples:\n  \
        dataslo demo\n  \
        dataslo eval --policy builtin:freshness --config '{\"max_age\": \"2h\"}' --observation obs.json\n  \
        dataslo run --config dataslo.toml slos.yaml"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// How log lines are written to stderr (levels from `RUST_LOG`, default info).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// The form of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line of text per event.
    Text,
    /// One JSON object per event, for log shippers.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate one policy on one observation, without a ledger.
    #[command(after_help = "Examples:\n  \
        dataslo eval --policy builtin:freshness --config '{\"max_age\": \"2h\"}' \\\n    \
        --observation examples/orders.json\n  \
        dataslo eval --policy my_policy.wasm --config @config.json --observation - --format json < obs.json")]
    Eval(EvalArgs),
    /// Run a policy's test cases (PATH/tests/*.yaml, see docs/policy-tests.md)
    /// through the sandbox; build the policy crate first when needed. Exit 1
    /// when a case fails.
    #[command(after_help = "Examples:\n  \
        dataslo test\n  \
        dataslo test policies/uniqueness --junit target/cases.xml\n  \
        dataslo test my-policy --format json")]
    Test(TestArgs),
    /// Write a new policy project in ./NAME: a small row-count policy with a
    /// strict config, its test cases and a README; `dataslo test NAME` builds
    /// and tests it.
    #[command(after_help = "Examples:\n  \
        dataslo new min-rows && cd min-rows && dataslo test\n  \
        dataslo new min-rows --lang javascript\n  \
        dataslo new min-rows --lang python\n  \
        dataslo new my-policy --sdk-path ~/src/dataslo/guest-sdk")]
    New(NewArgs),
    /// List the built-in policies.
    Policies {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Simulate 30 days of a small warehouse with incidents, in virtual time,
    /// through the real scheduler and ledger; print the status and alert timeline.
    Demo {
        /// Where to write the ledger. Default: a new folder in the temp directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Days to simulate.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i64).range(1..=400))]
        days: i64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Store observations (JSON object, array, or NDJSON) in the ledger; prints
    /// the acknowledgement only after they are flushed to disk.
    Observe {
        #[command(flatten)]
        #[allow(missing_docs)]
        setup: super::setup::SetupArgs,
        /// The file, or `-` for standard input.
        source: String,
        /// The input is OpenLineage events (one, or a JSON array): every
        /// input and output dataset becomes an observation.
        #[arg(long)]
        openlineage: bool,
        /// Answer only after the observations are evaluated, with the number
        /// of evaluation records.
        #[arg(long)]
        wait: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run the scheduler and ledger until SIGINT or SIGTERM.
    #[command(after_help = "Examples:\n  \
        dataslo run --config dataslo.toml\n  \
        dataslo run --data-dir ./data slos.yaml\n  \
        dataslo run --config dataslo.toml --once")]
    Run {
        #[command(flatten)]
        #[allow(missing_docs)]
        setup: super::setup::SetupArgs,
        /// SLO files, added to the config's.
        slo_files: Vec<PathBuf>,
        /// One pass (pending observations, spool, clock), then exit.
        #[arg(long)]
        once: bool,
        /// Output format: `json` writes errors, and the summary of `--once`, as JSON.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Evaluate at the edge as `run` does, and publish every record to NATS
    /// JetStream for the config's `[agent] tenant`, until SIGINT or SIGTERM.
    #[command(after_help = "Examples:\n  \
        dataslo agent --config agent.toml\n  \
        dataslo agent --config agent.toml --log-format json")]
    Agent {
        #[command(flatten)]
        #[allow(missing_docs)]
        setup: super::setup::SetupArgs,
        /// Output format: `json` writes a failure to start as a JSON object on stdout.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Serve the HTTP API for the config's tenants, with the scheduler and ledger.
    #[command(after_help = "Examples:\n  \
        dataslo serve --config dataslo.toml\n  \
        dataslo serve --config dataslo.toml --log-format json")]
    Serve {
        #[command(flatten)]
        #[allow(missing_docs)]
        setup: super::setup::SetupArgs,
        /// Output format: `json` writes a failure to start as a JSON object on stdout.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One row per SLO: SLI, budget remaining, burn rates, errors.
    Status {
        #[command(flatten)]
        #[allow(missing_docs)]
        setup: super::setup::SetupArgs,
        /// SLO files, added to the config's.
        slo_files: Vec<PathBuf>,
        /// The time to report on (RFC 3339). Default: now.
        #[arg(long)]
        at: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Only this tenant (repeatable). Default: every tenant of the
        /// config, or `default` when it has none.
        #[arg(long = "tenant", value_name = "TENANT")]
        tenants: Vec<String>,
    },
    /// Evaluate an SLO's stored observations again with another policy or
    /// config, and show old against new: events, SLI, budget and the alerts
    /// that would have fired. Writes nothing unless `--apply` (see docs/replay.md).
    #[command(after_help = "Examples:\n  \
        dataslo replay --data-dir ./data --slo orders-fresh --policy-config '{\"max_age\": \"1h\"}'\n  \
        dataslo replay --slo orders-volume --policy ./volume-v2.wasm --since 2026-11-20T00:00:00Z\n  \
        dataslo replay --slo orders-fresh --policy-config @stricter.json --format json --apply")]
    Replay(ReplayArgs),
    /// Check, export or migrate the ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Turn another tool's artifacts into observations (NDJSON), for
    /// `observe` or the spool.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Work with SLO definitions.
    #[command(subcommand)]
    Slo(SloCommand),
    /// Push policies to and pull them from OCI registries.
    #[command(subcommand)]
    Policy(super::policy_cmd::PolicyCommand),
    /// Print a shell completion script to stdout.
    #[command(after_help = "Examples:\n  \
        dataslo completions bash > ~/.local/share/bash-completion/completions/dataslo\n  \
        dataslo completions zsh > ~/.zfunc/_dataslo\n  \
        dataslo completions fish > ~/.config/fish/completions/dataslo.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Show a component's sha256, world, version, describe() and imports, without evaluating it.
    Inspect {
        /// The component file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// A `dataslo.toml` whose `[engine]` and `[limits]` build the sandbox
        /// (pool limits, allocator, compile cache, deadline, memory), as `serve` would. Default:
        /// the default engine, with no cache.
        #[arg(long, value_name = "FILE")]
        engine_config: Option<PathBuf>,
    },
}

/// `dataslo slo ...`.
#[derive(Debug, Subcommand)]
pub enum SloCommand {
    /// Check OpenSLO files as `run` would: each SLO's policy loaded, its config
    /// validated by the policy and its SLI looked up; list evaluable SLOs,
    /// skipped documents, every error and every warning.
    #[command(after_help = "Examples:\n  \
        dataslo slo validate examples/slos.yaml\n  \
        dataslo slo validate slos/*.yaml --format json")]
    Validate {
        /// OpenSLO v1 YAML files (several documents per file allowed).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// `dataslo import ...`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// dbt source freshness (`sources.json`) and test results
    /// (`run_results.json`), named through `manifest.json` as OpenLineage's
    /// dbt integration names datasets (see docs/dbt.md).
    #[command(after_help = "Examples:\n  \
            dataslo import dbt --manifest target/manifest.json --run-results target/run_results.json \\\n    \
            --namespace postgres://db:5432 -o observations.ndjson\n  \
            dataslo import dbt --manifest target/manifest.json \\\n    \
                            --sources target/sources.json --namespace postgres://db:5432 \\\n    \
                            | dataslo observe -")]
    Dbt(DbtArgs),
}

/// Arguments of `dataslo import dbt`.
#[derive(Debug, clap::Args)]
pub struct DbtArgs {
    /// dbt's `manifest.json`, which maps each id to its relation.
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    /// The datasets' namespace, as OpenLineage names the connection of the
    /// dbt profile: `postgres://host:5432`, `bigquery`, `snowflake://account`.
    #[arg(long, value_name = "URI")]
    pub namespace: String,
    /// `sources.json` of `dbt source freshness` (this, `--run-results` or both).
    #[arg(long, value_name = "FILE", required_unless_present = "run_results")]
    pub sources: Option<PathBuf>,
    /// `run_results.json` of `dbt build`, `test`, `run`, `seed` or `snapshot`.
    #[arg(long, value_name = "FILE")]
    pub run_results: Option<PathBuf>,
    /// Write the observations to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The form of the summary on standard error (counts and skipped results).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `dataslo ledger ...`.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute every bucket from the records and check every checksum; exit 1 on any problem.
    Verify {
        #[command(flatten)]
        #[allow(missing_docs)]
        setup: super::setup::SetupArgs,
        /// Only this tenant (repeatable). Default: every tenant of the
        /// config, or `default` when it has none.
        #[arg(long = "tenant", value_name = "TENANT")]
        tenants: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write evaluation records as NDJSON, each SLO's in chain order, with
    /// their links (seq, prev, hash); first a `{"chain": …}` header line per
    /// chain, and a `"pruned": true` line for a link whose record retention
    /// removed, so that `ledger audit` can check the export offline.
    Export {
        #[command(flatten)]
        #[allow(missing_docs)]
        setup: super::setup::SetupArgs,
        /// Only this SLO.
        #[arg(long)]
        slo: Option<String>,
        /// Start each chain at its first record at or after this time (RFC
        /// 3339); every later link of that chain follows, whatever its time
        /// (a late record too), so each exported chain is contiguous.
        #[arg(long)]
        since: Option<String>,
        /// Only this tenant (repeatable). Default: every tenant of the
        /// config, or `default` when it has none.
        #[arg(long = "tenant", value_name = "TENANT")]
        tenants: Vec<String>,
        /// The records are NDJSON in either format; `json` also writes a
        /// failure as a JSON object on stdout.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Fill an empty ledger with the records the NATS stream holds for the
    /// config's tenants (central's config: `[nats]` and `[[tenants]]`).
    Rebuild {
        #[command(flatten)]
        #[allow(missing_docs)]
        setup: super::setup::SetupArgs,
        /// Only this tenant (repeatable). Default: every tenant of the config.
        #[arg(long = "tenant", value_name = "TENANT")]
        tenants: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Check an export's hash chains offline (no ledger); exit 1 at the
    /// first tampered line, naming it, or at the end for a chain cut short
    /// of the head its header declares.
    Audit {
        /// The export (`ledger export` output), or `-` for standard input.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Bring the ledger to the layout this dataslo reads; safe to rerun.
    Migrate {
        #[command(flatten)]
        #[allow(missing_docs)]
        setup: super::setup::SetupArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// Arguments of `dataslo eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A component file, or `builtin:NAME`.
    #[arg(long)]
    pub policy: String,
    /// The policy's config: JSON text, or `@FILE`.
    #[arg(long, default_value = "{}")]
    pub config: String,
    /// A `dataslo.toml` whose `[engine]` and `[limits]` build the sandbox
    /// (pool limits, allocator, compile cache, deadline, memory), as `serve` would. Default: the
    /// default engine, with no cache. Not the policy's config: that is `--config`.
    #[arg(long, value_name = "FILE")]
    pub engine_config: Option<PathBuf>,
    /// Refuse the policy unless this public key (base64) signed it; repeat
    /// for several. Added to `--engine-config`'s `trusted_keys` (its
    /// `revoked_keys` apply too).
    #[arg(long = "trust", value_name = "PUBLIC_KEY")]
    pub trust: Vec<String>,
    /// The observation JSON file, or `-` for standard input.
    #[arg(long)]
    pub observation: String,
    /// A JSON array of earlier observations (newest first).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// The evaluation's "now" (RFC 3339). Default: the current time.
    #[arg(long)]
    pub now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `dataslo new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The policy's name, also its folder's and package's: lowercase letters,
    /// digits, `-` and `_`, starting with a letter.
    pub name: String,
    /// The project's language.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// Rust only: depend on the SDK of this checkout (its `guest-sdk/`
    /// folder) instead of writing a copy into the project.
    #[arg(long, value_name = "DIR")]
    pub sdk_path: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `dataslo replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub setup: super::setup::SetupArgs,
    /// SLO files with the SLO's definition. Default: those the ledger saved last.
    pub slo_files: Vec<PathBuf>,
    /// The SLO to replay.
    #[arg(long, value_name = "NAME")]
    pub slo: String,
    /// Another policy: a component file or `builtin:NAME`. Default: the SLO's.
    #[arg(long, value_name = "FILE|builtin:NAME")]
    pub policy: Option<String>,
    /// Another config for the policy: JSON text, or `@FILE`. Default: the SLO's.
    #[arg(long, value_name = "JSON")]
    pub policy_config: Option<String>,
    /// Replay only evaluations at or after this time (RFC 3339). Default:
    /// every retained observation.
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Write the new evaluations to the ledger as a new series, `SLO@REV`.
    #[arg(long)]
    pub apply: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The language of `dataslo new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Cargo, on dataslo's Rust SDK.
    Rust,
    /// componentize-js.
    Javascript,
    /// componentize-py.
    Python,
}

/// Arguments of `dataslo test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The policy project: a policy crate (Cargo.toml with a cdylib), or a
    /// folder holding one `.wasm` component; its cases are in PATH/tests/.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also write the results as JUnit XML to FILE, for CI.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// A `dataslo.toml` whose `[engine]` and `[limits]` build the sandbox
    /// (deadline, memory, pool limits, compile cache), as `serve` would.
    /// Default: the default limits, compiled code cached under a JavaScript
    /// or Python project's target/.
    #[arg(long, value_name = "FILE")]
    pub engine_config: Option<PathBuf>,
}

impl Command {
    /// The output format the command was given; `table` for commands that
    /// take no `--format`.
    pub fn format(&self) -> Format {
        match self {
            Command::Demo { format, .. }
            | Command::Observe { format, .. }
            | Command::Run { format, .. }
            | Command::Agent { format, .. }
            | Command::Serve { format, .. }
            | Command::Ledger(
                LedgerCommand::Verify { format, .. }
                | LedgerCommand::Export { format, .. }
                | LedgerCommand::Rebuild { format, .. }
                | LedgerCommand::Audit { format, .. }
                | LedgerCommand::Migrate { format, .. },
            ) => *format,
            Command::Eval(EvalArgs { format, .. })
            | Command::Test(TestArgs { format, .. })
            | Command::New(NewArgs { format, .. })
            | Command::Replay(ReplayArgs { format, .. })
            | Command::Policies { format }
            | Command::Status { format, .. }
            | Command::Inspect { format, .. }
            | Command::Slo(SloCommand::Validate { format, .. })
            | Command::Import(ImportCommand::Dbt(DbtArgs { format, .. })) => *format,
            Command::Policy(command) => command.format(),
            _ => Format::Table,
        }
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON for programs.
    Json,
}

/// `dataslo --version`: the release, the contract versions it loads and
/// the wasmtime that runs them.
fn version_line() -> &'static str {
    static LINE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let contracts: Vec<String> = crate::runtime::WIT_VERSIONS
            .iter()
            .map(|v| format!("dataslo:policy@{v}"))
            .collect();
        format!(
            "{} (policies: {}; wasmtime {})",
            env!("CARGO_PKG_VERSION"),
            contracts.join(", "),
            env!("DATASLO_WASMTIME_VERSION")
        )
    });
    &LINE
}
