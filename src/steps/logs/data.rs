//! What the step stores in the state: the data of its output, rendered later from the state alone.

use serde::{Deserialize, Serialize};

use crate::logmine::history::Changes;

/// The `data` of a done `logs` unit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct LogsData {
    pub(crate) globs: Vec<String>,
    /// Lines of the window (records and their continuation lines).
    pub(crate) lines: u64,
    /// Log records of the window: timestamped lines, lines of files without timestamps, and exceptions printed
    /// after a line that was not an error.
    pub(crate) records: u64,
    /// Error records (ERROR, CRITICAL, FATAL, ...).
    pub(crate) errors: u64,
    pub(crate) warnings: u64,
    /// Distinct templates (the overflow bucket counts as one).
    pub(crate) templates: u64,
    /// Templates with errors or warnings.
    pub(crate) notable_templates: u64,
    /// Records counted in the overflow bucket once [`MAX_TEMPLATES`] were reached.
    #[serde(default)]
    pub(crate) overflow: u64,
    /// Templates with errors or warnings, most errors first.
    #[serde(default)]
    pub(crate) top: Vec<TemplateRow>,
    /// The most frequent templates of any level.
    #[serde(default)]
    pub(crate) busiest: Vec<TemplateRow>,
    #[serde(default)]
    pub(crate) files: Vec<FileRow>,
    #[serde(default)]
    pub(crate) rotation: Vec<Rotation>,
    /// What changed against the project's template history: new, spiking and stopped templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) history: Option<Changes>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TemplateRow {
    pub(crate) template: String,
    pub(crate) count: u64,
    pub(crate) errors: u64,
    pub(crate) warnings: u64,
    /// Local `HH:MM` of the first and last record.
    pub(crate) first: String,
    pub(crate) last: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) example: Option<Example>,
    /// The innermost frame of the example's trace in the project's own code, `path:line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) own_frame: Option<String>,
}

/// The first record of a template in the window, redacted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Example {
    pub(crate) file: String,
    /// The log line itself; empty for an exception printed on its own (its lines are all in `trace`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) line: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) trace: Vec<String>,
    /// Lines of the trace left out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) omitted: u32,
    /// The final exception line (or last `Caused by:`) when it was among the lines left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last: Option<String>,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
pub(super) fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One file read (or not).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileRow {
    pub(crate) path: String,
    pub(crate) bytes: u64,
    /// Modification time, Unix seconds.
    pub(crate) modified: i64,
    /// Lines read, and those in the window.
    pub(crate) lines: u64,
    pub(crate) in_window: u64,
    pub(crate) errors: u64,
    pub(crate) warnings: u64,
    /// Lines longer than [`MAX_LINE`], of which only the head was read.
    #[serde(default)]
    pub(crate) truncated: u64,
    /// Lines of the window that are not valid UTF-8.
    #[serde(default)]
    pub(crate) invalid_utf8: u64,
    /// Lines before the file's first timestamp, judged by the file's modification time.
    #[serde(default)]
    pub(crate) untimed: u64,
    /// Why the file was not read: `binary`, `missing`, `unreadable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) skipped: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rotation {
    pub(crate) file: String,
    pub(crate) bytes: u64,
    /// Days without a write before the end of the window, when that is the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) idle_days: Option<i64>,
    /// What to do, for a human.
    pub(crate) hint: String,
}
