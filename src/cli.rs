//! The command line: clap definitions only.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "daydream",
    version,
    about = "Nightly maintenance for your repositories, with a report in the morning.",
    long_about = "Nightly maintenance for your repositories, with a report in the morning.\n\n\
        daydream runs an ordered list of resumable steps (cleanup, logs, sessions, sentry, tasks, docs, tests, reflect, autofix, report) over the projects in \
        `config/projects.json` under its root, saves `logs/daydream/state.json` after every unit of work, \
        and writes `logs/daydream/report_YYYY-MM-DD.md`. Run it from cron or launchd; run it again the same \
        day and it only does what is not done yet.",
    after_help = crate::exit_codes::HELP,
    after_long_help = crate::exit_codes::HELP
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct Global {
    /// The daydream root: holds `config/`, `logs/daydream/` and `data/` [default: the current directory]
    #[arg(long, global = true, env = "DAYDREAM_ROOT", value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
    /// `--config` before the command (`daydream --config P run`), for the commands that read it
    #[arg(
        long = "config",
        id = "config_before_command",
        hide = true,
        value_name = "PATH"
    )]
    pub(crate) config: Option<PathBuf>,
    /// More detail on stderr (`-v` info, `-vv` debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

/// `--config`, on the commands that read the projects file.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct ConfigArg {
    /// The projects file [default: `<root>/config/projects.json`]
    #[arg(long, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run the steps over the projects; resumes where an earlier run of the same day stopped
    #[command(after_help = crate::exit_codes::HELP)]
    Run(RunArgs),
    /// Show where the day's run stands: each step and each project's unit
    Status(StatusArgs),
    /// Check `config/projects.json`; exits 2 with file, line, column and the fix when it is wrong
    Validate(ConfigArg),
    /// Check the configuration and what this machine has (directories, git, gh, claude, tokens)
    Doctor(ConfigArg),
    /// List the lessons reflection has learned (`data/lessons_learned.jsonl`)
    Lessons(LessonsArgs),
    /// Write the bundled demo root (two small projects with real-looking logs) into DIR and run on it
    Demo(DemoArgs),
    /// Fix failing tests on a local branch: run the suite in a worktree, set flaky tests aside, fix each root
    /// cause in up to 3 verified attempts, commit each fix; never pushes
    #[command(long_about = FIX_ABOUT, after_help = FIX_EXIT)]
    Fix(FixArgs),
    /// Build a feature from a spec in parallel streams: a coordinator splits it, each stream works in its own
    /// worktree, the results are merged, verified by the whole suite and landed as one commit on a local branch
    #[command(long_about = BUILD_ABOUT, after_help = BUILD_EXIT)]
    Build(BuildArgs),
    /// The fix loop as a daemon: each poll, where a project's default branch moved, run its tests and fix what
    /// newly fails (only where `safe_paths` is set), on local branches; `--at` also runs the nightly run
    #[command(after_help = WATCH_EXIT)]
    Watch(WatchArgs),
    /// How fixing has gone: attempts, fixes, success rate, regressions, rejections, flaky tests, cost
    Metrics(MetricsArgs),
    /// Keep auto-fix away from a bug for a while (`data/daydream_ignore.jsonl`)
    #[command(subcommand)]
    Ignore(IgnoreCommand),
    /// Yesterday's Claude Code sessions in each project: tool errors, thrash loops, interruptions,
    /// corrections, tokens and cost (the `sessions` step's analysis, from the transcripts under
    /// `$CLAUDE_CONFIG_DIR/projects`)
    Sessions(SessionsArgs),
    /// Group log lines into templates: one `{"cluster", "template"}` JSON object per input line
    #[command(long_about = MINE_ABOUT, after_help = MINE_EXAMPLE)]
    Mine(MineArgs),
    /// Schedule the nightly run with the system's scheduler (systemd user timer, launchd agent or crontab), or
    /// show or remove that schedule
    #[command(after_help = SCHEDULE_HELP)]
    Schedule(ScheduleArgs),
    /// Write configuration for running daydream elsewhere
    #[command(subcommand)]
    Init(InitCommand),
    /// Print a shell completion script: `daydream completions bash > ~/.local/share/bash-completion/completions/daydream`
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout: `daydream man | man -l -`
    Man,
    /// Internal: confine this process with Landlock, then run COMMAND (how tests of model-edited code run)
    #[command(name = "__confine", hide = true)]
    Confine(ConfineArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ConfineArgs {
    /// A directory the command may write to (repeatable); everything else is read-only
    #[arg(long = "write", value_name = "DIR")]
    pub(crate) write: Vec<PathBuf>,
    /// Allow TCP (otherwise no TCP connection or listening socket)
    #[arg(long)]
    pub(crate) network: bool,
    /// The program and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub(crate) command: Vec<std::ffi::OsString>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum InitCommand {
    /// Write `.github/workflows/daydream.yml`: the projects as a GitHub Actions matrix, one job per project
    #[command(long_about = GITHUB_ACTIONS_ABOUT)]
    GithubActions(GithubActionsArgs),
}

const GITHUB_ACTIONS_ABOUT: &str = "Write `.github/workflows/daydream.yml` under the root: the projects of \
    `config/projects.json` as a GitHub Actions matrix, one job per project (`daydream run --project <slug>`), \
    nightly and by hand (workflow_dispatch).\n\n\
    Use it when one machine is no longer enough, or when no machine of yours stays on at night. Each job checks \
    out the root and the project's `github` repository (linked to where `working_directory` says), restores the \
    project's state and `data/` from the Actions cache (keyed by project and date), runs daydream with \
    `DAYDREAM_MACHINE=github-actions` and saves them again, even after a failed run; the report is kept as an \
    artifact. What needs local files stays on your machines: a job sees no local logs or Claude Code sessions. \
    Secrets come from the repository secrets ANTHROPIC_API_KEY, GH_TOKEN, SENTRY_AUTH_TOKEN and \
    TELEGRAM_BOT_TOKEN. Projects without `github`, or whose `machines` leave out `github-actions`, are left out.";

#[derive(Args, Debug)]
pub(crate) struct GithubActionsArgs {
    /// The time of the nightly run, in UTC (GitHub's schedules run in UTC)
    #[arg(long, value_name = "HH:MM", value_parser = parse_time, default_value = "06:00")]
    pub(crate) at: chrono::NaiveTime,
    /// Jobs at once
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) max_parallel: u16,
    /// What all the jobs may spend on models in a day, in US dollars; each job gets an equal share as its
    /// `DAYDREAM_BUDGET_USD` and `DAYDREAM_DAILY_BUDGET_USD` (the jobs keep separate ledgers)
    #[arg(long, value_name = "USD", default_value_t = 5.0)]
    pub(crate) budget_usd: f64,
    /// The git URL to `cargo install` daydream from [default: the root itself, when it is a clone of daydream]
    #[arg(long, value_name = "GIT_URL")]
    pub(crate) install_from: Option<String>,
    /// Print the workflow; write nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Replace an existing workflow that differs
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) config: ConfigArg,
}

