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

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::redact::redact;
use crate::step::{Outcome, Output, Step, UnitCx};

mod access;
mod data;
mod files;
mod rank;
mod render;
mod scanner;

use data::LogsData;
use files::discover;
use render::{output, render};
use scanner::{ScanConfig, Scanner, remember};

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
    type Data = LogsData;
    const NAME: &'static str = "logs";
    const TITLE: &'static str = "Log Review";

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<LogsData>> {
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
        rank::own_frames(&mut data, &project.dir);
        data.history = remember(cx, &data, &seen, &mut warnings);
        Ok(Outcome::Done(output(data, warnings)))
    }

    fn action_rank(&self) -> u8 {
        0
    }

    fn digest(&self, data: &LogsData, output: &Output) -> Option<String> {
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

    fn render(&self, data: &LogsData, _: &Output, out: &mut String) {
        render(data, out);
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::path::Path;
    use std::time::UNIX_EPOCH;

    use anyhow::bail;
    use chrono::NaiveDate;

    use super::data::{Example, FileRow, TemplateRow};
    use super::files::LogFile;
    use super::render::{plural, summary};
    use super::scanner::{Template, char_boundary, cluster, rotation_hint};
    use super::*;
    use crate::cancel::Cancel;
    use crate::clock::Window;
    use crate::env::Env;
    use crate::logmine::history;
    use crate::step::AnyStep;
    use crate::step::testing;
    use crate::text::{code, human_bytes, thousands};

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
            // Words without digits, first in the message (where the template miner never sees a variable), so
            // each line is its own template.
            let word: String = format!("{i:05}")
                .bytes()
                .map(|d| char::from(b'a' + (d - b'0')))
                .collect();
            let _ = writeln!(log, "2026-11-20 10:00:00 ERROR {word} failed");
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
        let (outcome, saved) = testing::run_unit(&run, None, |cx| AnyStep::run(&Logs, cx));
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
            let (outcome, _) = testing::run_unit(&run, None, |cx| AnyStep::run(&Logs, cx));
            let Outcome::Done(output) = outcome.unwrap() else {
                panic!("logs is never skipped")
            };
            output
        };
        let first = night(15, false);
        let data: LogsData = serde_json::from_value(first.data.clone()).unwrap();
        assert!(data.history.as_ref().unwrap().first_day);
        let mut md = String::new();
        AnyStep::render(&Logs, &first, &mut md);
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
        AnyStep::render(&Logs, &last, &mut md);
        assert!(md.contains("New since the nights before:"), "{md}");
        assert!(md.contains("Spiking against the 7-night average:\n\n- `Slow query took <*>` × 40 (average 2.0) (warnings)"), "{md}");
        assert!(md.contains("Errors that stopped appearing:\n\n- `Cache refresh failed for shard <*>` (average 1.0 a night, last seen 2026-11-19)"), "{md}");
        assert!(!md.contains("s3cr3t"), "examples are redacted: {md}");
        assert!(
            last.actions.iter().any(|a| a
                .starts_with("new · `Payment failed for order <*>: token=<*>` appeared yesterday")),
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
            vec!["volume · 6 errors of `Refund failed for order <*>|<*>` yesterday".to_owned()],
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
        AnyStep::render(&Logs, &stored, &mut md);
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
        AnyStep::render(&Logs, &output, &mut md);
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
        AnyStep::render(&Logs, &output, &mut md);
        assert!(md.contains("| `` a \\| b `c` `` |"), "{md}");
        assert_eq!(md.matches("\n| 2 | 2 |").count(), TABLE_ROWS, "{md}");
        assert!(
            md.contains("…and 5 more templates with errors or warnings."),
            "{md}"
        );
        assert!(md.contains("````text\n```boom```\n````"), "{md}");
        assert!(md.contains("Files: `x.log` 100 lines, 3.0 MiB."), "{md}");
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
            "`big.log` is 11.0 MiB: rotate it (logrotate, or a rotating handler in the app)"
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
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(code("a`b"), "`` a`b ``");
    }
}
