//! The unit's output: summary, actions, the digest for reflection and the report section.

use std::fmt::Write as _;

use super::data::{FileRow, LogsData, TemplateRow};
use super::rank;
use super::{ACTIONS_MAX, EXAMPLES_SHOWN, FILES_SHOWN, TABLE_ROWS};
use crate::logmine::history::{self, Changes};
use crate::logmine::level::Level;
use crate::redact::redact;
use crate::step::Output;
use crate::text::{code, human_bytes, longest_run, thousands};

/// The unit's output: a one-line summary, the data, actions for the errors that matter (see `rank`) and rotation.
pub(crate) fn output(data: LogsData, warnings: Vec<String>) -> Output<LogsData> {
    let mut actions = rank::actions(&data);
    for r in data.rotation.iter().take(ACTIONS_MAX) {
        actions.push(r.hint.clone());
    }
    if data.rotation.len() > ACTIONS_MAX {
        actions.push(format!(
            "{} more log files to rotate or clean up (see Log Review)",
            data.rotation.len() - ACTIONS_MAX
        ));
    }
    Output {
        summary: summary(&data),
        data,
        actions,
        warnings,
    }
}

pub(super) fn summary(data: &LogsData) -> String {
    if data.files.is_empty() {
        return format!("no log files match {}", data.globs.join(", "));
    }
    let head = format!(
        "{} in {}",
        plural(data.lines, "line"),
        plural(data.files.len() as u64, "file")
    );
    if data.errors + data.warnings == 0 {
        return format!("{head}: no errors or warnings");
    }
    format!(
        "{head}: {}, {} in {}",
        plural(data.errors, "error"),
        plural(data.warnings, "warning"),
        plural(data.notable_templates, "template")
    )
}

/// New, spiking and stopped templates against the nights before, one example line each.
pub(super) fn render_changes(changes: &Changes, out: &mut String) {
    if changes.first_day {
        out.push_str("_First night of template history for this project: new and spiking templates are flagged from the next night on._\n\n");
        return;
    }
    if changes.new.is_empty() && changes.spiking.is_empty() && changes.stopped.is_empty() {
        out.push_str("Compared with the nights before: nothing new, spiking or stopped.\n\n");
        return;
    }
    let level = |c: &history::Change| match c.severity {
        Level::Error => " (errors)",
        Level::Warning => " (warnings)",
        Level::Other => "",
    };
    let example = |out: &mut String, c: &history::Change| {
        if let Some(e) = &c.example {
            let _ = writeln!(out, "  - e.g. {}", code(&redact(&shorten(e, 200))));
        }
    };
    if !changes.new.is_empty() {
        out.push_str("New since the nights before:\n\n");
        for c in &changes.new {
            let _ = writeln!(
                out,
                "- {} × {}{}",
                code(&redact(&shorten(&c.template, 160))),
                thousands(c.today),
                level(c)
            );
            example(out, c);
        }
        out.push('\n');
    }
    if !changes.spiking.is_empty() {
        out.push_str("Spiking against the 7-night average:\n\n");
        for c in &changes.spiking {
            let _ = writeln!(
                out,
                "- {} × {} (average {:.1}){}",
                code(&redact(&shorten(&c.template, 160))),
                thousands(c.today),
                c.baseline,
                level(c)
            );
            example(out, c);
        }
        out.push('\n');
    }
    if !changes.stopped.is_empty() {
        out.push_str("Errors that stopped appearing:\n\n");
        for c in &changes.stopped {
            let last = c
                .last_seen
                .map_or_else(String::new, |d| format!(", last seen {d}"));
            let _ = writeln!(
                out,
                "- {} (average {:.1} a night{last})",
                code(&redact(&shorten(&c.template, 160))),
                c.baseline
            );
            example(out, c);
        }
        out.push('\n');
    }
}

