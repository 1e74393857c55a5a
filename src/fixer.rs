//! `daydream fix`: the fix loop on demand. For each project, a worktree of its default branch on a new local
//! branch `daydream/autofix-<date>`, the loop of [`crate::fix::engine`], and a summary. It never pushes, never
//! switches or touches the user's checkout, and keeps the branch only when it holds a verified fix.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Instant;

use anyhow::{Context as _, Result};
use chrono::NaiveDate;

use crate::budget::{Budget, Caps};
use crate::cancel::Cancel;
use crate::config::Project;
use crate::exit_codes;
use crate::fix::engine::{Engine, Fixed, Limits, RootCause, Triage};
use crate::fix::failures::Failure;
use crate::fix::metrics::Source;
use crate::fix::suite::{Status, Suite};
use crate::fix::{PathRules, Worktree};
use crate::sandbox::Jail;
use crate::setup::Setup;
use crate::state::Holder;

/// What `daydream fix` was asked to do.
#[derive(Debug)]
pub(crate) struct FixOptions {
    pub(crate) projects: Vec<String>,
    pub(crate) tests: Vec<String>,
    pub(crate) max_attempts: u32,
    pub(crate) max_minutes: u64,
    pub(crate) dry_run: bool,
}

/// One project's loop, for the summary.
#[derive(Debug, Default)]
pub(crate) struct ProjectFix {
    pub(crate) slug: String,
    /// Why the project was not looked at, when it was not.
    pub(crate) skipped: Option<String>,
    pub(crate) flaky: Vec<Failure>,
    pub(crate) fixed: Vec<Fixed>,
    /// Root causes not selected by `--test`, or planned in a dry run.
    pub(crate) left: Vec<String>,
    /// The branch holding the verified fixes, when there are any.
    pub(crate) branch: Option<String>,
    pub(crate) base: String,
    pub(crate) warnings: Vec<String>,
    pub(crate) planned: Vec<String>,
    /// The commit of the default branch the tests ran on.
    pub(crate) head: String,
    /// The tests failing there (flaky ones aside).
    pub(crate) failing: Vec<String>,
}

