//! Legacy-code signals: commented-out code blocks, TODO/FIXME/XXX markers, configured deprecated patterns.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::sync::LazyLock;

use anyhow::Result;
use regex::Regex;

use super::artifacts::skipped_dir;
use super::data::{Block, Deprecated, Legacy, Listed, Location, Todo};
use super::lexer::{Family, Region, lex};
use super::render::{clip, show};
use super::{BINARY_PROBE, MAX_SOURCE_BYTES, MIN_BLOCK_LINES};
use crate::cancel::Cancel;
use crate::fsutil::project_walk;
use crate::step::Warnings;

/// The comment syntax of a source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Syntax {
    /// `#` line comments (Python, shell, Ruby, Perl, R).
    Hash,
    /// `//` line comments and `/* */` blocks (C family, Rust, Go, JavaScript, ...).
    Slash,
    /// Both (PHP).
    Both,
}

impl Syntax {
    pub(super) fn of(path: &Path) -> Option<Syntax> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "py" | "pyi" | "sh" | "bash" | "zsh" | "rb" | "pl" | "pm" | "r" => Syntax::Hash,
            "rs" | "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" | "go" | "java"
            | "kt" | "kts" | "swift" | "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "hxx"
            | "m" | "mm" | "cs" | "scala" | "dart" | "groovy" => Syntax::Slash,
            "php" => Syntax::Both,
            _ => return None,
        })
    }

    pub(super) fn hash(self) -> bool {
        matches!(self, Syntax::Hash | Syntax::Both)
    }

    pub(super) fn slash(self) -> bool {
        matches!(self, Syntax::Slash | Syntax::Both)
    }
}

pub(super) static MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(TODO|FIXME|XXX)\b").expect("valid regex"));

/// Walks the project's source files (`.gitignore`-aware, symlinks not followed) for legacy signals.
pub(super) fn scan_legacy(
    root: &Path,
    patterns: &[Regex],
    cancel: &Cancel,
    warnings: &mut Warnings,
) -> Result<Legacy> {
    let mut legacy = Legacy {
        deprecated: patterns
            .iter()
            .map(|p| Deprecated {
                pattern: p.as_str().to_owned(),
                uses: Listed::default(),
            })
            .collect(),
        ..Legacy::default()
    };
    let mut files: Vec<(String, FileSignals)> = Vec::new();
    let mut read_by_tests: HashSet<String> = HashSet::new();
    let walk = project_walk(root, |dir| skipped_dir(dir.path()).is_some()).build();
    for entry in walk {
        cancel.check()?;
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                warnings.push(format!("failed to walk the sources: {err}"));
                continue;
            }
        };
        // A symlink's file type is "symlink", so linked files are skipped here too.
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(syntax) = Syntax::of(entry.path()) else {
            continue;
        };
        let rel = show(entry.path().strip_prefix(root).unwrap_or(entry.path()));
        match entry.metadata() {
            Ok(meta) if meta.len() > MAX_SOURCE_BYTES => {
                legacy.skipped_large += 1;
                continue;
            }
            Ok(_) => {}
            Err(err) => {
                warnings.push(format!("failed to read `{rel}`: {err}"));
                continue;
            }
        }
        let bytes = match fs::read(entry.path()) {
            Ok(bytes) => bytes,
            Err(err) => {
                warnings.push(format!("failed to read `{rel}`: {err}"));
                continue;
            }
        };
        if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
            legacy.skipped_binary += 1;
            continue;
        }
        legacy.files_scanned += 1;
        let text = String::from_utf8_lossy(&bytes);
        if test_file(&rel) {
            read_by_tests.extend(named_paths(&rel, &text));
        }
        files.push((rel.clone(), scan_text(&rel, &text, syntax, patterns)));
    }
    // Inputs of the tests (fixtures, and files a test names) are data, not the project's own notes or code.
    for (rel, found) in files {
        if fixture(&rel) || read_by_a_test(&rel, &read_by_tests) {
            legacy.fixtures_skipped += 1;
            continue;
        }
        for todo in found.markers {
            *legacy.marker_counts.entry(todo.marker.clone()).or_default() += 1;
            legacy.markers.push(todo);
        }
        for (uses, deprecated) in found.deprecated.into_iter().zip(&mut legacy.deprecated) {
            for use_ in uses {
                deprecated.uses.push(use_);
            }
        }
        for block in found.blocks {
            legacy.commented_out.push(block);
        }
    }
    Ok(legacy)
}

