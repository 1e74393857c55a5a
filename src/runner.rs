//! The step x project loop: select, lock, load the day's state, run what is not done, save after every unit.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::UsageError;
use crate::cancel::{Cancel, Interrupted};
use crate::clock::{Clock, Window};
use crate::config::{Config, Project};
use crate::exit_codes;
use crate::paths::Paths;
use crate::setup::Setup;
use crate::state::{
    self, ALL_PROJECTS, End, Holder, Locking, MAX_ATTEMPTS, Next, RunLock, RunRecord, State,
    Status, Store,
};
use crate::step::{AnyStep, Outcome, RunCx, Scope, UnitCx};
use crate::steps;

/// Progress on stdout. A closed stdout (`| head`, a detached cron job) must never stop a run, so errors are ignored.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Notes and warnings on stderr, with the same tolerance for a closed stream.
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// What `daydream run` was asked to do.
#[derive(Debug, Default)]
pub(crate) struct RunOptions {
    pub(crate) root: Option<PathBuf>,
    pub(crate) config: Option<PathBuf>,
    pub(crate) dry_run: bool,
    pub(crate) projects: Vec<String>,
    pub(crate) steps: Vec<String>,
    pub(crate) date: Option<NaiveDate>,
    pub(crate) no_spend: bool,
    /// Projects worked on at once (`--jobs`) [default: `"jobs"` in the config's defaults, else the cores, at
    /// most 8].
    pub(crate) jobs: Option<usize>,
    pub(crate) verbose: u8,
    /// The caller (`watch`) already holds the root's lock.
    pub(crate) lock_held: bool,
}

