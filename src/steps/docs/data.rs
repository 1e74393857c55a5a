//! What the step stores in the state (findings, counts), rendered into the report later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::LIST_LIMIT;

/// Everything one docs unit found; stored in the state, rendered by [`render`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct DocsData {
    /// Markdown files checked.
    pub(super) docs: usize,
    #[serde(default)]
    pub(super) checked: Checked,
    /// The staleness threshold used, in days.
    pub(super) stale_days: u32,
    /// Findings per kind, all of them (the list is bounded).
    #[serde(default)]
    pub(super) counts: BTreeMap<Kind, usize>,
    #[serde(default)]
    pub(super) findings: Listed<Finding>,
    /// Checks skipped and why (not a git repository, no built binary, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) notes: Vec<String>,
}

/// How many references of each sort were looked at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Checked {
    pub(super) links: usize,
    pub(super) paths: usize,
    pub(super) commands: usize,
    pub(super) env_vars: usize,
}

/// The sorts of finding, in the order the report lists them: what misleads readers first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Kind {
    BrokenLink,
    Command,
    MissingPath,
    EnvVar,
    Stale,
    Orphan,
}

impl Kind {
    pub(super) fn noun(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (Kind::BrokenLink, true) => "broken link",
            (Kind::BrokenLink, false) => "broken links",
            (Kind::Command, true) => "gone command",
            (Kind::Command, false) => "gone commands",
            (Kind::MissingPath, true) => "missing path",
            (Kind::MissingPath, false) => "missing paths",
            (Kind::EnvVar, true) => "unknown env var",
            (Kind::EnvVar, false) => "unknown env vars",
            (Kind::Stale, true) => "stale doc",
            (Kind::Stale, false) => "stale docs",
            (Kind::Orphan, true) => "orphan doc",
            (Kind::Orphan, false) => "orphan docs",
        }
    }

    pub(super) fn heading(self) -> &'static str {
        match self {
            Kind::BrokenLink => "Broken links",
            Kind::Command => "Commands that no longer work",
            Kind::MissingPath => "Paths that no longer exist",
            Kind::EnvVar => "Unknown environment variables",
            Kind::Stale => "Docs older than the code they name",
            Kind::Orphan => "Docs nothing links to",
        }
    }
}

/// One stale reference: where it is, what is wrong, and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Finding {
    pub(super) kind: Kind,
    /// The doc, relative to the project directory.
    pub(super) file: String,
    /// 1-based.
    pub(super) line: usize,
    pub(super) what: String,
    pub(super) fix: String,
    /// The mechanical fix, when there is one: replace `from` with `to` on that line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) replace: Option<Replace>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Replace {
    pub(super) from: String,
    pub(super) to: String,
}

/// A bounded list of this step: the first [`LIST_LIMIT`] items and how many there were.
pub(super) type Listed<T> = crate::step::Listed<T, LIST_LIMIT>;
