//! Docs last changed long before the code they name.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::NOT_CODE;
use super::checks::Audit;
use super::data::{Finding, Kind};
use super::files::{is_historical, is_markdown};
use super::history::Git;
use super::paths::file_name;
use crate::text::code;

/// Docs whose last commit is more than `days` older than the last commit of a file they name.
pub(super) fn stale(
    git: &Git,
    audit: &Audit<'_>,
    docs: &[&String],
    days: u32,
) -> Result<Result<Vec<Finding>, String>> {
    let docs: Vec<&String> = docs.iter().copied().filter(|d| !is_historical(d)).collect();
    let mut paths: BTreeSet<String> = docs.iter().map(|d| (*d).clone()).collect();
    for doc in &docs {
        if let Some(named) = audit.named.get(*doc) {
            paths.extend(named.keys().filter(|rel| code_file(rel)).cloned());
        }
    }
    let times = match git.last_changes(&paths.into_iter().collect::<Vec<_>>())? {
        Ok(times) => times,
        Err(err) => return Ok(Err(err)),
    };
    let threshold = i64::from(days) * 86_400;
    let mut findings = Vec::new();
    for doc in docs {
        let Some(&doc_time) = times.get(doc) else {
            continue;
        };
        let Some(named) = audit.named.get(doc) else {
            continue;
        };
        let mut newer: Vec<(i64, &String, usize)> = named
            .iter()
            .filter(|(rel, _)| code_file(rel) && *rel != doc)
            .filter_map(|(rel, line)| Some((*times.get(rel)?, rel, *line)))
            .filter(|(time, _, _)| time - doc_time > threshold)
            .collect();
        newer.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let Some(&(time, rel, line)) = newer.first() else {
            continue;
        };
        let behind = (time - doc_time) / 86_400;
        let mut what = format!(
            "last changed {}, {behind} days before {} ({}), which it names here",
            day(doc_time),
            code(rel),
            day(time)
        );
        if newer.len() > 1 {
            let _ = write!(
                what,
                "; {} more files it names changed since",
                newer.len() - 1
            );
        }
        findings.push(Finding {
            kind: Kind::Stale,
            file: doc.clone(),
            line,
            what,
            fix: format!(
                "review it against what changed since ({}) and update it",
                code(&format!("git log --since={} -- {rel}", day(doc_time)))
            ),
            replace: None,
        });
    }
    Ok(Ok(findings))
}

/// Whether a named file is code whose changes may leave a doc behind (not a doc, a lock file or a manifest).
pub(super) fn code_file(rel: &str) -> bool {
    let name = file_name(rel);
    !is_markdown(rel)
        && !NOT_CODE.contains(&name)
        && !name.starts_with("requirements")
        && !Path::new(name)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("lock"))
}

pub(super) fn day(time: i64) -> String {
    chrono::DateTime::from_timestamp(time, 0)
        .map_or_else(|| time.to_string(), |t| t.format("%Y-%m-%d").to_string())
}