/// Which root causes a loop works on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Pick<'a> {
    /// Those holding one of these tests (all when empty): `daydream fix --test`.
    Named(&'a [String]),
    /// Those holding a test not in this set: `watch` fixes what is new since its last poll.
    NewSince(&'a std::collections::BTreeSet<String>),
}

impl ProjectFix {
    fn unfixed_tests(&self) -> usize {
        self.fixed
            .iter()
            .filter(|f| f.result.is_err())
            .map(|f| f.root.failures.len())
            .sum::<usize>()
            + self.left.len()
    }
}

/// Runs `daydream fix`; returns the exit code: 0 when nothing but flaky tests is left failing, 1 otherwise.
pub(crate) fn run(setup: &Setup, opts: &FixOptions, out: &mut dyn Write) -> Result<u8> {
    let config = setup.load_config()?;
    let selected = crate::runner::select_projects(&config, &opts.projects)?;
    let Some(session) = Session::start(setup, "fix", opts.dry_run)? else {
        return Ok(exit_codes::LOCKED);
    };
    let (cancel, budget, run_id) = (&session.cancel, &session.budget, &session.run_id);
    let date = setup.clock.today();
    let started = Instant::now();
    let mut results = Vec::new();
    let cx = Loop {
        setup,
        cancel,
        budget,
        run_id,
        date,
    };
    for project in config
        .projects
        .iter()
        .filter(|p| selected.contains(&p.slug))
    {
        let remaining = opts
            .max_minutes
            .saturating_sub(started.elapsed().as_secs() / 60);
        let limits = Limits::from_env(
            &setup.env,
            opts.max_attempts,
            remaining,
            project.tests.timeout,
        )?;
        let mut progress = |line: &str| {
            let _ = writeln!(std::io::stderr(), "{}: {line}", project.slug);
        };
        let pick = Pick::Named(&opts.tests);
        results.push(fix_project(
            &cx,
            project,
            pick,
            opts.dry_run,
            limits,
            &mut progress,
        ));
        if cancel.signal().is_some() {
            break;
        }
    }
    out.write_all(summary(&results, opts.dry_run).as_bytes())?;
    if let Some(signal) = cancel.signal() {
        writeln!(out, "\nstopped by signal {signal}")?;
        return Ok(if signal == 2 {
            exit_codes::SIGINT
        } else {
            exit_codes::SIGTERM
        });
    }
    let left: usize = results.iter().map(ProjectFix::unfixed_tests).sum();
    let broken = results
        .iter()
        .any(|r| r.skipped.is_some() && !r.skipped.as_deref().is_some_and(is_benign));
    Ok(if left == 0 && !broken {
        exit_codes::OK
    } else {
        exit_codes::UNITS_FAILED
    })
}

/// What a command that edits code on demand (`fix`, `build`) holds while it runs.
pub(crate) struct Session {
    _lock: crate::state::RunLock,
    pub(crate) cancel: Cancel,
    /// `<kind>-<time>-<pid>`: names the run in the ledger.
    pub(crate) run_id: String,
    pub(crate) budget: Budget,
}

impl Session {
    /// Takes the root's lock (`None`: another run holds it), routes SIGINT and SIGTERM into the cancel flag and
    /// opens the ledger for this run.
    pub(crate) fn start(setup: &Setup, kind: &str, dry_run: bool) -> Result<Option<Session>> {
        let me = Holder {
            pid: std::process::id(),
            started_at: setup.clock.now(),
            dry_run,
        };
        let Some(lock) = crate::runner::take_lock(&setup.paths, &me)? else {
            return Ok(None);
        };
        let cancel = Cancel::default();
        cancel
            .install()
            .context("failed to install signal handlers")?;
        let run_id = format!(
            "{kind}-{}-{}",
            setup.clock.now().format("%Y%m%dT%H%M%S"),
            me.pid
        );
        let budget = Budget::open(
            &setup.paths.root,
            Caps::from_env(&setup.env)?,
            &run_id,
            setup.clock.clone(),
        );
        Ok(Some(Session {
            _lock: lock,
            cancel,
            run_id,
            budget,
        }))
    }
}

/// A project skipped for a reason that is not a failure of its tests (nothing to run).
fn is_benign(why: &str) -> bool {
    why.starts_with("no `test_command`")
}

/// What every project's loop of one invocation shares.
pub(crate) struct Loop<'a> {
    pub(crate) setup: &'a Setup,
    pub(crate) cancel: &'a Cancel,
    pub(crate) budget: &'a Budget,
    pub(crate) run_id: &'a str,
    pub(crate) date: NaiveDate,
}

/// The loop on one project. A failure to look at it, or an interruption, is the result's `skipped`.
pub(crate) fn fix_project(
    cx: &Loop<'_>,
    project: &Project,
    pick: Pick<'_>,
    dry_run: bool,
    limits: Limits,
    progress: &mut dyn FnMut(&str),
) -> ProjectFix {
    let mut result = ProjectFix {
        slug: project.slug.clone(),
        ..ProjectFix::default()
    };
    match try_project(cx, project, pick, dry_run, limits, &mut result, progress) {
        Ok(()) => result,
        Err(_) if cx.cancel.signal().is_some() => {
            result.skipped = Some(
                "interrupted: the attempt under way was abandoned and its worktree removed"
                    .to_owned(),
            );
            result
        }
        Err(err) => {
            result.skipped = Some(format!("{err:#}"));
            result
        }
    }
}

