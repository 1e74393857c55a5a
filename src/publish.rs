//! A project's report leaves the machine: one GitHub issue per project per day, found by a hidden marker and
//! updated in place, converging when several machines race; then a Telegram/Slack summary with the link.
//!
//! Idempotency: the issue is found by listing the `daydream` label (consistent, unlike search) before anything is
//! created, so a kill between the create call and the state save never files a second one; its URL is saved in
//! the state right after it exists. A notification is recorded before it is sent: at most one per project a day.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::{GitHub, Project};
use crate::github::{Gh, GhError, Issue, IssueEdit, IssueState};
use crate::notify::{Notifier, Summary};
use crate::paths::Paths;
use crate::redact::for_publishing;
use crate::state::Status;
use crate::step::{Outcome, Output, UnitCx};

/// GitHub refuses issue bodies over 65,536 characters; this leaves room for the truncation note.
const BODY_LIMIT: usize = 60_000;
const LABEL_COLOR: &str = "5319e7";
const LABEL_DESCRIPTION: &str = "Nightly maintenance report by daydream";

/// What publishing one project's report did; kept in the state so reruns and crashes never repeat it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Published {
    #[serde(default)]
    pub(crate) dry_run: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
    /// The notification was recorded as sent (or attempted): it is never sent twice the same day.
    #[serde(default)]
    pub(crate) notified: bool,
    /// What was done, or in a dry run what would be.
    #[serde(default)]
    pub(crate) changes: Vec<String>,
}

/// The label daydream gives its own report issues.
pub(crate) const REPORT_LABEL: &str = "daydream";
/// The title prefix of daydream's report issues.
pub(crate) const REPORT_TITLE: &str = "Daydream Report - ";

/// The hidden marker that identifies a project's report issue of a day.
pub(crate) fn marker(slug: &str, date: chrono::NaiveDate) -> String {
    format!("<!-- daydream:report project={slug} date={date} -->")
}

fn marker_prefix(slug: &str) -> String {
    format!("<!-- daydream:report project={slug} date=")
}

/// Publishes the report of `project`: its issue, then its notification.
#[expect(
    clippy::too_many_lines,
    reason = "the report issue's steps in order, each recorded before its side effect"
)]
pub(crate) fn publish(cx: &mut UnitCx<'_>, project: &Project) -> Result<Outcome<Published>> {
    let Some(repo) = &project.github else {
        return Ok(Outcome::Skipped(
            "no `github` entry in `projects.json`: the report stays in the local file".to_owned(),
        ));
    };
    let state = cx.state;
    let blocked = state
        .steps
        .iter()
        .filter(|s| s.name != "report")
        .flat_map(|s| &s.units)
        .any(|u| {
            u.project == project.slug
                && matches!(
                    u.status,
                    Status::Running | Status::Interrupted | Status::Pending
                )
        });
    if !crate::report::has_findings(state, &project.slug, cx.run.steps) {
        let why = if blocked {
            "its steps have not all run yet"
        } else {
            "no findings today"
        };
        return Ok(Outcome::Skipped(format!("nothing to publish: {why}")));
    }
    let date = cx.run.date;
    let paths = Paths::new(cx.root().to_owned());
    let report = crate::report::render_project(state, &project.slug, &project.name, cx.run.steps);
    let title = format!("{REPORT_TITLE}{date} - {}", project.name);
    let body = issue_body(
        &project.slug,
        date,
        &report.markdown,
        &paths.show(&paths.report(date, cx.run.dry_run)),
        project.keep_pii,
    );

    // What earlier attempts today did: the last output, and the resume point of an attempt that was cut short.
    let mut record: Published = state
        .steps
        .iter()
        .find(|s| s.name == "report")
        .and_then(|s| s.units.iter().find(|u| u.project == project.slug))
        .and_then(|u| u.output.as_ref())
        .and_then(|o| o.read().ok())
        .unwrap_or_default();
    if let Some(resume) = cx.resume::<Published>() {
        record.number = resume.number.or(record.number);
        record.url = resume.url.or(record.url);
        record.notified |= resume.notified;
    }
    record.changes.clear();
    record.dry_run = cx.run.dry_run;

    let gh = Gh::new(&cx.run.env, cx.run.cancel.clone());
    let mut warnings = Vec::new();
    let issue = match issue(cx, &gh, repo, &project.slug, &title, &body, &mut record) {
        Ok(issue) => issue,
        Err(err) if is_gh_missing(&err) => {
            return Ok(Outcome::Skipped(
                "`gh` not found: install the GitHub CLI (https://cli.github.com) or set `DAYDREAM_GH`".to_owned(),
            ));
        }
        Err(err) => return Err(err),
    };
    close_older(
        cx,
        &gh,
        repo,
        &project.slug,
        date,
        issue.as_ref(),
        &mut record,
    )?;

    let notifier = Notifier::from_env(&cx.run.env).with_cancel(cx.run.cancel.clone());
    let channels = notifier.channels(project.telegram_chat_id.as_deref());
    if !channels.is_empty() && !record.notified {
        let summary = Summary {
            date,
            project: &project.name,
            counts: report.counts.clone(),
            actions: report.actions.clone(),
            link: record.url.clone(),
            keep_pii: project.keep_pii,
        };
        if cx.run.dry_run {
            record.changes.push(format!(
                "would send a summary to {}",
                channels.join(" and ")
            ));
        } else {
            record.notified = true;
            cx.checkpoint(serde_json::to_value(&record)?)?;
            for (channel, result) in notifier.send(&summary, project.telegram_chat_id.as_deref()) {
                match result {
                    Ok(_) => record
                        .changes
                        .push(format!("sent the summary to {channel}")),
                    Err(err) => warnings.push(format!("failed to notify {channel}: {err}")),
                }
            }
        }
    }

    let summary = match record.url.as_ref().filter(|_| !cx.run.dry_run) {
        Some(url) => format!("{url} · {}", record.changes.join("; ")),
        None => record.changes.join("; "),
    };
    Ok(Outcome::Done(Output {
        summary,
        data: record,
        actions: Vec::new(),
        warnings,
    }))
}

