//! The streams of a build and their scheduler: each stream starts, in a worktree of the base with the commits of
//! the streams it comes after merged in, as soon as those are committed, up to N at once. Its one confined model
//! call runs on a thread (the call is a blocking child process); everything that adds or removes a worktree
//! runs on the scheduler's thread, one at a time. The diff guard refuses a change outside the stream's `owns`;
//! the tests it owns run after its commit. The first failure stops new streams; those under way finish.

use std::fmt::Write as _;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Cx;
use crate::budget::{Allowance, Purpose, Ticket};
use crate::cancel::Cancel;
use crate::fix::Worktree;
use crate::fix::engine::{Caller, ask_files};
use crate::fix::failures::{Failure, Runner};
use crate::fix::suite::Suite;
use crate::fix::worktree::git_out;
use std::path::Path;

/// How a stream ended.
#[derive(Clone, Debug)]
pub(crate) enum State {
    /// Its work is this commit (on a branch removed when the build ends).
    Committed(String),
    Failed(String),
    NotStarted(String),
}

/// One stream, for the integration and the summary.
#[derive(Clone, Debug)]
pub(crate) struct StreamRun {
    pub(crate) id: String,
    pub(crate) after: Vec<String>,
    pub(crate) state: State,
    /// When it started, from the first stream's start.
    pub(crate) started: Duration,
    /// From its worktree's creation to its verdict.
    pub(crate) wall: Duration,
    pub(crate) cost_usd: f64,
    /// The files it changed and their changed lines.
    pub(crate) files: Vec<(String, u64)>,
    /// What became of the tests it owns.
    pub(crate) tests: String,
    /// The model's words on what it built.
    pub(crate) approach: String,
}

impl StreamRun {
    pub(crate) fn commit(&self) -> Option<&str> {
        match &self.state {
            State::Committed(c) => Some(c),
            _ => None,
        }
    }
}

/// What a stream's thread hands back with its worktree.
struct Done {
    index: usize,
    worktree: Worktree,
    verdict: Result<Work, String>,
    cost_usd: f64,
}

/// A stream's committed work.
struct Work {
    commit: String,
    files: Vec<(String, u64)>,
    tests: String,
    approach: String,
}

/// The stream branches of a build, kept for the integration to merge and removed (with any worktree left on
/// them) when the build ends, whichever way it ends.
pub(crate) struct Branches<'a> {
    pub(crate) repo: &'a std::path::Path,
    pub(crate) names: Vec<String>,
}

impl Drop for Branches<'_> {
    fn drop(&mut self) {
        for name in &self.names {
            crate::fix::discard(self.repo, name);
        }
    }
}

