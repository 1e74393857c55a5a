//! The Sentry storm guard.

use super::data::Candidate;
use crate::step::UnitCx;
use crate::steps::sentry::{IssueRow, SentryData};
use crate::text::squeeze;

/// Today's Sentry findings of the project, when the sentry step has them.
pub(super) fn sentry_data(cx: &UnitCx<'_>, slug: &str) -> Option<SentryData> {
    let output = cx.state.unit("sentry", slug)?.output.as_ref()?;
    output.read().ok()
}

/// Why a candidate may not be fixed because of a Sentry error storm: it names a Sentry issue marked as part
/// of the storm (by id, short id or title), or it draws on Sentry while the project is in a storm. A storm is
/// infrastructure more often than code: a human's call, never auto-fix's.
pub(super) fn storm_guard(sentry: Option<&SentryData>, c: &Candidate) -> Option<String> {
    let data = sentry?;
    let mut text = format!("{}\n{}\n{}", c.summary, c.pattern, c.prevention);
    for e in &c.evidence {
        text.push('\n');
        text.push_str(e);
    }
    let text = text.to_lowercase();
    let names = |issue: &IssueRow| {
        let title = issue.title.to_lowercase();
        text.contains(&issue.id)
            || issue
                .short_id
                .as_ref()
                .is_some_and(|s| text.contains(&s.to_lowercase()))
            || (title.chars().count() >= 12 && text.contains(&title))
    };
    if let Some(issue) = data
        .issues
        .iter()
        .find(|i| (i.not_for_autofix || i.storm || data.storm.is_some()) && names(i))
    {
        return Some(format!(
            "it comes from the Sentry issue `{}` ({}), part of an error storm: a human's call, never auto-fixed",
            issue.short_id.as_deref().unwrap_or(&issue.id),
            squeeze(&issue.title, 80)
        ));
    }
    if let Some(storm) = &data.storm
        && text.contains("sentry")
    {
        return Some(format!(
            "the project is in a Sentry error storm ({} events in the hour from {} UTC): fixes drawn from \
             Sentry wait for a human",
            storm.events,
            storm.hour.format("%Y-%m-%d %H:%M")
        ));
    }
    None
}
