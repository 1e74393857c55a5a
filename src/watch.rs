//! `daydream watch`: the fix loop as a daemon. Every poll it looks at each project's default branch; when the
//! branch moved (or nothing is on record), it runs the suite and, where the project sets `safe_paths`, the loop
//! on the failures that are new since the last poll, committing to a local branch as `daydream fix` does. With
//! `--at HH:MM` it also runs the nightly run at that time each day. It holds the root's run lock while it lives;
//! `data/watch.json` records each poll, so `status` can show it and a restart carries on.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::budget::{Budget, Caps};
use crate::cancel::Cancel;
use crate::config::Project;
use crate::exit_codes;
use crate::fix::engine::Limits;
use crate::fixer::{Loop, Pick, ProjectFix, fix_project};
use crate::setup::Setup;
use crate::state::Holder;

const FORMAT_VERSION: u32 = 1;
/// How often the sleep between polls looks for a signal.
const TICK: Duration = Duration::from_millis(200);

/// What `daydream watch` was asked to do.
#[derive(Debug)]
pub(crate) struct WatchOptions {
    pub(crate) projects: Vec<String>,
    pub(crate) poll_interval: Duration,
    pub(crate) at: Option<NaiveTime>,
    pub(crate) max_attempts: u32,
    pub(crate) max_minutes: u64,
    pub(crate) verbose: u8,
    /// Stop after this many polls (tests).
    pub(crate) polls: Option<u64>,
}

/// `data/watch.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct WatchState {
    #[serde(default)]
    pub(crate) format_version: u32,
    pub(crate) pid: u32,
    pub(crate) started_at: Option<DateTime<FixedOffset>>,
    pub(crate) last_poll: Option<DateTime<FixedOffset>>,
    /// Set when the daemon stopped on a signal or an error; `None` while it runs (or after a kill).
    pub(crate) stopped: Option<String>,
    /// The day of the last nightly run it started (`--at`).
    pub(crate) last_nightly: Option<NaiveDate>,
    pub(crate) projects: BTreeMap<String, Polled>,
}

/// What the last poll of a project found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Polled {
    /// The commit of the default branch the suite last ran on.
    pub(crate) head: String,
    pub(crate) at: Option<DateTime<FixedOffset>>,
    /// One line: what happened.
    pub(crate) result: String,
    pub(crate) failing: Vec<String>,
    /// The local branch holding fixes, when the poll made any.
    pub(crate) branch: Option<String>,
}

pub(crate) fn path(root: &Path) -> PathBuf {
    root.join("data").join("watch.json")
}