/// Whether a file is a test: under a `test`/`tests`/`spec` folder, or named so (`test_x.py`, `x_test.go`,
/// `x.test.js`, `x.spec.ts`).
pub(super) fn test_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let stem = name.split('.').next().unwrap_or(name);
    rel.split('/')
        .rev()
        .skip(1)
        .any(|f| matches!(f, "test" | "tests" | "spec" | "__tests__"))
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || name.contains(".test.")
        || name.contains(".spec.")
}

/// The project paths a test names in its string literals, from the project's folder or from the test's
/// (`"tests/data/sample.py"`, `"./sample.py"`).
pub(super) fn named_paths(rel: &str, text: &str) -> Vec<String> {
    static PATH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"["'`]((?:\.{1,2}/)?[\w.-]+(?:/[\w.-]+)*\.[A-Za-z]{1,5})["'`]"#)
            .expect("valid regex")
    });
    let folder = rel.rsplit_once('/').map_or("", |(folder, _)| folder);
    let Some(family) = Family::of(Path::new(rel)) else {
        return Vec::new();
    };
    let lexed = lex(text, family);
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for found in PATH.captures_iter(line) {
            // In a string literal: a path named in a comment is read by nobody.
            if lexed.at(index, found.get(1).map_or(0, |m| m.start())) != Region::Str {
                continue;
            }
            out.extend(resolved(folder, &found[1]));
        }
    }
    out
}

/// A path written in a test, from the project's folder (when it has a folder in it: a bare `"setup.py"` is
/// more often a name than the top-level file) and from the test's folder.
fn resolved(folder: &str, written: &str) -> Vec<String> {
    let mut out = Vec::new();
    if written.contains('/') {
        out.push(written.trim_start_matches("./").to_owned());
    }
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in written.split('/') {
        match part {
            "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    out.push(parts.join("/"));
    out
}

/// Whether `rel` is data a test reads: named in a test's string literal, inside a test folder, and no test or
/// test helper itself (a module a test imports or mocks is code under test).
fn read_by_a_test(rel: &str, named: &HashSet<String>) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    named.contains(rel)
        && rel
            .split('/')
            .rev()
            .skip(1)
            .any(|f| matches!(f, "test" | "tests" | "spec" | "__tests__"))
        && !(name.starts_with("test_")
            || name.contains("_test.")
            || name.contains(".test.")
            || name.contains(".spec.")
            || name.contains(".test-d.")
            || name.starts_with("conftest.")
            || name.starts_with("__init__."))
}

/// What one file holds: its markers, deprecated uses (per pattern) and commented-out blocks.
#[derive(Default)]
pub(super) struct FileSignals {
    pub(super) markers: Vec<Todo>,
    pub(super) deprecated: Vec<Vec<Location>>,
    pub(super) blocks: Vec<Block>,
}

/// The signals of one source file. A marker counts in a comment only, and not as a placeholder (`noqa:XXX`,
/// `E-XXX`); a deprecated pattern counts in code only, not in a comment or a string (a deprecation message
/// names the old API on purpose) nor inside a longer name, unless the pattern is a comment itself. Commented-out code is not looked for in example
/// folders, where a commented alternative is documentation.
pub(super) fn scan_text(path: &str, text: &str, syntax: Syntax, patterns: &[Regex]) -> FileSignals {
    let mut found = FileSignals {
        deprecated: vec![Vec::new(); patterns.len()],
        ..FileSignals::default()
    };
    let family = Family::of(Path::new(path)).unwrap_or(match syntax {
        Syntax::Hash => Family::Hash,
        Syntax::Slash => Family::CLike,
        Syntax::Both => Family::Php,
    });
    let lexed = lex(text, family);
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        for marker in MARKER.find_iter(line) {
            if lexed.at(index, marker.start()) == Region::Comment
                && !placeholder(line, marker.start())
            {
                let text = line[marker.start()..]
                    .trim_end()
                    .trim_end_matches("*/")
                    .trim();
                found.markers.push(Todo {
                    path: path.to_owned(),
                    line: number,
                    marker: marker.as_str().to_owned(),
                    text: clip(text),
                });
            }
        }
        for (pattern, uses) in patterns.iter().zip(&mut found.deprecated) {
            if pattern
                .find_iter(line)
                .any(|m| match lexed.at(index, m.start()) {
                    Region::Code => !inside_name(line, m.start()),
                    // A pattern that is itself a comment (`# pylint: disable=...`) is looked for in comments.
                    Region::Comment => ["#", "//", "/*"].iter().any(|c| m.as_str().starts_with(c)),
                    Region::Str => false,
                })
            {
                uses.push(Location {
                    path: path.to_owned(),
                    line: number,
                    text: clip(line.trim()),
                });
            }
        }
    }
    if !example_folder(path) {
        for block in commented_out_blocks(text, syntax) {
            found.blocks.push(Block {
                path: path.to_owned(),
                start: block.start,
                end: block.end,
                preview: clip(&block.preview),
            });
        }
    }
    found
}