#[derive(Subcommand, Debug)]
pub(crate) enum IgnoreCommand {
    /// Leave the bugs matching PATTERN alone: a fingerprint from the report's Auto-fix section (or its branch
    /// `daydream/fix-<fingerprint>`), or words that the bug's pattern contains (any case)
    Add {
        /// A fingerprint (`3f2a9c1e0b7d`), its branch (`daydream/fix-3f2a9c1e0b7d`), or words of the bug's pattern
        pattern: String,
        /// For this many days, today included
        #[arg(long, default_value_t = crate::ignore::DEFAULT_DAYS)]
        days: u32,
        /// Why, for whoever reads the list later
        #[arg(long)]
        reason: Option<String>,
    },
    /// Show the entries, with their expiry
    List,
    /// Remove an entry (the PATTERN exactly as added)
    Remove { pattern: String },
}

const FIX_ABOUT: &str = "Fix failing tests on a local branch, verified.\n\n\
    For each project (or each --project): a git worktree of the default branch (as this clone last fetched it) \
    on a new local branch `daydream/autofix-<date>` (`-2`, `-3` when taken), the project's `test_command` run \
    there in the sandbox, every failing test rerun alone (`\"tests\": {\"flaky_reruns\": 2}`: one that passes \
    is flaky and never sent to the model), the failures grouped by the innermost frame of the project's code \
    they share, and each root cause given to Claude (file tools only, confined to the worktree) in up to \
    --max-attempts attempts. An attempt is kept only when its tests pass alone, the whole suite gains no failure \
    and the project's checks gain no problem; otherwise it is reverted and the next attempt is told why. Each \
    kept fix is its own commit.\n\n\
    Your checkout, its branch and its files are never touched, and nothing is pushed: push the branch yourself \
    when you approve it. Every attempt is recorded in `data/fix_attempts.jsonl` (see `daydream metrics`).";