/// The report body of one project's logs, under its heading.
#[expect(
    clippy::too_many_lines,
    reason = "the report section's parts in the order they are read"
)]
pub(crate) fn render(data: &LogsData, out: &mut String) {
    if data.files.is_empty() {
        let globs: Vec<String> = data.globs.iter().map(|g| code(g)).collect();
        let _ = writeln!(out, "No log files match {}.\n", globs.join(", "));
        return;
    }
    let _ = write!(
        out,
        "**{}** in {} yesterday",
        plural(data.lines, "line"),
        plural(data.files.len() as u64, "file")
    );
    if data.errors + data.warnings == 0 {
        out.push_str(": no errors or warnings");
    } else {
        let errors = plural(data.errors, "error");
        let errors = if data.errors > 0 {
            format!("**{errors}**")
        } else {
            errors
        };
        let _ = write!(
            out,
            ": {errors}, {} in {}",
            plural(data.warnings, "warning"),
            plural(data.notable_templates, "template")
        );
    }
    let _ = writeln!(out, " ({} in all).\n", plural(data.templates, "template"));

    if !data.top.is_empty() {
        out.push_str("| count | errors | warnings | first | last | template |\n| ---: | ---: | ---: | :---: | :---: | --- |\n");
        for t in data.top.iter().take(TABLE_ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                thousands(t.count),
                thousands(t.errors),
                thousands(t.warnings),
                t.first,
                t.last,
                cell(&redact(&shorten(&t.template, 160)))
            );
        }
        let more = data
            .notable_templates
            .saturating_sub(TABLE_ROWS.min(data.top.len()) as u64);
        if more > 0 {
            let noun = if more == 1 { "template" } else { "templates" };
            let _ = writeln!(
                out,
                "\n…and {} more {noun} with errors or warnings.",
                thousands(more)
            );
        }
        out.push('\n');
    } else if !data.busiest.is_empty() {
        let busiest: Vec<String> = data
            .busiest
            .iter()
            .take(3)
            .map(|t| {
                format!(
                    "{} ({})",
                    code(&redact(&shorten(&t.template, 80))),
                    thousands(t.count)
                )
            })
            .collect();
        let _ = writeln!(out, "Most frequent: {}.\n", busiest.join(", "));
    }

    if let Some(changes) = &data.history {
        render_changes(changes, out);
    }

    // A stack trace says the most about what went wrong: templates with one come first.
    let with_example = || data.top.iter().filter(|t| t.example.is_some());
    let traced = |t: &&TemplateRow| t.example.as_ref().is_some_and(|e| !e.trace.is_empty());
    let shown: Vec<&TemplateRow> = with_example()
        .filter(traced)
        .chain(with_example().filter(|t| !traced(t)))
        .take(EXAMPLES_SHOWN)
        .collect();
    for t in shown {
        let Some(example) = &t.example else { continue };
        let what = if t.errors > 0 {
            plural(t.errors, "error")
        } else {
            plural(t.warnings, "warning")
        };
        let _ = writeln!(
            out,
            "{} ({what}, first at {}) in {}:\n",
            code(&redact(&shorten(&t.template, 120))),
            t.first,
            code(&example.file)
        );
        let mut lines: Vec<String> = Vec::new();
        if !example.line.is_empty() {
            lines.push(redact(&example.line).into_owned());
        }
        lines.extend(example.trace.iter().map(|l| redact(l).into_owned()));
        if example.omitted > 0 {
            lines.push(format!(
                "… {} more",
                plural(u64::from(example.omitted), "line")
            ));
        }
        if let Some(last) = &example.last {
            lines.push(redact(last).into_owned());
        }
        let body = lines.join("\n");
        let fence = "`".repeat(longest_run(&body, '`').max(2) + 1);
        let _ = writeln!(out, "{fence}text\n{body}\n{fence}\n");
    }

    let files: Vec<String> = data
        .files
        .iter()
        .take(FILES_SHOWN)
        .map(describe_file)
        .collect();
    let _ = write!(out, "Files: {}", files.join("; "));
    if data.files.len() > FILES_SHOWN {
        let _ = write!(out, "; and {} more", data.files.len() - FILES_SHOWN);
    }
    out.push_str(".\n\n");

    if !data.rotation.is_empty() {
        out.push_str("Rotation:\n");
        for r in &data.rotation {
            let _ = writeln!(out, "- {}", r.hint);
        }
        out.push('\n');
    }
}

pub(super) fn describe_file(row: &FileRow) -> String {
    let name = code(&row.path);
    if let Some(reason) = &row.skipped {
        return format!("{name} skipped ({reason})");
    }
    let lines = if row.in_window == row.lines {
        plural(row.lines, "line")
    } else {
        format!(
            "{} of {} lines",
            thousands(row.in_window),
            thousands(row.lines)
        )
    };
    let mut text = format!("{name} {lines}, {}", human_bytes(row.bytes));
    if row.untimed > 0 && row.untimed == row.lines {
        text.push_str(", no timestamps: judged by its modification time");
    }
    text
}

/// A code span for a table cell: GitHub tables split on `|` even inside code spans unless it is escaped.
pub(super) fn cell(text: &str) -> String {
    code(text).replace('|', "\\|")
}

pub(super) fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max_chars).collect();
    short.push('…');
    short
}

pub(super) fn plural(n: u64, word: &str) -> String {
    format!("{} {word}{}", thousands(n), if n == 1 { "" } else { "s" })
}
