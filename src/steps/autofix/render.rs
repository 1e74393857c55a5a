//! The unit output and the report section.

use std::fmt::Write as _;

use super::data::{FixData, FixStatus};
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
        parts.push(format!("{opened} draft PR(s) opened"));
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
        parts.push(format!("{not} reflection(s) not candidates"));
    }
    let mut summary = parts.join(", ");
    if spent > 0.0 {
        let _ = write!(summary, "; ${spent:.2} spent");
    }
    let actions = data
        .candidates
        .iter()
        .filter_map(|c| {
            Some(format!(
                "Review the draft fix {}: {}",
                c.pr_url.as_ref()?,
                squeeze(&c.summary, 100)
            ))
        })
        .collect();
    Output {
        summary,
        data,
        actions,
        warnings: std::mem::take(warnings).finish(),
    }
}

pub(super) fn render(data: &FixData, out: &mut String) {
    for c in &data.candidates {
        let _ = writeln!(
            out,
            "- **{}** · confidence {:.2} · `{}`",
            squeeze(&redact(&c.summary), 120),
            c.confidence,
            c.fingerprint
        );
        match (&c.status, &c.pr_url) {
            (FixStatus::PrOpened, Some(url)) => {
                let _ = write!(out, "  - draft PR: {url}");
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
    if let Some(most) = data.most_usd {
        let _ = writeln!(
            out,
            "\n_Dry run: at most ${most:.2} would be spent on fixes. `daydream ignore add <fingerprint>` keeps auto-fix away from a bug._"
        );
    }
}
