//! The project's own binaries: which are built, their `--help` read once, and `package.json` scripts.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::SystemTime;

use anyhow::Result;
use regex::Regex;

use super::paths::file_name;
use crate::text::code;

/// The names of the project's binaries, and their `--help` once read.
#[derive(Default)]
pub(super) struct Bins {
    /// Cargo binaries: run from `target/` to read their subcommands.
    pub(super) rust: BTreeSet<String>,
    /// `package.json` bins: known, not run.
    pub(super) node: BTreeSet<String>,
    pub(super) helps: HashMap<String, Option<Help>>,
}

impl Bins {
    pub(super) fn of(root: &Path) -> Bins {
        let mut bins = Bins::default();
        if let Ok(text) = fs::read_to_string(root.join("Cargo.toml")) {
            static NAME: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r#"^name\s*=\s*["']([^"']+)["']"#).expect("valid regex")
            });
            let mut section = "";
            let mut package = None;
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with('[') {
                    section = line;
                } else if let Some(found) = NAME.captures(line) {
                    match section {
                        "[package]" => package = Some(found[1].to_owned()),
                        "[[bin]]" => {
                            bins.rust.insert(found[1].to_owned());
                        }
                        _ => {}
                    }
                }
            }
            if let Some(package) = package
                && root.join("src/main.rs").is_file()
            {
                bins.rust.insert(package);
            }
            if let Ok(entries) = fs::read_dir(root.join("src/bin")) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let name = if path.is_dir() && path.join("main.rs").is_file() {
                        path.file_name().and_then(OsStr::to_str).map(str::to_owned)
                    } else if path.extension() == Some(OsStr::new("rs")) {
                        path.file_stem().and_then(OsStr::to_str).map(str::to_owned)
                    } else {
                        None
                    };
                    bins.rust.extend(name);
                }
            }
        }
        if let Ok(text) = fs::read_to_string(root.join("package.json"))
            && let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
        {
            match json.get("bin") {
                Some(serde_json::Value::String(_)) => {
                    if let Some(name) = json.get("name").and_then(|n| n.as_str()) {
                        bins.node.insert(file_name(name).to_owned());
                    }
                }
                Some(serde_json::Value::Object(map)) => bins.node.extend(map.keys().cloned()),
                _ => {}
            }
        }
        bins
    }
}

/// What a binary's `--help` says about its command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Help {
    pub(super) subcommands: BTreeSet<String>,
    /// Options that take a value (`--root <DIR>`), whose value is not a subcommand.
    pub(super) takes_value: BTreeSet<String>,
}

/// The subcommands and value-taking options of a `--help` text (clap's layout, and most others'), or `None`
/// when it lists no subcommands.
pub(super) fn parse_help(text: &str) -> Option<Help> {
    static SECTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:available\s+)?(?:sub)?commands\s*:?\s*$").expect("valid regex")
    });
    static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\s+)([a-z0-9][a-z0-9_-]*)((?:\s*,\s*[a-z0-9][a-z0-9_-]*)*)(?:\s{2,}|$)")
            .expect("valid regex")
    });
    static ALIASES: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\[aliases?:\s*([^\]]+)\]").expect("valid regex"));
    static VALUE_OPTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|[\s,\[])(--?[A-Za-z][\w-]*)[ =](?:<[^>]+>|[A-Z][A-Z_]+\b)")
            .expect("valid regex")
    });
    let mut help = Help::default();
    let mut in_section = false;
    let mut indent: Option<usize> = None;
    for line in text.lines() {
        for found in VALUE_OPTION.captures_iter(line) {
            help.takes_value.insert(found[1].to_owned());
        }
        if SECTION.is_match(line.trim()) && !line.starts_with(char::is_whitespace) {
            in_section = true;
            indent = None;
            continue;
        }
        if !in_section {
            continue;
        }
        if line.trim().is_empty() || !line.starts_with(char::is_whitespace) {
            in_section = false;
            continue;
        }
        let Some(found) = ENTRY.captures(line) else {
            continue;
        };
        let depth = found[1].len();
        // Deeper lines continue the description of the entry above.
        if indent.is_some_and(|i| depth > i) {
            continue;
        }
        indent = Some(depth);
        help.subcommands.insert(found[2].to_owned());
        for alias in found[3].split(',').map(str::trim).filter(|a| !a.is_empty()) {
            help.subcommands.insert(alias.to_owned());
        }
        if let Some(aliases) = ALIASES.captures(line) {
            help.subcommands
                .extend(aliases[1].split(',').map(|a| a.trim().to_owned()));
        }
    }
    if help.subcommands.is_empty() {
        return None;
    }
    help.subcommands.insert("help".to_owned());
    Some(help)
}

/// The newest build of `bin` under `target/`, if it is not older than the sources.
pub(super) fn built_binary(root: &Path, bin: &str) -> Result<PathBuf, String> {
    let built = ["debug", "release"]
        .iter()
        .map(|profile| root.join("target").join(profile).join(bin))
        .filter_map(|path| Some((fs::metadata(&path).ok()?.modified().ok()?, path)))
        .max();
    let Some((built_at, path)) = built else {
        return Err(format!(
            "no build at `target/debug/{bin}` or `target/release/{bin}`"
        ));
    };
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut stack = vec![root.join("src")];
    for file in ["Cargo.toml", "build.rs"] {
        if let Ok(modified) = fs::metadata(root.join(file)).and_then(|m| m.modified()) {
            newest = newest.max(modified);
        }
    }
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file()
                && let Ok(modified) = entry.metadata().and_then(|m| m.modified())
            {
                newest = newest.max(modified);
            }
        }
    }
    if newest > built_at {
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        return Err(format!(
            "{} is older than the sources (build it to check them)",
            code(&shown)
        ));
    }
    Ok(path)
}

/// The script names of a `package.json`, or `None` when there is none to read.
pub(super) fn package_scripts(path: &Path) -> Option<BTreeSet<String>> {
    let text = fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(
        json.get("scripts")
            .and_then(|s| s.as_object())
            .map(|scripts| scripts.keys().cloned().collect())
            .unwrap_or_default(),
    )
}

/// Whether the `package.json` at `path` is a library published for others (an entry point, not private): its
/// docs show the reader's own project, whose `npm run` scripts are not in this manifest.
pub(super) fn published_library(path: &Path) -> bool {
    let Some(json) = fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
    else {
        return false;
    };
    json.get("private").and_then(serde_json::Value::as_bool) != Some(true)
        && ["main", "exports", "module", "types", "typings"]
            .iter()
            .any(|key| json.get(key).is_some())
}
