//! The project's files: the tree walked once, git-ignored paths, and which lines speak of the past.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::{fs, io};

use anyhow::Result;
use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use regex::Regex;

use super::paths::file_name;
use super::{
    BINARY_PROBE, ENV_EXAMPLES, HISTORICAL_DIRS, HISTORICAL_DOCS, MAX_SOURCE_BYTES,
    MAX_SOURCE_FILES, MAX_SOURCE_TOTAL, SECRET_FILES, SITE_CONFIG_EXTENSIONS,
};
use crate::cancel::Cancel;
use crate::fsutil::{SKIP_DIRS, project_walk};
use crate::step::Warnings;

/// What a walk of the project found.
#[derive(Default)]
pub(super) struct Tree {
    /// Files, relative and `/`-separated (git-ignored ones and vendored folders left out), by file name.
    pub(super) by_name: BTreeMap<String, Vec<String>>,
    /// The docs to check: top-level `*.md` and `docs/**/*.md`, in name order.
    pub(super) docs: Vec<String>,
    /// Every `NAME_LIKE_THIS` in the project's non-markdown files.
    pub(super) names: HashSet<String>,
    /// False when there were too many source files to read them all.
    pub(super) names_complete: bool,
    /// The top-level file that lists the environment variables, if any.
    pub(super) env_example: Option<String>,
    /// The prefixes (`APP_`) of the variables that file lists: the project's own namespaces.
    pub(super) env_prefixes: HashSet<String>,
    /// Markdown file names that code includes (`include_str!("../docs/x.md")`) or a site's configuration
    /// lists: such docs are reached without a link.
    pub(super) md_mentions: HashSet<String>,
}

pub(super) static NAME_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z][A-Z0-9_]{2,}\b").expect("valid regex"));
pub(super) static MD_MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\w.-]+\.(?:md|markdown)\b").expect("valid regex"));

/// Walks the project (`.gitignore`-aware, hidden files included, symlinks not followed).
pub(super) fn walk(root: &Path, cancel: &Cancel, warnings: &mut Warnings) -> Result<Tree> {
    let mut tree = Tree {
        names_complete: true,
        ..Tree::default()
    };
    let (mut read, mut bytes) = (0usize, 0u64);
    let walk = project_walk(root, |dir| {
        dir.file_name()
            .to_str()
            // Python's bytecode caches too: no doc names what is in them.
            .is_some_and(|n| SKIP_DIRS.contains(&n) || n == "__pycache__")
            // Another repository: its docs are its own.
            || dir.path().join(".git").exists()
    })
    .hidden(false)
    .build();
    for entry in walk {
        cancel.check()?;
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                warnings.push(format!("failed to walk the project: {err}"));
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel) = entry
            .path()
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .map(str::to_owned)
        else {
            continue;
        };
        let name = file_name(&rel).to_owned();
        tree.by_name
            .entry(name.clone())
            .or_default()
            .push(rel.clone());
        if is_markdown(&rel) {
            if !rel.contains('/') || rel.starts_with("docs/") {
                tree.docs.push(rel);
            }
            continue;
        }
        let example = ENV_EXAMPLES.contains(&name.as_str())
            && !rel.contains('/')
            && tree.env_example.is_none();
        if example {
            tree.env_example = Some(rel.clone());
        }
        if SECRET_FILES.contains(&name.as_str()) {
            continue;
        }
        if read >= MAX_SOURCE_FILES || bytes >= MAX_SOURCE_TOTAL {
            tree.names_complete = false;
            continue;
        }
        read += 1;
        match read_source(entry.path()) {
            Ok(Some(text)) => {
                bytes += text.len() as u64;
                for found in NAME_TOKEN.find_iter(&text) {
                    let found = found.as_str();
                    if found.contains('_') && !tree.names.contains(found) {
                        tree.names.insert(found.to_owned());
                    }
                    if example && let Some((prefix, _)) = found.split_once('_') {
                        tree.env_prefixes.insert(format!("{prefix}_"));
                    }
                }
                let config = Path::new(&name)
                    .extension()
                    .and_then(OsStr::to_str)
                    .is_some_and(|ext| SITE_CONFIG_EXTENSIONS.contains(&ext));
                for line in text
                    .lines()
                    .filter(|l| l.contains(".md") || l.contains(".markdown"))
                {
                    // A site's navigation, or code that includes the doc (`include_str!`): not a mere
                    // mention in a test or a message.
                    if config || line.contains("include") {
                        tree.md_mentions.extend(
                            MD_MENTION
                                .find_iter(line)
                                .map(|found| found.as_str().to_owned()),
                        );
                    }
                }
            }
            Ok(None) => {}
            Err(err) => warnings.push(format!("failed to read `{rel}`: {err}")),
        }
    }
    tree.docs.sort();
    Ok(tree)
}

