//! Rust's test harness as `cargo test` and `cargo nextest run` print it: libtest's `---- name stdout ----`
//! sections and `test name ... FAILED` lines, nextest's `FAIL [ 0.01s] binary name` status lines and the output
//! blocks under them. Both come down to a panic, which [`details`] reads.

use std::sync::LazyLock;

use regex::Regex;

use super::parse::{Failure, dedent, indent};

/// cargo's line before each test binary: `Running unittests src/lib.rs (target/debug/deps/x-123)`.
static RUNNING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*Running (?:unittests )?(\S+) \(").expect("valid regex"));
/// cargo's line before the doc tests, which name their file themselves.
static DOC_TESTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*Doc-tests \S+").expect("valid regex"));
/// libtest's result line of a failed test (`- should panic` follows the name of such tests).
static FAILED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^test (.+?)(?: - should panic)? \.\.\. FAILED$").expect("valid regex")
});
/// libtest's section of one failure's captured output.
static SECTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^---- (.+?) stdout ----$").expect("valid regex"));
/// A doc test's name, which starts with its file: `src/lib.rs - add (line 5)`.
static DOC_TEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\S+\.rs) - ").expect("valid regex"));
/// A panic since Rust 1.73 (the thread id since 1.90), the message on the lines after it.
static PANIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*thread '.*?'(?: \(\d+\))? panicked at \S+?:\d+:\d+:$").expect("valid regex")
});
/// A panic before Rust 1.73: `thread 'x' panicked at 'message', src/lib.rs:3:5`.
static OLD_PANIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*thread '.*?' panicked at '(.*)', \S+:\d+:\d+$").expect("valid regex")
});
/// A nextest status line: `FAIL [   0.007s] (1/7) my-crate::api tests::name`, `TRY 2 FAIL [...] ...`.
static STATUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(TRY \d+ )?([A-Z][A-Z-]*)(?: \d+/\d+)? \[[^\]]*\](?: \(\s*\d+/\s*\d+\))? (\S+) (\S+)\s*$")
        .expect("valid regex")
});
/// nextest's line that opens its closing summary, which repeats the final status of each failure.
static SUMMARY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*Summary \[").expect("valid regex"));

/// The failures in `cargo test`'s output. The file is the target's root from cargo's `Running` line, the
/// only file cargo names (or a doc test's own file).
pub(super) fn parse_cargo(output: &str) -> Vec<Failure> {
    let mut target = "";
    let mut names: Vec<(String, &str)> = Vec::new();
    let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut in_section = false;
    for line in output.lines() {
        if let Some(caps) = RUNNING.captures(line) {
            target = caps.get(1).map_or("", |found| found.as_str());
        } else if DOC_TESTS.is_match(line) {
            target = "";
        }
        if let Some(caps) = SECTION.captures(line) {
            let name = caps.get(1).map_or("", |found| found.as_str());
            sections.push((name, Vec::new()));
            note(&mut names, name, target);
            in_section = true;
            continue;
        }
        if let Some(caps) = FAILED.captures(line) {
            note(
                &mut names,
                caps.get(1).map_or("", |found| found.as_str()),
                target,
            );
        }
        if line == "failures:" || line.starts_with("test result:") || RUNNING.is_match(line) {
            in_section = false;
        }
        if in_section && let Some((_, body)) = sections.last_mut() {
            body.push(line);
        }
    }
    names
        .into_iter()
        .map(|(name, target)| {
            let body = sections
                .iter()
                .find(|(section, _)| *section == name)
                .map(|(_, body)| body.join("\n"));
            let trace = body.unwrap_or_default();
            let (error_type, message) = details(&trace);
            let file = DOC_TEST
                .captures(&name)
                .and_then(|caps| caps.get(1))
                .map_or(target, |found| found.as_str());
            Failure::new(file, &name, &error_type, &message, &trace)
        })
        .collect()
}

/// Records a failing test's name once, with the target it was first seen in.
fn note<'a>(names: &mut Vec<(String, &'a str)>, name: &str, target: &'a str) {
    if !names.iter().any(|(known, _)| known == name) {
        names.push((name.to_owned(), target));
    }
}

/// A test's run as nextest reports it: its final status and the output printed under the status line.
struct Run<'a> {
    name: &'a str,
    failed: bool,
    body: Vec<&'a str>,
}

