//! How a project's sessions read: the one-line summary, the actions, the report section and the digest for
//! reflection. Counts and the redacted names of commands, tests and files only: never a prompt or an output.

use std::fmt::Write as _;

use super::data::{Friction, Kind, Loop, SessionsData};
use crate::step::{Output, Reason};
use crate::text::{code, plural, squeeze, thousands};

/// Loops that become actions, at most.
const ACTIONS_MAX: usize = 2;
/// Rows of each list in the report and in the digest.
const ROWS: usize = 10;
const DIGEST_ROWS: usize = 5;

pub(super) fn output(data: SessionsData, warnings: Vec<String>) -> Output<SessionsData> {
    let actions = data
        .loops
        .iter()
        .take(ACTIONS_MAX)
        .map(|l| {
            Reason::Thrash.tag(&format!(
                "Claude Code went round in circles: {}",
                describe_loop(l)
            ))
        })
        .collect();
    Output {
        summary: summary(&data),
        data,
        actions,
        warnings,
    }
}

pub(super) fn summary(data: &SessionsData) -> String {
    if data.sessions == 0 {
        return "no Claude Code sessions in this project".to_owned();
    }
    format!(
        "{}, {} active: {}, {}, {}",
        plural(data.sessions, "session", "sessions"),
        minutes(data.active_minutes),
        plural(data.tool_errors, "tool error", "tool errors"),
        plural(data.thrash_loops, "thrash loop", "thrash loops"),
        plural(data.corrections, "correction", "corrections"),
    )
}

/// `12.5 min`, or under a minute.
fn minutes(m: f64) -> String {
    if m < 1.0 {
        "under a minute".to_owned()
    } else {
        format!("{m} min")
    }
}

/// `command `pytest -q` failed 4 times in a row (tests ...; edited ...)`.
fn describe_loop(l: &Loop) -> String {
    let what = match l.kind {
        Kind::Command | Kind::Test => format!(
            "{} {} failed {} times in a row",
            l.kind.label(),
            code(&l.name),
            l.times
        ),
        Kind::File => format!(
            "{} edited and a run failing after it, {} times in a row",
            code(&l.name),
            l.times
        ),
    };
    let mut more = Vec::new();
    if !l.tests.is_empty() {
        more.push(format!("failing {}", names(&l.tests)));
    }
    if !l.files.is_empty() {
        more.push(format!("edited {}", names(&l.files)));
    }
    if more.is_empty() {
        what
    } else {
        format!("{what} ({})", more.join("; "))
    }
}

fn names(list: &[String]) -> String {
    let mut shown: Vec<String> = list.iter().take(3).map(|n| code(n)).collect();
    if list.len() > 3 {
        shown.push(format!("{} more", list.len() - 3));
    }
    shown.join(", ")
}

/// A code span in a table cell: tables split on `|` even inside code spans.
fn cell(text: &str) -> String {
    code(text).replace('|', "\\|")
}

/// The report section of one project's sessions.
pub(crate) fn render(data: &SessionsData, out: &mut String) {
    if data.sessions == 0 {
        let _ = writeln!(
            out,
            "No Claude Code sessions in this project yesterday ({} read, {} older skipped).\n",
            plural(data.files.read, "transcript", "transcripts"),
            thousands(data.files.skipped_old)
        );
        return;
    }
    let errors = plural(data.tool_errors, "failed", "failed");
    let errors = if data.tool_errors > 0 {
        format!("**{errors}**")
    } else {
        errors
    };
    let loops = plural(data.thrash_loops, "thrash loop", "thrash loops");
    let loops = if data.thrash_loops > 0 {
        format!("**{loops}**")
    } else {
        loops
    };
    let _ = writeln!(
        out,
        "**{}**, {} active: {}, {} ({errors}), {loops}, {}, {}.\n",
        plural(data.sessions, "session", "sessions"),
        minutes(data.active_minutes),
        plural(data.user_turns, "user turn", "user turns"),
        plural(data.tool_calls, "tool call", "tool calls"),
        plural(data.interruptions, "interruption", "interruptions"),
        plural(data.corrections, "correction", "corrections"),
    );
    let t = &data.tokens;
    let _ = write!(
        out,
        "Tokens: {} ({} input, {} output, {} cache write, {} cache read), about ${:.2} at list prices",
        thousands(t.total()),
        thousands(t.input),
        thousands(t.output),
        thousands(t.cache_creation),
        thousands(t.cache_read),
        data.cost_usd
    );
    if !data.unpriced_models.is_empty() {
        let models: Vec<String> = data.unpriced_models.iter().map(|m| code(m)).collect();
        let _ = write!(out, " (not priced: {})", models.join(", "));
    }
    out.push_str(".\n\n");
    if !data.loops.is_empty() {
        out.push_str("Thrash loops (the same failure 3 or more times in a row):\n\n");
        for l in data.loops.iter().take(ROWS) {
            let _ = writeln!(out, "- {}", describe_loop(l));
        }
        out.push('\n');
    }
    tables(data, out);
}

