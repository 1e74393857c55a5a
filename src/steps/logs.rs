//! The `logs` step: the previous day's lines of each project's log files, mined into templates with error and
//! warning counts, stack traces attached to the line they follow, recurring patterns ranked, rotation hints.
//!
//! A line belongs to the day by its own timestamp ([`crate::logmine::timestamp`]); lines before a file's first
//! timestamp (all of a file without any) are judged by the file's modification time. A line without a timestamp
//! after one with a timestamp continues that record (a stack trace, a wrapped message).
//!
//! Files are read as bytes in fixed chunks, lines are cut at [`MAX_LINE`], templates, examples and traces are
//! capped, so memory stays bounded whatever the logs hold. [`Scanner`] checkpoints its byte offset with the whole
//! partial aggregate, so a kill in the middle of a large file resumes there and counts nothing twice.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use chrono::{Local, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::clock::Window;
use crate::config::Project;
use crate::env::Env;
use crate::logmine::history::{self, Changes, DayTemplate, History};
use crate::logmine::level::{self, Level};
use crate::logmine::mask::{MaskMiner, Miner};
use crate::logmine::miner::{ClusterId, TemplateMiner};
use crate::logmine::timestamp::{Stamp, TimestampParser};
use crate::redact::redact;
use crate::step::{Outcome, Output, Step, UnitCx};

/// Input between two checkpoints (`DAYDREAM_TEST_CHECKPOINT_BYTES` overrides it).
const CHECKPOINT_BYTES: u64 = 16 << 20;
/// Bytes read at a time.
const CHUNK: usize = 1 << 20;
/// A longer line keeps its head and is counted as truncated.
const MAX_LINE: usize = 64 << 10;
/// Distinct templates per unit; further ones are counted together in one "other" bucket.
const MAX_TEMPLATES: usize = 5000;
/// Stack trace kept per example.
const TRACE_LINES: usize = 40;
const TRACE_BYTES: usize = 4 << 10;
/// One line of an example or a trace.
const EXAMPLE_LINE: usize = 1024;
/// All examples of a unit together; past it, examples keep their line but not their trace.
const EXAMPLE_BUDGET: usize = 2 << 20;
/// A NUL byte this early makes a file binary.
const BINARY_PROBE: usize = 8 << 10;
/// Rotation hints: a log this large, or untouched this long before the window's end.
const LARGE_FILE: u64 = 10 << 20;
const STALE_DAYS: i64 = 7;
/// Ranked templates kept in the data, and shown in the report.
const TOP_KEPT: usize = 50;
const BUSIEST_KEPT: usize = 5;
const TABLE_ROWS: usize = 10;
const EXAMPLES_SHOWN: usize = 3;
/// Templates and trace lines per project in the reflection digest.
const DIGEST_TEMPLATES: usize = 10;
const DIGEST_TRACE_LINES: usize = 12;
const FILES_SHOWN: usize = 10;
/// A template with this many errors becomes an action; at most this many per project.
const ACTION_MIN_ERRORS: u64 = 5;
const ACTIONS_MAX: usize = 3;
/// The template index of the overflow bucket.
const OTHER: u32 = u32::MAX;
const CHECKPOINT_VERSION: u32 = 1;

pub(crate) struct Logs;

impl Step for Logs {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn title(&self) -> &'static str {
        "Log Review"
    }

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome> {
        let run = cx.run;
        let project = cx.project();
        let config = ScanConfig {
            window: run.window,
            date: run.date,
            checkpoint_bytes: run
                .env
                .parse_or("DAYDREAM_TEST_CHECKPOINT_BYTES", CHECKPOINT_BYTES)?
                .max(1),
            cancel: run.cancel.clone(),
        };
        let slow = Duration::from_millis(run.env.parse_or("DAYDREAM_TEST_SLOW_MS", 0)?);
        let mut notes = Vec::new();
        let resumed = cx.take_resume().and_then(|point| match Scanner::resume(config.clone(), point) {
            Ok(scanner) => Some(scanner),
            Err(err) => {
                notes.push(format!("could not resume the interrupted scan ({err:#}): read the logs again from the start"));
                None
            }
        });
        let mut scanner = if let Some(scanner) = resumed {
            scanner
        } else {
            let found = discover(project, &run.env);
            notes.extend(found.warnings);
            Scanner::new(config, project.logs.clone(), found.files, notes)
        };
        scanner.scan(|point| {
            cx.checkpoint(
                serde_json::to_value(point).context("failed to serialize the logs checkpoint")?,
            )?;
            if !slow.is_zero() {
                std::thread::sleep(slow);
            }
            Ok(())
        })?;
        let (mut data, mut warnings, seen) = scanner.finish();
        data.history = remember(cx, &data, &seen, &mut warnings);
        Ok(Outcome::Done(output(&data, warnings)))
    }

    fn action_rank(&self) -> u8 {
        0
    }

    fn digest(&self, output: &Output) -> Option<String> {
        let data = serde_json::from_value::<LogsData>(output.data.clone()).ok()?;
        if data.errors == 0 && data.warnings == 0 && output.warnings.is_empty() {
            return None;
        }
        let mut out = output.summary.clone();
        if let Some(changes) = &data.history {
            for (what, list) in [("new today", &changes.new), ("spiking", &changes.spiking)] {
                for c in list.iter().take(DIGEST_TEMPLATES / 2) {
                    let _ = write!(out, "\n- {what}: {} x{}", c.template, c.today);
                }
            }
        }
        for t in data.top.iter().take(DIGEST_TEMPLATES) {
            let _ = write!(
                out,
                "\n- {} errors, {} warnings, {}-{}: {}",
                t.errors, t.warnings, t.first, t.last, t.template
            );
            if let Some(example) = &t.example {
                if !example.line.is_empty() {
                    let _ = write!(out, "\n    e.g. {}", redact(&example.line));
                }
                for line in example.trace.iter().take(DIGEST_TRACE_LINES) {
                    let _ = write!(out, "\n    {}", redact(line));
                }
                if let Some(last) = &example.last {
                    let _ = write!(out, "\n    {}", redact(last));
                }
            }
        }
        Some(out)
    }

    fn render(&self, output: &Output, out: &mut String) {
        render(output, out);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Which files

/// A log file to read: how it is shown (relative to the project when inside it) and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogFile {
    pub(crate) display: String,
    pub(crate) path: PathBuf,
}

pub(crate) struct Found {
    pub(crate) files: Vec<LogFile>,
    pub(crate) warnings: Vec<String>,
}

/// The files matching the project's `logs` globs (relative to its directory; `~` and absolute paths work), in
/// order of their displayed names. A glob without wildcards that names no file is a warning.
pub(crate) fn discover(project: &Project, env: &Env) -> Found {
    let mut files = BTreeMap::new();
    let mut warnings = Vec::new();
    for glob in &project.logs {
        let full = crate::config::expand(glob, &project.dir, env);
        let pattern = full.to_string_lossy().into_owned();
        let base: PathBuf = full
            .components()
            .take_while(|c| {
                !c.as_os_str()
                    .to_string_lossy()
                    .contains(['*', '?', '[', '{'])
            })
            .collect();
        let depth = full.components().count() - base.components().count();
        if depth == 0 {
            if full.is_file() {
                files.insert(shown(&full, &project.dir), full);
            } else if full.exists() {
                warnings.push(format!("`{glob}` is not a file"));
            } else {
                warnings.push(format!("`{glob}` does not exist"));
            }
            continue;
        }
        let matcher = match globset::GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
        {
            Ok(glob) => glob.compile_matcher(),
            Err(err) => {
                warnings.push(format!("invalid glob `{glob}` in `logs`: {}", err.kind()));
                continue;
            }
        };
        if !base.is_dir() {
            continue;
        }
        let mut walk = ignore::WalkBuilder::new(&base);
        walk.standard_filters(false)
            .hidden(false)
            .follow_links(false)
            .max_depth(if pattern.contains("**") {
                None
            } else {
                Some(depth)
            })
            .filter_entry(|entry| entry.file_name() != ".git");
        let mut errors = 0;
        for entry in walk.build() {
            match entry {
                Ok(entry) => {
                    let path = entry.path();
                    if matcher.is_match(path) && path.is_file() {
                        files.insert(shown(path, &project.dir), path.to_owned());
                    }
                }
                Err(err) => {
                    errors += 1;
                    if errors <= 3 {
                        warnings.push(format!("failed to list files for `{glob}`: {err}"));
                    }
                }
            }
        }
    }
    Found {
        files: files
            .into_iter()
            .map(|(display, path)| LogFile { display, path })
            .collect(),
        warnings,
    }
}