/// The issue body: the marker, the project's report with secrets redacted and (unless `keep_pii`) personal data
/// masked, truncated under GitHub's limit with a pointer to the file.
fn issue_body(
    slug: &str,
    date: chrono::NaiveDate,
    markdown: &str,
    local: &str,
    keep_pii: bool,
) -> String {
    let mut body = format!(
        "{}\n{}",
        marker(slug, date),
        for_publishing(markdown, keep_pii)
    );
    if body.chars().count() > BODY_LIMIT {
        let cut = body
            .char_indices()
            .nth(BODY_LIMIT)
            .map_or(body.len(), |(i, _)| i);
        let cut = body[..cut].rfind('\n').unwrap_or(cut);
        body.truncate(cut);
        // Close a code fence the cut left open.
        if body
            .lines()
            .filter(|l| l.trim_start().starts_with("```"))
            .count()
            % 2
            == 1
        {
            body.push_str("\n```");
        }
        let _ = write!(
            body,
            "\n\n_Truncated: the full report is `{local}` on the machine that ran daydream._"
        );
    }
    body.push('\n');
    body
}

/// Finds, creates or updates the day's issue; returns it (`None` in a dry run that would create it).
fn issue(
    cx: &mut UnitCx<'_>,
    gh: &Gh,
    repo: &GitHub,
    slug: &str,
    title: &str,
    body: &str,
    record: &mut Published,
) -> Result<Option<Issue>> {
    let marker = marker(slug, cx.run.date);
    let mine = |issues: Vec<Issue>| -> Vec<Issue> {
        let mut found: Vec<Issue> = issues
            .into_iter()
            .filter(|i| i.body.contains(&marker))
            .collect();
        found.sort_by_key(|i| i.number);
        found
    };
    let open = gh
        .issues(repo, IssueState::Open, Some(REPORT_LABEL))
        .context("failed to list the report issues")?;
    let existing = mine(open);
    if cx.run.dry_run {
        match existing.first() {
            None => record.changes.push(format!("would create issue `{title}`")),
            Some(i) if i.body.trim() == body.trim() => record
                .changes
                .push(format!("issue #{} is up to date", i.number)),
            Some(i) => record
                .changes
                .push(format!("would update issue #{}", i.number)),
        }
        return Ok(existing.into_iter().next());
    }
    let keep = if existing.is_empty() {
        gh.ensure_label(repo, REPORT_LABEL, LABEL_COLOR, LABEL_DESCRIPTION)
            .context("failed to create the `daydream` label")?;
        let created = gh
            .create_issue(repo, title, body, &[REPORT_LABEL])
            .context("failed to create the report issue")?;
        // Stored before anything else happens.
        record.number = Some(created.number);
        record.url = Some(created.html_url.clone());
        cx.checkpoint(serde_json::to_value(&*record)?)?;
        record
            .changes
            .push(format!("created issue #{}", created.number));
        // Another machine may have created one at the same moment: the lowest number wins everywhere.
        let again = mine(
            gh.issues(repo, IssueState::Open, Some(REPORT_LABEL))
                .context("failed to list the report issues")?,
        );
        converge(gh, repo, again, record)?.unwrap_or(created)
    } else {
        let keep = converge(gh, repo, existing, record)?.expect("there is at least one");
        if keep.body.trim() == body.trim() {
            record
                .changes
                .push(format!("issue #{} is up to date", keep.number));
            keep
        } else {
            let edit = IssueEdit {
                body: Some(body.to_owned()),
                ..IssueEdit::default()
            };
            let updated = gh
                .edit_issue(repo, keep.number, &edit)
                .context("failed to update the report issue")?;
            record
                .changes
                .push(format!("updated issue #{}", keep.number));
            updated
        }
    };
    record.number = Some(keep.number);
    record.url = Some(keep.html_url.clone());
    cx.checkpoint(serde_json::to_value(&*record)?)?;
    Ok(Some(keep))
}

