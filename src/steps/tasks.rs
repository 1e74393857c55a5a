//! The `tasks` step: a project's open GitHub issues (the stale ones, daydream's own old report issues) and the
//! unchecked items of its `TODO.md` files. Labelling stale issues and closing them are opt-in per project
//! (`"tasks": {"label_stale": true, "close_stale_after_days": 180}`); the default is to report.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::config::{GitHub, Project};
use crate::github::{Gh, GhError, Issue, IssueState};
use crate::publish::{REPORT_LABEL, REPORT_TITLE};
use crate::step::{Outcome, Output, Step, UnitCx};

const STALE_LABEL: &str = "stale";
/// Items kept per list in the data; totals count everything.
const LIST_LIMIT: usize = 50;
/// Items shown per list in the report.
const SHOWN: usize = 10;

pub(crate) struct Tasks;

impl Step for Tasks {
    type Data = TasksData;
    const NAME: &'static str = "tasks";
    const TITLE: &'static str = "Tasks";

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<TasksData>> {
        let project = cx.project();
        let Some(repo) = &project.github else {
            return Ok(Outcome::Skipped(
                "no `github` entry in `projects.json`".to_owned(),
            ));
        };
        let gh = Gh::new(&cx.run.env, cx.run.cancel.clone());
        let issues = match gh.issues(repo, IssueState::Open, None) {
            Ok(issues) => issues,
            Err(GhError::NotFound { .. }) => {
                return Ok(Outcome::Skipped(
                    "`gh` not found: install the GitHub CLI (https://cli.github.com) or set `DAYDREAM_GH`".to_owned(),
                ));
            }
            Err(err) => {
                return Err(err).with_context(|| {
                    format!(
                        "failed to list the open issues of `{}/{}`",
                        repo.org, repo.repo
                    )
                });
            }
        };
        let now = cx.run.clock.now();
        let mut data = review(project, &issues, now, cx.run.date);
        data.dry_run = cx.run.dry_run;
        data.todo = todo_items(&project.dir, &mut data.todo_total);
        cx.check_cancel()?;

        // Closing comments are guarded by a record saved before them, so a kill never comments twice.
        let mut commented: Vec<u64> = cx
            .take_resume()
            .and_then(|v| serde_json::from_value(v.get("commented")?.clone()).ok())
            .unwrap_or_default();
        act(
            cx,
            &gh,
            repo,
            project,
            &issues,
            now,
            &mut data,
            &mut commented,
        )?;

        let output = output(data);
        Ok(Outcome::Done(output))
    }

