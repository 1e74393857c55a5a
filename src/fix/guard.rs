//! The checks on what a fix changed: protected and safe paths, symlinks and escaping paths, binaries, size,
//! credentials on added lines, and what the tests left behind.

use std::fmt::Write as _;
use std::path::{Component, Path};

use anyhow::{Context, Result};
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// Paths a fix may never change, whatever the project's configuration adds: authentication, payments,
/// migrations and data-deletion code, CI configuration, Claude's own instructions and settings, secrets.
pub(crate) const DEFAULT_PROTECTED: &[&str] = &[
    "**/auth/**",
    "**/*auth*",
    "**/payment*/**",
    "**/*payment*",
    "**/billing/**",
    "**/*billing*",
    "**/migrations/**",
    "**/*migration*",
    "**/*delet*",
    "**/*purge*",
    "**/*wipe*",
    ".github/**",
    ".gitlab-ci.yml",
    ".circleci/**",
    ".buildkite/**",
    ".travis.yml",
    "azure-pipelines.yml",
    "Jenkinsfile",
    ".ci/**",
    ".claude/**",
    "**/CLAUDE.md",
    "**/.env*",
    "**/*.pem",
    "**/*.key",
    "**/*secret*",
    ".gitmodules",
    ".gitattributes",
];
/// A diff larger than this is not a fix daydream proposes.
pub(crate) const MAX_FILES: usize = 20;
pub(crate) const MAX_LINES: u64 = 500;

/// Which paths a fix may change.
pub(crate) struct PathRules {
    /// `None`: the whole repository.
    safe: Option<GlobSet>,
    protected: GlobSet,
    /// The patterns as configured, for messages and the prompt.
    pub(crate) safe_shown: Vec<String>,
    pub(crate) protected_shown: Vec<String>,
}

impl PathRules {
    /// The defaults plus the project's `autofix.protected_paths`; `autofix.safe_paths` when given. A pattern
    /// without glob characters is the path and everything under it (`src/` and `src` both mean the folder).
    pub(crate) fn new(safe: &[String], protected: &[String]) -> Result<PathRules> {
        let protected_shown: Vec<String> = DEFAULT_PROTECTED
            .iter()
            .map(|s| (*s).to_owned())
            .chain(protected.iter().cloned())
            .collect();
        Ok(PathRules {
            safe: if safe.is_empty() {
                None
            } else {
                Some(globs(safe, "autofix.safe_paths")?)
            },
            protected: globs(&protected_shown, "autofix.protected_paths")?,
            safe_shown: safe.to_vec(),
            protected_shown,
        })
    }

    /// Why `path` (relative, `/`-separated) may not be changed, if it may not.
    /// What a model is told of these rules: the protected paths, the safe ones, the size caps.
    pub(crate) fn told(&self) -> String {
        let mut text = format!(
            "\nNever change these protected paths (such a diff is rejected whole): {}.\n",
            self.protected_shown.join(", ")
        );
        if !self.safe_shown.is_empty() {
            let _ = writeln!(
                text,
                "Only change files under: {}.",
                self.safe_shown.join(", ")
            );
        }
        let _ = write!(
            text,
            "Keep the diff under {MAX_FILES} files and {MAX_LINES} changed lines."
        );
        text
    }

    pub(crate) fn refuse(&self, path: &str) -> Option<String> {
        if self.protected.is_match(path) {
            return Some(format!("`{path}` is a protected path"));
        }
        if let Some(safe) = &self.safe
            && !safe.is_match(path)
        {
            return Some(format!(
                "`{path}` is outside `autofix.safe_paths` ({})",
                self.safe_shown.join(", ")
            ));
        }
        None
    }
}

/// The patterns as one set: a pattern without glob characters is the path and everything under it; `key` names
/// them in errors.
pub(crate) fn globs(patterns: &[String], key: &str) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for raw in patterns {
        let pattern = raw.trim().trim_start_matches("./");
        let has_glob = pattern.contains(['*', '?', '[', '{']);
        let bases: Vec<String> = if has_glob {
            vec![pattern.to_owned()]
        } else {
            let dir = pattern.trim_end_matches('/');
            vec![dir.to_owned(), format!("{dir}/**")]
        };
        for base in bases {
            let glob: Glob = GlobBuilder::new(&base)
                .case_insensitive(true)
                .literal_separator(true)
                .build()
                .with_context(|| format!("failed to read `{key}` pattern `{raw}`"))?;
            set.add(glob);
        }
    }
    Ok(set.build()?)
}

