//! Pure: the day's state to the markdown report. The same state always gives the same file.

use std::fmt::Write as _;

use crate::config::Config;
use crate::redact::redact;
use crate::state::{ALL_PROJECTS, State, Status, Unit};
use crate::step::{AnyStep, Reason, Scope};
use crate::text::{capitalise, cell, duration, one_line};

/// Renders the report of `state`. `config` supplies display names; projects no longer configured show by slug.
#[expect(
    clippy::too_many_lines,
    reason = "the report's sections in the order they are read"
)]
/// The day's report. `fixing` is the line of fix metrics of the last days, when there were attempts.
pub(crate) fn render(
    state: &State,
    config: &Config,
    steps: &[&'static dyn AnyStep],
    fixing: Option<&str>,
) -> String {
    let mut out = String::new();
    let name_of = |slug: &str| {
        if slug == ALL_PROJECTS {
            return "All projects".to_owned();
        }
        config
            .projects
            .iter()
            .find(|p| p.slug == slug)
            .map_or_else(|| slug.to_owned(), |p| p.name.clone())
    };
    let shown = reported_steps(steps);
    let units = |step: &dyn AnyStep| {
        state
            .step(step.name())
            .map(|s| s.units.as_slice())
            .unwrap_or_default()
    };

    let _ = writeln!(out, "# Daydream Report - {}\n", state.date);
    if state.dry_run {
        out.push_str("> **Dry run.** Nothing outside the daydream root was changed; this is what a real run would do.\n\n");
    }

    // Summary.
    out.push_str("## Summary\n\n");
    // Every step's units, this one's too (so the counts are the console's): the unit writing this report is
    // done by the time anyone reads it.
    let status_of = |step: &dyn AnyStep, u: &Unit| {
        if step.name() == "report" && u.project == ALL_PROJECTS {
            Status::Done
        } else {
            u.status
        }
    };
    let all: Vec<(Status, &Unit)> = steps
        .iter()
        .flat_map(|s| units(*s).iter().map(move |u| (status_of(*s, u), u)))
        .collect();
    let by = |status: Status| all.iter().filter(|(s, _)| *s == status).count();
    let steps_done = steps
        .iter()
        .filter(|s| {
            let statuses = units(**s).iter().map(|u| status_of(**s, u));
            !units(**s).is_empty()
                && matches!(
                    crate::state::combine(statuses),
                    Status::Done | Status::Skipped
                )
        })
        .count();
    let _ = writeln!(out, "- **Steps done:** {steps_done}/{}", steps.len());
    let _ = writeln!(
        out,
        "- **Units:** {} done, {} failed, {} skipped, {} not finished",
        by(Status::Done),
        by(Status::Failed),
        by(Status::Skipped),
        by(Status::Pending) + by(Status::Running) + by(Status::Interrupted)
    );
    let total_ms: u64 = all.iter().filter_map(|(_, u)| u.duration_ms).sum();
    let _ = writeln!(out, "- **Duration:** {}", duration(total_ms));
    if let Some((head, figures)) = fixing.and_then(|f| f.split_once(": ")) {
        let _ = writeln!(out, "- **{head}:** {figures}");
    }
    // The report step's own per-project units published each project's issue: link them.
    let issues: Vec<String> = state
        .step("report")
        .map(|s| s.units.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|u| u.status == Status::Done)
        .filter_map(|u| {
            let url = u.output.as_ref()?.data.get("url")?.as_str()?;
            Some(format!("[{}]({url})", name_of(&u.project)))
        })
        .collect();
    if !issues.is_empty() {
        let _ = writeln!(out, "- **Report issues:** {}", issues.join(", "));
    }
    let _ = writeln!(
        out,
        "- **Logs reviewed:** {} 00:00 to {} 00:00 local time",
        state.date.pred_opt().unwrap_or(state.date),
        state.date
    );

    // One row per project, one column per step.
    let mut projects: Vec<&str> = Vec::new();
    for (_, unit) in &all {
        if unit.project != ALL_PROJECTS && !projects.contains(&unit.project.as_str()) {
            projects.push(&unit.project);
        }
    }
    // Run-wide steps (reflection) have no column: they are not per project.
    let columns: Vec<&dyn AnyStep> = shown
        .iter()
        .copied()
        .filter(|s| s.scope() == Scope::PerProject)
        .collect();
    if !projects.is_empty() {
        out.push_str("\n| Project |");
        for step in &columns {
            let _ = write!(out, " {} |", step.name());
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(columns.len()));
        out.push('\n');
        for slug in &projects {
            let _ = write!(out, "| {} |", cell(&name_of(slug)));
            for step in &columns {
                let status = units(*step)
                    .iter()
                    .find(|u| u.project == *slug)
                    .map_or("—", |u| mark(u.status));
                let _ = write!(out, " {status} |");
            }
            out.push('\n');
        }
    }

    // Action Required: failures first, then what steps asked a human to do.
    out.push_str("\n## Action Required\n\n");
    let actions: Vec<String> = unit_actions(state, &shown, None)
        .into_iter()
        .map(|(slug, action)| format!("**{}** · {action}", name_of(slug)))
        .collect();
    if actions.is_empty() {
        out.push_str("Nothing needs you today.\n");
    } else {
        for action in actions {
            let _ = writeln!(out, "- {action}");
        }
    }

    // One section per step.
    for step in &shown {
        let _ = writeln!(out, "\n## {}\n", step.title());
        let list = units(*step);
        if list.is_empty() {
            out.push_str("_Not run yet._\n");
            continue;
        }
        for unit in list {
            let _ = writeln!(out, "### {}\n", name_of(&unit.project));
            unit_body(*step, unit, &mut out);
            trim_blank_lines(&mut out);
            out.push_str("\n\n");
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
    }

    let updated = all.iter().filter_map(|(_, u)| u.finished_at).max();
    out.push_str("\n---\n\n");
    let _ = write!(
        out,
        "_daydream {} · run date {}",
        env!("CARGO_PKG_VERSION"),
        state.date
    );
    if let Some(t) = updated {
        let _ = write!(out, " · last updated {}", t.format("%Y-%m-%d %H:%M:%S %:z"));
    }
    out.push_str("_\n");
    out
}

/// The Action Required items of the units of `steps` (of one project, or all): failures first, then what the
/// steps asked a human to do, ranked by their [`Reason`] (kind and novelty before volume) and, within a tier,
/// by the step's `action_rank` and the order the step gave them. Each comes with the unit's project.
fn unit_actions<'s>(
    state: &'s State,
    steps: &[&dyn AnyStep],
    only: Option<&str>,
) -> Vec<(&'s str, String)> {
    let mut ranked = steps.to_vec();
    ranked.sort_by_key(|s| s.action_rank());
    let mut failures = Vec::new();
    let mut actions = Vec::new();
    for step in &ranked {
        let units = state
            .step(step.name())
            .map(|s| s.units.as_slice())
            .unwrap_or_default();
        for unit in units
            .iter()
            .filter(|u| only.is_none_or(|slug| u.project == slug))
        {
            let project = unit.project.as_str();
            match unit.status {
                Status::Failed => failures.push((
                    project,
                    format!(
                        "`{}` failed after {} attempt(s): {}",
                        step.name(),
                        unit.attempts,
                        one_line(unit.last_error.as_deref().unwrap_or("no error recorded"))
                    ),
                )),
                Status::Interrupted | Status::Running => failures.push((
                    project,
                    format!(
                        "`{}` did not finish; the next run today does it again",
                        step.name()
                    ),
                )),
                _ => {}
            }
            if let Some(output) = unit.output.as_ref().filter(|_| unit.status == Status::Done) {
                actions.extend(output.actions.iter().map(|a| (project, a.clone())));
            }
        }
    }
    // A stable sort: within a tier, the steps' rank and their own order stand.
    actions.sort_by_key(|(_, action)| Reason::tier(action));
    failures.extend(actions);
    failures
}

/// One unit's findings under its heading: the step's rendering, or why there is none.
fn unit_body(step: &dyn AnyStep, unit: &Unit, out: &mut String) {
    match (unit.status, &unit.output) {
        (Status::Done, Some(output)) => {
            // The step's own rendering says more than its summary line; the summary stands in when it renders
            // nothing.
            let mut body = String::new();
            step.render(output, &mut body);
            if body.trim().is_empty() {
                let _ = writeln!(out, "{}", one_line(&output.summary));
            } else {
                out.push_str(&body);
            }
            if !output.warnings.is_empty() {
                trim_blank_lines(out);
                out.push_str("\n\nWarnings:\n");
                for warning in output.warnings.iter().take(WARNINGS_SHOWN) {
                    let _ = writeln!(out, "- {}", redact(&one_line(warning)));
                }
                if output.warnings.len() > WARNINGS_SHOWN {
                    let _ = writeln!(out, "- and {} more", output.warnings.len() - WARNINGS_SHOWN);
                }
            }
        }
        (Status::Skipped, _) => {
            let reason = unit.reason.as_deref().unwrap_or("no reason recorded");
            let _ = writeln!(out, "_Skipped: {}._", reason.trim_end_matches('.'));
        }
        (Status::Failed, _) => {
            let error = one_line(unit.last_error.as_deref().unwrap_or("no error recorded"));
            let _ = writeln!(
                out,
                "**Failed** after {} attempt(s): {error}",
                unit.attempts
            );
        }
        (status, _) => {
            let _ = writeln!(out, "_{}._", capitalise(status.as_str()));
        }
    }
}

/// The steps whose findings the report shows: all but the report itself.
fn reported_steps(steps: &[&'static dyn AnyStep]) -> Vec<&'static dyn AnyStep> {
    steps
        .iter()
        .copied()
        .filter(|s| s.name() != "report")
        .collect()
}

/// Whether `slug` has anything worth a report issue today: a failed unit, an action or a warning.
pub(crate) fn has_findings(state: &State, slug: &str, steps: &[&'static dyn AnyStep]) -> bool {
    reported_steps(steps)
        .iter()
        .filter_map(|s| state.step(s.name()))
        .flat_map(|s| &s.units)
        .filter(|u| u.project == slug)
        .any(|u| {
            u.status == Status::Failed
                || u.output.as_ref().is_some_and(|o| {
                    u.status == Status::Done && (!o.actions.is_empty() || !o.warnings.is_empty())
                })
        })
}

/// One project's part of the day: the body of its report issue, and the counts of its notification.
pub(crate) struct ProjectReport {
    pub(crate) markdown: String,
    /// (step, one-line summary) of each unit that did something, in step order.
    pub(crate) counts: Vec<(String, String)>,
    pub(crate) actions: Vec<String>,
}

/// The report of one project: its Action Required and its section of each step, without the daily summary.
pub(crate) fn render_project(
    state: &State,
    slug: &str,
    name: &str,
    steps: &[&'static dyn AnyStep],
) -> ProjectReport {
    let shown = reported_steps(steps);
    let mut out = String::new();
    let _ = writeln!(out, "# Daydream Report - {} - {name}\n", state.date);
    if state.dry_run {
        out.push_str("> **Dry run.** Nothing outside the daydream root was changed.\n\n");
    }
    let actions: Vec<String> = unit_actions(state, &shown, Some(slug))
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    out.push_str("## Action Required\n\n");
    if actions.is_empty() {
        out.push_str("Nothing needs you today.\n");
    }
    for action in &actions {
        let _ = writeln!(out, "- {action}");
    }
    let mut counts = Vec::new();
    for step in &shown {
        let Some(unit) = state
            .step(step.name())
            .and_then(|s| s.units.iter().find(|u| u.project == slug))
        else {
            continue;
        };
        if let Some(output) = unit.output.as_ref().filter(|_| unit.status == Status::Done) {
            counts.push((step.name().to_owned(), one_line(&output.summary)));
        } else if unit.status == Status::Failed {
            counts.push((step.name().to_owned(), "failed".to_owned()));
        }
        let _ = writeln!(out, "\n## {}\n", step.title());
        unit_body(*step, unit, &mut out);
        trim_blank_lines(&mut out);
        out.push('\n');
    }
    ProjectReport {
        markdown: out,
        counts,
        actions,
    }
}

/// Warnings shown per unit; the rest are counted.
const WARNINGS_SHOWN: usize = 10;

/// Drops trailing newlines, so sections are separated by exactly one blank line whatever a step rendered.
fn trim_blank_lines(out: &mut String) {
    while out.ends_with('\n') {
        out.pop();
    }
}

fn mark(status: Status) -> &'static str {
    match status {
        Status::Done => "done",
        Status::Failed => "**failed**",
        Status::Skipped => "skipped",
        Status::Pending => "pending",
        Status::Running => "running",
        Status::Interrupted => "interrupted",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::env::Env;
    use crate::step::Output;

    fn config() -> Config {
        let json = r#"{"projects": {"shop": {"name": "Shop", "working_directory": "/"}, "far": {"working_directory": "/x/y"}}}"#;
        crate::config::parse(
            json,
            Path::new("projects.json"),
            Path::new("/"),
            &Env::default(),
        )
        .unwrap()
    }

    fn state() -> State {
        let mut state = State::new("2026-11-21".parse().unwrap(), false);
        let unit = state.unit_mut("cleanup", "shop");
        unit.status = Status::Done;
        unit.attempts = 1;
        unit.duration_ms = Some(1500);
        unit.finished_at = Some("2026-11-21T06:00:02+01:00".parse().unwrap());
        unit.output = Some(Output {
            summary: "nothing to remove".to_owned(),
            warnings: (0..12)
                .map(|i| format!("warning {i}: password=hunter2"))
                .collect(),
            actions: vec!["untrack `x.pyc`".to_owned()],
            ..Output::default()
        });
        let far = state.unit_mut("cleanup", "far");
        far.status = Status::Skipped;
        far.reason = Some("`/x/y` does not exist on this machine".to_owned());
        let logs = state.unit_mut("logs", "shop");
        logs.status = Status::Failed;
        logs.attempts = 3;
        logs.last_error =
            Some("failed to read `logs/app.log`: permission denied\nsecond line".to_owned());
        state
    }

    #[test]
    fn summary_actions_sections_and_footer() {
        let md = render(&state(), &config(), crate::steps::ORDER, None);
        assert!(
            md.starts_with("# Daydream Report - 2026-11-21\n\n## Summary\n"),
            "{md}"
        );
        assert!(md.contains("- **Steps done:** 1/10\n"), "{md}");
        assert!(
            md.contains("- **Units:** 1 done, 1 failed, 1 skipped, 0 not finished\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "| Shop | done | **failed** | — | — | — | — | — | — |\n| far | skipped | — | — | — | — | — | — | — |\n"
            ),
            "{md}"
        );
        let actions = md
            .split("## Action Required\n\n")
            .nth(1)
            .unwrap()
            .split("\n\n")
            .next()
            .unwrap();
        assert_eq!(
            actions,
            "- **Shop** · `logs` failed after 3 attempt(s): failed to read `logs/app.log`: permission denied …\n\
             - **Shop** · untrack `x.pyc`"
        );
        // Warnings follow the step's findings, bounded and redacted.
        assert!(
            md.contains("nothing to remove\n\nWarnings:\n- warning 0: password=[REDACTED]\n"),
            "{md}"
        );
        assert!(
            md.contains("- warning 9: password=[REDACTED]\n- and 2 more\n"),
            "{md}"
        );
        assert!(
            md.contains("### far\n\n_Skipped: `/x/y` does not exist on this machine._\n"),
            "{md}"
        );
        assert!(md.contains("**Failed** after 3 attempt(s):"), "{md}");
        assert!(
            md.ends_with(
                "_daydream 0.1.0 · run date 2026-11-21 · last updated 2026-11-21 06:00:02 +01:00_\n"
            ),
            "{md}"
        );
        assert!(
            !md.contains("\n\n\n"),
            "one blank line between blocks: {md}"
        );
    }

    #[test]
    fn the_same_state_gives_the_same_report() {
        assert_eq!(
            render(&state(), &config(), crate::steps::ORDER, None),
            render(&state(), &config(), crate::steps::ORDER, None)
        );
    }

    #[test]
    fn actions_rank_by_kind_and_novelty_before_volume_across_steps() {
        let mut state = State::new("2026-11-21".parse().unwrap(), false);
        let mut done = |step: &str, actions: &[String]| {
            let unit = state.unit_mut(step, "shop");
            unit.status = Status::Done;
            unit.output = Some(Output {
                actions: actions.to_vec(),
                ..Output::default()
            });
        };
        done("cleanup", &["untrack `x.pyc`".to_owned()]);
        done(
            "logs",
            &[
                Reason::Traceback.tag("3 errors of `KeyError`"),
                Reason::Rising.tag("`slow query`"),
                Reason::Volume.tag("22 errors of `card declined`"),
            ],
        );
        done("sentry", &[Reason::P1.tag("Sentry issue 4")]);
        done("docs", &["`README.md:3` links to `gone.md`".to_owned()]);
        done(
            "tests",
            &[
                Reason::Chronic.tag("`test_a` fails for 9 nights"),
                Reason::Failing.tag("New failing test `test_b`"),
            ],
        );

        let actions: Vec<String> = unit_actions(&state, crate::steps::ORDER, Some("shop"))
            .into_iter()
            .map(|(_, action)| action)
            .collect();

        assert_eq!(
            actions,
            [
                "traceback · 3 errors of `KeyError`",
                "failing · New failing test `test_b`",
                "P1 · Sentry issue 4",
                "rising · `slow query`",
                "volume · 22 errors of `card declined`",
                "chronic · `test_a` fails for 9 nights",
                "untrack `x.pyc`",
                "`README.md:3` links to `gone.md`",
            ]
        );
    }
}
