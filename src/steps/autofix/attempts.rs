//! The record of finished attempts (`data/autofix_attempts.jsonl`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::RETRY_AFTER_HOURS;
use super::data::{Candidate, FixStatus};
use crate::config::Project;
use crate::step::UnitCx;

/// One finished attempt in `data/autofix_attempts.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Attempt {
    pub(super) time: DateTime<FixedOffset>,
    pub(super) project: String,
    pub(super) fingerprint: String,
    pub(super) status: FixStatus,
    pub(super) reason: String,
    pub(super) cost_usd: f64,
    #[serde(default)]
    pub(super) pr_url: Option<String>,
    pub(super) duration_secs: u64,
}

pub(super) fn attempts_path(root: &Path) -> PathBuf {
    root.join("data").join("autofix_attempts.jsonl")
}

pub(super) fn record_attempt(cx: &UnitCx<'_>, project: &Project, c: &Candidate) {
    let attempt = Attempt {
        time: cx.run.clock.now(),
        project: project.slug.clone(),
        fingerprint: c.fingerprint.clone(),
        status: c.status,
        reason: c.reason.clone(),
        cost_usd: c.cost_usd,
        pr_url: c.pr_url.clone(),
        duration_secs: c.duration_secs,
    };
    let path = attempts_path(cx.root());
    let write = || -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(&attempt)?;
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        file.write_all(line.as_bytes())?;
        file.sync_all()?;
        Ok(())
    };
    if let Err(err) = write() {
        tracing::warn!("failed to append to `{}`: {err:#}", path.display());
    }
}

/// The attempts on file; an unreadable file or line is skipped (the record guards retries, it is not money).
pub(super) fn attempts(root: &Path) -> Vec<Attempt> {
    crate::fsutil::read_jsonl(&attempts_path(root)).map_or_else(
        |err| {
            tracing::warn!("{err:#}");
            Vec::new()
        },
        |(attempts, _)| attempts,
    )
}

/// Fingerprints whose last recorded attempt is a push: their PR was never opened.
pub(super) fn pushed_without_pr(root: &Path, slug: &str) -> Vec<String> {
    let mut last: BTreeMap<String, FixStatus> = BTreeMap::new();
    for a in attempts(root).into_iter().filter(|a| a.project == slug) {
        last.insert(a.fingerprint, a.status);
    }
    last.into_iter()
        .filter(|(_, status)| *status == FixStatus::Pushed)
        .map(|(fp, _)| fp)
        .collect()
}

/// Failed attempts of the project within [`RETRY_AFTER_HOURS`] before `now`.
pub(super) fn recent_failures(root: &Path, slug: &str, now: DateTime<FixedOffset>) -> Vec<Attempt> {
    attempts(root)
        .into_iter()
        .filter(|a| a.project == slug && a.status.failed())
        .filter(|a| now - a.time < chrono::Duration::hours(RETRY_AFTER_HOURS) && a.time <= now)
        .collect()
}