const FIX_EXIT: &str = "\
Exit codes:
  0    nothing but flaky tests is left failing
  1    a failure is left unfixed (the summary says why), or a project could not be looked at
  2    a usage or configuration error
  3    another daydream `run`, `fix` or `watch` holds the lock of this root";

#[derive(Args, Debug)]
pub(crate) struct FixArgs {
    /// Only this project (repeatable); by default every project with a `test_command`
    #[arg(long = "project", value_name = "SLUG")]
    pub(crate) projects: Vec<String>,
    /// Only the root causes of this failing test (repeatable): its id (`tests/test_cart.py::test_total`) or
    /// its name (`test_total`)
    #[arg(long = "test", value_name = "NAME")]
    pub(crate) tests: Vec<String>,
    /// Attempts per root cause
    #[arg(long, default_value_t = crate::fix::engine::DEFAULT_MAX_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub(crate) max_attempts: u32,
    /// Minutes the whole loop may take; work under way when it ends finishes its verification
    #[arg(long, default_value_t = crate::fix::engine::DEFAULT_MAX_MINUTES, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_minutes: u64,
    /// Show the failures and the plan: runs the tests, calls no model, keeps no branch
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) config: ConfigArg,
}

const BUILD_ABOUT: &str = "Build a feature from a spec in parallel streams, verified, as one commit.\n\n\
    A coordinator call (Claude, answering with `--json-schema`) splits SPEC into streams: each has a task, the \
    files it alone may change (`owns`, globs relative to the repository) and the streams it comes `after` \
    (contracts and types first, implementation side by side, tests last). The manifest is checked: unique ids, \
    `after` naming streams of the manifest, no cycle, every stream owning something and no file owned twice.\n\n\
    Each stream is one Claude call (file tools only, confined to its worktree) in a git worktree of the default \
    branch (as this clone last fetched it) with the commits of the streams it comes after merged in, started as \
    soon as those are done, up to --streams at once. Its diff is refused when it changes a file outside its \
    `owns`, a protected path or adds a credential; a stream that owns test files (`test_*.py`, `*_test.go`, \
    `*.test.ts`, ...) has them run. A stream's diff has the fix engine's caps (20 files, 500 changed lines): split \
    larger work into more streams. The first failing stream stops new ones.\n\n\
    Integration merges the streams' commits in dependency order into a fresh worktree (a conflict fails the build \
    and names the files), then runs the project's `test_command` and checks: the suite must pass and the checks \
    report no more problems than on the default branch. One repair call is allowed, confined to the files of the \
    streams the failures point at; then the build fails. A build that passes is squashed into one commit on the \
    local branch `daydream/build-<spec>` (`-2`, `-3` when taken); with --pr it is pushed to `origin` under that \
    name (never the default branch) and opened as a draft pull request.\n\n\
    Your checkout is never touched and every worktree is removed at the end, after a failure or Ctrl-C too. \
    Every call reserves its cap in the budget ledger first (`DAYDREAM_BUDGET_USD`, \
    `DAYDREAM_AUTO_FIX_BUDGET_USD`; `DAYDREAM_AUTO_FIX_PER_FIX_USD` caps each call, else each stream gets an \
    equal share of what is left); the model is `DAYDREAM_AUTO_FIX_MODEL`. The summary shows each stream's wall \
    time, the total against the serial estimate (the streams' times added up), the cost and the integration; \
    each build is recorded in `data/builds.jsonl` (see `daydream metrics`).";

const BUILD_EXIT: &str = "\
Exit codes:
  0    the build landed on its branch (or, with --dry-run, the manifest is valid)
  1    a stream or the integration failed, the manifest was refused, or the push failed; no branch was kept
       unless it landed
  2    a usage or configuration error (no spec, unknown project, no `test_command`, --pr without `github`)
  3    another daydream `run`, `fix`, `watch` or `build` holds the lock of this root
  130  interrupted (Ctrl-C); 143 terminated: the calls under way were ended and every worktree removed";