/// A source file's text, or `None` when it is large or binary.
pub(super) fn read_source(path: &Path) -> io::Result<Option<String>> {
    if fs::metadata(path)?.len() > MAX_SOURCE_BYTES {
        return Ok(None);
    }
    let bytes = fs::read(path)?;
    if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

pub(super) fn is_markdown(rel: &str) -> bool {
    Path::new(rel)
        .extension()
        .and_then(OsStr::to_str)
        .is_some_and(|ext| ext.eq_ignore_ascii_case("md") || ext.eq_ignore_ascii_case("markdown"))
}

/// Whether a doc records the past (a changelog, a decision record): what it names is gone on purpose.
pub(super) fn is_historical(rel: &str) -> bool {
    let stem = Path::new(file_name(rel))
        .file_stem()
        .and_then(OsStr::to_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    stem.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| HISTORICAL_DOCS.contains(&word))
        || rel
            .split('/')
            .skip(1)
            .collect::<Vec<_>>()
            .split_last()
            .is_some_and(|(_, dirs)| {
                dirs.iter()
                    .any(|d| HISTORICAL_DIRS.contains(&d.to_ascii_lowercase().as_str()))
            })
}

/// A line that tells the reader to set something: the variables it names are knobs of the project.
pub(super) static SETTING_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:set|sets|setting|export|define|provide)\b").expect("valid regex")
});

pub(super) static HISTORICAL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:renamed|removed|deprecated|no longer|replaced|formerly|previously|used to|obsolete|moved|deleted|instead of|migrat(?:e|ed|ing|ion))\b")
        .expect("valid regex")
});

/// `.gitignore` files, read once per folder: what is ignored is created at run time, not missing.
pub(super) struct Ignores {
    pub(super) root: PathBuf,
    pub(super) matchers: HashMap<String, Option<Gitignore>>,
}

impl Ignores {
    pub(super) fn new(root: &Path) -> Ignores {
        Ignores {
            root: root.to_owned(),
            matchers: HashMap::new(),
        }
    }

    pub(super) fn matcher(&mut self, dir: &str) -> Option<&Gitignore> {
        let root = &self.root;
        self.matchers
            .entry(dir.to_owned())
            .or_insert_with(|| {
                let abs = root.join(dir);
                let file = abs.join(".gitignore");
                let exclude = root.join(".git/info/exclude");
                let top = dir.is_empty() && exclude.is_file();
                if !file.is_file() && !top {
                    return None;
                }
                let mut builder = GitignoreBuilder::new(&abs);
                if file.is_file() {
                    let _ = builder.add(&file);
                }
                if top {
                    let _ = builder.add(&exclude);
                }
                builder.build().ok()
            })
            .as_ref()
    }

    /// Whether `rel` (relative to the project, existing or not) is ignored by a `.gitignore` on its way.
    pub(super) fn ignored(&mut self, rel: &str, dir: bool) -> bool {
        let parts: Vec<&str> = rel.split('/').collect();
        let mut ignored = false;
        for depth in 0..parts.len() {
            let folder = parts[..depth].join("/");
            let sub = parts[depth..].join("/");
            if let Some(matcher) = self.matcher(&folder) {
                match matcher.matched_path_or_any_parents(&sub, dir) {
                    Match::Ignore(_) => ignored = true,
                    Match::Whitelist(_) => ignored = false,
                    Match::None => {}
                }
            }
        }
        ignored
    }
}
