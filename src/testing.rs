//! What the unit tests of several modules share.

use std::path::Path;

use crate::exec::Cmd;

/// Runs git in `dir` as a test author, away from this machine's git configuration, with both commit dates set
/// to `date` when given; returns its stdout. Panics when git fails.
pub(crate) fn git_at(dir: &Path, date: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Cmd::new("git")
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
        .env_remove("GIT_WORK_TREE");
    if let Some(date) = date {
        cmd = cmd
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date);
    }
    let done = cmd
        .run()
        .unwrap_or_else(|e| panic!("git {args:?} in {}: {e}", dir.display()));
    String::from_utf8_lossy(&done.stdout).trim().to_owned()
}

/// [`git_at`] without dates.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, None, args)
}