/// Runs the streams up to `at_once` at a time; returns them in the manifest's order.
pub(crate) fn run(
    cx: &Cx<'_>,
    at_once: usize,
    started: Instant,
    branches: &mut Branches<'_>,
) -> Vec<StreamRun> {
    let manifest = &cx.manifest;
    let mut runs: Vec<StreamRun> = manifest
        .streams
        .iter()
        .map(|s| StreamRun {
            id: s.id.clone(),
            after: s.after.clone(),
            state: State::NotStarted(String::new()),
            started: Duration::ZERO,
            wall: Duration::ZERO,
            cost_usd: 0.0,
            files: Vec::new(),
            tests: String::new(),
            approach: String::new(),
        })
        .collect();
    let mut begun = vec![false; runs.len()];
    let mut stop: Option<String> = None;
    let (tx, rx) = mpsc::channel::<Done>();
    std::thread::scope(|scope| {
        let mut running = 0usize;
        loop {
            while stop.is_none() && running < at_once && cx.cancel.signal().is_none() {
                let Some(i) = manifest.order().into_iter().find(|i| {
                    !begun[*i]
                        && manifest.streams[*i].after.iter().all(|a| {
                            manifest
                                .index(a)
                                .is_some_and(|j| runs[j].commit().is_some())
                        })
                }) else {
                    break;
                };
                begun[i] = true;
                runs[i].started = started.elapsed();
                let left = begun.iter().filter(|b| !**b).count() + 1;
                match prepare(cx, i, &runs, left, &mut branches.names) {
                    Ok((worktree, ticket, cap)) => {
                        (cx.progress)(&format!("stream `{}`: started", runs[i].id));
                        running += 1;
                        let tx = tx.clone();
                        scope.spawn(move || {
                            // A panic must still report back, or the scheduler would wait for it forever.
                            let (verdict, cost_usd) =
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                    work(cx, i, &worktree, ticket, cap)
                                }))
                                .unwrap_or_else(|_| {
                                    (Err("the stream's thread panicked".to_owned()), cap)
                                });
                            let _ = tx.send(Done {
                                index: i,
                                worktree,
                                verdict,
                                cost_usd,
                            });
                        });
                    }
                    Err(why) => {
                        runs[i].wall = started.elapsed().saturating_sub(runs[i].started);
                        (cx.progress)(&format!("stream `{}`: failed: {why}", runs[i].id));
                        stop = Some(runs[i].id.clone());
                        runs[i].state = if why.starts_with(NOT_STARTED) {
                            State::NotStarted(why)
                        } else {
                            State::Failed(why)
                        };
                    }
                }
            }
            if running == 0 {
                break;
            }
            let Ok(done) = rx.recv() else { break };
            running -= 1;
            let worktree = finish(cx, &mut runs[done.index], done, started, &mut stop);
            // Worktrees come and go on this thread only: git's worktree metadata is not for concurrent writers.
            drop(worktree);
        }
    });
    for (i, run) in runs.iter_mut().enumerate() {
        if let State::NotStarted(why) = &mut run.state
            && why.is_empty()
        {
            *why = not_started(cx, i, stop.as_deref());
        }
    }
    runs
}

/// A stream's thread is done: its verdict recorded; the worktree back to the scheduler, which removes it (and
/// keeps the branch of a commit).
fn finish(
    cx: &Cx<'_>,
    run: &mut StreamRun,
    done: Done,
    started: Instant,
    stop: &mut Option<String>,
) -> Worktree {
    run.wall = started.elapsed().saturating_sub(run.started);
    run.cost_usd = done.cost_usd;
    let mut worktree = done.worktree;
    match done.verdict {
        Ok(work) => {
            (cx.progress)(&format!(
                "stream `{}`: committed {} in {}",
                run.id,
                short(&work.commit),
                super::secs(run.wall)
            ));
            run.state = State::Committed(work.commit);
            run.files = work.files;
            run.tests = work.tests;
            run.approach = work.approach;
            worktree.keep_branch();
        }
        Err(why) => {
            (cx.progress)(&format!("stream `{}`: failed: {why}", run.id));
            stop.get_or_insert_with(|| run.id.clone());
            run.state = State::Failed(why);
        }
    }
    worktree
}

/// Why stream `i` never started.
fn not_started(cx: &Cx<'_>, i: usize, stop: Option<&str>) -> String {
    if cx.cancel.signal().is_some() {
        return "not started: the build was interrupted".to_owned();
    }
    let failed_before: Vec<&str> = cx
        .manifest
        .ancestors(i)
        .into_iter()
        .map(|j| cx.manifest.streams[j].id.as_str())
        .filter(|id| Some(*id) == stop)
        .collect();
    match (failed_before.first(), stop) {
        (Some(id), _) => format!("not started: it comes after `{id}`, which did not commit"),
        (None, Some(id)) => format!("not started: the build stopped when `{id}` did not commit"),
        (None, None) => "not started".to_owned(),
    }
}

/// How `prepare` says the stream never started (the budget was exhausted) rather than failed.
const NOT_STARTED: &str = "not started: ";

/// What every stream branch starts with; the pid of the build that made it follows.
const STREAM_BRANCH: &str = "daydream/build-stream-";

/// The branch of a stream's worktree: this process's, so that two builds never share one.
pub(crate) fn stream_branch(id: &str) -> String {
    format!("{STREAM_BRANCH}{}-{id}", std::process::id())
}

