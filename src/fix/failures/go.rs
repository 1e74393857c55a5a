//! `go test`'s output, plain or `-v`: `--- FAIL: TestX (0.00s)` lines (indented for subtests) with the test's
//! log under them (plain) or before them after `=== RUN TestX` (`-v`), a `panic:` with its goroutine trace
//! after the failing test's line, and one `ok`/`FAIL` line per package that names the package of the tests
//! printed before it. A package whose tests do not compile fails as a whole.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::parse::{Failure, dedent, indent};

/// A failed test or subtest.
static FAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*)--- FAIL: (\S+) \(").expect("valid regex"));
/// Any test's result, which closes the lines of the test before it.
static RESULT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*--- (?:PASS|SKIP): ").expect("valid regex"));
/// `-v`'s line before a test's output.
static VERBOSE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^=== (?:RUN|CONT|NAME|PAUSE)\s+(\S+)").expect("valid regex"));
/// A package's result: `FAIL\tpkg\t0.01s`, `ok  \tpkg\t(cached)`, `FAIL\tpkg [build failed]`.
static PACKAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:FAIL|ok)\s+(\S+)(?:\s+[\d.]+s|\s+\(cached\)|\s+\[(build failed|setup failed)\])",
    )
    .expect("valid regex")
});
/// The header of a package's compiler errors: `# example.com/shop/rates [example.com/shop/rates.test]`.
static BUILD_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^# (\S+)").expect("valid regex"));
/// A compiler error: `rates/reduced_test.go:6:5: undefined: ForKind`.
static BUILD_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\S+\.go:\d+(?::\d+)?: ").expect("valid regex"));
/// A panic that ends the test binary; `[recovered]` when the testing package re-panics it.
static PANIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^panic: (.*?)(?: \[recovered\])?$").expect("valid regex"));
/// The location a `t.Error` line starts with: `cart_test.go:16: `.
static LOG_LOCATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\S+\.go:\d+: ").expect("valid regex"));

/// A failed test of the package being read.
struct Entry<'a> {
    name: &'a str,
    indent: usize,
    lines: Vec<&'a str>,
    panic: Option<&'a str>,
}

/// The reading state: the package's failed tests so far, `-v`'s logs per test, compiler errors per package.
#[derive(Default)]
struct Reader<'a> {
    entries: Vec<Entry<'a>>,
    /// The entry whose indented log lines follow (plain output).
    open: Option<usize>,
    /// After a `panic:` line, every line to the package's result belongs to the last entry.
    panicking: bool,
    verbose: HashMap<&'a str, Vec<&'a str>>,
    current_verbose: Option<&'a str>,
    build_errors: HashMap<&'a str, Vec<&'a str>>,
    current_build: Option<&'a str>,
    failures: Vec<Failure>,
}

/// The failures in `go test`'s output.
pub(super) fn parse(output: &str) -> Vec<Failure> {
    let mut reader = Reader::default();
    for line in output.lines() {
        reader.line(line);
    }
    reader.finish_package(None);
    reader.failures
}

impl<'a> Reader<'a> {
    fn line(&mut self, line: &'a str) {
        if let Some(package) = self.current_build {
            if BUILD_ERROR.is_match(line) || line.starts_with('\t') {
                self.build_errors.entry(package).or_default().push(line);
                return;
            }
            self.current_build = None;
        }
        if let Some(caps) = BUILD_HEADER.captures(line) {
            self.current_build = caps.get(1).map(|found| found.as_str());
        } else if let Some(caps) = PACKAGE.captures(line) {
            let package = caps.get(1).map_or("", |found| found.as_str());
            if caps.get(2).is_some() {
                self.build_failure(package);
            }
            self.finish_package(Some(package));
        } else if let Some(caps) = FAIL.captures(line) {
            let indent = caps.get(1).map_or(0, |found| found.as_str().len());
            let name = caps.get(2).map_or("", |found| found.as_str());
            self.entries.push(Entry {
                name,
                indent,
                lines: Vec::new(),
                panic: None,
            });
            self.open = Some(self.entries.len() - 1);
        } else if RESULT.is_match(line) {
            self.open = None;
        } else if let Some(caps) = VERBOSE.captures(line) {
            self.current_verbose = caps.get(1).map(|found| found.as_str());
            self.open = None;
        } else if let Some(caps) = PANIC.captures(line) {
            self.panicking = true;
            if let Some(entry) = self.entries.last_mut() {
                entry.panic = caps.get(1).map(|found| found.as_str());
                entry.lines.push(line);
            }
        } else {
            self.log_line(line);
        }
    }

    /// A line of a test's log or of a panic's trace.
    fn log_line(&mut self, line: &'a str) {
        if self.panicking {
            if let Some(entry) = self.entries.last_mut() {
                entry.lines.push(line);
            }
            return;
        }
        if let Some(index) = self.open {
            if indent(line) > self.entries[index].indent || line.trim().is_empty() {
                self.entries[index].lines.push(line);
                return;
            }
            self.open = None;
        }
        if let Some(name) = self.current_verbose
            && line.starts_with(char::is_whitespace)
        {
            self.verbose.entry(name).or_default().push(line);
        }
    }

