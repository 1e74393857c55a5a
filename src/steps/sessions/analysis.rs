//! The analysis of one project's records: sessions, active time, turns, tool calls and errors, thrash loops,
//! interruptions, corrections, tokens and cost, friction. Fed one [`Record`] at a time, it keeps counts and small
//! per-session state only.
//!
//! A thrash loop is the same failure 3 or more times in a row within a session: a shell command failing again
//! (until it succeeds), a test failing in consecutive test runs (until a test run passes without it), or a file
//! edited and then a failing run, again and again (until a run after an edit passes). A test or file loop inside
//! a command loop is the same trouble: it is named in that loop rather than counted again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate};
use regex::Regex;

use super::data::{Friction, Kind, Loop, SessionsData, Tokens};
use super::transcript::{Block, Content, ReadStats, Record, ToolInput, Usage};
use crate::clock::Window;
use crate::fix::failures::{self, Runner};
use crate::redact::redact;
use crate::text::squeeze;

/// Failures in a row that make a loop.
pub(super) const THRASH: u32 = 3;
/// A longer gap between two records of a session is idle time.
const IDLE_SECS: i64 = 5 * 60;
/// A user turn longer than this is a new request, not a correction.
const CORRECTION_MAX_CHARS: usize = 300;
/// Loops and friction rows kept in the data.
const LOOPS_KEPT: usize = 20;
const FRICTION_KEPT: usize = 10;
/// Failing tests taken from one run's output.
const TESTS_PER_RUN: usize = 20;
const NAME_CHARS: usize = 100;
/// The model Claude Code writes for messages it made up itself (an API error shown as a reply): no tokens of a
/// real model, and ccusage leaves it out of its model list too.
const SYNTHETIC: &str = "<synthetic>";

/// The tools that change a file, and the input field naming it.
const EDIT_TOOLS: &[&str] = &["Edit", "MultiEdit", "Write", "NotebookEdit"];

static CORRECTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)^\W*(?:no|nope|stop|wrong|undo|revert)\b",
        r"|\b(?:wrong|revert|undo|incorrect|that'?s not|that is not|not what i|you broke|don'?t do that)\b",
    ))
    .expect("valid")
});

/// Whether a typed user turn, right after the model's, tells it it went wrong.
pub(super) fn is_correction(text: &str) -> bool {
    text.chars().count() <= CORRECTION_MAX_CHARS && CORRECTION.is_match(text)
}

/// A tool call waiting for its result.
struct Pending {
    name: String,
    /// A shell command's name in the report and its test runner.
    run: Option<(String, Runner)>,
    file: Option<String>,
}

/// Failures in a row of one command, test or file, by run number within the session.
#[derive(Default)]
struct Streak {
    times: u32,
    first: u32,
    last: u32,
}

struct Ended {
    kind: Kind,
    name: String,
    streak: Streak,
}

#[derive(Default)]
struct Session {
    seconds: Vec<i64>,
    pending: HashMap<String, Pending>,
    streaks: HashMap<(Kind, String), Streak>,
    ended: Vec<Ended>,
    /// Files edited since the last shell command.
    edited: BTreeSet<String>,
    /// Shell commands run so far.
    runs: u32,
    /// Whether the last record of the main conversation was the model's.
    after_assistant: bool,
}

impl Session {
    fn bump(&mut self, kind: Kind, name: &str, run: u32) {
        let streak = self
            .streaks
            .entry((kind, name.to_owned()))
            .or_insert(Streak {
                times: 0,
                first: run,
                last: run,
            });
        streak.times += 1;
        streak.last = run;
    }

    fn end(&mut self, kind: Kind, name: &str) {
        if let Some(streak) = self.streaks.remove(&(kind, name.to_owned())) {
            self.close(kind, name.to_owned(), streak);
        }
    }

    fn end_all(&mut self, kind: Kind, keep: &HashSet<&str>) {
        let done: Vec<(Kind, String)> = self
            .streaks
            .keys()
            .filter(|(k, name)| *k == kind && !keep.contains(name.as_str()))
            .cloned()
            .collect();
        for (kind, name) in done {
            self.end(kind, &name);
        }
    }

