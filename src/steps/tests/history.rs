//! `data/tests/<project>.json`: the failing and flaky tests and the duration of the last nights, so each night
//! says what is new, what still fails and what was fixed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{FailingTest, FlakyTest, TestsData};
use crate::fix::engine::Triage;

/// Nights kept.
const KEEP: usize = 30;
/// Nights shown in the duration trend.
const TREND: usize = 7;
const FORMAT_VERSION: u32 = 1;

/// One night of one project's tests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Night {
    pub(super) date: NaiveDate,
    pub(super) failing: Vec<String>,
    pub(super) flaky: Vec<String>,
    pub(super) duration_secs: f64,
}

#[derive(Serialize, Deserialize)]
struct File {
    format_version: u32,
    nights: Vec<Night>,
}

pub(super) fn path(root: &Path, slug: &str) -> PathBuf {
    root.join("data").join("tests").join(format!("{slug}.json"))
}

/// The nights on record, oldest first, and whether the file was there but unreadable.
pub(super) fn load(root: &Path, slug: &str) -> (Vec<Night>, bool) {
    match std::fs::read(path(root, slug)) {
        Ok(bytes) => match serde_json::from_slice::<File>(&bytes) {
            Ok(file) if file.format_version == FORMAT_VERSION => (file.nights, false),
            _ => (Vec::new(), true),
        },
        Err(_) => (Vec::new(), false),
    }
}

/// Keeps the last [`KEEP`] nights, atomically.
pub(super) fn save(root: &Path, slug: &str, nights: &[Night]) -> Result<()> {
    let from = nights.len().saturating_sub(KEEP);
    let file = File {
        format_version: FORMAT_VERSION,
        nights: nights[from..].to_vec(),
    };
    crate::fsutil::write_atomic(&path(root, slug), &serde_json::to_vec_pretty(&file)?)
}

/// Tonight against the nights before: new and still failing tests (with the night each began), the fixed ones,
/// how often each flaky test has been flaky, and the duration trend.
pub(super) fn compare(
    mut data: TestsData,
    triage: &Triage,
    before: &[Night],
    tonight: &Night,
) -> TestsData {
    let last = before.last();
    data.first_night = last.is_none();
    let failed_last: BTreeSet<&str> = last
        .map(|n| n.failing.iter().map(String::as_str).collect())
        .unwrap_or_default();
    for root in &triage.roots {
        for failure in &root.failures {
            let since = before
                .iter()
                .rev()
                .take_while(|n| n.failing.contains(&failure.test))
                .last()
                .map_or(tonight.date, |n| n.date);
            data.failing.push(FailingTest {
                failure: failure.clone(),
                since,
                new: last.is_some() && !failed_last.contains(failure.test.as_str()),
            });
        }
    }
    data.failing.sort_by(|a, b| {
        b.new
            .cmp(&a.new)
            .then_with(|| a.failure.test.cmp(&b.failure.test))
    });
    let now_failing: BTreeSet<&str> = tonight
        .failing
        .iter()
        .chain(&tonight.flaky)
        .map(String::as_str)
        .collect();
    data.fixed = failed_last
        .iter()
        .filter(|t| !now_failing.contains(*t))
        .map(|t| (*t).to_owned())
        .collect();
    data.flaky = triage
        .flaky
        .iter()
        .map(|f| FlakyTest {
            test: f.test.clone(),
            message: crate::text::squeeze(&f.error(), 200),
            nights: 1 + before.iter().filter(|n| n.flaky.contains(&f.test)).count(),
        })
        .collect();
    let from = before.len().saturating_sub(TREND);
    data.trend = before[from..]
        .iter()
        .map(|n| (n.date, n.duration_secs))
        .collect();
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::engine::RootCause;
    use crate::fix::failures::Failure;
    use crate::fix::suite::{Status, SuiteRun};

    fn failure(test: &str) -> Failure {
        Failure {
            file: String::new(),
            test: test.to_owned(),
            error_type: "AssertionError".to_owned(),
            message: "no".to_owned(),
            trace: String::new(),
        }
    }

    fn night(day: u32, failing: &[&str], flaky: &[&str]) -> Night {
        Night {
            date: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
            failing: failing.iter().map(|s| (*s).to_owned()).collect(),
            flaky: flaky.iter().map(|s| (*s).to_owned()).collect(),
            duration_secs: f64::from(day),
        }
    }

    #[test]
    fn new_still_failing_fixed_and_flaky_nights_come_from_the_nights_before() {
        let before = [
            night(1, &["a", "b"], &["f"]),
            night(2, &["a", "b", "c"], &[]),
            night(3, &["a", "c"], &["f"]),
        ];
        let triage = Triage {
            baseline: SuiteRun {
                status: Status::Failed,
                failures: Vec::new(),
                duration: std::time::Duration::from_secs(4),
                tail: String::new(),
                warnings: Vec::new(),
            },
            flaky: vec![failure("f")],
            roots: vec![RootCause {
                key: "x.py:1".to_owned(),
                file: None,
                failures: vec![failure("a"), failure("d")],
            }],
        };
        let tonight = night(4, &["a", "d"], &["f"]);
        let data = compare(TestsData::default(), &triage, &before, &tonight);
        let shown: Vec<(&str, bool, u32)> = data
            .failing
            .iter()
            .map(|t| {
                (
                    t.failure.test.as_str(),
                    t.new,
                    chrono::Datelike::day(&t.since),
                )
            })
            .collect();
        assert_eq!(shown, [("d", true, 4), ("a", false, 1)]);
        assert_eq!(data.fixed, ["c"]);
        assert_eq!(data.flaky[0].nights, 3);
        assert_eq!(data.trend.len(), 3);
        assert!(!data.first_night);
    }

    #[test]
    fn the_history_round_trips_keeps_thirty_nights_and_says_when_it_is_unreadable() {
        let root = tempfile::tempdir().unwrap();
        let nights: Vec<Night> = (1..=31).map(|d| night(d, &["a"], &[])).collect();
        save(root.path(), "shop", &nights).unwrap();
        let (loaded, bad) = load(root.path(), "shop");
        assert!(!bad);
        assert_eq!(loaded.len(), KEEP);
        assert_eq!(
            loaded[0].date,
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
        );
        std::fs::write(path(root.path(), "shop"), "{").unwrap();
        assert_eq!(load(root.path(), "shop"), (Vec::new(), true));
        assert_eq!(load(root.path(), "other"), (Vec::new(), false));
    }
}
