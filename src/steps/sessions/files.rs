//! Which transcripts: `$CLAUDE_CONFIG_DIR/projects` (`~/.claude/projects` without it), the folders whose names
//! can be a project's directory or one of its git worktrees, and in them the `.jsonl` files written since the
//! window began (subagents' files in the session folders included). Older files are never opened.

use std::ffi::OsStr;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::analysis::{Analysis, FileState};
use super::transcript::read_records;
use crate::cancel::Cancel;
use crate::clock::Window;
use crate::config::Project;
use crate::env::Env;

/// Folder names this long may have been shortened by Claude Code: any of them may hold the project.
const SHORTENED_NAME: usize = 180;
/// Buffer of a transcript's reader.
const READ_BUFFER: usize = 1 << 20;

/// Where Claude Code keeps its transcripts: `$CLAUDE_CONFIG_DIR/projects`, else `~/.claude/projects`.
pub(crate) fn projects_dir(env: &Env) -> Option<PathBuf> {
    let base = match env.get("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env.get("HOME")?).join(".claude"),
    };
    Some(base.join("projects"))
}

/// The project's directory and, for a git repository, the same directory in each of its other worktrees.
pub(crate) fn roots(project: &Project) -> Vec<PathBuf> {
    let mut roots = vec![project.dir.clone()];
    let listed = crate::git::command(OsStr::new("git"), &project.dir)
        .args(["worktree", "list", "--porcelain"])
        .run();
    let Ok(done) = listed else { return roots };
    if done.code != Some(0) {
        return roots;
    }
    let text = String::from_utf8_lossy(&done.stdout);
    let trees: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
        .map(PathBuf::from)
        .collect();
    // The main worktree comes first; the project may be a folder inside it.
    let Some(main) = trees.iter().find(|t| project.dir.starts_with(t)) else {
        return roots;
    };
    let Ok(inside) = project.dir.strip_prefix(main) else {
        return roots;
    };
    for tree in &trees {
        let root = tree.join(inside);
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    roots
}

/// A path as Claude Code names its folder: every character but ASCII letters and digits as `-`.
pub(super) fn encoded(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Whether the transcript folder `name` may hold sessions of one of `roots`.
fn may_hold(name: &str, roots: &[PathBuf]) -> bool {
    let name = encoded(name);
    name.len() >= SHORTENED_NAME
        || roots
            .iter()
            .any(|root| name.starts_with(&encoded(&root.to_string_lossy())))
}

/// Reads every transcript under `dir` that may hold sessions of the analysis' roots and was written since the
/// window began into `analysis`; returns warnings (unreadable files, lines that are not records).
pub(crate) fn read_all(
    dir: &Path,
    roots: &[PathBuf],
    window: Window,
    analysis: &mut Analysis,
    cancel: &Cancel,
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(warnings);
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| may_hold(&e.file_name().to_string_lossy(), roots))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let mut files = Vec::new();
        transcripts(&folder, 0, &mut files);
        files.sort();
        for path in files {
            cancel.check()?;
            read_one(&path, dir, window, analysis, &mut warnings);
        }
    }
    Ok(warnings)
}

