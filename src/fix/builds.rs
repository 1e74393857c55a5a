//! `data/builds.jsonl`: one line per `daydream build` that got a valid manifest (how it ended, its wall time
//! against the sum of its streams', its cost), and the figures `daydream metrics` derives from it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::metrics::{in_window, mean, ratio, window_start};

/// How a build ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// One commit on the build's branch, whose suite and checks pass.
    Landed,
    /// A stream failed (its call, its diff, its tests) or was not started: integration never ran.
    StreamFailed,
    /// The streams' commits conflicted, or the suite or the checks failed after the repair call.
    IntegrationFailed,
    /// Stopped by a signal or the budget before it could end.
    Stopped,
}

/// One line of `data/builds.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) time: DateTime<FixedOffset>,
    pub(crate) project: String,
    /// The spec's name, as in the branch `daydream/build-<spec>`.
    pub(crate) spec: String,
    pub(crate) streams: usize,
    pub(crate) outcome: Outcome,
    /// From the first stream's start to the end of integration.
    pub(crate) wall_secs: f64,
    /// The streams' wall times added up: what they would have taken one after another.
    pub(crate) serial_secs: f64,
    /// The streams' part of `wall_secs`: from the first stream's start to the last one's end.
    pub(crate) streams_wall_secs: f64,
    pub(crate) cost_usd: f64,
    /// Whether integration needed its repair call.
    #[serde(default)]
    pub(crate) repaired: bool,
    #[serde(default)]
    pub(crate) branch: Option<String>,
    #[serde(default)]
    pub(crate) pr: Option<String>,
}

pub(crate) fn path(root: &Path) -> PathBuf {
    root.join("data").join("builds.jsonl")
}

pub(crate) fn append(root: &Path, record: &Record) -> Result<()> {
    crate::fsutil::append_jsonl(&path(root), record)
}

/// All records, and how many lines could not be read.
pub(crate) fn load(root: &Path) -> Result<(Vec<Record>, usize)> {
    crate::fsutil::read_jsonl(&path(root))
}

/// How builds have gone. Rates and means are 0 when there is nothing to divide by.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Figures {
    pub(crate) builds: usize,
    pub(crate) landed: usize,
    pub(crate) stream_failures: usize,
    /// Builds whose streams all committed (integration ran).
    pub(crate) integrated: usize,
    /// Integration failures over the builds that reached integration.
    pub(crate) integration_failure_rate: f64,
    /// Integrations that needed the repair call, over those that reached integration.
    pub(crate) repair_rate: f64,
    /// The streams' serial estimate over their wall time, averaged over the builds that ran every stream.
    pub(crate) mean_speedup: f64,
    pub(crate) cost_usd: f64,
}

/// The figures of the records of the last `days` days before `now`, optionally of one project.
pub(crate) fn compute(
    records: &[Record],
    now: DateTime<FixedOffset>,
    days: u32,
    project: Option<&str>,
) -> Figures {
    let since = window_start(now, days);
    let chosen = in_window(records, since, now, project, |r| (r.time, &r.project));
    let integrated: Vec<&&Record> = chosen
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Landed | Outcome::IntegrationFailed))
        .collect();
    let failed = integrated
        .iter()
        .filter(|r| r.outcome == Outcome::IntegrationFailed)
        .count();
    let repaired = integrated.iter().filter(|r| r.repaired).count();
    let speedups: Vec<f64> = integrated
        .iter()
        .filter(|r| r.streams_wall_secs > 0.0)
        .map(|r| r.serial_secs / r.streams_wall_secs)
        .collect();
    Figures {
        builds: chosen.len(),
        landed: chosen
            .iter()
            .filter(|r| r.outcome == Outcome::Landed)
            .count(),
        stream_failures: chosen
            .iter()
            .filter(|r| r.outcome == Outcome::StreamFailed)
            .count(),
        integrated: integrated.len(),
        integration_failure_rate: ratio(failed, integrated.len()),
        repair_rate: ratio(repaired, integrated.len()),
        mean_speedup: mean(&speedups),
        cost_usd: chosen.iter().map(|r| r.cost_usd).sum(),
    }
}

/// The section of `daydream metrics`.
pub(crate) fn render(b: &Figures) -> String {
    let mut out = String::from("\nBuilds (`daydream build`)\n");
    let _ = writeln!(
        out,
        "  builds: {} ({} landed, {} stopped at a stream)",
        b.builds, b.landed, b.stream_failures
    );
    let _ = writeln!(
        out,
        "  integration failure rate: {:.0}% of {} integration(s); repair call needed in {:.0}%",
        b.integration_failure_rate * 100.0,
        b.integrated,
        b.repair_rate * 100.0
    );
    let _ = writeln!(
        out,
        "  speedup: {:.2}x (the streams one after another vs side by side, mean)",
        b.mean_speedup
    );
    let _ = writeln!(out, "  cost: ${:.2}", b.cost_usd);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(day: u32, outcome: Outcome, wall: f64, serial: f64, repaired: bool) -> Record {
        Record {
            time: DateTime::parse_from_rfc3339(&format!("2026-11-{day:02}T06:00:00+00:00"))
                .unwrap(),
            project: "shop".to_owned(),
            spec: "feature".to_owned(),
            streams: 4,
            outcome,
            wall_secs: wall + 1.0,
            serial_secs: serial,
            streams_wall_secs: wall,
            cost_usd: 0.5,
            repaired,
            branch: None,
            pr: None,
        }
    }

    #[test]
    fn the_figures_count_integration_failures_over_integrations_and_average_the_speedup() {
        let now = DateTime::parse_from_rfc3339("2026-11-21T07:00:00+00:00").unwrap();
        let records = [
            record(20, Outcome::Landed, 6.0, 8.0, false),
            record(20, Outcome::IntegrationFailed, 4.0, 8.0, true),
            record(19, Outcome::StreamFailed, 2.0, 2.0, false),
            // Outside a 7-day window.
            record(1, Outcome::IntegrationFailed, 1.0, 1.0, false),
        ];
        let b = compute(&records, now, 7, None);
        assert_eq!(
            (b.builds, b.landed, b.stream_failures, b.integrated),
            (3, 1, 1, 2)
        );
        assert!((b.integration_failure_rate - 0.5).abs() < 1e-9);
        assert!((b.repair_rate - 0.5).abs() < 1e-9);
        // (8/6 + 8/4) / 2
        assert!(
            (b.mean_speedup - f64::midpoint(8.0 / 6.0, 2.0)).abs() < 1e-9,
            "{b:?}"
        );
        assert!((b.cost_usd - 1.5).abs() < 1e-9);
        let text = render(&b);
        assert!(
            text.contains("integration failure rate: 50% of 2 integration(s)"),
            "{text}"
        );
        assert!(text.contains("speedup: 1.67x"), "{text}");
        assert_eq!(compute(&records, now, 7, Some("other")).builds, 0);
        // A window longer than time itself holds every build.
        assert_eq!(compute(&records, now, u32::MAX, None).builds, 4);
    }
}