    fn render(&self, data: &TasksData, _: &Output, out: &mut String) {
        render(data, out);
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TasksData {
    #[serde(default)]
    dry_run: bool,
    repo: String,
    open_issues: usize,
    stale_days: u32,
    /// Open issues idle for `stale_days` or more, oldest first.
    stale: Vec<IssueRow>,
    stale_total: usize,
    /// daydream's report issues of earlier days that are still open.
    old_reports: Vec<IssueRow>,
    todo: Vec<TodoItem>,
    todo_total: usize,
    /// What was done (or, in a dry run, would be): labels added, issues closed.
    #[serde(default)]
    changes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct IssueRow {
    number: u64,
    title: String,
    url: String,
    idle_days: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TodoItem {
    path: String,
    line: usize,
    text: String,
}

fn row(issue: &Issue, now: DateTime<FixedOffset>) -> IssueRow {
    IssueRow {
        number: issue.number,
        title: issue.title.chars().take(120).collect(),
        url: issue.html_url.clone(),
        idle_days: (now.to_utc() - issue.updated_at).num_days(),
    }
}

fn is_report(issue: &Issue) -> bool {
    issue.labels.iter().any(|l| l == REPORT_LABEL) && issue.title.starts_with(REPORT_TITLE)
}

/// Sorts the open issues into stale ones and old report issues.
fn review(
    project: &Project,
    issues: &[Issue],
    now: DateTime<FixedOffset>,
    date: chrono::NaiveDate,
) -> TasksData {
    let stale_days = project.stale_issue_days;
    let cutoff = now.to_utc() - Duration::days(i64::from(stale_days));
    let mut stale: Vec<IssueRow> = issues
        .iter()
        .filter(|i| !is_report(i) && i.updated_at <= cutoff)
        .map(|i| row(i, now))
        .collect();
    stale.sort_by_key(|r| (std::cmp::Reverse(r.idle_days), r.number));
    let stale_total = stale.len();
    stale.truncate(LIST_LIMIT);
    let today = format!("{REPORT_TITLE}{date}");
    let old_reports = issues
        .iter()
        .filter(|i| is_report(i) && !i.title.starts_with(&today))
        .map(|i| row(i, now))
        .collect();
    let repo = project
        .github
        .as_ref()
        .map(|g| format!("{}/{}", g.org, g.repo))
        .unwrap_or_default();
    TasksData {
        repo,
        open_issues: issues.len(),
        stale_days,
        stale,
        stale_total,
        old_reports,
        ..TasksData::default()
    }
}

/// Labels and closes stale issues where the project opted in; in a dry run, only says what it would do.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the pieces are unrelated"
)]
fn act(
    cx: &mut UnitCx<'_>,
    gh: &Gh,
    repo: &GitHub,
    project: &Project,
    issues: &[Issue],
    now: DateTime<FixedOffset>,
    data: &mut TasksData,
    commented: &mut Vec<u64>,
) -> Result<()> {
    let dry = cx.run.dry_run;
    let stale_days = i64::from(project.stale_issue_days);
    let stale: Vec<&Issue> = issues
        .iter()
        .filter(|i| !is_report(i) && (now.to_utc() - i.updated_at).num_days() >= stale_days)
        .collect();
    if project.tasks.label_stale {
        let unlabelled: Vec<&&Issue> = stale
            .iter()
            .filter(|i| !i.labels.iter().any(|l| l == STALE_LABEL))
            .collect();
        if !unlabelled.is_empty() && !dry {
            gh.ensure_label(
                repo,
                STALE_LABEL,
                "cfd3d7",
                "No activity for a long time (labelled by daydream)",
            )
            .context("failed to create the `stale` label")?;
        }
        for issue in unlabelled {
            cx.check_cancel()?;
            if dry {
                data.changes
                    .push(format!("would label #{} `{STALE_LABEL}`", issue.number));
            } else {
                gh.add_labels(repo, issue.number, &[STALE_LABEL])
                    .with_context(|| {
                        format!("failed to label #{} `{STALE_LABEL}`", issue.number)
                    })?;
                data.changes
                    .push(format!("labelled #{} `{STALE_LABEL}`", issue.number));
            }
        }
    }
    if let Some(days) = project.tasks.close_stale_after_days {
        for issue in stale
            .iter()
            .filter(|i| (now.to_utc() - i.updated_at).num_days() >= i64::from(days))
        {
            cx.check_cancel()?;
            let idle = (now.to_utc() - issue.updated_at).num_days();
            if dry {
                data.changes.push(format!(
                    "would close #{} (no activity for {idle} days)",
                    issue.number
                ));
                continue;
            }
            if !commented.contains(&issue.number) {
                commented.push(issue.number);
                cx.checkpoint(serde_json::json!({ "commented": commented }))?;
                let text = format!(
                    "Closing this issue: it has had no activity for {idle} days (this project closes issues idle for \
                     {days} days or more). Reopen it if it still matters.\n\n_daydream_"
                );
                gh.comment(repo, issue.number, &text)
                    .with_context(|| format!("failed to comment on #{}", issue.number))?;
            }
            gh.close_issue(repo, issue.number, "not_planned")
                .with_context(|| format!("failed to close #{}", issue.number))?;
            data.changes.push(format!(
                "closed #{} (no activity for {idle} days)",
                issue.number
            ));
        }
    }
    Ok(())
}

/// Unchecked `- [ ]` items of the project's `TODO.md` files (any folder, `.gitignore` respected), bounded.
fn todo_items(dir: &Path, total: &mut usize) -> Vec<TodoItem> {
    let mut items = Vec::new();
    let walker = ignore::WalkBuilder::new(dir)
        .max_depth(Some(4))
        .filter_entry(|e| {
            !matches!(
                e.file_name().to_str(),
                Some("node_modules" | "vendor" | ".venv" | "venv" | "target")
            )
        })
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file())
            || !entry.file_name().eq_ignore_ascii_case("todo.md")
        {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .display()
            .to_string();
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            let item = ["- [ ] ", "* [ ] ", "+ [ ] "]
                .iter()
                .find_map(|p| trimmed.strip_prefix(p));
            if let Some(item) = item.map(str::trim).filter(|i| !i.is_empty()) {
                *total += 1;
                if items.len() < LIST_LIMIT {
                    items.push(TodoItem {
                        path: rel.clone(),
                        line: n + 1,
                        text: item.chars().take(160).collect(),
                    });
                }
            }
        }
    }
    items.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    items
}