    fn close(&mut self, kind: Kind, name: String, streak: Streak) {
        if streak.times >= THRASH {
            self.ended.push(Ended { kind, name, streak });
        }
    }
}

/// Counts over one project's records in the window.
pub(crate) struct Analysis {
    window: Window,
    roots: Vec<PathBuf>,
    sessions: HashMap<String, Session>,
    seen_messages: HashSet<String>,
    data: SessionsData,
    friction: HashMap<(Kind, String), (u64, u64)>,
}

/// What one file's records carry over from line to line.
#[derive(Default)]
pub(crate) struct FileState {
    cwd: Option<String>,
}

impl Analysis {
    /// An analysis of the sessions in `window` whose working directory is one of `roots` or below it.
    pub(crate) fn new(window: Window, roots: Vec<PathBuf>) -> Analysis {
        Analysis {
            window,
            roots,
            sessions: HashMap::new(),
            seen_messages: HashSet::new(),
            data: SessionsData::default(),
            friction: HashMap::new(),
        }
    }

    /// Counts a file read to its end.
    pub(crate) fn file_read(&mut self, stats: ReadStats) {
        let files = &mut self.data.files;
        files.read += 1;
        files.bytes += stats.bytes;
        files.bad_lines += stats.bad;
        files.torn_lines += stats.torn;
        files.long_lines += stats.too_long;
    }

    pub(crate) fn file_skipped(&mut self) {
        self.data.files.skipped_old += 1;
    }

    /// Takes in one record of a file.
    pub(crate) fn record(&mut self, file: &mut FileState, record: Record<'_>) {
        if let Some(cwd) = &record.cwd
            && file.cwd.as_deref() != Some(cwd)
        {
            file.cwd = Some(cwd.clone().into_owned());
        }
        let kind = record.kind.as_deref().unwrap_or_default();
        if kind != "user" && kind != "assistant" {
            return;
        }
        let Some(cwd) = &file.cwd else { return };
        if !self
            .roots
            .iter()
            .any(|root| Path::new(cwd).starts_with(root))
        {
            return;
        }
        let Some(millis) = record
            .timestamp
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
        else {
            return;
        };
        if !self.window.contains(millis.div_euclid(1000)) {
            return;
        }
        let Some(message) = record.message else {
            return;
        };
        let id = record.session_id.as_deref().unwrap_or("?").to_owned();
        let root = self
            .roots
            .iter()
            .filter(|root| Path::new(cwd).starts_with(root))
            .max_by_key(|root| root.as_os_str().len())
            .cloned()
            .unwrap_or_default();
        if kind == "assistant"
            && let Some(usage) = message.usage
        {
            self.count_usage(
                usage,
                message.id.as_deref(),
                record.request_id.as_deref(),
                message.model.as_deref(),
            );
        }
        let session = self.sessions.entry(id).or_default();
        session.seconds.push(millis.div_euclid(1000));
        if kind == "assistant" {
            if let Content::Blocks(blocks) = message.content {
                for block in blocks {
                    if block.kind == "tool_use" {
                        tool_use(&mut self.data, session, block, &root);
                    }
                }
            }
            if !record.is_sidechain {
                session.after_assistant = true;
            }
            return;
        }
        // A user record: typed text, or the results of tool calls.
        let mut typed = Vec::new();
        match message.content {
            Content::Text(text) => typed.push(text),
            Content::Blocks(blocks) => {
                let mut results = false;
                for block in blocks {
                    match block.kind.as_str() {
                        "tool_result" => {
                            results = true;
                            tool_result(&mut self.data, &mut self.friction, session, block);
                        }
                        "text" => typed.extend(block.text),
                        _ => {}
                    }
                }
                if results {
                    typed.retain(|t| t.starts_with("[Request interrupted"));
                }
            }
            Content::None => {}
        }
        if record.is_sidechain || record.is_meta || record.is_compact_summary {
            return;
        }
        typed_turns(&mut self.data, session, typed);
    }

