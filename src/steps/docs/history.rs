//! Git history: deleted and renamed paths, and the last commit of each file, read in chunks.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;

use super::{GIT_CHUNK, GIT_TIMEOUT, RENAME_HOPS};
use crate::cancel::Cancel;
use crate::exec::{Cmd, ExecError};
use crate::git::WorkTree;

/// How much git history the checks can read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum History {
    Complete,
    /// A shallow clone: a deletion found is real, but the last change of a file may be the clone's cut.
    Partial,
    None,
}

/// A path that git history shows deleted, and where it went if it was renamed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Gone {
    /// The short hash of the commit that removed it.
    pub(super) commit: String,
    pub(super) hash: String,
    pub(super) time: i64,
    /// Where it lives now, when the removal was a rename (followed up to [`RENAME_HOPS`] times).
    pub(super) renamed_to: Option<String>,
}

pub(super) struct Git {
    pub(super) program: OsString,
    pub(super) root: PathBuf,
    pub(super) cancel: Cancel,
}

impl Git {
    pub(super) fn cmd(&self) -> Cmd {
        crate::git::command(&self.program, &self.root)
            .timeout(GIT_TIMEOUT)
            .cancel(&self.cancel)
    }

    /// Runs git; `Ok(Err(message))` when it failed, `Err` only when the run was interrupted.
    pub(super) fn run(&self, args: &[&str], paths: &[String]) -> Result<Result<Vec<u8>, String>> {
        let mut cmd = self.cmd().args(args);
        if !paths.is_empty() {
            cmd = cmd.args(["--"]).args(paths);
        }
        match cmd.run() {
            Ok(done) if done.stdout_dropped > 0 => Ok(Err(format!(
                "`git {}` printed more than daydream keeps",
                args.first().copied().unwrap_or_default()
            ))),
            Ok(done) => Ok(Ok(done.stdout)),
            Err(ExecError::Interrupted { interrupted, .. }) => Err(interrupted.into()),
            Err(err) => Ok(Err(err.to_string())),
        }
    }

    pub(super) fn state(&self) -> Result<WorkTree> {
        Ok(crate::git::work_tree(
            self.cmd(),
            &self.program,
            "read the history",
        )?)
    }

    /// The time of the last commit that touched each of `paths` (those git never tracked are absent).
    pub(super) fn last_changes(
        &self,
        paths: &[String],
    ) -> Result<Result<BTreeMap<String, i64>, String>> {
        let mut out = BTreeMap::new();
        let read = self.each_log(&["--format=%x01%ct"], paths, |_, log| {
            // Newest first: the first time a path shows is its last change.
            for (header, names) in commits(log) {
                let Ok(time) = header.trim().parse::<i64>() else {
                    continue;
                };
                for name in names {
                    out.entry(name).or_insert(time);
                }
            }
        })?;
        Ok(read.map(|()| out))
    }

    /// Runs `git log` with `args` and the names of the files each commit touched (no renames, relative to the
    /// root) over `paths`, [`GIT_CHUNK`] at a time; `each` reads each chunk's log. `Ok(Err(message))` when git
    /// failed.
    fn each_log(
        &self,
        args: &[&str],
        paths: &[String],
        mut each: impl FnMut(&[String], &[u8]),
    ) -> Result<Result<(), String>> {
        let mut log_args = vec!["log"];
        log_args.extend_from_slice(args);
        log_args.extend_from_slice(&["--name-only", "-z", "--no-renames", "--relative"]);
        for chunk in paths.chunks(GIT_CHUNK) {
            match self.run(&log_args, chunk)? {
                Ok(log) => each(chunk, &log),
                Err(err) => return Ok(Err(err)),
            }
        }
        Ok(Ok(()))
    }

