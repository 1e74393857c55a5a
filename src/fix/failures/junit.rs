//! `JUnit` XML reports (`testsuites`/`testsuite`/`testcase` with `failure` or `error`), read with quick-xml.
//! The report's producer, told by its root's name, decides how a testcase becomes the id `parse` gives for
//! the same runner's output: pytest's dotted classname back into a node id, nextest's test name alone,
//! vitest's file and names joined with ` > `; any other producer gets `classname::name`.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

use super::parse::{Failure, dedupe, error_and_message};
use super::{pytest, rust};

/// Who wrote the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Producer {
    Pytest,
    Nextest,
    Vitest,
    Other,
}

/// What a testcase's `failure` or `error` element says.
#[derive(Default)]
struct Outcome {
    message: String,
    kind: String,
    text: String,
}

/// A testcase as read.
#[derive(Default)]
struct Case {
    classname: String,
    name: String,
    file: Option<String>,
    outcome: Option<Outcome>,
    skipped: bool,
    system_err: String,
}

/// Where the text being read goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    Nothing,
    Outcome,
    SystemErr,
}

/// The reading state.
struct Report {
    producer: Option<Producer>,
    depth: usize,
    case: Option<Case>,
    capture: Capture,
    cases: Vec<Case>,
}

/// The failures in a `JUnit` XML report, skipped tests ignored. Err(description) on XML that is malformed or is
/// not `JUnit` (the caller warns and falls back to the runner's output).
pub(crate) fn parse_junit(xml: &str) -> Result<Vec<Failure>, String> {
    let report = read(xml)?;
    let producer = report.producer.unwrap_or(Producer::Other);
    let failures = report
        .cases
        .iter()
        .filter(|case| !case.skipped)
        .filter_map(|case| Some(failure(producer, case, case.outcome.as_ref()?)))
        .collect();
    Ok(dedupe(failures))
}

/// The whole report read.
fn read(xml: &str) -> Result<Report, String> {
    let mut reader = Reader::from_str(xml);
    let mut report = Report {
        producer: None,
        depth: 0,
        case: None,
        capture: Capture::Nothing,
        cases: Vec::new(),
    };
    loop {
        let event = reader.read_event().map_err(|error| {
            format!(
                "malformed XML at line {}: {error}",
                line_of(xml, reader.error_position())
            )
        })?;
        match event {
            Event::Start(element) => {
                report.depth += 1;
                report.element(&element, true)?;
            }
            Event::Empty(element) => report.element(&element, false)?,
            Event::End(element) => {
                report.depth = report.depth.saturating_sub(1);
                report.end(element.name().as_ref());
            }
            Event::Text(text) => report.append(&text.xml_content(XmlVersion::Implicit1_0)),
            Event::CData(data) => report.append(&data.xml_content(XmlVersion::Implicit1_0)),
            Event::GeneralRef(reference) => report.append(&resolve(&reference)?),
            Event::Eof => break,
            _ => {}
        }
    }
    if report.producer.is_none() {
        return Err("not a JUnit report: no root element".to_owned());
    }
    if report.depth > 0 {
        return Err("malformed XML: the document ends inside an element".to_owned());
    }
    Ok(report)
}

impl Report {
    /// An opening (`open`) or empty element.
    fn element(&mut self, element: &BytesStart, open: bool) -> Result<(), String> {
        let name = element.name();
        let name = name.as_ref();
        if self.producer.is_none() {
            self.producer = Some(producer(
                name,
                &attribute(element, "name")?.unwrap_or_default(),
            )?);
            return Ok(());
        }
        if name == "testsuite" && attribute(element, "name")?.as_deref() == Some("pytest") {
            self.producer = Some(Producer::Pytest);
        }
        match name {
            "testcase" => {
                self.case = Some(Case {
                    classname: attribute(element, "classname")?.unwrap_or_default(),
                    name: attribute(element, "name")?.unwrap_or_default(),
                    file: attribute(element, "file")?,
                    ..Case::default()
                });
                if !open {
                    self.end("testcase");
                }
            }
            "failure" | "error" => {
                if let Some(case) = self.case.as_mut().filter(|case| case.outcome.is_none()) {
                    case.outcome = Some(Outcome {
                        message: attribute(element, "message")?.unwrap_or_default(),
                        kind: attribute(element, "type")?.unwrap_or_default(),
                        text: String::new(),
                    });
                    self.capture = if open {
                        Capture::Outcome
                    } else {
                        Capture::Nothing
                    };
                }
            }
            "skipped" => self.case.iter_mut().for_each(|case| case.skipped = true),
            "system-err" if open => self.capture = Capture::SystemErr,
            _ => {}
        }
        Ok(())
    }

