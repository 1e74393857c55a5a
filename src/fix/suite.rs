//! The project's tests, run confined in a worktree, read as failing tests.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::sync::LazyLock;

use anyhow::Result;
use regex::Regex;

use super::failures::{self, Failure, Runner};
use crate::cancel::Cancel;
use crate::config::Tests;
use crate::exec::ExecError;
use crate::sandbox::Jail;

/// Bytes of a run's output kept for the report and the prompt (its end, where runners summarise).
const TAIL: usize = 4000;
/// The id of the failure that stands for a whole suite whose output names no test.
pub(crate) const WHOLE_SUITE: &str = "(the whole suite)";
/// `JUnit` files read at most, and how deep under the worktree they are looked for.
const JUNIT_FILES: usize = 50;
const JUNIT_DEPTH: usize = 6;

/// How one run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Passed,
    /// Exited with a failure code or a signal.
    Failed,
    /// Stopped at its timeout.
    TimedOut,
    /// Could not start (no shell, no sandbox...): the reason.
    NotRun(String),
}

/// One run of the suite, or of one test.
#[derive(Clone, Debug)]
pub(crate) struct SuiteRun {
    pub(crate) status: Status,
    pub(crate) failures: Vec<Failure>,
    pub(crate) duration: Duration,
    /// The end of what it printed.
    pub(crate) tail: String,
    /// Problems reading its results (garbage `JUnit`...), for the report.
    pub(crate) warnings: Vec<String>,
}

impl SuiteRun {
    /// The ids of the failing tests.
    pub(crate) fn failing(&self) -> BTreeSet<&str> {
        self.failures.iter().map(|f| f.test.as_str()).collect()
    }

    pub(crate) fn passed(&self) -> bool {
        self.status == Status::Passed
    }
}

/// The project's test command in one worktree, confined.
pub(crate) struct Suite<'a> {
    pub(crate) jail: &'a Jail,
    pub(crate) dir: &'a Path,
    /// Paths outside `dir` the tests must still read (the repository's git directory of a worktree).
    pub(crate) read_only: Vec<PathBuf>,
    pub(crate) command: &'a str,
    pub(crate) tests: &'a Tests,
    pub(crate) cancel: &'a Cancel,
}

