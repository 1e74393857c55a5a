//! The `cleanup` step: removes the build artifacts of a project that git does not track, and reports (never
//! edits) legacy-code signals: blocks of commented-out code, TODO/FIXME/XXX markers and the project's
//! configured deprecated patterns.
//!
//! Two walks, neither of which follows symbolic links:
//! - artifacts: every folder except version-control, vendored and virtualenv folders and nested repositories,
//!   with `.gitignore` NOT applied (artifacts are usually ignored, which is how they survive);
//! - legacy signals: source files only, `.gitignore`-aware (the `ignore` crate's standard filters).
//!
//! What git tracks comes from `git ls-files`. When that cannot be known (git missing, a git error), nothing is
//! removed: deleting a tracked file is the one mistake this step must never make.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::ops::Bound;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use anyhow::{Context, Result};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::exec::{Cmd, ExecError};
use crate::step::{Outcome, Output, Step, UnitCx, Warnings};

/// Folders that are build artifacts as a whole.
const ARTIFACT_DIRS: &[&str] = &["__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"];
/// Files that are build artifacts wherever they are.
const ARTIFACT_EXTENSION: &str = "pyc";
/// Folders neither walk enters: version control, vendored code, virtualenvs and other build trees.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "vendor",
    "third_party",
    ".venv",
    "venv",
    "site-packages",
    ".tox",
    ".nox",
    "target",
];
/// A folder holding one of these is a virtualenv (or a conda environment), whatever its name (`env`, `py311`, ...).
const VENV_MARKERS: &[&str] = &["pyvenv.cfg", "conda-meta", "bin/activate"];
/// Items kept per list in the data; the totals count everything.
const LIST_LIMIT: usize = 50;
/// Items shown per list in the report.
const RENDER_LIMIT: usize = 10;
/// Source files larger than this are not scanned for legacy signals.
const MAX_SOURCE_BYTES: u64 = 1024 * 1024;
/// A NUL byte in this many leading bytes makes a file binary.
const BINARY_PROBE: usize = 8 * 1024;
/// Characters kept of a quoted line (preview, TODO text, deprecated use).
const TEXT_LIMIT: usize = 120;
/// Consecutive non-empty comment lines a commented-out block needs at least.
const MIN_BLOCK_LINES: usize = 3;
const GIT_TIMEOUT: Duration = Duration::from_secs(60);
/// Actions listed one per tracked artifact; beyond this they are grouped.
const TRACKED_ACTIONS: usize = 5;

pub(crate) struct Cleanup;

