//! The unit's summary, actions, digest for reflection and report section.

use std::fmt::Write as _;
use std::path::Path;

use super::data::{CleanupData, Removal};
use super::{RENDER_LIMIT, TEXT_LIMIT};
use crate::step::Listed;
use crate::text::{capitalise, code, human_bytes, plural};

/// The markdown of one project's cleanup, under the project's heading.
#[expect(
    clippy::too_many_lines,
    reason = "the report section's parts in the order they are read"
)]
pub(super) fn render(data: &CleanupData, out: &mut String) {
    let artifacts = &data.artifacts;
    let totals = &artifacts.totals;
    let dry = if data.dry_run { " (dry run)" } else { "" };
    if totals.artifacts == 0 {
        let _ = writeln!(out, "No build artifacts to remove{dry}.");
    } else {
        let verb = match artifacts.removal {
            Removal::Removed => "Removed",
            Removal::WouldRemove => "Would remove",
            Removal::Kept => "Found, but did not remove,",
        };
        let _ = writeln!(
            out,
            "{verb} {}{dry}: {}, {}.",
            plural(totals.artifacts, "build artifact", "build artifacts"),
            plural(totals.files, "file", "files"),
            human_bytes(totals.bytes)
        );
        for artifact in artifacts.items.items.iter().take(RENDER_LIMIT) {
            let slash = if artifact.dir { "/" } else { "" };
            let _ = writeln!(
                out,
                "- {} ({}, {})",
                code(&format!("{}{slash}", artifact.path)),
                plural(artifact.files, "file", "files"),
                human_bytes(artifact.bytes)
            );
        }
        more_line(out, artifacts.items.total, RENDER_LIMIT);
    }
    if artifacts.removal == Removal::Kept && totals.artifacts > 0 {
        out.push_str(
            "\nNothing was removed: what git tracks could not be known (see the warnings).\n",
        );
    }
    if artifacts.failed.total > 0 {
        let _ = writeln!(
            out,
            "\nCould not remove {}:",
            plural(artifacts.failed.total, "artifact", "artifacts")
        );
        for failure in artifacts.failed.items.iter().take(RENDER_LIMIT) {
            let _ = writeln!(out, "- {}: {}", code(&failure.path), failure.error);
        }
        more_line(out, artifacts.failed.total, RENDER_LIMIT);
    }
    if artifacts.tracked.total > 0 {
        let _ = writeln!(
            out,
            "\nKept because git tracks them: {}.",
            paths(&artifacts.tracked)
        );
    }
    if artifacts.symlinks.total > 0 {
        let _ = writeln!(
            out,
            "\nLeft alone because they are symbolic links (not followed): {}.",
            paths(&artifacts.symlinks)
        );
    }
    for note in &data.notes {
        let _ = writeln!(out, "\n_{}_", capitalise(note));
    }

    let legacy = &data.legacy;
    let deprecated_total: usize = legacy.deprecated.iter().map(|d| d.uses.total).sum();
    let _ = write!(
        out,
        "\nLegacy-code signals in {}",
        plural(legacy.files_scanned, "source file", "source files")
    );
    let skipped = legacy.skipped_large + legacy.skipped_binary;
    if skipped > 0 {
        let _ = write!(out, " ({skipped} skipped: larger than 1 MiB or binary)");
    }
    if legacy.commented_out.total + legacy.markers.total + deprecated_total == 0 {
        out.push_str(": none found.\n");
        return;
    }
    out.push_str(":\n");
    if legacy.commented_out.total > 0 {
        let _ = writeln!(
            out,
            "- commented-out code: {}",
            plural(legacy.commented_out.total, "block", "blocks")
        );
        places(out, &legacy.commented_out, |block| {
            let at = format!("{}:{}-{}", block.path, block.start, block.end);
            (at, &block.preview)
        });
    }
    if legacy.markers.total > 0 {
        let counts: Vec<String> = legacy
            .marker_counts
            .iter()
            .map(|(marker, n)| format!("{marker} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "- TODO/FIXME/XXX: {} ({})",
            legacy.markers.total,
            counts.join(", ")
        );
        places(out, &legacy.markers, |marker| {
            (format!("{}:{}", marker.path, marker.line), &marker.text)
        });
    }
    for deprecated in legacy.deprecated.iter().filter(|d| d.uses.total > 0) {
        let _ = writeln!(
            out,
            "- deprecated pattern {}: {}",
            code(&deprecated.pattern),
            plural(deprecated.uses.total, "use", "uses")
        );
        places(out, &deprecated.uses, |used| {
            (format!("{}:{}", used.path, used.line), &used.text)
        });
    }
}

pub(super) fn more_line(out: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(out, "- and {} more", total - shown);
    }
}

/// The first places of a legacy signal, each `where` and the text there, `and N more`.
fn places<T, const LIMIT: usize>(
    out: &mut String,
    list: &Listed<T, LIMIT>,
    place: impl Fn(&T) -> (String, &String),
) {
    for item in list.items.iter().take(RENDER_LIMIT) {
        let (at, text) = place(item);
        let _ = writeln!(out, "  - {} {}", code(&at), code(text));
    }
    more_line_indented(out, list.total, RENDER_LIMIT);
}

pub(super) fn more_line_indented(out: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(out, "  - and {} more", total - shown);
    }
}

/// The first paths of `list` as code, `and N more`.
fn paths<const LIMIT: usize>(list: &Listed<String, LIMIT>) -> String {
    let shown: Vec<String> = list
        .items
        .iter()
        .take(RENDER_LIMIT)
        .map(|p| code(p))
        .collect();
    with_more(&shown, list.total)
}

/// `a, b, c and N more` (the items are the first of `total`).
pub(super) fn with_more(shown: &[String], total: usize) -> String {
    let mut text = shown.join(", ");
    if total > shown.len() {
        let _ = write!(text, " and {} more", total - shown.len());
    }
    text
}

/// A path relative to the project directory, for messages and the data.
pub(super) fn show(rel: &Path) -> String {
    rel.to_string_lossy().into_owned()
}

pub(super) fn show_dir(rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        show(rel)
    }
}

/// The first [`TEXT_LIMIT`] characters of `text`, with `...` when cut.
pub(super) fn clip(text: &str) -> String {
    match text.char_indices().nth(TEXT_LIMIT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}
