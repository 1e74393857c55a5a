//! The scanner: a file read in bounded chunks inside the day's window, lines mined into templates, and the checkpoint it resumes from.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result, bail};
use chrono::{Local, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

use super::access;
use super::data::{Example, FileRow, LogsData, Rotation, TemplateRow};
use super::files::LogFile;
use super::{
    BINARY_PROBE, BUSIEST_KEPT, CHECKPOINT_VERSION, CHUNK, EXAMPLE_BUDGET, EXAMPLE_LINE,
    LARGE_FILE, MAX_LINE, MAX_TEMPLATES, OTHER, STALE_DAYS, TOP_KEPT, TRACE_BYTES, TRACE_LINES,
};
use crate::cancel::Cancel;
use crate::clock::Window;
use crate::logmine::history::{self, Changes, DayTemplate, History};
use crate::logmine::level::{self, Level};
use crate::logmine::mask::{MaskMiner, Miner};
use crate::logmine::miner::{ClusterId, TemplateMiner};
use crate::logmine::timestamp::{Stamp, TimestampParser};
use crate::redact::redact;
use crate::step::UnitCx;
use crate::text::{human_bytes, thousands};

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
    pub(super) version: u32,
    pub(super) window: [i64; 2],
    pub(super) globs: Vec<String>,
    pub(super) files: Vec<LogFile>,
    /// The file being read, an index into `files`.
    pub(super) next: usize,
    pub(super) offset: u64,
    pub(super) current: Option<Current>,
    pub(super) agg: Agg,
}

/// What has been counted so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Agg {
    pub(super) templates: Vec<Template>,
    pub(super) other: Template,
    /// Files done.
    pub(super) rows: Vec<FileRow>,
    pub(super) warnings: Vec<String>,
    pub(super) example_bytes: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Template {
    pub(super) text: String,
    pub(super) count: u64,
    pub(super) errors: u64,
    pub(super) warnings: u64,
    pub(super) first: i64,
    pub(super) last: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) example: Option<Example>,
}

/// The file being read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Current {
    pub(super) row: FileRow,
    pub(super) mtime_in_window: bool,
    /// Whether a timestamped line was seen: from then on, lines without one are continuations.
    pub(super) seen_ts: bool,
    pub(super) pending: Option<Pending>,
}

/// The record being read: its first line was counted; its continuation lines may still come.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Pending {
    pub(super) ts: i64,
    pub(super) in_window: bool,
    pub(super) level: Level,
    /// `None` for a traceback that starts a file without timestamps (it becomes its exception's record).
    pub(super) template: Option<u32>,
    /// Whether its lines are kept, because it may become its template's example.
    pub(super) keep: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(super) header: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) trace: Vec<String>,
    pub(super) trace_bytes: usize,
    pub(super) omitted: u32,
    pub(super) in_python_traceback: bool,
    /// The exception its continuation lines carry: the final line of a Python traceback, or the line before the
    /// first Java/JavaScript frame.
    pub(super) exception: Option<String>,
    pub(super) exception_candidate: Option<String>,
    pub(super) tail: Option<String>,
}

impl Pending {
    pub(super) fn new(ts: i64, in_window: bool) -> Pending {
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
    pub(super) config: ScanConfig,
    pub(super) point: Checkpoint,
    pub(super) index: HashMap<String, u32, BuildHasherDefault<FxHasher>>,
    pub(super) parser: TimestampParser,
    pub(super) miner: Box<dyn Miner>,
    /// Scratch buffers of the hot loop.
    pub(super) template: String,
    pub(super) message: Vec<u8>,
    /// Input bytes since the last checkpoint.
    pub(super) since: u64,
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

    pub(super) fn with(config: ScanConfig, point: Checkpoint) -> Scanner {
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

    #[expect(
        clippy::too_many_lines,
        reason = "the read loop of one file: chunk, line, checkpoint"
    )]
    pub(super) fn scan_file(
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
            while let Some(k) = memchr::memchr(b'\n', &data[i..]) {
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
    pub(super) fn advance(
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

    pub(super) fn warn(&mut self, warning: String) {
        self.point.agg.warnings.push(warning);
    }

    pub(super) fn current(&mut self) -> &mut Current {
        self.point.current.as_mut().expect("a file is being read")
    }

    /// One line, at most [`MAX_LINE`] bytes of it (`truncated` when there was more).
    pub(super) fn line(&mut self, raw: &[u8], truncated: bool) {
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
    pub(super) fn start(&mut self, line: &[u8], ts: i64, in_window: bool, stamp: Option<Stamp>) {
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
            if let Some(request) = access::template(text) {
                self.template = request;
            } else {
                self.miner
                    .template(&text[detected.body..], &mut self.template);
            }
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
    pub(super) fn continuation(&mut self, line: &[u8]) {
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
    pub(super) fn finalize(&mut self) {
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
    pub(super) fn count(&mut self, ts: i64, level: Level) -> u32 {
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

    pub(super) fn store_example(&mut self, index: u32, mut example: Example) {
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
    pub(super) fn skip_file(&mut self, file: &LogFile, reason: &str, why: &str) {
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

    pub(super) fn finish_file(&mut self) {
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
            own_frame: None,
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
pub(super) fn cluster(templates: Vec<Template>) -> Vec<Template> {
    // A request's status is what tells its lines apart: access-log templates are never merged.
    let (requests, templates): (Vec<Template>, Vec<Template>) = templates
        .into_iter()
        .partition(|t| access::is_template(&t.text));
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
    merged.extend(requests);
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
pub(super) fn remember(
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
pub(super) fn continues_untimed(line: &[u8], pending: &Pending) -> bool {
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
pub(super) fn observe(pending: &mut Pending, line: &[u8]) -> bool {
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
pub(super) fn names_exception(line: &[u8]) -> bool {
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

pub(super) fn trim_start(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(line.len());
    &line[start..]
}

/// The bytes of a cut line up to its last whole UTF-8 character.
pub(super) fn char_boundary(line: &[u8]) -> &[u8] {
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

pub(super) fn is_utf8(line: &[u8]) -> bool {
    line.is_ascii() || std::str::from_utf8(line).is_ok()
}

/// At most `max` bytes of `bytes` as text, invalid UTF-8 replaced.
pub(super) fn lossy(bytes: &[u8], max: usize) -> String {
    let cut = bytes.len() > max;
    let mut text =
        String::from_utf8_lossy(char_boundary(&bytes[..bytes.len().min(max)])).into_owned();
    if cut {
        text.push('…');
    }
    text
}

/// Reads once, retrying when a signal interrupted the read.
pub(super) fn read_some(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

pub(super) fn mtime(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(super) fn describe(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        ErrorKind::NotFound => "not found".to_owned(),
        _ => err.to_string(),
    }
}

pub(super) fn rotation_hint(row: &FileRow, window: Window) -> Option<Rotation> {
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
pub(super) fn hh_mm(unix: i64) -> String {
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
    pub(super) fn add(&mut self, word: u64) {
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