    /// A package whose tests did not compile: one failure named after the package.
    fn build_failure(&mut self, package: &str) {
        let lines = self.build_errors.remove(package).unwrap_or_default();
        let message = lines.first().map_or("", |line| line.trim());
        self.failures.push(Failure::new(
            "",
            package,
            "build failed",
            message,
            &lines.join("\n"),
        ));
    }

    /// The failures of the tests read since the last package line, named within `package`. A test whose
    /// subtests failed failed only through them: its subtests are the failures.
    fn finish_package(&mut self, package: Option<&str>) {
        let entries = std::mem::take(&mut self.entries);
        for entry in &entries {
            let parent = format!("{}/", entry.name);
            if entries.iter().any(|other| other.name.starts_with(&parent)) {
                continue;
            }
            let lines = if entry.lines.iter().all(|line| line.trim().is_empty()) {
                self.verbose.get(entry.name).cloned().unwrap_or_default()
            } else {
                entry.lines.clone()
            };
            let width = lines
                .iter()
                .filter(|line| !line.trim().is_empty())
                .map(|line| indent(line))
                .min();
            let trace = dedent(&lines, width.unwrap_or(0));
            let (error_type, message) = match entry.panic {
                Some(panic) => ("panic", panic.to_owned()),
                None => ("", first_log(&trace)),
            };
            let id = package.map_or_else(
                || entry.name.to_owned(),
                |package| format!("{package}.{}", entry.name),
            );
            self.failures
                .push(Failure::new("", &id, error_type, &message, &trace));
        }
        self.open = None;
        self.panicking = false;
        self.verbose.clear();
        self.current_verbose = None;
    }
}

/// The first line a test logged, without its `file.go:12: ` location.
fn first_log(trace: &str) -> String {
    let line = trace
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("");
    LOG_LOCATION.replace(line, "").into_owned()
}

#[cfg(test)]
mod tests {
    use crate::fix::failures::command::Runner;
    use crate::fix::failures::frames::frames;
    use crate::fix::failures::parse::parse;

    const PLAIN: &str = include_str!("../../../tests/fixtures/test-output/go-test.txt");
    const VERBOSE: &str = include_str!("../../../tests/fixtures/test-output/go-test-v.txt");
    const BUILD: &str =
        include_str!("../../../tests/fixtures/test-output/go-test-build-failed.txt");

    use super::super::testing::ids_types_messages as summary;

    const EXPECTED: [(&str, &str, &str); 4] = [
        (
            "example.com/shop/cart.TestTotalOfNothing",
            "",
            "Total(nil) = 0, want 1",
        ),
        (
            "example.com/shop/cart.TestTaxes/reduced_rate",
            "",
            "got 105, want 100",
        ),
        (
            "example.com/shop/cart.TestSum/[2_2]",
            "",
            "Total([2 2]) = 4, want 5",
        ),
        (
            "example.com/shop/cart.TestTaxUnknownKind",
            "panic",
            "no rate for \"luxury\"",
        ),
    ];

    #[test]
    fn go_test_gives_the_failing_tests_and_subtests_of_the_package() {
        assert_eq!(summary(&parse(Runner::Go, PLAIN)), EXPECTED);
    }

    #[test]
    fn go_test_verbose_reads_the_logs_printed_before_the_result() {
        assert_eq!(summary(&parse(Runner::Go, VERBOSE)), EXPECTED);
    }

    #[test]
    fn go_panic_trace_has_the_helper_frame_before_the_test() {
        let failures = parse(Runner::Go, PLAIN);
        let panic = &failures[3];
        let files: Vec<&str> = frames(Runner::Go, &panic.trace)
            .into_iter()
            .map(|frame| frame.file)
            .filter(|file| file.starts_with("/tmp/fx-go/"))
            .map(|file| {
                if file.ends_with("rates.go") {
                    "rates"
                } else if file.ends_with("cart.go") {
                    "cart"
                } else {
                    "test"
                }
            })
            .collect();
        assert_eq!(files, ["rates", "cart", "test"]);
        let logged = frames(Runner::Go, &failures[0].trace);
        assert_eq!(
            (logged[0].file.as_str(), logged[0].line),
            ("cart_test.go", 16)
        );
    }

    #[test]
    fn go_build_failure_fails_the_package() {
        let failures = parse(Runner::Go, BUILD);
        let build = failures
            .iter()
            .find(|failure| failure.test == "example.com/shop/rates")
            .expect("build failure");
        assert_eq!(build.error_type, "build failed");
        assert_eq!(
            build.message,
            "rates/reduced_test.go:6:5: undefined: ForKind"
        );
        assert_eq!(failures.len(), 5);
    }

    #[test]
    fn go_without_a_package_line_names_the_test_alone() {
        let failures = parse(
            Runner::Go,
            "--- FAIL: TestX (0.00s)\n    x_test.go:3: nope\n",
        );
        assert_eq!(summary(&failures), [("TestX", "", "nope")]);
    }
}
