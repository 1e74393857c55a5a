//! The audit of one project's docs: what each doc is checked for, and the orphan docs.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::sync::LazyLock;

use anyhow::Result;
use regex::Regex;

use super::binaries::Bins;
use super::commands::Shell;
use super::data::{Checked, Finding, Kind};
use super::env::{example_reads, span_vars};
use super::files::{HISTORICAL_LINE, Ignores, SETTING_LINE, Tree, is_historical};
use super::links::bases;
use super::markdown::parse;
use super::paths::{file_name, normalize, parent, path_candidate, relative};
use super::shell::commands;
use super::site::Site;
use super::{INDEX_DOCS, SITE_CONFIGS};
use crate::cancel::Cancel;
use crate::text::code;

/// A reference to a path that does not exist, settled once the git history is known.
pub(super) struct Missing {
    pub(super) kind: Kind,
    pub(super) file: String,
    pub(super) line: usize,
    /// As written in the doc.
    pub(super) written: String,
    /// Where it was looked for: (the folder it was taken from, the path), both relative to the project.
    pub(super) tries: Vec<(String, String)>,
    /// The doc says it is there (a link, a program): flagged even without evidence of what happened to it.
    pub(super) certain: bool,
    /// A bare file name: flagged only when git says it was deleted and nothing of that name exists now.
    pub(super) bare: bool,
    /// `what` for the finding.
    pub(super) what: String,
    /// Written from the project root with a leading `/` (a link).
    pub(super) from_top: bool,
}

/// The checks over all docs of a project, and what they found.
pub(super) struct Audit<'a> {
    pub(super) root: &'a Path,
    pub(super) tree: &'a Tree,
    pub(super) cancel: Cancel,
    pub(super) ignores: Ignores,
    pub(super) bins: Bins,
    /// The scripts of `package.json` files, by folder.
    pub(super) npm_scripts: HashMap<String, Option<BTreeSet<String>>>,
    /// Anchors of markdown files that links point into.
    pub(super) anchors: HashMap<String, Option<Vec<String>>>,
    pub(super) findings: Vec<Finding>,
    pub(super) missing: Vec<Missing>,
    /// Existing files each doc names, with the line of the first mention.
    pub(super) named: BTreeMap<String, BTreeMap<String, usize>>,
    /// Docs another doc links to.
    pub(super) linked: BTreeSet<String>,
    /// Docs another doc names in code but does not link to: the first place.
    pub(super) mentioned: BTreeMap<String, (String, usize)>,
    /// Variables already checked per doc.
    pub(super) env_seen: HashSet<(String, String)>,
    /// Prefixes of the project's own variables, from its names (`MYTOOL_` for `mytool`).
    pub(super) namespaces: Vec<String>,
    /// A variable was not checked because the source files were too many.
    pub(super) env_skipped: bool,
    pub(super) checked: Checked,
    pub(super) notes: BTreeSet<String>,
    /// The generator that builds the docs into a site, if one does.
    pub(super) site: Option<Site>,
    /// The variables the example programs of the doc being checked read.
    pub(super) example_reads: HashSet<String>,
}