    /// Tokens of one assistant message, once: Claude Code writes a message's blocks on separate lines that repeat
    /// its usage, and ccusage counts a message id with its request id once too.
    fn count_usage(
        &mut self,
        usage: Usage,
        message: Option<&str>,
        request: Option<&str>,
        model: Option<&str>,
    ) {
        let fresh = match (message, request) {
            (Some(m), Some(r)) => self.seen_messages.insert(format!("{m}:{r}")),
            _ => true,
        };
        let (true, Some(input), Some(output)) = (fresh, usage.input_tokens, usage.output_tokens)
        else {
            return;
        };
        let tokens = Tokens {
            input,
            output,
            cache_creation: usage.cache_creation_input_tokens.unwrap_or(0),
            cache_read: usage.cache_read_input_tokens.unwrap_or(0),
        };
        self.data.tokens.add(tokens);
        let model = model.unwrap_or("unknown");
        if model != SYNTHETIC {
            self.data
                .tokens_by_model
                .entry(model.to_owned())
                .or_default()
                .add(tokens);
        }
    }

    /// The totals, with every session's open streaks closed and its loops resolved.
    pub(crate) fn finish(mut self, project: &str, date: NaiveDate) -> SessionsData {
        let mut totals = std::mem::take(&mut self.data);
        project.clone_into(&mut totals.project);
        totals.date = Some(date);
        totals.sessions = self.sessions.len() as u64;
        let mut active_secs = 0i64;
        for (_, mut session) in self.sessions.drain() {
            let open: Vec<_> = session.streaks.drain().collect();
            for ((kind, name), streak) in open {
                session.close(kind, name, streak);
            }
            resolve(session.ended, &mut totals.loops, &mut self.friction);
            session.seconds.sort_unstable();
            active_secs += session
                .seconds
                .windows(2)
                .map(|w| w[1] - w[0])
                .filter(|gap| *gap <= IDLE_SECS)
                .sum::<i64>();
        }
        #[expect(clippy::cast_precision_loss, reason = "seconds in a day")]
        let minutes = active_secs as f64 / 60.0;
        totals.active_minutes = (minutes * 10.0).round() / 10.0;
        totals.thrash_loops = totals.loops.len() as u64;
        totals.loops.sort_by(|a, b| {
            b.times
                .cmp(&a.times)
                .then(a.kind.cmp(&b.kind))
                .then(a.name.cmp(&b.name))
        });
        totals.loops.truncate(LOOPS_KEPT);
        let mut friction: Vec<Friction> = self
            .friction
            .into_iter()
            .filter(|(_, (failures, loops))| *failures >= 2 || *loops > 0)
            .map(|((kind, name), (failures, loops))| Friction {
                kind,
                name,
                failures,
                loops,
            })
            .collect();
        friction.sort_by(|a, b| {
            (b.loops, b.failures)
                .cmp(&(a.loops, a.failures))
                .then(a.kind.cmp(&b.kind))
                .then(a.name.cmp(&b.name))
        });
        friction.truncate(FRICTION_KEPT);
        totals.top_friction = friction;
        let mut cost = 0.0;
        for (model, t) in &totals.tokens_by_model {
            match crate::prices::price(model) {
                Some(price) => {
                    cost += crate::prices::cost(
                        price,
                        t.input,
                        t.output,
                        t.cache_creation,
                        t.cache_read,
                    );
                }
                None => totals.unpriced_models.push(model.clone()),
            }
        }
        totals.cost_usd = (cost * 10_000.0).round() / 10_000.0;
        totals
    }
}

/// What the user typed in the main conversation: turns, interruptions, corrections.
fn typed_turns(data: &mut SessionsData, session: &mut Session, typed: Vec<String>) {
    for text in typed {
        if text.starts_with("[Request interrupted by user") {
            // The user stopped the model: what they type next still answers the model's turn.
            data.interruptions += 1;
            continue;
        }
        if text.starts_with("<local-command-stdout>") || text.starts_with("Caveat:") {
            // What Claude Code shows of a slash command, not something typed.
        } else {
            data.user_turns += 1;
            if session.after_assistant && is_correction(&text) {
                data.corrections += 1;
            }
        }
        session.after_assistant = false;
    }
}