/// One changed path of the staged diff.
#[derive(Debug, PartialEq)]
pub(crate) struct Change {
    pub(crate) status: char,
    pub(crate) new_mode: String,
    pub(crate) path: String,
}

/// `git diff --raw -z`: `:old new oldsha newsha S\0path\0` per path.
pub(super) fn parse_raw(raw: &str) -> Vec<Change> {
    let mut out = Vec::new();
    let mut fields = raw.split('\0');
    while let Some(head) = fields.next() {
        let Some(head) = head.strip_prefix(':') else {
            continue;
        };
        let parts: Vec<&str> = head.split(' ').collect();
        let Some(path) = fields.next() else { break };
        if parts.len() < 5 {
            continue;
        }
        out.push(Change {
            status: parts[4].chars().next().unwrap_or('?'),
            new_mode: parts[1].to_owned(),
            path: path.to_owned(),
        });
    }
    out
}

/// `git diff --numstat -z`: `added\tdeleted\tpath\0`; binary files have `-` counts (`None`).
pub(super) fn parse_numstat(raw: &str) -> Vec<(String, Option<u64>)> {
    raw.split('\0')
        .filter(|s| !s.is_empty())
        .filter_map(|record| {
            let mut it = record.splitn(3, '\t');
            let (added, deleted, path) = (it.next()?, it.next()?, it.next()?);
            let lines = added
                .parse::<u64>()
                .ok()
                .zip(deleted.parse::<u64>().ok())
                .map(|(a, d)| a + d);
            Some((path.to_owned(), lines))
        })
        .collect()
}

/// What a fix changed, once it passed the checks.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Diff {
    /// `(path, lines changed)`.
    pub(crate) files: Vec<(String, u64)>,
    pub(crate) lines: u64,
}

impl Diff {
    /// A markdown list of the files with their line counts.
    pub(crate) fn summary(&self) -> String {
        let mut out = String::new();
        for (path, lines) in &self.files {
            let _ = writeln!(out, "- `{path}` ({lines} line(s))");
        }
        out
    }
}

/// The checks on the staged diff, in order: not empty; no symlink, submodule or escaping path; nothing
/// protected; everything inside the safe paths; no binary file; under the size caps.
pub(crate) fn check(
    worktree: &Path,
    rules: &PathRules,
    changes: &[Change],
    sizes: &[(String, Option<u64>)],
) -> Result<Diff, String> {
    if changes.is_empty() {
        return Err("the diff is empty: Claude changed nothing".to_owned());
    }
    for change in changes {
        let path = &change.path;
        match change.new_mode.as_str() {
            "120000" => return Err(format!("`{path}` is a symlink: fixes may not add symlinks")),
            "160000" => {
                return Err(format!(
                    "`{path}` is a submodule: fixes may not change submodules"
                ));
            }
            _ => {}
        }
        if Path::new(path)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "`{path}` is not a plain path inside the repository"
            ));
        }
        if let Some(dir) = escaping_parent(worktree, path) {
            return Err(format!(
                "`{path}` goes through the symlink `{dir}`, which may point outside the repository"
            ));
        }
        if let Some(why) = rules.refuse(path) {
            return Err(why);
        }
    }
    if changes.len() > MAX_FILES {
        return Err(format!(
            "the diff changes {} files; a fix may change at most {MAX_FILES}",
            changes.len()
        ));
    }
    let mut diff = Diff::default();
    for (path, lines) in sizes {
        let Some(lines) = lines else {
            return Err(format!(
                "`{path}` is a binary file: fixes may not change binary files"
            ));
        };
        diff.files.push((path.clone(), *lines));
        diff.lines += lines;
    }
    if diff.lines > MAX_LINES {
        return Err(format!(
            "the diff changes {} lines; a fix may change at most {MAX_LINES}",
            diff.lines
        ));
    }
    Ok(diff)
}