/// Runs the selected steps; returns the exit code.
#[expect(
    clippy::too_many_lines,
    reason = "the run from lock to report in order: setup, units, summary, exit code"
)]
pub(crate) fn run(opts: &RunOptions) -> Result<u8> {
    let setup = Setup::new(opts.root.as_deref(), opts.config.as_deref())?;
    let config = setup.load_config()?;
    for warning in &config.warnings {
        warn!("warning: {warning}");
    }
    let selected_steps = select_steps(&opts.steps)?;
    let selected_projects = select_projects(&config, &opts.projects)?;
    let date = opts.date.unwrap_or_else(|| setup.clock.today());
    let paths = setup.paths.clone();
    let started_at = setup.clock.now();

    let me = Holder {
        pid: std::process::id(),
        started_at,
        dry_run: opts.dry_run,
    };
    let _lock = if opts.lock_held {
        None
    } else {
        let Some(lock) = take_lock(&paths, &me)? else {
            return Ok(exit_codes::LOCKED);
        };
        Some(lock)
    };
    crate::logging::to_file(&paths.log(), opts.verbose);
    let cancel = Cancel::default();
    cancel
        .install()
        .context("failed to install signal handlers")?;

    let stamp = started_at.format("%Y%m%dT%H%M%S").to_string();
    let state::Loaded {
        mut state,
        path: state_path,
        notices,
    } = state::load_for(&paths, date, opts.dry_run, &stamp)?;
    for notice in &notices {
        warn!("note: {notice}");
        tracing::warn!("{notice}");
    }
    recover(&mut state, &mut std::io::stderr());
    state.runs.push(RunRecord {
        pid: me.pid,
        started_at,
        finished_at: None,
        outcome: None,
    });
    let store = Mutex::new(Store::open(state, state_path)?);
    let jobs = opts
        .jobs
        .or(config.jobs)
        .unwrap_or_else(default_jobs)
        .max(1);

    let cx = RunCx {
        root: paths.root.clone(),
        env: setup.env.clone(),
        clock: setup.clock.clone(),
        date,
        window: Window::previous_day(date),
        dry_run: opts.dry_run,
        no_spend: opts.no_spend,
        cancel: cancel.clone(),
        config,
        steps: steps::ORDER,
    };
    let mode = if opts.dry_run {
        " (dry run: nothing outside the root changes)"
    } else {
        ""
    };
    say!(
        "daydream {date}{mode}: {} project(s){}, steps {}",
        selected_projects.len(),
        if jobs > 1 && selected_projects.len() > 1 {
            format!(" ({} at once)", jobs.min(selected_projects.len()))
        } else {
            String::new()
        },
        selected_steps
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    tracing::info!(%date, dry_run = opts.dry_run, "run started");

    let clock = Instant::now();
    let progress = Progress::new();
    let mut changed = false;
    let mut interrupted = None;
    for step in &selected_steps {
        let units = units_of(*step, &cx.config, &selected_projects);
        let (run_wide, projects): (Vec<_>, Vec<_>) = units
            .into_iter()
            .partition(|(slug, _)| *slug == ALL_PROJECTS);
        let unit = Unit {
            cx: &cx,
            step: *step,
            store: &store,
            progress: &progress,
        };
        // The units of one step for different projects side by side, then the step's run-wide unit, which reads
        // theirs. The state holds the units in this order whatever order they finish in.
        let mut runs = {
            let snapshot = {
                let mut held = lock(&store);
                for (slug, _) in projects.iter().chain(&run_wide) {
                    if held.state.unit(step.name(), slug).is_none() {
                        // Saved now, so that a replay after a kill keeps this order too.
                        held.state.unit_mut(step.name(), slug);
                        held.save_unit(step.name(), slug)?;
                    }
                }
                held.state.clone()
            };
            pool(jobs, &projects, &cancel, |(slug, project)| {
                unit.run(slug, *project, &snapshot, changed)
            })?
        };
        if runs.iter().all(|r| !matches!(r, UnitRun::Interrupted(_))) && cancel.signal().is_none() {
            for (slug, project) in &run_wide {
                let snapshot = lock(&store).state.clone();
                let changed_before = changed || runs.iter().any(|r| matches!(r, UnitRun::Changed));
                runs.push(unit.run(slug, *project, &snapshot, changed_before)?);
            }
        }
        for run in runs {
            match run {
                UnitRun::Unchanged => {}
                UnitRun::Changed => changed = true,
                UnitRun::Interrupted(i) => interrupted = interrupted.or(Some(i)),
            }
        }
        if interrupted.is_none() {
            interrupted = cancel.signal().map(Interrupted);
        }
        if interrupted.is_some() {
            break;
        }
    }

    let mut store = store
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let state = &mut store.state;
    let failed = failed_units(state, &selected_steps, &selected_projects);
    let (outcome, code) = match interrupted {
        Some(i) => (
            i.to_string(),
            if i.0 == 2 {
                exit_codes::SIGINT
            } else {
                exit_codes::SIGTERM
            },
        ),
        None if failed > 0 => (
            format!("finished with {failed} failed unit(s)"),
            exit_codes::UNITS_FAILED,
        ),
        None => ("done".to_owned(), exit_codes::OK),
    };
    if let Some(run) = state.runs.last_mut() {
        run.finished_at = Some(cx.clock.now());
        run.outcome = Some(outcome.clone());
    }
    store.compact()?;
    let state = &store.state;
    tracing::info!(%outcome, "run ended");

    let counts = count(state, &selected_steps, &selected_projects);
    say!(
        "{outcome}: {counts} in {:.1}s",
        clock.elapsed().as_secs_f64()
    );
    let report = paths.report(date, opts.dry_run);
    if report.exists() {
        // A run of other steps after the day's report: the file follows the state (GitHub's copy waits for the
        // next report unit).
        let reported = selected_steps.iter().any(|s| s.name() == "report");
        if changed && !reported {
            let fixing = crate::fix::metrics::night_line(&paths.root, cx.clock.now());
            let markdown = crate::report::render(state, &cx.config, cx.steps, fixing.as_deref());
            crate::fsutil::write_atomic(&report, markdown.as_bytes())?;
            say!(
                "report: {} (updated; `daydream run --step report` updates the GitHub issue too)",
                paths.show(&report)
            );
        } else {
            say!("report: {}", paths.show(&report));
        }
    }
    if failed > 0 {
        say!(
            "`daydream status{}` shows what failed and why",
            if opts.dry_run { " --dry-run" } else { "" }
        );
    }
    Ok(code)
}

enum UnitRun {
    Unchanged,
    Changed,
    Interrupted(Interrupted),
}

/// The state, locked: a poisoned lock (a unit panicked) still holds a state worth saving.
fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The stack of a worker thread: the usual main thread's.
const WORKER_STACK: usize = 8 << 20;

/// How many projects a run works on at once when neither `--jobs` nor the config says.
fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(8)
}