/// The tool calls and errors by tool, the friction, and the tokens by model when there are several.
fn tables(data: &SessionsData, out: &mut String) {
    if !data.tool_calls_by_tool.is_empty() {
        let mut tools: Vec<(&String, &u64)> = data.tool_calls_by_tool.iter().collect();
        tools.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        out.push_str("| tool | calls | errors |\n| --- | ---: | ---: |\n");
        for (tool, calls) in tools.iter().take(ROWS) {
            let errors = data.tool_errors_by_tool.get(*tool).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(tool),
                thousands(**calls),
                thousands(errors)
            );
        }
        out.push('\n');
    }
    if !data.top_friction.is_empty() {
        out.push_str(
            "Friction:\n\n| kind | name | failures | loops |\n| --- | --- | ---: | ---: |\n",
        );
        for f in data.top_friction.iter().take(ROWS) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                f.kind.label(),
                cell(&f.name),
                thousands(f.failures),
                thousands(f.loops)
            );
        }
        out.push('\n');
    }
    if data.tokens_by_model.len() > 1 {
        out.push_str("| model | input | output | cache write | cache read |\n| --- | ---: | ---: | ---: | ---: |\n");
        for (model, t) in &data.tokens_by_model {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(model),
                thousands(t.input),
                thousands(t.output),
                thousands(t.cache_creation),
                thousands(t.cache_read)
            );
        }
        out.push('\n');
    }
}

/// What reflection reads: the repeated failures with counts, the tool errors by tool, the corrections. Names
/// only, shortened; the reflection prompt fences it as untrusted.
pub(super) fn digest(data: &SessionsData) -> Option<String> {
    if data.tool_errors + data.thrash_loops + data.corrections + data.interruptions == 0 {
        return None;
    }
    let mut out = format!("Claude Code sessions: {}", summary(data));
    for l in data.loops.iter().take(DIGEST_ROWS) {
        let _ = write!(out, "\n- thrash loop: {}", squeeze(&describe_loop(l), 300));
    }
    for Friction {
        kind,
        name,
        failures,
        loops,
    } in data.top_friction.iter().take(DIGEST_ROWS)
    {
        let _ = write!(
            out,
            "\n- {} {} failed {}, in {}",
            kind.label(),
            code(&squeeze(name, 120)),
            plural(*failures, "time", "times"),
            plural(*loops, "loop", "loops")
        );
    }
    if !data.tool_errors_by_tool.is_empty() {
        let errors: Vec<String> = data
            .tool_errors_by_tool
            .iter()
            .take(DIGEST_ROWS * 2)
            .map(|(tool, n)| format!("{tool} {n}"))
            .collect();
        let _ = write!(out, "\n- tool errors by tool: {}", errors.join(", "));
    }
    let _ = write!(
        out,
        "\n- the user corrected the model {} and interrupted it {}",
        plural(data.corrections, "time", "times"),
        plural(data.interruptions, "time", "times")
    );
    Some(out)
}