/// The failures in `cargo nextest run`'s output. The closing summary's statuses are the final word (a test
/// that failed once and passed on retry is flaky, not failing); without a summary (a cancelled run) the
/// last status of each test is.
pub(super) fn parse_nextest(output: &str) -> Vec<Failure> {
    let mut runs: Vec<Run> = Vec::new();
    let mut summary: Option<Vec<&str>> = None;
    let mut open = false;
    for line in output.lines() {
        if SUMMARY.is_match(line) {
            summary = Some(Vec::new());
            continue;
        }
        let status = STATUS.captures(line).and_then(|caps| {
            let failed = caps.get(1).is_none() && is_failing(caps.get(2)?.as_str());
            Some((caps.get(4)?.as_str(), failed))
        });
        match (status, summary.as_mut()) {
            (Some((name, true)), Some(summary)) => summary.push(name),
            (Some(_), Some(_)) => {}
            (Some((name, failed)), None) => {
                runs.push(Run {
                    name,
                    failed,
                    body: Vec::new(),
                });
                open = true;
            }
            (None, _) if line.trim_start().starts_with("────") => open = false,
            (None, _) => {
                if open && let Some(run) = runs.last_mut() {
                    run.body.push(line);
                }
            }
        }
    }
    let failing: Vec<&str> = summary.unwrap_or_else(|| {
        let mut names: Vec<&str> = runs.iter().map(|run| run.name).collect();
        names.retain(|name| {
            runs.iter()
                .rev()
                .find(|run| run.name == *name)
                .is_some_and(|run| run.failed)
        });
        names
    });
    failing
        .into_iter()
        .map(|name| {
            let run = runs.iter().rev().find(|run| run.name == name && run.failed);
            let lines = run.map(|run| run.body.as_slice()).unwrap_or_default();
            let width = lines
                .iter()
                .filter(|line| !line.trim().is_empty())
                .map(|line| indent(line))
                .min();
            let trace = dedent(lines, width.unwrap_or(0));
            let (error_type, message) = details(&trace);
            Failure::new("", name, &error_type, &message, &trace)
        })
        .collect()
}

/// Whether a nextest status is a failure: `FAIL`, `TIMEOUT`, `ABORT`, `LEAK-FAIL`, a signal (`SIGSEGV`).
fn is_failing(status: &str) -> bool {
    matches!(status, "FAIL" | "TIMEOUT" | "ABORT" | "LEAK-FAIL") || status.starts_with("SIG")
}

