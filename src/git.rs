//! git, run the same hardened way by every caller (cleanup, docs, fixes): English messages, no inherited
//! repository overrides, no prompt, no optional lock taken in the user's repository, no pager, no signature
//! lines, paths printed as they are and pathspecs taken literally.

use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::cancel::Interrupted;
use crate::exec::{Cmd, ExecError};

/// How long a git command may take unless its caller says otherwise.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// `program` (usually `git`) in `dir`, hardened; the caller adds the subcommand and its arguments.
pub(crate) fn command(program: &OsStr, dir: &Path) -> Cmd {
    Cmd::new(program)
        .cwd(dir)
        .timeout(TIMEOUT)
        .env("LC_ALL", "C")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .args([
            "-c",
            "log.showSignature=false",
            "-c",
            "core.quotePath=false",
            "--no-pager",
            "--literal-pathspecs",
        ])
}

/// What git says of a directory.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum WorkTree {
    /// Inside a work tree; a shallow clone's history is cut.
    Repo {
        shallow: bool,
    },
    NotARepository,
    /// Why git cannot tell: not installed, or inside `.git`.
    Unavailable(String),
    /// git failed otherwise; its error, for the caller to say what it could not learn.
    Failed(String),
}

/// Whether `git` (a [`command`] in the directory) finds a work tree there. `need` ends "git is needed to ..."
/// when git is missing: what the caller wanted it for. `Err` only when the run was interrupted.
pub(crate) fn work_tree(git: Cmd, program: &OsStr, need: &str) -> Result<WorkTree, Interrupted> {
    let shown = program.to_string_lossy();
    match git
        .args([
            "rev-parse",
            "--is-inside-work-tree",
            "--is-shallow-repository",
        ])
        .run()
    {
        Ok(done) => {
            let text = String::from_utf8_lossy(&done.stdout);
            let mut lines = text.lines();
            if lines.next() != Some("true") {
                return Ok(WorkTree::Unavailable(
                    "the project directory is inside a `.git` folder, not a work tree".to_owned(),
                ));
            }
            Ok(WorkTree::Repo {
                shallow: lines.next() == Some("true"),
            })
        }
        Err(ExecError::Start { err, .. }) if err.kind() == io::ErrorKind::NotFound => {
            Ok(WorkTree::Unavailable(format!(
                "git is needed to {need}, and `{shown}` was not found"
            )))
        }
        Err(ExecError::Failed { stderr, .. }) if stderr.contains("not a git repository") => {
            Ok(WorkTree::NotARepository)
        }
        Err(ExecError::Interrupted { interrupted, .. }) => Err(interrupted),
        Err(err) => Ok(WorkTree::Failed(err.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path) -> Cmd {
        command(OsStr::new("git"), dir)
    }

    #[test]
    fn a_work_tree_a_plain_folder_and_a_missing_git_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let plain = work_tree(git(dir.path()), OsStr::new("git"), "read it").unwrap();
        assert_eq!(plain, WorkTree::NotARepository);
        git(dir.path()).args(["init", "-q"]).run().unwrap();
        let repo = work_tree(git(dir.path()), OsStr::new("git"), "read it").unwrap();
        assert_eq!(repo, WorkTree::Repo { shallow: false });
        let inside =
            work_tree(git(&dir.path().join(".git")), OsStr::new("git"), "read it").unwrap();
        assert!(
            matches!(inside, WorkTree::Unavailable(ref why) if why.contains("inside a `.git` folder"))
        );
        let missing = OsStr::new("/nonexistent/git");
        let none = work_tree(command(missing, dir.path()), missing, "read the history").unwrap();
        assert_eq!(
            none,
            WorkTree::Unavailable(
                "git is needed to read the history, and `/nonexistent/git` was not found"
                    .to_owned()
            )
        );
    }

    #[test]
    fn the_hardening_is_in_every_command() {
        let shown = git(Path::new("/tmp")).args(["status"]).display();
        assert_eq!(
            shown,
            "git -c log.showSignature=false -c core.quotePath=false --no-pager --literal-pathspecs status"
        );
    }
}