fn try_project(
    cx: &Loop<'_>,
    project: &Project,
    pick: Pick<'_>,
    dry_run: bool,
    limits: Limits,
    result: &mut ProjectFix,
    progress: &mut dyn FnMut(&str),
) -> Result<()> {
    let Some(command) = project.test_command.as_deref() else {
        result.skipped = Some("no `test_command` in `projects.json`: nothing to run".to_owned());
        return Ok(());
    };
    if let Some(why) = &project.unavailable {
        result.skipped = Some(why.clone());
        return Ok(());
    }
    let (base, start) = crate::fix::worktree::default_base(&project.dir, cx.cancel)?;
    result.base.clone_from(&base);
    let branch = crate::fix::worktree::free_branch(
        &project.dir,
        cx.cancel,
        &format!("daydream/autofix-{}", cx.date),
    );
    let jail = Jail::new(
        project.sandbox,
        project.sandbox_network,
        &cx.setup.env,
        &cx.setup.paths.root,
    )
    .map_err(anyhow::Error::msg)?;
    if jail.kind().is_none() {
        result.warnings.push(
            "no sandbox on this machine: the tests ran unconfined (`\"sandbox\": \"required\"` refuses that)"
                .to_owned(),
        );
    }
    let mut worktree = Worktree::add(&project.dir, &start, &branch, cx.cancel)?;
    result.head = worktree.head()?;
    let suite = Suite::in_worktree(&jail, &worktree, command, &project.tests, cx.cancel)?;
    let rules = PathRules::new(
        &project.autofix.safe_paths,
        &project.autofix.protected_paths,
    )?;
    let mut engine = Engine {
        project,
        root: &cx.setup.paths.root,
        env: &cx.setup.env,
        clock: &cx.setup.clock,
        cancel: cx.cancel,
        worktree: &worktree,
        suite,
        rules,
        budget: cx.budget,
        limits,
        run_id: cx.run_id.to_owned(),
        source: Source::Tests,
        progress,
        spent_usd: 0.0,
        committed: 0,
        trailer: String::new(),
    };
    let mut triage = engine.triage()?;
    result
        .warnings
        .extend(triage.baseline.warnings.iter().cloned());
    // A suite that timed out or could not run is the project's failure, not a test's.
    if !matches!(triage.baseline.status, Status::Passed | Status::Failed) {
        result.skipped = triage.baseline.failures.first().map(|f| f.message.clone());
        return Ok(());
    }
    result.flaky = std::mem::take(&mut triage.flaky);
    result.failing = triage.roots.iter().flat_map(RootCause::tests).collect();
    select(&mut triage, pick, &mut result.left);
    if dry_run {
        result.planned = triage
            .roots
            .iter()
            .map(|r| {
                let first = &r.failures[0];
                format!(
                    "{} ({}): {}",
                    r.key,
                    r.tests().join(", "),
                    crate::text::squeeze(&format!("{}: {}", first.error_type, first.message), 120)
                )
            })
            .collect();
        result
            .left
            .extend(triage.roots.iter().flat_map(RootCause::tests));
        return Ok(());
    }
    let fixed = engine.fix_all(&triage);
    let committed = engine.committed;
    drop(engine);
    if fixed.is_err() && committed > 0 {
        // Interrupted after verified fixes: they stay on the branch.
        worktree.keep_branch();
        result.branch = Some(worktree.branch().to_owned());
    }
    result.fixed = fixed?;
    if result.fixed.iter().any(|f| f.result.is_ok()) {
        worktree.keep_branch();
        result.branch = Some(worktree.branch().to_owned());
    }
    Ok(())
}

/// Keeps the root causes `pick` names: by `--test` (a test's id, or its end: `test_total` names
/// `tests/test_cart.py::test_total`), or those with a test not failing before; the others go to `left`.
fn select(triage: &mut Triage, pick: Pick<'_>, left: &mut Vec<String>) {
    let named = |test: &str| match pick {
        Pick::Named(names) => {
            names.is_empty()
                || names.iter().any(|n| {
                    test == n
                        || test.ends_with(&format!("::{n}"))
                        || test.ends_with(&format!(".{n}"))
                })
        }
        Pick::NewSince(before) => !before.contains(test),
    };
    let (keep, drop): (Vec<_>, Vec<_>) = std::mem::take(&mut triage.roots)
        .into_iter()
        .partition(|r| r.failures.iter().any(|f| named(&f.test)));
    triage.roots = keep;
    left.extend(drop.iter().flat_map(RootCause::tests));
}