    /// A closing element.
    fn end(&mut self, name: &str) {
        match name {
            "testcase" => self.cases.extend(self.case.take()),
            "failure" | "error" | "system-err" => self.capture = Capture::Nothing,
            _ => {}
        }
    }

    /// Text inside the element being captured.
    fn append(&mut self, text: &str) {
        let Some(case) = self.case.as_mut() else {
            return;
        };
        match self.capture {
            Capture::Outcome => case
                .outcome
                .iter_mut()
                .for_each(|outcome| outcome.text.push_str(text)),
            Capture::SystemErr => case.system_err.push_str(text),
            Capture::Nothing => {}
        }
    }
}

/// The producer a root element names; an error when the root is not `JUnit`'s.
fn producer(root: &str, name: &str) -> Result<Producer, String> {
    if root != "testsuites" && root != "testsuite" {
        return Err(format!("not a JUnit report: the root element is `{root}`"));
    }
    Ok(match name {
        "pytest tests" | "pytest" => Producer::Pytest,
        "nextest-run" => Producer::Nextest,
        "vitest tests" => Producer::Vitest,
        _ => Producer::Other,
    })
}

/// An attribute's value, unescaped.
fn attribute(element: &BytesStart, key: &str) -> Result<Option<String>, String> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|error| format!("malformed XML attribute: {error}"))?;
        if attribute.key.as_ref() == key {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|error| format!("malformed XML attribute `{key}`: {error}"))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// The text of an entity or character reference (`&amp;`, `&#10;`).
fn resolve(reference: &BytesRef) -> Result<String, String> {
    if let Some(character) = reference
        .resolve_char_ref()
        .map_err(|error| format!("malformed XML: {error}"))?
    {
        return Ok(character.to_string());
    }
    let name: &str = reference;
    quick_xml::escape::resolve_xml_entity(name)
        .map(str::to_owned)
        .ok_or_else(|| format!("malformed XML: unknown entity `&{name};`"))
}

/// The 1-based line of a byte offset.
fn line_of(xml: &str, offset: u64) -> usize {
    let offset = usize::try_from(offset).unwrap_or(usize::MAX).min(xml.len());
    xml.as_bytes()[..offset]
        .split(|byte| *byte == b'\n')
        .count()
}

/// The failure of a failed testcase, its id and details read as the producer's runner would print them.
fn failure(producer: Producer, case: &Case, outcome: &Outcome) -> Failure {
    let trace = if outcome.text.trim().is_empty() {
        case.system_err.trim()
    } else {
        outcome.text.trim()
    };
    let (file, id) = identity(producer, case);
    let (error_type, message) = details(producer, outcome, trace);
    Failure::new(&file, &id, &error_type, &message, trace)
}

/// The file and id that `parse` gives the same test in the producer's terminal output.
fn identity(producer: Producer, case: &Case) -> (String, String) {
    let classname = case.classname.clone();
    match producer {
        Producer::Pytest => pytest::junit_id(&case.classname, &case.name, case.file.as_deref()),
        Producer::Nextest => (String::new(), case.name.clone()),
        // A file that failed to load is a testcase named after the file.
        Producer::Vitest if case.name == case.classname => (classname.clone(), classname),
        Producer::Vitest => (classname, format!("{} > {}", case.classname, case.name)),
        Producer::Other => {
            let file = case.file.clone().unwrap_or_default();
            if classname.is_empty() {
                (file, case.name.clone())
            } else {
                (file, format!("{classname}::{}", case.name))
            }
        }
    }
}