/// Whether the marker at `at` is a placeholder rather than a note: glued to what comes before it
/// (`noqa:XXX`, `E-XXX`, `ID=XXX`).
pub(super) fn placeholder(line: &str, at: usize) -> bool {
    line[..at]
        .chars()
        .next_back()
        .is_some_and(|c| matches!(c, ':' | '-' | '=' | '/' | '.'))
}

/// Whether a match at `at` starts inside a longer name (`test_app_add_event_handler(` for
/// `add_event_handler\(`): a match that starts with a name character right after another.
pub(super) fn inside_name(line: &str, at: usize) -> bool {
    let name = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    line[at..].chars().next().is_some_and(name) && line[..at].chars().next_back().is_some_and(name)
}

/// Folders of examples, samples and docs: code there shows a reader the ways to do something, and a
/// commented alternative is one of them.
pub(super) fn example_folder(path: &str) -> bool {
    const FOLDERS: &[&str] = &[
        "example",
        "examples",
        "sample",
        "samples",
        "demo",
        "demos",
        "docs",
        "doc",
        "tutorial",
        "tutorials",
        "cookbook",
    ];
    path.split('/')
        .rev()
        .skip(1)
        .any(|folder| FOLDERS.contains(&folder.to_ascii_lowercase().as_str()))
}

/// Whether a file is an input of the tests rather than the project's own code: under a fixtures folder
/// (`fixtures/`, `testdata/`, `snapshots/`, `tests/data/`, ...).
pub(super) fn fixture(path: &str) -> bool {
    const FOLDERS: &[&str] = &[
        "fixtures",
        "fixture",
        "testdata",
        "test_data",
        "test-data",
        "snapshots",
        "__snapshots__",
        "golden",
        "testcases",
    ];
    let folders: Vec<String> = path
        .split('/')
        .rev()
        .skip(1)
        .map(str::to_ascii_lowercase)
        .collect();
    folders.iter().any(|f| FOLDERS.contains(&f.as_str()))
        || folders.windows(2).any(|w| {
            matches!(w[0].as_str(), "data" | "inputs" | "cases")
                && matches!(w[1].as_str(), "tests" | "test" | "spec")
        })
}

/// A block of commented-out code, by line numbers (1-based, inclusive).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct CodeBlock {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) preview: String,
}

