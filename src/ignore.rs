//! `data/daydream_ignore.jsonl`: what the user told auto-fix to leave alone, each entry with an expiry.
//!
//! An entry's `pattern` matches a candidate when it is the candidate's fingerprint (`3f9a2b1c0d4e`, or the
//! branch `daydream/fix-3f9a2b1c0d4e`), or when the candidate's pattern contains it, ignoring case. Entries
//! past their expiry are kept on file until the next `add` or `remove` rewrites it, and never match.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::fsutil::write_atomic;

/// `daydream ignore add` without `--days`.
pub(crate) const DEFAULT_DAYS: u32 = 14;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) pattern: String,
    pub(crate) added: NaiveDate,
    /// The last day it applies.
    pub(crate) expires: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
}

impl Entry {
    pub(crate) fn active(&self, today: NaiveDate) -> bool {
        today <= self.expires
    }

    /// Whether this entry holds back the candidate with `fingerprint` and `pattern`.
    pub(crate) fn matches(&self, fingerprint: &str, pattern: &str) -> bool {
        let wanted = self.pattern.trim();
        if wanted.is_empty() {
            return false;
        }
        let wanted_fp = wanted.strip_prefix("daydream/fix-").unwrap_or(wanted);
        wanted_fp.eq_ignore_ascii_case(fingerprint)
            || pattern.to_lowercase().contains(&wanted.to_lowercase())
    }
}

pub(crate) fn path(root: &Path) -> PathBuf {
    root.join("data").join("daydream_ignore.jsonl")
}

/// The entries on file and how many lines could not be read.
pub(crate) fn load(root: &Path) -> Result<(Vec<Entry>, usize)> {
    crate::fsutil::read_jsonl(&path(root))
}

/// The first active entry that matches, if any.
pub(crate) fn find<'a>(
    entries: &'a [Entry],
    today: NaiveDate,
    fingerprint: &str,
    pattern: &str,
) -> Option<&'a Entry> {
    entries
        .iter()
        .find(|e| e.active(today) && e.matches(fingerprint, pattern))
}

fn save(root: &Path, entries: &[Entry]) -> Result<()> {
    let mut text = String::new();
    for entry in entries {
        text.push_str(&serde_json::to_string(entry)?);
        text.push('\n');
    }
    let path = path(root);
    write_atomic(&path, text.as_bytes())
        .with_context(|| format!("failed to write `{}`", path.display()))
}

/// Adds (or renews) `pattern` for `days` days from `today`; expired entries are dropped. Returns what to print.
pub(crate) fn add(
    root: &Path,
    today: NaiveDate,
    pattern: &str,
    days: u32,
    reason: Option<&str>,
) -> Result<String> {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        bail!(crate::UsageError(
            "the pattern is empty: give a fingerprint (from the report's Auto-fix section) or words of the bug's pattern"
                .to_owned()
        ));
    }
    if days == 0 {
        bail!(crate::UsageError(
            "`--days 0` would expire at once: give at least 1".to_owned()
        ));
    }
    let (mut entries, bad) = load(root)?;
    entries.retain(|e| e.active(today) && e.pattern != pattern);
    let expires = today + chrono::Days::new(u64::from(days));
    entries.push(Entry {
        pattern: pattern.to_owned(),
        added: today,
        expires,
        reason: reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
    });
    save(root, &entries)?;
    let mut out = format!("auto-fix will leave `{pattern}` alone until {expires} (inclusive)\n");
    if bad > 0 {
        let _ = writeln!(
            out,
            "warning: {bad} unreadable line(s) of `{}` were dropped",
            path(root).display()
        );
    }
    Ok(out)
}

/// Removes `pattern` (exactly as added); an error names what is on the list when it is not there.
pub(crate) fn remove(root: &Path, today: NaiveDate, pattern: &str) -> Result<String> {
    let (mut entries, _) = load(root)?;
    let before = entries.len();
    entries.retain(|e| e.pattern != pattern.trim());
    if entries.len() == before {
        let known: Vec<String> = entries
            .iter()
            .filter(|e| e.active(today))
            .map(|e| format!("`{}`", e.pattern))
            .collect();
        let list = if known.is_empty() {
            "the list is empty".to_owned()
        } else {
            format!("on the list: {}", known.join(", "))
        };
        bail!(crate::UsageError(format!(
            "`{pattern}` is not on the ignore list ({list}); `daydream ignore list` shows each entry"
        )));
    }
    entries.retain(|e| e.active(today));
    save(root, &entries)?;
    Ok(format!(
        "removed `{}` from the ignore list\n",
        pattern.trim()
    ))
}

