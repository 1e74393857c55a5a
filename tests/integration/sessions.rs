//! The `sessions` step and `daydream sessions` on transcripts written by the real Claude Code against the fake
//! Anthropic API (its real on-disk format), with token totals checked against ccusage on the same files; and the
//! friction in reflection's fenced digest.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::fake_anthropic::{FakeAnthropic, Reply};
use crate::harness::{Root, Run, config_for, required_tool, unit};
use crate::reflect::{fake_claude, real_claude, result};

/// ccusage 17.2.1 from `DAYDREAM_TEST_CCUSAGE`; skipped without it on a developer's machine, a failure under `CI`
/// (where `.ci/run` installs it).
fn ccusage() -> Option<PathBuf> {
    required_tool(
        "DAYDREAM_TEST_CCUSAGE",
        "the ccusage of `npm install --prefix DIR ccusage@17.2.1` (DIR/node_modules/.bin/ccusage)",
    )
}

const PROMPT: &str = "please list the secret-sauce folder";
const FAILING: &str = "ls /nonexistent-daydream-sessions-test";

/// Runs the real `claude -p` in `project` with transcripts kept under `config_dir`; `args` come before the
/// allowed tools, the prompt goes on stdin.
fn claude_session(
    claude: &Path,
    api: &FakeAnthropic,
    home: &Path,
    config_dir: &Path,
    project: &Path,
    args: &[&str],
    prompt: &str,
) {
    use std::io::Write as _;
    let mut child = Command::new(claude)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(api.env(home))
        .env("CLAUDE_CONFIG_DIR", config_dir)
        .current_dir(project)
        .args(["-p", "--output-format", "json"])
        .args(args)
        .args(["--allowedTools", "Bash", "Edit", "Read"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(prompt.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().unwrap()).expect(0);
}

/// `daydream ARGS` in `root`, with the transcripts under `config_dir`.
fn daydream(root: &Root, config_dir: &Path, args: &[&str]) -> Run {
    Run::from(
        root.cmd(args)
            .env("CLAUDE_CONFIG_DIR", config_dir)
            .output()
            .unwrap(),
    )
}

/// The run date whose window is today (UTC, the harness's time zone): the real binary stamps the real time.
fn run_date_for_today() -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string()
}

#[test]
fn real_transcripts_are_analysed_and_their_tokens_equal_ccusages() {
    let Some(claude) = real_claude() else { return };
    let ccusage = ccusage();
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    let project = root.join("projects/shop");
    let config_dir = root.join("claude-config");
    let home = root.join("claude-home");
    std::fs::create_dir_all(&home).unwrap();
    let api = FakeAnthropic::start(vec![
        Reply::tool("Bash", json!({"command": FAILING, "description": "list"})),
        Reply::tool("Bash", json!({"command": FAILING, "description": "list"})),
        Reply::tool("Bash", json!({"command": FAILING, "description": "list"})),
        // Edit before Read: Claude Code refuses it, a tool error of Edit.
        Reply::tool(
            "Edit",
            json!({"file_path": "{cwd}/app/pay.py", "old_string": "raise", "new_string": "return"}),
        ),
        Reply::Text("I could not list it.".to_owned()),
        Reply::Text("Reverted.".to_owned()),
    ]);
    claude_session(&claude, &api, &home, &config_dir, &project, &[], PROMPT);
    api.set_usage(2345, 67);
    claude_session(
        &claude,
        &api,
        &home,
        &config_dir,
        &project,
        &["--continue"],
        "No, that's wrong, revert it",
    );

    // Claude Code's own layout: projects/<cwd with / and . as ->/<session>.jsonl.
    let folder = config_dir.join("projects").join(
        project
            .to_string_lossy()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
    );
    let transcripts: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("no transcripts in {}: {e}", folder.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    assert_eq!(transcripts.len(), 1, "{transcripts:?}");
    // A garbage line in the middle and a torn last line (a session being written) are survived.
    let mut text = std::fs::read_to_string(&transcripts[0]).unwrap();
    let middle = text[..text.len() / 2].rfind('\n').unwrap() + 1;
    text.insert_str(middle, "this is not json\n");
    text.push_str("{\"type\":\"assistant\",\"message\":{\"usage\":{\"input_tok");
    std::fs::write(&transcripts[0], text).unwrap();

    let date = run_date_for_today();
    let out = daydream(&root, &config_dir, &["sessions", "--json", "--date", &date]);
    out.expect(0);
    assert!(
        out.stderr.contains("1 line could not be read (not JSON)"),
        "{}",
        out.stderr
    );
    let list: Value = serde_json::from_str(&out.stdout).unwrap();
    let found = &list[0];
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    assert_eq!(found["project"], "shop");
    assert_eq!(found["date"], date.as_str());
    assert_eq!(found["sessions"], 1, "{found:#}");
    assert_eq!(found["user_turns"], 2, "{found:#}");
    assert_eq!(found["corrections"], 1, "{found:#}");
    assert_eq!(found["interruptions"], 0);
    assert_eq!(found["tool_calls"], 4);
    assert_eq!(found["tool_errors"], 4);
    assert_eq!(found["tool_errors_by_tool"], json!({"Bash": 3, "Edit": 1}));
    assert_eq!(found["thrash_loops"], 1);
    assert_eq!(found["loops"][0]["name"], FAILING);
    assert_eq!(found["loops"][0]["times"], 3);
    assert_eq!(found["top_friction"][0]["name"], FAILING);
    assert_eq!(found["files"]["bad_lines"], 1);
    assert_eq!(found["files"]["torn_lines"], 1);
    // Six answers: five of the first run at 1000/100 tokens, one of the second at 2345/67.
    assert_eq!(found["tokens"]["input"], 5 * 1000 + 2345, "{found:#}");
    assert_eq!(found["tokens"]["output"], 5 * 100 + 67);
    assert!(found["cost_usd"].as_f64().unwrap() > 0.0, "{found:#}");
    let json = &out.stdout;
    assert!(
        !json.contains("secret-sauce") && !json.contains("No such file"),
        "neither the prompt nor a tool's output: {json}"
    );

    if let Some(ccusage) = ccusage {
        assert_tokens_equal_ccusages(&ccusage, &home, &config_dir, found);
    }

    assert_the_nightly_step_agrees(&root, &config_dir, &date, found);
}

/// The nightly step over the same transcripts finds what `daydream sessions` found, and its report section
/// carries counts and names only.
fn assert_the_nightly_step_agrees(root: &Root, config_dir: &Path, date: &str, found: &Value) {
    let steps = [
        "run", "--step", "sessions", "--step", "report", "--date", date,
    ];
    daydream(root, config_dir, &steps).expect(0);
    let state: Value = serde_json::from_str(&root.read("logs/daydream/state.json")).unwrap();
    let unit = unit(&state, "sessions", "shop");
    assert_eq!(unit["status"], "done", "{unit:#}");
    assert_eq!(unit["output"]["data"]["tokens"], found["tokens"]);
    let report = root.read(&format!("logs/daydream/report_{date}.md"));
    assert!(report.contains("## Claude Code Sessions"), "{report}");
    assert!(
        report.contains(&format!("command `{FAILING}` failed 3 times in a row")),
        "{report}"
    );
    assert!(
        !report.contains("secret-sauce") && !report.contains("No such file"),
        "{report}"
    );
}

/// 2026-11-20T12:00:00Z, in the harness's window.
const NOON: u64 = 1_795_176_000;

fn set_mtime(path: &Path, unix: u64) {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

/// One record of session `s` in `cwd`, at `time` on 2026-11-20 (the harness's window).
fn record(cwd: &Path, time: &str, kind: &str, message: &Value) -> String {
    json!({"type": kind, "timestamp": format!("2026-11-20T{time}.000Z"), "cwd": cwd, "sessionId": "s",
           "message": message})
    .to_string()
}

/// A transcript in which `pytest` fails the same test four times in a row.
fn thrashing_transcript(root: &Root) -> PathBuf {
    let cwd = root.join("projects/shop");
    let mut lines = vec![record(
        &cwd,
        "10:00:00",
        "user",
        &json!({"role": "user", "content": "fix the total; my token is password=hunter2"}),
    )];
    for i in 0..4 {
        lines.push(record(&cwd, &format!("10:0{i}:10"), "assistant", &json!({
            "id": format!("m{i}"), "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": format!("t{i}"), "name": "Bash", "input": {"command": "pytest -q tests/test_cart.py"}}],
            "usage": {"input_tokens": 10, "output_tokens": 1}})));
        lines.push(record(&cwd, &format!("10:0{i}:20"), "user", &json!({
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": format!("t{i}"), "is_error": true,
                         "content": "FAILED tests/test_cart.py::test_total - assert 1 == 0\n1 failed in 0.01s"}]})));
    }
    let folder = root.join("claude-config/projects").join(
        cwd.to_string_lossy()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
    );
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("s.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    set_mtime(&path, NOON);
    path
}

