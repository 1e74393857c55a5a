//! `data/sentry_fixes.jsonl`: what happened to each Sentry issue auto-fix took on (reproduced or not, the PR,
//! what the error did after the merge), and the figures `daydream metrics` derives from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::metrics::{in_window, mean, ratio, window_start};

/// One event in the life of a Sentry fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Event {
    /// The written test failed with the issue's error on the default branch every time.
    Reproduced,
    NotReproduced,
    PrOpened,
    /// Merged, and no event since (as of the record's night).
    Stopped,
    /// Merged, and events since.
    StillHappening,
    /// Closed without merging: a human's no.
    ClosedUnmerged,
}

/// One line of `data/sentry_fixes.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) time: DateTime<FixedOffset>,
    pub(crate) project: String,
    pub(crate) short_id: String,
    pub(crate) event: Event,
    #[serde(default)]
    pub(crate) first_seen: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(crate) pr: Option<String>,
    /// Merged: commits on the branch by someone other than daydream before the merge (a human took over).
    #[serde(default)]
    pub(crate) others_commits: Option<usize>,
}

pub(crate) fn path(root: &Path) -> PathBuf {
    root.join("data").join("sentry_fixes.jsonl")
}

pub(crate) fn append(root: &Path, record: &Record) -> Result<()> {
    crate::fsutil::append_jsonl(&path(root), record)
}

/// All records, and how many lines could not be read.
pub(crate) fn load(root: &Path) -> Result<(Vec<Record>, usize)> {
    crate::fsutil::read_jsonl(&path(root))
}

/// How healing Sentry errors has gone. Rates are 0 when there is nothing to divide by.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Healing {
    pub(crate) issues_attempted: usize,
    /// Reproduced / (reproduced + not reproduced).
    pub(crate) reproduction_rate: f64,
    pub(crate) prs_opened: usize,
    /// From the issue's first event to its PR, in hours, over the PRs opened.
    pub(crate) mean_hours_first_seen_to_pr: f64,
    pub(crate) merged: usize,
    /// Merged and stopped, over merged (the latest verdict of each PR).
    pub(crate) fix_success_rate: f64,
    /// Merged and still happening, over merged.
    pub(crate) false_fix_rate: f64,
    /// Merged PRs with commits by someone else before the merge, over merged.
    pub(crate) human_override_rate: f64,
    pub(crate) closed_unmerged: usize,
}

