//! jest's and vitest's default reporters. jest prints `FAIL <file>` then a `  ● describe › test` block per
//! failure; vitest prints ` FAIL  <file> > describe > test` blocks between `⎯⎯⎯` rules. Both ids take vitest's
//! form, the file then the names joined with ` > `, so that a test keeps its id when a project moves from one
//! to the other and two files' tests of the same name stay apart.

use std::sync::LazyLock;

use regex::Regex;

use super::parse::{Failure, collapse, dedent, error_and_message, split_error};

/// jest's line before a test file's failures: `FAIL test/cart.test.js` (a project's name may come between,
/// the duration after).
static JEST_FILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:FAIL|PASS)\s+(.*?\S)(?:\s+\([\d.]+ m?s\))?\s*$").expect("valid regex")
});
/// jest's header of one failure, its names joined with ` › `.
static JEST_BULLET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^  ● (.+)$").expect("valid regex"));
/// A line of a code frame (`  > 8 |   expect(x)`) or of a stack (`at f (file.js:1:2)`): the message ends there.
static JEST_MESSAGE_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:>?\s*\d+ \||\|\s|at )").expect("valid regex"));
/// jest's title for a file that failed to load.
const JEST_SUITE_FAILED: &str = "Test suite failed to run";
/// vitest's header of one failure: ` FAIL  test/cart.test.js > describe > test`, or a file that failed to
/// load: ` FAIL  test/broken.test.js [ test/broken.test.js ]`. A workspace project's `|name| ` may lead.
static VITEST_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ FAIL  (?:\|[^|]+\| )?(.+?)\s*$").expect("valid regex"));
static VITEST_SUITE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\S+) \[ .+ \]$").expect("valid regex"));

/// The failures in jest's output.
pub(super) fn parse_jest(output: &str) -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut file = "";
    let mut block: Option<(&str, Vec<&str>)> = None;
    for line in output.lines() {
        let bullet = JEST_BULLET.captures(line).and_then(|caps| caps.get(1));
        let ends_block =
            bullet.is_some() || (!line.is_empty() && !line.starts_with(char::is_whitespace));
        if ends_block && let Some((title, body)) = block.take() {
            failures.push(jest_failure(file, title, &body));
        }
        if let Some(title) = bullet {
            block = Some((title.as_str(), Vec::new()));
        } else if let Some((_, body)) = block.as_mut() {
            body.push(line);
        } else if let Some(caps) = JEST_FILE.captures(line) {
            let named = caps.get(1).map_or("", |found| found.as_str());
            file = named.rsplit(char::is_whitespace).next().unwrap_or(named);
        }
    }
    if let Some((title, body)) = block {
        failures.push(jest_failure(file, title, &body));
    }
    failures
}

/// The failure of one `●` block of `file`.
fn jest_failure(file: &str, title: &str, body: &[&str]) -> Failure {
    let test = if title == JEST_SUITE_FAILED || file.is_empty() {
        if file.is_empty() {
            title.to_owned()
        } else {
            file.to_owned()
        }
    } else {
        format!("{file} > {}", title.replace(" › ", " > "))
    };
    let trace = dedent(body, 4);
    let message_lines: Vec<&str> = trace
        .lines()
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| !JEST_MESSAGE_END.is_match(line))
        .collect();
    let first = message_lines.first().copied().unwrap_or("");
    let (error_type, message) = match split_error(first) {
        Some((name, first_message)) => (
            name.to_owned(),
            collapse(std::iter::once(first_message).chain(message_lines[1..].iter().copied())),
        ),
        // A failed matcher: jest throws a `JestAssertionError` but prints only its message.
        None if first.starts_with("expect(") => {
            ("JestAssertionError".to_owned(), collapse(message_lines))
        }
        None => (String::new(), collapse(message_lines)),
    };
    Failure::new(file, &test, &error_type, &message, &trace)
}

/// The failures in vitest's output.
pub(super) fn parse_vitest(output: &str) -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut block: Option<(&str, Vec<&str>)> = None;
    for line in output.lines() {
        let header = VITEST_HEADER.captures(line).and_then(|caps| caps.get(1));
        let ends_block =
            header.is_some() || line.starts_with('⎯') || line.starts_with(" Test Files ");
        if ends_block && let Some((title, body)) = block.take() {
            failures.push(vitest_failure(title, &body));
        }
        if let Some(title) = header {
            block = Some((title.as_str(), Vec::new()));
        } else if let Some((_, body)) = block.as_mut() {
            body.push(line);
        }
    }
    if let Some((title, body)) = block {
        failures.push(vitest_failure(title, &body));
    }
    failures
}