fn shown(path: &Path, dir: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------------------------------
// What the step stores: the data of its Output, rendered later from the state alone

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
fn is_zero(n: &u32) -> bool {
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

// ---------------------------------------------------------------------------------------------------------------
// The scanner and its checkpoint

#[derive(Clone, Debug)]
pub(crate) struct ScanConfig {
    pub(crate) window: Window,
    /// The run date, for the year of syslog timestamps.
    pub(crate) date: NaiveDate,
    pub(crate) checkpoint_bytes: u64,
    pub(crate) cancel: Cancel,
}

/// Everything needed to continue a scan exactly where it stopped: the files, the one being read and the offset
/// in it (just after a newline), the partial aggregate and the parse context of the record being read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    version: u32,
    window: [i64; 2],
    globs: Vec<String>,
    files: Vec<LogFile>,
    /// The file being read, an index into `files`.
    next: usize,
    offset: u64,
    current: Option<Current>,
    agg: Agg,
}

/// What has been counted so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Agg {
    templates: Vec<Template>,
    other: Template,
    /// Files done.
    rows: Vec<FileRow>,
    warnings: Vec<String>,
    example_bytes: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Template {
    text: String,
    count: u64,
    errors: u64,
    warnings: u64,
    first: i64,
    last: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    example: Option<Example>,
}

/// The file being read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Current {
    row: FileRow,
    mtime_in_window: bool,
    /// Whether a timestamped line was seen: from then on, lines without one are continuations.
    seen_ts: bool,
    pending: Option<Pending>,
}

/// The record being read: its first line was counted; its continuation lines may still come.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Pending {
    ts: i64,
    in_window: bool,
    level: Level,
    /// `None` for a traceback that starts a file without timestamps (it becomes its exception's record).
    template: Option<u32>,
    /// Whether its lines are kept, because it may become its template's example.
    keep: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    header: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    trace: Vec<String>,
    trace_bytes: usize,
    omitted: u32,
    in_python_traceback: bool,
    /// The exception its continuation lines carry: the final line of a Python traceback, or the line before the
    /// first Java/JavaScript frame.
    exception: Option<String>,
    exception_candidate: Option<String>,
    tail: Option<String>,
}

impl Pending {
    fn new(ts: i64, in_window: bool) -> Pending {
        Pending {
            ts,
            in_window,
            level: Level::Other,
            template: None,
            keep: true,
            header: String::new(),
            trace: Vec::new(),
            trace_bytes: 0,
            omitted: 0,
            in_python_traceback: false,
            exception: None,
            exception_candidate: None,
            tail: None,
        }
    }
}

/// Reads log files into an aggregate, calling back at each checkpoint. Testable without the runner.
pub(crate) struct Scanner {
    config: ScanConfig,
    point: Checkpoint,
    index: HashMap<String, u32, BuildHasherDefault<FxHasher>>,
    parser: TimestampParser,
    miner: Box<dyn Miner>,
    /// Scratch buffers of the hot loop.
    template: String,
    message: Vec<u8>,
    /// Input bytes since the last checkpoint.
    since: u64,
}

impl Scanner {
    pub(crate) fn new(
        config: ScanConfig,
        globs: Vec<String>,
        files: Vec<LogFile>,
        warnings: Vec<String>,
    ) -> Scanner {
        let point = Checkpoint {
            version: CHECKPOINT_VERSION,
            window: [config.window.start, config.window.end],
            globs,
            files,
            next: 0,
            offset: 0,
            current: None,
            agg: Agg {
                warnings,
                ..Agg::default()
            },
        };
        Scanner::with(config, point)
    }

    /// Continues from a checkpoint saved by an interrupted attempt.
    pub(crate) fn resume(config: ScanConfig, point: serde_json::Value) -> Result<Scanner> {
        let point: Checkpoint =
            serde_json::from_value(point).context("not a checkpoint of this version")?;
        if point.version != CHECKPOINT_VERSION {
            bail!(
                "checkpoint version {} is not {CHECKPOINT_VERSION}",
                point.version
            );
        }
        if point.window != [config.window.start, config.window.end] {
            bail!("the checkpoint is for another day");
        }
        if point.next > point.files.len() || point.agg.templates.len() > MAX_TEMPLATES {
            bail!("the checkpoint is inconsistent");
        }
        Ok(Scanner::with(config, point))
    }

