//! The unit output and the report section.

use std::fmt::Write as _;

use super::data::{Candidate, FixData, FixStatus, Verdict};
use super::pull::usd;
use crate::redact::redact;
use crate::step::{Output, Warnings};
use crate::text::squeeze;

pub(super) fn output(data: FixData, warnings: &mut Warnings) -> Output<FixData> {
    let count = |s: FixStatus| data.candidates.iter().filter(|c| c.status == s).count();
    let opened = count(FixStatus::PrOpened);
    let would = count(FixStatus::WouldFix);
    let failed = data.candidates.iter().filter(|c| c.status.failed()).count();
    let skipped = count(FixStatus::Skipped);
    let not = count(FixStatus::NotCandidate);
    let spent: f64 = data.candidates.iter().map(|c| c.cost_usd).sum();
    let mut parts = Vec::new();
    if opened > 0 {
        parts.push(format!("{opened} PR(s) opened"));
    }
    if would > 0 {
        let most = data.most_usd.unwrap_or(0.0);
        parts.push(format!(
            "{would} fix(es) would be attempted (at most ${most:.2})"
        ));
    }
    if failed > 0 {
        parts.push(format!("{failed} attempt(s) failed"));
    }
    if skipped > 0 {
        parts.push(format!("{skipped} skipped"));
    }
    if not > 0 {
        parts.push(format!("{not} not candidates"));
    }
    let still = data
        .followups
        .iter()
        .filter(|f| f.verdict == Verdict::StillHappening)
        .count();
    if still > 0 {
        parts.push(format!(
            "{still} Sentry error(s) still happening after their fix merged"
        ));
    }
    let mut summary = parts.join(", ");
    if spent > 0.0 {
        let _ = write!(summary, "; ${spent:.2} spent");
    }
    let mut actions: Vec<String> = data
        .candidates
        .iter()
        .filter_map(|c| {
            Some(format!(
                "Review the {} {}: {}",
                if c.sentry.is_some() {
                    "fix"
                } else {
                    "draft fix"
                },
                c.pr_url.as_ref()?,
                squeeze(&c.summary, 100)
            ))
        })
        .collect();
    for f in data
        .followups
        .iter()
        .filter(|f| f.verdict == Verdict::StillHappening)
    {
        actions.push(format!(
            "Sentry {} is still happening: {} event(s) since its fix {} merged{}",
            f.short_id,
            f.events_since,
            f.pr_url,
            f.merged_at
                .map_or(String::new(), |m| format!(" on {}", m.format("%Y-%m-%d")))
        ));
    }
    Output {
        summary,
        data,
        actions,
        warnings: std::mem::take(warnings).finish(),
    }
}

pub(super) fn render(data: &FixData, out: &mut String) {
    let (incidents, others): (Vec<&Candidate>, Vec<&Candidate>) =
        data.candidates.iter().partition(|c| c.sentry.is_some());
    for c in others {
        let _ = writeln!(
            out,
            "- **{}** · confidence {:.2} · `{}`",
            squeeze(&redact(&c.summary), 120),
            c.confidence,
            c.fingerprint
        );
        outcome(c, "draft PR", out);
    }
    if !incidents.is_empty() {
        incidents_section(&incidents, out);
    }
    if !data.followups.is_empty() {
        out.push_str("\n**Earlier Sentry fixes:**\n\n");
        for f in &data.followups {
            let merged = f
                .merged_at
                .map_or(String::new(), |m| m.format("%Y-%m-%d").to_string());
            let _ = writeln!(
                out,
                "- {}: {} ({})",
                f.short_id,
                match f.verdict {
                    Verdict::Open => "PR open, not merged yet".to_owned(),
                    Verdict::Closed => "PR closed without merging: a human's no".to_owned(),
                    Verdict::Stopped => format!("stopped since the fix merged on {merged}"),
                    Verdict::StillHappening => format!(
                        "still happening: {} event(s) since the fix merged on {merged}",
                        f.events_since
                    ),
                },
                f.pr_url
            );
        }
    }
    if let Some(most) = data.most_usd {
        let _ = writeln!(
            out,
            "\n_Dry run: at most ${most:.2} would be spent on fixes. `daydream ignore add <fingerprint>` keeps auto-fix away from a bug._"
        );
    }
}

/// Production errors (Sentry P0/P1): how many by severity, each with its reproduction, its test and its PR.
fn incidents_section(incidents: &[&Candidate], out: &mut String) {
    let count = |severity: &str| {
        incidents
            .iter()
            .filter(|c| c.sentry.as_ref().is_some_and(|s| s.severity == severity))
            .count()
    };
    let reproduced = incidents
        .iter()
        .filter(|c| c.sentry.as_ref().and_then(|s| s.reproduced) == Some(true))
        .count();
    let tried = incidents
        .iter()
        .filter(|c| c.sentry.as_ref().and_then(|s| s.reproduced).is_some())
        .count();
    let _ = writeln!(
        out,
        "\n**Production errors:** {} P0, {} P1; {reproduced} of {tried} reproduced by a test.\n",
        count("P0"),
        count("P1")
    );
    for c in incidents {
        let Some(issue) = &c.sentry else { continue };
        let link = issue.permalink.as_ref().map_or_else(
            || issue.short_id.clone(),
            |url| format!("[{}]({url})", issue.short_id),
        );
        let _ = writeln!(
            out,
            "- **{link}** {} · {} · {} events, {} users in 24 h",
            squeeze(&redact(&issue.title), 100),
            issue.severity,
            issue.events_24h,
            issue.users
        );
        if let Some(test) = &issue.test {
            let _ = writeln!(
                out,
                "  - test `{test}`: {}",
                if issue.reproduced == Some(true) {
                    "reproduced the error"
                } else {
                    "did not reproduce it"
                }
            );
        }
        outcome(c, "PR", out);
    }
}

/// The candidate's PR, or its status and why.
fn outcome(c: &Candidate, pr: &str, out: &mut String) {
    match (&c.status, &c.pr_url) {
        (FixStatus::PrOpened, Some(url)) => {
            let _ = write!(out, "  - {pr}: {url}");
            if let Some(diff) = &c.diff {
                let _ = write!(
                    out,
                    " ({} file(s), {} line(s); tests passed",
                    diff.files.len(),
                    diff.lines
                );
                let _ = write!(out, "; {})", usd(c.cost_usd));
            }
            out.push('\n');
        }
        (status, _) => {
            let _ = write!(out, "  - {}: {}", status.label(), redact(&c.reason));
            if c.cost_usd > 0.0 {
                let _ = write!(out, " ({})", usd(c.cost_usd));
            }
            out.push('\n');
        }
    }
}