/// Runs ccusage over the same transcripts for today (UTC) and compares its token totals with `found`'s.
fn assert_tokens_equal_ccusages(ccusage: &Path, home: &Path, config_dir: &Path, found: &Value) {
    let day = chrono::Utc::now().date_naive().format("%Y%m%d").to_string();
    let out = Command::new(ccusage)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TZ", "UTC")
        .env("CLAUDE_CONFIG_DIR", config_dir)
        .args(["daily", "--json", "--offline", "--timezone", "UTC"])
        .args(["--since", &day, "--until", &day])
        .output()
        .unwrap();
    let out = Run::from(out);
    out.expect(0);
    let usage: Value = serde_json::from_str(&out.stdout).unwrap();
    let totals = &usage["totals"];
    for (ours, theirs) in [
        ("input", "inputTokens"),
        ("output", "outputTokens"),
        ("cache_creation", "cacheCreationTokens"),
        ("cache_read", "cacheReadTokens"),
    ] {
        assert_eq!(
            found["tokens"][ours], totals[theirs],
            "{ours} against ccusage's {theirs}: {usage:#}"
        );
    }
}

#[test]
fn reflection_reads_the_friction_inside_the_untrusted_fence_and_never_the_prompt() {
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    thrashing_transcript(&root);
    let claude = fake_claude(&root, &result(&json!({"reflections": []}), 0.01));
    Run::from(
        root.cmd(&["run"])
            .env("DAYDREAM_CLAUDE", &claude)
            .env("CLAUDE_CONFIG_DIR", root.join("claude-config"))
            .output()
            .unwrap(),
    )
    .expect(0);
    let stdin = root.read("bin/stdin.txt");
    let begin = stdin.find("BEGIN UNTRUSTED FINDINGS").unwrap();
    let end = stdin.find("END UNTRUSTED FINDINGS").unwrap();
    let fenced = &stdin[begin..end];
    assert!(
        fenced.contains("thrash loop: command `pytest -q tests/test_cart.py` failed 4 times in a row (failing `tests/test_cart.py::test_total`)"),
        "{stdin}"
    );
    assert!(fenced.contains("tool errors by tool: Bash 4"), "{stdin}");
    assert!(
        !stdin.contains("hunter2") && !stdin.contains("fix the total"),
        "{stdin}"
    );
    let report = root.report();
    assert!(report.contains("**1 thrash loop**"), "{report}");
    assert!(
        !report.contains("hunter2") && !report.contains("fix the total"),
        "{report}"
    );
}

#[test]
fn transcripts_older_than_the_window_are_not_opened() {
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    let path = thrashing_transcript(&root);
    set_mtime(&path, NOON - 7 * 86_400);
    let config_dir = root.join("claude-config");
    let out = daydream(
        &root,
        &config_dir,
        &["sessions", "--json", "--project", "shop"],
    );
    out.expect(0);
    let list: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(list[0]["files"]["skipped_old"], 1, "{list:#}");
    assert_eq!(list[0]["files"]["read"], 0);
    assert_eq!(list[0]["sessions"], 0);
    let doctor = daydream(&root, &config_dir, &["doctor"]);
    assert!(
        doctor.stdout.contains("ok    Claude Code transcripts: `")
            && doctor.stdout.contains("claude-config/projects` (1 folder)"),
        "{}",
        doctor.stdout
    );
    let unknown = daydream(&root, &config_dir, &["sessions", "--project", "nope"]);
    unknown.expect(2);
    assert!(
        unknown.stderr.contains("no project `nope`"),
        "{}",
        unknown.stderr
    );
}