impl<'a> Suite<'a> {
    /// The project's suite in `worktree`, which may read the repository's git directory.
    pub(crate) fn in_worktree(
        jail: &'a Jail,
        worktree: &'a super::Worktree,
        command: &'a str,
        tests: &'a Tests,
        cancel: &'a Cancel,
    ) -> Result<Suite<'a>> {
        Ok(Suite {
            jail,
            dir: worktree.dir(),
            read_only: vec![worktree.git_dir()?],
            command,
            tests,
            cancel,
        })
    }

    pub(crate) fn runner(&self) -> Runner {
        failures::runner(self.command)
    }

    /// Runs the whole suite: its failures from the `JUnit` report when the project names one, else from the
    /// output; a failing exit whose output names no test is one failure, [`WHOLE_SUITE`], with the output's end.
    pub(crate) fn run_all(&self, timeout: Duration) -> Result<SuiteRun> {
        if let Some(pattern) = &self.tests.junit {
            for old in junit_files(self.dir, pattern) {
                let _ = std::fs::remove_file(old);
            }
        }
        let mut run = self.run(self.command, timeout)?;
        let mut from_junit = None;
        if let Some(pattern) = &self.tests.junit
            && matches!(run.status, Status::Passed | Status::Failed)
        {
            from_junit = read_junit(self.dir, pattern, &mut run.warnings);
        }
        run.failures = match from_junit {
            Some(found) => found,
            None => failures::parse(self.runner(), &run.tail_full),
        };
        Ok(finish(self.command, run))
    }

    /// Runs only `failure`'s test; `None` when no command for one test can be built (the runner is unknown
    /// and the project has no `"tests": {"single"}` template), or the failure is the whole suite's.
    pub(crate) fn run_one(&self, failure: &Failure, timeout: Duration) -> Result<Option<SuiteRun>> {
        if failure.test == WHOLE_SUITE {
            return self.run_all(timeout).map(Some);
        }
        let Some(command) = failures::single_command(
            self.command,
            self.tests.single.as_deref(),
            self.runner(),
            failure,
        ) else {
            return Ok(None);
        };
        let mut run = self.run(&command, timeout)?;
        run.failures = failures::parse(self.runner(), &run.tail_full);
        Ok(Some(finish(&command, run)))
    }

    /// The problems each of the project's checks reports: 0 when it exits 0, else the count of non-empty lines
    /// it printed (at least 1). Compared before and after a fix: a fix may not add to them.
    pub(crate) fn checks(&self, timeout: Duration) -> Result<Vec<(String, usize)>> {
        let mut counts = Vec::new();
        for check in &self.tests.checks {
            let run = self.run(check, timeout)?;
            let problems = match run.status {
                Status::Passed => 0,
                _ => run
                    .tail_full
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .count()
                    .max(1),
            };
            counts.push((check.clone(), problems));
        }
        Ok(counts)
    }

    fn run(&self, command: &str, timeout: Duration) -> Result<Raw> {
        let started = Instant::now();
        let confined = match self.jail.shell(self.dir, &self.read_only, command) {
            Ok(confined) => confined,
            Err(err) => {
                return Ok(Raw {
                    status: Status::NotRun(format!("{err:#}")),
                    tail_full: String::new(),
                    duration: started.elapsed(),
                    failures: Vec::new(),
                    warnings: Vec::new(),
                });
            }
        };
        let cmd = confined.cmd.clone().timeout(timeout).cancel(self.cancel);
        let (status, output) = match cmd.run_any() {
            Ok(done) => {
                let mut output = String::from_utf8_lossy(&done.stdout).into_owned();
                output.push_str(&String::from_utf8_lossy(&done.stderr));
                let status = if done.code == Some(0) {
                    Status::Passed
                } else {
                    Status::Failed
                };
                (status, output)
            }
            Err(ExecError::TimedOut { .. }) => (Status::TimedOut, String::new()),
            Err(err @ ExecError::Interrupted { .. }) => return Err(err.into_anyhow()),
            Err(err) => (Status::NotRun(err.to_string()), String::new()),
        };
        drop(confined);
        Ok(Raw {
            status,
            tail_full: output,
            duration: started.elapsed(),
            failures: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

/// A run before its failures are settled.
struct Raw {
    status: Status,
    tail_full: String,
    duration: Duration,
    failures: Vec<Failure>,
    warnings: Vec<String>,
}

/// The run with a failure for a failing exit that named no test, a timeout or a run that could not start.
fn finish(command: &str, raw: Raw) -> SuiteRun {
    let tail = tail(&raw.tail_full, TAIL);
    let mut failures = raw.failures;
    let message = match &raw.status {
        Status::Passed => None,
        Status::Failed => Some(match telling_line(&tail) {
            Some(line) => format!("`{command}` failed: {line}"),
            None => format!("`{command}` failed"),
        }),
        Status::TimedOut => Some(format!(
            "`{command}` ran past its timeout ({} s) and was stopped",
            raw.duration.as_secs()
        )),
        Status::NotRun(why) => Some(format!("`{command}` could not run: {why}")),
    };
    if let Some(message) = message
        && (failures.is_empty() || raw.status != Status::Failed)
    {
        failures = vec![Failure {
            file: String::new(),
            test: WHOLE_SUITE.to_owned(),
            error_type: String::new(),
            message,
            trace: tail.clone(),
        }];
    }
    SuiteRun {
        status: raw.status,
        failures,
        duration: raw.duration,
        tail,
        warnings: raw.warnings,
    }
}

/// The last line of `tail` that says what went wrong (an error, an exception, a panic), trimmed of the runner's
/// markers (pytest's `E   `): what a suite that named no failing test died of, such as a failed import.
fn telling_line(tail: &str) -> Option<String> {
    static TELLING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(error|exception|panicked|fatal|cannot find|not found)")
            .expect("a valid pattern")
    });
    // A runner's closing count (`=== 1 error in 0.12s ===`, `test result: FAILED. 0 passed`) says nothing new.
    static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[=\-]|\bin \d+(\.\d+)?m?s\b|^test result:").expect("a valid pattern")
    });
    tail.lines()
        .rev()
        .map(|l| l.trim().trim_start_matches("E ").trim())
        .find(|l| !l.is_empty() && TELLING.is_match(l) && !SUMMARY.is_match(l))
        .map(|l| crate::text::squeeze(l, 200))
}