    fn with(config: ScanConfig, point: Checkpoint) -> Scanner {
        let index = point
            .agg
            .templates
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    t.text.clone(),
                    u32::try_from(i).expect("at most MAX_TEMPLATES"),
                )
            })
            .collect();
        Scanner {
            parser: TimestampParser::new(config.date),
            config,
            point,
            index,
            miner: Box::new(MaskMiner::default()),
            template: String::new(),
            message: Vec::new(),
            since: 0,
        }
    }

    /// Reads every file from where the scan stands. `on_checkpoint` is called at line boundaries every
    /// `checkpoint_bytes` of input; an error from it stops the scan. A cancel request stops it with
    /// [`crate::cancel::Interrupted`] after a last checkpoint.
    pub(crate) fn scan(
        &mut self,
        mut on_checkpoint: impl FnMut(&Checkpoint) -> Result<()>,
    ) -> Result<()> {
        let mut chunk = vec![0_u8; CHUNK];
        let mut partial = Vec::new();
        while self.point.next < self.point.files.len() {
            self.scan_file(&mut chunk, &mut partial, &mut on_checkpoint)?;
            self.point.next += 1;
            self.point.offset = 0;
            self.point.current = None;
        }
        Ok(())
    }

    fn scan_file(
        &mut self,
        chunk: &mut [u8],
        partial: &mut Vec<u8>,
        on_checkpoint: &mut impl FnMut(&Checkpoint) -> Result<()>,
    ) -> Result<()> {
        let file = self.point.files[self.point.next].clone();
        let (mut handle, bytes, modified) =
            match File::open(&file.path).and_then(|f| f.metadata().map(|m| (f, m))) {
                Ok((_, meta)) if meta.is_dir() => {
                    self.skip_file(&file, "unreadable", "it is a directory");
                    return Ok(());
                }
                Ok((f, meta)) => (f, meta.len(), mtime(&meta)),
                Err(err) if err.kind() == ErrorKind::NotFound => {
                    self.skip_file(&file, "missing", "it disappeared before it could be read");
                    return Ok(());
                }
                Err(err) => {
                    self.skip_file(&file, "unreadable", &describe(&err));
                    return Ok(());
                }
            };
        if self.point.current.is_some() && bytes < self.point.offset {
            // Rotated or rewritten while we were away: what was read before stays counted, and the new content
            // is read from its start.
            let read = self.point.offset;
            self.warn(format!(
                "`{}` changed since the interrupted run (it has {bytes} bytes, {read} were read): its new content was read from the start",
                file.display
            ));
            self.finalize();
            let in_window = self.config.window.contains(modified);
            let current = self.current();
            (current.row.bytes, current.row.modified) = (bytes, modified);
            (current.mtime_in_window, current.seen_ts) = (in_window, false);
            self.point.offset = 0;
        }
        if self.point.current.is_none() {
            self.point.offset = 0;
            self.point.current = Some(Current {
                row: FileRow {
                    path: file.display.clone(),
                    bytes,
                    modified,
                    ..FileRow::default()
                },
                mtime_in_window: self.config.window.contains(modified),
                seen_ts: false,
                pending: None,
            });
        }
        let mut pos = self.point.offset;
        if pos > 0
            && let Err(err) = handle.seek(SeekFrom::Start(pos))
        {
            self.warn(format!(
                "failed to read `{}`: {}",
                file.display,
                describe(&err)
            ));
            self.finish_file();
            return Ok(());
        }
        partial.clear();
        // The length of the line being assembled across chunks (`partial` holds at most its first MAX_LINE bytes).
        let mut partial_len = 0_usize;
        loop {
            if let Err(stop) = self.config.cancel.check() {
                if self.since > 0 {
                    self.since = 0;
                    on_checkpoint(&self.point)?;
                }
                return Err(stop.into());
            }
            let n = match read_some(&mut handle, chunk) {
                Ok(n) => n,
                Err(err) => {
                    self.warn(format!(
                        "failed to read `{}` after byte {pos}: {}",
                        file.display,
                        describe(&err)
                    ));
                    break;
                }
            };
            if n == 0 {
                break;
            }
            let data = &chunk[..n];
            if pos == 0 && data[..n.min(BINARY_PROBE)].contains(&0) {
                self.warn(format!(
                    "`{}` looks binary (NUL bytes at its start): skipped",
                    file.display
                ));
                if let Some(current) = &mut self.point.current {
                    current.row.skipped = Some("binary".to_owned());
                }
                self.finish_file();
                return Ok(());
            }
            let mut i = 0;
            while let Some(k) = find_newline(&data[i..]) {
                let segment = &data[i..i + k];
                if partial_len == 0 {
                    self.line(&segment[..k.min(MAX_LINE)], k > MAX_LINE);
                } else {
                    let room = MAX_LINE.saturating_sub(partial.len());
                    partial.extend_from_slice(&segment[..k.min(room)]);
                    self.line(partial, partial_len + k > MAX_LINE);
                    partial.clear();
                    partial_len = 0;
                }
                i += k + 1;
                self.advance(pos + i as u64, on_checkpoint)?;
            }
            let rest = &data[i..];
            let room = MAX_LINE.saturating_sub(partial.len());
            partial.extend_from_slice(&rest[..rest.len().min(room)]);
            partial_len += rest.len();
            pos += n as u64;
        }
        if partial_len > 0 {
            self.line(partial, partial_len > MAX_LINE);
            partial.clear();
            self.advance(pos, on_checkpoint)?;
        }
        self.finish_file();
        Ok(())
    }

    /// Moves the checkpoint offset to `end`, just after a line, and checkpoints when enough input went by.
    fn advance(
        &mut self,
        end: u64,
        on_checkpoint: &mut impl FnMut(&Checkpoint) -> Result<()>,
    ) -> Result<()> {
        self.since += end - self.point.offset;
        self.point.offset = end;
        if self.since >= self.config.checkpoint_bytes {
            self.since = 0;
            on_checkpoint(&self.point)?;
            self.config.cancel.check()?;
        }
        Ok(())
    }

    fn warn(&mut self, warning: String) {
        self.point.agg.warnings.push(warning);
    }

    fn current(&mut self) -> &mut Current {
        self.point.current.as_mut().expect("a file is being read")
    }

    /// One line, at most [`MAX_LINE`] bytes of it (`truncated` when there was more).
    fn line(&mut self, raw: &[u8], truncated: bool) {
        let mut line = if truncated { char_boundary(raw) } else { raw };
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        let stamp = self.parser.parse(line);
        let current = self.current();
        current.row.lines += 1;
        current.row.truncated += u64::from(truncated);
        if let Some(stamp) = stamp {
            current.seen_ts = true;
            self.finalize();
            let in_window = self.config.window.contains(stamp.unix);
            self.start(line, stamp.unix, in_window, Some(stamp));
            return;
        }
        let seen_ts = current.seen_ts;
        if !seen_ts {
            current.row.untimed += 1;
        }
        let continues = current
            .pending
            .as_ref()
            .is_some_and(|p| seen_ts || continues_untimed(line, p));
        if continues {
            self.continuation(line);
            return;
        }
        // Before the file's first timestamp: the file's modification time decides.
        self.finalize();
        if trim_start(line).is_empty() {
            return;
        }
        let current = self.current();
        let (modified, in_window) = (current.row.modified, current.mtime_in_window);
        if line.starts_with(b"Traceback (most recent call last):") {
            current.pending = Some(Pending::new(modified, in_window));
            self.continuation(line);
        } else {
            self.start(line, modified, in_window, None);
        }
    }

    /// The first line of a record.
    fn start(&mut self, line: &[u8], ts: i64, in_window: bool, stamp: Option<Stamp>) {
        let mut pending = Pending::new(ts, in_window);
        if in_window {
            let mut message = std::mem::take(&mut self.message);
            let text: &[u8] = match stamp {
                Some(s) if s.start == 0 => &line[s.end..],
                Some(s) if s.end > s.start => {
                    message.clear();
                    message.extend_from_slice(&line[..s.start]);
                    message.push(b' ');
                    message.extend_from_slice(&line[s.end..]);
                    &message
                }
                _ => line,
            };
            let mut detected = level::detect(text);
            if stamp.is_none() && detected.level == Level::Other && names_exception(text) {
                // A file without timestamps (stderr): `java.lang.IllegalStateException: boom` is an error.
                detected.level = Level::Error;
            }
            self.miner
                .template(&text[detected.body..], &mut self.template);
            self.message = message;
            let index = self.count(ts, detected.level);
            pending.level = detected.level;
            pending.template = Some(index);
            if detected.level.is_notable() {
                pending.keep =
                    index != OTHER && self.point.agg.templates[index as usize].example.is_none();
                if pending.keep {
                    pending.header = lossy(line, EXAMPLE_LINE);
                }
            }
            let row = &mut self.current().row;
            row.in_window += 1;
            row.invalid_utf8 += u64::from(!is_utf8(line));
            match detected.level {
                Level::Error => row.errors += 1,
                Level::Warning => row.warnings += 1,
                Level::Other => {}
            }
        }
        self.current().pending = Some(pending);
    }

    /// A line that continues the pending record: a stack trace line, a wrapped message.
    fn continuation(&mut self, line: &[u8]) {
        let current = self.point.current.as_mut().expect("a file is being read");
        let Some(pending) = current.pending.as_mut().filter(|p| p.in_window) else {
            return;
        };
        current.row.in_window += 1;
        current.row.invalid_utf8 += u64::from(!is_utf8(line));
        let tail = observe(pending, line);
        if !pending.keep {
            return;
        }
        let text = lossy(line, EXAMPLE_LINE);
        if pending.trace.len() < TRACE_LINES && pending.trace_bytes + text.len() <= TRACE_BYTES {
            pending.trace_bytes += text.len();
            pending.trace.push(text);
        } else {
            pending.omitted += 1;
            if tail {
                pending.tail = Some(text);
            }
        }
    }

    /// Ends the pending record: its example is stored, and an exception printed after a line that was not an
    /// error becomes an error record of its own (an uncaught exception on stderr, in the same file).
    fn finalize(&mut self) {
        let Some(current) = self.point.current.as_mut() else {
            return;
        };
        let Some(mut pending) = current.pending.take() else {
            return;
        };
        if !pending.in_window {
            return;
        }
        let file = current.row.path.clone();
        while pending.trace.last().is_some_and(|l| l.trim().is_empty()) {
            pending.trace.pop();
        }
        let example = |line: String, p: Pending| Example {
            file,
            line,
            trace: p.trace,
            omitted: p.omitted,
            last: p.tail,
        };
        if pending.level.is_notable() {
            if pending.keep
                && let Some(index) = pending.template
            {
                let header = pending.header.clone();
                self.store_example(index, example(header, pending));
            }
            return;
        }
        let Some(exception) = pending.exception.clone() else {
            return;
        };
        self.miner
            .template(exception.as_bytes(), &mut self.template);
        let index = self.count(pending.ts, Level::Error);
        self.current().row.errors += 1;
        self.store_example(index, example(String::new(), pending));
    }

    /// Counts one record of the template in `self.template`.
    fn count(&mut self, ts: i64, level: Level) -> u32 {
        let agg = &mut self.point.agg;
        let index = match self.index.get(self.template.as_str()) {
            Some(&index) => index,
            None if agg.templates.len() < MAX_TEMPLATES => {
                let index = u32::try_from(agg.templates.len()).expect("at most MAX_TEMPLATES");
                agg.templates.push(Template {
                    text: self.template.clone(),
                    ..Template::default()
                });
                self.index.insert(self.template.clone(), index);
                index
            }
            None => OTHER,
        };
        let template = if index == OTHER {
            &mut agg.other
        } else {
            &mut agg.templates[index as usize]
        };
        if template.count == 0 {
            template.first = ts;
            template.last = ts;
        }
        template.count += 1;
        template.first = template.first.min(ts);
        template.last = template.last.max(ts);
        match level {
            Level::Error => template.errors += 1,
            Level::Warning => template.warnings += 1,
            Level::Other => {}
        }
        index
    }

    fn store_example(&mut self, index: u32, mut example: Example) {
        let agg = &mut self.point.agg;
        let Some(template) = agg.templates.get_mut(index as usize) else {
            return;
        };
        if template.example.is_some() {
            return;
        }
        let trace_bytes: usize = example.trace.iter().map(String::len).sum();
        if agg.example_bytes + example.line.len() + trace_bytes > EXAMPLE_BUDGET {
            example.omitted += u32::try_from(example.trace.len()).unwrap_or(u32::MAX);
            example.trace.clear();
        }
        example.line = redact(&example.line).into_owned();
        for line in &mut example.trace {
            if let std::borrow::Cow::Owned(redacted) = redact(line) {
                *line = redacted;
            }
        }
        example.last = example.last.map(|l| redact(&l).into_owned());
        agg.example_bytes +=
            example.line.len() + example.trace.iter().map(String::len).sum::<usize>();
        template.example = Some(example);
    }

    /// A file that could not be read: a warning, and a row saying why.
    fn skip_file(&mut self, file: &LogFile, reason: &str, why: &str) {
        self.warn(format!("cannot read `{}`: {why}", file.display));
        let mut row = self.point.current.take().map_or_else(
            || FileRow {
                path: file.display.clone(),
                ..FileRow::default()
            },
            |c| c.row,
        );
        row.skipped = Some(reason.to_owned());
        self.point.agg.rows.push(row);
    }

    fn finish_file(&mut self) {
        self.finalize();
        let Some(current) = self.point.current.take() else {
            return;
        };
        let row = current.row;
        if row.truncated > 0 {
            let (n, s) = (
                row.truncated,
                if row.truncated == 1 { " was" } else { "s were" },
            );
            self.warn(format!(
                "`{}`: {n} line{s} longer than {} KiB, only the start was read",
                row.path,
                MAX_LINE >> 10
            ));
        }
        if row.invalid_utf8 > 0 {
            let (n, s) = (
                row.invalid_utf8,
                if row.invalid_utf8 == 1 {
                    " is"
                } else {
                    "s are"
                },
            );
            self.warn(format!(
                "`{}`: {n} line{s} not valid UTF-8 (shown with \u{fffd})",
                row.path
            ));
        }
        self.point.agg.rows.push(row);
    }

    /// The data of the unit, its warnings, and every template of the day (for the template history).
    pub(crate) fn finish(self) -> (LogsData, Vec<String>, Vec<Seen>) {
        let window = self.config.window;
        let mut agg = self.point.agg;
        agg.templates = cluster(std::mem::take(&mut agg.templates));
        agg.other.text = format!(
            "(templates beyond the first {})",
            thousands(MAX_TEMPLATES as u64)
        );
        let mut all: Vec<&Template> = agg.templates.iter().collect();
        if agg.other.count > 0 {
            all.push(&agg.other);
        }
        let row = |t: &Template, with_example: bool| TemplateRow {
            template: t.text.clone(),
            count: t.count,
            errors: t.errors,
            warnings: t.warnings,
            first: hh_mm(t.first),
            last: hh_mm(t.last),
            example: if with_example {
                t.example.clone()
            } else {
                None
            },
        };
        let mut notable: Vec<&Template> = all
            .iter()
            .copied()
            .filter(|t| t.errors + t.warnings > 0)
            .collect();
        notable.sort_by(|a, b| {
            (b.errors, b.warnings, b.count)
                .cmp(&(a.errors, a.warnings, a.count))
                .then(a.first.cmp(&b.first))
                .then(a.text.cmp(&b.text))
        });
        let mut busiest = all.clone();
        busiest.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.first.cmp(&b.first))
                .then(a.text.cmp(&b.text))
        });
        let rotation = agg
            .rows
            .iter()
            .filter(|r| r.skipped.as_deref().is_none_or(|s| s == "binary"))
            .filter_map(|r| rotation_hint(r, window))
            .collect();
        let data = LogsData {
            globs: self.point.globs,
            lines: agg.rows.iter().map(|r| r.in_window).sum(),
            records: all.iter().map(|t| t.count).sum(),
            errors: all.iter().map(|t| t.errors).sum(),
            warnings: all.iter().map(|t| t.warnings).sum(),
            templates: all.len() as u64,
            notable_templates: notable.len() as u64,
            overflow: agg.other.count,
            top: notable
                .iter()
                .take(TOP_KEPT)
                .map(|t| row(t, true))
                .collect(),
            busiest: busiest
                .iter()
                .take(BUSIEST_KEPT)
                .map(|t| row(t, false))
                .collect(),
            files: agg.rows.clone(),
            rotation,
            history: None,
        };
        let seen = agg
            .templates
            .iter()
            .map(|t| Seen {
                template: t.text.clone(),
                count: t.count,
                errors: t.errors,
                warnings: t.warnings,
                example: t
                    .example
                    .as_ref()
                    .map(|e| redact(&e.line).into_owned())
                    .filter(|l| !l.is_empty()),
            })
            .collect();
        (data, agg.warnings, seen)
    }
}

