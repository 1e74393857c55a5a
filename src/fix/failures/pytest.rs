//! pytest's terminal output: the `FAILED`/`ERROR` lines of its short test summary name the failures (pytest
//! prints it by default since 6.0, even with `--tb=no`), and the sections of its `FAILURES` and `ERRORS` blocks
//! hold their tracebacks. Also the ids pytest's `JUnit` report implies.

use std::sync::LazyLock;

use regex::Regex;

use super::command::Runner;
use super::frames::frames;
use super::parse::{Failure, error_and_message};

/// A block of per-test sections: `==== FAILURES ====` or `==== ERRORS ====`.
static BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^=+ (?:FAILURES|ERRORS) =+$").expect("valid regex"));
/// Any `====` rule, which ends a block.
static RULE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^=+( .* =+)?$").expect("valid regex"));
/// A section's header, `____ TestCart.test_total ____` (one underscore a side when the title is long).
static HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^_+ (.+?) _+$").expect("valid regex"));
/// The rule that opens the short test summary.
static SUMMARY_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^=+ short test summary info =+$").expect("valid regex"));
/// A summary line: `FAILED tests/a.py::test_x[a - b] - assert 0 == 1`, `ERROR tests/test_broken.py`. The
/// id ends at the first ` - ` outside its parameters' brackets.
static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:FAILED|ERROR) ([^\[]+?(?:\[.*?\])?)(?: - (.*))?$").expect("valid regex")
});
/// The closing location of a long traceback, with the exception's type: `tests/a.py:11: AssertionError`.
static LOCATION_TYPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\S+:\d+: ((?:[A-Za-z_]\w*\.)*[A-Z]\w*)$").expect("valid regex"));
/// The prefixes pytest gives the titles of error sections.
const ERROR_TITLES: [&str; 3] = [
    "ERROR at setup of ",
    "ERROR at teardown of ",
    "ERROR collecting ",
];

/// One section of a `FAILURES`/`ERRORS` block.
struct Section<'a> {
    title: &'a str,
    body: Vec<&'a str>,
}

/// The failures in pytest's output.
pub(super) fn parse(output: &str) -> Vec<Failure> {
    let mut sections = sections(output);
    let summary = summary(output);
    if summary.is_empty() {
        return sections
            .iter()
            .map(|section| from_section(section))
            .collect();
    }
    summary
        .into_iter()
        .map(|(id, summary_message)| {
            let section = take_section(&mut sections, id);
            from_summary(id, summary_message, section.as_ref())
        })
        .collect()
}

/// The sections of every `FAILURES` and `ERRORS` block.
fn sections(output: &str) -> Vec<Section<'_>> {
    let mut sections = Vec::new();
    let mut in_block = false;
    for line in output.lines() {
        if RULE.is_match(line) {
            in_block = BLOCK.is_match(line);
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(title) = header(line) {
            sections.push(Section {
                title,
                body: Vec::new(),
            });
        } else if let Some(section) = sections.last_mut() {
            section.body.push(line);
        }
    }
    sections
}

/// A section header's title; the `_ _ _ _` separators between a traceback's frames are not headers.
fn header(line: &str) -> Option<&str> {
    let title = HEADER.captures(line)?.get(1)?.as_str();
    (!title.chars().all(|c| c == '_' || c == ' ')).then_some(title)
}

/// The ids and messages of the short test summary. Without its rule (a truncated output) any line that reads
/// like a summary line of a node id counts.
fn summary(output: &str) -> Vec<(&str, &str)> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.iter().position(|line| SUMMARY_RULE.is_match(line));
    let candidates = start.map_or(&lines[..], |start| &lines[start + 1..]);
    candidates
        .iter()
        .filter_map(|line| SUMMARY.captures(line))
        .filter_map(|caps| {
            let id = caps.get(1)?.as_str();
            let looks_like_node_id = id.contains("::") || is_python(id) || start.is_some();
            looks_like_node_id.then(|| (id, caps.get(2).map_or("", |message| message.as_str())))
        })
        .collect()
}

/// Whether a path names a Python file.
fn is_python(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("py"))
}

/// The title a section for `id` has, less the error prefixes: the node id past its file, `.`-joined.
fn title_key(id: &str) -> String {
    match id.split_once("::") {
        Some((_, domain)) => domain.replace("::", "."),
        None => id.to_owned(),
    }
}

