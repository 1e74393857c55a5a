//! The `cleanup` step: removes the build artifacts of a project that git does not track, and reports (never
//! edits) legacy-code signals: blocks of commented-out code, TODO/FIXME/XXX markers and the project's
//! configured deprecated patterns.
//!
//! Two walks, neither of which follows symbolic links:
//! - artifacts: every folder except version-control, vendored and virtualenv folders and nested repositories,
//!   with `.gitignore` NOT applied (artifacts are usually ignored, which is how they survive);
//! - legacy signals: source files only, `.gitignore`-aware (the `ignore` crate's standard filters). Each file is
//!   lexed for its comments and strings (`lexer`): a marker counts in a comment only (not as a placeholder such
//!   as `noqa:XXX`), a deprecated pattern in code only (not in a comment, a string or a longer name). Inputs of
//!   the tests (`fixtures/`, `testdata/`, `snapshots/`, `tests/data/`, files a test names in a string) are
//!   data, not the project's code; commented alternatives in example folders and doctest prompts (`# >>>`)
//!   are documentation, not dead code.
//!
//! What git tracks comes from `git ls-files`. When that cannot be known (git missing, a git error), nothing is
//! removed: deleting a tracked file is the one mistake this step must never make.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Component, Path};
use std::time::Duration;
use std::{fs, io};

use anyhow::{Context, Result};

use crate::step::{Outcome, Output, Step, UnitCx, Warnings};

mod artifacts;
mod data;
mod lexer;
mod render;
mod signals;
mod tracked;

use crate::text::{code, human_bytes, plural};
use artifacts::{find_artifacts, remove};
use data::{Artifact, CleanupData, Failure, Git, Plan, Removal, Totals};
use render::{render, show, with_more};
use signals::scan_legacy;
use tracked::{Tracking, tracking};

/// Folders that are build artifacts as a whole.
const ARTIFACT_DIRS: &[&str] = &["__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"];
/// Files that are build artifacts wherever they are.
const ARTIFACT_EXTENSION: &str = "pyc";
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
    type Data = CleanupData;
    const NAME: &'static str = "cleanup";
    const TITLE: &'static str = "Cleanup";

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<CleanupData>> {
        cleanup(cx, OsStr::new("git"))
    }

    fn render(&self, data: &CleanupData, _: &Output, out: &mut String) {
        render(data, out);
    }
}

// ---------------------------------------------------------------------------------------------------------
// The unit.

