//! `dataslo completions SHELL`: the shell completion script, generated from
//! the same argument definitions the command parses with.

use super::{Cli, Failure};
use clap::CommandFactory;
use clap_complete::Shell;

pub fn run(shell: Shell) -> Result<(), Failure> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "dataslo", &mut std::io::stdout());
    Ok(())
}