/// Finds blocks of commented-out code: runs of consecutive comment lines (or one `/* */` comment) that hold
/// at least [`MIN_BLOCK_LINES`] non-empty lines of which most (more than half) look like code.
///
/// A comment run is a stretch of lines that each start (after indentation) with the line-comment marker;
/// a blank line, a code line, or a doc comment ends it. Doc comments are never candidates: `///` and `//!`
/// (Rust), `#:` (Sphinx), `/** */` and `/*! */` blocks, and a shebang on line 1.
///
/// Each line, marker stripped, is judged by [`classify`]. A run is not reported when it contains a license
/// header line (copyright, SPDX, "licensed under", ...) or introduces a documentation example (a line that
/// starts with "Example", "Usage" or "e.g.", a markdown fence, a doctest prompt `>>>` or a shell prompt `$`, or a line ending with `:` right before the
/// first code line, as in "cases such as:"). A block is located from its first to its last code line, and
/// previewed by the first.
pub(super) fn commented_out_blocks(text: &str, syntax: Syntax) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut run: Vec<(usize, &str)> = Vec::new();
    // Inside a `/* */` comment: whether it is a doc comment, and its lines.
    let mut open: Option<(bool, Vec<(usize, &str)>)> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some((doc, lines)) = &mut open {
            if let Some(end) = trimmed.find("*/") {
                lines.push((number, strip_star(&trimmed[..end])));
                if !*doc {
                    blocks.extend(judge(lines));
                }
                open = None;
            } else {
                lines.push((number, strip_star(trimmed)));
            }
            continue;
        }
        if syntax.slash()
            && let Some(rest) = trimmed.strip_prefix("/*")
        {
            blocks.extend(judge(&run));
            run.clear();
            // A one-line `/* */` is not a block of anything.
            if !rest.contains("*/") {
                open = Some((
                    rest.starts_with('*') || rest.starts_with('!'),
                    vec![(number, rest.trim())],
                ));
            }
            continue;
        }
        if let Some(content) = line_comment(trimmed, number, syntax) {
            run.push((number, content));
        } else {
            blocks.extend(judge(&run));
            run.clear();
        }
    }
    blocks.extend(judge(&run));
    blocks
}

/// The content of a line comment (marker stripped, trimmed), or `None` when the line is not a candidate
/// comment line (code, blank, a doc comment, a shebang, a PHP attribute).
pub(super) fn line_comment(trimmed: &str, number: usize, syntax: Syntax) -> Option<&str> {
    if syntax.hash()
        && let Some(rest) = trimmed.strip_prefix('#')
    {
        let shebang = number == 1 && rest.starts_with('!');
        let attribute = syntax == Syntax::Both && rest.starts_with('[');
        // `##` is a comment marker too.
        return (!shebang && !attribute && !rest.starts_with(':'))
            .then(|| rest.trim_start_matches('#').trim());
    }
    if syntax.slash()
        && let Some(rest) = trimmed.strip_prefix("//")
    {
        return (!rest.starts_with('/') && !rest.starts_with('!')).then(|| rest.trim());
    }
    None
}

/// A line inside a `/* */` comment without its leading `*` decoration.
pub(super) fn strip_star(line: &str) -> &str {
    let line = line.trim();
    line.strip_prefix('*').map_or(line, str::trim)
}

