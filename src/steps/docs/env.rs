//! Environment variables the docs tell you to set: known to the project, or not.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::checks::Audit;
use super::data::{Finding, Kind, Replace};
use super::markdown::{Block, DOLLAR_NAME};
use super::paths::closest;
use super::shell::ASSIGNMENT;
use super::{ENV_LANGS, KNOWN_VAR_PREFIXES, KNOWN_VARS, OTHER_ENV_LANGS, SHELL_LANGS};
use crate::text::code;

impl Audit<'_> {
    /// A variable named in `doc`: known when the env example or a source file mentions it.
    ///
    /// A variable the doc tells the reader to set (`NAME=value`, `export NAME=...`, "set `NAME`") is checked
    /// whatever its name; one it merely names (`$NAME`, `` `NAME` ``) only when it is in the project's namespace
    /// (`DAYDREAM_...`, or the prefix of a variable of the env example): otherwise it is another program's
    /// variable (`BASH_ENV`) or a constant of some API.
    pub(super) fn env(&mut self, doc: &str, line: usize, name: &str, historical: bool, set: bool) {
        if !name.contains('_') || name.len() < 3 || well_known(name) {
            return;
        }
        if !set
            && !self
                .namespaces
                .iter()
                .chain(&self.tree.env_prefixes)
                .any(|prefix| name.starts_with(prefix.as_str()))
        {
            return;
        }
        // The doc's own example program reads it (`config('ALLOWED_HOSTS')`): the reader's variable.
        if self.example_reads.contains(name) {
            return;
        }
        if !self.env_seen.insert((doc.to_owned(), name.to_owned())) {
            return;
        }
        self.checked.env_vars += 1;
        if historical || self.tree.names.contains(name) {
            return;
        }
        if !self.tree.names_complete {
            self.env_skipped = true;
            return;
        }
        let what = match &self.tree.env_example {
            Some(example) => format!(
                "names {}, which neither {} nor any source file mentions",
                code(name),
                code(example)
            ),
            None => format!(
                "names {}, which no source file mentions (and there is no `.env.example`)",
                code(name)
            ),
        };
        let example = self.tree.env_example.as_deref().unwrap_or(".env.example");
        let near = (name.len() >= 6)
            .then(|| closest(name, self.tree.names.iter().filter(|n| n.len() >= 6)))
            .flatten();
        let (fix, replace) = match near {
            Some(near) => (
                format!("use {}, which the project does read", code(near)),
                Some(Replace {
                    from: name.to_owned(),
                    to: near.clone(),
                }),
            ),
            None => (
                format!(
                    "remove it from the doc, or add it to {} if something still reads it",
                    code(example)
                ),
                None,
            ),
        };
        self.findings.push(Finding {
            kind: Kind::EnvVar,
            file: doc.to_owned(),
            line,
            what,
            fix,
            replace,
        });
    }
}

/// Variables named in a span of inline code, each with whether the span sets it: `NAME=...` at its start
/// (set), the whole span, `$NAME`, reads such as `getenv("NAME")` (named).
pub(super) fn span_vars(span: &str) -> Vec<(String, bool)> {
    static WHOLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\$?\{?([A-Z][A-Z0-9_]{2,})\}?$").expect("valid regex"));
    if let Some(found) = WHOLE.captures(span.trim()) {
        return vec![(found[1].to_owned(), false)];
    }
    let mut names = Vec::new();
    for word in span.split_whitespace() {
        if word == "export" {
            continue;
        }
        match ASSIGNMENT.captures(word) {
            Some(found) if found[1].chars().all(|c| !c.is_ascii_lowercase()) => {
                names.push((found[1].to_owned(), true));
            }
            _ => break,
        }
    }
    names.extend(
        DOLLAR_NAME
            .captures_iter(span)
            .map(|found| (found[1].to_owned(), false)),
    );
    names.extend(accessed_vars(span).into_iter().map(|name| (name, false)));
    names
}

/// Variables a span of code reads by name: `os.environ["X"]`, `getenv("X")`, `process.env.X`, `env::var("X")`.
pub(super) fn accessed_vars(text: &str) -> Vec<String> {
    static READ: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:environ(?:\.get)?\s*[\[(]\s*|getenv\s*\(\s*|env::var(?:_os)?\s*\(\s*|ENV\s*\[\s*|ENV\.fetch\s*\(\s*)["']([A-Z][A-Z0-9_]{2,})["']|process\.env\.([A-Z][A-Z0-9_]{2,})"#)
            .expect("valid regex")
    });
    READ.captures_iter(text)
        .filter_map(|found| found.get(1).or_else(|| found.get(2)))
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// A variable every reader knows, or a placeholder to fill in (`$PATH_TO_LOCK_FILE`, `YOUR_API_KEY`).
pub(super) fn well_known(name: &str) -> bool {
    KNOWN_VARS.contains(&name)
        || KNOWN_VAR_PREFIXES.iter().any(|p| name.starts_with(p))
        || ["PATH_TO_", "YOUR_", "MY_", "SOME_", "EXAMPLE_"]
            .iter()
            .any(|p| name.starts_with(p))
}

/// The variables that the example programs of a doc read: quoted names in its code blocks that are not shell
/// sessions or env files (`config('ALLOWED_HOSTS')`, `os.environ["API_KEY"]`, `process.env.API_KEY`).
pub(super) fn example_reads(blocks: &[Block]) -> HashSet<String> {
    static READ: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"["']([A-Z][A-Z0-9]*_[A-Z0-9_]+)["']|\benv\.([A-Z][A-Z0-9]*_[A-Z0-9_]+)"#)
            .expect("valid regex")
    });
    blocks
        .iter()
        .filter(|block| {
            let lang = block.lang.as_str();
            !SHELL_LANGS.contains(&lang)
                && !ENV_LANGS.contains(&lang)
                && !OTHER_ENV_LANGS.contains(&lang)
        })
        .flat_map(|block| &block.lines)
        .flat_map(|(_, line)| READ.captures_iter(line))
        .filter_map(|found| found.get(1).or_else(|| found.get(2)))
        .map(|name| name.as_str().to_owned())
        .collect()
}