impl Step for Cleanup {
    fn name(&self) -> &'static str {
        "cleanup"
    }

    fn title(&self) -> &'static str {
        "Cleanup"
    }

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome> {
        cleanup(cx, OsStr::new("git"))
    }

    fn render(&self, output: &Output, out: &mut String) {
        match serde_json::from_value::<CleanupData>(output.data.clone()) {
            Ok(data) => render(&data, out),
            Err(err) => {
                let _ = writeln!(out, "_The cleanup findings could not be read: {err}._");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The data stored in the state and rendered into the report.

/// Everything one cleanup unit found and did; stored in the state, rendered by [`render`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct CleanupData {
    /// A dry run removes nothing: the artifacts listed are those it would have removed.
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    git: Git,
    /// Things worth saying that are not problems (not a git repository, a nested repository skipped, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    #[serde(default)]
    artifacts: Artifacts,
    #[serde(default)]
    legacy: Legacy,
}

/// What git could say about the project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Git {
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
enum Removal {
    #[default]
    Removed,
    /// A dry run: listed, not removed.
    WouldRemove,
    /// Not removed because what git tracks could not be known.
    Kept,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Artifacts {
    #[serde(default)]
    removal: Removal,
    /// The artifacts removed (or that would be, or that were kept: see `removal`), with their totals.
    #[serde(default)]
    totals: Totals,
    #[serde(default)]
    items: Listed<Artifact>,
    /// Part of `totals` removed by an earlier attempt of the day that was interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    earlier: Option<Totals>,
    /// Artifacts whose removal failed (not in `totals`).
    #[serde(default)]
    failed: Listed<Failure>,
    /// Artifacts that are symbolic links: never followed, never removed.
    #[serde(default)]
    symlinks: Listed<String>,
    /// Artifacts git tracks: kept, and an action asks a human to untrack them.
    #[serde(default)]
    tracked: Listed<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Totals {
    /// Artifact folders and files (a `__pycache__` folder counts once).
    artifacts: usize,
    /// Files inside them (a `*.pyc` counts once).
    files: u64,
    /// The sum of those files' sizes, measured before removal.
    bytes: u64,
}

/// One artifact: a folder removed as a whole, or a single `*.pyc`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Artifact {
    /// Relative to the project directory.
    path: String,
    dir: bool,
    files: u64,
    bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Failure {
    path: String,
    error: String,
}

/// A bounded list: the first [`LIST_LIMIT`] items and how many there were.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Listed<T> {
    total: usize,
    items: Vec<T>,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            total: 0,
            items: Vec::new(),
        }
    }
}

impl<T> Listed<T> {
    fn push(&mut self, item: T) {
        self.total += 1;
        if self.items.len() < LIST_LIMIT {
            self.items.push(item);
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Legacy {
    files_scanned: usize,
    /// Source files not scanned because they are larger than [`MAX_SOURCE_BYTES`].
    #[serde(default)]
    skipped_large: usize,
    /// Source files not scanned because they hold a NUL byte.
    #[serde(default)]
    skipped_binary: usize,
    #[serde(default)]
    commented_out: Listed<Block>,
    /// Markers in comments, per marker (`TODO`, `FIXME`, `XXX`).
    #[serde(default)]
    marker_counts: BTreeMap<String, usize>,
    #[serde(default)]
    markers: Listed<Todo>,
    /// One entry per configured pattern, in the configured order.
    #[serde(default)]
    deprecated: Vec<Deprecated>,
}

/// A block of commented-out code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Block {
    path: String,
    start: usize,
    end: usize,
    /// The block's first code line, marker stripped.
    preview: String,
}

/// A TODO, FIXME or XXX in a comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Todo {
    path: String,
    line: usize,
    marker: String,
    /// From the marker to the end of the line.
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Deprecated {
    pattern: String,
    uses: Listed<Location>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Location {
    path: String,
    line: usize,
    text: String,
}

/// The resume point saved just before removals start: what this attempt is about to remove.
#[derive(Serialize, Deserialize)]
struct Plan {
    removing: Vec<Artifact>,
}

// ---------------------------------------------------------------------------------------------------------
// The unit.

/// The step with the git program as a parameter, so tests can make git missing or broken.
fn cleanup(cx: &mut UnitCx<'_>, git: &OsStr) -> Result<Outcome> {
    let project = cx.project();
    let cancel = cx.run.cancel.clone();
    let root = fs::canonicalize(&project.dir)
        .with_context(|| format!("failed to resolve `{}`", project.dir_display))?;
    let mut warnings = Warnings::default();
    let mut data = CleanupData {
        dry_run: cx.run.dry_run,
        ..CleanupData::default()
    };

    let tracked = match tracking(git, &root) {
        Tracking::WorkTree(tracked) => {
            data.git = Git::WorkTree {
                tracked_files: tracked.len(),
            };
            Some(tracked)
        }
        Tracking::NotARepository => {
            data.git = Git::NotARepository;
            data.notes.push("not a git repository: nothing is tracked, so every artifact found counts as untracked".to_owned());
            None
        }
        Tracking::Unavailable(reason) => {
            data.git = Git::Unavailable;
            warnings.push(format!("{reason}; no artifact was removed"));
            None
        }
    };

    let found = find_artifacts(
        &root,
        tracked.as_ref(),
        &cancel,
        &mut warnings,
        &mut data.notes,
    )?;
    for path in &found.symlinks {
        data.artifacts.symlinks.push(show(path));
    }
    for path in &found.tracked {
        data.artifacts.tracked.push(show(path));
    }

    // A dry run previews what a real run would do, and a real run removes nothing without git.
    let removal = if data.git == Git::Unavailable {
        Removal::Kept
    } else if data.dry_run {
        Removal::WouldRemove
    } else {
        Removal::Removed
    };
    data.artifacts.removal = removal;
    let resume = cx.take_resume();
    let artifacts = &mut data.artifacts;
    if removal == Removal::Removed {
        let earlier = removed_earlier(resume, &root);
        if !earlier.is_empty() {
            let mut sum = Totals::default();
            for artifact in earlier.iter().cloned() {
                add(&mut sum, &artifact);
                add(&mut artifacts.totals, &artifact);
                artifacts.items.push(artifact);
            }
            data.notes.push(format!(
                "an interrupted attempt earlier today removed {} ({}); they are counted here",
                plural(sum.artifacts, "artifact", "artifacts"),
                human_bytes(sum.bytes)
            ));
            artifacts.earlier = Some(sum);
        }
        if !found.candidates.is_empty() {
            // Saved before the first removal, so a kill mid-way still counts what this attempt (and the
            // interrupted ones before it) removed.
            let planned = found.candidates.iter().filter(|c| c.rel.to_str().is_some());
            let plan = Plan {
                removing: earlier
                    .iter()
                    .cloned()
                    .chain(planned.map(|c| c.artifact.clone()))
                    .collect(),
            };
            cx.checkpoint(serde_json::to_value(plan)?)?;
        }
        for candidate in found.candidates {
            cx.check_cancel()?;
            match remove(&root, &candidate) {
                Ok(()) => {
                    add(&mut artifacts.totals, &candidate.artifact);
                    artifacts.items.push(candidate.artifact);
                }
                Err(err) => {
                    warnings.push(format!(
                        "failed to remove `{}`: {err}",
                        candidate.artifact.path
                    ));
                    artifacts.failed.push(Failure {
                        path: candidate.artifact.path,
                        error: err.to_string(),
                    });
                }
            }
        }
    } else {
        for candidate in found.candidates {
            add(&mut artifacts.totals, &candidate.artifact);
            artifacts.items.push(candidate.artifact);
        }
    }

    data.legacy = scan_legacy(&root, &project.deprecated_patterns, &cancel, &mut warnings)?;

    let actions = actions(&data);
    Ok(Outcome::Done(Output {
        summary: summary(&data),
        data: serde_json::to_value(&data)?,
        actions,
        warnings: warnings.finish(),
    }))
}

fn add(totals: &mut Totals, artifact: &Artifact) {
    totals.artifacts += 1;
    totals.files += artifact.files;
    totals.bytes += artifact.bytes;
}

/// Artifacts an interrupted earlier attempt planned to remove and that are gone now.
fn removed_earlier(resume: Option<serde_json::Value>, root: &Path) -> Vec<Artifact> {
    let Some(plan) = resume.and_then(|value| serde_json::from_value::<Plan>(value).ok()) else {
        return Vec::new();
    };
    plan.removing
        .into_iter()
        .filter(|artifact| {
            let rel = Path::new(&artifact.path);
            let inside = rel.components().count() > 0
                && rel.components().all(|c| matches!(c, Component::Normal(_)));
            inside
                && fs::symlink_metadata(root.join(rel))
                    .is_err_and(|err| err.kind() == io::ErrorKind::NotFound)
        })
        .collect()
}

/// One line: what was (or would be) removed, then the legacy signals.
fn summary(data: &CleanupData) -> String {
    let totals = &data.artifacts.totals;
    let what = format!(
        "{} ({})",
        plural(totals.artifacts, "artifact", "artifacts"),
        human_bytes(totals.bytes)
    );
    let mut removal = match (data.artifacts.removal, totals.artifacts) {
        (Removal::Kept, 0) => "nothing removed (git unavailable)".to_owned(),
        (Removal::Kept, _) => format!("found {what}, none removed (git unavailable)"),
        (_, 0) => "no artifacts to remove".to_owned(),
        (Removal::Removed, _) => format!("removed {what}"),
        (Removal::WouldRemove, _) => format!("would remove {what}"),
    };
    if data.artifacts.failed.total > 0 {
        let _ = write!(removal, ", {} failed", data.artifacts.failed.total);
    }
    let legacy = &data.legacy;
    let deprecated: usize = legacy.deprecated.iter().map(|d| d.uses.total).sum();
    format!(
        "{removal}; {}, {} TODO/FIXME/XXX, {}",
        plural(
            legacy.commented_out.total,
            "commented-out block",
            "commented-out blocks"
        ),
        legacy.markers.total,
        plural(deprecated, "deprecated use", "deprecated uses")
    )
}

/// What a human must do: untrack tracked artifacts, replace deprecated uses.
fn actions(data: &CleanupData) -> Vec<String> {
    let mut actions = Vec::new();
    let tracked = &data.artifacts.tracked;
    for path in tracked.items.iter().take(TRACKED_ACTIONS) {
        actions.push(format!(
            "{} is tracked by git; `git rm -r --cached` it and ignore it",
            code(path)
        ));
    }
    if tracked.total > TRACKED_ACTIONS {
        actions.push(format!(
            "{} more build artifacts are tracked by git (see the cleanup section); `git rm -r --cached` them",
            tracked.total - TRACKED_ACTIONS
        ));
    }
    for deprecated in &data.legacy.deprecated {
        if deprecated.uses.total == 0 {
            continue;
        }
        let shown: Vec<String> = deprecated
            .uses
            .items
            .iter()
            .take(3)
            .map(|u| format!("`{}:{}`", u.path, u.line))
            .collect();
        actions.push(format!(
            "deprecated pattern {} is used {} ({}); replace {}",
            code(&deprecated.pattern),
            if deprecated.uses.total == 1 {
                "once".to_owned()
            } else {
                format!("{} times", deprecated.uses.total)
            },
            with_more(&shown, deprecated.uses.total),
            if deprecated.uses.total == 1 {
                "it"
            } else {
                "them"
            }
        ));
    }
    actions
}

// ---------------------------------------------------------------------------------------------------------
// What git tracks.

enum Tracking {
    /// Paths relative to the project directory.
    WorkTree(BTreeSet<PathBuf>),
    NotARepository,
    /// Why what is tracked cannot be known.
    Unavailable(String),
}

fn git_cmd(git: &OsStr, root: &Path) -> Cmd {
    // English messages (we read stderr), and no inherited repository overrides.
    Cmd::new(git)
        .cwd(root)
        .timeout(GIT_TIMEOUT)
        .env("LC_ALL", "C")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
}

fn tracking(git: &OsStr, root: &Path) -> Tracking {
    let shown = git.to_string_lossy();
    match git_cmd(git, root)
        .args(["rev-parse", "--is-inside-work-tree"])
        .run()
    {
        Ok(done) if String::from_utf8_lossy(&done.stdout).trim() == "true" => {}
        Ok(_) => {
            return Tracking::Unavailable(
                "the project directory is inside a `.git` folder, not a work tree".to_owned(),
            );
        }
        Err(ExecError::Start { err, .. }) if err.kind() == io::ErrorKind::NotFound => {
            return Tracking::Unavailable(format!(
                "git is needed to know what is tracked, and `{shown}` was not found"
            ));
        }
        Err(ExecError::Failed { stderr, .. }) if stderr.contains("not a git repository") => {
            return Tracking::NotARepository;
        }
        Err(err) => return Tracking::Unavailable(format!("could not tell what git tracks: {err}")),
    }
    match git_cmd(git, root).args(["ls-files", "-z"]).run() {
        Ok(done) if done.stdout_dropped > 0 => Tracking::Unavailable(
            "could not tell what git tracks: `git ls-files` printed more than daydream keeps"
                .to_owned(),
        ),
        // In a subfolder of a work tree, ls-files lists that subfolder only, relative to it.
        Ok(done) => Tracking::WorkTree(
            done.stdout
                .split(|b| *b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| PathBuf::from(OsStr::from_bytes(p)))
                .collect(),
        ),
        Err(err) => Tracking::Unavailable(format!("could not tell what git tracks: {err}")),
    }
}

/// Tracked paths at or under `dir`. Paths order by components, so they follow `dir` contiguously.
fn tracked_under(tracked: &BTreeSet<PathBuf>, dir: &Path) -> Vec<PathBuf> {
    tracked
        .range::<Path, _>((Bound::Included(dir), Bound::Unbounded))
        .take_while(|p| p.starts_with(dir))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Finding and removing artifacts.

struct Candidate {
    rel: PathBuf,
    artifact: Artifact,
}

#[derive(Default)]
struct Found {
    /// Untracked artifacts, in walk order.
    candidates: Vec<Candidate>,
    symlinks: Vec<PathBuf>,
    tracked: BTreeSet<PathBuf>,
}

/// Walks the whole project (gitignore not applied, symlinks never followed) for artifacts.
///
/// An artifact folder with tracked files inside is not an artifact as a whole: it is walked like any folder,
/// so its untracked `*.pyc` files are still removed one by one.
fn find_artifacts(
    root: &Path,
    tracked: Option<&BTreeSet<PathBuf>>,
    cancel: &Cancel,
    warnings: &mut Warnings,
    notes: &mut Vec<String>,
) -> Result<Found> {
    let mut found = Found::default();
    let mut nested = Listed::<String>::default();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        cancel.check()?;
        let entries = match read_dir_sorted(&root.join(&rel)) {
            Ok(entries) => entries,
            Err(err) => {
                warnings.push(format!("failed to read `{}`: {err}", show_dir(&rel)));
                continue;
            }
        };
        let mut subdirs = Vec::new();
        for (name, kind) in entries {
            let child = rel.join(&name);
            let artifact_dir = name.to_str().is_some_and(|n| ARTIFACT_DIRS.contains(&n));
            let artifact_file =
                Path::new(&name).extension() == Some(OsStr::new(ARTIFACT_EXTENSION));
            match kind {
                Kind::Symlink => {
                    if artifact_dir || artifact_file {
                        found.symlinks.push(child);
                    }
                }
                Kind::Dir if artifact_dir => {
                    let inside = tracked
                        .map(|t| tracked_under(t, &child))
                        .unwrap_or_default();
                    if inside.is_empty() {
                        let (files, bytes) = measure(&root.join(&child), cancel, warnings)?;
                        let artifact = Artifact {
                            path: show(&child),
                            dir: true,
                            files,
                            bytes,
                        };
                        found.candidates.push(Candidate {
                            rel: child,
                            artifact,
                        });
                    } else {
                        found.tracked.extend(inside);
                        subdirs.push(child);
                    }
                }
                Kind::Dir => match skipped_dir(&root.join(&child)) {
                    Some(Skip::NestedRepository) => nested.push(show(&child)),
                    Some(Skip::Vendored) => {}
                    None => subdirs.push(child),
                },
                Kind::File(size) if artifact_file => {
                    if tracked.is_some_and(|t| t.contains(&child)) {
                        found.tracked.insert(child);
                    } else {
                        let artifact = Artifact {
                            path: show(&child),
                            dir: false,
                            files: 1,
                            bytes: size,
                        };
                        found.candidates.push(Candidate {
                            rel: child,
                            artifact,
                        });
                    }
                }
                Kind::File(_) | Kind::Other => {}
            }
        }
        // Depth first, in name order.
        stack.extend(subdirs.into_iter().rev());
    }
    if nested.total > 0 {
        let shown: Vec<String> = nested
            .items
            .iter()
            .take(RENDER_LIMIT)
            .map(|p| format!("`{p}/`"))
            .collect();
        notes.push(format!(
            "nested repositories are left to themselves: {}",
            with_more(&shown, nested.total)
        ));
    }
    Ok(found)
}

enum Kind {
    Dir,
    /// A regular file and its size.
    File(u64),
    Symlink,
    Other,
}

/// The entries of `dir` by name, typed without following symlinks.
fn read_dir_sorted(dir: &Path) -> io::Result<Vec<(OsString, Kind)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        // `DirEntry::file_type` and `DirEntry::metadata` do not traverse symlinks.
        let kind = match entry.file_type()? {
            t if t.is_symlink() => Kind::Symlink,
            t if t.is_dir() => Kind::Dir,
            t if t.is_file() => Kind::File(entry.metadata()?.len()),
            _ => Kind::Other,
        };
        entries.push((entry.file_name(), kind));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

enum Skip {
    Vendored,
    NestedRepository,
}

/// Why neither walk enters the folder at `path`, if it should not.
fn skipped_dir(path: &Path) -> Option<Skip> {
    let name = path.file_name()?.to_str().unwrap_or_default();
    if SKIP_DIRS.contains(&name)
        || VENV_MARKERS
            .iter()
            .any(|m| fs::symlink_metadata(path.join(m)).is_ok())
    {
        return Some(Skip::Vendored);
    }
    // Another repository (a submodule, a checkout inside the project): what it tracks is its own business.
    fs::symlink_metadata(path.join(".git"))
        .is_ok()
        .then_some(Skip::NestedRepository)
}

/// Files and bytes under `dir`, not following symlinks (a link counts as a file of no bytes).
fn measure(dir: &Path, cancel: &Cancel, warnings: &mut Warnings) -> Result<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        cancel.check()?;
        match read_dir_sorted(&dir) {
            Ok(entries) => {
                for (name, kind) in entries {
                    match kind {
                        Kind::Dir => stack.push(dir.join(name)),
                        Kind::File(size) => {
                            files += 1;
                            bytes += size;
                        }
                        Kind::Symlink | Kind::Other => files += 1,
                    }
                }
            }
            Err(err) => warnings.push(format!("failed to measure `{}`: {err}", dir.display())),
        }
    }
    Ok((files, bytes))
}

/// Removes one artifact after checking that it is still what was measured, inside the project.
fn remove(root: &Path, candidate: &Candidate) -> io::Result<()> {
    let path = root.join(&candidate.rel);
    let parent = path
        .parent()
        .filter(|_| path != root)
        .ok_or_else(|| io::Error::other("it is the project directory"))?;
    // `root` is canonical and the walk followed no symlink, so the parent is canonical unless something
    // swapped a folder on the way for a link since: then it may lead outside the project.
    if fs::canonicalize(parent)? != parent || !path.starts_with(root) {
        return Err(io::Error::other(
            "its folder now leads outside the project directory; left alone",
        ));
    }
    let meta = fs::symlink_metadata(&path)?;
    if meta.file_type().is_symlink() {
        return Err(io::Error::other("it became a symbolic link; left alone"));
    }
    if meta.is_dir() != candidate.artifact.dir {
        return Err(io::Error::other(
            "it changed type since it was measured; left alone",
        ));
    }
    if candidate.artifact.dir {
        // Removes symlinks inside as links: never follows them.
        fs::remove_dir_all(&path)
    } else {
        fs::remove_file(&path)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Legacy-code signals.

/// The comment syntax of a source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    /// `#` line comments (Python, shell, Ruby, Perl, R).
    Hash,
    /// `//` line comments and `/* */` blocks (C family, Rust, Go, JavaScript, ...).
    Slash,
    /// Both (PHP).
    Both,
}

impl Syntax {
    fn of(path: &Path) -> Option<Syntax> {
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

    fn hash(self) -> bool {
        matches!(self, Syntax::Hash | Syntax::Both)
    }

    fn slash(self) -> bool {
        matches!(self, Syntax::Slash | Syntax::Both)
    }
}

static MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(TODO|FIXME|XXX)\b").expect("valid regex"));

/// Walks the project's source files (`.gitignore`-aware, symlinks not followed) for legacy signals.
fn scan_legacy(
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
    let walk = ignore::WalkBuilder::new(root)
        .standard_filters(true)
        // Honour `.gitignore` even where git is not (a copy of a repository, a project without git).
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(Ord::cmp)
        .filter_entry(|entry| {
            !(entry.depth() > 0
                && entry.file_type().is_some_and(|t| t.is_dir())
                && skipped_dir(entry.path()).is_some())
        })
        .build();
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
        scan_text(
            &rel,
            &String::from_utf8_lossy(&bytes),
            syntax,
            patterns,
            &mut legacy,
        );
    }
    Ok(legacy)
}

fn scan_text(path: &str, text: &str, syntax: Syntax, patterns: &[Regex], legacy: &mut Legacy) {
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        for found in MARKER.find_iter(line) {
            if in_comment(line, found.start(), syntax) {
                *legacy
                    .marker_counts
                    .entry(found.as_str().to_owned())
                    .or_default() += 1;
                let text = line[found.start()..]
                    .trim_end()
                    .trim_end_matches("*/")
                    .trim();
                legacy.markers.push(Todo {
                    path: path.to_owned(),
                    line: number,
                    marker: found.as_str().to_owned(),
                    text: clip(text),
                });
            }
        }
        for (pattern, deprecated) in patterns.iter().zip(&mut legacy.deprecated) {
            if pattern.is_match(line) {
                deprecated.uses.push(Location {
                    path: path.to_owned(),
                    line: number,
                    text: clip(line.trim()),
                });
            }
        }
    }
    for block in commented_out_blocks(text, syntax) {
        legacy.commented_out.push(Block {
            path: path.to_owned(),
            start: block.start,
            end: block.end,
            preview: clip(&block.preview),
        });
    }
}

/// Whether the text at `at` is in a comment: a comment opener comes before it on the line, or the line
/// continues a `/* */` block (starts with `*`). A marker inside a string literal is not a TODO.
fn in_comment(line: &str, at: usize, syntax: Syntax) -> bool {
    let before = &line[..at];
    (syntax.hash() && before.contains('#'))
        || (syntax.slash()
            && (before.contains("//")
                || before.contains("/*")
                || line.trim_start().starts_with('*')))
}

/// A block of commented-out code, by line numbers (1-based, inclusive).
#[derive(Debug, PartialEq, Eq)]
struct CodeBlock {
    start: usize,
    end: usize,
    preview: String,
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
/// starts with "Example", "Usage" or "e.g.", a markdown fence, or a line ending with `:` right before the
/// first code line, as in "cases such as:"). A block is located from its first to its last code line, and
/// previewed by the first.
fn commented_out_blocks(text: &str, syntax: Syntax) -> Vec<CodeBlock> {
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
fn line_comment(trimmed: &str, number: usize, syntax: Syntax) -> Option<&str> {
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
fn strip_star(line: &str) -> &str {
    let line = line.trim();
    line.strip_prefix('*').map_or(line, str::trim)
}

static LICENSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)copyright\b|\(c\)\s*\d{4}|spdx-license-identifier|all rights reserved|licensed under|permission is hereby granted")
        .expect("valid regex")
});
static EXAMPLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:for\s+)?(?:examples?\b|usage\b|e\.g\.|```)").expect("valid regex")
});

/// The block a run of comment lines is, if it is commented-out code.
fn judge(lines: &[(usize, &str)]) -> Option<CodeBlock> {
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
enum Class {
    Code,
    Prose,
    /// Neither, or a tie: directives, TODO notes, separators, single words.
    Neutral,
}

static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:-\*-|!|type:\s*ignore|noqa|nosec|pragma|pylint:|mypy:|pyright:|ruff:|flake8|isort:|fmt:\s*(?:on|off|skip)|coding[:=]|vim?:|eslint|jshint|tslint:|biome-ignore|@ts-|prettier-ignore|istanbul\s+ignore|c8\s+ignore|go:|\+build|nolint|#?region\b|#?endregion\b|mark:|swiftlint:|rubocop:|frozen_string_literal:|shellcheck|clang-format|cppcheck-suppress|noinspection|@flow|@jsx|webpackChunkName)",
    )
    .expect("valid regex")
});
/// Lowercase keywords that start a statement or declaration in common languages.
static KEYWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:def|class|import|from\s+[\w.]+\s+import|return|if|elif|else|for|while|let|const|var|fn|pub|function|print|try|except|catch|finally|raise|throw|async|await|yield|with|switch|case|break|continue|pass|package|func|struct|impl|static|public|private|protected|void|typedef|#include|#define|echo|export|assert|lambda|del|unless|elsif|puts|println|val)(?:$|[\s(:;{.])",
    )
    .expect("valid regex")
});
/// A Python block opener: a keyword line ending with `:`.
static BLOCK_OPENER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:async\s+)?(?:def|class|if|elif|else|for|while|try|except|finally|with|match|case)\b.*:$").expect("valid regex")
});
/// An assignment at the start: `x = ...`, `a.b[0] += ...`, `x: int = ...`, `a, b = ...`, `err := ...`,
/// `String name = ...`.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:[A-Za-z_][\w<>\[\],]*\s+)?[A-Za-z_$][\w$.\[\]'"]*(?:\s*,\s*[A-Za-z_$][\w$.]*)*(?:\s*:\s*[\w\[\]., |]+?)?\s*(?:[-+*/%&|^]|//|\*\*|<<|>>|:)?=[^=]"#,
    )
    .expect("valid regex")
});
/// A call: an identifier right before `(`.
static CALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z_$][\w$]*\(").expect("valid regex"));
static OPERATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"==|!=|&&|\|\||::|\+\+|<<|>>").expect("valid regex"));
/// A member access at the start: `self.x`, `console.log`, `np.array` (not "e.g.", whose first part is one letter).
static MEMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_]\w+\.[A-Za-z_]").expect("valid regex"));
/// A sentence start: a capitalised word followed by a lowercase one.
static SENTENCE_START: LazyLock<Regex> =
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
/// A line made only of brackets and `;`/`,` (`}`, `});`) is code. A directive (`type: ignore`, `noqa`,
/// `eslint-disable`, `-*- coding -*-`, ...), a TODO/FIXME/XXX note, or a line without letters or digits
/// (a separator) is neutral. Otherwise the side with more points wins; a tie is neutral.
fn classify(line: &str) -> Class {
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
const FUNCTION_WORDS: &[&str] = &[
    "the", "an", "of", "to", "than", "that", "this", "these", "those", "which", "because",
    "before", "after", "when", "where", "should", "would", "could", "can", "will", "we", "it",
    "its", "it's", "be", "are", "was", "were", "there", "here", "so", "but", "also", "only",
    "very", "about", "into", "by", "on", "at", "our", "your", "you", "they", "them", "has", "have",
    "had", "does", "doesn't", "don't", "isn't", "can't", "won't", "since", "until", "though",
    "although", "however", "must", "may", "might", "need", "needs", "just", "some", "such",
    "other", "each", "every", "both", "either", "same", "what", "why", "how", "who",
];

/// A markdown-style list item: `- item`, `* item`, `1. item`.
static LIST_ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[-*+\u{2022}]|\d+[.)])\s+\S").expect("valid regex"));

/// Whether the right-hand side of an apparent assignment (from the `=` on) is words, as in a glossary
/// (`indent = current indentation`) rather than an expression.
fn glossary(rhs: &str) -> bool {
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
fn plain_word(token: &str) -> bool {
    let word = token.trim_matches(|c: char| ".,;:!?'\"()`".contains(c));
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        && word.chars().next().is_some_and(char::is_alphabetic)
}