/// Removes the stream branches (and their worktrees) of builds that died without cleaning up (`kill -9`, a
/// power cut); a branch of a build still running is left alone. Returns how many were removed.
pub(crate) fn remove_leftovers(repo: &Path, cancel: &Cancel) -> usize {
    let Ok(list) = crate::fix::worktree::git_out(
        repo,
        cancel,
        &[
            "for-each-ref",
            "--format=%(refname:short)",
            &format!("refs/heads/{STREAM_BRANCH}*"),
        ],
    ) else {
        return 0;
    };
    let dead = |branch: &&str| {
        let pid = branch
            .strip_prefix(STREAM_BRANCH)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
            .and_then(rustix::process::Pid::from_raw);
        // No such process: `kill(pid, 0)` fails with ESRCH. Another user's live process (EPERM) counts as alive.
        pid.is_some_and(|pid| {
            rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
        })
    };
    let leftovers: Vec<&str> = list.lines().filter(dead).collect();
    for branch in &leftovers {
        crate::fix::worktree::discard(repo, branch);
    }
    leftovers.len()
}

/// On the scheduler's thread: the stream's share of the budget reserved in the ledger, its worktree, the
/// commits of the streams it comes after merged in. `left` counts the calls still to make (the repair's too).
fn prepare(
    cx: &Cx<'_>,
    i: usize,
    runs: &[StreamRun],
    left: usize,
    branches: &mut Vec<String>,
) -> Result<(Worktree, Ticket, f64), String> {
    let stream = &cx.manifest.streams[i];
    let cap = match cx
        .budget
        .allowance(Purpose::Autofix)
        .map_err(|e| format!("{e:#}"))?
    {
        Allowance::Exhausted(why) => return Err(format!("{NOT_STARTED}{why}")),
        Allowance::Spend(remaining) => {
            let share = cents(remaining / count(left)).max(cx.budget.caps().min_call);
            cx.limits
                .per_attempt_usd
                .map_or(share, |p| p.min(share))
                .min(remaining)
        }
    };
    let branch = stream_branch(&stream.id);
    branches.push(branch.clone());
    let worktree = Worktree::add(&cx.project.dir, &cx.base_commit, &branch, cx.cancel)
        .map_err(|e| format!("{e:#}"))?;
    for after in &stream.after {
        let Some(commit) = cx.manifest.index(after).and_then(|j| runs[j].commit()) else {
            continue;
        };
        match worktree.merge(commit, &format!("build: merge stream `{after}`")) {
            Ok(Ok(())) => {}
            Ok(Err(files)) => {
                return Err(format!(
                    "merging the streams it comes after ({}) conflicts in {}",
                    stream.after.join(", "),
                    quoted(&files)
                ));
            }
            Err(e) => return Err(format!("{e:#}")),
        }
    }
    let ticket = cx
        .budget
        .begin("build", &cx.project.slug, Purpose::Autofix, cap)
        .map_err(|e| format!("{e:#}"))?;
    Ok((worktree, ticket, cap))
}

/// On the stream's thread: the model call, the diff guard, the commit, the tests the stream owns.
fn work(
    cx: &Cx<'_>,
    i: usize,
    worktree: &Worktree,
    ticket: Ticket,
    cap: f64,
) -> (Result<Work, String>, f64) {
    let caller = Caller {
        env: &cx.setup.env,
        cancel: cx.cancel,
        budget: cx.budget,
        limits: &cx.limits,
    };
    let prompt = prompt(cx, i);
    let (reply, cost) = match ask_files(&caller, worktree.dir(), &prompt, ticket) {
        Ok(done) => done,
        Err(err) => return (Err(format!("{err:#}")), cap),
    };
    let verdict = reply.and_then(|words| {
        let files = guard(cx, i, worktree)?;
        let message = format!(
            "build({}): {}\n\n{}\n\n{}",
            cx.spec_name,
            cx.manifest.streams[i].id,
            crate::text::squeeze(&cx.manifest.streams[i].task, 600),
            crate::text::squeeze(&words, 600)
        );
        let commit = worktree.commit(&message).map_err(|e| format!("{e:#}"))?;
        let tests = owned_tests(cx, i, worktree)?;
        Ok(Work {
            commit,
            files,
            tests,
            approach: crate::text::squeeze(&words, 300),
        })
    });
    (verdict, cost)
}

