//! The reflect step: the digest goes to `claude`, the reply is validated, lessons are stored and read back, and
//! every call is in the ledger before the state.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::harness::{Root, Run, config_for, unit};

/// A stand-in `claude` that records its argv and stdin and prints `reply` (a result object) or `raw` text.
pub fn fake_claude(root: &Root, body: &str) -> PathBuf {
    let path = root.join("bin/claude");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"{dir}/argv.txt\"\ncat > \"{dir}/stdin.txt\"\n{body}\n",
        dir = root.join("bin").display()
    );
    root.write("bin/claude", script);
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

pub fn result(structured: &Value, cost: f64) -> String {
    let object = json!({
        "type": "result", "subtype": "success", "is_error": false, "result": "",
        "structured_output": structured, "total_cost_usd": cost, "num_turns": 2, "session_id": "s-1",
        "permission_denials": []
    });
    format!("cat <<'JSON'\n{object}\nJSON")
}

fn reflection() -> Value {
    json!({
        "category": "code_bug", "summary": "Payment retries give up too early",
        "pattern": "Payment failed for order N: card_declined repeats 13 times a day",
        "prevention": "Back off and surface declines to the user", "project": "shop",
        "evidence": ["logs: Payment failed for order <*>"], "confidence": 0.8
    })
}

fn run_with(root: &Root, claude: &PathBuf, args: &[&str]) -> Run {
    Run::from(
        root.cmd(args)
            .env("DAYDREAM_CLAUDE", claude)
            .output()
            .unwrap(),
    )
}

