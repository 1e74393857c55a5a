//! Shell blocks: prompts, continuations and heredocs, split into commands and their words.

use std::sync::LazyLock;

use regex::Regex;

use super::markdown::Block;

/// The command lines of a shell block, by line: prompts stripped (and, when the block has prompts, the output
/// lines without one skipped), continuations joined, heredoc bodies skipped.
pub(super) fn shell_lines(block: &Block) -> Vec<(usize, String)> {
    let prompted = block.lines.iter().any(|(_, line)| {
        let trimmed = line.trim_start();
        trimmed.starts_with("$ ") || trimmed.trim_end() == "$"
    });
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    let mut heredoc: Option<String> = None;
    for (number, raw) in &block.lines {
        if let Some(end) = &heredoc {
            if raw.trim() == end {
                heredoc = None;
            }
            continue;
        }
        let (start, text) = if let Some((start, mut text)) = pending.take() {
            text.push(' ');
            text.push_str(raw.trim());
            (start, text)
        } else {
            let trimmed = raw.trim();
            if prompted {
                match trimmed.strip_prefix("$ ") {
                    Some(rest) => (*number, rest.trim().to_owned()),
                    None => continue,
                }
            } else {
                (*number, trimmed.to_owned())
            }
        };
        if let Some(joined) = text.strip_suffix('\\') {
            pending = Some((start, joined.trim_end().to_owned()));
            continue;
        }
        heredoc = heredoc_end(&text);
        if !text.is_empty() {
            out.push((start, text));
        }
    }
    if let Some(line) = pending {
        out.push(line);
    }
    out
}

pub(super) static HEREDOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?"#).expect("valid regex")
});

/// The word that ends the heredoc `line` opens, if it opens one.
pub(super) fn heredoc_end(line: &str) -> Option<String> {
    HEREDOC.captures(line).map(|found| found[1].to_owned())
}

/// The simple commands of a command line, each as its words: quotes removed, comments, redirections and their
/// targets dropped, split at `;`, `&&`, `||`, `|`, `&` and parentheses. `$(...)` and backquotes stay inside
/// their word, which is then dynamic (it holds a `$` or a backtick).
#[expect(
    clippy::too_many_lines,
    reason = "a small shell lexer: one state machine over the characters"
)]
pub(super) fn commands(line: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = line.chars().collect();
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    let mut word = String::new();
    let mut in_word = false;
    // The next word is where a redirection goes: not an argument.
    let mut redirect = false;
    let finish =
        |out: &mut Vec<Vec<String>>, word: &mut String, in_word: &mut bool, redirect: &mut bool| {
            if *in_word {
                if *redirect {
                    *redirect = false;
                } else if let Some(last) = out.last_mut() {
                    last.push(std::mem::take(word));
                }
            }
            word.clear();
            *in_word = false;
        };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => finish(&mut out, &mut word, &mut in_word, &mut redirect),
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.get(i + 1) {
                    word.push(*next);
                    i += 1;
                }
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                in_word = true;
                let mut depth = 0usize;
                while i < chars.len() {
                    word.push(chars[i]);
                    match chars[i] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            '`' => {
                in_word = true;
                word.push('`');
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    word.push(chars[i]);
                    i += 1;
                }
                word.push('`');
            }
            '>' | '<' => {
                // `2>`: the digits were a file descriptor, not a word.
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    finish(&mut out, &mut word, &mut in_word, &mut redirect);
                }
                while matches!(chars.get(i + 1), Some('>' | '<' | '|')) {
                    i += 1;
                }
                if chars.get(i + 1) == Some(&'&') {
                    // `>&2`, `2>&1`: a descriptor, no file.
                    i += 1;
                    while chars
                        .get(i + 1)
                        .is_some_and(|d| d.is_ascii_digit() || *d == '-')
                    {
                        i += 1;
                    }
                } else {
                    redirect = true;
                }
            }
            '&' if chars.get(i + 1) == Some(&'>') => {
                finish(&mut out, &mut word, &mut in_word, &mut redirect);
                i += 1;
                while chars.get(i + 1) == Some(&'>') {
                    i += 1;
                }
                redirect = true;
            }
            ';' | '|' | '&' | '(' | ')' => {
                finish(&mut out, &mut word, &mut in_word, &mut redirect);
                redirect = false;
                if out.last().is_some_and(|last| !last.is_empty()) {
                    out.push(Vec::new());
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
        i += 1;
    }
    finish(&mut out, &mut word, &mut in_word, &mut redirect);
    out.retain(|command| !command.is_empty());
    out
}

pub(super) static ASSIGNMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z_][A-Za-z0-9_]*)=").expect("valid regex"));
