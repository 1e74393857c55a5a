//! Durable file writes (a temp file in the same directory, fsync, rename, fsync the directory), reading the
//! JSON-lines files under `data/`, and reading the versioned JSON files (the state, template histories) that a
//! newer daydream may have written or a crash may have left broken; and the walk of a project's own files.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Replaces `path` with `bytes` so that a crash at any moment leaves either the old file or the new one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("failed to create a temporary file in `{}`", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("failed to replace `{}`", path.display()))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("failed to sync directory `{}`", dir.display()))?;
    Ok(())
}

/// Appends `record` as one JSON line to `path` (creating its folder) with `O_APPEND` and one write, then
/// fsyncs it (and the folder when the file is new): processes sharing the file do not interleave, and a kill
/// leaves at most a torn last line, which [`read_jsonl`] skips. A torn line left by an earlier crash is ended
/// first, in the same write, so that it does not swallow this one.
pub(crate) fn append_jsonl<T: serde::Serialize>(path: &Path, record: &T) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::FileExt as _;
    let mut bytes = serde_json::to_vec(record)
        .with_context(|| format!("failed to encode a line of `{}`", path.display()))?;
    bytes.push(b'\n');
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))?;
    let existed = path.exists();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
    let len = file
        .metadata()
        .with_context(|| format!("failed to read `{}`", path.display()))?
        .len();
    if len > 0 {
        let mut last = [0_u8];
        file.read_exact_at(&mut last, len - 1)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        if last[0] != b'\n' {
            bytes.insert(0, b'\n');
        }
    }
    (&file)
        .write_all(&bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    // A new file is only durable once its directory entry is.
    if !existed {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("failed to sync directory `{}`", dir.display()))?;
    }
    Ok(())
}

/// The records of a JSON-lines file, and how many lines did not parse (a line torn by a crash, an edit). A
/// missing file has none; blank lines are not records.
pub(crate) fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(Vec<T>, usize)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(err) => {
            return Err(err).with_context(|| format!("failed to read `{}`", path.display()));
        }
    };
    let mut bad = 0;
    let records = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).map_err(|_| bad += 1).ok())
        .collect();
    Ok((records, bad))
}

/// What reading a versioned JSON file found. Nothing is changed on disk.
#[derive(Debug)]
pub(crate) enum Versioned<T> {
    Missing,
    /// Read; its `format_version` is at most the current one (an older layout loads with defaults).
    Loaded(T),
    /// Not valid JSON, or not of this shape: why.
    Corrupt(String),
    /// Written by a newer daydream, with this `format_version`.
    Newer(u32),
}

impl<T> Versioned<T> {
    /// For a file that cannot be used: why, and the tag of the name it is moved aside to (`corrupt`, `v2`).
    pub(crate) fn unusable(&self, current: u32) -> Option<(String, String)> {
        match self {
            Versioned::Missing | Versioned::Loaded(_) => None,
            Versioned::Corrupt(why) => Some((why.clone(), "corrupt".to_owned())),
            Versioned::Newer(v) => Some((
                format!(
                    "written by a newer daydream (format_version {v}, this one reads up to {current})"
                ),
                format!("v{v}"),
            )),
        }
    }
}

/// Reads `path` as a `T` whose `format_version` may be at most `current`; `what` names the kind of file in
/// messages ("a daydream state file"). `Err` only when the file exists and cannot be read.
pub(crate) fn read_versioned<T: DeserializeOwned>(
    path: &Path,
    current: u32,
    what: &str,
) -> Result<Versioned<T>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Versioned::Missing),
        Err(err) => {
            return Err(err).with_context(|| format!("failed to read `{}`", path.display()));
        }
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(err) => return Ok(Versioned::Corrupt(format!("not valid JSON: {err}"))),
    };
    let version = value
        .get("format_version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if version > u64::from(current) {
        return Ok(Versioned::Newer(u32::try_from(version).unwrap_or(u32::MAX)));
    }
    Ok(match serde_json::from_value::<T>(value) {
        Ok(loaded) => Versioned::Loaded(loaded),
        Err(err) => Versioned::Corrupt(format!("not {what}: {err}")),
    })
}

/// Moves `path` aside to `<path>.<tag>-<stamp>` (or that with a number, if taken), never overwriting; returns
/// where it went.
pub(crate) fn set_aside(path: &Path, tag: &str, stamp: &str) -> Result<PathBuf> {
    let aside = unused(PathBuf::from(format!("{}.{tag}-{stamp}", path.display())));
    std::fs::rename(path, &aside)
        .with_context(|| format!("failed to move `{}` aside", path.display()))?;
    Ok(aside)
}

/// `path`, or `path.1`, `path.2`, ...: the first that does not exist.
pub(crate) fn unused(path: PathBuf) -> PathBuf {
    if !path.exists() {
        return path;
    }
    (1..u32::MAX)
        .map(|n| PathBuf::from(format!("{}.{n}", path.display())))
        .find(|p| !p.exists())
        .expect("some suffix is free")
}

/// Folders a walk of a project's own files does not enter: version control, vendored code, virtualenvs and
/// other build trees.
pub(crate) const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "vendor",
    "third_party",
    ".venv",
    "venv",
    "site-packages",
    ".tox",
    ".nox",
    "target",
];

/// A walk of a project's own files in name order: `.gitignore` honoured whether or not git is there (a copy of a
/// repository, a project without git), links not followed, and no folder below `root` entered that `skip` names.
pub(crate) fn project_walk(
    root: &Path,
    skip: impl Fn(&ignore::DirEntry) -> bool + Send + Sync + 'static,
) -> ignore::WalkBuilder {
    let mut walk = ignore::WalkBuilder::new(root);
    walk.standard_filters(true)
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(Ord::cmp)
        .filter_entry(move |entry| {
            !(entry.depth() > 0 && entry.file_type().is_some_and(|t| t.is_dir()) && skip(entry))
        });
    walk
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        super::write_atomic(&path, b"one").unwrap();
        super::write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
    }
}
