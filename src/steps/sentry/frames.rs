//! In-app stack frames of an event, mapped to files of the project's working directory.

use std::path::Path;

use super::FRAMES_KEPT;
use super::findings::{Frame, clip};
use crate::sentry::{ApiEvent, ApiFrame};

/// Tags of an event kept in its context, at most.
const TAGS_KEPT: usize = 12;

/// The event's request (`POST https://host/path`, the query left out) and tags (`key=value`), with secrets
/// redacted and personal data masked: the context a reproducing test gets.
pub(super) fn context_of(event: &ApiEvent) -> Vec<String> {
    let clean = |text: &str| clip(&crate::redact::mask_pii(&crate::redact::redact(text)));
    let mut context = Vec::new();
    for entry in event.entries.iter().filter(|e| e.kind == "request") {
        let method = entry
            .data
            .get("method")
            .and_then(|v| v.as_str())
            .unwrap_or("GET");
        if let Some(url) = entry.data.get("url").and_then(|v| v.as_str()) {
            let url = url.split(['?', '#']).next().unwrap_or(url);
            context.push(format!("request: {method} {}", clean(url)));
        }
    }
    let tags: Vec<String> = event
        .tags
        .iter()
        .filter(|t| !t.key.is_empty())
        .take(TAGS_KEPT)
        .map(|t| clean(&format!("{}={}", t.key, t.value)))
        .collect();
    if !tags.is_empty() {
        context.push(format!("tags: {}", tags.join(", ")));
    }
    context
}

/// The latest event's in-app frames, innermost first, each mapped to a file under `dir`.
pub(super) fn frames_of(event: &ApiEvent, dir: &Path) -> Vec<Frame> {
    let mut stacks: Vec<Vec<ApiFrame>> = Vec::new();
    for entry in &event.entries {
        match entry.kind.as_str() {
            // Chained exceptions come oldest first; the one raised last is where the event ended.
            "exception" => {
                let values = entry
                    .data
                    .get("values")
                    .and_then(|v| v.as_array())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for value in values.iter().rev() {
                    stacks.push(frames_at(value.get("stacktrace")));
                }
            }
            "stacktrace" => stacks.push(frames_at(Some(&entry.data))),
            _ => {}
        }
    }
    let mut frames: Vec<Frame> = Vec::new();
    // Frames come outermost first: the last is where it happened.
    for frame in stacks.iter().flat_map(|s| s.iter().rev()) {
        if frames.len() == FRAMES_KEPT {
            break;
        }
        if frame.in_app != Some(true) {
            continue;
        }
        let Some((path, missing)) =
            map_file(dir, frame.filename.as_deref(), frame.abs_path.as_deref())
        else {
            continue;
        };
        let mapped = Frame {
            path,
            line: frame.line_no,
            function: frame
                .function
                .as_deref()
                .map(clip)
                .filter(|f| !f.is_empty()),
            missing,
        };
        if !frames
            .iter()
            .any(|f| f.path == mapped.path && f.line == mapped.line)
        {
            frames.push(mapped);
        }
    }
    frames
}

pub(super) fn frames_at(stacktrace: Option<&serde_json::Value>) -> Vec<ApiFrame> {
    stacktrace
        .and_then(|s| s.get("frames"))
        .and_then(|f| serde_json::from_value::<Vec<Option<ApiFrame>>>(f.clone()).ok())
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// The file a frame points to, relative to `dir`, and whether it is missing there. Tries the frame's `filename`
/// then its `absPath`, each as written and then without leading folders (a deploy path such as `/srv/app/`, a
/// URL's host, `webpack:///./`), longest first; no candidate leaves `dir`. Without a match, the cleaned
/// `filename` (or `absPath`) is shown as missing.
pub(super) fn map_file(
    dir: &Path,
    filename: Option<&str>,
    abs_path: Option<&str>,
) -> Option<(String, bool)> {
    let candidates: Vec<Vec<String>> = [filename, abs_path]
        .into_iter()
        .flatten()
        .map(components)
        .filter(|c| !c.is_empty())
        .collect();
    for parts in &candidates {
        for start in 0..parts.len() {
            let rel = parts[start..].join("/");
            if dir.join(&rel).is_file() {
                return Some((rel, false));
            }
        }
    }
    candidates.first().map(|parts| (parts.join("/"), true))
}

/// The path components of a frame's file name or URL: no scheme or host, no `.`, `..`, drive or empty parts.
pub(super) fn components(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    let path = match raw.split_once("://") {
        Some((scheme, rest)) => {
            let rest = rest.split(['?', '#']).next().unwrap_or_default();
            if matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
                rest.split_once('/').map_or("", |(_, path)| path)
            } else {
                rest
            }
        }
        None => raw,
    };
    path.split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != "." && *p != ".." && *p != "~" && !p.ends_with(':'))
        .map(str::to_owned)
        .collect()
}