/// The section of `id`, removed so that two tests of the same name in different files each get their own:
/// the first with the right title whose body mentions the test's file, else the first with the right title.
fn take_section<'a>(sections: &mut Vec<Section<'a>>, id: &str) -> Option<Section<'a>> {
    let key = title_key(id);
    let file = id.split("::").next().unwrap_or(id);
    let matches = |section: &Section| section_key(section.title) == key;
    let index = sections
        .iter()
        .position(|section| matches(section) && section.body.iter().any(|line| line.contains(file)))
        .or_else(|| sections.iter().position(matches))?;
    Some(sections.remove(index))
}

/// A section's title without the prefix of setup, teardown and collection errors.
fn section_key(title: &str) -> &str {
    ERROR_TITLES
        .iter()
        .find_map(|prefix| title.strip_prefix(prefix))
        .unwrap_or(title)
}

/// The failure of a summary line, with the details of its section when there is one.
fn from_summary(id: &str, summary_message: &str, section: Option<&Section>) -> Failure {
    let file = id.split("::").next().unwrap_or(id);
    let trace = section
        .map(|section| section.body.join("\n"))
        .unwrap_or_default();
    let (mut error_type, mut message) = details(&trace);
    if message.is_empty() {
        // The summary's message is cut to the terminal's width: the section's is whole, so it comes first.
        (error_type, message) = error_and_message(summary_message, &error_type);
    }
    if error_type.is_empty() && message.starts_with("assert ") {
        "AssertionError".clone_into(&mut error_type);
    }
    Failure::new(file, id, &error_type, &message, &trace)
}

/// The failure of a section when the summary is missing (`-rN`, pytest before 6): the id is rebuilt from the
/// title and the test file among the traceback's frames.
fn from_section(section: &Section) -> Failure {
    let key = section_key(section.title);
    let id = if section.title.starts_with("ERROR collecting ") {
        key.to_owned()
    } else {
        let (function, params) = key.split_at(key.find('[').unwrap_or(key.len()));
        let test = format!("{}{params}", function.replace('.', "::"));
        match test_file(&section.body.join("\n")) {
            Some(file) => format!("{file}::{test}"),
            None => test,
        }
    };
    from_summary(&id, "", Some(section))
}

/// The test's file in a traceback: the outermost frame in a file named like a test module, else the outermost.
fn test_file(trace: &str) -> Option<String> {
    let frames = frames(Runner::Pytest, trace);
    let is_test = |file: &str| {
        let name = file.rsplit('/').next().unwrap_or(file);
        name.starts_with("test_") || name.ends_with("_test.py")
    };
    frames
        .iter()
        .rev()
        .find(|frame| is_test(&frame.file))
        .or(frames.last())
        .map(|frame| frame.file.clone())
}

/// The error type and message of a section's traceback: the first line of the last block of `E` lines
/// (pytest's long and short formats; the last, as a chained exception prints the one that failed the test
/// last), else the exception line that closes a native traceback; the type from the closing
/// `file:line: Type` location when the `E` line has none (a rewritten `assert`).
pub(super) fn details(trace: &str) -> (String, String) {
    let location_type = trace
        .lines()
        .rev()
        .find_map(|line| LOCATION_TYPE.captures(line))
        .and_then(|caps| caps.get(1));
    let line = last_e_block(trace)
        .or_else(|| native_exception(trace))
        .unwrap_or("");
    let (mut error_type, mut message) = error_and_message(line, "");
    if let Some(location_type) = location_type.map(|found| found.as_str())
        && error_type.is_empty()
    {
        location_type.clone_into(&mut error_type);
        line.trim().clone_into(&mut message);
    }
    (error_type, message)
}

/// The first line of the last block of `E   ` lines, without its marker.
fn last_e_block(trace: &str) -> Option<&str> {
    let mut first = None;
    let mut previous_was_e = false;
    for line in trace.lines() {
        let e_line = line.strip_prefix("E ");
        if let Some(text) = e_line
            && !previous_was_e
        {
            first = Some(text.trim());
        }
        previous_was_e = e_line.is_some() || line == "E";
    }
    first
}

/// The exception line of a native (`--tb=native`) traceback: the last unindented line after its frames.
fn native_exception(trace: &str) -> Option<&str> {
    let lines: Vec<&str> = trace.lines().collect();
    let last_frame = lines
        .iter()
        .rposition(|line| line.trim_start().starts_with("File \""))?;
    lines[last_frame + 1..]
        .iter()
        .find(|line| !line.is_empty() && !line.starts_with(char::is_whitespace))
        .copied()
}