pub(super) static LICENSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)copyright\b|\(c\)\s*\d{4}|spdx-license-identifier|all rights reserved|licensed under|permission is hereby granted")
        .expect("valid regex")
});
pub(super) static EXAMPLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:(?:for\s+)?(?:examples?\b|usage\b|e\.g\.|```)|>>>(?:\s|$)|\$\s)")
        .expect("valid regex")
});

/// The block a run of comment lines is, if it is commented-out code.
pub(super) fn judge(lines: &[(usize, &str)]) -> Option<CodeBlock> {
    let content: Vec<&(usize, &str)> = lines.iter().filter(|(_, text)| !text.is_empty()).collect();
    if content.len() < MIN_BLOCK_LINES
        || content
            .iter()
            .any(|(_, text)| LICENSE.is_match(text) || EXAMPLE.is_match(text))
    {
        return None;
    }
    let classes: Vec<Class> = content.iter().map(|(_, text)| classify(text)).collect();
    let code: Vec<usize> = (0..content.len())
        .filter(|&i| classes[i] == Class::Code)
        .collect();
    let (&first, &last) = (code.first()?, code.last()?);
    if code.len() * 2 <= content.len() {
        return None;
    }
    // Code right after a line that ends with `:` ("... such as:", "usage was:") is an example, not code put
    // aside.
    if first > 0 && content[first - 1].1.ends_with(':') {
        return None;
    }
    // Located from its first to its last code line: a note above the code is not part of it.
    Some(CodeBlock {
        start: content[first].0,
        end: content[last].0,
        preview: content[first].1.to_owned(),
    })
}

/// What one comment line (marker stripped) reads as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Class {
    Code,
    Prose,
    /// Neither, or a tie: directives, TODO notes, separators, single words.
    Neutral,
}

pub(super) static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:-\*-|!|type:\s*ignore|noqa|nosec|pragma|pylint:|mypy:|pyright:|ruff:|flake8|isort:|fmt:\s*(?:on|off|skip)|coding[:=]|vim?:|eslint|jshint|tslint:|biome-ignore|@ts-|prettier-ignore|istanbul\s+ignore|c8\s+ignore|go:|\+build|nolint|#?region\b|#?endregion\b|mark:|swiftlint:|rubocop:|frozen_string_literal:|shellcheck|clang-format|cppcheck-suppress|noinspection|@flow|@jsx|webpackChunkName)",
    )
    .expect("valid regex")
});
/// Lowercase keywords that start a statement or declaration in common languages.
pub(super) static KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:def|class|import|from\s+[\w.]+\s+import|return|if|elif|else|for|while|let|const|var|fn|pub|function|print|try|except|catch|finally|raise|throw|async|await|yield|with|switch|case|break|continue|pass|package|func|struct|impl|static|public|private|protected|void|typedef|#include|#define|echo|export|assert|lambda|del|unless|elsif|puts|println|val)(?:$|[\s(:;{.])",
    )
    .expect("valid regex")
});
/// A Python block opener: a keyword line ending with `:`.
pub(super) static BLOCK_OPENER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:async\s+)?(?:def|class|if|elif|else|for|while|try|except|finally|with|match|case)\b.*:$").expect("valid regex")
});
/// An assignment at the start: `x = ...`, `a.b[0] += ...`, `x: int = ...`, `a, b = ...`, `err := ...`,
/// `String name = ...`.
pub(super) static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:[A-Za-z_][\w<>\[\],]*\s+)?[A-Za-z_$][\w$.\[\]'"]*(?:\s*,\s*[A-Za-z_$][\w$.]*)*(?:\s*:\s*[\w\[\]., |]+?)?\s*(?:[-+*/%&|^]|//|\*\*|<<|>>|:)?=[^=]"#,
    )
    .expect("valid regex")
});
/// A call: an identifier right before `(`.
pub(super) static CALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z_$][\w$]*\(").expect("valid regex"));
pub(super) static OPERATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"==|!=|&&|\|\||::|\+\+|<<|>>").expect("valid regex"));
/// A member access at the start: `self.x`, `console.log`, `np.array` (not "e.g.", whose first part is one letter).
pub(super) static MEMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_]\w+\.[A-Za-z_]").expect("valid regex"));
/// A sentence start: a capitalised word followed by a lowercase one.
pub(super) static SENTENCE_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z][a-z']*,?\s+[a-z]").expect("valid regex"));

/// Tells a comment line that is code from one that is prose, by counting signals of each.
///
/// Code signals (one point each):
/// - it ends with `;`, `{`, `(` or `[`; or with `)` or `]` when it also holds a call or an assignment (a
///   parenthetical remark ends with `)` too); or it is a Python block opener (`if x:`, `def f():`);
/// - it starts with a statement keyword (`def`, `import`, `return`, `let`, `const`, `fn`, `if`, `for`, ...);
/// - it starts with an assignment (`x = 1`, `x += 1`, `x: int = 1`, `err := f()`), unless the right-hand
///   side is plain words, as in a glossary (`indent = current indentation`);
/// - it contains a call (an identifier right before `(`);
/// - it contains an operator (`==`, `!=`, `&&`, `||`, `::`, `++`, `<<`, `>>`; not arrows, which prose uses);
/// - it starts with a member access (`self.x`, `console.log`).
///
/// Prose signals:
/// - at least 4 plain words (letters only, once surrounding punctuation is trimmed) making up at least 2/3 of
///   the tokens, and one more point from 8 such words;
/// - English function words that are no language's keywords ("the", "to", "than", "because", ...): a point
///   from 2 of them, another from 4;
/// - it ends with `.`, or with `!` or `?` after a letter (a sentence end);
/// - it starts like a sentence: a capitalised word followed by a lowercase one;
/// - it quotes code in backticks, as markdown does;
/// - it is a list item (`- item`, `* item`, `1. item`): two points.
///
/// A line made only of brackets and `;`/`,` (`}`, `});`) is code. A line of a table or an ASCII diagram (three
/// `|` or more, no `||`), a directive (`type: ignore`, `noqa`,
/// `eslint-disable`, `-*- coding -*-`, ...), a TODO/FIXME/XXX note, or a line without letters or digits
/// (a separator) is neutral. Otherwise the side with more points wins; a tie is neutral.
pub(super) fn classify(line: &str) -> Class {
    let s = line.trim();
    if s.is_empty() {
        return Class::Neutral;
    }
    if s.chars().all(|c| "{}()[];,".contains(c)) {
        return Class::Code;
    }
    if DIRECTIVE.is_match(s)
        || MARKER.is_match(s)
        || !s.chars().any(char::is_alphanumeric)
        || s.contains("{{{")
        || s.contains("}}}")
        || (s.matches('|').count() >= 3 && !s.contains("||"))
    {
        return Class::Neutral;
    }
    let last = s.chars().last().unwrap_or(' ');
    let call = CALL.is_match(s);
    let assignment = ASSIGNMENT
        .find(s)
        .is_some_and(|found| !glossary(&s[found.end() - 1..]));
    let code = [
        ";{([".contains(last)
            || (")]".contains(last) && (call || assignment))
            || BLOCK_OPENER.is_match(s),
        KEYWORD.is_match(s),
        assignment,
        call,
        OPERATOR.is_match(s),
        MEMBER.is_match(s),
    ]
    .into_iter()
    .filter(|signal| *signal)
    .count();

    let tokens = s.split_whitespace().count();
    let words = s
        .split_whitespace()
        .filter(|token| plain_word(token))
        .count();
    let function_words = s
        .split_whitespace()
        .filter(|token| {
            FUNCTION_WORDS.contains(
                &token
                    .trim_matches(|c: char| !c.is_alphabetic() && c != '\'')
                    .to_lowercase()
                    .as_str(),
            )
        })
        .count();
    let before_last = s.chars().rev().nth(1).unwrap_or(' ');
    let bullet = LIST_ITEM.is_match(s);
    let prose = [
        words >= 4 && words * 3 >= tokens * 2,
        words >= 8,
        function_words >= 2,
        function_words >= 4,
        last == '.' || (matches!(last, '!' | '?') && before_last.is_alphabetic()),
        SENTENCE_START.is_match(s),
        s.matches('`').count() >= 2,
        bullet,
        bullet,
    ]
    .into_iter()
    .filter(|signal| *signal)
    .count();

    match code.cmp(&prose) {
        std::cmp::Ordering::Greater => Class::Code,
        std::cmp::Ordering::Less => Class::Prose,
        std::cmp::Ordering::Equal => Class::Neutral,
    }
}