// ---------------------------------------------------------------------------------------------------------
// Rendering.

/// The markdown of one project's cleanup, under the project's heading.
fn render(data: &CleanupData, out: &mut String) {
    let artifacts = &data.artifacts;
    let totals = &artifacts.totals;
    let dry = if data.dry_run { " (dry run)" } else { "" };
    if totals.artifacts == 0 {
        let _ = writeln!(out, "No build artifacts to remove{dry}.");
    } else {
        let verb = match artifacts.removal {
            Removal::Removed => "Removed",
            Removal::WouldRemove => "Would remove",
            Removal::Kept => "Found, but did not remove,",
        };
        let _ = writeln!(
            out,
            "{verb} {}{dry}: {}, {}.",
            plural(totals.artifacts, "build artifact", "build artifacts"),
            plural_u64(totals.files, "file", "files"),
            human_bytes(totals.bytes)
        );
        for artifact in artifacts.items.items.iter().take(RENDER_LIMIT) {
            let slash = if artifact.dir { "/" } else { "" };
            let _ = writeln!(
                out,
                "- {} ({}, {})",
                code(&format!("{}{slash}", artifact.path)),
                plural_u64(artifact.files, "file", "files"),
                human_bytes(artifact.bytes)
            );
        }
        more_line(out, artifacts.items.total, RENDER_LIMIT);
    }
    if artifacts.removal == Removal::Kept && totals.artifacts > 0 {
        out.push_str(
            "\nNothing was removed: what git tracks could not be known (see the warnings).\n",
        );
    }
    if artifacts.failed.total > 0 {
        let _ = writeln!(
            out,
            "\nCould not remove {}:",
            plural(artifacts.failed.total, "artifact", "artifacts")
        );
        for failure in artifacts.failed.items.iter().take(RENDER_LIMIT) {
            let _ = writeln!(out, "- {}: {}", code(&failure.path), failure.error);
        }
        more_line(out, artifacts.failed.total, RENDER_LIMIT);
    }
    if artifacts.tracked.total > 0 {
        let shown: Vec<String> = artifacts
            .tracked
            .items
            .iter()
            .take(RENDER_LIMIT)
            .map(|p| code(p))
            .collect();
        let _ = writeln!(
            out,
            "\nKept because git tracks them: {}.",
            with_more(&shown, artifacts.tracked.total)
        );
    }
    if artifacts.symlinks.total > 0 {
        let shown: Vec<String> = artifacts
            .symlinks
            .items
            .iter()
            .take(RENDER_LIMIT)
            .map(|p| code(p))
            .collect();
        let _ = writeln!(
            out,
            "\nLeft alone because they are symbolic links (not followed): {}.",
            with_more(&shown, artifacts.symlinks.total)
        );
    }
    for note in &data.notes {
        let _ = writeln!(out, "\n_{}_", capitalise(note));
    }

    let legacy = &data.legacy;
    let deprecated_total: usize = legacy.deprecated.iter().map(|d| d.uses.total).sum();
    let _ = write!(
        out,
        "\nLegacy-code signals in {}",
        plural(legacy.files_scanned, "source file", "source files")
    );
    let skipped = legacy.skipped_large + legacy.skipped_binary;
    if skipped > 0 {
        let _ = write!(out, " ({skipped} skipped: larger than 1 MiB or binary)");
    }
    if legacy.commented_out.total + legacy.markers.total + deprecated_total == 0 {
        out.push_str(": none found.\n");
        return;
    }
    out.push_str(":\n");
    if legacy.commented_out.total > 0 {
        let _ = writeln!(
            out,
            "- commented-out code: {}",
            plural(legacy.commented_out.total, "block", "blocks")
        );
        for block in legacy.commented_out.items.iter().take(RENDER_LIMIT) {
            let _ = writeln!(
                out,
                "  - {} {}",
                code(&format!("{}:{}-{}", block.path, block.start, block.end)),
                code(&block.preview)
            );
        }
        more_line_indented(out, legacy.commented_out.total, RENDER_LIMIT);
    }
    if legacy.markers.total > 0 {
        let counts: Vec<String> = legacy
            .marker_counts
            .iter()
            .map(|(marker, n)| format!("{marker} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "- TODO/FIXME/XXX: {} ({})",
            legacy.markers.total,
            counts.join(", ")
        );
        for marker in legacy.markers.items.iter().take(RENDER_LIMIT) {
            let _ = writeln!(
                out,
                "  - {} {}",
                code(&format!("{}:{}", marker.path, marker.line)),
                code(&marker.text)
            );
        }
        more_line_indented(out, legacy.markers.total, RENDER_LIMIT);
    }
    for deprecated in legacy.deprecated.iter().filter(|d| d.uses.total > 0) {
        let _ = writeln!(
            out,
            "- deprecated pattern {}: {}",
            code(&deprecated.pattern),
            plural(deprecated.uses.total, "use", "uses")
        );
        for used in deprecated.uses.items.iter().take(RENDER_LIMIT) {
            let _ = writeln!(
                out,
                "  - {} {}",
                code(&format!("{}:{}", used.path, used.line)),
                code(&used.text)
            );
        }
        more_line_indented(out, deprecated.uses.total, RENDER_LIMIT);
    }
}

fn more_line(out: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(out, "- and {} more", total - shown);
    }
}

