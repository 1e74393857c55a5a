//! Where a source file's comments and string literals are, per language family, so that a TODO counts only in
//! a comment and a deprecated pattern only in code.
//!
//! A hand-written lexer rather than tree-sitter grammars: the signals need three regions (code, comment,
//! string), not a syntax tree; the grammars (a C library and a generated parser per language, several MB of C
//! each) would multiply the build time on a small machine for no better answer here; and a lexer that only
//! knows where comments and strings start and end never fails on code it cannot parse (a template, a newer
//! syntax), it degrades to "code".
//!
//! What each family knows:
//! - `#` languages (Python, shell, Ruby, Perl, R): `#` to the end of the line; `'` and `"` strings; Python's
//!   triple-quoted strings (docstrings) across lines; Ruby's `=begin`/`=end` blocks.
//! - `//` languages: `//` to the end of the line and `/* */` across lines; `"` strings (raw strings `r"…"` and
//!   `r#"…"#` in Rust); `'` a character literal when it closes within a few characters (otherwise a Rust
//!   lifetime); backtick strings in JavaScript/TypeScript (template literals) and Go (raw strings), across
//!   lines; `'` strings and regex literals in JavaScript/TypeScript.
//! - PHP: both comment styles, `'` and `"` strings.

use std::path::Path;

/// What a byte of source is part of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Region {
    Code,
    Comment,
    Str,
}

/// The language family of a source file, for its comments and strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Family {
    Python,
    /// Shell, Perl, R: `#` comments, quoted strings.
    Hash,
    Ruby,
    Rust,
    /// JavaScript and TypeScript.
    Js,
    Go,
    /// C, C++, Java, Kotlin, Swift, C#, Scala, Dart, Groovy, Objective-C.
    CLike,
    Php,
}

impl Family {
    pub(super) fn of(path: &Path) -> Option<Family> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "py" | "pyi" => Family::Python,
            "sh" | "bash" | "zsh" | "pl" | "pm" | "r" => Family::Hash,
            "rb" => Family::Ruby,
            "rs" => Family::Rust,
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => Family::Js,
            "go" => Family::Go,
            "java" | "kt" | "kts" | "swift" | "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh"
            | "hxx" | "m" | "mm" | "cs" | "scala" | "dart" | "groovy" => Family::CLike,
            "php" => Family::Php,
            _ => return None,
        })
    }

    fn hash(self) -> bool {
        matches!(
            self,
            Family::Python | Family::Hash | Family::Ruby | Family::Php
        )
    }

    fn slash(self) -> bool {
        !matches!(self, Family::Python | Family::Hash | Family::Ruby)
    }
}

/// The regions of each line of `text` (split as [`str::lines`] does), byte by byte.
pub(super) struct Lexed {
    lines: Vec<Vec<Region>>,
}

impl Lexed {
    /// The region of byte `at` of line `index` (0-based); past the end of a line, its last region.
    pub(super) fn at(&self, index: usize, at: usize) -> Region {
        self.lines
            .get(index)
            .and_then(|line| line.get(at).or(line.last()))
            .copied()
            .unwrap_or(Region::Code)
    }
}

/// What the lexer is inside of, carried from one byte (and line) to the next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Code,
    /// A comment to the end of the line.
    LineComment,
    /// `/* */`.
    BlockComment,
    /// Ruby's `=begin` ... `=end`.
    RubyBlock,
    /// A string closed by `quote` repeated `count` times (Python's `"""`), followed by `hashes` `#` (Rust's
    /// raw strings); `escapes` when `\` escapes the next character.
    Str {
        quote: u8,
        count: u8,
        hashes: u8,
        escapes: bool,
    },
}