/// The failure of one vitest block titled `title`.
fn vitest_failure(title: &str, body: &[&str]) -> Failure {
    let (file, test) = match VITEST_SUITE.captures(title).and_then(|caps| caps.get(1)) {
        Some(file) => (file.as_str(), file.as_str()),
        None => (title.split(" > ").next().unwrap_or(title), title),
    };
    let trace = body.join("\n");
    let message_lines: Vec<&str> = trace
        .lines()
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| !line.trim().is_empty())
        .collect();
    let first = message_lines.first().copied().unwrap_or("");
    let (error_type, first_message) = error_and_message(first, "");
    let rest = message_lines
        .iter()
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('❯'))
        .copied();
    let message = collapse(std::iter::once(first_message.as_str()).chain(rest));
    Failure::new(file, test, &error_type, &message, &trace)
}

#[cfg(test)]
mod tests {
    use crate::fix::failures::command::Runner;
    use crate::fix::failures::frames::frames;
    use crate::fix::failures::parse::{Failure, parse};

    const JEST: &str = include_str!("../../../tests/fixtures/test-output/jest.txt");
    const VITEST: &str = include_str!("../../../tests/fixtures/test-output/vitest.txt");
    const VITEST_COLOR: &str = include_str!("../../../tests/fixtures/test-output/vitest-color.txt");

    fn summary(failures: &[Failure]) -> Vec<(&str, &str, &str)> {
        failures
            .iter()
            .map(|failure| {
                (
                    failure.file.as_str(),
                    failure.test.as_str(),
                    failure.error_type.as_str(),
                )
            })
            .collect()
    }

    use super::super::testing::{assert_messages, by_id};

    #[test]
    fn jest_gives_each_failure_with_its_describe_path() {
        let failures = parse(Runner::Jest, JEST);
        assert_eq!(
            summary(&failures),
            [
                (
                    "test/cart.test.js",
                    "test/cart.test.js > total of nothing",
                    "JestAssertionError"
                ),
                (
                    "test/cart.test.js",
                    "test/cart.test.js > tax for unknown kind",
                    "RangeError"
                ),
                (
                    "test/cart.test.js",
                    "test/cart.test.js > cart taxes > reduced > applies the rate, doesn't round (5%)",
                    "JestAssertionError"
                ),
                (
                    "test/cart.test.js",
                    "test/cart.test.js > sum of [2,2] is 5",
                    "JestAssertionError"
                ),
                ("test/broken.test.js", "test/broken.test.js", ""),
            ]
        );
        assert_messages(
            &failures,
            &[
                (
                    "test/cart.test.js > total of nothing",
                    "expect(received).toBe(expected) // Object.is equality Expected: 1 Received: 0",
                ),
                (
                    "test/cart.test.js > tax for unknown kind",
                    "no rate for luxury",
                ),
                (
                    "test/broken.test.js",
                    "Cannot find module '../src/discounts' from 'test/broken.test.js'",
                ),
            ],
        );
    }

    #[test]
    fn jest_helper_error_frames_start_in_the_helper() {
        let failures = parse(Runner::Jest, JEST);
        let failure = by_id(&failures, "test/cart.test.js > tax for unknown kind");
        let files: Vec<String> = frames(Runner::Jest, &failure.trace)
            .into_iter()
            .map(|frame| frame.file)
            .collect();
        assert_eq!(files, ["src/rates.js", "src/cart.js", "test/cart.test.js"]);
    }

    const VITEST_EXPECTED: [(&str, &str, &str); 5] = [
        ("test/broken.test.js", "test/broken.test.js", "Error"),
        (
            "test/cart.test.js",
            "test/cart.test.js > total of nothing",
            "AssertionError",
        ),
        (
            "test/cart.test.js",
            "test/cart.test.js > tax for unknown kind",
            "RangeError",
        ),
        (
            "test/cart.test.js",
            "test/cart.test.js > cart taxes > reduced > applies the rate, doesn't round (5%)",
            "AssertionError",
        ),
        (
            "test/cart.test.js",
            "test/cart.test.js > sum of [2,2] is 5",
            "AssertionError",
        ),
    ];

    #[test]
    fn vitest_gives_each_failure_and_the_file_that_failed_to_load() {
        let failures = parse(Runner::Vitest, VITEST);
        assert_eq!(summary(&failures), VITEST_EXPECTED);
        assert_eq!(
            by_id(&failures, "test/cart.test.js > total of nothing").message,
            "expected +0 to be 1 // Object.is equality"
        );
        let tax = by_id(&failures, "test/cart.test.js > tax for unknown kind");
        assert_eq!(tax.message, "no rate for luxury");
        let files: Vec<String> = frames(Runner::Vitest, &tax.trace)
            .into_iter()
            .map(|frame| frame.file)
            .collect();
        assert_eq!(files, ["src/rates.js", "src/cart.js", "test/cart.test.js"]);
    }

    #[test]
    fn vitest_colours_do_not_change_the_failures() {
        assert_eq!(
            summary(&parse(Runner::Vitest, VITEST_COLOR)),
            VITEST_EXPECTED
        );
    }
}