#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    /// The spec: a markdown file saying what to build; its name names the branch (`daydream/build-<name>`)
    #[arg(value_name = "SPEC.md")]
    pub(crate) spec: PathBuf,
    /// The project to build in (its key in `projects.json`)
    #[arg(long, value_name = "SLUG")]
    pub(crate) project: String,
    /// Streams at once
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub(crate) streams: u16,
    /// Show the manifest and the plan: makes the coordinator call only, starts no stream, keeps no branch
    #[arg(long, conflicts_with = "pr")]
    pub(crate) dry_run: bool,
    /// Push the build's branch to `origin` and open a draft pull request (needs `github` in the project)
    #[arg(long)]
    pub(crate) pr: bool,
    #[command(flatten)]
    pub(crate) config: ConfigArg,
}

const WATCH_EXIT: &str = "It holds the root's lock while it runs: a `daydream run` from cron then exits 3 \
    (use --at instead). Each poll is logged, recorded in `data/watch.json` and shown by `daydream status`. \
    SIGTERM or Ctrl-C ends the test run or the attempt under way, removes its worktree and exits 143 or 130.";

#[derive(Args, Debug)]
pub(crate) struct WatchArgs {
    /// Only this project (repeatable)
    #[arg(long = "project", value_name = "SLUG")]
    pub(crate) projects: Vec<String>,
    /// Seconds between polls
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) poll_interval: u64,
    /// Also run the nightly run at this local time each day
    #[arg(long, value_name = "HH:MM", value_parser = parse_time)]
    pub(crate) at: Option<chrono::NaiveTime>,
    /// Attempts per root cause
    #[arg(long, default_value_t = crate::fix::engine::DEFAULT_MAX_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub(crate) max_attempts: u32,
    /// Minutes one poll's loop may take per project
    #[arg(long, default_value_t = crate::fix::engine::DEFAULT_MAX_MINUTES, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_minutes: u64,
    /// Stop after this many polls (for trying it out)
    #[arg(long, hide = true)]
    pub(crate) polls: Option<u64>,
    #[command(flatten)]
    pub(crate) config: ConfigArg,
}

fn parse_time(text: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| format!("`{text}` is not a time of day as HH:MM (e.g. 06:30)"))
}

const SCHEDULE_HELP: &str = "The default system is launchd on macOS, systemd when a user manager answers \
    (`systemctl --user`), else cron. systemd: `~/.config/systemd/user/daydream.{service,timer}` with \
    `Persistent=true`, so a night missed while the machine slept runs at the next boot; enabled with `systemctl \
    --user enable --now daydream.timer`, or the commands are printed when no user manager answers. launchd: \
    `~/Library/LaunchAgents/dev.daydream.run.plist`, logs under `logs/daydream/`. cron: one line in your crontab, \
    marked with the root; installing again replaces it and `remove` deletes only it. The job runs this binary \
    (its absolute path) on this root, with the PATH you have now (for git, gh and claude).";

#[derive(Args, Debug)]
pub(crate) struct ScheduleArgs {
    /// install, show or remove
    #[arg(value_enum)]
    pub(crate) action: crate::schedule::Action,
    /// The scheduler (default: launchd on macOS, systemd when a user manager answers, else cron)
    #[arg(long, value_enum)]
    pub(crate) system: Option<crate::schedule::System>,
    /// The local time of the nightly run
    #[arg(long, value_name = "HH:MM", value_parser = parse_time, default_value = "06:00")]
    pub(crate) at: chrono::NaiveTime,
    /// Print the files or the crontab line; change nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Args, Debug)]
pub(crate) struct SessionsArgs {
    /// Only this project
    #[arg(long, value_name = "SLUG")]
    pub(crate) project: Option<String>,
    /// The run date D (sessions of D-1 00:00 to D 00:00 local time) [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) date: Option<NaiveDate>,
    /// Print JSON: an array with one object per project
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) config: ConfigArg,
}