/// Runs `work` on each item with up to `jobs` threads, in the items' order of start; stops starting new ones
/// once a signal came or `work` failed. The results are in the items' order, for those that ran.
fn pool<T: Sync, R: Send>(
    jobs: usize,
    items: &[T],
    cancel: &Cancel,
    work: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Vec<Mutex<Option<Result<R>>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let take = || {
        loop {
            if failed.load(Ordering::SeqCst) || cancel.signal().is_some() {
                return;
            }
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(item) = items.get(i) else { return };
            let result = work(item);
            if result.is_err() {
                failed.store(true, Ordering::SeqCst);
            }
            *results[i]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
        }
    };
    std::thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..jobs.min(items.len()) {
            // The main thread's stack, as the units had when they ran one at a time (deep markdown, long regexes).
            match std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, take)
            {
                Ok(_) => started += 1,
                Err(err) => tracing::warn!("failed to start a worker thread: {err}"),
            }
        }
        // No thread at all (the system refused every one): this thread does the work.
        if started == 0 {
            take();
        }
    });
    results
        .into_iter()
        .filter_map(|r| {
            r.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect()
}

/// What running a unit needs: the run, its step, the state's one store and the terminal's progress lines.
struct Unit<'r> {
    cx: &'r RunCx,
    step: &'r dyn AnyStep,
    store: &'r Mutex<Store>,
    progress: &'r Progress,
}

impl Unit<'_> {
    /// Changes the unit of `slug` and saves it: one line in the journal.
    fn update<R>(&self, slug: &str, change: impl FnOnce(&mut state::Unit) -> R) -> Result<R> {
        let mut store = lock(self.store);
        let result = change(store.state.unit_mut(self.step.name(), slug));
        store.save_unit(self.step.name(), slug)?;
        Ok(result)
    }

    /// Runs the unit of `slug` if it needs running, saving it before and after. `snapshot` is the state the
    /// step reads (the earlier steps' findings).
    fn run(
        &self,
        slug: &str,
        project: Option<&Project>,
        snapshot: &State,
        changed_before: bool,
    ) -> Result<UnitRun> {
        let (cx, step) = (self.cx, self.step);
        let name = step.name();
        let show = if slug == ALL_PROJECTS { "(all)" } else { slug };
        let now = cx.clock.now();

        if let Some(reason) = project.and_then(|p| p.unavailable.as_ref()) {
            if !self.update(slug, |u| u.skip_unavailable(reason, now))? {
                return Ok(UnitRun::Unchanged);
            }
            self.progress.line(name, show, "skipped", reason);
            return Ok(UnitRun::Changed);
        }
        let next = {
            let store = lock(self.store);
            let unit = store
                .state
                .unit(name, slug)
                .context("a unit of the run is missing")?;
            (
                unit.next(step.follows_state() && changed_before),
                unit.last_error.clone(),
            )
        };
        match next {
            (Next::Run, _) => {}
            (Next::Finished, _) => return Ok(UnitRun::Unchanged),
            (Next::GaveUp, error) => {
                self.progress.line(
                    name,
                    show,
                    "failed",
                    &format!(
                        "gave up after {MAX_ATTEMPTS} attempts today: {}",
                        error.unwrap_or_default()
                    ),
                );
                return Ok(UnitRun::Unchanged);
            }
        }
        let resume = self.update(slug, |u| u.start(now))?;
        tracing::info!(step = name, project = slug, "unit started");

        let started = Instant::now();
        let spinner = self.progress.spinner(name, show);
        let result = {
            let mut save = |point: serde_json::Value| -> Result<()> {
                self.update(slug, |u| u.checkpoint = Some(point))
            };
            let mut ucx = UnitCx::new(cx, project, snapshot, resume, &mut save);
            test_knobs(cx, name, slug).and_then(|()| step.run(&mut ucx))
        };
        spinner.finish_and_clear();
        let elapsed = match cx.clock {
            Clock::System => u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            Clock::Fixed(_) => 0,
        };

        let (end, interrupted) = self.conclude(slug, show, result);
        let now = cx.clock.now();
        self.update(slug, |u| u.end(end, now, elapsed))?;
        Ok(match interrupted {
            Some(i) => UnitRun::Interrupted(i),
            None => UnitRun::Changed,
        })
    }

    /// How the attempt ended, said on the console.
    fn conclude(
        &self,
        slug: &str,
        show: &str,
        result: Result<Outcome>,
    ) -> (End, Option<Interrupted>) {
        let (name, step) = (self.step.name(), self.step);
        let attempts_left = lock(self.store)
            .state
            .unit(name, slug)
            .map_or(0, state::Unit::attempts_left);
        let attempts = MAX_ATTEMPTS - attempts_left;
        let mut interrupted = None;
        let end = match result {
            Ok(Outcome::Done(output)) => {
                let mut detail = output.summary.clone();
                if !output.warnings.is_empty() {
                    // Unreadable files and the like: counted here, listed in the report under the step's section.
                    let _ = write!(
                        detail,
                        " ({} warning(s): see {} in the report)",
                        output.warnings.len(),
                        step.title()
                    );
                }
                self.progress.line(name, show, "done", &detail);
                End::Done(output)
            }
            Ok(Outcome::Skipped(reason)) => {
                self.progress.line(name, show, "skipped", &reason);
                End::Skipped(reason)
            }
            Err(err) => {
                if let Some(i) = err.chain().find_map(|e| e.downcast_ref::<Interrupted>()) {
                    interrupted = Some(*i);
                    self.progress
                        .line(name, show, "interrupted", &i.to_string());
                    End::Interrupted(i.to_string())
                } else {
                    let message = format!("{err:#}");
                    // This attempt counts: what is left after it.
                    let retry = if attempts_left > 0 {
                        format!(
                            " (attempt {attempts} of {MAX_ATTEMPTS}; a later run today retries)"
                        )
                    } else {
                        format!(" (attempt {MAX_ATTEMPTS} of {MAX_ATTEMPTS}: giving up for today)")
                    };
                    self.progress
                        .line(name, show, "failed", &format!("{message}{retry}"));
                    tracing::error!(step = name, project = slug, error = %message, "unit failed");
                    End::Failed(message)
                }
            }
        };
        (end, interrupted)
    }
}

