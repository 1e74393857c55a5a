//! The shape every runner's parser fills, the dispatch between the parsers, and the text helpers they share.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::command::Runner;
use super::{go, jest, node, pytest, rust};

/// One failing test of a run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Failure {
    /// The test's file as the runner prints it, relative to the project root for most runners ("" when the
    /// runner does not print it): pytest's node id path, cargo's target root (`src/lib.rs`, `tests/api.rs`),
    /// jest's and vitest's test file, node's `location` (absolute in TAP). nextest and go print none.
    pub(crate) file: String,
    /// A stable id of the test, unique in one run and the same across runs:
    /// - pytest: the node id, `tests/test_cart.py::TestCart::test_total[param]`;
    /// - cargo and nextest: the test's path, `tests::total_of_nothing`;
    /// - go: `<import path>.<TestName>[/subtest]` when the package line was seen, else `TestName[/subtest]`;
    ///   a package that failed to build is the import path alone;
    /// - jest and vitest: vitest's own form, the file then each describe then the test, joined with ` > `
    ///   (`test/cart.test.js > cart taxes > applies the rate`); a file that failed to load is the file alone;
    /// - node --test: the parent suites then the test, joined with ` > `.
    pub(crate) test: String,
    /// `AssertionError`, `KeyError`, `panicked`, `panic`, ... ("" when unknown, as for go's `t.Error`).
    pub(crate) error_type: String,
    /// The one-line message, without the error type's prefix (clipped to [`MESSAGE_MAX`] bytes).
    pub(crate) message: String,
    /// The failure's traceback and details as printed (the last [`TRACE_MAX`] bytes: the end holds the
    /// innermost frames).
    pub(crate) trace: String,
}

/// The longest message kept: a message is a title, not a dump.
pub(super) const MESSAGE_MAX: usize = 500;
/// The longest trace kept: enough for the innermost frames and the assertion's details.
pub(super) const TRACE_MAX: usize = 4_000;

impl Failure {
    /// The error as one line: `KeyError: 'sku'`, or the message alone when the type is unknown.
    pub(crate) fn error(&self) -> String {
        if self.error_type.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.error_type, self.message)
        }
    }

    /// A failure with its message and trace clipped.
    pub(super) fn new(
        file: &str,
        test: &str,
        error_type: &str,
        message: &str,
        trace: &str,
    ) -> Self {
        Self {
            file: file.to_owned(),
            test: test.to_owned(),
            error_type: error_type.to_owned(),
            message: clip_start(message.trim(), MESSAGE_MAX),
            trace: clip_end(trace.trim_matches('\n'), TRACE_MAX),
        }
    }
}

/// A runner's parser: the cleaned output in, its failures out.
type Parser = fn(&str) -> Vec<Failure>;

/// The parsers tried in turn for an unknown runner. The most distinctive markers go first: nextest's
/// status lines before cargo's (older nextest echoes libtest's lines), vitest's ` FAIL  a > b` before jest's
/// `FAIL a` with its `●` blocks.
const PARSERS: [Parser; 7] = [
    pytest::parse,
    rust::parse_nextest,
    rust::parse_cargo,
    go::parse,
    jest::parse_vitest,
    jest::parse_jest,
    node::parse,
];

/// The failures in a runner's output (stdout and stderr concatenated). For [`Runner::Unknown`] each parser is
/// tried in turn, so `npm test` running jest still parses; when none finds anything, nothing.
pub(crate) fn parse(runner: Runner, output: &str) -> Vec<Failure> {
    let output = clean(output);
    let failures = match runner {
        Runner::Pytest => pytest::parse(&output),
        Runner::Cargo => rust::parse_cargo(&output),
        Runner::Nextest => rust::parse_nextest(&output),
        Runner::NodeTest => node::parse(&output),
        Runner::Jest => jest::parse_jest(&output),
        Runner::Vitest => jest::parse_vitest(&output),
        Runner::Go => go::parse(&output),
        Runner::Unknown => PARSERS
            .iter()
            .map(|parser| parser(&output))
            .find(|found| !found.is_empty())
            .unwrap_or_default(),
    };
    dedupe(failures)
}

/// The failures with one per test id, the first kept: runners repeat failures in closing summaries, and a
/// pytest test that fails and then errors in teardown is reported twice.
pub(super) fn dedupe(failures: Vec<Failure>) -> Vec<Failure> {
    let mut seen = HashSet::new();
    failures
        .into_iter()
        .filter(|failure| seen.insert(failure.test.clone()))
        .collect()
}

static ANSI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
        .expect("valid regex")
});

