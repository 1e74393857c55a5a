//! What the step stores in the state (removals, legacy-code signals), rendered into the report later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::LIST_LIMIT;

/// Everything one cleanup unit found and did; stored in the state, rendered by [`render`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct CleanupData {
    /// A dry run removes nothing: the artifacts listed are those it would have removed.
    #[serde(default)]
    pub(super) dry_run: bool,
    #[serde(default)]
    pub(super) git: Git,
    /// Things worth saying that are not problems (not a git repository, a nested repository skipped, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) notes: Vec<String>,
    #[serde(default)]
    pub(super) artifacts: Artifacts,
    #[serde(default)]
    pub(super) legacy: Legacy,
}

/// What git could say about the project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Git {
    /// A git work tree; `tracked_files` is what `git ls-files` listed under the project directory.
    WorkTree { tracked_files: usize },
    /// Not inside a git work tree: nothing is tracked.
    NotARepository,
    /// What is tracked could not be known, so nothing was removed.
    #[default]
    Unavailable,
}

/// What happened to the untracked artifacts found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Removal {
    #[default]
    Removed,
    /// A dry run: listed, not removed.
    WouldRemove,
    /// Not removed because what git tracks could not be known.
    Kept,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Artifacts {
    #[serde(default)]
    pub(super) removal: Removal,
    /// The artifacts removed (or that would be, or that were kept: see `removal`), with their totals.
    #[serde(default)]
    pub(super) totals: Totals,
    #[serde(default)]
    pub(super) items: Listed<Artifact>,
    /// Part of `totals` removed by an earlier attempt of the day that was interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) earlier: Option<Totals>,
    /// Artifacts whose removal failed (not in `totals`).
    #[serde(default)]
    pub(super) failed: Listed<Failure>,
    /// Artifacts that are symbolic links: never followed, never removed.
    #[serde(default)]
    pub(super) symlinks: Listed<String>,
    /// Artifacts git tracks: kept, and an action asks a human to untrack them.
    #[serde(default)]
    pub(super) tracked: Listed<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Totals {
    /// Artifact folders and files (a `__pycache__` folder counts once).
    pub(super) artifacts: usize,
    /// Files inside them (a `*.pyc` counts once).
    pub(super) files: u64,
    /// The sum of those files' sizes, measured before removal.
    pub(super) bytes: u64,
}

/// One artifact: a folder removed as a whole, or a single `*.pyc`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Artifact {
    /// Relative to the project directory.
    pub(super) path: String,
    pub(super) dir: bool,
    pub(super) files: u64,
    pub(super) bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Failure {
    pub(super) path: String,
    pub(super) error: String,
}

/// A bounded list of this step: the first [`LIST_LIMIT`] items and how many there were.
pub(super) type Listed<T> = crate::step::Listed<T, LIST_LIMIT>;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Legacy {
    pub(super) files_scanned: usize,
    /// Source files not scanned because they are larger than [`MAX_SOURCE_BYTES`].
    #[serde(default)]
    pub(super) skipped_large: usize,
    /// Source files not scanned because they hold a NUL byte.
    #[serde(default)]
    pub(super) skipped_binary: usize,
    /// Source files left out because they are inputs of the tests (fixtures, files a test names).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) fixtures_skipped: usize,
    #[serde(default)]
    pub(super) commented_out: Listed<Block>,
    /// Markers in comments, per marker (`TODO`, `FIXME`, `XXX`).
    #[serde(default)]
    pub(super) marker_counts: BTreeMap<String, usize>,
    #[serde(default)]
    pub(super) markers: Listed<Todo>,
    /// One entry per configured pattern, in the configured order.
    #[serde(default)]
    pub(super) deprecated: Vec<Deprecated>,
}

/// A block of commented-out code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Block {
    pub(super) path: String,
    pub(super) start: usize,
    pub(super) end: usize,
    /// The block's first code line, marker stripped.
    pub(super) preview: String,
}

/// A TODO, FIXME or XXX in a comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Todo {
    pub(super) path: String,
    pub(super) line: usize,
    pub(super) marker: String,
    /// From the marker to the end of the line.
    pub(super) text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Deprecated {
    pub(super) pattern: String,
    pub(super) uses: Listed<Location>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Location {
    pub(super) path: String,
    pub(super) line: usize,
    pub(super) text: String,
}

/// The resume point saved just before removals start: what this attempt is about to remove.
#[derive(Serialize, Deserialize)]
pub(super) struct Plan {
    pub(super) removing: Vec<Artifact>,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(n: &usize) -> bool {
    *n == 0
}