    /// Which of `paths` git history shows deleted (the last time), and where the renamed ones live now.
    pub(super) fn gone(&self, paths: &[String]) -> Result<Result<BTreeMap<String, Gone>, String>> {
        let mut out = match self.deletions(paths)? {
            Ok(out) => out,
            Err(err) => return Ok(Err(err)),
        };
        let mut renames: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for path in paths {
            let Some(gone) = out.get(path).cloned() else {
                continue;
            };
            let mut current = path.clone();
            let mut event = gone.clone();
            let mut renamed_to = None;
            for _ in 0..RENAME_HOPS {
                let commit = event.hash.clone();
                if !renames.contains_key(&commit) {
                    let found = match self.renames(&commit)? {
                        Ok(found) => found,
                        Err(err) => return Ok(Err(err)),
                    };
                    renames.insert(commit.clone(), found);
                }
                // The file itself, or a folder whose files moved together (`scripts/x.sh` to `tools/x.sh`).
                let Some(to) = renames[&commit].iter().find_map(|(from, to)| {
                    if *from == current {
                        return Some(to.clone());
                    }
                    let inside = from.strip_prefix(current.as_str())?.strip_prefix('/')?;
                    to.strip_suffix(inside)?
                        .strip_suffix('/')
                        .filter(|dir| !dir.is_empty())
                        .map(str::to_owned)
                }) else {
                    break;
                };
                if self.root.join(&to).exists() {
                    renamed_to = Some(to);
                    break;
                }
                // Renamed again, or deleted, later.
                current = to;
                match self.deletions(std::slice::from_ref(&current))? {
                    Ok(next) => match next.get(&current) {
                        Some(next) => event = next.clone(),
                        None => break,
                    },
                    Err(err) => return Ok(Err(err)),
                }
            }
            if let Some(entry) = out.get_mut(path) {
                entry.renamed_to = renamed_to;
            }
        }
        Ok(Ok(out))
    }

    /// The last commit that deleted each of `paths` (a folder: the last that deleted a file in it), renames
    /// counted as deletions.
    pub(super) fn deletions(
        &self,
        paths: &[String],
    ) -> Result<Result<BTreeMap<String, Gone>, String>> {
        let mut out = BTreeMap::new();
        let read = self.each_log(
            &["--diff-filter=D", "--format=%x01%H %ct"],
            paths,
            |chunk, log| {
                let wanted: HashSet<&str> = chunk.iter().map(String::as_str).collect();
                for (header, names) in commits(log) {
                    let Some((hash, time)) = header.trim().split_once(' ') else {
                        continue;
                    };
                    let Ok(time) = time.parse::<i64>() else {
                        continue;
                    };
                    for name in names {
                        // The file, and each folder on its way that was asked about.
                        let mut at = name.len();
                        loop {
                            let path = &name[..at];
                            if wanted.contains(path) {
                                out.entry(path.to_owned()).or_insert_with(|| Gone {
                                    commit: hash.chars().take(7).collect(),
                                    hash: hash.to_owned(),
                                    time,
                                    renamed_to: None,
                                });
                            }
                            match path.rfind('/') {
                                Some(slash) => at = slash,
                                None => break,
                            }
                        }
                    }
                }
            },
        )?;
        Ok(read.map(|()| out))
    }

    /// The renames (old, new) of one commit.
    pub(super) fn renames(&self, commit: &str) -> Result<Result<Vec<(String, String)>, String>> {
        let out = match self.run(
            &[
                "show",
                "-M",
                "--name-status",
                "-z",
                "--format=",
                "--relative",
                commit,
            ],
            &[],
        )? {
            Ok(out) => out,
            Err(err) => return Ok(Err(err)),
        };
        let fields: Vec<String> = out
            .split(|b| *b == 0)
            .map(|f| {
                String::from_utf8_lossy(f)
                    .trim_start_matches('\n')
                    .to_owned()
            })
            .collect();
        let mut renames = Vec::new();
        let mut i = 0;
        while i < fields.len() {
            let status = &fields[i];
            if status.starts_with('R') || status.starts_with('C') {
                if let (Some(from), Some(to)) = (fields.get(i + 1), fields.get(i + 2))
                    && status.starts_with('R')
                {
                    renames.push((from.clone(), to.clone()));
                }
                i += 3;
            } else {
                i += 2;
            }
        }
        Ok(Ok(renames))
    }
}

/// The commits of a `git log --format=%x01... --name-only -z`: each one's header and file names.
pub(super) fn commits(log: &[u8]) -> Vec<(String, Vec<String>)> {
    log.split(|b| *b == 1)
        .filter(|chunk| !chunk.is_empty())
        .map(|chunk| {
            let mut fields = chunk.split(|b| *b == 0);
            let header = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
            let names = fields
                .map(|f| {
                    String::from_utf8_lossy(f)
                        .trim_start_matches('\n')
                        .to_owned()
                })
                .filter(|f| !f.is_empty())
                .collect();
            (header, names)
        })
        .collect()
}