/// The `.jsonl` files in `folder` and its subfolders (subagents' transcripts), two levels deep at most.
fn transcripts(folder: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() && depth < 2 {
            transcripts(&path, depth + 1, out);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
}

fn read_one(
    path: &Path,
    base: &Path,
    window: Window,
    analysis: &mut Analysis,
    warnings: &mut Vec<String>,
) {
    let shown = path
        .strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string();
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    if modified.is_some_and(|m| m < window.start) {
        analysis.file_skipped();
        return;
    }
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) => {
            warnings.push(format!("cannot read `{shown}`: {err}"));
            return;
        }
    };
    let mut carried = FileState::default();
    let reader = BufReader::with_capacity(READ_BUFFER, file);
    match read_records(reader, |record| analysis.record(&mut carried, record)) {
        Ok(stats) => {
            if stats.bad > 0 {
                warnings.push(format!(
                    "`{shown}`: {} could not be read (not JSON) and were skipped",
                    crate::text::plural(stats.bad, "line", "lines")
                ));
            }
            if stats.too_long > 0 {
                warnings.push(format!(
                    "`{shown}`: {} longer than {} skipped",
                    crate::text::plural(stats.too_long, "line", "lines"),
                    crate::text::human_bytes(super::transcript::MAX_LINE as u64)
                ));
            }
            analysis.file_read(stats);
        }
        Err(err) => warnings.push(format!("cannot read `{shown}`: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_matched_by_the_encoded_directory_prefix() {
        let roots = vec![PathBuf::from("/home/me/src/shop.app")];
        assert!(may_hold("-home-me-src-shop-app", &roots));
        assert!(
            may_hold("-home-me-src-shop-app-api", &roots),
            "a folder below it"
        );
        assert!(!may_hold("-home-me-src-blog", &roots));
        assert!(may_hold(&"x".repeat(200), &roots), "possibly shortened");
    }

    fn line(cwd: &Path, sidechain: bool) -> String {
        format!(
            "{}\n",
            serde_json::json!({"type": "user", "timestamp": "2026-11-20T10:00:00.000Z", "cwd": cwd,
                               "sessionId": "s1", "isSidechain": sidechain, "message": {"content": "hi"}})
        )
    }

    #[test]
    fn subagents_count_older_files_are_not_opened_and_other_projects_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("src/shop");
        let projects = dir.path().join("claude/projects");
        let folder = projects.join(encoded(&project.to_string_lossy()));
        let write = |path: &Path, text: &str| {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(&folder.join("s1.jsonl"), &line(&project, false));
        write(
            &folder.join("s1/subagents/agent-a1.jsonl"),
            &line(&project, true),
        );
        write(&folder.join("old.jsonl"), &line(&project, false));
        let window = Window::previous_day("2026-11-21".parse().unwrap());
        let old = std::time::UNIX_EPOCH
            + std::time::Duration::from_secs(u64::try_from(window.start - 1).unwrap());
        File::options()
            .write(true)
            .open(folder.join("old.jsonl"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let blog = dir.path().join("src/blog");
        write(
            &projects
                .join(encoded(&blog.to_string_lossy()))
                .join("b.jsonl"),
            &line(&blog, false),
        );
        let roots = vec![project];
        let mut analysis = Analysis::new(window, roots.clone());
        let warnings =
            read_all(&projects, &roots, window, &mut analysis, &Cancel::default()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let data = analysis.finish("shop", "2026-11-21".parse().unwrap());
        assert_eq!((data.files.read, data.files.skipped_old), (2, 1));
        // The subagent's user record is the model's prompt to it, not a user turn.
        assert_eq!((data.sessions, data.user_turns), (1, 1));
    }

    #[test]
    fn a_git_projects_worktrees_are_roots_too() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("shop");
        std::fs::create_dir_all(repo.join("api")).unwrap();
        let git = |args: &[&str]| {
            let done = crate::git::command(OsStr::new("git"), &repo)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .run()
                .unwrap();
            assert_eq!(done.code, Some(0), "{}", done.stderr_text());
        };
        git(&["init", "-q"]);
        std::fs::write(repo.join("api/a.txt"), "a").unwrap();
        git(&["add", "."]);
        git(&["commit", "-qm", "one"]);
        let tree = dir.path().join("shop-fix");
        git(&["worktree", "add", "-q", tree.to_str().unwrap()]);
        let text =
            serde_json::json!({"projects": {"shop": {"working_directory": repo.join("api")}}})
                .to_string();
        let config =
            crate::config::parse(&text, Path::new("p.json"), dir.path(), &Env::default()).unwrap();
        let roots = roots(&config.projects[0]);
        assert_eq!(roots, [repo.join("api"), tree.join("api")]);
    }

    #[test]
    fn the_config_dir_wins_over_home() {
        let env = Env::from_pairs([("HOME", "/h"), ("CLAUDE_CONFIG_DIR", "/c")]);
        assert_eq!(projects_dir(&env), Some(PathBuf::from("/c/projects")));
        let env = Env::from_pairs([("HOME", "/h")]);
        assert_eq!(
            projects_dir(&env),
            Some(PathBuf::from("/h/.claude/projects"))
        );
    }
}