/// The first directory of `path` inside the worktree that is a symlink.
fn escaping_parent(worktree: &Path, path: &str) -> Option<String> {
    let mut at = worktree.to_owned();
    let mut shown = String::new();
    let parts: Vec<&str> = path.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        at.push(part);
        if !shown.is_empty() {
            shown.push('/');
        }
        shown.push_str(part);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Some(shown);
        }
    }
    None
}

/// The first added line of `patch` (`git diff -U0`) that carries a credential, as the reason to reject the
/// fix: the file, the line and the kind, never the secret itself.
pub(super) fn added_secret(patch: &str) -> Option<String> {
    let mut file = "";
    let mut line = 0u64;
    // Headers come between `diff --git` and the first `@@`; inside a hunk, `+++ x` is an added `++ x`.
    let mut in_hunk = false;
    for text in patch.lines() {
        if text.starts_with("diff --git ") {
            in_hunk = false;
        } else if let (false, Some(path)) = (in_hunk, text.strip_prefix("+++ ")) {
            file = path.strip_prefix("b/").unwrap_or(path);
        } else if let Some(hunk) = text.strip_prefix("@@ ") {
            in_hunk = true;
            // `@@ -a,b +c,d @@`: added lines are numbered from c.
            line = hunk
                .split_whitespace()
                .find_map(|part| part.strip_prefix('+'))
                .and_then(|new| new.split(',').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let Some(added) = text.strip_prefix('+') {
            if let Some(kind) = crate::redact::find_secret(added) {
                return Some(format!(
                    "`{file}` line {line} adds what looks like a credential ({kind}); a fix may not add \
                     secrets (move it to the environment, or reject the fix)"
                ));
            }
            line += 1;
        }
    }
    None
}

/// What `git status --porcelain=v1 -z` says the tests left behind, if anything.
pub(super) fn tests_left(status: &str) -> Option<String> {
    let mut entries = status.split('\0').filter(|e| e.len() > 3);
    entries.find_map(|entry| {
        let (code, path) = entry.split_at(3);
        if code.starts_with("??") {
            Some(format!(
                "the tests left a new file `{path}` outside git-ignored paths (add it to `.gitignore` if it \
                 is a build or test artifact)"
            ))
        } else if code.as_bytes()[1] != b' ' {
            Some(format!("the tests changed the tracked file `{path}`"))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(safe: &[&str], protected: &[&str]) -> PathRules {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        PathRules::new(&owned(safe), &owned(protected)).unwrap()
    }

    #[test]
    fn default_protected_paths_cover_the_dangerous_places() {
        let r = rules(&[], &[]);
        for path in [
            "src/auth/login.py",
            "auth/x.py",
            "app/payments/charge.py",
            "db/migrations/0001_init.py",
            "app/delete_user.py",
            ".github/workflows/ci.yml",
            ".claude/settings.json",
            "CLAUDE.md",
            "docs/CLAUDE.md",
            ".env",
            ".env.production",
            "config/.env.local",
            ".gitlab-ci.yml",
        ] {
            assert!(r.refuse(path).is_some(), "{path} should be protected");
        }
        for path in ["src/app/cart.py", "tests/test_cart.py", "README.md"] {
            assert_eq!(r.refuse(path), None, "{path} should be allowed");
        }
    }

    #[test]
    fn safe_paths_limit_and_project_protected_paths_add() {
        let r = rules(&["src/", "tests"], &["src/vendor/**"]);
        assert_eq!(r.refuse("src/a.py"), None);
        assert_eq!(r.refuse("tests/deep/t.py"), None);
        assert!(
            r.refuse("setup.py")
                .unwrap()
                .contains("outside `autofix.safe_paths`")
        );
        assert!(
            r.refuse("srcx/a.py").is_some(),
            "a prefix of a name is not its folder"
        );
        assert!(r.refuse("src/vendor/lib.py").unwrap().contains("protected"));
        assert!(r.refuse("src/auth/x.py").is_some(), "defaults still apply");
    }

    #[test]
    fn raw_and_numstat_parse() {
        let raw = ":100644 100644 abc def M\0src/a b.py\0:000000 120000 000 123 A\0link\0";
        let changes = parse_raw(raw);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].path, "src/a b.py");
        assert_eq!(changes[1].new_mode, "120000");
        let sizes = parse_numstat("3\t1\tsrc/a b.py\0-\t-\timg.png\0");
        assert_eq!(
            sizes,
            vec![
                ("src/a b.py".to_owned(), Some(4)),
                ("img.png".to_owned(), None)
            ]
        );
    }

    #[test]
    fn a_credential_on_an_added_line_is_named_by_file_line_and_kind_never_shown() {
        let patch = "diff --git a/src/a.py b/src/a.py\n--- a/src/a.py\n+++ b/src/a.py\n@@ -3,0 +4,2 @@\n\
                     +x = 1\n+++ not a header\n\
                     diff --git a/conf.py b/conf.py\nnew file mode 100644\n--- /dev/null\n+++ b/conf.py\n\
                     @@ -0,0 +1,3 @@\n+import os\n+\n+KEY = 'AKIAIOSFODNN7EXAMPLE'\n";
        let why = added_secret(patch).unwrap();
        assert_eq!(
            why,
            "`conf.py` line 3 adds what looks like a credential (AWS access key id); a fix may not add \
             secrets (move it to the environment, or reject the fix)"
        );
        assert!(!why.contains("AKIAIOSFODNN7EXAMPLE"));
        // A removed credential is no reason to reject a fix.
        let removal = "diff --git a/c.py b/c.py\n--- a/c.py\n+++ b/c.py\n@@ -1 +0,0 @@\n-KEY = 'AKIAIOSFODNN7EXAMPLE'\n";
        assert_eq!(added_secret(removal), None);
    }

    #[test]
    fn what_the_tests_left_is_read_from_git_status() {
        assert_eq!(tests_left(""), None);
        assert_eq!(
            tests_left("M  src/a.py\0"),
            None,
            "staged by the fix itself"
        );
        assert_eq!(
            tests_left("M  src/a.py\0 M README.md\0").unwrap(),
            "the tests changed the tracked file `README.md`"
        );
        assert!(
            tests_left("?? out/report.txt\0").unwrap().starts_with(
                "the tests left a new file `out/report.txt` outside git-ignored paths"
            )
        );
    }

    #[test]
    fn the_checks_refuse_each_kind_of_bad_diff() {
        let dir = tempfile::tempdir().unwrap();
        let r = rules(&[], &[]);
        let change = |path: &str, mode: &str| Change {
            status: 'M',
            new_mode: mode.to_owned(),
            path: path.to_owned(),
        };
        let ok = |path: &str, n: u64| (path.to_owned(), Some(n));
        let refused = |changes: &[Change], sizes: &[(String, Option<u64>)], why: &str| {
            let err = check(dir.path(), &r, changes, sizes).unwrap_err();
            assert!(err.contains(why), "expected {why:?}: {err}");
        };
        refused(&[], &[], "empty");
        // One file each: its path, mode and lines (`None`: binary), and what the refusal names.
        for (path, mode, lines, why) in [
            ("l", "120000", Some(1), "symlink"),
            ("m", "160000", Some(1), "submodule"),
            (".env", "100644", Some(1), "protected"),
            ("a.png", "100644", None, "binary"),
            ("a.py", "100644", Some(501), "at most 500"),
        ] {
            refused(&[change(path, mode)], &[(path.to_owned(), lines)], why);
        }
        let many: Vec<Change> = (0..21)
            .map(|i| change(&format!("f{i}.py"), "100644"))
            .collect();
        refused(&many, &[], "21 files");
        // A directory that is a symlink (to anywhere) cannot carry a change.
        std::os::unix::fs::symlink("/etc", dir.path().join("out")).unwrap();
        refused(
            &[change("out/passwd", "100644")],
            &[ok("out/passwd", 1)],
            "symlink `out`",
        );
        let diff = check(
            dir.path(),
            &r,
            &[change("src/a.py", "100644")],
            &[ok("src/a.py", 7)],
        )
        .unwrap();
        assert_eq!(diff.lines, 7);
        assert_eq!(diff.summary(), "- `src/a.py` (7 line(s))\n");
    }
}
