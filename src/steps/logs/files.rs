//! Which files: the project's log globs, resolved inside the project, without symlinks that leave it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Project;
use crate::env::Env;

/// A log file to read: how it is shown (relative to the project when inside it) and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogFile {
    pub(crate) display: String,
    pub(crate) path: PathBuf,
}

pub(crate) struct Found {
    pub(crate) files: Vec<LogFile>,
    pub(crate) warnings: Vec<String>,
}

/// The files matching the project's `logs` globs (relative to its directory; `~` and absolute paths work), in
/// order of their displayed names. A glob without wildcards that names no file is a warning.
pub(crate) fn discover(project: &Project, env: &Env) -> Found {
    let mut files = BTreeMap::new();
    let mut warnings = Vec::new();
    for glob in &project.logs {
        let full = crate::config::expand(glob, &project.dir, env);
        let pattern = full.to_string_lossy().into_owned();
        let base: PathBuf = full
            .components()
            .take_while(|c| {
                !c.as_os_str()
                    .to_string_lossy()
                    .contains(['*', '?', '[', '{'])
            })
            .collect();
        let depth = full.components().count() - base.components().count();
        if depth == 0 {
            if full.is_file() {
                files.insert(shown(&full, &project.dir), full);
            } else if full.exists() {
                warnings.push(format!("`{glob}` is not a file"));
            } else {
                warnings.push(format!("`{glob}` does not exist"));
            }
            continue;
        }
        let matcher = match globset::GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
        {
            Ok(glob) => glob.compile_matcher(),
            Err(err) => {
                warnings.push(format!("invalid glob `{glob}` in `logs`: {}", err.kind()));
                continue;
            }
        };
        if !base.is_dir() {
            continue;
        }
        let mut walk = ignore::WalkBuilder::new(&base);
        walk.standard_filters(false)
            .hidden(false)
            .follow_links(false)
            .max_depth(if pattern.contains("**") {
                None
            } else {
                Some(depth)
            })
            .filter_entry(|entry| entry.file_name() != ".git");
        let mut errors = 0;
        for entry in walk.build() {
            match entry {
                Ok(entry) => {
                    let path = entry.path();
                    if matcher.is_match(path) && path.is_file() {
                        files.insert(shown(path, &project.dir), path.to_owned());
                    }
                }
                Err(err) => {
                    errors += 1;
                    if errors <= 3 {
                        warnings.push(format!("failed to list files for `{glob}`: {err}"));
                    }
                }
            }
        }
    }
    Found {
        files: files
            .into_iter()
            .map(|(display, path)| LogFile { display, path })
            .collect(),
        warnings,
    }
}

pub(super) fn shown(path: &Path, dir: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}
