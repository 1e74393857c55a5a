//! The source locations in a failure's trace, innermost first, so that the loop can group failures by the
//! innermost frame inside the project. Python prints its frames outermost first and is reversed; Rust's
//! panic location, JavaScript's stacks and Go's goroutine traces are innermost first already.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::command::Runner;

/// A source location in a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) file: String,
    pub(crate) line: u32,
}

/// A native Python frame: `  File "shop/cart.py", line 9, in total_with_tax`.
static PYTHON_NATIVE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^\s*File "([^"]+)", line (\d+)"#).expect("valid regex"));
/// A pytest frame: `shop/cart.py:9: in total_with_tax`, `shop/rates.py:5: KeyError`, `tests/a.py:15: `.
static PYTHON_PYTEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^([^\s:"<][^:"]*\.py):(\d+):(?:\s|$)"#).expect("valid regex"));
/// A panic's location, Rust 1.73 on (`panicked at src/lib.rs:10:5:`) and before (`panicked at 'msg', src/lib.rs:10:5`).
static RUST_PANIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"panicked at (?:'.*', )?([^\s']+?):(\d+):\d+:?$").expect("valid regex")
});
/// A backtrace frame's location: `             at ./src/rates.rs:5:18`.
static RUST_BACKTRACE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+at (.+?):(\d+):\d+$").expect("valid regex"));
/// A JavaScript location: `/abs/file.js:10:5`, `file:///abs/x.mjs:3:7`, `src/rates.js:5:11`.
static JS_LOCATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:file://)?(.+?):(\d+):\d+$").expect("valid regex"));
/// A Go location: a log line's `cart_test.go:16: `, a goroutine frame's `/abs/rates.go:11 +0x1f`, a compiler
/// error's `rates/x_test.go:6:5: `.
static GO_LOCATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(\S+\.go):(\d+)(?::\d+)?(?:: |:$|\s+\+0x[0-9a-f]+$|$)").expect("valid regex")
});

/// The frames of a failure's trace, innermost first, each location once, with paths as printed but for a
/// leading `./` (the caller relativises them and keeps those inside the project).
pub(crate) fn frames(runner: Runner, trace: &str) -> Vec<Frame> {
    let found = match runner {
        Runner::Pytest => python(trace),
        Runner::Cargo | Runner::Nextest => rust(trace),
        Runner::NodeTest | Runner::Jest | Runner::Vitest => javascript(trace),
        Runner::Go => go(trace),
        Runner::Unknown => [python, rust, javascript, go]
            .iter()
            .map(|extract| extract(trace))
            .find(|found| !found.is_empty())
            .unwrap_or_default(),
    };
    let mut seen = HashSet::new();
    found
        .into_iter()
        .filter(|frame| seen.insert((frame.file.clone(), frame.line)))
        .collect()
}

/// A frame from a path and a line number as printed.
fn frame(file: &str, line: &str) -> Option<Frame> {
    let file = file.strip_prefix("./").unwrap_or(file);
    Some(Frame {
        file: file.to_owned(),
        line: line.parse().ok()?,
    })
}

/// The first two captures of `regex` in `line` as a frame.
fn captured(regex: &Regex, line: &str) -> Option<Frame> {
    let caps = regex.captures(line)?;
    frame(caps.get(1)?.as_str(), caps.get(2)?.as_str())
}

/// Python's frames, native and pytest's, reversed: Python prints the outermost first.
fn python(trace: &str) -> Vec<Frame> {
    let mut found: Vec<Frame> = trace
        .lines()
        .filter_map(|line| {
            captured(&PYTHON_NATIVE, line).or_else(|| captured(&PYTHON_PYTEST, line))
        })
        .collect();
    found.reverse();
    found
}

/// Rust's panic location, then the backtrace's frames when `RUST_BACKTRACE` was set.
fn rust(trace: &str) -> Vec<Frame> {
    let panics = trace.lines().filter_map(|line| captured(&RUST_PANIC, line));
    let backtrace = trace
        .lines()
        .filter_map(|line| captured(&RUST_BACKTRACE, line));
    panics.chain(backtrace).collect()
}