pub(crate) fn load(root: &Path) -> Option<WatchState> {
    let bytes = std::fs::read(path(root)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn save(root: &Path, state: &WatchState) -> Result<()> {
    crate::fsutil::write_atomic(&path(root), &serde_json::to_vec_pretty(state)?)
}

/// Runs the daemon until a signal (exit 130/143) or, with `polls`, that many polls (exit 0).
pub(crate) fn run(setup: &Setup, opts: &WatchOptions, out: &mut dyn Write) -> Result<u8> {
    let config = setup.load_config()?;
    let selected = crate::runner::select_projects(&config, &opts.projects)?;
    let me = Holder {
        pid: std::process::id(),
        started_at: setup.clock.now(),
        dry_run: false,
    };
    let Some(lock) = crate::runner::take_lock(&setup.paths, &me)? else {
        return Ok(exit_codes::LOCKED);
    };
    crate::logging::to_file(&setup.paths.log(), opts.verbose);
    let cancel = Cancel::default();
    cancel
        .install()
        .context("failed to install signal handlers")?;
    let root = &setup.paths.root;
    let mut state = load(root)
        .filter(|s| s.format_version == FORMAT_VERSION)
        .unwrap_or_default();
    state.format_version = FORMAT_VERSION;
    state.pid = me.pid;
    state.started_at = Some(me.started_at);
    state.stopped = None;
    save(root, &state)?;
    say(
        out,
        &format!(
            "daydream watch: {} project(s), polling every {} s{}; stop with Ctrl-C or SIGTERM",
            selected.len(),
            opts.poll_interval.as_secs(),
            opts.at.map_or(String::new(), |t| format!(
                ", nightly run at {}",
                t.format("%H:%M")
            ))
        ),
    );
    let mut polls = 0;
    let outcome = loop {
        if let Err(err) = poll(
            setup,
            &config.projects,
            &selected,
            opts,
            &cancel,
            &mut state,
            out,
        ) {
            if cancel.signal().is_some() {
                break Ok(());
            }
            break Err(err);
        }
        polls += 1;
        if let Some(at) = opts.at {
            let now = setup.clock.now();
            if now.time() >= at && state.last_nightly != Some(now.date_naive()) {
                say(out, "starting the nightly run");
                // The run resumes where an earlier one of the day stopped, so it is recorded once it ended.
                let code = crate::runner::run(&crate::runner::RunOptions {
                    root: Some(root.clone()),
                    config: Some(setup.config_path.clone()),
                    verbose: opts.verbose,
                    lock_held: true,
                    ..crate::runner::RunOptions::default()
                });
                match code {
                    Ok(code) => {
                        say(out, &format!("the nightly run ended with exit code {code}"));
                        state.last_nightly = Some(now.date_naive());
                        if let Err(err) = save(root, &state) {
                            break Err(err);
                        }
                    }
                    Err(err) => break Err(err),
                }
            }
        }
        if opts.polls.is_some_and(|n| polls >= n) {
            break Ok(());
        }
        if sleep(opts.poll_interval, &cancel) {
            break Ok(());
        }
    };
    let signal = cancel.signal();
    state.stopped = Some(match (&outcome, signal) {
        (Err(err), _) => format!("error: {err:#}"),
        (Ok(()), Some(signal)) => format!("stopped by signal {signal}"),
        (Ok(()), None) => format!("stopped after {polls} poll(s)"),
    });
    save(root, &state)?;
    drop(lock);
    outcome?;
    say(out, state.stopped.as_deref().unwrap_or_default());
    Ok(match signal {
        Some(2) => exit_codes::SIGINT,
        Some(_) => exit_codes::SIGTERM,
        None => exit_codes::OK,
    })
}

/// Sleeps `interval`; true when a signal came first.
fn sleep(interval: Duration, cancel: &Cancel) -> bool {
    let mut left = interval;
    while !left.is_zero() {
        if cancel.signal().is_some() {
            return true;
        }
        let step = left.min(TICK);
        std::thread::sleep(step);
        left -= step;
    }
    cancel.signal().is_some()
}

/// One poll over the projects: the suite and the loop where the default branch moved.
fn poll(
    setup: &Setup,
    projects: &[Project],
    selected: &[String],
    opts: &WatchOptions,
    cancel: &Cancel,
    state: &mut WatchState,
    out: &mut dyn Write,
) -> Result<()> {
    let root = &setup.paths.root;
    let now = setup.clock.now();
    let run_id = format!(
        "watch-{}-{}",
        now.format("%Y%m%dT%H%M%S"),
        std::process::id()
    );
    let budget = Budget::open(
        root,
        Caps::from_env(&setup.env)?,
        &run_id,
        setup.clock.clone(),
    );
    let cx = Loop {
        setup,
        cancel,
        budget: &budget,
        run_id: &run_id,
        date: setup.clock.today(),
    };
    for project in projects.iter().filter(|p| selected.contains(&p.slug)) {
        cancel.check()?;
        if project.test_command.is_none() || project.unavailable.is_some() {
            continue;
        }
        let Ok((base, start)) = crate::fix::worktree::default_base(&project.dir, cancel) else {
            continue;
        };
        if crate::fix::origin(&project.dir, cancel).is_some()
            && let Err(err) = crate::fix::worktree::fetch(&project.dir, &base, cancel)
        {
            tracing::warn!("{}: {err:#}", project.slug);
        }
        let head = crate::fix::worktree::git_out(&project.dir, cancel, &["rev-parse", &start])?
            .trim()
            .to_owned();
        let before = state
            .projects
            .get(&project.slug)
            .cloned()
            .unwrap_or_default();
        if before.head == head {
            tracing::info!("watch {}: `{base}` still at {}", project.slug, short(&head));
            continue;
        }
        say(
            out,
            &format!(
                "{}: `{base}` is at {}; running the tests",
                project.slug,
                short(&head)
            ),
        );
        let fixing = !project.autofix.safe_paths.is_empty();
        let limits = Limits::from_env(
            &setup.env,
            opts.max_attempts,
            opts.max_minutes,
            project.tests.timeout,
        )?;
        let known: BTreeSet<String> = before.failing.iter().cloned().collect();
        let slug = project.slug.clone();
        let mut progress = |line: &str| {
            tracing::info!("watch {slug}: {line}");
        };
        // Without `safe_paths` the loop only looks: the suite runs, nothing is sent to a model.
        let result = fix_project(
            &cx,
            project,
            Pick::NewSince(&known),
            !fixing,
            limits,
            &mut progress,
        );
        let polled = polled(&result, fixing, head, setup.clock.now());
        say(out, &format!("{}: {}", project.slug, polled.result));
        state.projects.insert(project.slug.clone(), polled);
        state.last_poll = Some(setup.clock.now());
        save(root, state)?;
    }
    state.last_poll = Some(setup.clock.now());
    save(root, state)
}

fn polled(result: &ProjectFix, fixing: bool, head: String, at: DateTime<FixedOffset>) -> Polled {
    let fixed = result.fixed.iter().filter(|f| f.result.is_ok()).count();
    let line = if let Some(why) = &result.skipped {
        format!("not looked at: {why}")
    } else if result.failing.is_empty() {
        format!("all tests pass{}", flaky(result))
    } else if !fixing {
        format!(
            "{} failing{}; no `safe_paths`, so nothing is fixed here",
            result.failing.len(),
            flaky(result)
        )
    } else {
        format!(
            "{} failing, {} new root cause(s) tried, {fixed} fixed{}{}",
            result.failing.len(),
            result.fixed.len(),
            result
                .branch
                .as_ref()
                .map_or(String::new(), |b| format!(" on `{b}`")),
            flaky(result)
        )
    };
    // A project that could not be looked at is tried again at the next poll.
    let head = if result.skipped.is_some() {
        String::new()
    } else {
        head
    };
    Polled {
        head,
        at: Some(at),
        result: line,
        failing: result.failing.clone(),
        branch: result.branch.clone(),
    }
}

fn flaky(result: &ProjectFix) -> String {
    if result.flaky.is_empty() {
        String::new()
    } else {
        format!(", {} flaky", result.flaky.len())
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

fn say(out: &mut dyn Write, line: &str) {
    tracing::info!("{line}");
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The lines `daydream status` shows of the daemon, when it has run on this root.
pub(crate) fn status_lines(root: &Path) -> Vec<String> {
    let Some(state) = load(root) else {
        return Vec::new();
    };
    let when = |t: Option<DateTime<FixedOffset>>| {
        t.map_or("never".to_owned(), |t| {
            t.format("%Y-%m-%d %H:%M:%S %:z").to_string()
        })
    };
    let mut lines = vec![format!(
        "watch: pid {}, started {}, last poll {}{}",
        state.pid,
        when(state.started_at),
        when(state.last_poll),
        state
            .stopped
            .as_ref()
            .map_or(String::new(), |s| format!(" ({s})"))
    )];
    for (slug, p) in &state.projects {
        lines.push(format!("  {slug}: {} ({})", p.result, when(p.at)));
    }
    lines
}