/// Joins the masked templates that the template miner puts in one cluster. Masking in the hot loop keeps every
/// distinct shape apart (`user bob logged in`, `user eve logged in`, ...); the miner, given each shape once with
/// its count, joins those that differ only in their variable parts and names the cluster with `<*>` there. A pure
/// function of the list, so a resumed scan ends with the same templates as an uninterrupted one.
fn cluster(templates: Vec<Template>) -> Vec<Template> {
    let mut miner = TemplateMiner::new();
    let ids: Vec<ClusterId> = templates
        .iter()
        .map(|t| miner.add_weighted(&t.text, t.count))
        .collect();
    let mut merged: Vec<Template> = Vec::with_capacity(templates.len());
    let mut index: HashMap<ClusterId, usize> = HashMap::new();
    for (mut t, id) in templates.into_iter().zip(ids) {
        let Some(id) = miner.resolve(id) else {
            merged.push(t);
            continue;
        };
        if let Some(&i) = index.get(&id) {
            let m = &mut merged[i];
            m.count += t.count;
            m.errors += t.errors;
            m.warnings += t.warnings;
            m.first = m.first.min(t.first);
            m.last = m.last.max(t.last);
            let traced = |e: &Option<Example>| e.as_ref().is_some_and(|e| !e.trace.is_empty());
            if m.example.is_none() || (!traced(&m.example) && traced(&t.example)) {
                m.example = t.example.take().or(m.example.take());
            }
        } else {
            let text = miner.template(id);
            if !text.is_empty() {
                text.clone_into(&mut t.text);
            }
            index.insert(id, merged.len());
            merged.push(t);
        }
    }
    merged
}

/// One template of the day, as the template history records it.
pub(crate) struct Seen {
    pub(crate) template: String,
    pub(crate) count: u64,
    pub(crate) errors: u64,
    pub(crate) warnings: u64,
    /// Redacted.
    pub(crate) example: Option<String>,
}

/// Records the day's templates in `data/templates/<slug>.json` and says what is new, spiking or stopped. A day
/// without any record in its window is not recorded: no lines is not "every error stopped". A dry run compares
/// without saving. Problems with the file are warnings: the review itself stands.
fn remember(
    cx: &UnitCx<'_>,
    data: &LogsData,
    seen: &[Seen],
    warnings: &mut Vec<String>,
) -> Option<Changes> {
    if data.records == 0 {
        return None;
    }
    let day = cx.run.date.pred_opt()?;
    let path = history::path(cx.root(), &cx.project().slug);
    let shown = path
        .strip_prefix(cx.root())
        .unwrap_or(&path)
        .display()
        .to_string();
    let mut loaded = match History::load(&path) {
        Ok(loaded) => loaded,
        Err(err) => {
            warnings.push(format!(
                "failed to read the template history `{shown}` ({err:#}): new and spiking templates are not flagged today"
            ));
            return None;
        }
    };
    if let Some(warning) = loaded.warning {
        warnings.push(warning);
    }
    let today: Vec<DayTemplate<'_>> = seen
        .iter()
        .map(|t| DayTemplate {
            template: &t.template,
            count: t.count,
            errors: t.errors,
            warnings: t.warnings,
            example: t.example.as_deref(),
        })
        .collect();
    loaded.history.record(day, &today);
    if !cx.run.dry_run
        && let Err(err) = loaded.history.save(&path)
    {
        warnings.push(format!(
            "failed to save the template history `{shown}`: {err:#}"
        ));
    }
    Some(loaded.history.changes(day))
}

/// Whether a line without a timestamp, before a file's first timestamp, continues the record before it.
fn continues_untimed(line: &[u8], pending: &Pending) -> bool {
    line.first().is_none_or(u8::is_ascii_whitespace)
        || pending.in_python_traceback
        || [
            &b"Traceback (most recent call last):"[..],
            b"Caused by: ",
            b"During handling of the above exception",
            b"The above exception was",
        ]
        .iter()
        .any(|p| line.starts_with(p))
}

/// Follows the stack trace in a record's continuation lines; true for a line worth keeping as the trace's tail
/// when the middle is left out (the final line of a Python traceback, a Java `Caused by:`).
fn observe(pending: &mut Pending, line: &[u8]) -> bool {
    if line.starts_with(b"Traceback (most recent call last):") {
        pending.in_python_traceback = true;
        return false;
    }
    if pending.in_python_traceback {
        let ends = line.first().is_some_and(|b| !b.is_ascii_whitespace())
            && !line.starts_with(b"During handling of the above exception")
            && !line.starts_with(b"The above exception was");
        if ends {
            pending.in_python_traceback = false;
            pending.exception = Some(lossy(line, EXAMPLE_LINE));
        }
        return ends;
    }
    if line.first().is_some_and(u8::is_ascii_whitespace) && trim_start(line).starts_with(b"at ") {
        // A Java or JavaScript frame: the line before the first one names the exception.
        if pending.exception.is_none() {
            pending.exception = pending.exception_candidate.take();
        }
        return false;
    }
    if line.starts_with(b"Caused by: ") {
        return true;
    }
    if pending.exception.is_none() && names_exception(line) {
        pending.exception_candidate = Some(lossy(line, EXAMPLE_LINE));
    }
    false
}

/// `java.lang.IllegalStateException: boom`, `TypeError: x is undefined`, `Error`.
fn names_exception(line: &[u8]) -> bool {
    let name_len = line
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b"_$.".contains(b)))
        .unwrap_or(line.len());
    let name = &line[..name_len];
    let after = line.get(name_len).copied();
    (after.is_none() || after == Some(b':'))
        && [&b"Exception"[..], b"Error", b"Throwable"]
            .iter()
            .any(|s| name.ends_with(s))
        && name.first().is_some_and(u8::is_ascii_alphabetic)
}

fn trim_start(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    &line[start..]
}

/// The bytes of a cut line up to its last whole UTF-8 character.
fn char_boundary(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    for back in 1..=3.min(line.len()) {
        let b = line[line.len() - back];
        if b & 0xC0 != 0x80 {
            // The lead byte of the last character: drop it unless the character is whole.
            let width = match b {
                0xF0.. => 4,
                0xE0.. => 3,
                0xC0.. => 2,
                _ => 1,
            };
            if width > back {
                end = line.len() - back;
            }
            break;
        }
    }
    &line[..end]
}