/// JavaScript's stack frames: `at f (loc)`, `at loc`, vitest's `❯ f loc`, node TAP's bare `f (loc)` and the
/// bare `file:///x.mjs:3:7` node prints above an ES module's error.
/// node's own `node:internal` frames are not files.
fn javascript(trace: &str) -> Vec<Frame> {
    trace.lines().filter_map(javascript_frame).collect()
}

fn javascript_frame(line: &str) -> Option<Frame> {
    let line = line.trim();
    let prefixed = line.strip_prefix("at ").or_else(|| line.strip_prefix("❯ "));
    let body = match prefixed {
        Some(body) => body,
        None if line.ends_with(')') || line.starts_with("file://") => line,
        None => return None,
    };
    let location = match body.strip_suffix(')') {
        Some(inner) => &inner[inner.rfind('(')? + 1..],
        None => body.rsplit(' ').next()?,
    };
    let caps = JS_LOCATION.captures(location)?;
    let path = caps.get(1)?.as_str();
    if path.starts_with("node:") || path.starts_with('<') || path == "native" {
        return None;
    }
    frame(&percent_decode(path), caps.get(2)?.as_str())
}

/// A `file://` URL's path with its `%XX` escapes decoded (a space is `%20`).
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = bytes
            .get(index + 1..index + 3)
            .filter(|_| bytes[index] == b'%');
        if let Some(byte) =
            escape.and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok())
        {
            decoded.push(byte);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Go's locations in the order printed: a log line's, then a panic's goroutine frames innermost first.
fn go(trace: &str) -> Vec<Frame> {
    trace
        .lines()
        .filter_map(|line| captured(&GO_LOCATION, line))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(runner: Runner, trace: &str) -> Vec<(String, u32)> {
        frames(runner, trace)
            .into_iter()
            .map(|frame| (frame.file, frame.line))
            .collect()
    }

    fn expect(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
        pairs
            .iter()
            .map(|(file, line)| ((*file).to_owned(), *line))
            .collect()
    }

    #[test]
    fn python_native_frames_are_reversed() {
        let trace = "Traceback (most recent call last):\n  File \"tests/test_a.py\", line 3, in test_a\n    f()\n  File \"/abs/pkg/mod.py\", line 12, in f\n    raise KeyError\nKeyError";
        assert_eq!(
            located(Runner::Pytest, trace),
            expect(&[("/abs/pkg/mod.py", 12), ("tests/test_a.py", 3)])
        );
    }

    #[test]
    fn rust_panic_location_then_backtrace() {
        let trace = "thread 'x' panicked at src/lib.rs:10:5:\nboom\n   0: x::f\n             at ./src/x.rs:3:9\n";
        assert_eq!(
            located(Runner::Cargo, trace),
            expect(&[("src/lib.rs", 10), ("src/x.rs", 3)])
        );
        let old = "thread 'x' panicked at 'boom, at: 1:2', src/old.rs:7:1";
        assert_eq!(located(Runner::Cargo, old), expect(&[("src/old.rs", 7)]));
    }

    #[test]
    fn javascript_frames_in_every_form() {
        let trace = "Error: x\n    at fn (/abs/file.js:10:5)\n    at /abs/other.js:2:1\n    at file:///abs/my%20dir/x.mjs:3:7\n    at Test.run (node:internal/test_runner/test:1:1)\nfile:///abs/y.mjs:5:1\n ❯ helper src/h.ts:4:2\n    at async Promise.all (index 0)";
        assert_eq!(
            located(Runner::Jest, trace),
            expect(&[
                ("/abs/file.js", 10),
                ("/abs/other.js", 2),
                ("/abs/my dir/x.mjs", 3),
                ("/abs/y.mjs", 5),
                ("src/h.ts", 4)
            ])
        );
    }

    #[test]
    fn go_log_and_goroutine_frames() {
        let trace = "x_test.go:12: bad\npanic: boom\ngoroutine 1 [running]:\nmain.f()\n\t/abs/x.go:12 +0x1d\n";
        assert_eq!(
            located(Runner::Go, trace),
            expect(&[("x_test.go", 12), ("/abs/x.go", 12)])
        );
    }

    #[test]
    fn unknown_runner_uses_the_first_form_that_matches() {
        assert_eq!(
            located(Runner::Unknown, "    at f (src/a.js:1:2)"),
            expect(&[("src/a.js", 1)])
        );
        assert_eq!(located(Runner::Unknown, "no frames here"), []);
    }
}
