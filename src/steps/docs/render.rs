//! The unit's summary, its actions, the digest for reflection and the report section.

use std::fmt::Write as _;

use super::data::{DocsData, Finding, Kind};
use super::{ACTION_LIMIT, DIGEST_LIMIT, RENDER_LIMIT};
use crate::step::Output;
use crate::text::{capitalise, code, plural};

/// `12 docs: 3 broken links, 1 missing path, 2 unknown env vars`.
pub(super) fn summary(data: &DocsData) -> String {
    let docs = plural(data.docs, "doc", "docs");
    if data.counts.is_empty() {
        return format!("{docs}: nothing stale found");
    }
    let parts: Vec<String> = data
        .counts
        .iter()
        .map(|(kind, n)| format!("{n} {}", kind.noun(*n)))
        .collect();
    format!("{docs}: {}", parts.join(", "))
}

/// `file:line what: fix` for a list.
pub(super) fn line_of(finding: &Finding) -> String {
    format!(
        "{} {}: {}",
        code(&format!("{}:{}", finding.file, finding.line)),
        finding.what,
        finding.fix
    )
}

/// Broken links and gone commands mislead readers: each is an action, up to [`ACTION_LIMIT`].
pub(super) fn actions(data: &DocsData) -> Vec<String> {
    let misleading: Vec<&Finding> = data
        .findings
        .items
        .iter()
        .filter(|f| matches!(f.kind, Kind::BrokenLink | Kind::Command))
        .collect();
    let total: usize = [Kind::BrokenLink, Kind::Command]
        .iter()
        .filter_map(|k| data.counts.get(k))
        .sum();
    let mut actions: Vec<String> = misleading
        .iter()
        .take(ACTION_LIMIT)
        .map(|f| line_of(f))
        .collect();
    if total > actions.len() {
        actions.push(format!(
            "{} more broken links or commands in the docs (see the Docs section)",
            total - actions.len()
        ));
    }
    actions
}

pub(super) fn digest(data: &DocsData, output: &Output) -> Option<String> {
    let mut out = output.summary.clone();
    if data.findings.total == 0 {
        // Nothing stale: only problems met on the way are worth a reflection.
        if output.warnings.is_empty() {
            return None;
        }
        for warning in output.warnings.iter().take(5) {
            out.push_str("\nwarning: ");
            out.push_str(warning);
        }
        return Some(out);
    }
    for finding in data.findings.items.iter().take(DIGEST_LIMIT) {
        let _ = write!(out, "\n- {}", line_of(finding));
    }
    if data.findings.total > DIGEST_LIMIT {
        let _ = write!(out, "\n- and {} more", data.findings.total - DIGEST_LIMIT);
    }
    Some(out)
}

/// The markdown of one project's docs audit, under the project's heading.
pub(super) fn render(data: &DocsData, out: &mut String) {
    let checked = &data.checked;
    let _ = writeln!(
        out,
        "Checked {}: {}, {}, {}, {}.",
        plural(data.docs, "doc", "docs"),
        plural(checked.links, "link", "links"),
        plural(checked.paths, "path", "paths"),
        plural(checked.commands, "command", "commands"),
        plural(checked.env_vars, "variable", "variables"),
    );
    if data.counts.is_empty() {
        out.push_str("Nothing stale found.\n");
    }
    for (kind, total) in &data.counts {
        let _ = writeln!(out, "\n**{}** ({total})", kind.heading());
        let items: Vec<&Finding> = data
            .findings
            .items
            .iter()
            .filter(|f| f.kind == *kind)
            .collect();
        for finding in items.iter().take(RENDER_LIMIT) {
            let _ = writeln!(out, "- {}", line_of(finding));
        }
        if *total > items.len().min(RENDER_LIMIT) {
            let _ = writeln!(out, "- and {} more", total - items.len().min(RENDER_LIMIT));
        }
    }
    for note in &data.notes {
        let _ = writeln!(out, "\n_{}_", capitalise(note));
    }
}
