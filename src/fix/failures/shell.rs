//! Just enough of the shell's word syntax to find a runner's invocation in a test command and to write a
//! word back safely: words with their quotes and escapes, simple commands split at `&&`, `||`, `;`, `|`, `&`,
//! redirections, and single-quoting.

/// A word of a shell command: its text as written, its byte range, and its value once unquoted.
pub(super) struct Word<'a> {
    pub(super) raw: &'a str,
    pub(super) value: String,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// The words of each simple command, split at `&&`, `||`, `;`, `|`, `&` and newlines. A simple command ends
/// before its first redirection (`2>&1`, `> log`), which stays in the text after it.
pub(super) fn simple_commands(command: &str) -> Vec<Vec<Word<'_>>> {
    let mut commands: Vec<Vec<Word>> = vec![Vec::new()];
    let mut redirected = false;
    let mut chars = command.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if is_separator(c) && !(c == '&' && command[start..].starts_with("&>")) {
            chars.next();
            commands.push(Vec::new());
            redirected = false;
        } else if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            break;
        } else {
            let word = word(command, &mut chars);
            redirected |= is_redirection(word.raw);
            if !redirected && let Some(words) = commands.last_mut() {
                words.push(word);
            }
        }
    }
    commands.retain(|words| !words.is_empty());
    commands
}

fn is_separator(c: char) -> bool {
    matches!(c, ';' | '&' | '|' | '\n')
}

/// Whether a word is a redirection: `>`, `2>&1`, `&>log`, `<in`.
fn is_redirection(raw: &str) -> bool {
    let rest = raw.trim_start_matches(|c: char| c.is_ascii_digit());
    rest.starts_with('>') || rest.starts_with('<') || raw.starts_with("&>")
}

/// The word starting at the iterator, with its quotes and escapes undone in its value.
fn word<'a>(
    command: &'a str,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'a>>,
) -> Word<'a> {
    let start = chars.peek().map_or(command.len(), |&(index, _)| index);
    let mut value = String::new();
    let mut end = start;
    let mut previous = ' ';
    while let Some(&(index, c)) = chars.peek() {
        let redirect_ampersand = c == '&' && (matches!(previous, '>' | '<') || index == start);
        if c.is_whitespace() || (is_separator(c) && !redirect_ampersand) {
            break;
        }
        chars.next();
        end = index + c.len_utf8();
        match c {
            '\'' => end = quoted(chars, &mut value, '\'').unwrap_or(command.len()),
            '"' => end = quoted(chars, &mut value, '"').unwrap_or(command.len()),
            '\\' => {
                if let Some((index, escaped)) = chars.next() {
                    end = index + escaped.len_utf8();
                    value.push(escaped);
                }
            }
            _ => value.push(c),
        }
        previous = c;
    }
    Word {
        raw: &command[start..end],
        value,
        start,
        end,
    }
}

/// The rest of a quoted string up to `quote`, pushed onto `value`; the end of the closing quote, None when
/// the quote is not closed. In double quotes a backslash escapes only `"`, `\`, `$` and `` ` ``.
fn quoted(
    chars: &mut std::iter::Peekable<std::str::CharIndices>,
    value: &mut String,
    quote: char,
) -> Option<usize> {
    while let Some((index, c)) = chars.next() {
        if c == quote {
            return Some(index + c.len_utf8());
        }
        if quote == '"'
            && c == '\\'
            && chars
                .peek()
                .is_some_and(|&(_, next)| matches!(next, '"' | '\\' | '$' | '`'))
        {
            if let Some((_, escaped)) = chars.next() {
                value.push(escaped);
            }
            continue;
        }
        value.push(c);
    }
    None
}

/// `value` as one shell word: as is when it holds nothing the shell would read, else in single quotes
/// (a `'` inside becomes `'\''`).
pub(super) fn quote(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_quotes_and_redirections_as_written() {
        let commands = simple_commands(
            r#"A="x y" pytest -k "a \"b\"" 'c d' 2>&1 | tee log; echo done # note"#,
        );
        let values: Vec<Vec<&str>> = commands
            .iter()
            .map(|words| words.iter().map(|word| word.value.as_str()).collect())
            .collect();
        assert_eq!(
            values,
            [
                vec!["A=x y", "pytest", "-k", "a \"b\"", "c d"],
                vec!["tee", "log"],
                vec!["echo", "done"]
            ]
        );
        assert_eq!(commands[0][3].raw, r#""a \"b\"""#);
    }

    #[test]
    fn quote_leaves_plain_words_and_single_quotes_the_rest() {
        assert_eq!(quote("tests/a.py::test_b"), "tests/a.py::test_b");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$HOME[1]"), "'$HOME[1]'");
        assert_eq!(quote(""), "''");
    }
}
