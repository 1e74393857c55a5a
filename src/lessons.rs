//! `data/lessons_learned.jsonl`: what reflection learned, deduplicated by a normalised fingerprint of the pattern,
//! counted when it recurs, pruned after 90 days and capped in number. Read back into the next reflections.

use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Lessons not seen for this many days are dropped.
pub(crate) const KEEP_DAYS: i64 = 90;
/// At most this many lessons are kept: the most recently seen win.
pub(crate) const MAX_LESSONS: usize = 200;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Lesson {
    pub(crate) fingerprint: String,
    pub(crate) category: String,
    pub(crate) project: String,
    pub(crate) pattern: String,
    pub(crate) prevention: String,
    pub(crate) first_seen: NaiveDate,
    pub(crate) last_seen: NaiveDate,
    /// On how many days reflection found it.
    pub(crate) occurrences: u32,
}

pub(crate) fn path(root: &Path) -> PathBuf {
    root.join("data").join("lessons_learned.jsonl")
}

/// The lessons on file; lines that do not parse are skipped (and counted in the second value).
pub(crate) fn load(root: &Path) -> Result<(Vec<Lesson>, usize)> {
    crate::fsutil::read_jsonl(&path(root))
}

/// A fingerprint that survives rewording of numbers, paths, case and spacing.
pub(crate) fn fingerprint(project: &str, pattern: &str) -> String {
    let mut out = String::new();
    for word in pattern.split_whitespace() {
        let word = word.trim_matches(|c: char| {
            matches!(c, '.' | ',' | ';' | ':' | '"' | '\'' | '`' | '(' | ')')
        });
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        if word.contains('/') {
            out.push_str("<path>");
        } else if word.chars().any(|c| c.is_ascii_digit()) {
            out.push('#');
        } else {
            out.push_str(&word.to_lowercase());
        }
    }
    format!("{project}:{out}")
}

/// What merging a day's reflections did.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Merged {
    pub(crate) new: usize,
    pub(crate) recurring: usize,
}

/// Merges the day's lessons in, counting a recurrence once per day (a retried reflection does not count twice),
/// then prunes and caps. Returns the new list.
pub(crate) fn merge(
    mut lessons: Vec<Lesson>,
    found: Vec<Lesson>,
    today: NaiveDate,
) -> (Vec<Lesson>, Merged) {
    let mut merged = Merged::default();
    for lesson in found {
        if let Some(known) = lessons
            .iter_mut()
            .find(|l| l.fingerprint == lesson.fingerprint)
        {
            if known.last_seen < today {
                known.occurrences += 1;
                known.last_seen = today;
                merged.recurring += 1;
            }
            known.prevention.clone_from(&lesson.prevention);
        } else {
            lessons.push(lesson);
            merged.new += 1;
        }
    }
    lessons.retain(|l| (today - l.last_seen).num_days() <= KEEP_DAYS);
    lessons.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then(b.occurrences.cmp(&a.occurrences))
    });
    lessons.truncate(MAX_LESSONS);
    (lessons, merged)
}

pub(crate) fn save(root: &Path, lessons: &[Lesson]) -> Result<()> {
    let mut text = String::new();
    for lesson in lessons {
        text.push_str(&serde_json::to_string(lesson)?);
        text.push('\n');
    }
    crate::fsutil::write_atomic(&path(root), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(pattern: &str, day: &str) -> Lesson {
        let date: NaiveDate = day.parse().unwrap();
        Lesson {
            fingerprint: fingerprint("shop", pattern),
            category: "code_bug".to_owned(),
            project: "shop".to_owned(),
            pattern: pattern.to_owned(),
            prevention: "check it".to_owned(),
            first_seen: date,
            last_seen: date,
            occurrences: 1,
        }
    }

    #[test]
    fn fingerprints_fold_case_spacing_numbers_and_paths() {
        assert_eq!(
            fingerprint("shop", "KeyError  'sku' in app/inventory.py line 29."),
            fingerprint("shop", "keyerror 'sku' in src/other.py line 31")
        );
        assert_ne!(
            fingerprint("shop", "KeyError sku"),
            fingerprint("worker", "KeyError sku")
        );
        assert_ne!(
            fingerprint("shop", "KeyError sku"),
            fingerprint("shop", "TypeError email")
        );
    }

    #[test]
    fn recurrences_count_once_a_day_and_old_lessons_are_pruned() {
        let known = vec![
            lesson("Reserve fails on missing sku 1", "2026-11-10"),
            lesson("Ancient thing", "2026-07-01"),
        ];
        let today: NaiveDate = "2026-11-21".parse().unwrap();
        let (lessons, merged) = merge(
            known,
            vec![
                lesson("reserve FAILS on missing sku 2", "2026-11-21"),
                lesson("New thing", "2026-11-21"),
            ],
            today,
        );
        assert_eq!(
            merged,
            Merged {
                new: 1,
                recurring: 1
            }
        );
        assert_eq!(
            lessons.len(),
            2,
            "the 143-day-old lesson is pruned: {lessons:?}"
        );
        let recurring = lessons
            .iter()
            .find(|l| l.pattern.starts_with("Reserve"))
            .unwrap();
        assert_eq!((recurring.occurrences, recurring.last_seen), (2, today));
        // A retried reflection the same day does not count again.
        let (again, merged) = merge(
            lessons.clone(),
            vec![lesson("reserve fails on missing sku 3", "2026-11-21")],
            today,
        );
        assert_eq!(merged, Merged::default());
        assert_eq!(
            again
                .iter()
                .find(|l| l.pattern.starts_with("Reserve"))
                .unwrap()
                .occurrences,
            2
        );
    }

    #[test]
    fn the_count_is_capped_keeping_the_most_recent() {
        let today: NaiveDate = "2026-11-21".parse().unwrap();
        let found: Vec<Lesson> = (0..MAX_LESSONS + 10)
            .map(|i| {
                lesson(
                    &format!("distinct problem {}", "x".repeat(i + 1)),
                    "2026-11-21",
                )
            })
            .collect();
        let old = vec![lesson("older problem", "2026-11-01")];
        let (lessons, _) = merge(old, found, today);
        assert_eq!(lessons.len(), MAX_LESSONS);
        assert!(lessons.iter().all(|l| l.last_seen == today));
    }

    #[test]
    fn save_and_load_round_trip_and_skip_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let lessons = vec![lesson("a problem", "2026-11-21")];
        save(dir.path(), &lessons).unwrap();
        let mut text = std::fs::read_to_string(path(dir.path())).unwrap();
        text.push_str("{not json\n");
        std::fs::write(path(dir.path()), text).unwrap();
        assert_eq!(load(dir.path()).unwrap(), (lessons, 1));
    }
}