/// The step with the git program as a parameter, so tests can make git missing or broken.
#[expect(
    clippy::too_many_lines,
    reason = "the unit in order: what git tracks, artifacts removed, signals found"
)]
fn cleanup(cx: &mut UnitCx<'_>, git: &OsStr) -> Result<Outcome<CleanupData>> {
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
    let resume = cx.resume::<Plan>();
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
        data,
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
fn removed_earlier(resume: Option<Plan>, root: &Path) -> Vec<Artifact> {
    let Some(plan) = resume else {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::path::PathBuf;

    use chrono::NaiveDate;
    use serde_json::{Value, json};

    use super::artifacts::Candidate;
    use super::data::{Listed, Todo};
    use super::signals::{Class, Syntax, classify, commented_out_blocks};
    use super::*;
    use crate::cancel::Interrupted;
    use crate::env::Env;
    use crate::step::AnyStep;
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
            Outcome::Done(output) => Ok((output.erase()?, saved)),
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
        crate::testing::git(dir, args);
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
        AnyStep::render(&Cleanup, &output, &mut markdown);
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
        AnyStep::render(&Cleanup, &output, &mut markdown);
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
    fn test_inputs_and_placeholders_are_not_the_projects_notes() {
        let (_tmp, root) = tempdir();
        put(&root, "app/a.py", "# TODO: a real note\n");
        put(
            &root,
            "tests/data/sample.py",
            "# TODO: part of a test input\n",
        );
        put(&root, "tests/fixtures/old.js", "// FIXME: a fixture\n");
        put(&root, "pkg/testdata/x.go", "// XXX: golden input\n");
        put(&root, "tests/__snapshots__/a.ts", "// TODO: a snapshot\n");
        put(&root, "tests/cases/input.rb", "# TODO: read by a test\n");
        // Code a test imports or mocks, or a file it names in a comment, is the project's own.
        put(&root, "lib/reply.js", "// TODO: the project's note\n");
        put(&root, "tests/helpers.js", "// TODO: a helper's note\n");
        put(
            &root,
            "tests/reply.test.js",
            "const reply = proxyquire('../lib/reply.js', {}) // see `helpers.js`\n",
        );
        put(
            &root,
            "tests/test_lint.py",
            "def test_lint():\n    check(open(\"tests/cases/input.rb\").read())\n    \"\"\"Flags `# noqa:XXX`, not TODO notes.\"\"\"\n    x = 1  # noqa:XXX\n",
        );

        let (_, data) = run(&root, Opts::default());

        let found: Vec<(&str, usize)> = data
            .legacy
            .markers
            .items
            .iter()
            .map(|m| (m.path.as_str(), m.line))
            .collect();
        assert_eq!(
            found,
            [
                ("app/a.py", 1),
                ("lib/reply.js", 1),
                ("tests/helpers.js", 1)
            ]
        );
        assert_eq!(data.legacy.fixtures_skipped, 5);
    }

    #[test]
    fn doctests_and_example_alternatives_are_not_dead_code() {
        let (_tmp, root) = tempdir();
        put(
            &root,
            "app/client.py",
            "def get(url):\n    # >>> client = Client()\n    # >>> client.get(\"https://example.com\")\n    # >>> response.status_code\n    # 200\n    return url\n\n# old = compute(a, b)\n# if old > 10:\n#     print(old)\n",
        );
        put(
            &root,
            "examples/server.js",
            "const app = fastify()\n// app.register(require('./plugin'))\n// app.listen({ port: 3000 })\n// console.log('listening')\napp.listen()\n",
        );

        let (_, data) = run(&root, Opts::default());

        let found: Vec<(&str, usize, usize)> = data
            .legacy
            .commented_out
            .items
            .iter()
            .map(|b| (b.path.as_str(), b.start, b.end))
            .collect();
        assert_eq!(found, [("app/client.py", 8, 10)]);
    }

    #[test]
    fn deprecated_names_in_comments_strings_and_longer_names_are_not_uses() {
        let (_tmp, root) = tempdir();
        put(
            &root,
            "app/routing.py",
            concat!(
                "def add_event_handler(self, func):\n",
                "    \"\"\"Deprecated: use lifespan, not add_event_handler(...).\"\"\"\n",
                "    warnings.warn(\"add_event_handler() is deprecated\")  # add_event_handler( too\n",
                "def test_app_add_event_handler():\n",
                "    app.add_event_handler(startup)\n",
            ),
        );
        put(
            &root,
            "lib/request.js",
            "/**\n * Short-hand for `url.parse(req.url).pathname`.\n */\nconst re = /url.parse(/\nconst u = url.parse(req.url)\nconst s = `url.parse(${x})`\n",
        );
        put(
            &root,
            "src/lib.rs",
            "/// Replaces `try!(x)`.\nfn f<'a>(x: &'a str) -> R { let m = \"try!(\"; try!(g(x)) }\n",
        );
        put(
            &root,
            "app/old.py",
            "x = 1  # pylint: disable=old-division\n",
        );

        let (_, data) = run(
            &root,
            Opts {
                patterns: &[
                    r"add_event_handler\(",
                    r"url\.parse\(",
                    r"try!\(",
                    r"# pylint: disable=old",
                ],
                ..Opts::default()
            },
        );

        let uses: Vec<Vec<(&str, usize)>> = data
            .legacy
            .deprecated
            .iter()
            .map(|d| {
                d.uses
                    .items
                    .iter()
                    .map(|u| (u.path.as_str(), u.line))
                    .collect()
            })
            .collect();
        assert_eq!(
            uses,
            [
                vec![("app/routing.py", 1), ("app/routing.py", 5)],
                vec![("lib/request.js", 5)],
                vec![("src/lib.rs", 2)],
                vec![("app/old.py", 1)],
            ]
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
        AnyStep::render(&Cleanup, &stored, &mut markdown);
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
        let cases: &[(&str, Syntax, (usize, usize, &str))] = &[
            (
                "import os\n\n# def old_handler(request):\n#     data = request.json()\n#     if not data:\n#         return None\n#     return process(data)\n\nx = 1\n",
                Syntax::Hash,
                (3, 7, "def old_handler(request):"),
            ),
            (
                "# x = 1\n## y = 2\n#\n# z = x + y\n",
                Syntax::Hash,
                (1, 4, "x = 1"),
            ),
            (
                "run();\n  // const total = compute(a, b);\n  // if (total > 10) {\n  //   console.log(total);\n  // }\n",
                Syntax::Slash,
                (2, 5, "const total = compute(a, b);"),
            ),
            (
                "int x;\n/*\nint old(void) {\n    return compute(1, 2);\n}\n*/\n",
                Syntax::Slash,
                (3, 5, "int old(void) {"),
            ),
            (
                "// err := client.Fetch(ctx)\n// if err != nil {\n//     return err\n// }\n",
                Syntax::Slash,
                (1, 4, "err := client.Fetch(ctx)"),
            ),
        ];
        for (text, syntax, (start, end, preview)) in cases {
            assert_eq!(
                blocks(text, *syntax),
                [(*start, *end, (*preview).to_owned())],
                "{text}"
            );
        }
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
            "         Ready(s)   |       |             Ready(s + 2p)      |      |",
            "| method | returns |",
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
