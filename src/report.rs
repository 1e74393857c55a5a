//! Pure: the day's state to the markdown report. The same state always gives the same file.

use std::fmt::Write as _;

use crate::clock::Window;
use crate::config::Config;
use crate::state::{ALL_PROJECTS, State, Status, Unit};
use crate::step::Step;
use crate::steps;

/// Renders the report of `state`. `config` supplies display names; projects no longer configured show by slug.
pub(crate) fn render(state: &State, config: &Config) -> String {
    let mut out = String::new();
    let name_of = |slug: &str| {
        config
            .projects
            .iter()
            .find(|p| p.slug == slug)
            .map_or_else(|| slug.to_owned(), |p| p.name.clone())
    };
    let shown: Vec<&dyn Step> = steps::ORDER
        .iter()
        .copied()
        .filter(|s| s.name() != "report")
        .collect();
    let units = |step: &dyn Step| {
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
    let all: Vec<&Unit> = shown.iter().flat_map(|s| units(*s)).collect();
    let by = |status: Status| all.iter().filter(|u| u.status == status).count();
    let steps_done = shown
        .iter()
        .filter(|s| {
            state
                .step(s.name())
                .is_some_and(|st| matches!(st.status(), Status::Done | Status::Skipped))
        })
        .count();
    let _ = writeln!(out, "- **Steps done:** {steps_done}/{}", shown.len());
    let _ = writeln!(
        out,
        "- **Units:** {} done, {} failed, {} skipped, {} not finished",
        by(Status::Done),
        by(Status::Failed),
        by(Status::Skipped),
        by(Status::Pending) + by(Status::Running) + by(Status::Interrupted)
    );
    let total_ms: u64 = all.iter().filter_map(|u| u.duration_ms).sum();
    let _ = writeln!(out, "- **Duration:** {}", duration(total_ms));
    let window = Window::previous_day(state.date);
    let _ = writeln!(
        out,
        "- **Logs reviewed:** {} 00:00 to {} 00:00 local time",
        state.date.pred_opt().unwrap_or(state.date),
        state.date
    );
    let _ = window;

    // One row per project, one column per step.
    let mut projects: Vec<&str> = Vec::new();
    for unit in &all {
        if unit.project != ALL_PROJECTS && !projects.contains(&unit.project.as_str()) {
            projects.push(&unit.project);
        }
    }
    if !projects.is_empty() {
        out.push_str("\n| Project |");
        for step in &shown {
            let _ = write!(out, " {} |", step.name());
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(shown.len()));
        out.push('\n');
        for slug in &projects {
            let _ = write!(out, "| {} |", cell(&name_of(slug)));
            for step in &shown {
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
    let mut actions = Vec::new();
    for step in &shown {
        for unit in units(*step) {
            let who = name_of(&unit.project);
            match unit.status {
                Status::Failed => actions.push(format!(
                    "**{who}** · `{}` failed after {} attempt(s): {}",
                    step.name(),
                    unit.attempts,
                    one_line(unit.last_error.as_deref().unwrap_or("no error recorded"))
                )),
                Status::Interrupted | Status::Running => actions.push(format!(
                    "**{who}** · `{}` did not finish; the next run today does it again",
                    step.name()
                )),
                _ => {}
            }
            if let Some(output) = unit.output.as_ref().filter(|_| unit.status == Status::Done) {
                actions.extend(output.actions.iter().map(|a| format!("**{who}** · {a}")));
            }
        }
    }
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
            match (unit.status, &unit.output) {
                (Status::Done, Some(output)) => {
                    let _ = writeln!(out, "_{}_\n", one_line(&output.summary));
                    let before = out.len();
                    step.render(output, &mut out);
                    if out.len() > before && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    if !output.warnings.is_empty() {
                        out.push_str("\n**Warnings**\n\n");
                        for warning in &output.warnings {
                            let _ = writeln!(out, "- {}", one_line(warning));
                        }
                    }
                }
                (Status::Skipped, _) => {
                    let _ = writeln!(
                        out,
                        "_Skipped: {}._",
                        unit.reason
                            .as_deref()
                            .unwrap_or("no reason recorded")
                            .trim_end_matches('.')
                    );
                }
                (Status::Failed, _) => {
                    let _ = writeln!(
                        out,
                        "**Failed** after {} attempt(s): {}",
                        unit.attempts,
                        one_line(unit.last_error.as_deref().unwrap_or("no error recorded"))
                    );
                }
                (status, _) => {
                    let _ = writeln!(out, "_{}._", capitalise(status.as_str()));
                }
            }
            out.push('\n');
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
    }

    let updated = all.iter().filter_map(|u| u.finished_at).max();
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

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Text for a table cell: no pipes or newlines.
pub(crate) fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// The first line of `text`, bounded, so an error with a long stderr does not swamp the report.
pub(crate) fn one_line(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    let more = text.trim().lines().count() > 1;
    let mut line: String = first.chars().take(300).collect();
    if more || first.chars().count() > 300 {
        line.push_str(" …");
    }
    line
}

pub(crate) fn duration(ms: u64) -> String {
    #[expect(
        clippy::cast_precision_loss,
        reason = "durations are far below 2^52 ms"
    )]
    let secs = ms as f64 / 1000.0;
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        format!("{}m {:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}