/// English words that are not keywords of common languages: two of them in a line are a sign of prose.
pub(super) const FUNCTION_WORDS: &[&str] = &[
    "the", "an", "of", "to", "than", "that", "this", "these", "those", "which", "because",
    "before", "after", "when", "where", "should", "would", "could", "can", "will", "we", "it",
    "its", "it's", "be", "are", "was", "were", "there", "here", "so", "but", "also", "only",
    "very", "about", "into", "by", "on", "at", "our", "your", "you", "they", "them", "has", "have",
    "had", "does", "doesn't", "don't", "isn't", "can't", "won't", "since", "until", "though",
    "although", "however", "must", "may", "might", "need", "needs", "just", "some", "such",
    "other", "each", "every", "both", "either", "same", "what", "why", "how", "who",
];

/// A markdown-style list item: `- item`, `* item`, `1. item`.
pub(super) static LIST_ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[-*+\u{2022}]|\d+[.)])\s+\S").expect("valid regex"));

/// Whether the right-hand side of an apparent assignment (from the `=` on) is words, as in a glossary
/// (`indent = current indentation`) rather than an expression.
pub(super) fn glossary(rhs: &str) -> bool {
    const EXPRESSION_WORDS: &[&str] = &[
        "not", "if", "else", "await", "yield", "new", "lambda", "and", "or", "in", "is",
    ];
    let words: Vec<&str> = rhs.trim_start_matches('=').split_whitespace().collect();
    words.len() >= 2
        && words
            .iter()
            .all(|w| plain_word(w) && !EXPRESSION_WORDS.contains(w))
}

/// A word of prose: letters (with inner `'` or `-`), once surrounding punctuation is trimmed.
pub(super) fn plain_word(token: &str) -> bool {
    let word = token.trim_matches(|c: char| ".,;:!?'\"()`".contains(c));
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        && word.chars().next().is_some_and(char::is_alphabetic)
}
