//! What looks like a repository path, and near names of a missing one.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::{KNOWN_EXTENSIONS, KNOWN_FILES};

/// A path as a doc writes it, when it looks like one of the repository's.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Candidate {
    /// As written, without a location suffix (`:12`, `#L3`).
    pub(super) written: String,
    /// Without `./` and a trailing `/`.
    pub(super) path: String,
    pub(super) dir: bool,
}

pub(super) static LOCATION_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?::\d+)+$|#L\d+(?:-L?\d+)?$").expect("valid regex"));

/// `token` as a repository path, if it looks like one: a `/` or a known extension; no spaces, globs,
/// placeholders' brackets, URLs, `~`, `$`, options or absolute paths.
pub(super) fn path_candidate(token: &str) -> Option<Candidate> {
    let token = token.trim();
    let written = LOCATION_SUFFIX.replace(token, "").into_owned();
    let t = written.as_str();
    if t.is_empty()
        || t.len() > 200
        || t.starts_with(['~', '$', '/', '-', '@', '\\'])
        || t.starts_with("www.")
        || t.contains("//")
        || t.contains("...")
        || t.contains(':')
        || t.chars().any(|c| {
            c.is_whitespace() || c.is_control() || "*?[]{}<>|;&=,()'\"`$%!#^\\+".contains(c)
        })
        || !t.chars().any(char::is_alphabetic)
    {
        return None;
    }
    let dir = t.ends_with('/');
    let mut path = t;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    let path = path.trim_end_matches('/');
    if path.is_empty() || path == "." || path == ".." {
        return None;
    }
    // A bare word is a path when it is plainly a file name, or a folder by its trailing `/`.
    if !path.contains('/') && !dir && !known_file(path) {
        return None;
    }
    Some(Candidate {
        written: written.clone(),
        path: path.to_owned(),
        dir,
    })
}

/// Whether a bare word names a file: a known extension or a well-known extensionless name.
pub(super) fn known_file(name: &str) -> bool {
    KNOWN_FILES.contains(&name)
        || Path::new(name)
            .extension()
            .and_then(OsStr::to_str)
            .is_some_and(|ext| KNOWN_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Whether a path is a placeholder rather than a path: `DIR/x`, `report_YYYY-MM-DD.md`, `path/to/x`,
/// `your-app/...`, `foo/bar.txt`, `example.com/api`.
pub(super) fn placeholder(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let domain = parts.len() > 1
        && parts[0].contains('.')
        && parts[0].rsplit('.').next().is_some_and(|tld| {
            (2..=6).contains(&tld.len()) && tld.chars().all(|c| c.is_ascii_lowercase())
        })
        && !parts[0].starts_with('.');
    domain
        || path.starts_with("path/to/")
        || path.contains("/path/to/")
        || path.contains("YYYY")
        || path.contains("XXX")
        || parts.iter().any(|part| {
            let lower = part.to_ascii_lowercase();
            let stem = lower.split('.').next().unwrap_or_default();
            // `DIR`, `NAME`, `YYYY-MM-DD`: capitals and no extension.
            (part.chars().filter(char::is_ascii_uppercase).count() >= 2
                && !part.contains('.')
                && part.chars().all(|c| {
                    c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '-')
                }))
                || [
                    "foo", "bar", "baz", "qux", "example", "sample", "my", "your", "some",
                ]
                .contains(&stem)
                || lower.starts_with("your")
                || lower.starts_with("my-")
                || lower.starts_with("my_")
        })
}

/// `path` taken from the folder `base` (both relative to the project), or `None` when it leaves the project.
pub(super) fn normalize(base: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `to` written from the folder `base` (both relative to the project).
pub(super) fn relative(base: &str, to: &str) -> String {
    let from: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    let to: Vec<&str> = to.split('/').filter(|p| !p.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    parts.join("/")
}

pub(super) fn parent(rel: &str) -> String {
    rel.rsplit_once('/')
        .map_or_else(String::new, |(dir, _)| dir.to_owned())
}

pub(super) fn file_name(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, name)| name)
}

/// Whether an example of the file sits next to it (`config/x.example.json` for `config/x.json`, `.env.example`
/// for `.env`): the file is one the user creates.
pub(super) fn has_example(root: &Path, rel: &str) -> bool {
    let dir = parent(rel);
    let name = file_name(rel);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext)),
        _ => (name, None),
    };
    let markers = ["example", "sample", "template", "dist", "tmpl", "default"];
    markers.iter().any(|marker| {
        let mut names = vec![format!("{name}.{marker}"), format!("{marker}.{name}")];
        if let Some(ext) = ext {
            names.push(format!("{stem}.{marker}.{ext}"));
            names.push(format!("{stem}_{marker}.{ext}"));
            names.push(format!("{stem}-{marker}.{ext}"));
        }
        names.iter().any(|n| root.join(&dir).join(n).exists())
    })
}

/// A name in the folder of `rel` that differs from its name by a slip (case, or one or two characters of the
/// stem with the same extension), when there is exactly one closest.
pub(super) fn near_name(root: &Path, rel: &str) -> Option<String> {
    let dir = parent(rel);
    let name = file_name(rel);
    let (stem, ext) = split_ext(name);
    if stem.chars().count() < 3 {
        return None;
    }
    let limit = if stem.chars().count() < 5 { 1 } else { 2 };
    let mut best: Option<(usize, String)> = None;
    let mut tie = false;
    for entry in fs::read_dir(root.join(&dir)).ok()?.flatten() {
        let Some(other) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let (other_stem, other_ext) = split_ext(&other);
        let distance = if other.eq_ignore_ascii_case(name) {
            0
        } else if other_ext.eq_ignore_ascii_case(ext) {
            strsim::osa_distance(&stem.to_lowercase(), &other_stem.to_lowercase())
        } else {
            continue;
        };
        if distance > limit || other == name {
            continue;
        }
        match &best {
            Some((d, _)) if *d < distance => {}
            Some((d, _)) if *d == distance => tie = true,
            _ => {
                best = Some((distance, other));
                tie = false;
            }
        }
    }
    if tie {
        return None;
    }
    best.map(|(_, other)| {
        if dir.is_empty() {
            other
        } else {
            format!("{dir}/{other}")
        }
    })
}

pub(super) fn split_ext(name: &str) -> (&str, &str) {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, ext),
        _ => (name, ""),
    }
}

/// The closest of `options` to `word` when it is close enough to be a slip.
pub(super) fn closest<'a>(
    word: &str,
    options: impl IntoIterator<Item = &'a String>,
) -> Option<&'a String> {
    let limit = (word.chars().count() / 4).clamp(1, 3);
    let mut best: Option<(usize, &String)> = None;
    for option in options {
        let distance = strsim::osa_distance(&word.to_lowercase(), &option.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, option));
        }
    }
    best.map(|(_, option)| option)
}
