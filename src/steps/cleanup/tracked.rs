//! What git tracks in the project (`git ls-files`), so that nothing tracked is ever removed.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io;
use std::ops::Bound;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::GIT_TIMEOUT;
use crate::exec::{Cmd, ExecError};

pub(super) enum Tracking {
    /// Paths relative to the project directory.
    WorkTree(BTreeSet<PathBuf>),
    NotARepository,
    /// Why what is tracked cannot be known.
    Unavailable(String),
}

pub(super) fn git_cmd(git: &OsStr, root: &Path) -> Cmd {
    // English messages (we read stderr), and no inherited repository overrides.
    Cmd::new(git)
        .cwd(root)
        .timeout(GIT_TIMEOUT)
        .env("LC_ALL", "C")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
}

pub(super) fn tracking(git: &OsStr, root: &Path) -> Tracking {
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
pub(super) fn tracked_under(tracked: &BTreeSet<PathBuf>, dir: &Path) -> Vec<PathBuf> {
    tracked
        .range::<Path, _>((Bound::Included(dir), Bound::Unbounded))
        .take_while(|p| p.starts_with(dir))
        .cloned()
        .collect()
}