fn ledger(root: &Root) -> Vec<Value> {
    std::fs::read_to_string(root.join("data/spend.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_reflection_is_stored_as_a_lesson_recorded_in_the_ledger_and_read_back_the_next_day() {
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    let claude = fake_claude(
        &root,
        &result(
            &json!({"reflections": [reflection(), {"category": "nope"}]}),
            0.0123,
        ),
    );
    run_with(&root, &claude, &["run"]).expect(0);

    let state = root.state();
    let reflect = unit(&state, "reflect", "*");
    assert_eq!(reflect["status"], "done", "{reflect:#}");
    assert_eq!(
        reflect["output"]["summary"],
        "1 reflection(s) for $0.01: 1 new lesson(s), 0 recurring; 1 malformed element(s) dropped"
    );
    let argv = root.read("bin/argv.txt");
    for flag in [
        "--print",
        "--output-format",
        "json",
        "--no-session-persistence",
        "--json-schema",
        "--max-budget-usd",
        "--max-turns",
    ] {
        assert!(argv.lines().any(|l| l == flag), "{flag} in {argv}");
    }
    let stdin = root.read("bin/stdin.txt");
    assert!(
        stdin.contains("BEGIN UNTRUSTED FINDINGS") && stdin.contains("Payment failed for order"),
        "{stdin}"
    );
    assert!(stdin.contains("No lessons are known yet."));

    // The ledger has the call: started with its cap, settled with what the binary reported.
    let lines = ledger(&root);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.to_string().contains("0.0123")),
        "{lines:#?}"
    );

    let lessons = root.read("data/lessons_learned.jsonl");
    assert_eq!(lessons.lines().count(), 1);
    let listed = root.run(&["lessons"]);
    assert!(listed.stdout.contains("code_bug · shop · Payment failed for order N: card_declined repeats 13 times a day · seen on 1 day(s)"), "{}", listed.stdout);
    assert!(
        root.report().contains("## Reflections"),
        "{}",
        root.report()
    );
    assert!(
        root.report().contains(
            "**Payment retries give up too early** · `code_bug` · shop · confidence 0.80"
        )
    );

    // The next day the lesson is in the prompt, and its recurrence is counted.
    let next = Run::from(
        root.cmd(&["run"])
            .env("DAYDREAM_CLAUDE", &claude)
            .env("DAYDREAM_NOW", "2026-11-22T06:00:00+00:00")
            .output()
            .unwrap(),
    );
    next.expect(0);
    let stdin = root.read("bin/stdin.txt");
    assert!(stdin.contains("Lessons already known"), "{stdin}");
    assert!(
        stdin.contains("Payment failed for order N: card_declined repeats 13 times a day"),
        "{stdin}"
    );
    let lessons: Value = serde_json::from_str(
        root.read("data/lessons_learned.jsonl")
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(lessons["occurrences"], 2);
}

#[test]
fn no_findings_means_no_call_and_the_report_says_why() {
    let root = Root::new();
    std::fs::create_dir_all(root.join("projects/quiet")).unwrap();
    root.config(&config_for(&["quiet"]));
    let claude = fake_claude(&root, "echo should-not-run; exit 1");
    run_with(&root, &claude, &["run"]).expect(0);
    assert!(!root.join("bin/argv.txt").exists(), "claude was not called");
    assert_eq!(
        unit(&root.state(), "reflect", "*")["reason"],
        "no findings today, so no model call"
    );
    assert!(
        root.report()
            .contains("_Skipped: no findings today, so no model call._")
    );
}

#[test]
fn a_reply_that_is_not_the_expected_shape_fails_the_unit_loudly() {
    for (body, why) in [
        (result(&json!([reflection()]), 0.01), "the reply is a list"),
        (
            "echo 'this is not json'".to_owned(),
            "did not print one json result object",
        ),
        ("echo boom >&2; exit 1".to_owned(), "boom"),
    ] {
        let root = Root::new();
        root.project("shop").config(&config_for(&["shop"]));
        let claude = fake_claude(&root, &body);
        let run = run_with(&root, &claude, &["run"]);
        run.expect(1);
        let state = root.state();
        let reflect = unit(&state, "reflect", "*");
        assert_eq!(reflect["status"], "failed");
        let error = reflect["last_error"].as_str().unwrap().to_lowercase();
        assert!(
            error.contains("reflection failed") && error.contains(why),
            "{error}"
        );
        assert!(!root.join("data/lessons_learned.jsonl").exists());
        assert!(
            root.report()
                .contains("`reflect` failed after 1 attempt(s): reflection failed"),
            "{}",
            root.report()
        );
    }
}

#[test]
fn no_spend_makes_no_call_and_an_exhausted_budget_is_a_finding() {
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    let claude = fake_claude(&root, &result(&json!({"reflections": []}), 0.01));
    let run = run_with(&root, &claude, &["run", "--dry-run", "--no-spend"]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("no model call (--no-spend); it would have spent at most $5.00"),
        "{}",
        run.stdout
    );
    assert!(!root.join("bin/argv.txt").exists());

    let run = Run::from(
        root.cmd(&["run"])
            .env("DAYDREAM_CLAUDE", &claude)
            .env("DAYDREAM_BUDGET_USD", "0.04")
            .output()
            .unwrap(),
    );
    run.expect(0);
    let reflect = unit(&root.state(), "reflect", "*").clone();
    assert!(
        reflect["output"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("budget exhausted: $0.00 of $0.04"),
        "{reflect:#}"
    );
    assert!(
        !root.join("bin/argv.txt").exists(),
        "no call under the minimum useful amount"
    );
    assert!(root.report().contains("budget exhausted"));
}

/// The real Claude Code from `DAYDREAM_TEST_CLAUDE`; skipped without it on a developer's machine, a failure
/// under `CI` (where `.ci/run` installs it).
pub fn real_claude() -> Option<PathBuf> {
    crate::harness::pinned_tool(
        "DAYDREAM_TEST_CLAUDE",
        "`npm install --prefix DIR @anthropic-ai/claude-code@2.1.328` (DIR/node_modules/.bin/claude)",
    )
}

#[test]
fn the_real_claude_reflects_through_the_schema_and_its_cost_lands_in_the_ledger() {
    let Some(claude) = real_claude() else { return };
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    let api =
        crate::fake_anthropic::FakeAnthropic::start(vec![crate::fake_anthropic::Reply::tool(
            "StructuredOutput",
            json!({"reflections": [reflection()]}),
        )]);
    let home = root.join("claude-home");
    std::fs::create_dir_all(&home).unwrap();
    let run = Run::from(
        root.cmd(&["run"])
            .env("DAYDREAM_CLAUDE", &claude)
            .envs(api.env(&home))
            .output()
            .unwrap(),
    );
    run.expect(0);
    let state = root.state();
    let reflect = unit(&state, "reflect", "*");
    assert_eq!(reflect["status"], "done", "{reflect:#}");
    let cost = reflect["output"]["data"]["cost_usd"].as_f64().unwrap();
    assert!(
        cost > 0.0,
        "the binary computed a cost from the fake's usage"
    );
    assert_eq!(
        reflect["output"]["data"]["reflections"][0]["summary"],
        "Payment retries give up too early"
    );
    // The ledger settled the call at exactly what the binary reported.
    let settled: Vec<Value> = ledger(&root)
        .into_iter()
        .filter(|l| l["kind"] == "settle")
        .collect();
    assert_eq!(settled.len(), 1, "{settled:#?}");
    assert!(
        (settled[0]["cost"].as_f64().unwrap() - cost).abs() < 1e-12,
        "{settled:#?} vs {cost}"
    );
    assert_eq!(settled[0]["reported"], true);
    // The prompt reached the model through stdin, with the findings fenced as data.
    let prompt = api
        .requests()
        .iter()
        .map(crate::fake_anthropic::user_text)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        prompt.contains("BEGIN UNTRUSTED FINDINGS") && prompt.contains("Payment failed for order"),
        "{prompt}"
    );
    // Reflection is offered no tool that reads, writes or runs anything: only the answer's shape.
    for body in api.requests() {
        assert_eq!(
            crate::fake_anthropic::tool_names(&body),
            ["StructuredOutput"],
            "{body:#}"
        );
    }
}

#[test]
fn a_kill_during_the_call_leaves_the_worst_case_in_the_ledger_and_status_counts_it() {
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    let claude = fake_claude(&root, "sleep 30");
    let mut child = root
        .cmd(&["run"])
        .env("DAYDREAM_CLAUDE", &claude)
        .env("DAYDREAM_BUDGET_USD", "1.25")
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !root.join("bin/stdin.txt").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "claude was never called"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    crate::harness::kill(&child, "KILL");
    child.wait().unwrap();
    let lines = ledger(&root);
    assert_eq!(lines.len(), 1, "a start line, no settle: {lines:#?}");
    assert_eq!(lines[0]["kind"], "start");
    assert_eq!(lines[0]["cap"], 1.25);
    let status = Run::from(
        root.cmd(&["status"])
            .env("DAYDREAM_BUDGET_USD", "1.25")
            .output()
            .unwrap(),
    );
    assert!(
        status
            .stdout
            .contains("spend: today $1.25 (no cap), this month $1.25 (no cap); per run $1.25"),
        "{}",
        status.stdout
    );
    let json: Value =
        serde_json::from_str(&Run::from(root.cmd(&["status", "--json"]).output().unwrap()).stdout)
            .unwrap();
    assert_eq!(json["spend"]["today_usd"], 1.25);
}