/// Knobs for the integration tests, harmless when unset: `DAYDREAM_TEST_UNIT_DELAY_MS` holds every unit at its
/// start (so a test can signal or kill a run mid-unit) and `DAYDREAM_TEST_FAIL=step/project` fails that unit.
fn test_knobs(cx: &RunCx, step: &str, project: &str) -> Result<()> {
    if let Some(ms) = cx
        .env
        .get("DAYDREAM_TEST_UNIT_DELAY_MS")
        .and_then(|v| v.parse::<u64>().ok())
    {
        let until = Instant::now() + std::time::Duration::from_millis(ms);
        while Instant::now() < until {
            cx.cancel.check()?;
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    if cx.env.get("DAYDREAM_TEST_FAIL") == Some(&format!("{step}/{project}")) {
        anyhow::bail!("injected failure (DAYDREAM_TEST_FAIL={step}/{project})");
    }
    Ok(())
}

/// What the console shows while units run: one line per finished unit on stdout and, when stderr is a
/// terminal, one updating line per running unit (a 1 GB log, a test suite, a fix); nothing updating otherwise
/// (cron, CI, a pipe), so logs stay clean. Lines stay whole when units run side by side.
struct Progress {
    bars: Option<indicatif::MultiProgress>,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal as _;
        Progress {
            bars: std::io::stderr()
                .is_terminal()
                .then(indicatif::MultiProgress::new),
        }
    }

    fn spinner(&self, step: &str, project: &str) -> indicatif::ProgressBar {
        let Some(bars) = &self.bars else {
            return indicatif::ProgressBar::hidden();
        };
        let bar = bars.add(indicatif::ProgressBar::new_spinner());
        if let Ok(style) = indicatif::ProgressStyle::with_template("  {spinner} {msg} {elapsed}") {
            bar.set_style(style);
        }
        bar.set_message(format!("{step:<8} {project:<12} running"));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }

    fn line(&self, step: &str, project: &str, status: &str, detail: &str) {
        let print = || say!("  {step:<8} {project:<12} {status:<11} {detail}");
        match &self.bars {
            Some(bars) => bars.suspend(print),
            None => print(),
        }
    }
}

/// Units left `running` by a process that died: run again, unless that already happened too often.
fn recover(state: &mut State, out: &mut impl std::io::Write) {
    let pid = state.runs.last().map(|r| r.pid);
    if let Some(run) = state.runs.last_mut().filter(|r| r.outcome.is_none()) {
        run.outcome = Some("ended without finishing (killed or crashed)".to_owned());
    }
    for step in &mut state.steps {
        for unit in step
            .units
            .iter_mut()
            .filter(|u| u.status == Status::Running)
        {
            let who = pid.map_or_else(String::new, |p| format!(" (pid {p})"));
            if unit.attempts >= MAX_ATTEMPTS {
                unit.status = Status::Failed;
                unit.last_error = Some(format!(
                    "the run{who} died during this unit {MAX_ATTEMPTS} times; giving up for today"
                ));
            } else {
                unit.status = Status::Interrupted;
                unit.last_error = Some(format!(
                    "the run{who} ended during this unit; it runs again"
                ));
            }
            let _ = writeln!(
                out,
                "note: {} for {} was left running by a run that died; {}",
                step.name,
                unit.project,
                if unit.status == Status::Failed {
                    "giving up for today"
                } else {
                    "running it again"
                }
            );
        }
    }
}

fn select_steps(names: &[String]) -> Result<Vec<&'static dyn AnyStep>> {
    for name in names {
        if steps::find(name).is_none() {
            return Err(UsageError(format!(
                "unknown step `{name}`\n  fix: use one of {}",
                steps::names().join(", ")
            ))
            .into());
        }
    }
    Ok(steps::ORDER
        .iter()
        .copied()
        .filter(|s| names.is_empty() || names.iter().any(|n| n == s.name()))
        .collect())
}