/// The figures of the records of the last `days` days before `now`, optionally of one project.
pub(crate) fn compute(
    records: &[Record],
    now: DateTime<FixedOffset>,
    days: u32,
    project: Option<&str>,
) -> Healing {
    let since = window_start(now, days);
    let chosen = in_window(records, since, now, project, |r| (r.time, &r.project));
    let count = |event: Event| chosen.iter().filter(|r| r.event == event).count();
    let (reproduced, not) = (count(Event::Reproduced), count(Event::NotReproduced));
    let opened: Vec<&&Record> = chosen
        .iter()
        .filter(|r| r.event == Event::PrOpened)
        .collect();
    let hours: Vec<f64> = opened
        .iter()
        .filter_map(|r| {
            let first = r.first_seen?;
            #[expect(clippy::cast_precision_loss, reason = "seconds to hours, for a mean")]
            Some((r.time.with_timezone(&Utc) - first).num_seconds() as f64 / 3600.0)
        })
        .collect();
    // The latest verdict of each PR after its merge.
    let mut latest: BTreeMap<&str, &Record> = BTreeMap::new();
    for r in chosen.iter().filter(|r| {
        matches!(
            r.event,
            Event::Stopped | Event::StillHappening | Event::ClosedUnmerged
        )
    }) {
        if let Some(pr) = &r.pr {
            latest.insert(pr, r);
        }
    }
    let merged: Vec<&&Record> = latest
        .values()
        .filter(|r| r.event != Event::ClosedUnmerged)
        .collect();
    let ratio = |part: usize, whole: usize| round(ratio(part, whole));
    Healing {
        issues_attempted: reproduced + not,
        reproduction_rate: ratio(reproduced, reproduced + not),
        prs_opened: opened.len(),
        mean_hours_first_seen_to_pr: round(mean(&hours)),
        merged: merged.len(),
        fix_success_rate: ratio(
            merged.iter().filter(|r| r.event == Event::Stopped).count(),
            merged.len(),
        ),
        false_fix_rate: ratio(
            merged
                .iter()
                .filter(|r| r.event == Event::StillHappening)
                .count(),
            merged.len(),
        ),
        human_override_rate: ratio(
            merged
                .iter()
                .filter(|r| r.others_commits.is_some_and(|n| n > 0))
                .count(),
            merged.len(),
        ),
        closed_unmerged: latest.len() - merged.len(),
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The text of `daydream metrics` about Sentry fixes; empty when auto-fix took on none.
pub(crate) fn render(h: &Healing) -> String {
    if h.issues_attempted == 0 && h.merged == 0 && h.closed_unmerged == 0 {
        return String::new();
    }
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    let mut out = String::from("\nSentry errors healed:\n");
    let _ = writeln!(
        out,
        "  {} issue(s) taken on, {} reproduced by a test; {} PR(s) opened, {:.1} h from first seen to PR on average",
        h.issues_attempted,
        pct(h.reproduction_rate),
        h.prs_opened,
        h.mean_hours_first_seen_to_pr
    );
    let _ = writeln!(
        out,
        "  {} merged: {} stopped the error, {} did not (false fixes), {} taken over by a human; {} closed unmerged",
        h.merged,
        pct(h.fix_success_rate),
        pct(h.false_fix_rate),
        pct(h.human_override_rate),
        h.closed_unmerged
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        day: u32,
        short_id: &str,
        event: Event,
        pr: Option<&str>,
        others: Option<usize>,
    ) -> Record {
        Record {
            time: DateTime::parse_from_rfc3339(&format!("2026-11-{day:02}T06:00:00+00:00"))
                .unwrap(),
            project: "shop".to_owned(),
            short_id: short_id.to_owned(),
            event,
            first_seen: Some(
                DateTime::parse_from_rfc3339("2026-11-10T00:00:00Z")
                    .unwrap()
                    .to_utc(),
            ),
            pr: pr.map(str::to_owned),
            others_commits: others,
        }
    }

    #[test]
    fn rates_come_from_each_prs_latest_verdict() {
        let records = [
            record(11, "A", Event::Reproduced, None, None),
            record(11, "A", Event::PrOpened, Some("pr/1"), None),
            record(11, "B", Event::NotReproduced, None, None),
            record(11, "C", Event::Reproduced, None, None),
            record(11, "C", Event::PrOpened, Some("pr/2"), None),
            record(11, "D", Event::Reproduced, None, None),
            record(11, "D", Event::PrOpened, Some("pr/3"), None),
            // pr/1 still happened one night, then stopped; pr/2 goes on; pr/3 was closed.
            record(12, "A", Event::StillHappening, Some("pr/1"), Some(0)),
            record(13, "A", Event::Stopped, Some("pr/1"), Some(0)),
            record(13, "C", Event::StillHappening, Some("pr/2"), Some(2)),
            record(13, "D", Event::ClosedUnmerged, Some("pr/3"), None),
            // Outside the window.
            record(1, "E", Event::NotReproduced, None, None),
        ];
        let now = DateTime::parse_from_rfc3339("2026-11-14T06:00:00+00:00").unwrap();
        let h = compute(&records, now, 7, None);
        assert_eq!(h.issues_attempted, 4);
        assert!((h.reproduction_rate - 0.75).abs() < 1e-9);
        assert_eq!(h.prs_opened, 3);
        // Each PR 1 day and 6 hours after the first event.
        assert!((h.mean_hours_first_seen_to_pr - 30.0).abs() < 1e-9, "{h:?}");
        assert_eq!(h.merged, 2);
        assert!((h.fix_success_rate - 0.5).abs() < 1e-9);
        assert!((h.false_fix_rate - 0.5).abs() < 1e-9);
        assert!((h.human_override_rate - 0.5).abs() < 1e-9);
        assert_eq!(h.closed_unmerged, 1);
        let text = render(&h);
        assert!(
            text.contains("4 issue(s) taken on, 75% reproduced by a test; 3 PR(s) opened, 30.0 h"),
            "{text}"
        );
        assert!(
            text.contains(
                "2 merged: 50% stopped the error, 50% did not (false fixes), 50% taken over"
            ),
            "{text}"
        );
        assert_eq!(render(&compute(&records, now, 7, Some("other"))), "");
    }
}