fn more_line_indented(out: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(out, "  - and {} more", total - shown);
    }
}

/// `a, b, c and N more` (the items are the first of `total`).
fn with_more(shown: &[String], total: usize) -> String {
    let mut text = shown.join(", ");
    if total > shown.len() {
        let _ = write!(text, " and {} more", total - shown.len());
    }
    text
}

/// Inline code that survives backticks in the text.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn plural_u64(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `512 B`, `1.5 KiB`, `12.0 MiB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 1024u128;
    let mut index = 0;
    while index + 1 < UNITS.len() && u128::from(bytes) >= unit * 1024 {
        unit *= 1024;
        index += 1;
    }
    let tenths = (u128::from(bytes) * 10 + unit / 2) / unit;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[index])
}

/// A path relative to the project directory, for messages and the data.
fn show(rel: &Path) -> String {
    rel.to_string_lossy().into_owned()
}

fn show_dir(rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        show(rel)
    }
}

/// The first [`TEXT_LIMIT`] characters of `text`, with `...` when cut.
fn clip(text: &str) -> String {
    match text.char_indices().nth(TEXT_LIMIT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{PermissionsExt, symlink};

    use chrono::NaiveDate;
    use serde_json::{Value, json};

    use super::*;
    use crate::cancel::Interrupted;
    use crate::env::Env;
    use crate::step::testing;

    /// How a test runs the step.
    struct Opts<'a> {
        patterns: &'a [&'a str],
        dry_run: bool,
        git: &'a str,
        resume: Option<Value>,
        cancelled: bool,
    }

    impl Default for Opts<'_> {
        fn default() -> Self {
            Opts {
                patterns: &[],
                dry_run: false,
                git: "git",
                resume: None,
                cancelled: false,
            }
        }
    }

    /// Runs the step on `dir` as project `shop`; returns its output and the checkpoints it saved.
    fn run_with(dir: &Path, opts: Opts<'_>) -> Result<(Output, Vec<Value>)> {
        let project = json!({ "working_directory": dir, "deprecated_patterns": opts.patterns });
        let env = Env::from_pairs([("DAYDREAM_MACHINE", "test")]);
        let date = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let run = testing::run_cx(dir, &project, env, date, opts.dry_run);
        if opts.cancelled {
            run.cancel.trigger(15);
        }
        let (outcome, saved) =
            testing::run_unit(&run, opts.resume, |cx| cleanup(cx, OsStr::new(opts.git)));
        match outcome? {
            Outcome::Done(output) => Ok((output, saved)),
            Outcome::Skipped(reason) => panic!("skipped: {reason}"),
        }
    }

    fn run(dir: &Path, opts: Opts<'_>) -> (Output, CleanupData) {
        let (output, _) = run_with(dir, opts).unwrap();
        let data = serde_json::from_value(output.data.clone()).unwrap();
        (output, data)
    }

    fn tempdir() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        (tmp, root)
    }

    fn put(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn git(dir: &Path, args: &[&str]) {
        Cmd::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .cwd(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .run()
            .unwrap();
    }

    fn paths(items: &Listed<Artifact>) -> Vec<&str> {
        items.items.iter().map(|a| a.path.as_str()).collect()
    }

    #[test]
    fn removes_untracked_artifacts_and_keeps_tracked_ones() {
        let (_tmp, root) = tempdir();
        put(&root, ".gitignore", "__pycache__/\n*.pyc\n.pytest_cache/\n");
        put(&root, "app/main.py", "print('hi')\n");
        put(&root, "legacy/__pycache__/kept.pyc", [1; 30]);
        git(&root, &["init", "-q"]);
        git(&root, &["add", ".gitignore", "app/main.py"]);
        git(&root, &["add", "-f", "legacy/__pycache__/kept.pyc"]);
        git(&root, &["commit", "-qm", "init"]);
        put(&root, "app/__pycache__/main.cpython-312.pyc", [1; 100]);
        put(&root, "app/__pycache__/util.cpython-312.pyc", [1; 50]);
        put(&root, ".pytest_cache/v/cache/nodeids", [1; 20]);
        put(&root, "tools/old.pyc", [1; 10]);
        put(&root, "legacy/__pycache__/stray.pyc", [1; 7]);

        let (output, saved) = run_with(&root, Opts::default()).unwrap();
        let data: CleanupData = serde_json::from_value(output.data.clone()).unwrap();

        assert_eq!(data.git, Git::WorkTree { tracked_files: 3 });
        assert_eq!(data.artifacts.removal, Removal::Removed);
        assert_eq!(
            data.artifacts.totals,
            Totals {
                artifacts: 4,
                files: 5,
                bytes: 187
            }
        );
        assert_eq!(
            paths(&data.artifacts.items),
            [
                ".pytest_cache",
                "app/__pycache__",
                "legacy/__pycache__/stray.pyc",
                "tools/old.pyc"
            ]
        );
        assert_eq!(
            data.artifacts.items.items[1],
            Artifact {
                path: "app/__pycache__".into(),
                dir: true,
                files: 2,
                bytes: 150
            }
        );
        for gone in [
            ".pytest_cache",
            "app/__pycache__",
            "legacy/__pycache__/stray.pyc",
            "tools/old.pyc",
        ] {
            assert!(!root.join(gone).exists(), "{gone} should be removed");
        }
        assert!(
            root.join("legacy/__pycache__/kept.pyc").is_file(),
            "a tracked .pyc must never be removed"
        );
        assert!(root.join("app/main.py").is_file());
        assert_eq!(
            data.artifacts.tracked.items,
            ["legacy/__pycache__/kept.pyc"]
        );
        assert_eq!(
            output.actions,
            [
                "`legacy/__pycache__/kept.pyc` is tracked by git; `git rm -r --cached` it and ignore it"
            ]
        );
        assert!(
            output.summary.starts_with("removed 4 artifacts (187 B); "),
            "{}",
            output.summary
        );
        assert!(output.warnings.is_empty(), "{:?}", output.warnings);
        // The plan was saved before the first removal, so a kill mid-way still counts what went.
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0]["removing"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn a_project_in_a_subfolder_of_a_repository_reads_its_tracked_files_relative_to_itself() {
        let (_tmp, repo) = tempdir();
        put(&repo, "sub/pkg/__pycache__/t.pyc", [1; 4]);
        put(&repo, "top/__pycache__/t.pyc", [1; 4]);
        git(&repo, &["init", "-q"]);
        git(&repo, &["add", "-f", "."]);
        git(&repo, &["commit", "-qm", "init"]);
        put(&repo, "sub/other/__pycache__/u.pyc", [1; 3]);

        let (output, data) = run(&repo.join("sub"), Opts::default());

        assert_eq!(data.git, Git::WorkTree { tracked_files: 1 });
        assert!(repo.join("sub/pkg/__pycache__/t.pyc").is_file());
        assert!(!repo.join("sub/other/__pycache__").exists());
        assert_eq!(paths(&data.artifacts.items), ["other/__pycache__"]);
        assert_eq!(data.artifacts.tracked.items, ["pkg/__pycache__/t.pyc"]);
        assert!(
            output.actions[0].contains("`pkg/__pycache__/t.pyc` is tracked by git"),
            "{:?}",
            output.actions
        );
    }

    #[test]
    fn symlinks_are_never_followed_nor_removed() {
        let (_outside_tmp, outside) = tempdir();
        put(&outside, "victim/keep.pyc", "precious");
        put(&outside, "victim/__pycache__/v.pyc", "precious too");
        let (_tmp, root) = tempdir();
        fs::create_dir_all(root.join("pkg")).unwrap();
        symlink(outside.join("victim"), root.join("pkg/__pycache__")).unwrap();
        symlink(outside.join("victim/keep.pyc"), root.join("pkg/link.pyc")).unwrap();
        // A linked folder with an ordinary name: entering it would find (and remove) `victim/__pycache__`.
        symlink(outside.join("victim"), root.join("lib")).unwrap();
        put(&root, "pkg/real.pyc", [1; 5]);

        let (output, data) = run(&root, Opts::default());

        assert!(outside.join("victim/keep.pyc").is_file());
        assert!(outside.join("victim/__pycache__/v.pyc").is_file());
        assert!(
            fs::symlink_metadata(root.join("pkg/__pycache__"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            fs::symlink_metadata(root.join("pkg/link.pyc"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(!root.join("pkg/real.pyc").exists());
        assert_eq!(paths(&data.artifacts.items), ["pkg/real.pyc"]);
        assert_eq!(
            data.artifacts.symlinks.items,
            ["pkg/__pycache__", "pkg/link.pyc"]
        );
        assert_eq!(data.git, Git::NotARepository);
        assert!(
            data.notes
                .iter()
                .any(|n| n.starts_with("not a git repository")),
            "{:?}",
            data.notes
        );
        assert!(output.actions.is_empty());
    }

    #[test]
    fn removal_refuses_a_path_whose_folder_now_leads_outside_the_project() {
        let (_outside_tmp, outside) = tempdir();
        put(&outside, "__pycache__/v.pyc", "precious");
        let (_tmp, root) = tempdir();
        // As if `a` were swapped for a link to elsewhere between the walk and the removal.
        symlink(&outside, root.join("a")).unwrap();
        let candidate = Candidate {
            rel: PathBuf::from("a/__pycache__"),
            artifact: Artifact {
                path: "a/__pycache__".into(),
                dir: true,
                files: 1,
                bytes: 8,
            },
        };
        let err = remove(&root, &candidate).unwrap_err();
        assert!(err.to_string().contains("outside the project"), "{err}");
        assert!(outside.join("__pycache__/v.pyc").is_file());
    }

    #[test]
    fn dry_run_removes_nothing_and_lists_everything() {
        let (_tmp, root) = tempdir();
        put(&root, "app/__pycache__/x.pyc", [1; 2048]);
        put(&root, "tools/y.pyc", [1; 10]);

        let (output, saved) = run_with(
            &root,
            Opts {
                dry_run: true,
                ..Opts::default()
            },
        )
        .unwrap();
        let data: CleanupData = serde_json::from_value(output.data.clone()).unwrap();

        assert!(root.join("app/__pycache__/x.pyc").is_file());
        assert!(root.join("tools/y.pyc").is_file());
        assert!(data.dry_run);
        assert_eq!(data.artifacts.removal, Removal::WouldRemove);
        assert_eq!(
            paths(&data.artifacts.items),
            ["app/__pycache__", "tools/y.pyc"]
        );
        assert_eq!(
            data.artifacts.totals,
            Totals {
                artifacts: 2,
                files: 2,
                bytes: 2058
            }
        );
        assert!(
            output
                .summary
                .starts_with("would remove 2 artifacts (2.0 KiB); "),
            "{}",
            output.summary
        );
        assert!(saved.is_empty(), "a dry run has nothing to guard");
        let mut markdown = String::new();
        Cleanup.render(&output, &mut markdown);
        assert!(
            markdown.starts_with("Would remove 2 build artifacts (dry run): 2 files, 2.0 KiB.\n"),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "- `app/__pycache__/` (1 file, 2.0 KiB)\n- `tools/y.pyc` (1 file, 10 B)\n"
            ),
            "{markdown}"
        );
    }

    #[test]
    fn vendored_virtualenv_and_nested_repository_folders_are_not_touched() {
        let (_tmp, root) = tempdir();
        let untouched = [
            ".venv/lib/python3.12/site-packages/pkg/__pycache__/a.pyc",
            "env/lib/__pycache__/b.pyc",
            "node_modules/x/__pycache__/c.pyc",
            "vendor/y/d.pyc",
            "third_party/z.pyc",
            "nested/__pycache__/e.pyc",
        ];
        for path in untouched {
            put(&root, path, "x");
        }
        put(&root, "env/pyvenv.cfg", "home = /usr/bin\n");
        fs::create_dir_all(root.join("nested/.git")).unwrap();
        put(&root, "node_modules/x/index.js", "// TODO: vendored\n");
        put(
            &root,
            ".venv/lib/python3.12/site-packages/pkg/m.py",
            "# TODO: vendored\n",
        );
        put(&root, "env/lib/m.py", "# TODO: vendored\n");
        put(&root, "app/__pycache__/f.pyc", "x");
        put(&root, "app/main.py", "# TODO: ours\n");

        let (_, data) = run(&root, Opts::default());

        for path in untouched {
            assert!(root.join(path).is_file(), "{path} must not be touched");
        }
        assert!(!root.join("app/__pycache__").exists());
        assert_eq!(paths(&data.artifacts.items), ["app/__pycache__"]);
        assert!(
            data.notes
                .iter()
                .any(|n| n.contains("nested repositories") && n.contains("`nested/`")),
            "{:?}",
            data.notes
        );
        assert_eq!(data.legacy.markers.total, 1);
        assert_eq!(data.legacy.markers.items[0].path, "app/main.py");
    }

    #[test]
    fn without_git_nothing_is_removed_but_legacy_signals_are_reported() {
        let (_tmp, root) = tempdir();
        put(&root, "app/__pycache__/x.pyc", [1; 10]);
        put(&root, "app/main.py", "# TODO: still reported\n");

        let (output, data) = run(
            &root,
            Opts {
                git: "/nonexistent/daydream-git",
                ..Opts::default()
            },
        );

        assert!(root.join("app/__pycache__/x.pyc").is_file());
        assert_eq!(data.git, Git::Unavailable);
        assert_eq!(data.artifacts.removal, Removal::Kept);
        assert_eq!(output.warnings.len(), 1, "{:?}", output.warnings);
        assert!(
            output.warnings[0].starts_with("git is needed to know what is tracked"),
            "{:?}",
            output.warnings
        );
        assert!(
            output.warnings[0].ends_with("no artifact was removed"),
            "{:?}",
            output.warnings
        );
        assert!(
            output
                .summary
                .starts_with("found 1 artifact (10 B), none removed (git unavailable); "),
            "{}",
            output.summary
        );
        assert!(
            output
                .summary
                .ends_with("1 TODO/FIXME/XXX, 0 deprecated uses"),
            "{}",
            output.summary
        );
    }

    #[test]
    fn a_dry_run_without_git_previews_that_nothing_would_be_removed() {
        let (_tmp, root) = tempdir();
        put(&root, "app/__pycache__/x.pyc", [1; 10]);

        let (output, data) = run(
            &root,
            Opts {
                git: "/nonexistent/daydream-git",
                dry_run: true,
                ..Opts::default()
            },
        );

        assert_eq!(data.artifacts.removal, Removal::Kept);
        assert!(
            output
                .summary
                .starts_with("found 1 artifact (10 B), none removed"),
            "{}",
            output.summary
        );
        let mut markdown = String::new();
        Cleanup.render(&output, &mut markdown);
        assert!(
            markdown.starts_with(
                "Found, but did not remove, 1 build artifact (dry run): 1 file, 10 B.\n"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("Nothing was removed: what git tracks could not be known"),
            "{markdown}"
        );
    }

    #[test]
    fn a_git_error_that_is_not_a_missing_repository_removes_nothing() {
        let (_bin_tmp, bin) = tempdir();
        let fake = bin.join("git");
        fs::write(&fake, "#!/bin/sh\necho \"fatal: detected dubious ownership in repository at '/x'\" >&2\nexit 128\n").unwrap();
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        let (_tmp, root) = tempdir();
        put(&root, "tracked_maybe.pyc", "x");

        let (output, data) = run(
            &root,
            Opts {
                git: fake.to_str().unwrap(),
                ..Opts::default()
            },
        );

        assert!(root.join("tracked_maybe.pyc").is_file());
        assert_eq!(data.git, Git::Unavailable);
        assert!(
            output.warnings[0].starts_with("could not tell what git tracks:"),
            "{:?}",
            output.warnings
        );
        assert!(
            output.warnings[0].contains("dubious ownership"),
            "{:?}",
            output.warnings
        );
    }

    #[test]
    fn an_interrupted_attempt_is_counted_when_resumed() {
        let (_tmp, root) = tempdir();
        put(&root, "still/x.pyc", [1; 5]);
        let resume = json!({ "removing": [
            { "path": "gone/__pycache__", "dir": true, "files": 3, "bytes": 30 },
            { "path": "still/x.pyc", "dir": false, "files": 1, "bytes": 5 },
            { "path": "../outside/__pycache__", "dir": true, "files": 1, "bytes": 1 },
        ] });

        let (output, saved) = run_with(
            &root,
            Opts {
                resume: Some(resume),
                ..Opts::default()
            },
        )
        .unwrap();
        let data: CleanupData = serde_json::from_value(output.data).unwrap();
        // A second interruption must still count what the first one removed.
        let planned: Vec<&str> = saved[0]["removing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["path"].as_str().unwrap())
            .collect();
        assert_eq!(planned, ["gone/__pycache__", "still/x.pyc"]);

        assert_eq!(
            paths(&data.artifacts.items),
            ["gone/__pycache__", "still/x.pyc"]
        );
        assert_eq!(
            data.artifacts.totals,
            Totals {
                artifacts: 2,
                files: 4,
                bytes: 35
            }
        );
        assert_eq!(
            data.artifacts.earlier,
            Some(Totals {
                artifacts: 1,
                files: 3,
                bytes: 30
            })
        );
        assert!(
            data.notes
                .iter()
                .any(|n| n.contains("interrupted attempt earlier today removed 1 artifact (30 B)")),
            "{:?}",
            data.notes
        );
        assert!(!root.join("still/x.pyc").exists());
    }

    #[test]
    fn a_signal_interrupts_the_unit_before_anything_is_removed() {
        let (_tmp, root) = tempdir();
        put(&root, "app/__pycache__/x.pyc", "x");
        let err = run_with(
            &root,
            Opts {
                cancelled: true,
                ..Opts::default()
            },
        )
        .unwrap_err();
        assert!(err.downcast_ref::<Interrupted>().is_some(), "{err:#}");
        assert!(root.join("app/__pycache__/x.pyc").is_file());
    }

    #[test]
    fn markers_in_comments_are_counted_with_locations() {
        let (_tmp, root) = tempdir();
        put(&root, ".gitignore", "generated/\n");
        put(
            &root,
            "app/a.py",
            "x = 1  # TODO: tidy this\ny = \"TODO in a string\"\n# FIXME(bob): broken on leap years\n# XXX hack\n# TODOS are not markers, nor is todo\n",
        );
        put(
            &root,
            "src/lib.rs",
            "fn main() {\n    // TODO: handle errors\n    run();\n    /* FIXME: leaks */\n}\n/*\n * TODO: document\n */\n",
        );
        put(&root, "generated/x.py", "# TODO: ignored by .gitignore\n");
        put(&root, "README.md", "TODO: not source\n");
        let mut big = "# TODO: too big\n".to_owned();
        big.push_str(&"x = 1\n".repeat(200_000));
        put(&root, "big.py", big);
        put(&root, "bin.py", b"# TODO: binary\n\0\0");

        let (output, data) = run(&root, Opts::default());
        let legacy = &data.legacy;

        let found: Vec<(&str, usize, &str, &str)> = legacy
            .markers
            .items
            .iter()
            .map(|m| (m.path.as_str(), m.line, m.marker.as_str(), m.text.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("app/a.py", 1, "TODO", "TODO: tidy this"),
                ("app/a.py", 3, "FIXME", "FIXME(bob): broken on leap years"),
                ("app/a.py", 4, "XXX", "XXX hack"),
                ("src/lib.rs", 2, "TODO", "TODO: handle errors"),
                ("src/lib.rs", 4, "FIXME", "FIXME: leaks"),
                ("src/lib.rs", 7, "TODO", "TODO: document"),
            ]
        );
        assert_eq!(
            legacy.marker_counts,
            BTreeMap::from([
                ("FIXME".to_owned(), 2),
                ("TODO".to_owned(), 3),
                ("XXX".to_owned(), 1)
            ])
        );
        assert_eq!(legacy.markers.total, 6);
        assert_eq!(
            (
                legacy.files_scanned,
                legacy.skipped_large,
                legacy.skipped_binary
            ),
            (2, 1, 1)
        );
        assert!(
            output
                .summary
                .ends_with("0 commented-out blocks, 6 TODO/FIXME/XXX, 0 deprecated uses"),
            "{}",
            output.summary
        );
    }

    #[test]
    fn deprecated_patterns_are_located_and_asked_of_a_human() {
        let (_tmp, root) = tempdir();
        put(
            &root,
            "app/a.py",
            "import datetime\nnow = datetime.utcnow()\n",
        );
        put(
            &root,
            "app/b.py",
            "t = datetime.utcnow()\n\n\n\nu = datetime.utcnow()  # again\n",
        );

        let (output, data) = run(
            &root,
            Opts {
                patterns: &[r"datetime\.utcnow\(", r"os\.popen"],
                ..Opts::default()
            },
        );

        let first = &data.legacy.deprecated[0];
        assert_eq!(first.pattern, r"datetime\.utcnow\(");
        let at: Vec<(&str, usize)> = first
            .uses
            .items
            .iter()
            .map(|u| (u.path.as_str(), u.line))
            .collect();
        assert_eq!(at, [("app/a.py", 2), ("app/b.py", 1), ("app/b.py", 5)]);
        assert_eq!(first.uses.items[2].text, "u = datetime.utcnow()  # again");
        assert_eq!(data.legacy.deprecated[1].uses.total, 0);
        assert_eq!(
            output.actions,
            [
                r"deprecated pattern `datetime\.utcnow\(` is used 3 times (`app/a.py:2`, `app/b.py:1`, `app/b.py:5`); replace them"
            ]
        );
        assert!(
            output.summary.ends_with("3 deprecated uses"),
            "{}",
            output.summary
        );
    }

    #[test]
    fn render_shows_what_was_removed_and_where_the_signals_are() {
        let (_tmp, root) = tempdir();
        put(&root, "app/__pycache__/a.pyc", [1; 1536]);
        put(&root, "app/__pycache__/b.pyc", [1; 512]);
        put(
            &root,
            "app/old.py",
            "# TODO: drop this module\n# def legacy(x):\n#     y = x * 2\n#     return transform(y)\nimport os\nos.popen('ls')\n",
        );
        put(&root, "legacy/x.pyc", "x");
        git(&root, &["init", "-q"]);
        git(&root, &["add", "-f", "legacy/x.pyc"]);
        git(&root, &["commit", "-qm", "init"]);

        let (output, data) = run(
            &root,
            Opts {
                patterns: &[r"os\.popen"],
                ..Opts::default()
            },
        );
        // The report renders from the stored state alone: the data must round-trip.
        let stored: Output =
            serde_json::from_str(&serde_json::to_string(&output).unwrap()).unwrap();
        assert_eq!(stored, output);
        assert_eq!(serde_json::to_value(&data).unwrap(), output.data);

        let mut markdown = String::new();
        Cleanup.render(&stored, &mut markdown);
        let expected = "\
Removed 1 build artifact: 2 files, 2.0 KiB.
- `app/__pycache__/` (2 files, 2.0 KiB)

Kept because git tracks them: `legacy/x.pyc`.

Legacy-code signals in 1 source file:
- commented-out code: 1 block
  - `app/old.py:2-4` `def legacy(x):`
- TODO/FIXME/XXX: 1 (TODO 1)
  - `app/old.py:1` `TODO: drop this module`
- deprecated pattern `os\\.popen`: 1 use
  - `app/old.py:6` `os.popen('ls')`
";
        assert_eq!(markdown, expected);
        assert!(output.summary.starts_with("removed 1 artifact (2.0 KiB); 1 commented-out block, 1 TODO/FIXME/XXX, 1 deprecated use"), "{}", output.summary);
    }

    #[test]
    fn render_bounds_long_lists() {
        let mut data = CleanupData {
            dry_run: true,
            git: Git::NotARepository,
            ..CleanupData::default()
        };
        data.artifacts.removal = Removal::WouldRemove;
        for i in 0..60 {
            let artifact = Artifact {
                path: format!("p{i:02}.pyc"),
                dir: false,
                files: 1,
                bytes: 1,
            };
            add(&mut data.artifacts.totals, &artifact);
            data.artifacts.items.push(artifact);
            data.legacy.markers.push(Todo {
                path: "a.py".into(),
                line: i,
                marker: "TODO".into(),
                text: "TODO: `x`".into(),
            });
        }
        data.legacy.marker_counts.insert("TODO".into(), 60);
        assert_eq!(
            (data.artifacts.items.total, data.artifacts.items.items.len()),
            (60, LIST_LIMIT)
        );
        let mut markdown = String::new();
        render(&data, &mut markdown);
        assert!(
            markdown.contains("- `p09.pyc` (1 file, 1 B)\n- and 50 more\n"),
            "{markdown}"
        );
        assert!(!markdown.contains("p10.pyc"), "{markdown}");
        assert!(
            markdown.contains("  - `a.py:9` `` TODO: `x` ``\n  - and 50 more\n"),
            "{markdown}"
        );
    }

    fn blocks(text: &str, syntax: Syntax) -> Vec<(usize, usize, String)> {
        commented_out_blocks(text, syntax)
            .into_iter()
            .map(|b| (b.start, b.end, b.preview))
            .collect()
    }

    #[test]
    fn commented_out_code_is_found() {
        let python = "import os\n\n# def old_handler(request):\n#     data = request.json()\n#     if not data:\n#         return None\n#     return process(data)\n\nx = 1\n";
        assert_eq!(
            blocks(python, Syntax::Hash),
            [(3, 7, "def old_handler(request):".to_owned())]
        );
        let assignments = "# x = 1\n## y = 2\n#\n# z = x + y\n";
        assert_eq!(
            blocks(assignments, Syntax::Hash),
            [(1, 4, "x = 1".to_owned())]
        );
        let js = "run();\n  // const total = compute(a, b);\n  // if (total > 10) {\n  //   console.log(total);\n  // }\n";
        assert_eq!(
            blocks(js, Syntax::Slash),
            [(2, 5, "const total = compute(a, b);".to_owned())]
        );
        let c = "int x;\n/*\nint old(void) {\n    return compute(1, 2);\n}\n*/\n";
        assert_eq!(
            blocks(c, Syntax::Slash),
            [(3, 5, "int old(void) {".to_owned())]
        );
        let go = "// err := client.Fetch(ctx)\n// if err != nil {\n//     return err\n// }\n";
        assert_eq!(
            blocks(go, Syntax::Slash),
            [(1, 4, "err := client.Fetch(ctx)".to_owned())]
        );
    }

    #[test]
    fn prose_docs_headers_and_short_runs_are_not_code() {
        let cases: &[(&str, Syntax)] = &[
            (
                "# This function handles the incoming request and\n# returns the processed payload. If the payload is\n# empty, we return None so callers can retry later.\n",
                Syntax::Hash,
            ),
            (
                "// We retry here because the upstream API (see api.js) is flaky\n// under load: it returns 503 for a few seconds after deploys.\n// Three attempts with backoff is enough in practice.\n",
                Syntax::Slash,
            ),
            (
                "// Call reset() before fetch() to clear the cache.\n// Otherwise the old entries (and their timers) leak.\n// See the `Cache` type for how entries expire.\n",
                Syntax::Slash,
            ),
            (
                "# Copyright (c) 2024 Example Corp.\n# Licensed under the MIT license.\n# x = 1\n# y = 2\n# z = 3\n",
                Syntax::Hash,
            ),
            (
                "/// let x = compute(1);\n/// assert_eq!(x, 2);\n/// println!(\"{x}\");\n",
                Syntax::Slash,
            ),
            (
                "/**\n * foo(1);\n * bar(2);\n * baz(3);\n */\n",
                Syntax::Slash,
            ),
            (
                "# Example:\n#   client = Client(token)\n#   client.fetch(\"x\")\n#   client.close()\n",
                Syntax::Hash,
            ),
            (
                "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n# type: ignore\n",
                Syntax::Hash,
            ),
            ("# x = 1\n# y = 2\n\n# z = 3\n", Syntax::Hash),
            (
                "# Steps to reproduce:\n# run the worker twice\n# then kill it with a signal\n# x = 1\n",
                Syntax::Hash,
            ),
            (
                "# TODO: x = 1\n# TODO: y = 2\n# TODO: z = 3\n",
                Syntax::Hash,
            ),
            (
                "# When counts can be negative, compare them as in:\n#     cp = Counter(a=1)\n#     cq = Counter(b=2)\n#     cp == cq\n",
                Syntax::Hash,
            ),
            // Half is not most.
            (
                "# the old version below\n# x = 1\n# y = 2\n# went away in the refactor\n",
                Syntax::Hash,
            ),
        ];
        for (text, syntax) in cases {
            assert_eq!(blocks(text, *syntax), [], "{text}");
        }
    }

    #[test]
    fn lines_are_told_apart() {
        for code in [
            "x = 1",
            "return None",
            "import os",
            "}",
            "});",
            "else:",
            "self.assertEqual(a, b)",
            "foo.bar()",
            "err := f()",
        ] {
            assert_eq!(classify(code), Class::Code, "{code}");
        }
        for prose in [
            "Call reset() before fetch() to clear the cache.",
            "the function returns the value of the first match",
            "See https://example.com/docs for details",
            "x: the input value to normalise",
        ] {
            assert_eq!(classify(prose), Class::Prose, "{prose}");
        }
        for neutral in [
            "-----",
            "noqa: E501",
            "TODO: remove",
            "Returns:",
            "eslint-disable-next-line no-console",
        ] {
            assert_eq!(classify(neutral), Class::Neutral, "{neutral}");
        }
    }

    #[test]
    fn sizes_read_like_a_human_wrote_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(1_258_291), "1.2 MiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