fn is_utf8(line: &[u8]) -> bool {
    line.is_ascii() || std::str::from_utf8(line).is_ok()
}

/// At most `max` bytes of `bytes` as text, invalid UTF-8 replaced.
fn lossy(bytes: &[u8], max: usize) -> String {
    let cut = bytes.len() > max;
    let mut text =
        String::from_utf8_lossy(char_boundary(&bytes[..bytes.len().min(max)])).into_owned();
    if cut {
        text.push('…');
    }
    text
}

/// Reads once, retrying when a signal interrupted the read.
fn read_some(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// The index of the first `\n`, eight bytes at a time.
fn find_newline(hay: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NEWLINES: u64 = LO * b'\n' as u64;
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes")) ^ NEWLINES;
        // The lowest byte that was a newline is exactly the lowest flagged byte.
        let found = word.wrapping_sub(LO) & !word & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| base + i)
}

fn mtime(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn describe(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        ErrorKind::NotFound => "not found".to_owned(),
        _ => err.to_string(),
    }
}

fn rotation_hint(row: &FileRow, window: Window) -> Option<Rotation> {
    let idle_days = (window.end - row.modified) / 86_400;
    if row.modified > 0 && idle_days > STALE_DAYS {
        let since = Local
            .timestamp_opt(row.modified, 0)
            .single()
            .map_or_else(String::new, |t| {
                format!(" (since {})", t.format("%Y-%m-%d"))
            });
        return Some(Rotation {
            file: row.path.clone(),
            bytes: row.bytes,
            idle_days: Some(idle_days),
            hint: format!(
                "`{}` has not been written for {idle_days} days{since}: archive or delete it",
                row.path
            ),
        });
    }
    (row.bytes > LARGE_FILE).then(|| Rotation {
        file: row.path.clone(),
        bytes: row.bytes,
        idle_days: None,
        hint: format!(
            "`{}` is {}: rotate it (logrotate, or a rotating handler in the app)",
            row.path,
            human_bytes(row.bytes)
        ),
    })
}

/// Local `HH:MM` of Unix seconds.
fn hh_mm(unix: i64) -> String {
    Local
        .timestamp_opt(unix, 0)
        .single()
        .map_or_else(|| "--:--".to_owned(), |t| t.format("%H:%M").to_string())
}

/// A fast, non-cryptographic hash for the template index (the keys come from local files, not from an attacker
/// who could aim collisions at it).
#[derive(Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Output: summary, actions, report

/// The unit's output: a one-line summary, the data, actions for the top recurring errors and rotation.
pub(crate) fn output(data: &LogsData, warnings: Vec<String>) -> Output {
    let mut actions = Vec::new();
    for t in data
        .top
        .iter()
        .filter(|t| t.errors >= ACTION_MIN_ERRORS)
        .take(ACTIONS_MAX)
    {
        actions.push(format!(
            "{} of {} yesterday",
            plural(t.errors, "error"),
            code(&redact(&shorten(&t.template, 120)))
        ));
    }
    if let Some(changes) = &data.history {
        let errors = |list: &'static str, v: &[history::Change]| {
            v.iter()
                .filter(|c| c.severity == Level::Error)
                .take(ACTIONS_MAX)
                .map(|c| {
                    format!(
                        "{list}: {} ({} yesterday)",
                        code(&redact(&shorten(&c.template, 120))),
                        plural(c.today, "time")
                    )
                })
                .collect::<Vec<_>>()
        };
        actions.extend(errors("New error in the logs", &changes.new));
        actions.extend(errors("Error spike in the logs", &changes.spiking));
    }
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
        summary: summary(data),
        data: serde_json::to_value(data).unwrap_or_default(),
        actions,
        warnings,
    }
}