/// Keeps the lowest-numbered of the day's open issues and closes the others, pointing to it.
fn converge(
    gh: &Gh,
    repo: &GitHub,
    mut same: Vec<Issue>,
    record: &mut Published,
) -> Result<Option<Issue>> {
    if same.is_empty() {
        return Ok(None);
    }
    let keep = same.remove(0);
    for dup in same {
        let text = format!(
            "Duplicate of #{}: another machine running daydream filed the same report at the same time.",
            keep.number
        );
        gh.comment(repo, dup.number, &text)
            .with_context(|| format!("failed to comment on duplicate #{}", dup.number))?;
        gh.close_issue(repo, dup.number, "not_planned")
            .with_context(|| format!("failed to close duplicate #{}", dup.number))?;
        record
            .changes
            .push(format!("closed duplicate #{}", dup.number));
    }
    Ok(Some(keep))
}

/// Closes the project's report issues of earlier days, linking to today's.
fn close_older(
    cx: &UnitCx<'_>,
    gh: &Gh,
    repo: &GitHub,
    slug: &str,
    date: chrono::NaiveDate,
    today: Option<&Issue>,
    record: &mut Published,
) -> Result<()> {
    let prefix = marker_prefix(slug);
    let current = marker(slug, date);
    let open = gh
        .issues(repo, IssueState::Open, Some(REPORT_LABEL))
        .context("failed to list the report issues")?;
    let older = open
        .iter()
        .filter(|i| i.body.contains(&prefix) && !i.body.contains(&current));
    for old in older {
        cx.check_cancel()?;
        let today = match today {
            Some(today) if !cx.run.dry_run => today,
            _ => {
                record.changes.push(format!(
                    "would close #{} (an earlier day's report)",
                    old.number
                ));
                continue;
            }
        };
        let text = format!(
            "Superseded by today's report: #{} ({}).",
            today.number, today.html_url
        );
        gh.comment(repo, old.number, &text)
            .with_context(|| format!("failed to comment on #{}", old.number))?;
        gh.close_issue(repo, old.number, "completed")
            .with_context(|| format!("failed to close #{}", old.number))?;
        record
            .changes
            .push(format!("closed #{} (an earlier day's report)", old.number));
    }
    Ok(())
}

fn is_gh_missing(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| matches!(e.downcast_ref::<GhError>(), Some(GhError::NotFound { .. })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_the_marker_and_stay_under_the_limit() {
        let date = "2026-11-21".parse().unwrap();
        let small = issue_body(
            "shop",
            date,
            "# Report\n\ntoken=ghp_abcdefghijklmnopqrstuvwxyz0123456789 from ann@example.com at 198.51.100.4\n",
            "logs/daydream/report_2026-11-21.md",
            false,
        );
        assert!(
            small.starts_with("<!-- daydream:report project=shop date=2026-11-21 -->\n# Report")
        );
        assert!(
            !small.contains("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "{small}"
        );
        assert!(small.contains("from [email] at [ip]"), "{small}");
        let kept = issue_body("shop", date, "by ann@example.com", "r.md", true);
        assert!(kept.contains("by ann@example.com"), "{kept}");
        let huge = format!("```text\n{}", "a line of a long stack trace\n".repeat(5000));
        let body = issue_body(
            "shop",
            date,
            &huge,
            "logs/daydream/report_2026-11-21.md",
            false,
        );
        assert!(body.chars().count() < 65_536);
        assert!(body.ends_with("_Truncated: the full report is `logs/daydream/report_2026-11-21.md` on the machine that ran daydream._\n"));
        assert_eq!(
            body.lines().filter(|l| l.starts_with("```")).count() % 2,
            0,
            "the open fence is closed"
        );
    }
}
