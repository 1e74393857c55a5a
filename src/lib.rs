//! daydream: nightly maintenance of a developer's repositories, as resumable steps with a morning report.

mod cancel;
mod cli;
mod demo;
mod clock;
mod config;
mod env;
mod exec;
mod exit_codes;
mod fsutil;
mod logmine;
mod paths;
mod redact;
mod runner;
mod state;
mod step;
mod steps;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the command, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            let usage = err.chain().any(|e| e.downcast_ref::<config::ConfigError>().is_some() || e.downcast_ref::<UsageError>().is_some());
            ExitCode::from(if usage { exit_codes::USAGE } else { exit_codes::UNITS_FAILED })
        }
    }
}

/// A mistake on the command line or in the environment: exit code 2.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

fn run(cli: cli::Cli) -> anyhow::Result<u8> {
    match cli.command {
        cli::Command::Run(args) => runner::run(&cli.global, &args),
        _ => anyhow::bail!("not yet"),
    }
}