fn summary(data: &LogsData) -> String {
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
fn render_changes(changes: &Changes, out: &mut String) {
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
pub(crate) fn render(output: &Output, out: &mut String) {
    let Ok(data) = serde_json::from_value::<LogsData>(output.data.clone()) else {
        let _ = writeln!(out, "{}\n", output.summary);
        return;
    };
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

fn describe_file(row: &FileRow) -> String {
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

/// `text` as a markdown code span, whatever backticks it holds.
fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let run = longest_run(&text, '`');
    if run == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(run + 1);
    format!("{fence} {text} {fence}")
}

/// A code span for a table cell: GitHub tables split on `|` even inside code spans unless it is escaped.
fn cell(text: &str) -> String {
    code(text).replace('|', "\\|")
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max_chars).collect();
    short.push('…');
    short
}

/// `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn plural(n: u64, word: &str) -> String {
    format!("{} {word}{}", thousands(n), if n == 1 { "" } else { "s" })
}

#[expect(clippy::cast_precision_loss, reason = "one decimal of a size")]
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::testing;

    fn date() -> NaiveDate {
        "2026-11-21".parse().unwrap()
    }

    fn config(checkpoint_bytes: u64) -> ScanConfig {
        ScanConfig {
            window: Window::previous_day(date()),
            date: date(),
            checkpoint_bytes,
            cancel: Cancel::default(),
        }
    }

    /// Writes `files` (name, bytes) into a directory whose modification times are inside the window.
    fn fixture(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Vec<LogFile>) {
        let dir = tempfile::tempdir().unwrap();
        let window = Window::previous_day(date());
        let mut list = Vec::new();
        for (name, bytes) in files {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            set_mtime(&path, window.start + 12 * 3600);
            list.push(LogFile {
                display: (*name).to_owned(),
                path,
            });
        }
        (dir, list)
    }

    fn set_mtime(path: &Path, unix: i64) {
        let time = UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).unwrap());
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(time)
            .unwrap();
    }

    fn scan(files: &[LogFile]) -> (LogsData, Vec<String>) {
        let mut scanner = Scanner::new(
            config(CHECKPOINT_BYTES),
            vec!["logs/*.log".to_owned()],
            files.to_vec(),
            Vec::new(),
        );
        scanner.scan(|_| Ok(())).unwrap();
        let (data, warnings, _) = scanner.finish();
        (data, warnings)
    }

    fn top<'a>(data: &'a LogsData, template: &str) -> &'a TemplateRow {
        data.top
            .iter()
            .chain(&data.busiest)
            .find(|t| t.template == template)
            .unwrap_or_else(|| panic!("no `{template}` in {data:#?}"))
    }

    const PYTHON: &str = "\
2026-11-19 23:59:59,999 ERROR Payment failed for order 1
2026-11-20 00:00:00,000 INFO Server started on port 8080
2026-11-20 01:00:00,000 - shop.pay - ERROR - Payment failed for order 42
Traceback (most recent call last):
  File \"/app/pay.py\", line 10, in charge
    raise PaymentError(\"declined\")
pay.PaymentError: declined
2026-11-20 02:00:00,000 ERROR Payment failed for order 43
2026-11-20 03:00:00,000 WARNING Slow response 1234ms from 10.0.0.1
2026-11-20 04:00:00,000 INFO no error found in 12 files
2026-11-20 23:59:59,999 ERROR Payment failed for order 44
2026-11-21 00:00:00,000 ERROR Payment failed for order 45
";

    #[test]
    fn counts_the_window_and_attaches_python_tracebacks() {
        let (_dir, files) = fixture(&[("app.log", PYTHON.as_bytes())]);
        let (data, warnings) = scan(&files);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            (data.lines, data.records, data.errors, data.warnings),
            (10, 6, 3, 1)
        );
        assert_eq!(data.notable_templates, 2);
        let pay = &data.top[0];
        assert_eq!(pay.template, "Payment failed for order <*>");
        assert_eq!((pay.count, pay.errors, pay.warnings), (3, 3, 0));
        assert_eq!((pay.first.as_str(), pay.last.as_str()), ("01:00", "23:59"));
        let example = pay.example.as_ref().unwrap();
        assert!(
            example.line.ends_with("Payment failed for order 42"),
            "{example:?}"
        );
        assert_eq!(example.trace.len(), 4);
        assert_eq!(example.trace[0], "Traceback (most recent call last):");
        assert_eq!(example.trace[3], "pay.PaymentError: declined");
        assert_eq!(data.top[1].template, "Slow response <*> from <*>");
        assert_eq!(data.top[1].warnings, 1);
        assert_eq!(top(&data, "no error found in <*> files").errors, 0);
        let row = &data.files[0];
        assert_eq!(
            (
                row.lines,
                row.in_window,
                row.errors,
                row.warnings,
                row.untimed
            ),
            (12, 10, 3, 1, 0)
        );
    }

    #[test]
    fn java_stack_traces_attach_to_the_error_before_them() {
        let log = "\
2026-11-20 10:00:00.000 ERROR [main] c.e.Api - Request failed id=7
java.lang.IllegalStateException: boom
\tat com.example.Api.handle(Api.java:42)
\tat com.example.Main.main(Main.java:10)
Caused by: java.io.IOException: closed
\t... 2 more
2026-11-20 10:00:01.000 INFO [main] c.e.Api - ok
";
        let (_dir, files) = fixture(&[("java.log", log.as_bytes())]);
        let (data, _) = scan(&files);
        assert_eq!((data.lines, data.records, data.errors), (7, 2, 1));
        let failed = &data.top[0];
        assert_eq!(failed.template, "[main] c.e.Api - Request failed id=<*>");
        let example = failed.example.as_ref().unwrap();
        assert_eq!(example.trace.len(), 5);
        assert_eq!(example.trace[0], "java.lang.IllegalStateException: boom");
        assert_eq!(example.trace[3], "Caused by: java.io.IOException: closed");
    }

    #[test]
    fn an_exception_after_a_line_that_is_not_an_error_is_an_error_of_its_own() {
        let log = "\
2026-11-20 10:00:00 INFO worker started
Traceback (most recent call last):
  File \"w.py\", line 3, in <module>
ValueError: invalid literal for int() with base 10: 'abc'
2026-11-20 10:00:05 INFO worker started
java.lang.NullPointerException: name is null
\tat com.example.W.run(W.java:3)
";
        let (_dir, files) = fixture(&[("w.log", log.as_bytes())]);
        let (data, _) = scan(&files);
        assert_eq!((data.records, data.errors), (4, 2));
        let python = top(
            &data,
            "ValueError: invalid literal for int() with base <*>: '<*>'",
        );
        assert_eq!(python.errors, 1);
        let example = python.example.as_ref().unwrap();
        assert!(example.line.is_empty());
        assert_eq!(example.trace.len(), 3);
        assert_eq!(
            top(&data, "java.lang.NullPointerException: name is null").errors,
            1
        );
        assert_eq!(top(&data, "worker started").errors, 0);
    }

    #[test]
    fn files_without_timestamps_are_judged_by_their_modification_time() {
        let body = b"ERROR: disk full on /dev/sda1\nplain line 2\nTraceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'k'\n\njava.lang.IllegalStateException: boom\n\tat x.Y(Y.java:1)\n";
        let (dir, mut files) = fixture(&[("fresh.log", body), ("old.log", body)]);
        set_mtime(
            &dir.path().join("old.log"),
            Window::previous_day(date()).start - 10 * 86_400,
        );
        files.sort_by(|a, b| a.display.cmp(&b.display));
        let (data, _) = scan(&files);
        let fresh = data.files.iter().find(|f| f.path == "fresh.log").unwrap();
        let old = data.files.iter().find(|f| f.path == "old.log").unwrap();
        assert_eq!(
            (fresh.lines, fresh.in_window, fresh.untimed, fresh.errors),
            (8, 8, 8, 3)
        );
        assert_eq!(
            (old.lines, old.in_window, old.untimed, old.errors),
            (8, 0, 8, 0)
        );
        let java = top(&data, "java.lang.IllegalStateException: boom");
        assert_eq!(java.errors, 1);
        assert_eq!(
            java.example.as_ref().unwrap().trace,
            vec!["\tat x.Y(Y.java:1)".to_owned()]
        );
        assert_eq!(top(&data, "disk full on <*>").errors, 1);
        assert_eq!(
            top(&data, "KeyError: '<*>'")
                .example
                .as_ref()
                .unwrap()
                .trace
                .len(),
            3
        );
        assert_eq!(data.rotation.len(), 1);
        assert_eq!(data.rotation[0].file, "old.log");
        assert_eq!(data.rotation[0].idle_days, Some(11));
    }

    #[test]
    fn invalid_utf8_is_counted_and_replaced() {
        let (_dir, files) = fixture(&[(
            "bad.log",
            b"2026-11-20 10:00:00 ERROR caf\xe9 \xff closed\n2026-11-20 10:00:01 INFO ok\n",
        )]);
        let (data, warnings) = scan(&files);
        assert_eq!(data.files[0].invalid_utf8, 1);
        assert!(
            warnings
                .iter()
                .any(|w| w == "`bad.log`: 1 line is not valid UTF-8 (shown with \u{fffd})"),
            "{warnings:?}"
        );
        assert_eq!(data.top[0].template, "caf\u{fffd} \u{fffd} closed");
    }

    #[test]
    fn a_huge_line_is_read_once_cut_and_flagged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.log");
        {
            use std::io::Write;
            let mut file = std::io::BufWriter::new(File::create(&path).unwrap());
            file.write_all(b"2026-11-20 10:00:00 ERROR payload ")
                .unwrap();
            let block = vec![b'x'; 1 << 20];
            for _ in 0..50 {
                file.write_all(&block).unwrap();
            }
            file.write_all(b"\n2026-11-20 10:00:01 INFO next\n")
                .unwrap();
        }
        let files = vec![LogFile {
            display: "huge.log".to_owned(),
            path,
        }];
        let (data, warnings) = scan(&files);
        let row = &data.files[0];
        assert_eq!(
            (row.lines, row.in_window, row.truncated, row.errors),
            (2, 2, 1, 1)
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("1 line was longer than 64 KiB")),
            "{warnings:?}"
        );
        let payload = &data.top[0];
        assert!(
            payload.template.len() < 500,
            "templates stay small: {}",
            payload.template.len()
        );
        assert!(payload.example.as_ref().unwrap().line.len() <= EXAMPLE_LINE + 4);
        assert!(serde_json::to_string(&data).unwrap().len() < 20_000);
    }

    #[test]
    fn binary_and_missing_files_are_warnings() {
        let mut binary = b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec();
        binary.extend_from_slice(b"2026-11-20 10:00:00 ERROR not really\n");
        let (dir, mut files) = fixture(&[
            ("a.bin.log", &binary),
            ("b.log", b"2026-11-20 10:00:00 ERROR real\n"),
        ]);
        files.push(LogFile {
            display: "c.log".to_owned(),
            path: dir.path().join("c.log"),
        });
        let (data, warnings) = scan(&files);
        assert_eq!(data.errors, 1);
        assert_eq!(data.files[0].skipped.as_deref(), Some("binary"));
        assert_eq!(data.files[2].skipped.as_deref(), Some("missing"));
        assert!(
            warnings
                .contains(&"`a.bin.log` looks binary (NUL bytes at its start): skipped".to_owned()),
            "{warnings:?}"
        );
        assert!(
            warnings.contains(
                &"cannot read `c.log`: it disappeared before it could be read".to_owned()
            ),
            "{warnings:?}"
        );
    }

    #[test]
    fn distinct_templates_are_capped_into_one_bucket() {
        let mut log = String::new();
        for i in 0..(MAX_TEMPLATES + 100) {
            // Words without digits, so each line is its own template.
            let word: String = format!("{i:05}")
                .bytes()
                .map(|d| char::from(b'a' + (d - b'0')))
                .collect();
            let _ = writeln!(log, "2026-11-20 10:00:00 ERROR failure kind {word}");
        }
        let (_dir, files) = fixture(&[("many.log", log.as_bytes())]);
        let (data, _) = scan(&files);
        assert_eq!(data.templates, MAX_TEMPLATES as u64 + 1);
        assert_eq!(data.overflow, 100);
        assert_eq!(data.errors, MAX_TEMPLATES as u64 + 100);
        assert_eq!(data.top[0].template, "(templates beyond the first 5,000)");
        assert_eq!(data.top[0].errors, 100);
    }

    #[test]
    fn examples_are_redacted() {
        let (_dir, files) = fixture(&[("s.log", b"2026-11-20 10:00:00 ERROR login failed password=hunter2\n  Authorization: Bearer abcdefghijklmnop\n")]);
        let (data, _) = scan(&files);
        let example = data.top[0].example.as_ref().unwrap();
        assert!(
            example.line.ends_with("login failed password=[REDACTED]"),
            "{example:?}"
        );
        assert_eq!(
            example.trace,
            vec!["  Authorization: Bearer [REDACTED]".to_owned()]
        );
        assert_eq!(data.top[0].template, "login failed password=<*>");
    }

    /// Several files with records, traces and a file without timestamps, for the resume tests.
    fn resume_fixture() -> (tempfile::TempDir, Vec<LogFile>) {
        let mut big = String::new();
        for i in 0..60 {
            let _ = writeln!(
                big,
                "2026-11-20 {:02}:{:02}:00,000 ERROR Payment failed for order {i}",
                i / 60,
                i % 60
            );
            if i % 7 == 0 {
                big.push_str(
                    "Traceback (most recent call last):\n  File \"p.py\", line 1\nKeyError: 'x'\n",
                );
            }
            let _ = writeln!(
                big,
                "2026-11-20 {:02}:{:02}:30,000 INFO tick {i} kind-{}",
                i / 60,
                i % 60,
                ["a", "b", "c"][i % 3]
            );
        }
        fixture(&[
            ("a.log", PYTHON.as_bytes()),
            ("b.log", big.as_bytes()),
            ("c.log", b"no timestamps here\nERROR: once\n"),
            ("d.log", b"2026-11-20 10:00:00 WARNING last file\n"),
        ])
    }

    #[test]
    fn resuming_from_any_checkpoint_gives_the_same_result() {
        let (_dir, files) = resume_fixture();
        let globs = vec!["logs/*.log".to_owned()];
        let mut checkpoints = 0;
        let mut whole = Scanner::new(config(97), globs.clone(), files.clone(), Vec::new());
        whole
            .scan(|_| {
                checkpoints += 1;
                Ok(())
            })
            .unwrap();
        let expected = whole.finish();
        let expected = (expected.0, expected.1);
        assert!(checkpoints > 20, "{checkpoints}");
        for k in 1..=checkpoints {
            // Killed right after the k-th checkpoint was saved.
            let mut saved = None;
            let mut seen = 0;
            let mut first = Scanner::new(config(97), globs.clone(), files.clone(), Vec::new());
            let err = first
                .scan(|point| {
                    seen += 1;
                    if seen == k {
                        saved = Some(serde_json::to_value(point).unwrap());
                        bail!("killed");
                    }
                    Ok(())
                })
                .unwrap_err();
            assert_eq!(err.to_string(), "killed");
            let saved = saved.unwrap();
            assert!(saved["offset"].as_u64().is_some());
            // A resumed scan may be interrupted again; a different interval changes nothing either.
            let mut second = Scanner::resume(config(211), saved).unwrap();
            let mut again = None;
            let _ = second.scan(|point| {
                again = Some(serde_json::to_value(point).unwrap());
                bail!("killed again")
            });
            let mut third = match again {
                Some(point) => Scanner::resume(config(97), point).unwrap(),
                None => second,
            };
            third.scan(|_| Ok(())).unwrap();
            let (data, warnings, _) = third.finish();
            assert_eq!((data, warnings), expected, "resumed after checkpoint {k}");
        }
    }

    #[test]
    fn checkpoints_sit_at_line_boundaries() {
        let (_dir, files) = resume_fixture();
        let mut scanner = Scanner::new(config(50), Vec::new(), files.clone(), Vec::new());
        scanner
            .scan(|point| {
                let bytes = std::fs::read(&point.files[point.next].path).unwrap();
                let offset = usize::try_from(point.offset).unwrap();
                assert!(
                    offset == bytes.len() || bytes[offset - 1] == b'\n',
                    "offset {offset} of {}",
                    point.files[point.next].display
                );
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_file_that_shrank_since_the_checkpoint_is_read_again() {
        let (dir, files) = resume_fixture();
        let mut saved = None;
        let mut scanner = Scanner::new(config(97), Vec::new(), files.clone(), Vec::new());
        let _ = scanner.scan(|point| {
            if point.files[point.next].display == "b.log" && point.offset > 1000 {
                saved = Some(serde_json::to_value(point).unwrap());
                bail!("killed");
            }
            Ok(())
        });
        let saved = saved.unwrap();
        let read_before = saved["current"]["row"]["lines"].as_u64().unwrap();
        std::fs::write(
            dir.path().join("b.log"),
            "2026-11-20 10:00:00 ERROR rewritten 1\n",
        )
        .unwrap();
        let mut resumed = Scanner::resume(config(97), saved).unwrap();
        resumed.scan(|_| Ok(())).unwrap();
        let (data, warnings, _) = resumed.finish();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("`b.log` changed since the interrupted run")),
            "{warnings:?}"
        );
        let row = data.files.iter().find(|f| f.path == "b.log").unwrap();
        assert_eq!(
            row.lines,
            read_before + 1,
            "what was read stays counted, the new line is added"
        );
        assert_eq!(top(&data, "rewritten <*>").errors, 1);
    }

    #[test]
    fn a_checkpoint_of_another_day_is_refused() {
        let (_dir, files) = resume_fixture();
        let point =
            serde_json::to_value(&Scanner::new(config(97), Vec::new(), files, Vec::new()).point)
                .unwrap();
        let mut other = config(97);
        other.window = Window::previous_day("2026-11-22".parse().unwrap());
        assert!(Scanner::resume(other, point).is_err());
        assert!(Scanner::resume(config(97), serde_json::json!({"nope": 1})).is_err());
    }

    #[test]
    fn cancel_stops_with_interrupted_and_the_last_checkpoint_resumes() {
        let (_dir, files) = resume_fixture();
        let mut whole = Scanner::new(config(97), Vec::new(), files.clone(), Vec::new());
        whole.scan(|_| Ok(())).unwrap();
        let expected = whole.finish();
        let expected = (expected.0, expected.1);
        // Asked to stop before anything was read: nothing to save.
        let stopped = config(97);
        stopped.cancel.trigger(15);
        let mut calls = 0;
        let err = Scanner::new(stopped, Vec::new(), files.clone(), Vec::new())
            .scan(|_| {
                calls += 1;
                Ok(())
            })
            .unwrap_err();
        assert!(
            err.downcast_ref::<crate::cancel::Interrupted>().is_some(),
            "{err:#}"
        );
        assert_eq!(calls, 0);
        // Asked to stop while a checkpoint was being saved: stops right after it, and resumes from it.
        let stopping = config(97);
        let cancel = stopping.cancel.clone();
        let mut saved = Vec::new();
        let err = Scanner::new(stopping, Vec::new(), files, Vec::new())
            .scan(|point| {
                cancel.trigger(2);
                saved.push(serde_json::to_value(point).unwrap());
                Ok(())
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "interrupted by SIGINT");
        assert_eq!(saved.len(), 1);
        let mut resumed = Scanner::resume(config(97), saved.pop().unwrap()).unwrap();
        resumed.scan(|_| Ok(())).unwrap();
        let (data, warnings, _) = resumed.finish();
        assert_eq!((data, warnings), expected);
    }

    #[test]
    fn find_newline_matches_a_plain_search() {
        let text = b"abc\ndefghijklmnop\n\nqrstuvwxyz0123456789\n\xff\x0a\x8a\x0b tail";
        let mut from = 0;
        while from < text.len() {
            assert_eq!(
                find_newline(&text[from..]),
                text[from..].iter().position(|&b| b == b'\n'),
                "from {from}"
            );
            from += 1;
        }
    }

    #[test]
    fn cut_lines_keep_whole_characters() {
        assert_eq!(char_boundary("aé".as_bytes()), "aé".as_bytes());
        assert_eq!(char_boundary(&"aé".as_bytes()[..2]), b"a");
        assert_eq!(char_boundary(&"a€".as_bytes()[..3]), b"a");
        assert_eq!(char_boundary(&"a😀".as_bytes()[..4]), b"a");
        assert_eq!(char_boundary(b"abc"), b"abc");
    }

    fn run_step(dir: &Path, project_json: &str, env: Env) -> (Output, Vec<serde_json::Value>) {
        let project: serde_json::Value = serde_json::from_str(project_json).unwrap();
        let run = testing::run_cx(dir, &project, env, date(), false);
        let (outcome, saved) = testing::run_unit(&run, None, |cx| Logs.run(cx));
        let Outcome::Done(output) = outcome.unwrap() else {
            panic!("logs is never skipped")
        };
        (output, saved)
    }

    #[test]
    fn the_miner_joins_masked_shapes_that_differ_in_variable_words() {
        let t = |text: &str, count: u64, errors: u64, first: i64| Template {
            text: text.to_owned(),
            count,
            errors,
            warnings: 0,
            first,
            last: first,
            example: None,
        };
        let joined = cluster(vec![
            t("Session opened for user alice", 3, 0, 10),
            t("Payment failed for order <*>: card_declined", 5, 5, 5),
            t("Session opened for user bob", 2, 0, 20),
            t("Session opened for user carol", 1, 0, 30),
            t("Session opened for user dave", 4, 1, 1),
        ]);
        let rows: Vec<(&str, u64, u64, i64, i64)> = joined
            .iter()
            .map(|t| (t.text.as_str(), t.count, t.errors, t.first, t.last))
            .collect();
        assert_eq!(
            rows,
            [
                ("Session opened for user <*>", 10, 1, 1, 30),
                ("Payment failed for order <*>: card_declined", 5, 5, 5, 5),
            ]
        );
        // A few different words in one place are different events, not a variable.
        let apart = cluster(vec![
            t("Connection state LOOKING", 1, 0, 1),
            t("Connection state FOLLOWING", 1, 0, 2),
        ]);
        assert_eq!(apart.len(), 2);
    }

    #[test]
    fn the_template_history_flags_new_spiking_and_stopped_templates_across_nights() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("app/logs");
        std::fs::create_dir_all(&logs).unwrap();
        let mut log = String::new();
        // Nights of 11-14 .. 11-19: a steady warning and a regular error; 11-20: the error stops, the warning
        // spikes, a new error appears.
        for day in 14..=20 {
            let slow = if day == 20 { 40 } else { 2 };
            for i in 0..slow {
                let _ = writeln!(
                    log,
                    "2026-11-{day} 01:00:{:02},000 WARNING Slow query took {i}.5s",
                    i % 60
                );
            }
            if day < 20 {
                let _ = writeln!(
                    log,
                    "2026-11-{day} 02:00:00,000 ERROR Cache refresh failed for shard {day}"
                );
            } else {
                let _ = writeln!(
                    log,
                    "2026-11-{day} 03:00:00,000 ERROR Payment failed for order 18231: token=s3cr3t"
                );
            }
        }
        std::fs::write(logs.join("app.log"), &log).unwrap();
        let project: serde_json::Value =
            serde_json::json!({ "working_directory": dir.path().join("app") });
        let night = |day: u32, dry_run: bool| {
            let date = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
            let run = testing::run_cx(
                dir.path(),
                &project,
                Env::from_pairs([("HOME", "/nonexistent")]),
                date,
                dry_run,
            );
            let (outcome, _) = testing::run_unit(&run, None, |cx| Logs.run(cx));
            let Outcome::Done(output) = outcome.unwrap() else {
                panic!("logs is never skipped")
            };
            output
        };
        let first = night(15, false);
        let data: LogsData = serde_json::from_value(first.data.clone()).unwrap();
        assert!(data.history.as_ref().unwrap().first_day);
        let mut md = String::new();
        render(&first, &mut md);
        assert!(md.contains("First night of template history"), "{md}");
        for day in 16..=20 {
            night(day, false);
        }
        // The dry run of the last night compares but saves nothing; the real one then sees the same.
        let path = history::path(dir.path(), "shop");
        let saved = std::fs::read(&path).unwrap();
        let dry = night(21, true);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            saved,
            "a dry run does not save"
        );
        let last = night(21, false);
        assert_eq!(dry.data, last.data);
        let data: LogsData = serde_json::from_value(last.data.clone()).unwrap();
        let changes = data.history.unwrap();
        assert!(!changes.first_day);
        let texts =
            |v: &[history::Change]| v.iter().map(|c| c.template.clone()).collect::<Vec<_>>();
        assert_eq!(
            texts(&changes.new),
            ["Payment failed for order <*>: token=<*>"]
        );
        assert_eq!(texts(&changes.spiking), ["Slow query took <*>"]);
        assert_eq!(
            texts(&changes.stopped),
            ["Cache refresh failed for shard <*>"]
        );
        assert_eq!(changes.spiking[0].today, 40);
        assert!((changes.spiking[0].baseline - 2.0).abs() < 1e-9);
        let mut md = String::new();
        render(&last, &mut md);
        assert!(md.contains("New since the nights before:"), "{md}");
        assert!(md.contains("Spiking against the 7-night average:\n\n- `Slow query took <*>` × 40 (average 2.0) (warnings)"), "{md}");
        assert!(md.contains("Errors that stopped appearing:\n\n- `Cache refresh failed for shard <*>` (average 1.0 a night, last seen 2026-11-19)"), "{md}");
        assert!(!md.contains("s3cr3t"), "examples are redacted: {md}");
        assert!(
            last.actions
                .iter()
                .any(|a| a.starts_with("New error in the logs: `Payment failed")),
            "{:?}",
            last.actions
        );
    }

    #[test]
    fn the_step_reads_the_default_glob_checkpoints_and_renders() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("app/logs");
        std::fs::create_dir_all(&logs).unwrap();
        let mut log = PYTHON.to_owned();
        for i in 0..6 {
            let _ = writeln!(
                log,
                "2026-11-20 05:00:0{i},000 ERROR Refund failed for order {}|{i}",
                100 + i
            );
        }
        std::fs::write(logs.join("app.log"), &log).unwrap();
        std::fs::write(
            logs.join("notes.txt"),
            "2026-11-20 10:00:00 ERROR not a log\n",
        )
        .unwrap();
        let env = Env::from_pairs([
            ("DAYDREAM_TEST_CHECKPOINT_BYTES", "100"),
            ("HOME", "/nonexistent"),
        ]);
        let project = format!(
            r#"{{"working_directory": "{}"}}"#,
            dir.path().join("app").display()
        );
        let (output, saved) = run_step(dir.path(), &project, env);
        assert_eq!(
            output.summary,
            "16 lines in 1 file: 9 errors, 1 warning in 3 templates"
        );
        assert!(saved.len() > 5, "checkpoints were saved: {}", saved.len());
        assert_eq!(
            output.actions,
            vec!["6 errors of `Refund failed for order <*>|<*>` yesterday".to_owned()],
            "3 errors are not an action"
        );
        let data: LogsData = serde_json::from_value(output.data.clone()).unwrap();
        assert_eq!(
            serde_json::to_value(&data).unwrap(),
            output.data,
            "the data round-trips"
        );
        // What the report shows, from the stored output alone.
        let stored: Output =
            serde_json::from_str(&serde_json::to_string(&output).unwrap()).unwrap();
        let mut md = String::new();
        Logs.render(&stored, &mut md);
        assert!(md.starts_with("**16 lines** in 1 file yesterday: **9 errors**, 1 warning in 3 templates (5 templates in all).\n"), "{md}");
        assert!(md.contains("| 6 | 6 | 0 | 05:00 | 05:00 | `Refund failed for order <*>\\|<*>` |\n| 3 | 3 | 0 | 01:00 | 23:59 | `Payment failed for order <*>` |\n"), "{md}");
        assert!(md.contains("```text\n2026-11-20 01:00:00,000 - shop.pay - ERROR - Payment failed for order 42\nTraceback (most recent call last):\n"), "{md}");
        assert!(md.contains("Files: `logs/app.log` 16 of 18 lines"), "{md}");
        assert!(!md.contains("notes.txt"));
    }

    #[test]
    fn a_project_without_logs_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let project = format!(
            r#"{{"working_directory": "{}", "logs": ["logs/*.log", "var/app.log"]}}"#,
            dir.path().display()
        );
        let (output, saved) = run_step(dir.path(), &project, Env::default());
        assert_eq!(output.summary, "no log files match logs/*.log, var/app.log");
        assert!(saved.is_empty());
        assert_eq!(
            output.warnings,
            vec!["`var/app.log` does not exist".to_owned()]
        );
        let mut md = String::new();
        Logs.render(&output, &mut md);
        assert!(
            md.starts_with("No log files match `logs/*.log`, `var/app.log`.\n"),
            "{md}"
        );
        // Warnings are listed by the report under every step's section, not by the step.
        assert!(!md.contains("does not exist"), "{md}");
    }

    #[test]
    fn render_escapes_pipes_and_backticks_and_limits_rows() {
        let data = LogsData {
            globs: vec!["logs/*.log".to_owned()],
            lines: 100,
            records: 40,
            errors: 30,
            warnings: 0,
            templates: 20,
            notable_templates: 15,
            top: (0..15)
                .map(|i| TemplateRow {
                    template: if i == 0 {
                        "a | b `c`".to_owned()
                    } else {
                        format!("t{i}")
                    },
                    count: 2,
                    errors: 2,
                    first: "01:00".to_owned(),
                    last: "02:00".to_owned(),
                    example: (i == 0).then(|| Example {
                        file: "x.log".to_owned(),
                        line: "```boom```".to_owned(),
                        ..Example::default()
                    }),
                    ..TemplateRow::default()
                })
                .collect(),
            files: vec![FileRow {
                path: "x.log".to_owned(),
                bytes: 3 << 20,
                lines: 100,
                in_window: 100,
                ..FileRow::default()
            }],
            ..LogsData::default()
        };
        let output = Output {
            summary: summary(&data),
            data: serde_json::to_value(&data).unwrap(),
            ..Output::default()
        };
        let mut md = String::new();
        render(&output, &mut md);
        assert!(md.contains("| `` a \\| b `c` `` |"), "{md}");
        assert_eq!(md.matches("\n| 2 | 2 |").count(), TABLE_ROWS, "{md}");
        assert!(
            md.contains("…and 5 more templates with errors or warnings."),
            "{md}"
        );
        assert!(md.contains("````text\n```boom```\n````"), "{md}");
        assert!(md.contains("Files: `x.log` 100 lines, 3.0 MB."), "{md}");
    }

    #[test]
    fn rotation_hints_for_large_and_stale_files() {
        let window = Window::previous_day(date());
        let large = FileRow {
            path: "big.log".to_owned(),
            bytes: 11 << 20,
            modified: window.end - 60,
            ..FileRow::default()
        };
        let hint = rotation_hint(&large, window).unwrap();
        assert_eq!(
            hint.hint,
            "`big.log` is 11.0 MB: rotate it (logrotate, or a rotating handler in the app)"
        );
        let small = FileRow {
            bytes: 10 << 20,
            ..large.clone()
        };
        assert!(rotation_hint(&small, window).is_none());
        let stale = FileRow {
            path: "old.log".to_owned(),
            bytes: 10,
            modified: window.end - 8 * 86_400,
            ..FileRow::default()
        };
        assert_eq!(rotation_hint(&stale, window).unwrap().idle_days, Some(8));
        let recent = FileRow {
            modified: window.end - 7 * 86_400,
            ..stale
        };
        assert!(rotation_hint(&recent, window).is_none());
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2431), "2,431");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(plural(1, "file"), "1 file");
        assert_eq!(plural(2431, "line"), "2,431 lines");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KB");
        assert_eq!(code("a`b"), "`` a`b ``");
    }
}
