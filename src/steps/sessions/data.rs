//! What the sessions step stores for a project (and `daydream sessions --json` prints): counts, token totals,
//! the thrash loops and the friction. Names of commands, tests and files only, redacted; never a prompt or a tool's
//! output.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One project's Claude Code sessions over the run's window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SessionsData {
    pub(crate) project: String,
    /// The run date D: sessions of D-1 00:00 to D 00:00 local time.
    pub(crate) date: Option<NaiveDate>,
    pub(crate) sessions: u64,
    /// Time between a session's records when the gap is under five minutes, summed over sessions.
    pub(crate) active_minutes: f64,
    pub(crate) user_turns: u64,
    pub(crate) tool_calls: u64,
    pub(crate) tool_calls_by_tool: BTreeMap<String, u64>,
    pub(crate) tool_errors: u64,
    pub(crate) tool_errors_by_tool: BTreeMap<String, u64>,
    pub(crate) thrash_loops: u64,
    /// The loops, longest first (bounded).
    pub(crate) loops: Vec<Loop>,
    pub(crate) interruptions: u64,
    pub(crate) corrections: u64,
    pub(crate) tokens: Tokens,
    pub(crate) tokens_by_model: BTreeMap<String, Tokens>,
    /// Estimated from the price table ([`crate::prices`]); models it does not know are left out and named.
    pub(crate) cost_usd: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) unpriced_models: Vec<String>,
    /// The commands, tests and files of the most failures and loops (bounded).
    pub(crate) top_friction: Vec<Friction>,
    pub(crate) files: FilesRead,
}

/// Tokens as ccusage counts them: each assistant message once (by message id and request id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tokens {
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) cache_creation: u64,
    pub(crate) cache_read: u64,
}

impl Tokens {
    pub(crate) fn add(&mut self, other: Tokens) {
        self.input += other.input;
        self.output += other.output;
        self.cache_creation += other.cache_creation;
        self.cache_read += other.cache_read;
    }

    pub(crate) fn total(&self) -> u64 {
        self.input + self.output + self.cache_creation + self.cache_read
    }
}

/// What a loop repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// The same shell command failing.
    Command,
    /// The same test failing, in whatever command ran it.
    Test,
    /// A file edited, then a run failing, again and again.
    File,
}

impl Kind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Command => "command",
            Kind::Test => "test",
            Kind::File => "file",
        }
    }
}

/// The same failure 3 or more times in a row within a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Loop {
    pub(crate) kind: Kind,
    /// The command, test id or file (relative to the project), redacted and shortened.
    pub(crate) name: String,
    /// Failures in a row.
    pub(crate) times: u32,
    /// Tests that failed and files edited within the loop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) tests: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) files: Vec<String>,
}

/// A command, test or file and how much trouble it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Friction {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    /// Failed runs (for a file: edits followed by a failing run).
    pub(crate) failures: u64,
    /// Loops it was part of.
    pub(crate) loops: u64,
}

/// The transcripts read for the project.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FilesRead {
    /// Files read, and their bytes.
    pub(crate) read: u64,
    pub(crate) bytes: u64,
    /// Files last written before the window, not opened.
    pub(crate) skipped_old: u64,
    /// Lines that could not be read, torn last lines and lines over the size limit.
    pub(crate) bad_lines: u64,
    pub(crate) torn_lines: u64,
    pub(crate) long_lines: u64,
}