#[cfg(test)]
mod telling {
    #[test]
    fn a_suite_that_names_no_test_is_said_to_have_died_of_its_last_error() {
        let pytest = "ImportError while loading conftest '/p/tests/conftest.py'.\ntests/conftest.py:12: in <module>\n    import structlog\nE   ModuleNotFoundError: No module named 'structlog'\n";
        assert_eq!(
            super::telling_line(pytest).as_deref(),
            Some("ModuleNotFoundError: No module named 'structlog'")
        );
        let collected =
            "E   ImportError: cannot import name 'x'\n=========== 1 error in 0.12s ===========\n";
        assert_eq!(
            super::telling_line(collected).as_deref(),
            Some("ImportError: cannot import name 'x'")
        );
        assert_eq!(super::telling_line("Killed\n"), None);
    }
}

/// The failures of the `JUnit` files `pattern` matches under `dir`; `None` (and a warning) when there is none or
/// one is not `JUnit`, so the caller reads the output instead.
fn read_junit(dir: &Path, pattern: &str, warnings: &mut Vec<String>) -> Option<Vec<Failure>> {
    let files = junit_files(dir, pattern);
    if files.is_empty() {
        warnings.push(format!(
            "no JUnit report matched `{pattern}` after the tests: their output was read instead"
        ));
        return None;
    }
    let mut found = Vec::new();
    for file in files {
        let shown = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        let parsed = std::fs::read_to_string(&file)
            .map_err(|err| err.to_string())
            .and_then(|xml| failures::parse_junit(&xml));
        match parsed {
            Ok(failures) => found.extend(failures),
            Err(why) => {
                warnings.push(format!(
                    "the JUnit report `{shown}` could not be read ({why}): the output was read instead"
                ));
                return None;
            }
        }
    }
    Some(found)
}

/// The files under `dir` that `pattern` (a glob relative to it) matches, git-ignored ones included.
fn junit_files(dir: &Path, pattern: &str) -> Vec<PathBuf> {
    let Ok(glob) = globset::Glob::new(pattern) else {
        return Vec::new();
    };
    let matcher = glob.compile_matcher();
    ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .max_depth(Some(JUNIT_DEPTH))
        .filter_entry(|e| !matches!(e.file_name().to_str(), Some(".git" | "node_modules")))
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| {
            e.path()
                .strip_prefix(dir)
                .is_ok_and(|rel| matcher.is_match(rel))
        })
        .map(ignore::DirEntry::into_path)
        .take(JUNIT_FILES)
        .collect()
}