/// The list as text: active entries, then expired ones still on file.
pub(crate) fn list(root: &Path, today: NaiveDate) -> Result<String> {
    let (entries, bad) = load(root)?;
    let mut out = String::new();
    if entries.is_empty() {
        out.push_str(
            "the ignore list is empty: `daydream ignore add PATTERN` keeps auto-fix away from a bug\n",
        );
    }
    for e in &entries {
        let when = if e.active(today) {
            format!("until {}", e.expires)
        } else {
            format!("expired {}", e.expires)
        };
        let _ = write!(out, "{} · {when} · added {}", e.pattern, e.added);
        if let Some(reason) = &e.reason {
            let _ = write!(out, " · {reason}");
        }
        out.push('\n');
    }
    if bad > 0 {
        let _ = writeln!(
            out,
            "warning: {bad} line(s) of `{}` could not be read and were skipped",
            path(root).display()
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn add_list_remove_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let said = add(root, day(1), "retry loop", 14, Some("flaky upstream")).unwrap();
        assert!(said.contains("until 2026-11-15"), "{said}");
        add(root, day(1), "3f9a2b1c0d4e", 3, None).unwrap();
        let (entries, bad) = load(root).unwrap();
        assert_eq!((entries.len(), bad), (2, 0));
        let listed = list(root, day(2)).unwrap();
        assert!(
            listed.contains("retry loop · until 2026-11-15 · added 2026-11-01 · flaky upstream"),
            "{listed}"
        );
        assert!(
            listed.contains("3f9a2b1c0d4e · until 2026-11-04"),
            "{listed}"
        );
        remove(root, day(2), "retry loop").unwrap();
        let (entries, _) = load(root).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].pattern, "3f9a2b1c0d4e");
    }

    #[test]
    fn adding_again_renews_instead_of_duplicating() {
        let dir = tempfile::tempdir().unwrap();
        add(dir.path(), day(1), "retry loop", 2, None).unwrap();
        add(dir.path(), day(2), "retry loop", 10, None).unwrap();
        let (entries, _) = load(dir.path()).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].expires, day(12));
    }

    #[test]
    fn removing_what_is_not_there_names_the_list() {
        let dir = tempfile::tempdir().unwrap();
        add(dir.path(), day(1), "retry loop", 2, None).unwrap();
        let err = remove(dir.path(), day(1), "nope").unwrap_err().to_string();
        assert!(err.contains("`nope` is not on the ignore list"), "{err}");
        assert!(err.contains("`retry loop`"), "{err}");
    }

    #[test]
    fn matching_by_fingerprint_branch_or_words_until_expiry() {
        let entry = Entry {
            pattern: "Retry Loop".to_owned(),
            added: day(1),
            expires: day(3),
            reason: None,
        };
        assert!(entry.matches("aaaa", "the retry loop gives up after one try"));
        assert!(!entry.matches("aaaa", "a different bug"));
        let by_fp = Entry {
            pattern: "daydream/fix-3f9a2b1c0d4e".to_owned(),
            ..entry.clone()
        };
        assert!(by_fp.matches("3f9a2b1c0d4e", "anything"));
        let entries = vec![entry];
        assert!(find(&entries, day(3), "x", "retry loop here").is_some());
        assert!(
            find(&entries, day(4), "x", "retry loop here").is_none(),
            "expired"
        );
    }

    #[test]
    fn expired_entries_are_dropped_on_the_next_write_and_bad_lines_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        add(dir.path(), day(1), "old", 1, None).unwrap();
        let path = path(dir.path());
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{torn\n");
        std::fs::write(&path, text).unwrap();
        let (_, bad) = load(dir.path()).unwrap();
        assert_eq!(bad, 1);
        assert!(
            list(dir.path(), day(5))
                .unwrap()
                .contains("old · expired 2026-11-02")
        );
        add(dir.path(), day(5), "new", 1, None).unwrap();
        let (entries, bad) = load(dir.path()).unwrap();
        assert_eq!(bad, 0);
        assert_eq!(
            entries
                .iter()
                .map(|e| e.pattern.as_str())
                .collect::<Vec<_>>(),
            ["new"]
        );
    }

    #[test]
    fn empty_pattern_and_zero_days_are_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(add(dir.path(), day(1), "  ", 3, None).is_err());
        assert!(add(dir.path(), day(1), "x", 0, None).is_err());
    }
}
