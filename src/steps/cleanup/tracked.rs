//! What git tracks in the project (`git ls-files`), so that nothing tracked is ever removed.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::ops::Bound;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::GIT_TIMEOUT;
use crate::exec::Cmd;
use crate::git::WorkTree;

pub(super) enum Tracking {
    /// Paths relative to the project directory.
    WorkTree(BTreeSet<PathBuf>),
    NotARepository,
    /// Why what is tracked cannot be known.
    Unavailable(String),
}

pub(super) fn git_cmd(git: &OsStr, root: &Path) -> Cmd {
    crate::git::command(git, root).timeout(GIT_TIMEOUT)
}

pub(super) fn tracking(git: &OsStr, root: &Path) -> Tracking {
    let work_tree = crate::git::work_tree(git_cmd(git, root), git, "know what is tracked")
        .unwrap_or_else(|interrupted| WorkTree::Unavailable(interrupted.to_string()));
    match work_tree {
        WorkTree::Repo { .. } => {}
        WorkTree::NotARepository => return Tracking::NotARepository,
        WorkTree::Unavailable(why) => return Tracking::Unavailable(why),
        WorkTree::Failed(err) => {
            return Tracking::Unavailable(format!("could not tell what git tracks: {err}"));
        }
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
pub(super) fn tracked_under(tracked: &BTreeSet<PathBuf>, dir: &Path) -> Vec<PathBuf> {
    tracked
        .range::<Path, _>((Bound::Included(dir), Bound::Unbounded))
        .take_while(|p| p.starts_with(dir))
        .cloned()
        .collect()
}
