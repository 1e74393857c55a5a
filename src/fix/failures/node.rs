//! `node --test`'s reporters: TAP (node 20's default when the output is not a terminal), where each
//! `not ok` carries a YAML block with the error's name, message, location and stack, and spec (`▶ suite`,
//! `✖ test (1.2ms)` with the error indented under it), the default on terminals and in newer nodes.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::parse::{Failure, collapse, dedent, error_and_message, indent};

/// A TAP subtest's announcement, which names the suites above the results nested in it.
static SUBTEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*)# Subtest: (.*)$").expect("valid regex"));
/// A failed TAP result; a `# TODO` or `# SKIP` directive makes it no failure.
static NOT_OK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\s*)not ok \d+ - (.*?)(\s+# (?i:todo|skip)\b.*)?$").expect("valid regex")
});
/// A key of a YAML block: `error: |-`, `name: 'AssertionError'`.
static YAML_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*)(\w+):(?: (.*))?$").expect("valid regex"));
/// A spec line: a suite (`▶`), a passed (`✔`), failed (`✖`) or skipped (`﹣`) test.
static SPEC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\s*)([▶✔✖﹣]) (.+)$").expect("valid regex"));
/// The duration and directive after a spec test's name.
static SPEC_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s+\([\d.]+m?s\)(?:\s+#.*)?$").expect("valid regex"));
/// The spec reporter's closing list of failures, which repeats them with their location.
const SPEC_FAILING: &str = "✖ failing tests:";
/// A TAP failure that only says its subtests failed: the subtests are the failures.
const SUBTESTS_FAILED: &str = "subtestsFailed";

/// The failures in `node --test`'s output, TAP or spec.
pub(super) fn parse(output: &str) -> Vec<Failure> {
    let tap = parse_tap(output);
    if tap.is_empty() {
        parse_spec(output)
    } else {
        tap
    }
}

/// The failures in TAP output.
fn parse_tap(output: &str) -> Vec<Failure> {
    let lines: Vec<&str> = output.lines().collect();
    let mut suites: Vec<(usize, String)> = Vec::new();
    let mut failures = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if let Some(caps) = SUBTEST.captures(line) {
            let depth = caps.get(1).map_or(0, |found| found.as_str().len());
            suites.retain(|(suite_depth, _)| *suite_depth < depth);
            suites.push((
                depth,
                unescape(caps.get(2).map_or("", |found| found.as_str())),
            ));
            continue;
        }
        let Some(caps) = NOT_OK.captures(line) else {
            continue;
        };
        if caps.get(3).is_some() {
            continue;
        }
        let depth = caps.get(1).map_or(0, |found| found.as_str().len());
        let name = unescape(caps.get(2).map_or("", |found| found.as_str()));
        let block = yaml_block(&lines[index + 1..]);
        let fields = yaml_fields(&block);
        if fields.get("failureType").map(String::as_str) == Some(SUBTESTS_FAILED) {
            continue;
        }
        let mut names: Vec<&str> = suites
            .iter()
            .filter(|(suite_depth, _)| *suite_depth < depth)
            .map(|(_, suite)| suite.as_str())
            .collect();
        names.push(&name);
        let file = fields
            .get("location")
            .map_or("", |location| strip_position(location));
        let error_type = fields.get("name").map_or("", String::as_str);
        let message = fields
            .get("error")
            .map_or_else(String::new, |error| collapse(error.lines()));
        failures.push(Failure::new(
            file,
            &names.join(" > "),
            error_type,
            &message,
            &block,
        ));
    }
    failures
}

/// TAP's escapes in a test name: `\#` and `\\`.
fn unescape(name: &str) -> String {
    name.replace("\\#", "#").replace("\\\\", "\\")
}

/// The dedented YAML block (`---` to `...`) at the start of `lines`, empty when there is none.
fn yaml_block(lines: &[&str]) -> String {
    let Some(first) = lines.first().filter(|line| line.trim() == "---") else {
        return String::new();
    };
    let end = lines
        .iter()
        .position(|line| line.trim() == "...")
        .unwrap_or(lines.len());
    dedent(&lines[1..end], indent(first))
}

/// The top-level keys of a YAML block and their values: quoted scalars unquoted, `|-` blocks dedented.
/// node writes a small, regular subset of YAML; this reads just that.
fn yaml_fields(block: &str) -> HashMap<String, String> {
    let lines: Vec<&str> = block.lines().collect();
    let mut fields = HashMap::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        index += 1;
        let Some(caps) = YAML_KEY
            .captures(line)
            .filter(|caps| caps.get(1).is_some_and(|found| found.is_empty()))
        else {
            continue;
        };
        let key = caps.get(2).map_or("", |found| found.as_str());
        let value = caps.get(3).map_or("", |found| found.as_str()).trim();
        let value = if value.starts_with('|') || value.starts_with('>') {
            let start = index;
            while index < lines.len() && (lines[index].is_empty() || lines[index].starts_with(' '))
            {
                index += 1;
            }
            dedent(&lines[start..index], 2)
        } else {
            unquote(value)
        };
        fields.insert(key.to_owned(), value);
    }
    fields
}

/// A YAML scalar without its quotes: `'it''s'` is `it's`, `"a \"b\""` is `a "b"`.
fn unquote(value: &str) -> String {
    if let Some(inner) = value
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
    {
        return inner.replace("''", "'");
    }
    if let Some(inner) = value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        return inner
            .replace("\\\"", "\"")
            .replace("\\n", "\n")
            .replace("\\\\", "\\");
    }
    value.to_owned()
}