/// The output without colours (vitest colours even into a pipe) and with `\r` progress lines reduced to what
/// a terminal would have left.
fn clean(output: &str) -> String {
    let plain = ANSI.replace_all(output, "");
    plain
        .split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            line.rsplit('\r').next().unwrap_or(line)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// At most `max` bytes of the start of `text`, with an ellipsis when cut.
pub(super) fn clip_start(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// At most `max` bytes of the end of `text`, with an ellipsis when cut.
pub(super) fn clip_end(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max + '…'.len_utf8();
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

/// The non-blank lines trimmed and joined with spaces: a multi-line message on one line.
pub(super) fn collapse<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    lines
        .into_iter()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The width of a line's leading whitespace.
pub(super) fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The lines with `width` leading bytes of whitespace removed where present.
pub(super) fn dedent(lines: &[&str], width: usize) -> String {
    lines
        .iter()
        .map(|line| {
            if indent(line) >= width {
                &line[width..]
            } else {
                line.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An error's name, an optional code in brackets, then its message: Python's `KeyError: 'x'` and
/// `requests.exceptions.HTTPError: 404`, JavaScript's `AssertionError [ERR_ASSERTION]: ...`. The name's last
/// part must be capitalised so that `expected: 1` or `thrown: "timeout"` are not taken for errors.
static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^((?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*)(?: \[[^\]]*\])?:(?:\s+(.*))?$")
        .expect("valid regex")
});

/// A line's error name and message when it reads like `Name: message`.
pub(super) fn split_error(line: &str) -> Option<(&str, &str)> {
    let caps = ERROR_LINE.captures(line.trim())?;
    let name = caps.get(1)?.as_str();
    Some((name, caps.get(2).map_or("", |message| message.as_str())))
}

/// The error type and message of a failure whose message is `line`: the type split off when the line starts
/// with one, else `fallback_type` and the whole line.
pub(super) fn error_and_message(line: &str, fallback_type: &str) -> (String, String) {
    match split_error(line) {
        Some((name, message)) => (name.to_owned(), message.to_owned()),
        None => (fallback_type.to_owned(), line.trim().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_start_cuts_on_a_char_boundary_and_marks_the_cut() {
        let text = "é".repeat(400);
        let clipped = clip_start(&text, MESSAGE_MAX);
        assert!(clipped.len() <= MESSAGE_MAX);
        assert!(clipped.ends_with('…'));
        assert_eq!(clip_start("short", MESSAGE_MAX), "short");
    }

    #[test]
    fn clip_end_keeps_the_end_where_the_innermost_frames_are() {
        let text = format!("{}innermost", "x".repeat(5_000));
        let clipped = clip_end(&text, TRACE_MAX);
        assert!(clipped.len() <= TRACE_MAX);
        assert!(clipped.starts_with('…'));
        assert!(clipped.ends_with("innermost"));
    }

    #[test]
    fn clean_strips_colours_and_carriage_returns() {
        assert_eq!(
            clean("\x1b[31mFAIL\x1b[39m a\r\nprogress 1\rprogress 2\n"),
            "FAIL a\nprogress 2\n"
        );
    }

    #[test]
    fn split_error_reads_python_and_javascript_error_lines() {
        assert_eq!(
            split_error("KeyError: 'luxury'"),
            Some(("KeyError", "'luxury'"))
        );
        assert_eq!(
            split_error("AssertionError [ERR_ASSERTION]: Expected"),
            Some(("AssertionError", "Expected"))
        );
        assert_eq!(
            split_error("requests.exceptions.HTTPError: 404"),
            Some(("requests.exceptions.HTTPError", "404"))
        );
        assert_eq!(split_error("assert 0 == 1"), None);
        assert_eq!(split_error("thrown: \"Exceeded timeout\""), None);
        assert_eq!(split_error("expect(received).toBe(expected)"), None);
    }

    #[test]
    fn empty_output_has_no_failures_for_any_runner() {
        for runner in [
            Runner::Pytest,
            Runner::Cargo,
            Runner::Nextest,
            Runner::NodeTest,
            Runner::Jest,
            Runner::Vitest,
            Runner::Go,
            Runner::Unknown,
        ] {
            assert_eq!(parse(runner, ""), Vec::new(), "{runner:?}");
        }
    }

    #[test]
    fn a_test_reported_twice_is_one_failure_the_first() {
        // pytest reports a test that fails and then errors in teardown on two summary lines.
        let output = "FAILED tests/test_a.py::test_x - assert 0 == 1\nERROR tests/test_a.py::test_x - RuntimeError: teardown\n";
        let failures = parse(Runner::Pytest, output);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].message, "assert 0 == 1");
    }

    #[test]
    fn unknown_runner_tries_each_parser() {
        let jest = include_str!("../../../tests/fixtures/test-output/npm-test-jest.txt");
        let ids: Vec<String> = parse(Runner::Unknown, jest)
            .into_iter()
            .map(|failure| failure.test)
            .collect();
        assert!(
            ids.contains(&"test/cart.test.js > tax for unknown kind".to_owned()),
            "{ids:?}"
        );
        let cargo = include_str!("../../../tests/fixtures/test-output/cargo-test.txt");
        assert_eq!(parse(Runner::Unknown, cargo).len(), 4);
        let pytest = include_str!("../../../tests/fixtures/test-output/pytest-q.txt");
        assert_eq!(parse(Runner::Unknown, pytest).len(), 5);
        assert_eq!(parse(Runner::Unknown, "all 12 tests passed\n"), Vec::new());
    }
}