pub(crate) fn select_projects(config: &Config, slugs: &[String]) -> Result<Vec<String>> {
    for slug in slugs {
        if !config.projects.iter().any(|p| &p.slug == slug) {
            let known: Vec<_> = config.projects.iter().map(|p| p.slug.as_str()).collect();
            return Err(UsageError(format!(
                "unknown project `{slug}` in `--project`\n  fix: use a key of `projects` in `{}`: {}",
                config.path.display(),
                known.join(", ")
            ))
            .into());
        }
    }
    Ok(config
        .projects
        .iter()
        .filter(|p| slugs.is_empty() || slugs.contains(&p.slug))
        .map(|p| p.slug.clone())
        .collect())
}

/// The root's run lock, or `None` after saying who holds it: one `run`, `fix` or `watch` per root at a time.
pub(crate) fn take_lock(paths: &Paths, me: &Holder) -> Result<Option<RunLock>> {
    match RunLock::acquire(&paths.lock(), me)? {
        Locking::Acquired(lock) => Ok(Some(lock)),
        Locking::Held(holder) => {
            let who = holder.map_or_else(
                || "a process that has not written its record yet".to_owned(),
                |h| {
                    format!(
                        "pid {}, started {}{}",
                        h.pid,
                        h.started_at.format("%Y-%m-%d %H:%M:%S %:z"),
                        if h.dry_run { ", dry run" } else { "" }
                    )
                },
            );
            warn!(
                "error: another daydream `run`, `fix` or `watch` holds the lock of `{}` ({who}); wait for it to finish",
                paths.root.display()
            );
            Ok(None)
        }
    }
}

/// The units of `step` in this run: one per selected project, or one for the whole run.
fn units_of<'c>(
    step: &dyn AnyStep,
    config: &'c Config,
    selected: &'c [String],
) -> Vec<(&'c str, Option<&'c Project>)> {
    let projects = || {
        config
            .projects
            .iter()
            .filter(|p| selected.contains(&p.slug))
            .map(|p| (p.slug.as_str(), Some(p)))
    };
    match step.scope() {
        Scope::Run => vec![(ALL_PROJECTS, None)],
        Scope::PerProject => projects().collect(),
        Scope::ProjectsThenRun => projects().chain([(ALL_PROJECTS, None)]).collect(),
    }
}

fn selected_units<'s>(
    state: &'s State,
    steps: &[&dyn AnyStep],
    projects: &[String],
) -> impl Iterator<Item = &'s state::Unit> {
    let names: Vec<&str> = steps.iter().map(|s| s.name()).collect();
    state
        .steps
        .iter()
        .filter(move |s| names.contains(&s.name.as_str()))
        .flat_map(|s| s.units.iter())
        .filter(move |u| u.project == ALL_PROJECTS || projects.contains(&u.project))
}

fn failed_units(state: &State, steps: &[&dyn AnyStep], projects: &[String]) -> usize {
    selected_units(state, steps, projects)
        .filter(|u| u.status == Status::Failed)
        .count()
}

fn count(state: &State, steps: &[&dyn AnyStep], projects: &[String]) -> String {
    let mut out = String::new();
    for status in [
        Status::Done,
        Status::Skipped,
        Status::Failed,
        Status::Interrupted,
        Status::Pending,
    ] {
        let n = selected_units(state, steps, projects)
            .filter(|u| u.status == status)
            .count();
        if n > 0 || status == Status::Done {
            if !out.is_empty() {
                out.push_str(", ");
            }
            let _ = write!(out, "{n} {}", status.as_str());
        }
    }
    format!("units {out}")
}
