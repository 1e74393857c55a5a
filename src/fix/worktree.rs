//! The worktree of a fix and the git around it: fetch, add, commit, discard, push.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use super::guard::{Diff, PathRules, added_secret, check, parse_numstat, parse_raw, tests_left};
use crate::cancel::Cancel;
use crate::exec::{Cmd, ExecError};

const GIT_TIMEOUT: Duration = Duration::from_secs(120);
/// The author and committer of a fix.
pub(crate) const AUTHOR_NAME: &str = "daydream";
const AUTHOR_EMAIL: &str = "daydream@users.noreply.github.com";

/// A hardened git command in `dir` ([`crate::git::command`]), bounded and cancellable.
pub(crate) fn git(dir: &Path, cancel: &Cancel) -> Cmd {
    crate::git::command(OsStr::new("git"), dir)
        .timeout(GIT_TIMEOUT)
        .cancel(cancel)
}

/// Runs `git args` in `dir` and returns its stdout as text.
pub(crate) fn git_out(dir: &Path, cancel: &Cancel, args: &[&str]) -> Result<String> {
    let done = git(dir, cancel)
        .args(args)
        .run()
        .map_err(ExecError::into_anyhow)?;
    Ok(String::from_utf8_lossy(&done.stdout).into_owned())
}

/// The branch of a fix.
pub(crate) fn branch(fingerprint: &str) -> String {
    format!("daydream/fix-{fingerprint}")
}

/// Whether `origin` has the branch (`git ls-remote`), so another machine or an earlier night pushed it.
pub(crate) fn remote_has(repo: &Path, cancel: &Cancel, branch: &str) -> Result<bool> {
    let out = git_out(
        repo,
        cancel,
        &[
            "ls-remote",
            "--heads",
            "origin",
            &format!("refs/heads/{branch}"),
        ],
    )
    .context("failed to ask `origin` for the fix branch")?;
    Ok(!out.trim().is_empty())
}

/// Whether the project has a local branch of that name.
pub(crate) fn local_has(repo: &Path, cancel: &Cancel, branch: &str) -> bool {
    git(repo, cancel)
        .args([
            "show-ref",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ])
        .run()
        .is_ok()
}