/// The project's test command, confined by `jail` in the worktree `dir` (whose git directory `git_dir` it may
/// read). `Ok(Err(output))` when the tests fail; the output is the end of what they printed.
pub(crate) fn run_tests(
    jail: &Jail,
    dir: &Path,
    git_dir: &Path,
    command: &str,
    timeout: Duration,
    cancel: &Cancel,
) -> Result<Result<String, String>> {
    let confined = jail.shell(dir, &[git_dir.to_owned()], command)?;
    let cmd = confined.cmd.clone().timeout(timeout).cancel(cancel);
    match cmd.run_any() {
        Ok(done) => {
            let mut output = String::from_utf8_lossy(&done.stdout).into_owned();
            output.push_str(&String::from_utf8_lossy(&done.stderr));
            let output = tail(&output, 1500);
            match done.code {
                Some(0) => Ok(Ok(output)),
                Some(code) => Ok(Err(format!("`{command}` exited with {code}: {output}"))),
                None => Ok(Err(format!("`{command}` was killed by a signal: {output}"))),
            }
        }
        Err(ExecError::TimedOut { after, .. }) => Ok(Err(format!(
            "`{command}` ran past its {} s timeout and was stopped",
            after.as_secs()
        ))),
        Err(err @ ExecError::Interrupted { .. }) => Err(err.into_anyhow()),
        Err(err) => Ok(Err(format!("`{command}` could not run: {err}"))),
    }
}

/// The last `max` bytes of `text` (at a char boundary), trimmed.
pub(crate) fn tail(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut cut = text.len() - max;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!("...{}", &text[cut..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::sandbox::Policy;

    fn jail(root: &Path) -> Jail {
        let path = std::env::var("PATH").unwrap_or_default();
        Jail::new(
            Policy::Off,
            false,
            &Env::from_pairs([("PATH", path.as_str())]),
            root,
        )
        .unwrap()
    }

    fn suite<'a>(
        jail: &'a Jail,
        dir: &'a Path,
        command: &'a str,
        tests: &'a Tests,
        cancel: &'a Cancel,
    ) -> Suite<'a> {
        Suite {
            jail,
            dir,
            read_only: Vec::new(),
            command,
            tests,
            cancel,
        }
    }

    #[test]
    fn garbage_junit_is_a_warning_and_the_output_is_read_instead() {
        let dir = tempfile::tempdir().unwrap();
        let jail = jail(dir.path());
        let cancel = Cancel::default();
        let tests = Tests {
            junit: Some("reports/*.xml".to_owned()),
            ..Tests::default()
        };
        let command = "mkdir -p reports && echo '<testsuite><testcase' > reports/out.xml && \
                       echo 'FAILED tests/test_a.py::test_one - AssertionError: no' && exit 1";
        let run = suite(&jail, dir.path(), command, &tests, &cancel)
            .run_all(Duration::from_secs(30))
            .unwrap();
        assert_eq!(run.status, Status::Failed);
        assert!(
            run.warnings
                .iter()
                .any(|w| w.contains("`reports/out.xml` could not be read")),
            "{:?}",
            run.warnings
        );
        assert_eq!(
            run.failing().into_iter().collect::<Vec<_>>(),
            ["tests/test_a.py::test_one"]
        );
    }

    #[test]
    fn a_failing_exit_that_names_no_test_is_the_whole_suite_and_a_hang_is_stopped_at_its_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let jail = jail(dir.path());
        let cancel = Cancel::default();
        let tests = Tests::default();
        let run = suite(
            &jail,
            dir.path(),
            "echo 'add 2 3 gave -1'; exit 3",
            &tests,
            &cancel,
        )
        .run_all(Duration::from_secs(30))
        .unwrap();
        assert_eq!(run.failures.len(), 1);
        assert_eq!(run.failures[0].test, WHOLE_SUITE);
        assert!(run.failures[0].trace.contains("add 2 3 gave -1"));

        let started = Instant::now();
        let run = suite(&jail, dir.path(), "sleep 30", &tests, &cancel)
            .run_all(Duration::from_millis(300))
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(run.status, Status::TimedOut);
        assert!(
            run.failures[0].message.contains("ran past its timeout"),
            "{:?}",
            run.failures
        );
        // Triage hands no root cause of a hung suite to a model.
        let triage = crate::fix::engine::triage(
            &suite(&jail, dir.path(), "sleep 30", &tests, &cancel),
            Duration::from_millis(300),
            &mut |_| {},
        )
        .unwrap();
        assert!(triage.roots.is_empty());
    }
}