/// A tool call: counted, and remembered until its result comes.
fn tool_use(data: &mut SessionsData, session: &mut Session, block: Block, root: &Path) {
    let name = block.name.unwrap_or_else(|| "unknown".to_owned());
    data.tool_calls += 1;
    *data.tool_calls_by_tool.entry(name.clone()).or_default() += 1;
    let Some(id) = block.id else { return };
    let ToolInput {
        command,
        file_path,
        notebook_path,
    } = block.input.unwrap_or_default();
    let file = file_path
        .or(notebook_path)
        .filter(|_| EDIT_TOOLS.contains(&name.as_str()))
        .map(|f| shown_file(&f, root));
    let run = command
        .filter(|_| name == "Bash")
        .map(|c| (command_key(&c, root), failures::runner(&c)));
    session.pending.insert(id, Pending { name, run, file });
}

/// A tool's result: errors counted by tool, and the streaks of shell commands, tests and edited files moved on.
fn tool_result(
    data: &mut SessionsData,
    friction: &mut HashMap<(Kind, String), (u64, u64)>,
    session: &mut Session,
    block: Block,
) {
    let pending = block
        .tool_use_id
        .as_ref()
        .and_then(|id| session.pending.remove(id));
    let failed = block.is_error == Some(true);
    let name = pending
        .as_ref()
        .map_or_else(|| "unknown".to_owned(), |p| p.name.clone());
    if failed {
        data.tool_errors += 1;
        *data.tool_errors_by_tool.entry(name).or_default() += 1;
    }
    let Some(pending) = pending else { return };
    if let Some(file) = pending.file {
        if !failed {
            session.edited.insert(file);
        }
        return;
    }
    let Some((key, runner)) = pending.run else {
        return;
    };
    session.runs += 1;
    let run = session.runs;
    let edited = std::mem::take(&mut session.edited);
    if !failed {
        session.end(Kind::Command, &key);
        if runner != Runner::Unknown {
            // A passing test run ends the failing tests and every edit cycle.
            session.end_all(Kind::Test, &HashSet::new());
            session.end_all(Kind::File, &HashSet::new());
        }
        for file in edited {
            session.end(Kind::File, &file);
        }
        return;
    }
    let mut count = |kind, name: &str| friction.entry((kind, name.to_owned())).or_default().0 += 1;
    session.bump(Kind::Command, &key, run);
    count(Kind::Command, &key);
    let output = block.content.map(|c| c.0).unwrap_or_default();
    let tests: Vec<String> = failures::parse(runner, &output)
        .into_iter()
        .take(TESTS_PER_RUN)
        .map(|f| shown_name(&f.test))
        .collect();
    for test in &tests {
        session.bump(Kind::Test, test, run);
        count(Kind::Test, test);
    }
    if runner != Runner::Unknown || !tests.is_empty() {
        // A test run: the tests it did not see fail are not failing in a row any more.
        let keep = tests.iter().map(String::as_str).collect();
        session.end_all(Kind::Test, &keep);
    }
    for file in edited {
        session.bump(Kind::File, &file, run);
        count(Kind::File, &file);
    }
}

/// A session's loops counted; one within a longer loop of another kind (a test failing in a failing command)
/// is named in that loop instead.
fn resolve(
    mut ended: Vec<Ended>,
    loops: &mut Vec<Loop>,
    friction: &mut HashMap<(Kind, String), (u64, u64)>,
) {
    ended.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.streak.times.cmp(&a.streak.times))
            .then(a.streak.first.cmp(&b.streak.first))
    });
    let mut counted: Vec<(u32, u32, Loop)> = Vec::new();
    for e in ended {
        friction.entry((e.kind, e.name.clone())).or_default().1 += 1;
        let (first, last) = (e.streak.first, e.streak.last);
        if let Some((_, _, outer)) = counted
            .iter_mut()
            .find(|(f, l, outer)| outer.kind != e.kind && *f <= first && last <= *l)
        {
            let named = if e.kind == Kind::File {
                &mut outer.files
            } else {
                &mut outer.tests
            };
            if !named.contains(&e.name) {
                named.push(e.name);
            }
            continue;
        }
        counted.push((
            first,
            last,
            Loop {
                kind: e.kind,
                name: e.name,
                times: e.streak.times,
                tests: Vec::new(),
                files: Vec::new(),
            },
        ));
    }
    loops.extend(counted.into_iter().map(|(_, _, l)| l));
}