impl<'a> Audit<'a> {
    pub(super) fn new(root: &'a Path, tree: &'a Tree, cancel: Cancel) -> Audit<'a> {
        let bins = Bins::of(root);
        let mut namespaces: Vec<String> = root
            .file_name()
            .and_then(OsStr::to_str)
            .into_iter()
            .chain(bins.rust.iter().map(String::as_str))
            .chain(bins.node.iter().map(String::as_str))
            .map(|name| format!("{}_", name.to_ascii_uppercase().replace(['-', '.'], "_")))
            .filter(|prefix| prefix.len() > 2)
            .collect();
        namespaces.sort();
        namespaces.dedup();
        Audit {
            root,
            tree,
            cancel,
            ignores: Ignores::new(root),
            bins,
            namespaces,
            npm_scripts: HashMap::new(),
            anchors: HashMap::new(),
            findings: Vec::new(),
            missing: Vec::new(),
            named: BTreeMap::new(),
            linked: BTreeSet::new(),
            mentioned: BTreeMap::new(),
            env_seen: HashSet::new(),
            env_skipped: false,
            checked: Checked::default(),
            notes: BTreeSet::new(),
            site: Site::detect(root),
            example_reads: HashSet::new(),
        }
    }

    pub(super) fn doc(&mut self, rel: &str, text: &str) -> Result<()> {
        let parsed = parse(text);
        self.example_reads = example_reads(&parsed.blocks);
        let lines: Vec<&str> = text.lines().collect();
        let dir = parent(rel);
        let line_is = |re: &Regex, line: usize| {
            lines
                .get(line.wrapping_sub(1))
                .is_some_and(|l| re.is_match(l))
        };
        let past = |line: usize| line_is(&HISTORICAL_LINE, line);
        let says_set = |line: usize| line_is(&SETTING_LINE, line);
        for (line, dest) in &parsed.links {
            self.link(rel, &dir, *line, dest, &parsed.anchors);
        }
        if is_historical(rel) {
            return Ok(());
        }
        for (line, span) in &parsed.spans {
            let historical = past(*line);
            for (name, setting) in span_vars(span) {
                self.env(rel, *line, &name, historical, setting || says_set(*line));
            }
            let first = span.split_whitespace().next().unwrap_or_default();
            let second = span.split_whitespace().nth(1).unwrap_or_default();
            let runs = self.bins.rust.contains(first)
                || self.bins.node.contains(first)
                || (matches!(first, "cargo" | "npm" | "pnpm" | "yarn" | "bun") && second == "run");
            if runs && !historical {
                for words in commands(span) {
                    let mut shell = Shell {
                        base: Some(String::new()),
                        ..Shell::default()
                    };
                    self.command(rel, *line, &words, &mut shell)?;
                }
            }
            if let Some(candidate) = path_candidate(span) {
                let tries = bases(&["", &dir]);
                self.path(
                    rel,
                    *line,
                    &candidate,
                    &tries,
                    Kind::MissingPath,
                    false,
                    historical,
                );
            }
        }
        for block in &parsed.blocks {
            self.block(rel, block)?;
        }
        for (line, name) in &parsed.dollars {
            self.env(rel, *line, name, past(*line), says_set(*line));
        }
        Ok(())
    }

    /// Docs under `docs/` that no other doc links to.
    pub(super) fn orphans(&mut self, docs: &[&String], notes: &mut Vec<String>) {
        static PAGE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"[\w./-]+\.md\b").expect("valid regex"));
        let mut linked = std::mem::take(&mut self.linked);
        if let Some(config) = SITE_CONFIGS
            .iter()
            .find(|config| self.root.join(config).exists())
        {
            notes.push(format!(
                "{} builds the docs into a site with its own navigation: orphan docs were not checked",
                code(config)
            ));
            return;
        }
        for mkdocs in ["mkdocs.yml", "mkdocs.yaml"] {
            let Ok(text) = fs::read_to_string(self.root.join(mkdocs)) else {
                continue;
            };
            if !text.lines().any(|l| l.starts_with("nav:")) {
                notes.push(format!(
                    "{} builds every page under `docs/` into its site: orphan docs were not checked",
                    code(mkdocs)
                ));
                return;
            }
            let docs_dir = text
                .lines()
                .find_map(|l| l.strip_prefix("docs_dir:"))
                .map_or("docs", |d| d.trim().trim_matches(['"', '\'']))
                .trim_end_matches('/')
                .to_owned();
            for page in PAGE.find_iter(&text) {
                if let Some(rel) = normalize(&docs_dir, page.as_str()) {
                    linked.insert(rel);
                }
            }
        }
        for doc in docs {
            if !doc.starts_with("docs/")
                || linked.contains(*doc)
                || self.tree.md_mentions.contains(file_name(doc))
                || INDEX_DOCS.contains(&file_name(doc).to_ascii_lowercase().as_str())
            {
                continue;
            }
            let (fix, replace) = match self.mentioned.get(*doc) {
                Some((from, line)) => {
                    let target = relative(&parent(from), doc);
                    (
                        format!(
                            "{} names it in code: make that a link, {}",
                            code(&format!("{from}:{line}")),
                            code(&format!("[`{doc}`]({target})"))
                        ),
                        None,
                    )
                }
                None => (
                    "link it from `README.md` or a docs index, or delete it if it is obsolete"
                        .to_owned(),
                    None,
                ),
            };
            self.findings.push(Finding {
                kind: Kind::Orphan,
                file: (*doc).clone(),
                line: 1,
                what: "no other doc links to it".to_owned(),
                fix,
                replace,
            });
        }
    }
}