/// Splits `text` into code, comments and strings.
pub(super) fn lex(text: &str, family: Family) -> Lexed {
    let mut lines = Vec::new();
    let mut state = State::Code;
    for line in text.lines() {
        let bytes = line.as_bytes();
        let mut regions = vec![Region::Code; bytes.len()];
        if family == Family::Ruby {
            if state == State::RubyBlock {
                regions.fill(Region::Comment);
                if line.starts_with("=end") {
                    state = State::Code;
                }
                lines.push(regions);
                continue;
            }
            if line.starts_with("=begin") {
                regions.fill(Region::Comment);
                state = State::RubyBlock;
                lines.push(regions);
                continue;
            }
        }
        let mut i = 0;
        // The last byte of code that was not blank, for telling a JavaScript regex from a division.
        let mut last_code: Option<u8> = None;
        while i < bytes.len() {
            match state {
                State::LineComment | State::RubyBlock => {
                    regions[i] = Region::Comment;
                    i += 1;
                }
                State::BlockComment => {
                    regions[i] = Region::Comment;
                    if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        regions[i + 1] = Region::Comment;
                        i += 2;
                        state = State::Code;
                    } else {
                        i += 1;
                    }
                }
                State::Str {
                    quote,
                    count,
                    hashes,
                    escapes,
                } => {
                    regions[i] = Region::Str;
                    if escapes && bytes[i] == b'\\' {
                        if i + 1 < bytes.len() {
                            regions[i + 1] = Region::Str;
                        }
                        i += 2;
                        continue;
                    }
                    let close = usize::from(count) + usize::from(hashes);
                    if bytes[i] == quote
                        && bytes[i..].len() >= close
                        && bytes[i..i + usize::from(count)].iter().all(|&b| b == quote)
                        && bytes[i + usize::from(count)..i + close]
                            .iter()
                            .all(|&b| b == b'#')
                    {
                        regions[i..i + close].fill(Region::Str);
                        i += close;
                        state = State::Code;
                    } else {
                        i += 1;
                    }
                }
                State::Code => {
                    let (next, took) = code_byte(bytes, i, family, last_code);
                    if let Some(region) = took {
                        let end = (i + next.1).min(bytes.len());
                        regions[i..end].fill(region);
                        state = next.0;
                        i = end;
                        continue;
                    }
                    if !bytes[i].is_ascii_whitespace() {
                        last_code = Some(bytes[i]);
                    }
                    i += 1;
                }
            }
        }
        // A line comment ends with its line; so does a string in the languages whose strings cannot span
        // lines without a continuation (most), which keeps a stray quote from swallowing the file.
        match state {
            State::LineComment => state = State::Code,
            State::Str {
                quote, count: 1, ..
            } if !multiline_quote(family, quote) && !line.ends_with('\\') => state = State::Code,
            _ => {}
        }
        lines.push(regions);
    }
    Lexed { lines }
}

/// Whether a single `quote` opens a string that may span lines in `family`.
fn multiline_quote(family: Family, quote: u8) -> bool {
    match family {
        Family::Js | Family::Go => quote == b'`',
        Family::Hash | Family::Ruby | Family::Php => true,
        Family::Rust => quote == b'"',
        Family::Python | Family::CLike => false,
    }
}

/// In code at `i`: the state a token starting there opens and how many bytes open it, with their region; or
/// `None` when the byte is plain code.
fn code_byte(
    bytes: &[u8],
    i: usize,
    family: Family,
    last_code: Option<u8>,
) -> ((State, usize), Option<Region>) {
    let b = bytes[i];
    let next = bytes.get(i + 1).copied();
    let string = |quote: u8, count: u8, hashes: u8, escapes: bool, len: usize| {
        (
            (
                State::Str {
                    quote,
                    count,
                    hashes,
                    escapes,
                },
                len,
            ),
            Some(Region::Str),
        )
    };
    if family.hash() && b == b'#' && !(family == Family::Php && next == Some(b'[')) {
        return ((State::LineComment, 1), Some(Region::Comment));
    }
    if family.slash() && b == b'/' {
        match next {
            Some(b'/') => return ((State::LineComment, 2), Some(Region::Comment)),
            Some(b'*') => return ((State::BlockComment, 2), Some(Region::Comment)),
            _ => {}
        }
        if family == Family::Js
            && last_code.is_none_or(|c| b"(,=:[!&|?{};+-*%<>~^".contains(&c))
            && let Some(len) = regex_literal(&bytes[i..])
        {
            return ((State::Code, len), Some(Region::Str));
        }
    }
    match b {
        b'"' | b'\'' if family == Family::Python => {
            if bytes[i..].starts_with(&[b, b, b]) {
                return string(b, 3, 0, true, 3);
            }
            string(b, 1, 0, true, 1)
        }
        b'r' if family == Family::Rust && !ident_before(bytes, i) => {
            let hashes = bytes[i + 1..].iter().take_while(|&&c| c == b'#').count();
            if bytes.get(i + 1 + hashes) == Some(&b'"') {
                let hashes = u8::try_from(hashes).unwrap_or(u8::MAX);
                return string(b'"', 1, hashes, false, 2 + usize::from(hashes));
            }
            ((State::Code, 1), None)
        }
        b'"' => string(b'"', 1, 0, true, 1),
        b'`' if family == Family::Js => string(b'`', 1, 0, true, 1),
        b'`' if family == Family::Go => string(b'`', 1, 0, false, 1),
        b'\''
            if matches!(
                family,
                Family::Js | Family::Hash | Family::Ruby | Family::Php
            ) =>
        {
            // Shell's single quotes escape nothing.
            string(b'\'', 1, 0, family != Family::Hash, 1)
        }
        b'\'' if family.slash() => match char_literal(&bytes[i..]) {
            Some(len) => ((State::Code, len), Some(Region::Str)),
            // A Rust lifetime or label.
            None => ((State::Code, 1), None),
        },
        _ => ((State::Code, 1), None),
    }
}