/// The error type and message: read from the trace as the runner prints it (pytest, nextest), else from the
/// `type` and `message` attributes. nextest's `type` ("test failure with exit code 101") is no error type.
fn details(producer: Producer, outcome: &Outcome, trace: &str) -> (String, String) {
    let (traced_type, traced_message) = match producer {
        Producer::Pytest => pytest::details(trace),
        Producer::Nextest => rust::details(trace),
        Producer::Vitest | Producer::Other => (String::new(), String::new()),
    };
    if !traced_message.is_empty() {
        return (traced_type, traced_message);
    }
    let first_line = outcome.message.lines().next().unwrap_or("");
    let (named_type, message) = error_and_message(first_line, "");
    let kind = if producer == Producer::Nextest {
        ""
    } else {
        outcome.kind.as_str()
    };
    let error_type = [traced_type.as_str(), kind, named_type.as_str()]
        .into_iter()
        .find(|found| !found.is_empty())
        .unwrap_or("");
    (error_type.to_owned(), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::failures::command::Runner;
    use crate::fix::failures::frames::frames;
    use crate::fix::failures::parse::parse;
    use crate::fix::failures::testing::ids_types_messages;

    const PYTEST: &str = include_str!("../../../tests/fixtures/test-output/pytest-junit.xml");
    const PYTEST_XUNIT1: &str =
        include_str!("../../../tests/fixtures/test-output/pytest-junit-xunit1.xml");
    const PYTEST_COLLECT: &str =
        include_str!("../../../tests/fixtures/test-output/pytest-junit-collect-error.xml");
    const PYTEST_Q: &str = include_str!("../../../tests/fixtures/test-output/pytest-q.txt");
    const NEXTEST: &str = include_str!("../../../tests/fixtures/test-output/nextest-junit.xml");
    const NEXTEST_OUTPUT: &str = include_str!("../../../tests/fixtures/test-output/nextest.txt");
    const VITEST: &str = include_str!("../../../tests/fixtures/test-output/vitest-junit.xml");
    const VITEST_OUTPUT: &str = include_str!("../../../tests/fixtures/test-output/vitest.txt");

    /// The failures as (test, error type, message) in order: a report and the terminal output may list them in
    /// another.
    fn key(failures: &[Failure]) -> Vec<(&str, &str, &str)> {
        let mut keys = ids_types_messages(failures);
        keys.sort_unstable();
        keys
    }

    #[test]
    fn pytest_junit_matches_the_terminal_output() {
        let failures = parse_junit(PYTEST).expect("valid report");
        assert_eq!(key(&failures), key(&parse(Runner::Pytest, PYTEST_Q)));
        let tax = failures
            .iter()
            .find(|failure| failure.test.ends_with("test_tax_unknown_kind"))
            .expect("tax");
        assert_eq!(frames(Runner::Pytest, &tax.trace)[0].file, "shop/rates.py");
        assert_eq!(tax.file, "tests/test_cart.py");
    }

    #[test]
    fn pytest_junit_file_attribute_gives_the_same_ids() {
        assert_eq!(
            key(&parse_junit(PYTEST_XUNIT1).expect("valid report")),
            key(&parse_junit(PYTEST).expect("valid"))
        );
    }

    #[test]
    fn pytest_junit_collection_error_is_the_module() {
        let failures = parse_junit(PYTEST_COLLECT).expect("valid report");
        assert_eq!(
            key(&failures),
            [(
                "tests/test_broken.py",
                "ModuleNotFoundError",
                "No module named 'shop.discounts'"
            )]
        );
    }

    #[test]
    fn nextest_junit_matches_the_terminal_output() {
        let failures = parse_junit(NEXTEST).expect("valid report");
        assert_eq!(key(&failures), key(&parse(Runner::Nextest, NEXTEST_OUTPUT)));
    }

    #[test]
    fn vitest_junit_matches_the_terminal_output() {
        fn ids(failures: &[Failure]) -> Vec<(&str, &str)> {
            key(failures)
                .into_iter()
                .map(|(id, kind, _)| (id, kind))
                .collect()
        }
        let failures = parse_junit(VITEST).expect("valid report");
        assert_eq!(ids(&failures), ids(&parse(Runner::Vitest, VITEST_OUTPUT)));
        let nothing = failures
            .iter()
            .find(|failure| failure.test.ends_with("total of nothing"))
            .expect("nothing");
        assert_eq!(nothing.message, "expected +0 to be 1 // Object.is equality");
    }

    #[test]
    fn other_producers_get_classname_and_name_and_skips_are_ignored() {
        let xml = r#"<testsuites><testsuite name="x">
            <testcase classname="pkg.Cart" name="total"><failure message="want 1&#10;got 0" type="AssertionError"><![CDATA[trace & more]]></failure></testcase>
            <testcase classname="pkg.Cart" name="skipped"><skipped/><failure message="no"/></testcase>
            <testcase classname="pkg.Cart" name="passes"/>
            </testsuite></testsuites>"#;
        let failures = parse_junit(xml).expect("valid report");
        assert_eq!(
            failures,
            [Failure::new(
                "",
                "pkg.Cart::total",
                "AssertionError",
                "want 1",
                "trace & more"
            )]
        );
    }

    #[test]
    fn garbage_and_foreign_xml_are_errors() {
        assert!(parse_junit("").is_err());
        assert!(parse_junit("not xml at all").is_err());
        assert!(parse_junit("<testsuites><testcase name='a'>").is_err());
        assert!(parse_junit("<testsuites><testcase></testsuite></testsuites>").is_err());
        let foreign = parse_junit("<html><body/></html>").expect_err("not junit");
        assert!(foreign.contains("`html`"), "{foreign}");
    }
}