/// A location without its `:line:column`.
fn strip_position(location: &str) -> &str {
    let mut path = location;
    for _ in 0..2 {
        if let Some((head, tail)) = path.rsplit_once(':')
            && tail.chars().all(|c| c.is_ascii_digit())
        {
            path = head;
        }
    }
    path
}

/// The failures in spec output: the tree up to the closing list, whose `test at <file>` lines give the files.
fn parse_spec(output: &str) -> Vec<Failure> {
    let (tree, failing) = output.split_once(SPEC_FAILING).unwrap_or((output, ""));
    let files = spec_files(failing);
    let lines: Vec<&str> = tree.lines().collect();
    let mut suites: Vec<(usize, String)> = Vec::new();
    let mut failures = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(caps) = SPEC.captures(line) else {
            continue;
        };
        let depth = caps.get(1).map_or(0, |found| found.as_str().len());
        let marker = caps.get(2).map_or("", |found| found.as_str());
        let name = SPEC_SUFFIX
            .replace(caps.get(3).map_or("", |found| found.as_str()), "")
            .into_owned();
        suites.retain(|(suite_depth, _)| *suite_depth <= depth);
        if suites
            .last()
            .is_some_and(|(suite_depth, suite)| *suite_depth == depth && *suite == name)
        {
            // A suite's closing line: its failure is its tests'.
            suites.pop();
            continue;
        }
        suites.retain(|(suite_depth, _)| *suite_depth < depth);
        match marker {
            "▶" => suites.push((depth, name)),
            "✖" => {
                let mut names: Vec<&str> = suites.iter().map(|(_, suite)| suite.as_str()).collect();
                names.push(&name);
                let body = spec_body(&lines[index + 1..], depth);
                let file = files.get(name.as_str()).copied().unwrap_or("");
                failures.push(spec_failure(file, &names.join(" > "), &body));
            }
            _ => {}
        }
    }
    failures
}

/// The lines indented under a failed test, dedented.
fn spec_body(lines: &[&str], depth: usize) -> String {
    let end = lines
        .iter()
        .position(|line| !line.trim().is_empty() && indent(line) <= depth)
        .unwrap_or(lines.len());
    dedent(&lines[..end], depth + 2)
}

/// The failure of a spec test: its error's first line gives the type, the lines up to the stack the message.
fn spec_failure(file: &str, test: &str, body: &str) -> Failure {
    let mut message_lines = body
        .lines()
        .take_while(|line| !line.trim_start().starts_with("at "));
    let (error_type, first) = error_and_message(message_lines.next().unwrap_or(""), "");
    let message = collapse(std::iter::once(first.as_str()).chain(message_lines));
    Failure::new(file, test, &error_type, &message, body)
}

/// The file of each failed test in the spec reporter's closing list: `test at test/a.test.js:9:1` then
/// `✖ name (1ms)`.
fn spec_files(failing: &str) -> HashMap<String, &str> {
    let mut files = HashMap::new();
    let mut file = None;
    for line in failing.lines() {
        if let Some(location) = line.strip_prefix("test at ") {
            file = Some(strip_position(location.trim()));
        } else if let (Some(name), Some(found)) = (line.strip_prefix("✖ "), file.take()) {
            files
                .entry(SPEC_SUFFIX.replace(name, "").into_owned())
                .or_insert(found);
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use crate::fix::failures::command::Runner;
    use crate::fix::failures::frames::frames;
    use crate::fix::failures::parse::parse as parse_output;

    const TAP: &str = include_str!("../../../tests/fixtures/test-output/node-test-tap.txt");
    const SPEC: &str = include_str!("../../../tests/fixtures/test-output/node-test-spec.txt");

    use super::super::testing::ids_types_messages as summary;

    const EXPECTED: [(&str, &str, &str); 4] = [
        (
            "total of nothing",
            "AssertionError",
            "Expected values to be strictly equal: 0 !== 1",
        ),
        ("tax for unknown kind", "RangeError", "no rate for luxury"),
        (
            "cart taxes > applies the reduced rate, doesn't round",
            "AssertionError",
            "Expected values to be strictly equal: 10.5 !== 10",
        ),
        (
            "sum of [2,2] is 5",
            "AssertionError",
            "Expected values to be strictly equal: 4 !== 5",
        ),
    ];

    #[test]
    fn node_tap_gives_the_failed_tests_not_their_suites() {
        let failures = parse_output(Runner::NodeTest, TAP);
        assert_eq!(summary(&failures), EXPECTED);
        assert!(
            failures
                .iter()
                .all(|failure| failure.file == "/tmp/fx-node/test/cart.test.js")
        );
    }

    #[test]
    fn node_spec_gives_the_same_failures_as_tap() {
        let failures = parse_output(Runner::NodeTest, SPEC);
        assert_eq!(summary(&failures), EXPECTED);
        assert!(
            failures
                .iter()
                .all(|failure| failure.file == "test/cart.test.js"),
            "{failures:?}"
        );
    }

    #[test]
    fn node_helper_error_frames_start_in_the_helper() {
        for output in [TAP, SPEC] {
            let failures = parse_output(Runner::NodeTest, output);
            let frames = frames(Runner::NodeTest, &failures[1].trace);
            let files: Vec<&str> = frames.iter().map(|frame| frame.file.as_str()).collect();
            assert_eq!(
                files,
                [
                    "/tmp/fx-node/src/rates.js",
                    "/tmp/fx-node/src/cart.js",
                    "/tmp/fx-node/test/cart.test.js"
                ]
            );
        }
    }

    #[test]
    fn tap_todo_and_skip_are_not_failures_and_names_are_unescaped() {
        let output = "TAP version 13\nnot ok 1 - later # TODO\nnot ok 2 - issue \\#12\n";
        let failures = parse_output(Runner::NodeTest, output);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].test, "issue #12");
    }
}