fn ident_before(bytes: &[u8], i: usize) -> bool {
    i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')
}

/// The length of a character literal at the start of `rest` (`'x'`, `'\n'`, `'\u{1F600}'`, a multi-byte
/// character), if it is one.
fn char_literal(rest: &[u8]) -> Option<usize> {
    let body = rest.get(1..)?;
    if body.first() == Some(&b'\\') {
        let close = body.iter().skip(2).take(10).position(|&c| c == b'\'')?;
        return Some(close + 4);
    }
    // One character, ASCII or up to 4 bytes of UTF-8, then the closing quote.
    (1..=4)
        .find(|&n| {
            body.get(n) == Some(&b'\'')
                && std::str::from_utf8(&body[..n]).is_ok_and(|c| c.chars().count() == 1)
        })
        .map(|n| n + 2)
}

/// The length of a JavaScript regex literal at the start of `rest` (`/'/g`), if the line holds its end.
fn regex_literal(rest: &[u8]) -> Option<usize> {
    let mut i = 1;
    let mut class = false;
    while i < rest.len() {
        match rest[i] {
            b'\\' => i += 1,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => {
                let flags = rest[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                return (i > 1).then_some(i + 1 + flags);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of `line` in each region, as `c:...`, `#:...`, `s:...` runs.
    fn regions(text: &str, family: Family) -> Vec<String> {
        let lexed = lex(text, family);
        text.lines()
            .enumerate()
            .map(|(index, line)| {
                let mut out = String::new();
                let mut last = None;
                for (at, ch) in line.char_indices() {
                    let region = lexed.at(index, at);
                    if last != Some(region) {
                        if last.is_some() {
                            out.push('|');
                        }
                        out.push_str(match region {
                            Region::Code => "c:",
                            Region::Comment => "#:",
                            Region::Str => "s:",
                        });
                        last = Some(region);
                    }
                    out.push(ch);
                }
                out
            })
            .collect()
    }

    #[test]
    fn python_comments_strings_and_docstrings() {
        let text = "x = \"a # not a comment\"  # a comment\n\"\"\"Docstring\nwith attr.ib( inside\n\"\"\"\ny = 'it''s' # done\n";
        assert_eq!(
            regions(text, Family::Python),
            [
                "c:x = |s:\"a # not a comment\"|c:  |#:# a comment",
                "s:\"\"\"Docstring",
                "s:with attr.ib( inside",
                "s:\"\"\"",
                "c:y = |s:'it''s'|c: |#:# done",
            ]
        );
    }

    #[test]
    fn rust_lifetimes_chars_raw_strings_and_block_comments() {
        let text = "fn f<'a, 'b>(x: &'a str) -> char { 'x' }\nlet s = r#\"say \"hi\" // no\"#; /* a\nb */ let t = '\\n';\n";
        assert_eq!(
            regions(text, Family::Rust),
            [
                "c:fn f<'a, 'b>(x: &'a str) -> char { |s:'x'|c: }",
                "c:let s = |s:r#\"say \"hi\" // no\"#|c:; |#:/* a",
                "#:b */|c: let t = |s:'\\n'|c:;",
            ]
        );
    }

    #[test]
    fn javascript_templates_regexes_and_jsdoc() {
        let text = "/**\n * Short-hand for `url.parse(req.url)`.\n */\nconst re = /'/g; const t = `a\nb`; x = a / b // c\n";
        assert_eq!(
            regions(text, Family::Js),
            [
                "#:/**",
                "#: * Short-hand for `url.parse(req.url)`.",
                "#: */",
                "c:const re = |s:/'/g|c:; const t = |s:`a",
                "s:b`|c:; x = a / b |#:// c",
            ]
        );
    }

    #[test]
    fn a_stray_quote_ends_with_its_line_where_strings_cannot_span_lines() {
        let text = "char c = '\\''; // ok\nint x = \"open\n// a comment\n";
        assert_eq!(
            regions(text, Family::CLike),
            [
                "c:char c = |s:'\\''|c:; |#:// ok",
                "c:int x = |s:\"open",
                "#:// a comment"
            ]
        );
    }

    #[test]
    fn ruby_block_comments_and_shell_quotes() {
        assert_eq!(
            regions("=begin\nold()\n=end\nputs 'x' # y\n", Family::Ruby),
            ["#:=begin", "#:old()", "#:=end", "c:puts |s:'x'|c: |#:# y"]
        );
        assert_eq!(
            regions("echo 'a\\' # b\n", Family::Hash),
            ["c:echo |s:'a\\'|c: |#:# b"]
        );
    }
}
