//! Finding and removing build artifacts: never tracked, never outside the project, never through a symlink.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::{fs, io};

use anyhow::Result;

use super::data::{Artifact, Listed};
use super::render::{show, show_dir, with_more};
use super::tracked::tracked_under;
use super::{ARTIFACT_DIRS, ARTIFACT_EXTENSION, RENDER_LIMIT, VENV_MARKERS};
use crate::cancel::Cancel;
use crate::fsutil::SKIP_DIRS;
use crate::step::Warnings;

pub(super) struct Candidate {
    pub(super) rel: PathBuf,
    pub(super) artifact: Artifact,
}

#[derive(Default)]
pub(super) struct Found {
    /// Untracked artifacts, in walk order.
    pub(super) candidates: Vec<Candidate>,
    pub(super) symlinks: Vec<PathBuf>,
    pub(super) tracked: BTreeSet<PathBuf>,
}

/// Walks the whole project (gitignore not applied, symlinks never followed) for artifacts.
///
/// An artifact folder with tracked files inside is not an artifact as a whole: it is walked like any folder,
/// so its untracked `*.pyc` files are still removed one by one.
pub(super) fn find_artifacts(
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

pub(super) enum Kind {
    Dir,
    /// A regular file and its size.
    File(u64),
    Symlink,
    Other,
}

/// The entries of `dir` by name, typed without following symlinks.
pub(super) fn read_dir_sorted(dir: &Path) -> io::Result<Vec<(OsString, Kind)>> {
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

pub(super) enum Skip {
    Vendored,
    NestedRepository,
}

/// Why neither walk enters the folder at `path`, if it should not.
pub(super) fn skipped_dir(path: &Path) -> Option<Skip> {
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
pub(super) fn measure(dir: &Path, cancel: &Cancel, warnings: &mut Warnings) -> Result<(u64, u64)> {
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
pub(super) fn remove(root: &Path, candidate: &Candidate) -> io::Result<()> {
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