/// The error type and message of a Rust test's output: `panicked` and the panic's first line; for a test that
/// returned `Err`, `Error` and the error libtest printed before its panic.
pub(super) fn details(trace: &str) -> (String, String) {
    let lines: Vec<&str> = trace.lines().collect();
    if let Some(error) = lines.iter().find_map(|line| line.strip_prefix("Error: ")) {
        return ("Error".to_owned(), error.trim().to_owned());
    }
    for (index, line) in lines.iter().enumerate() {
        if PANIC.is_match(line) {
            let message = lines.get(index + 1).map_or("", |next| next.trim());
            return ("panicked".to_owned(), message.to_owned());
        }
        if let Some(message) = OLD_PANIC.captures(line).and_then(|caps| caps.get(1)) {
            return ("panicked".to_owned(), message.as_str().to_owned());
        }
    }
    (String::new(), String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::failures::command::Runner;
    use crate::fix::failures::frames::frames;
    use crate::fix::failures::parse::parse;

    const CARGO: &str = include_str!("../../../tests/fixtures/test-output/cargo-test.txt");
    const BACKTRACE: &str =
        include_str!("../../../tests/fixtures/test-output/cargo-test-backtrace.txt");
    const NEXTEST: &str = include_str!("../../../tests/fixtures/test-output/nextest.txt");

    fn summary(failures: &[Failure]) -> Vec<(&str, &str, &str, &str)> {
        failures
            .iter()
            .map(|failure| {
                (
                    failure.file.as_str(),
                    failure.test.as_str(),
                    failure.error_type.as_str(),
                    failure.message.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn cargo_test_gives_each_failure_of_each_binary() {
        let failures = parse(Runner::Cargo, CARGO);
        assert_eq!(
            summary(&failures),
            [
                (
                    "src/lib.rs",
                    "tests::standard::reduced_rate",
                    "panicked",
                    "assertion failed: total_with_tax(&[100], \"reduced\") == 100"
                ),
                (
                    "src/lib.rs",
                    "tests::tax_unknown_kind",
                    "panicked",
                    "no rate for \"luxury\""
                ),
                (
                    "src/lib.rs",
                    "tests::total_of_nothing",
                    "panicked",
                    "assertion `left == right` failed: an empty cart costs nothing"
                ),
                (
                    "tests/api.rs",
                    "public_tax",
                    "panicked",
                    "no rate for \"zero\""
                ),
            ]
        );
        let nothing = &failures[2];
        assert!(
            nothing.trace.contains("  left: 0\n right: 1"),
            "{}",
            nothing.trace
        );
    }

    #[test]
    fn cargo_panic_in_a_helper_puts_the_helper_first() {
        let failures = parse(Runner::Cargo, CARGO);
        let frames = frames(Runner::Cargo, &failures[1].trace);
        assert_eq!(
            (frames[0].file.as_str(), frames[0].line),
            ("src/rates.rs", 5)
        );
    }

    #[test]
    fn cargo_backtrace_gives_the_helper_frames_innermost_first() {
        let failures = parse(Runner::Cargo, BACKTRACE);
        assert_eq!(failures.len(), 3);
        let failure = failures
            .iter()
            .find(|failure| failure.test == "tests::tax_unknown_kind")
            .expect("tax test");
        let frames = frames(Runner::Cargo, &failure.trace);
        let project: Vec<(&str, u32)> = frames
            .iter()
            .filter(|frame| frame.file.starts_with("src/"))
            .map(|frame| (frame.file.as_str(), frame.line))
            .collect();
        assert_eq!(
            project,
            [
                ("src/rates.rs", 5),
                ("src/cart.rs", 8),
                ("src/lib.rs", 20),
                ("src/lib.rs", 19)
            ]
        );
    }

    #[test]
    fn nextest_gives_each_failure_once_with_its_panic() {
        let failures = parse(Runner::Nextest, NEXTEST);
        assert_eq!(
            summary(&failures),
            [
                (
                    "",
                    "tests::standard::reduced_rate",
                    "panicked",
                    "assertion failed: total_with_tax(&[100], \"reduced\") == 100"
                ),
                (
                    "",
                    "tests::tax_unknown_kind",
                    "panicked",
                    "no rate for \"luxury\""
                ),
                (
                    "",
                    "tests::total_of_nothing",
                    "panicked",
                    "assertion `left == right` failed: an empty cart costs nothing"
                ),
                ("", "public_tax", "panicked", "no rate for \"zero\""),
            ]
        );
        let frames = frames(Runner::Nextest, &failures[1].trace);
        assert_eq!(frames[0].file, "src/rates.rs");
    }

    #[test]
    fn nextest_retried_test_that_passed_is_not_a_failure() {
        let output = "\
        FAIL [   0.010s] (1/2) my-crate tests::flaky
  stderr ───

    thread 'tests::flaky' (1) panicked at src/lib.rs:3:5:
    boom

  TRY 2 PASS [   0.010s] (1/2) my-crate tests::flaky
        PASS [   0.001s] (2/2) my-crate tests::fine
────────────
     Summary [   0.020s] 2 tests run: 2 passed (1 flaky), 0 failed, 0 skipped
       FLAKY 2/2 [   0.010s] (1/2) my-crate tests::flaky
";
        assert_eq!(parse(Runner::Nextest, output), []);
        let cut_short = output.split("────────────").next().unwrap_or_default();
        assert_eq!(parse(Runner::Nextest, cut_short), []);
    }

    #[test]
    fn old_panic_format_and_returned_errors_are_read() {
        let old = "thread 'tests::x' panicked at 'boom, really', src/lib.rs:3:5\n";
        assert_eq!(
            details(old),
            ("panicked".to_owned(), "boom, really".to_owned())
        );
        let returned = "Error: ParseIntError { kind: InvalidDigit }\nthread 'tests::y' (5) panicked at library/test/src/lib.rs:1:1:\nassertion failed\n";
        assert_eq!(
            details(returned),
            (
                "Error".to_owned(),
                "ParseIntError { kind: InvalidDigit }".to_owned()
            )
        );
    }
}