#[derive(Args, Debug)]
pub(crate) struct MetricsArgs {
    /// Print JSON
    #[arg(long)]
    pub(crate) json: bool,
    /// The window, in days up to now
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub(crate) days: u32,
    /// Only this project
    #[arg(long, value_name = "SLUG")]
    pub(crate) project: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// Preview every decision: nothing outside the root changes, and the state goes to `state.dry-run.json`
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Only this project (repeatable); the slug is its key in `projects.json`
    #[arg(long = "project", value_name = "SLUG")]
    pub(crate) projects: Vec<String>,
    /// Only this step (repeatable): cleanup, logs, sessions, sentry, tasks, docs, tests, reflect, autofix, report
    #[arg(long = "step", value_name = "NAME")]
    pub(crate) steps: Vec<String>,
    /// Make no model call at all: reflection says what it would have spent at most
    #[arg(long)]
    pub(crate) no_spend: bool,
    /// Projects worked on at once: the units of a step for different projects run side by side [default:
    /// `"jobs"` in the config's `defaults`, else the number of cores, at most 8]
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) jobs: Option<u16>,
    /// The run date D (logs reviewed: D-1 00:00 to D 00:00 local time) [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) date: Option<NaiveDate>,
    #[command(flatten)]
    pub(crate) config: ConfigArg,
}

#[derive(Args, Debug)]
pub(crate) struct StatusArgs {
    /// Print the state as JSON (`date`, `steps[].name`, `steps[].status`, `steps[].units[]`, ...)
    #[arg(long)]
    pub(crate) json: bool,
    /// Show this date's run instead of today's
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(crate) date: Option<NaiveDate>,
    /// Show the dry-run state
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) config: ConfigArg,
}

#[derive(Args, Debug)]
pub(crate) struct LessonsArgs {
    /// Print them as JSON lines
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Where to write the demo root (created; must be empty or a previous demo)
    #[arg(default_value = "daydream-demo")]
    pub(crate) dir: PathBuf,
    /// Only write the demo root, do not run
    #[arg(long)]
    pub(crate) no_run: bool,
    /// Preview instead of a real run
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// Mine log templates: one JSON object per input line, `{"cluster": <id>, "template": "<text>"}`
#[derive(Args, Debug)]
pub(crate) struct MineArgs {
    /// Whole log lines: find and drop each line's header (timestamp, level, pid, component) first
    #[arg(long)]
    pub(crate) raw: bool,
    /// Files to read, one stream in order [default: stdin; `-` is stdin]
    #[arg(value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
}

const MINE_ABOUT: &str = "Mine log templates: group log messages that differ only in their variable parts.\n\n\
    Reads messages, one a line, and writes one JSON object per input line, in order: \
    {\"cluster\": <id>, \"template\": \"<text>\"}. Lines of one cluster share an id and a template, \
    whose variable parts read `<*>`: numbers, ids, addresses, paths, and words once more than three \
    different ones are seen in the same place (up to three, such as states or verbs, name different events). The templates are \
    the final ones, written once all input is read. Empty lines get an object too; invalid UTF-8 is replaced; \
    lines are cut at 64 KiB. Memory stays bounded: at 50,000 clusters the rarest are dropped, and their lines \
    get an empty template.";

const MINE_EXAMPLE: &str = "Example:\n  \
    $ printf 'Invalid user bob from 10.0.0.1\\n\\nInvalid user bob from 10.0.0.2\\n' | daydream mine\n  \
    {\"cluster\":0,\"template\":\"Invalid user bob from <*>\"}\n  \
    {\"cluster\":1,\"template\":\"\"}\n  \
    {\"cluster\":0,\"template\":\"Invalid user bob from <*>\"}\n  \
    $ daydream mine --raw /var/log/auth.log | jq -r .template | sort | uniq -c | sort -rn | head";

/// The command line as users see it: without hidden subcommands (which completions would otherwise offer).
pub(crate) fn public_command() -> clap::Command {
    let full = <Cli as clap::CommandFactory>::command();
    let visible: Vec<clap::Command> = full
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let mut command = clap::Command::default()
        .name("daydream")
        .version(env!("CARGO_PKG_VERSION"))
        .about(full.get_about().cloned().unwrap_or_default())
        .args(full.get_arguments().cloned())
        .subcommands(visible);
    if let Some(long) = full.get_long_about() {
        command = command.long_about(long.clone());
    }
    command
}