/// The URL of `origin`, or `None` when the project has no such remote.
pub(crate) fn origin(repo: &Path, cancel: &Cancel) -> Option<String> {
    git_out(repo, cancel, &["remote", "get-url", "origin"])
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A worktree of the fix, removed with its local branch when dropped.
pub(crate) struct Worktree {
    repo: PathBuf,
    branch: String,
    cancel: Cancel,
    dir: PathBuf,
    temp: tempfile::TempDir,
    /// Keep the local branch when dropped (the result of `daydream fix`); the worktree itself always goes.
    keep_branch: bool,
}

impl Worktree {
    /// Fetches `base` from `origin` and adds a worktree on a new local `branch` at it, in a temp directory.
    pub(crate) fn create(
        repo: &Path,
        base: &str,
        branch: &str,
        cancel: &Cancel,
    ) -> Result<Worktree> {
        // A leftover of a run that was killed: its metadata and branch go first.
        discard(repo, branch);
        fetch(repo, base, cancel)?;
        Self::add(repo, &format!("refs/remotes/origin/{base}"), branch, cancel)
            .with_context(|| format!("failed to add a worktree of `origin/{base}`"))
    }

    /// Adds a worktree on a new local `branch` at `start` (a commit or ref of the repository), fetching nothing.
    pub(crate) fn add(repo: &Path, start: &str, branch: &str, cancel: &Cancel) -> Result<Worktree> {
        discard(repo, branch);
        let temp = tempfile::Builder::new()
            .prefix("daydream-fix-")
            .tempdir()
            .context("failed to make a temp directory for the worktree")?;
        let dir = temp.path().join("worktree");
        let dir_text = dir.to_string_lossy().into_owned();
        git_out(
            repo,
            cancel,
            &[
                "worktree",
                "add",
                "--no-track",
                "-b",
                branch,
                &dir_text,
                start,
            ],
        )
        .with_context(|| format!("failed to add a worktree of `{start}`"))?;
        Ok(Worktree {
            repo: repo.to_owned(),
            branch: branch.to_owned(),
            cancel: cancel.clone(),
            dir,
            temp,
            keep_branch: false,
        })
    }

    /// The commit checked out.
    pub(crate) fn head(&self) -> Result<String> {
        Ok(git_out(&self.dir, &self.cancel, &["rev-parse", "HEAD"])?
            .trim()
            .to_owned())
    }

    /// What the branch changed since `start`: files and their changed lines.
    pub(crate) fn diff_since(&self, start: &str) -> Result<Diff> {
        let numstat = git_out(
            &self.dir,
            &self.cancel,
            &[
                "diff",
                "--numstat",
                "-z",
                "--no-renames",
                "--no-ext-diff",
                start,
                "HEAD",
            ],
        )?;
        let mut diff = Diff::default();
        for (path, lines) in parse_numstat(&numstat) {
            let lines = lines.unwrap_or(0);
            diff.files.push((path, lines));
            diff.lines += lines;
        }
        Ok(diff)
    }

    /// Whether `path` is in the commit checked out (a file the branch started with).
    pub(crate) fn tracked_at_head(&self, path: &str) -> Result<bool> {
        Ok(git(&self.dir, &self.cancel)
            .args(["cat-file", "-e", &format!("HEAD:{path}")])
            .run_any()
            .map_err(ExecError::into_anyhow)?
            .code
            == Some(0))
    }

    /// The tracked files that match one of `globs`, in git's order.
    pub(crate) fn tracked_matching(&self, globs: &[&str]) -> Result<Vec<String>> {
        let mut set = globset::GlobSetBuilder::new();
        for glob in globs {
            set.add(globset::Glob::new(glob)?);
        }
        let set = set.build()?;
        Ok(git_out(&self.dir, &self.cancel, &["ls-files", "-z"])?
            .split('\0')
            .filter(|f| !f.is_empty() && set.is_match(f))
            .map(str::to_owned)
            .collect())
    }

    /// The worktree's branch.
    pub(crate) fn branch(&self) -> &str {
        &self.branch
    }

    /// Keeps the local branch when the worktree goes: its commits are the result.
    pub(crate) fn keep_branch(&mut self) {
        self.keep_branch = true;
    }

    /// Puts the worktree back at its last commit: staged and unstaged changes and untracked files are gone
    /// (git-ignored ones, such as caches, stay).
    pub(crate) fn reset(&self) -> Result<()> {
        git_out(
            &self.dir,
            &self.cancel,
            &["reset", "--quiet", "--hard", "HEAD"],
        )?;
        git_out(&self.dir, &self.cancel, &["clean", "-fdq"])?;
        Ok(())
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path next to the worktree, in its private temp directory: outside what the model may edit.
    pub(crate) fn beside(&self, name: &str) -> PathBuf {
        self.temp.path().join(name)
    }

    /// Stages everything Claude changed and checks it against the rules; the staged tree is what gets committed.
    pub(crate) fn stage_and_check(&self, rules: &PathRules) -> Result<Result<Diff, String>> {
        git_out(&self.dir, &self.cancel, &["add", "--all"])?;
        let raw = git_out(
            &self.dir,
            &self.cancel,
            &[
                "diff",
                "--cached",
                "--raw",
                "-z",
                "--no-renames",
                "--no-ext-diff",
            ],
        )?;
        let numstat = git_out(
            &self.dir,
            &self.cancel,
            &[
                "diff",
                "--cached",
                "--numstat",
                "-z",
                "--no-renames",
                "--no-ext-diff",
            ],
        )?;
        let changes = parse_raw(&raw);
        let sizes = parse_numstat(&numstat);
        let diff = match check(&self.dir, rules, &changes, &sizes) {
            Ok(diff) => diff,
            Err(why) => return Ok(Err(why)),
        };
        let patch = git_out(
            &self.dir,
            &self.cancel,
            &[
                "diff",
                "--cached",
                "--unified=0",
                "--no-color",
                "--no-renames",
                "--no-ext-diff",
                "--no-textconv",
                "--src-prefix=a/",
                "--dst-prefix=b/",
            ],
        )?;
        if let Some(why) = added_secret(&patch) {
            return Ok(Err(why));
        }
        Ok(Ok(diff))
    }

    /// The tree of what is staged (`git write-tree`): what the commit will hold.
    pub(crate) fn staged_tree(&self) -> Result<String> {
        Ok(git_out(&self.dir, &self.cancel, &["write-tree"])?
            .trim()
            .to_owned())
    }

    /// The repository's git directory, which commands in the worktree read (git keeps a worktree's metadata
    /// there).
    pub(crate) fn git_dir(&self) -> Result<PathBuf> {
        let out = git_out(
            &self.dir,
            &self.cancel,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        )?;
        Ok(PathBuf::from(out.trim()))
    }

    /// After the tests: `Err` says what they changed. The staged tree must be `tree` still, no tracked file
    /// may differ from it, and no new file may appear outside git-ignored paths: what is committed is exactly
    /// what was checked, and nothing the tests wrote rides along or hides.
    pub(crate) fn check_after_tests(&self, tree: &str) -> Result<Result<(), String>> {
        if self.staged_tree()? != tree {
            return Ok(Err(
                "the tests changed what was staged for the commit".to_owned()
            ));
        }
        let status = git(&self.dir, &self.cancel)
            .args([
                "status",
                "--porcelain=v1",
                "-z",
                "--untracked-files=all",
                "--no-renames",
            ])
            .run()
            .map_err(ExecError::into_anyhow)?;
        let status = String::from_utf8_lossy(&status.stdout);
        Ok(match tests_left(&status) {
            Some(why) => Err(why),
            None => Ok(()),
        })
    }

    /// A git command in the worktree as daydream (author and committer), without the project's hooks or
    /// signing.
    fn as_daydream(&self) -> Cmd {
        git(&self.dir, &self.cancel)
            .args([
                "-c",
                &format!("user.name={AUTHOR_NAME}"),
                "-c",
                &format!("user.email={AUTHOR_EMAIL}"),
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "commit.gpgsign=false",
            ])
            .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
            .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
            .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
            .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
    }

    /// Commits the staged tree as daydream, without the project's hooks; returns the commit.
    pub(crate) fn commit(&self, message: &str) -> Result<String> {
        self.as_daydream()
            .args(["commit", "--no-verify", "--quiet", "-m", message])
            .run()
            .map_err(ExecError::into_anyhow)
            .context("failed to commit the fix")?;
        Ok(git_out(&self.dir, &self.cancel, &["rev-parse", "HEAD"])?
            .trim()
            .to_owned())
    }

    /// Merges `commit` into the worktree's branch as daydream. `Ok(Err(files))`: it conflicts in these files;
    /// the merge is aborted and the worktree is back where it was.
    pub(crate) fn merge(&self, commit: &str, message: &str) -> Result<Result<(), Vec<String>>> {
        let done = self
            .as_daydream()
            .args([
                "merge",
                "--no-verify",
                "--no-edit",
                "--quiet",
                "-m",
                message,
                commit,
            ])
            .run_any()
            .map_err(ExecError::into_anyhow)?;
        if done.code == Some(0) {
            return Ok(Ok(()));
        }
        let conflicted = git_out(
            &self.dir,
            &self.cancel,
            &["diff", "--name-only", "-z", "--diff-filter=U"],
        )?;
        let files: Vec<String> = conflicted
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        let _ = git_out(&self.dir, &self.cancel, &["merge", "--abort"]);
        if files.is_empty() {
            anyhow::bail!(
                "failed to merge `{commit}`: {}",
                crate::text::squeeze(&String::from_utf8_lossy(&done.stderr), 300)
            );
        }
        Ok(Err(files))
    }

    /// Replaces the commits since `onto` by one commit of the same tree; returns it.
    pub(crate) fn squash(&self, onto: &str, message: &str) -> Result<String> {
        git_out(
            &self.dir,
            &self.cancel,
            &["reset", "--quiet", "--soft", onto],
        )?;
        self.commit(message)
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        if self.keep_branch {
            remove_worktrees(&self.repo, &self.branch);
        } else {
            discard(&self.repo, &self.branch);
        }
    }
}

/// The default branch and what a worktree of it starts at: `origin`'s HEAD when the repository has one
/// (as this clone last saw it: nothing is fetched), else a local `main` or `master`.
pub(crate) fn default_base(repo: &Path, cancel: &Cancel) -> Result<(String, String)> {
    if let Ok(head) = git_out(repo, cancel, &["rev-parse", "--abbrev-ref", "origin/HEAD"]) {
        let head = head.trim();
        if let Some(name) = head.strip_prefix("origin/") {
            return Ok((name.to_owned(), format!("refs/remotes/{head}")));
        }
    }
    for name in ["main", "master"] {
        for reference in [
            format!("refs/remotes/origin/{name}"),
            format!("refs/heads/{name}"),
        ] {
            if git_out(
                repo,
                cancel,
                &["rev-parse", "--verify", "--quiet", &reference],
            )
            .is_ok()
            {
                return Ok((name.to_owned(), reference));
            }
        }
    }
    anyhow::bail!(
        "could not tell the default branch of `{}`: no `origin/HEAD`, `main` or `master`\n  fix: `git remote set-head origin --auto`",
        repo.display()
    )
}

/// `name`, or `name-2`, `name-3`... when that local branch exists.
pub(crate) fn free_branch(repo: &Path, cancel: &Cancel, name: &str) -> String {
    if !local_has(repo, cancel, name) {
        return name.to_owned();
    }
    (2..1000)
        .map(|n| format!("{name}-{n}"))
        .find(|b| !local_has(repo, cancel, b))
        .unwrap_or_else(|| name.to_owned())
}

/// Fetches `base` from `origin` into `refs/remotes/origin/<base>`.
pub(crate) fn fetch(repo: &Path, base: &str, cancel: &Cancel) -> Result<()> {
    git_out(
        repo,
        cancel,
        &[
            "fetch",
            "--no-tags",
            "origin",
            &format!("+refs/heads/{base}:refs/remotes/origin/{base}"),
        ],
    )
    .map(drop)
    .with_context(|| format!("failed to fetch `{base}` from `origin`"))
}

/// Removes every worktree of `branch` and the local branch itself. Quiet: there may be nothing to remove.
pub(crate) fn discard(repo: &Path, branch: &str) {
    remove_worktrees(repo, branch);
    // Cleanup must happen even after SIGTERM: a fresh cancel token, never the run's.
    let quiet = Cancel::default();
    if local_has(repo, &quiet, branch) {
        let _ = git_out(repo, &quiet, &["branch", "-D", branch]);
    }
}

/// Removes every worktree of `branch`, keeping the branch. Quiet: there may be nothing to remove.
fn remove_worktrees(repo: &Path, branch: &str) {
    let quiet = Cancel::default();
    if let Ok(list) = git_out(repo, &quiet, &["worktree", "list", "--porcelain"]) {
        let mut path = None;
        for line in list.lines() {
            if let Some(p) = line.strip_prefix("worktree ") {
                path = Some(p.to_owned());
            } else if line == format!("branch refs/heads/{branch}")
                && let Some(p) = path.take()
            {
                let _ = git_out(
                    repo,
                    &quiet,
                    &["worktree", "remove", "--force", "--force", &p],
                );
            }
        }
    }
    let _ = git_out(repo, &quiet, &["worktree", "prune"]);
}

/// Pushes `commit` to `origin` as `refs/heads/<branch>`, never forced. `Ok(false)`: the branch already exists
/// there (another machine pushed it first).
pub(crate) fn push(repo: &Path, cancel: &Cancel, commit: &str, branch: &str) -> Result<bool> {
    assert!(
        branch.starts_with("daydream/fix-")
            || branch.starts_with("fix/sentry-")
            || branch.starts_with("daydream/build-"),
        "daydream pushes only its own branches"
    );
    match git(repo, cancel)
        .args([
            "push",
            "--no-verify",
            "--porcelain",
            "origin",
            &format!("{commit}:refs/heads/{branch}"),
        ])
        .run()
    {
        Ok(_) => Ok(true),
        Err(ExecError::Failed { stderr, .. })
            if stderr.contains("rejected") || stderr.contains("already exists") =>
        {
            Ok(false)
        }
        Err(err) => Err(err.into_anyhow()).context("failed to push the fix branch to `origin`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::git as sh;

    /// A repository whose branches `left` and `right` change the same line of `a.txt`, and `other` another file.
    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        sh(d, &["init", "-q", "-b", "main"]);
        std::fs::write(d.join("a.txt"), "one\n").unwrap();
        sh(d, &["add", "."]);
        sh(d, &["commit", "-q", "-m", "start"]);
        for (branch, file, text) in [
            ("left", "a.txt", "left\n"),
            ("right", "a.txt", "right\n"),
            ("other", "b.txt", "b\n"),
        ] {
            sh(d, &["checkout", "-q", "-b", branch, "main"]);
            std::fs::write(d.join(file), text).unwrap();
            sh(d, &["add", "."]);
            sh(d, &["commit", "-q", "-m", branch]);
        }
        sh(d, &["checkout", "-q", "main"]);
        dir
    }

    #[test]
    fn a_merge_that_conflicts_names_the_files_and_leaves_the_worktree_as_it_was() {
        let repo = repo();
        let cancel = Cancel::default();
        let wt = Worktree::add(repo.path(), "left", "daydream/build-test", &cancel).unwrap();
        let head = wt.head().unwrap();
        let right = sh(repo.path(), &["rev-parse", "right"]);
        assert_eq!(
            wt.merge(&right, "merge right").unwrap(),
            Err(vec!["a.txt".to_owned()])
        );
        assert_eq!(wt.head().unwrap(), head);
        assert_eq!(sh(wt.dir(), &["status", "--porcelain"]), "");
        // A merge that does not conflict is a commit by daydream; squashed, the branch is one commit on main.
        let other = sh(repo.path(), &["rev-parse", "other"]);
        assert_eq!(wt.merge(&other, "merge other").unwrap(), Ok(()));
        assert_eq!(
            sh(wt.dir(), &["log", "-1", "--format=%an %s"]),
            "daydream merge other"
        );
        let main = sh(repo.path(), &["rev-parse", "main"]);
        let one = wt.squash(&main, "all of it").unwrap();
        assert_eq!(sh(wt.dir(), &["rev-parse", &format!("{one}^")]), main);
        assert_eq!(
            sh(wt.dir(), &["diff", "--name-only", &main, &one]),
            "a.txt\nb.txt"
        );
        drop(wt);
        assert!(
            !local_has(repo.path(), &cancel, "daydream/build-test"),
            "the branch went with the worktree"
        );
    }
}