/// A shell command as it is named in the report: its first line without a leading `cd DIR &&`, the project's
/// path as `.`, whitespace squeezed, shortened and redacted.
pub(super) fn command_key(command: &str, root: &Path) -> String {
    let mut line = command
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    while let Some(rest) = line.strip_prefix("cd ") {
        match rest.find("&&") {
            Some(i) => line = rest[i + 2..].trim_start(),
            None => break,
        }
    }
    let root = root.to_string_lossy();
    if root.len() > 1 {
        return shown_name(&line.replace(&format!("{root}/"), "").replace(&*root, "."));
    }
    shown_name(line)
}

fn shown_name(text: &str) -> String {
    redact(&squeeze(text, NAME_CHARS)).into_owned()
}

/// A file relative to the project (or the worktree) it is in, else its last two components.
fn shown_file(file: &str, root: &Path) -> String {
    let path = Path::new(file);
    if let Ok(rel) = path.strip_prefix(root) {
        return shown_name(&rel.to_string_lossy());
    }
    let tail: Vec<_> = path.components().rev().take(2).collect();
    let tail: PathBuf = tail.into_iter().rev().collect();
    shown_name(&tail.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::steps::sessions::transcript::read_records;

    const CWD: &str = "/home/me/shop";

    fn date() -> NaiveDate {
        "2026-11-21".parse().unwrap()
    }

    /// A record of session `s1` in the shop at `time` (on 2026-11-20, UTC).
    fn rec(time: &str, kind: &str, message: &Value) -> Value {
        json!({"type": kind, "timestamp": format!("2026-11-20T{time}.000Z"), "cwd": CWD, "sessionId": "s1",
               "isSidechain": false, "gitBranch": "main", "message": message, "someNewField": [1]})
    }

    fn typed(time: &str, text: &str) -> Value {
        rec(time, "user", &json!({"role": "user", "content": text}))
    }

    fn call(time: &str, id: &str, name: &str, input: &Value) -> Value {
        let mut r = rec(
            time,
            "assistant",
            &json!({"id": format!("msg_{id}"), "model": "claude-sonnet-4-5", "role": "assistant",
                   "content": [{"type": "tool_use", "id": id, "name": name, "input": input}],
                   "usage": {"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 1000}}),
        );
        r["requestId"] = json!(format!("req_{id}"));
        r
    }

    fn result(time: &str, id: &str, error: bool, output: &str) -> Value {
        rec(
            time,
            "user",
            &json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "is_error": error, "content": output}]}),
        )
    }

    fn said(time: &str, text: &str) -> Value {
        rec(
            time,
            "assistant",
            &json!({"id": format!("msg_said{time}"), "model": "claude-sonnet-4-5",
                   "content": [{"type": "text", "text": text}], "usage": {"input_tokens": 1, "output_tokens": 1}}),
        )
    }

    fn analyze(records: &[Value], roots: &[&str]) -> SessionsData {
        let text: String = records.iter().map(|r| r.to_string() + "\n").collect();
        let mut analysis = Analysis::new(
            Window::previous_day(date()),
            roots.iter().map(PathBuf::from).collect(),
        );
        let mut carried = FileState::default();
        let stats = read_records(text.as_bytes(), |r| analysis.record(&mut carried, r)).unwrap();
        assert_eq!(stats.bad, 0);
        analysis.file_read(stats);
        analysis.finish("shop", date())
    }

    const PYTEST_FAIL: &str = "Exit code 1\n============ FAILURES ============\n___ test_total ___\n\n    def test_total():\n>       assert total([]) == 0\nE       assert 1 == 0\n\ntests/test_cart.py:3: AssertionError\n=========================== short test summary info ============================\nFAILED tests/test_cart.py::test_total - assert 1 == 0\n1 failed in 0.01s\n";

    /// Edit the cart, run the test and fail, three times; then the test passes.
    fn thrash() -> Vec<Value> {
        let mut records = vec![typed("10:00:00", "make the cart total right")];
        for i in 0..3 {
            let t = |s: u32| format!("10:0{i}:{s:02}");
            records.push(call(&t(1), &format!("e{i}"), "Edit", &json!({"file_path": format!("{CWD}/app/cart.py"), "old_string": "a", "new_string": "b"})));
            records.push(result(
                &t(2),
                &format!("e{i}"),
                false,
                "The file has been updated.",
            ));
            records.push(call(&t(3), &format!("b{i}"), "Bash", &json!({"command": "cd /home/me/shop && python -m pytest -q tests/test_cart.py", "description": "run"})));
            records.push(result(&t(4), &format!("b{i}"), true, PYTEST_FAIL));
        }
        records.push(call(
            "10:04:00",
            "ok",
            "Bash",
            &json!({"command": "python -m pytest -q tests/test_cart.py"}),
        ));
        records.push(result("10:04:05", "ok", false, "1 passed"));
        records
    }

    #[test]
    fn a_failing_test_run_three_times_in_a_row_is_one_loop_naming_the_test_and_the_file() {
        let data = analyze(&thrash(), &[CWD]);
        assert_eq!(data.sessions, 1);
        assert_eq!(data.user_turns, 1);
        assert_eq!((data.tool_calls, data.tool_errors), (7, 3));
        assert_eq!(data.tool_calls_by_tool["Bash"], 4);
        assert_eq!(data.tool_calls_by_tool["Edit"], 3);
        assert_eq!(data.tool_errors_by_tool.get("Bash"), Some(&3));
        assert_eq!(data.tool_errors_by_tool.get("Edit"), None);
        assert_eq!(data.thrash_loops, 1, "{:#?}", data.loops);
        let l = &data.loops[0];
        assert_eq!(
            (l.kind, l.name.as_str(), l.times),
            (Kind::Command, "python -m pytest -q tests/test_cart.py", 3)
        );
        assert_eq!(l.tests, ["tests/test_cart.py::test_total"]);
        assert_eq!(l.files, ["app/cart.py"]);
        let friction: Vec<(Kind, &str, u64, u64)> = data
            .top_friction
            .iter()
            .map(|f| (f.kind, f.name.as_str(), f.failures, f.loops))
            .collect();
        assert_eq!(
            friction,
            [
                (
                    Kind::Command,
                    "python -m pytest -q tests/test_cart.py",
                    3,
                    1
                ),
                (Kind::Test, "tests/test_cart.py::test_total", 3, 1),
                (Kind::File, "app/cart.py", 3, 1),
            ]
        );
        // 10:00:00 to 10:04:05 without a gap over five minutes.
        assert!(
            (data.active_minutes - 4.1).abs() < 1e-9,
            "{}",
            data.active_minutes
        );
    }

    #[test]
    fn commands_are_named_by_their_first_line_relative_to_the_project_and_redacted() {
        let root = Path::new(CWD);
        assert_eq!(
            command_key(
                "cd /home/me/shop && pytest /home/me/shop/tests/x.py\necho more",
                root
            ),
            "pytest tests/x.py"
        );
        assert_eq!(command_key("ls   /home/me/shop", root), "ls .");
        assert_eq!(
            command_key("curl -H 'x' https://api.test/?api_key=abc123def456", root),
            "curl -H 'x' https://api.test/?api_key=[REDACTED]"
        );
        assert_eq!(
            command_key(&"y".repeat(300), root).chars().count(),
            NAME_CHARS
        );
    }

    #[test]
    fn two_failures_or_a_success_between_are_no_loop() {
        let mut records = thrash();
        // The second run passes: two separate failures, then one.
        records[8] = result("10:01:04", "b1", false, "1 passed");
        let data = analyze(&records, &[CWD]);
        assert_eq!(
            (data.thrash_loops, data.tool_errors),
            (0, 2),
            "{:#?}",
            data.loops
        );
        assert_eq!(data.top_friction[0].failures, 2);
    }

    #[test]
    fn other_projects_other_days_and_bookkeeping_are_left_out_but_worktrees_and_subfolders_count() {
        let mut other = typed("11:00:00", "elsewhere");
        other["cwd"] = json!("/home/me/shopping");
        let mut early = typed("11:00:00", "the day before");
        early["timestamp"] = json!("2026-11-19T23:59:59.000Z");
        let mut late = typed("11:00:00", "the day after");
        late["timestamp"] = json!("2026-11-21T00:00:00.000Z");
        let mut sub = typed("11:00:00", "in a subfolder");
        sub["cwd"] = json!("/home/me/shop/api");
        sub["sessionId"] = json!("s2");
        let mut tree = typed("11:00:00", "in a worktree");
        tree["cwd"] = json!("/home/me/wt/shop-fix");
        tree["sessionId"] = json!("s3");
        let meta = json!({"type": "user", "isMeta": true, "timestamp": "2026-11-20T11:00:00.000Z", "cwd": CWD, "sessionId": "s1",
                          "message": {"role": "user", "content": "<command-message>init</command-message>"}});
        let snapshot =
            json!({"type": "file-history-snapshot", "snapshot": {"trackedFileBackups": {}}});
        let data = analyze(
            &[other, early, late, sub, tree, meta, snapshot],
            &[CWD, "/home/me/wt/shop-fix"],
        );
        assert_eq!((data.sessions, data.user_turns), (3, 2));
    }

    #[test]
    fn interruptions_and_short_corrections_after_the_model_are_counted() {
        let records = vec![
            typed("09:00:00", "add a discount field"),
            said("09:00:10", "Done: I renamed the table."),
            typed("09:00:20", "No, that's wrong — revert it"),
            said("09:00:30", "Reverted."),
            typed("09:00:40", "[Request interrupted by user]"),
            typed(
                "09:00:50",
                "now undo the migration as well, and then write a long explanation",
            ),
            typed("09:01:00", "undo"),
            said("09:01:10", "ok"),
            typed(
                "09:01:20",
                &format!("please do not revert {}", "the schema ".repeat(40)),
            ),
        ];
        let data = analyze(&records, &[CWD]);
        assert_eq!(data.interruptions, 1);
        // The turn after the interruption answers the model's turn; "undo" follows a user turn; the long turn is
        // a new request.
        assert_eq!(data.corrections, 2);
        assert_eq!(data.user_turns, 5);
        assert!(is_correction("that's not what I asked"));
        assert!(!is_correction("now add tests for the cart"));
    }

    #[test]
    fn tokens_count_each_message_once_as_ccusage_does_and_are_priced() {
        let mut records = thrash();
        // Claude Code writes a message's blocks on lines of their own, each with the message's usage.
        records.push(call("10:05:00", "dup", "Read", &json!({"file_path": "x"})));
        records.push(call("10:05:00", "dup", "Read", &json!({"file_path": "y"})));
        let mut synthetic = said("10:06:00", "API Error");
        synthetic["message"]["model"] = json!("<synthetic>");
        synthetic["message"]["usage"] = json!({"input_tokens": 0, "output_tokens": 0});
        records.push(synthetic);
        let mut no_usage = said("10:07:00", "x");
        no_usage["message"]["usage"] = json!({"cache_read_input_tokens": 7});
        records.push(no_usage);
        let data = analyze(&records, &[CWD]);
        // 7 calls of the thrash, one message of two lines.
        assert_eq!(
            data.tokens,
            Tokens {
                input: 800,
                output: 80,
                cache_creation: 40,
                cache_read: 8000
            }
        );
        assert_eq!(data.tokens_by_model.len(), 1, "no <synthetic>");
        // Sonnet: 800 * 3 + 80 * 15 + 40 * 3.75 + 8000 * 0.3 per million.
        assert!((data.cost_usd - 0.0062).abs() < 1e-9, "{}", data.cost_usd);
        assert!(data.unpriced_models.is_empty());
    }
}