/// The diff guard of a stream: the fix engine's checks (protected paths, symlinks, binaries, size, secrets),
/// then every changed file inside the stream's `owns` and no other stream's.
pub(crate) fn guard(
    cx: &Cx<'_>,
    i: usize,
    worktree: &Worktree,
) -> Result<Vec<(String, u64)>, String> {
    let diff = worktree
        .stage_and_check(&cx.rules)
        .map_err(|e| format!("{e:#}"))?
        .map_err(|why| format!("diff rejected: {why}"))?;
    let stream = &cx.manifest.streams[i];
    for (path, _) in &diff.files {
        if !cx.manifest.owns(i, path) {
            return Err(format!(
                "diff rejected: `{path}` is outside the stream's `owns` ({})",
                stream.owns.join(", ")
            ));
        }
        if let Some(other) =
            (0..cx.manifest.streams.len()).find(|j| *j != i && cx.manifest.owns(*j, path))
        {
            return Err(format!(
                "diff rejected: `{path}` is owned by stream `{}` too",
                cx.manifest.streams[other].id
            ));
        }
    }
    Ok(diff.files)
}

/// Runs each test file the stream owns alone; `Err` names the first that fails.
fn owned_tests(cx: &Cx<'_>, i: usize, worktree: &Worktree) -> Result<String, String> {
    let files =
        git_out(worktree.dir(), cx.cancel, &["ls-files", "-z"]).map_err(|e| format!("{e:#}"))?;
    let tests: Vec<&str> = files
        .split('\0')
        .filter(|f| !f.is_empty() && is_test_file(f) && cx.manifest.owns(i, f))
        .collect();
    if tests.is_empty() {
        return Ok("owns no test file".to_owned());
    }
    let suite = Suite::in_worktree(&cx.jail, worktree, cx.command, &cx.project.tests, cx.cancel)
        .map_err(|e| format!("{e:#}"))?;
    // A file is a test id only to pytest (and to the project's own template, `{file}`): other runners would
    // select tests by name and run none.
    if cx.project.tests.single.is_none() && suite.runner() != Runner::Pytest {
        return Ok(format!(
            "{} test file(s) owned; `{}` cannot run one file alone (set `\"tests\": {{\"single\": \"... {{file}}\"}}`), so they run at integration",
            tests.len(),
            cx.command
        ));
    }
    let mut ran = 0;
    for file in &tests {
        let failure = Failure {
            file: (*file).to_owned(),
            test: (*file).to_owned(),
            error_type: String::new(),
            message: String::new(),
            trace: String::new(),
        };
        match suite.run_one(&failure, cx.limits.test_timeout) {
            Ok(Some(run)) if run.passed() => ran += 1,
            Ok(Some(run)) => {
                let why = run.failures.first().map_or_else(
                    || run.tail.clone(),
                    |f| format!("{}: {}: {}", f.test, f.error_type, f.message),
                );
                return Err(format!(
                    "its tests fail: `{file}`: {}",
                    crate::text::squeeze(&why, 300)
                ));
            }
            Ok(None) => {
                return Ok(format!(
                    "{ran} test file(s) passed; the others run at integration"
                ));
            }
            Err(e) => return Err(format!("{e:#}")),
        }
    }
    Ok(format!("{ran} test file(s) passed"))
}

/// Whether the file's name says it holds tests: `test_x.py`, `x_test.go`, `x.test.ts`, `x.spec.js`, `x_spec.rb`.
pub(crate) fn is_test_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_spec")
        || name.contains(".test.")
        || name.contains(".spec.")
}