fn output(data: TasksData) -> Output<TasksData> {
    let mut summary = format!("{} open issue(s)", data.open_issues);
    if data.stale_total > 0 {
        let _ = write!(
            summary,
            ", {} idle for {}+ days",
            data.stale_total, data.stale_days
        );
    }
    if !data.old_reports.is_empty() {
        let _ = write!(
            summary,
            ", {} old daydream report(s) open",
            data.old_reports.len()
        );
    }
    let _ = write!(summary, "; {} unchecked TODO.md item(s)", data.todo_total);
    if !data.changes.is_empty() {
        let _ = write!(summary, "; {}", data.changes.len());
        summary.push_str(if data.dry_run {
            " change(s) previewed"
        } else {
            " change(s) made"
        });
    }
    let mut actions = Vec::new();
    if let Some(oldest) = data.stale.first() {
        actions.push(format!(
            "{} issue(s) in `{}` idle for {}+ days; the oldest is #{} ({} days): close or label them, or set \
             `tasks.label_stale` / `tasks.close_stale_after_days`",
            data.stale_total, data.repo, data.stale_days, oldest.number, oldest.idle_days
        ));
    }
    Output {
        summary,
        data,
        actions,
        warnings: Vec::new(),
    }
}

fn render(data: &TasksData, out: &mut String) {
    let _ = writeln!(
        out,
        "{} open issue(s) in `{}`.",
        data.open_issues, data.repo
    );
    if data.stale_total > 0 {
        let _ = writeln!(
            out,
            "\nIdle for {} days or more ({}), oldest first:",
            data.stale_days, data.stale_total
        );
        for r in data.stale.iter().take(SHOWN) {
            let _ = writeln!(
                out,
                "- [#{}]({}) {} · {} days",
                r.number,
                r.url,
                crate::text::cell(&r.title),
                r.idle_days
            );
        }
        if data.stale_total > SHOWN {
            let _ = writeln!(out, "- and {} more", data.stale_total - SHOWN);
        }
    }
    if !data.old_reports.is_empty() {
        out.push_str(
            "\ndaydream report issues of earlier days still open (the report step closes them):\n",
        );
        for r in data.old_reports.iter().take(SHOWN) {
            let _ = writeln!(
                out,
                "- [#{}]({}) {}",
                r.number,
                r.url,
                crate::text::cell(&r.title)
            );
        }
    }
    if data.todo_total > 0 {
        let _ = writeln!(out, "\nUnchecked TODO.md items ({}):", data.todo_total);
        for t in data.todo.iter().take(SHOWN) {
            let _ = writeln!(
                out,
                "- `{}:{}` {}",
                t.path,
                t.line,
                crate::text::cell(&t.text)
            );
        }
        if data.todo_total > SHOWN {
            let _ = writeln!(out, "- and {} more", data.todo_total - SHOWN);
        }
    }
    if !data.changes.is_empty() {
        out.push_str(if data.dry_run {
            "\nA real run would:\n"
        } else {
            "\nChanges:\n"
        });
        for c in &data.changes {
            let _ = writeln!(out, "- {c}");
        }
    }
}
