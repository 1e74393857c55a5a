//! daydream: nightly maintenance of a developer's repositories, as resumable steps with a morning report.

mod budget;
mod build;
mod cancel;
mod check;
mod claude;
mod cli;
mod clock;
mod config;
mod demo;
mod env;
mod exec;
mod exit_codes;
mod fix;
mod fixer;
mod fsutil;
mod git;
mod github;
mod http;
mod ignore;
mod lessons;
mod logging;
mod logmine;
mod notify;
mod paths;
mod prices;
mod publish;
mod redact;
mod report;
mod runner;
mod sandbox;
mod schedule;
mod sentry;
mod setup;
mod state;
mod status;
mod step;
mod steps;
#[cfg(test)]
mod testing;
mod text;
mod watch;
mod workflow;

use std::process::ExitCode;

use std::io::Write as _;

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
            let usage = err.chain().any(|e| {
                e.downcast_ref::<config::ConfigError>().is_some()
                    || e.downcast_ref::<UsageError>().is_some()
            });
            ExitCode::from(if usage {
                exit_codes::USAGE
            } else {
                exit_codes::UNITS_FAILED
            })
        }
    }
}

/// The name of a command that does not read the projects file, for `--config` given before it.
fn ignores_config(command: &cli::Command) -> Option<&'static str> {
    use cli::Command as C;
    match command {
        C::Run(_)
        | C::Status(_)
        | C::Validate(_)
        | C::Doctor(_)
        | C::Fix(_)
        | C::Build(_)
        | C::Sessions(_)
        | C::Watch(_)
        | C::Init(_) => None,
        C::Lessons(_) => Some("lessons"),
        C::Demo(_) => Some("demo"),
        C::Metrics(_) => Some("metrics"),
        C::Ignore(_) => Some("ignore"),
        C::Mine(_) => Some("mine"),
        C::Schedule(_) => Some("schedule"),
        C::Completions { .. } => Some("completions"),
        C::Man => Some("man"),
        C::Confine(_) => Some("__confine"),
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

/// Warns that `bad` lines of the JSON-lines file `file` (relative to the root) were skipped, when there were any.
fn warn_skipped(bad: usize, file: &str) {
    if bad > 0 {
        eprintln!("warning: {bad} line(s) of `{file}` could not be read and were skipped");
    }
}

/// The reader of our output went away (`daydream status --json | head`): not an error of ours. The write may
/// have gone through `serde_json`, which wraps the io error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        let kind = e
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                e.downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

#[expect(
    clippy::too_many_lines,
    reason = "one arm per command, each a few lines"
)]
fn run(cli: cli::Cli) -> anyhow::Result<u8> {
    let global = cli.global;
    if let (Some(_), Some(name)) = (&global.config, ignores_config(&cli.command)) {
        return Err(UsageError(format!(
            "`daydream {name}` does not read the projects file\n  fix: drop `--config`"
        ))
        .into());
    }
    let config = |arg: cli::ConfigArg| arg.config.or_else(|| global.config.clone());
    // Not locked for the whole command: `run --jobs` prints from several threads.
    let mut stdout = std::io::stdout();
    match cli.command {
        cli::Command::Run(args) => runner::run(&runner::RunOptions {
            root: global.root,
            config: config(args.config),
            dry_run: args.dry_run,
            projects: args.projects,
            steps: args.steps,
            date: args.date,
            no_spend: args.no_spend,
            jobs: args.jobs.map(usize::from),
            verbose: global.verbose,
            lock_held: false,
        }),
        cli::Command::Status(args) => status::run(
            &setup::Setup::new(
                global.root.as_deref(),
                config(args.config.clone()).as_deref(),
            )?,
            &args,
            &mut stdout,
        ),
        cli::Command::Validate(arg) => check::validate(
            &setup::Setup::new(global.root.as_deref(), config(arg).as_deref())?,
            &mut stdout,
        ),
        cli::Command::Doctor(arg) => check::doctor(
            &setup::Setup::new(global.root.as_deref(), config(arg).as_deref())?,
            &mut stdout,
        ),
        cli::Command::Lessons(args) => {
            let setup = setup::Setup::new(global.root.as_deref(), None)?;
            let (lessons, bad) = lessons::load(&setup.paths.root)?;
            if args.json {
                for lesson in &lessons {
                    writeln!(stdout, "{}", serde_json::to_string(lesson)?)?;
                }
                return Ok(exit_codes::OK);
            }
            if lessons.is_empty() {
                writeln!(
                    stdout,
                    "no lessons yet: the reflect step stores them in `data/lessons_learned.jsonl`"
                )?;
            }
            for l in &lessons {
                writeln!(
                    stdout,
                    "{} · {} · {} · seen on {} day(s), last {}",
                    l.category, l.project, l.pattern, l.occurrences, l.last_seen
                )?;
                writeln!(stdout, "    prevention: {}", l.prevention)?;
            }
            if bad > 0 {
                writeln!(
                    stdout,
                    "warning: {bad} line(s) of `data/lessons_learned.jsonl` could not be read and were skipped"
                )?;
            }
            Ok(exit_codes::OK)
        }
        cli::Command::Ignore(command) => {
            let setup = setup::Setup::new(global.root.as_deref(), None)?;
            let (root, today) = (&setup.paths.root, setup.clock.today());
            let text = match command {
                cli::IgnoreCommand::Add {
                    pattern,
                    days,
                    reason,
                } => ignore::add(root, today, &pattern, days, reason.as_deref())?,
                cli::IgnoreCommand::List => ignore::list(root, today)?,
                cli::IgnoreCommand::Remove { pattern } => ignore::remove(root, today, &pattern)?,
            };
            stdout.write_all(text.as_bytes())?;
            Ok(exit_codes::OK)
        }
        cli::Command::Fix(args) => fixer::run(
            &setup::Setup::new(global.root.as_deref(), config(args.config).as_deref())?,
            &fixer::FixOptions {
                projects: args.projects,
                tests: args.tests,
                max_attempts: args.max_attempts,
                max_minutes: args.max_minutes,
                dry_run: args.dry_run,
            },
            &mut stdout,
        ),
        cli::Command::Build(args) => build::run(
            &setup::Setup::new(global.root.as_deref(), config(args.config).as_deref())?,
            &build::BuildOptions {
                spec: args.spec,
                project: args.project,
                streams: usize::from(args.streams),
                dry_run: args.dry_run,
                pr: args.pr,
            },
            &mut stdout,
        ),
        cli::Command::Watch(args) => watch::run(
            &setup::Setup::new(global.root.as_deref(), config(args.config).as_deref())?,
            &watch::WatchOptions {
                projects: args.projects,
                poll_interval: std::time::Duration::from_secs(args.poll_interval),
                at: args.at,
                max_attempts: args.max_attempts,
                max_minutes: args.max_minutes,
                verbose: global.verbose,
                polls: args.polls,
            },
            &mut stdout,
        ),
        cli::Command::Metrics(args) => {
            let setup = setup::Setup::new(global.root.as_deref(), None)?;
            let (records, bad) = fix::metrics::load(&setup.paths.root)?;
            let mut report = fix::metrics::compute(
                &records,
                setup.clock.now(),
                args.days,
                args.project.as_deref(),
            );
            let (healed, bad_healed) = fix::healing::load(&setup.paths.root)?;
            if !healed.is_empty() {
                report.sentry = Some(fix::healing::compute(
                    &healed,
                    setup.clock.now(),
                    args.days,
                    args.project.as_deref(),
                ));
            }
            let (builds, bad_builds) = fix::builds::load(&setup.paths.root)?;
            if !builds.is_empty() {
                report.builds = Some(fix::builds::compute(
                    &builds,
                    setup.clock.now(),
                    args.days,
                    args.project.as_deref(),
                ));
            }
            warn_skipped(bad_builds, "data/builds.jsonl");
            warn_skipped(bad_healed, "data/sentry_fixes.jsonl");
            if args.json {
                writeln!(stdout, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                stdout.write_all(fix::metrics::render(&report).as_bytes())?;
            }
            warn_skipped(bad, "data/fix_attempts.jsonl");
            Ok(exit_codes::OK)
        }
        cli::Command::Schedule(args) => schedule::run(
            &setup::Setup::new(global.root.as_deref(), None)?,
            &schedule::ScheduleOptions {
                action: args.action,
                system: args.system,
                at: args.at,
                dry_run: args.dry_run,
            },
            &mut stdout,
        ),
        cli::Command::Init(cli::InitCommand::GithubActions(args)) => workflow::run(
            &setup::Setup::new(global.root.as_deref(), config(args.config).as_deref())?,
            &workflow::Options {
                at: args.at,
                max_parallel: args.max_parallel,
                budget_usd: args.budget_usd,
                install_from: args.install_from,
                dry_run: args.dry_run,
                force: args.force,
            },
            &mut stdout,
        ),
        cli::Command::Completions { shell } => {
            // Into memory first: the generator panics on a closed pipe (`| head`), a write here does not.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cli::public_command(), "daydream", &mut script);
            stdout.write_all(&script)?;
            Ok(exit_codes::OK)
        }
        cli::Command::Man => {
            clap_mangen::Man::new(cli::public_command()).render(&mut stdout)?;
            Ok(exit_codes::OK)
        }
        cli::Command::Confine(args) => {
            // Returns only when the command could not be confined or started: exit as a shell would.
            let err = sandbox::confine_and_exec(&args.write, args.network, &args.command);
            eprintln!("error: {err:#}");
            let missing = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
            });
            Ok(if missing { 127 } else { 126 })
        }
        cli::Command::Sessions(args) => steps::sessions::command(
            &setup::Setup::new(global.root.as_deref(), config(args.config).as_deref())?,
            args.project.as_deref(),
            args.date,
            args.json,
            &mut stdout,
        ),
        cli::Command::Mine(args) => logmine::mine_cmd::run(&args.files, args.raw, &mut stdout),
        cli::Command::Demo(args) => {
            let today = setup::Setup::new(None, None)
                .map_or_else(|_| chrono::Local::now().date_naive(), |s| s.clock.today());
            let notes = demo::write(&args.dir, today)?;
            for note in notes {
                println!("note: {note}");
            }
            println!("demo root written to `{}`", args.dir.display());
            if args.no_run {
                println!("run it with: daydream run --root {}", args.dir.display());
                return Ok(exit_codes::OK);
            }
            // The demo never spends money, even where `claude` is installed and logged in.
            println!(
                "the demo makes no model call (`--no-spend`); reflection says what it would have cost"
            );
            let code = runner::run(&runner::RunOptions {
                root: Some(args.dir.clone()),
                dry_run: args.dry_run,
                no_spend: true,
                verbose: global.verbose,
                ..runner::RunOptions::default()
            })?;
            let report = args
                .dir
                .join("logs")
                .join("daydream")
                .join(format!("report_{today}.md"));
            println!(
                "\nnext: read `{}`, then try `daydream status --root {1}` or `daydream run --root {1}` (a rerun does nothing new)",
                report.display(),
                args.dir.display()
            );
            Ok(code)
        }
    }
}