/// What a stream's model is told: who it is, what it owns, what the others own, the rules and the spec.
fn prompt(cx: &Cx<'_>, i: usize) -> String {
    let m = &cx.manifest;
    let stream = &m.streams[i];
    let mut p = String::new();
    let _ = writeln!(
        p,
        "You are one of several agents building a feature in the repository of the project `{}`, each in a git \
         worktree of its own; yours is your working directory.\nYou are stream `{}`.\n\n## Your task\n{}\n",
        cx.project.name, stream.id, stream.task
    );
    let _ = writeln!(
        p,
        "Create or change only files matched by: {}. A change to any other file rejects your work whole.",
        stream.owns.join(", ")
    );
    let done: Vec<&str> = m
        .ancestors(i)
        .into_iter()
        .map(|j| m.streams[j].id.as_str())
        .collect();
    if !done.is_empty() {
        let _ = writeln!(
            p,
            "The work of the streams before you ({}) is already in your worktree: build on it.",
            done.join(", ")
        );
    }
    let others: Vec<String> = m
        .streams
        .iter()
        .filter(|s| s.id != stream.id)
        .map(|s| format!("`{}` owns {}", s.id, s.owns.join(", ")))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(p, "The other streams: {}.", others.join("; "));
    }
    let _ = writeln!(
        p,
        "Use only the file tools; do not run git or anything else: daydream checks your diff, commits it and runs \
         the tests you own with `{}`.{}\nWhen you are done, reply with one short paragraph: what you built.",
        cx.command,
        cx.rules.told()
    );
    let _ = write!(
        p,
        "\n## The specification (the whole feature; do only your task)\n\n{}\n",
        super::manifest::head(&cx.spec, super::manifest::SPEC_MAX)
    );
    p
}

/// Whole cents, rounded down.
fn cents(usd: f64) -> f64 {
    (usd * 100.0).floor() / 100.0
}

#[expect(clippy::cast_precision_loss, reason = "a handful of streams")]
fn count(n: usize) -> f64 {
    n as f64
}

pub(crate) fn short(commit: &str) -> &str {
    &commit[..commit.len().min(8)]
}

/// `a`, `b` and `c` as code spans.
pub(crate) fn quoted(files: &[String]) -> String {
    files
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_files_are_known_by_their_names() {
        for yes in [
            "tests/test_cart.py",
            "pkg/cart_test.go",
            "web/cart.test.ts",
            "web/cart.spec.js",
            "spec/cart_spec.rb",
        ] {
            assert!(is_test_file(yes), "{yes}");
        }
        for no in [
            "tests/conftest.py",
            "tests/__init__.py",
            "app/contest.py",
            "src/testing.rs",
        ] {
            assert!(!is_test_file(no), "{no}");
        }
    }

    #[test]
    fn stream_branches_of_dead_builds_are_removed_and_a_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| crate::testing::git(dir.path(), args);
        git(&["init", "-q", "-b", "main"]);
        git(&["commit", "-q", "--allow-empty", "-m", "start"]);
        // A pid no process can have (above Linux's and macOS's maximum), and this process's own.
        let dead = format!("{STREAM_BRANCH}2000000000-api");
        let live = stream_branch("web");
        git(&["branch", &dead]);
        git(&["branch", &live]);
        git(&["branch", "daydream/build-cart"]);
        assert_eq!(remove_leftovers(dir.path(), &Cancel::default()), 1);
        let cancel = Cancel::default();
        assert!(!crate::fix::worktree::local_has(dir.path(), &cancel, &dead));
        assert!(crate::fix::worktree::local_has(dir.path(), &cancel, &live));
        assert!(crate::fix::worktree::local_has(
            dir.path(),
            &cancel,
            "daydream/build-cart"
        ));
    }

    #[test]
    fn shares_of_the_budget_are_whole_cents() {
        assert!((cents(1.0 / 3.0) - 0.33).abs() < 1e-9);
        assert_eq!(quoted(&["a".to_owned(), "b".to_owned()]), "`a`, `b`");
    }
}