/// The file and node id of a test in pytest's `JUnit` report. pytest mangles the node id into a dotted
/// `classname` (`tests.test_cart.TestCart`) and a `name`; the `file` attribute (`junit_family=xunit1`) says
/// which part is the module, else the capitalised tail is taken for classes. An empty classname is a
/// collection error whose name is the module.
pub(super) fn junit_id(classname: &str, name: &str, file: Option<&str>) -> (String, String) {
    if classname.is_empty() {
        let file = file.map_or_else(|| format!("{}.py", name.replace('.', "/")), str::to_owned);
        return (file.clone(), file);
    }
    let parts: Vec<&str> = classname.split('.').collect();
    let module_len = file.map_or_else(
        || {
            let classes = parts
                .iter()
                .skip(1)
                .rev()
                .take_while(|part| part.starts_with(char::is_uppercase))
                .count();
            parts.len() - classes
        },
        |file| {
            file.trim_end_matches(".py")
                .split('/')
                .count()
                .min(parts.len())
        },
    );
    let file = file.map_or_else(
        || format!("{}.py", parts[..module_len].join("/")),
        str::to_owned,
    );
    let mut id = file.clone();
    for class in &parts[module_len..] {
        id.push_str("::");
        id.push_str(class);
    }
    id.push_str("::");
    id.push_str(name);
    (file, id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::failures::parse::parse as parse_output;

    const Q: &str = include_str!("../../../tests/fixtures/test-output/pytest-q.txt");
    const NATIVE: &str = include_str!("../../../tests/fixtures/test-output/pytest-native.txt");
    const COLLECT: &str =
        include_str!("../../../tests/fixtures/test-output/pytest-collect-error.txt");
    const TB_NO: &str = include_str!("../../../tests/fixtures/test-output/pytest-tb-no.txt");

    use super::super::testing::{assert_messages, by_id};

    #[test]
    fn pytest_q_gives_every_failure_and_error_with_its_type() {
        let failures = parse_output(Runner::Pytest, Q);
        let ids: Vec<(&str, &str)> = failures
            .iter()
            .map(|failure| (failure.test.as_str(), failure.error_type.as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                ("tests/test_cart.py::test_total_empty", "AssertionError"),
                ("tests/test_cart.py::test_tax_unknown_kind", "KeyError"),
                (
                    "tests/test_cart.py::TestCart::test_reduced",
                    "AssertionError"
                ),
                ("tests/test_cart.py::test_sum[prices1-5]", "AssertionError"),
                ("tests/test_cart.py::test_needs_db", "RuntimeError"),
            ]
        );
        assert!(
            failures
                .iter()
                .all(|failure| failure.file == "tests/test_cart.py")
        );
    }

    #[test]
    fn pytest_q_messages_come_whole_from_the_traceback() {
        let failures = parse_output(Runner::Pytest, Q);
        // The summary cuts this one to "AssertionError: assert 10..."; the section has it whole.
        assert_messages(
            &failures,
            &[
                (
                    "tests/test_cart.py::TestCart::test_reduced",
                    "assert 10.5 == 10",
                ),
                ("tests/test_cart.py::test_total_empty", "assert 0 == 1"),
                ("tests/test_cart.py::test_tax_unknown_kind", "'luxury'"),
                ("tests/test_cart.py::test_needs_db", "database unavailable"),
            ],
        );
    }

    #[test]
    fn pytest_q_trace_of_a_helper_failure_starts_in_the_helper() {
        let failures = parse_output(Runner::Pytest, Q);
        let failure = by_id(&failures, "tests/test_cart.py::test_tax_unknown_kind");
        assert!(
            failure.trace.contains("shop/cart.py:9: in total_with_tax"),
            "{}",
            failure.trace
        );
        let frames = frames(Runner::Pytest, &failure.trace);
        let files: Vec<(&str, u32)> = frames
            .iter()
            .map(|frame| (frame.file.as_str(), frame.line))
            .collect();
        assert_eq!(
            files,
            [
                ("shop/rates.py", 5),
                ("shop/cart.py", 9),
                ("tests/test_cart.py", 15)
            ]
        );
    }

    #[test]
    fn pytest_native_traceback_gives_type_message_and_innermost_helper_frame() {
        let failures = parse_output(Runner::Pytest, NATIVE);
        let failure = by_id(&failures, "tests/test_cart.py::test_tax_unknown_kind");
        assert_eq!(
            (failure.error_type.as_str(), failure.message.as_str()),
            ("KeyError", "'luxury'")
        );
        assert_eq!(
            frames(Runner::Pytest, &failure.trace)[0].file,
            "/tmp/fx-py/shop/rates.py"
        );
        let reduced = by_id(&failures, "tests/test_cart.py::TestCart::test_reduced");
        assert_eq!(
            (reduced.error_type.as_str(), reduced.message.as_str()),
            ("AssertionError", "assert 10.5 == 10")
        );
    }

    #[test]
    fn pytest_collection_error_is_a_failure_of_the_module() {
        let failures = parse_output(Runner::Pytest, COLLECT);
        assert_eq!(failures.len(), 1);
        let failure = &failures[0];
        assert_eq!(failure.test, "tests/test_broken.py");
        assert_eq!(failure.file, "tests/test_broken.py");
        assert_eq!(failure.error_type, "ModuleNotFoundError");
        assert_eq!(failure.message, "No module named 'shop.discounts'");
    }

    #[test]
    fn pytest_summary_without_tracebacks_still_parses() {
        let failures = parse_output(Runner::Pytest, TB_NO);
        assert_eq!(failures.len(), 5);
        let tax = by_id(&failures, "tests/test_cart.py::test_tax_unknown_kind");
        assert_eq!(
            (tax.error_type.as_str(), tax.message.as_str()),
            ("KeyError", "'luxury'")
        );
        let empty = by_id(&failures, "tests/test_cart.py::test_total_empty");
        assert_eq!(
            (empty.error_type.as_str(), empty.message.as_str()),
            ("AssertionError", "assert 0 == 1")
        );
        // A bare summary line, as a truncated log may hold, parses too.
        let bare = parse_output(
            Runner::Pytest,
            "FAILED tests/test_a.py::test_b - ValueError: bad\n",
        );
        assert_eq!(
            bare,
            [Failure::new(
                "tests/test_a.py",
                "tests/test_a.py::test_b",
                "ValueError",
                "bad",
                ""
            )]
        );
    }

    #[test]
    fn pytest_sections_alone_rebuild_the_node_ids() {
        let without_summary: String = Q
            .split("=== short test summary info")
            .next()
            .unwrap_or_default()
            .to_owned();
        let failures = parse_output(Runner::Pytest, &without_summary);
        let ids: Vec<&str> = failures
            .iter()
            .map(|failure| failure.test.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "tests/test_cart.py::test_needs_db",
                "tests/test_cart.py::test_total_empty",
                "tests/test_cart.py::test_tax_unknown_kind",
                "tests/test_cart.py::TestCart::test_reduced",
                "tests/test_cart.py::test_sum[prices1-5]",
            ]
        );
    }

    #[test]
    fn pytest_summary_ids_keep_dashes_inside_their_parameters() {
        let output =
            "FAILED tests/a.py::test_x[a - b] - assert 1 == 2\nERROR tests/a.py::test_y[[1]]\n";
        let ids: Vec<String> = parse_output(Runner::Pytest, output)
            .into_iter()
            .map(|failure| failure.test)
            .collect();
        assert_eq!(
            ids,
            ["tests/a.py::test_x[a - b]", "tests/a.py::test_y[[1]]"]
        );
    }

    #[test]
    fn pytest_chained_exception_gives_the_last_one() {
        let trace = "E   KeyError: 'a'\n\ntests/a.py:3: KeyError\n\nDuring handling of the above exception, another exception occurred:\n\nE   ValueError: bad a\n\ntests/a.py:5: ValueError";
        assert_eq!(
            details(trace),
            ("ValueError".to_owned(), "bad a".to_owned())
        );
    }

    #[test]
    fn junit_ids_match_the_node_ids() {
        let id = |classname, name, file| junit_id(classname, name, file).1;
        assert_eq!(
            id("tests.test_cart", "test_total", None),
            "tests/test_cart.py::test_total"
        );
        assert_eq!(
            id("tests.test_cart.TestCart", "test_x[a-1]", None),
            "tests/test_cart.py::TestCart::test_x[a-1]"
        );
        assert_eq!(
            id("test_cart.TestCart", "test_x", Some("test_cart.py")),
            "test_cart.py::TestCart::test_x"
        );
        assert_eq!(id("", "tests.test_broken", None), "tests/test_broken.py");
    }
}