/// The summary table and what is left, for the terminal.
pub(crate) fn summary(results: &[ProjectFix], dry_run: bool) -> String {
    let mut out = String::new();
    for r in results {
        let _ = writeln!(out, "\n## {}", r.slug);
        if let Some(why) = &r.skipped {
            let _ = writeln!(out, "skipped: {why}");
            if let Some(branch) = &r.branch {
                let _ = writeln!(
                    out,
                    "The fixes verified before that are on the local branch `{branch}`."
                );
            }
            continue;
        }
        for w in &r.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
        if dry_run {
            if r.planned.is_empty() {
                let _ = writeln!(out, "nothing to fix on `{}`", r.base);
            }
            for p in &r.planned {
                let _ = writeln!(out, "would fix: {p}");
            }
            for f in &r.flaky {
                let _ = writeln!(out, "flaky (never sent to the model): {}", f.test);
            }
            continue;
        }
        let rows: Vec<[String; 5]> = r.fixed.iter().map(row).collect();
        if !rows.is_empty() {
            out.push_str(&table(
                ["test", "root cause", "approach", "attempts", "cost"],
                &rows,
            ));
        }
        let failing: usize =
            r.fixed.iter().map(|f| f.root.failures.len()).sum::<usize>() + r.left.len();
        let fixed: usize = r
            .fixed
            .iter()
            .filter(|f| f.result.is_ok())
            .map(|f| f.root.failures.len())
            .sum();
        let _ = write!(out, "{fixed}/{failing} failing test(s) fixed");
        if !r.flaky.is_empty() {
            let _ = write!(out, "; {} flaky test(s) set aside", r.flaky.len());
        }
        out.push('\n');
        for f in r.fixed.iter().filter(|f| f.result.is_err()) {
            if let Err(why) = f.result {
                let _ = writeln!(
                    out,
                    "- not fixed: {}: {} ({})",
                    f.root.key,
                    why.describe(f.attempts),
                    crate::text::squeeze(&f.detail, 200)
                );
            }
        }
        for f in &r.flaky {
            let _ = writeln!(
                out,
                "- flaky: {} passed when run alone; not sent to the model",
                f.test
            );
        }
        for t in &r.left {
            let _ = writeln!(out, "- not selected: {t}");
        }
        match &r.branch {
            Some(branch) => {
                let _ = writeln!(
                    out,
                    "\nThe fixes are commits on the local branch `{branch}` (from `{}`); nothing was pushed.\n  review: git log -p {}..{branch}\n  push when you approve: git push origin {branch}",
                    r.base, r.base
                );
            }
            None if failing > 0 => {
                let _ = writeln!(out, "No verified fix: no branch was kept.");
            }
            None => {
                let _ = writeln!(out, "All tests pass on `{}`.", r.base);
            }
        }
    }
    out
}

/// One root cause in the summary table: test | root cause | approach | attempts | cost.
fn row(f: &Fixed) -> [String; 5] {
    let first = f
        .root
        .failures
        .first()
        .map_or(f.root.key.clone(), |t| t.test.clone());
    let more = f.root.failures.len().saturating_sub(1);
    let test = if more > 0 {
        format!("{first} (+{more})")
    } else {
        first
    };
    let approach = match &f.result {
        Ok(commit) => format!(
            "{} ({})",
            crate::text::squeeze(&f.approach, 60),
            &commit[..commit.len().min(8)]
        ),
        Err(_) => "not fixed".to_owned(),
    };
    [
        test,
        f.root.key.clone(),
        approach,
        f.attempts.to_string(),
        format!("${:.2}", f.cost_usd),
    ]
}

/// A plain aligned table.
pub(crate) fn table<const N: usize>(head: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(head.to_vec(), &mut out);
    for row in rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}
