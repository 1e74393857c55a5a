//! `daydream fix` end to end: a real pytest project in a git repository, the real `claude` against the
//! scripted fake Anthropic API, the tests run in the sandbox. The user's checkout, its branch and its files
//! must be untouched, nothing pushed, and each verified fix one commit on `daydream/autofix-<date>`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use crate::autofix::git;
use crate::fake_anthropic::{FakeAnthropic, Reply};
use crate::harness::{Root, Run};
use crate::reflect::real_claude;

const BRANCH: &str = "daydream/autofix-2026-11-21";

/// `total()` raises inside `app/cart.py` (line 5), so that is the root cause's frame.
const CART: &str = "RATES = {\"EUR\": 1.0}\n\n\ndef total(prices, currency=\"USD\"):\n    return sum(prices) * RATES[currency]\n\n\ndef count(prices):\n    return len(prices)\n";
const TEST_CART: &str = "from app.cart import total, count\n\n\ndef test_total():\n    assert total([2, 3]) == 5\n\n\ndef test_count():\n    assert count([2, 3]) == 2\n";
const TOKENS: &str =
    "SECONDS = {\"min\": 60}\n\n\ndef expiry(minutes):\n    return minutes * SECONDS[\"minute\"]\n";
const TEST_AUTH: &str =
    "from auth.tokens import expiry\n\n\ndef test_expiry():\n    assert expiry(2) == 120\n";
/// Fails on its first run in a worktree, passes afterwards: flaky.
const TEST_FLAKY: &str = "import pathlib\n\n\ndef test_sometimes():\n    flag = pathlib.Path(__file__).parent / '.ran-once'\n    if not flag.exists():\n        flag.write_text('x')\n        assert False, 'first run fails'\n";

/// pytest is there (`python3 -m pytest`); skipped without it on a developer's machine, a failure under CI.
pub fn pytest() -> bool {
    let ok = Command::new("python3")
        .args(["-m", "pytest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "pytest must be installed under CI (`.ci/run` installs it)"
    );
    if !ok {
        eprintln!("skipped: `python3 -m pytest` is not installed");
    }
    ok
}

/// A root with project `shop`: a pytest project with a real bug in `app/cart.py`, a bug in the protected
/// `auth/`, a flaky test, committed on `main`, plus the user's uncommitted work.
pub struct Project {
    pub root: Root,
    claude: PathBuf,
    status_before: String,
    head_before: String,
}

impl Project {
    pub fn new(files: &[(&str, &str)]) -> Option<Project> {
        let claude = real_claude()?;
        if !pytest() {
            return None;
        }
        let root = Root::new();
        root.project("shop");
        for (path, text) in files {
            root.write(&format!("projects/shop/{path}"), text);
        }
        root.write(
            "projects/shop/.gitignore",
            ".ran-once\n__pycache__/\n.pytest_cache/\n",
        );
        let dir = root.join("projects/shop");
        git(&dir, &["init", "-q", "-b", "main"]);
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "-m", "start"]);
        // The user's work in progress on a branch of their own.
        git(&dir, &["checkout", "-q", "-b", "feature"]);
        root.write("projects/shop/README.md", "work in progress\n");
        root.config(
            r#"{"projects": {"shop": {"working_directory": "projects/shop",
                "test_command": "python3 -m pytest -q -p no:cacheprovider"}}}"#,
        );
        let status_before = git(&dir, &["status", "--porcelain"]);
        let head_before = git(&dir, &["rev-parse", "HEAD"]);
        Some(Project {
            root,
            claude,
            status_before,
            head_before,
        })
    }

    /// The cart project alone: `total()` raises `KeyError`, `count()` works.
    pub fn cart() -> Option<Project> {
        Project::new(&[
            ("app/__init__.py", ""),
            ("app/cart.py", CART),
            ("tests/test_cart.py", TEST_CART),
        ])
    }

    pub fn dir(&self) -> PathBuf {
        self.root.join("projects/shop")
    }

    /// The real claude, talking to `api`.
    fn claude_env(&self, api: &FakeAnthropic) -> Vec<(String, String)> {
        let home = self.root.join("claude-home");
        std::fs::create_dir_all(&home).unwrap();
        let mut env = api.env(&home);
        env.push((
            "DAYDREAM_CLAUDE".to_owned(),
            self.claude.to_string_lossy().into_owned(),
        ));
        env
    }

    /// `daydream ARGS` in the background, with the real claude talking to `api`.
    pub fn spawn(&self, api: &FakeAnthropic, args: &[&str]) -> std::process::Child {
        let env = self.claude_env(api);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.root.spawn(args, &env)
    }

    pub fn fix(&self, api: &FakeAnthropic, args: &[&str]) -> Run {
        let mut all = vec!["fix"];
        all.extend_from_slice(args);
        Run::from(
            self.root
                .cmd(&all)
                .envs(self.claude_env(api))
                .output()
                .unwrap(),
        )
    }

    /// The user's branch, HEAD, files and status are what they were; the only new branch is the fix's.
    #[track_caller]
    pub fn assert_untouched(&self) {
        let dir = self.dir();
        assert_eq!(git(&dir, &["rev-parse", "--abbrev-ref", "HEAD"]), "feature");
        assert_eq!(git(&dir, &["rev-parse", "HEAD"]), self.head_before);
        assert_eq!(git(&dir, &["status", "--porcelain"]), self.status_before);
        assert_eq!(
            self.root.read("projects/shop/README.md"),
            "work in progress\n"
        );
        let worktrees = git(&dir, &["worktree", "list"]);
        assert_eq!(worktrees.lines().count(), 1, "{worktrees}");
        assert!(git(&dir, &["remote"]).is_empty(), "no remote was added");
    }

    pub fn attempts(&self) -> Vec<Value> {
        self.root
            .read("data/fix_attempts.jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn edit(file: &str, old: &str, new: &str) -> Reply {
    Reply::tool(
        "Edit",
        json!({ "file_path": format!("{{cwd}}/{file}"), "old_string": old, "new_string": new }),
    )
}

fn read(file: &str) -> Reply {
    Reply::tool("Read", json!({ "file_path": format!("{{cwd}}/{file}") }))
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario: the branch, the summary, the prompts, the records, the metrics"
)]
fn the_bug_is_fixed_on_a_local_branch_the_flaky_test_never_reaches_the_model_and_the_protected_one_is_refused()
 {
    let Some(p) = Project::new(&[
        ("app/__init__.py", ""),
        ("app/cart.py", CART),
        ("auth/__init__.py", ""),
        ("auth/tokens.py", TOKENS),
        ("tests/test_cart.py", TEST_CART),
        ("tests/test_auth.py", TEST_AUTH),
        ("tests/test_flaky.py", TEST_FLAKY),
    ]) else {
        return;
    };
    // Root causes go in key order here (each has one failure): `app/cart.py` first, then `auth/tokens.py`.
    let mut script = vec![
        read("app/cart.py"),
        edit("app/cart.py", "RATES[currency]", "RATES.get(currency, 1.0)"),
        Reply::Text(
            "total() looked up an unknown currency; it defaults to a rate of 1 now.".to_owned(),
        ),
    ];
    for _ in 0..3 {
        script.push(read("auth/tokens.py"));
        script.push(edit(
            "auth/tokens.py",
            "SECONDS[\"minute\"]",
            "SECONDS[\"min\"]",
        ));
        script.push(Reply::Text("a minute has 60 seconds".to_owned()));
    }
    let api = FakeAnthropic::start(script);
    let run = p.fix(&api, &[]);
    run.expect(1);
    let out = &run.stdout;

    // The fix: one commit by daydream on the local branch, from main; nothing pushed anywhere.
    let dir = p.dir();
    let log = git(
        &dir,
        &["log", "--format=%an %s", &format!("main..{BRANCH}")],
    );
    assert_eq!(
        log, "daydream fix: tests/test_cart.py::test_total",
        "{log}\n{out}"
    );
    let fixed = git(&dir, &["show", &format!("{BRANCH}:app/cart.py")]);
    assert!(fixed.contains("RATES.get(currency, 1.0)"), "{fixed}");
    let message = git(&dir, &["log", "-1", "--format=%B", BRANCH]);
    assert!(message.contains("Root cause: app/cart.py:5"), "{message}");
    assert!(
        message.contains("Approach: total() looked up an unknown currency"),
        "{message}"
    );
    let auth = git(&dir, &["show", &format!("{BRANCH}:auth/tokens.py")]);
    assert_eq!(
        auth,
        TOKENS.trim_end(),
        "the protected file is unchanged on the branch"
    );
    p.assert_untouched();

    // The summary: the table, the count, and why each failure is left.
    assert!(out.contains("tests/test_cart.py::test_total"), "{out}");
    assert!(
        out.contains("1/2 failing test(s) fixed; 1 flaky test(s) set aside"),
        "{out}"
    );
    assert!(
        out.contains("- not fixed: auth/tokens.py:5: protected path"),
        "{out}"
    );
    assert!(
        out.contains("- flaky: tests/test_flaky.py::test_sometimes passed when run alone"),
        "{out}"
    );
    assert!(out.contains(&format!("local branch `{BRANCH}`")), "{out}");

    // The model saw the cart bug once and the auth bug three times; never the flaky test.
    let prompts: Vec<String> = api
        .requests()
        .iter()
        .filter(|body| body["messages"].as_array().is_some_and(|m| m.len() == 1))
        .map(crate::fake_anthropic::user_text)
        .filter(|t| t.contains("You are fixing failing tests"))
        .collect();
    assert_eq!(prompts.len(), 4, "{prompts:#?}");
    assert!(prompts.iter().all(|p| !p.contains("test_sometimes")));
    assert!(prompts[0].contains("tests/test_cart.py::test_total"));
    assert!(
        prompts[3].contains("Earlier attempts") && prompts[3].contains("protected"),
        "{}",
        prompts[3]
    );

    // Every attempt and the flaky test are on record.
    let attempts = p.attempts();
    let outcomes: Vec<(&str, u64)> = attempts
        .iter()
        .map(|a| {
            (
                a["outcome"].as_str().unwrap(),
                a["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("flaky", 0),
            ("fixed", 1),
            ("rejected", 1),
            ("rejected", 2),
            ("rejected", 3)
        ]
    );

    // The metrics say so (printed for whoever reads the test's output).
    eprintln!("{}", p.root.run(&["metrics"]).stdout);
    let metrics = Run::from(p.root.cmd(&["metrics", "--json"]).output().unwrap());
    metrics.expect(0);
    let m: Value = serde_json::from_str(&metrics.stdout).unwrap();
    assert_eq!(m["total"]["fixes_attempted"], 2, "{m:#}");
    assert_eq!(m["total"]["fixes_succeeded"], 1);
    assert_eq!(m["total"]["flaky_tests"], 1);
    assert_eq!(m["total"]["rejections"]["protected path"], 3);
}

#[test]
fn a_fix_that_breaks_another_test_is_reverted_and_the_next_attempt_is_committed() {
    let Some(p) = Project::cart() else {
        return;
    };
    let api = FakeAnthropic::start(vec![
        // Attempt 1 fixes total() but breaks count().
        read("app/cart.py"),
        edit("app/cart.py", "RATES[currency]", "RATES.get(currency, 1.0)"),
        edit("app/cart.py", "len(prices)", "len(prices) + 1"),
        Reply::Text("fixed total".to_owned()),
        // Attempt 2 fixes total() alone.
        read("app/cart.py"),
        edit("app/cart.py", "RATES[currency]", "RATES.get(currency, 1.0)"),
        Reply::Text("total() returns the plain sum".to_owned()),
    ]);
    let run = p.fix(&api, &["--test", "test_total"]);
    run.expect(0);
    let dir = p.dir();
    let fixed = git(&dir, &["show", &format!("{BRANCH}:app/cart.py")]);
    assert!(
        fixed.contains("return len(prices)") && !fixed.contains("len(prices) + 1"),
        "the regression is not committed: {fixed}"
    );
    assert!(fixed.contains("RATES.get(currency, 1.0)"), "{fixed}");
    assert_eq!(
        git(&dir, &["rev-list", "--count", &format!("main..{BRANCH}")]),
        "1"
    );
    let prompts: Vec<String> = api
        .requests()
        .iter()
        .filter(|body| body["messages"].as_array().is_some_and(|m| m.len() == 1))
        .map(crate::fake_anthropic::user_text)
        .filter(|t| t.contains("You are fixing failing tests"))
        .collect();
    assert_eq!(prompts.len(), 2);
    assert!(
        prompts[1].contains("broke 1 other test(s), e.g. `tests/test_cart.py::test_count`"),
        "{}",
        prompts[1]
    );
    let outcomes: Vec<String> = p
        .attempts()
        .iter()
        .map(|a| format!("{} {}", a["outcome"].as_str().unwrap(), a["regression"]))
        .collect();
    assert_eq!(outcomes, ["regression true", "fixed false"]);
    assert!(
        run.stdout.contains("1/1 failing test(s) fixed"),
        "{}",
        run.stdout
    );
    p.assert_untouched();
}

#[test]
fn a_dry_run_shows_the_plan_and_calls_no_model_and_a_project_without_tests_is_skipped() {
    let Some(p) = Project::cart() else {
        return;
    };
    let api = FakeAnthropic::start(Vec::new());
    let run = p.fix(&api, &["--dry-run"]);
    run.expect(1);
    assert!(
        run.stdout
            .contains("would fix: app/cart.py:5 (tests/test_cart.py::test_total): KeyError: 'USD'"),
        "{}",
        run.stdout
    );
    assert!(api.requests().is_empty(), "a dry run calls no model");
    assert!(git(&p.dir(), &["branch", "--list", "daydream/*"]).is_empty());
    p.assert_untouched();

    p.root
        .config(r#"{"projects": {"shop": {"working_directory": "projects/shop"}}}"#);
    let run = p.fix(&api, &[]);
    run.expect(0);
    assert!(
        run.stdout.contains("skipped: no `test_command`"),
        "{}",
        run.stdout
    );
}

#[test]
fn watch_fixes_a_new_failure_unattended_then_stops_on_sigterm_leaving_no_worktree() {
    let Some(p) = Project::cart() else {
        return;
    };
    p.root.config(
        r#"{"projects": {"shop": {"working_directory": "projects/shop",
            "test_command": "python3 -m pytest -q -p no:cacheprovider",
            "autofix": {"safe_paths": ["app/"]}}}}"#,
    );
    let api = FakeAnthropic::start(vec![
        read("app/cart.py"),
        edit("app/cart.py", "RATES[currency]", "RATES.get(currency, 1.0)"),
        Reply::Text("total() defaults to a rate of 1".to_owned()),
    ]);
    let child = p.spawn(&api, &["watch", "--poll-interval", "1"]);

    // The first poll finds the failure, fixes it and records the branch.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    let polled = loop {
        let watch: Value = serde_json::from_str(
            &std::fs::read_to_string(p.root.join("data/watch.json")).unwrap_or_default(),
        )
        .unwrap_or(Value::Null);
        if watch["projects"]["shop"]["branch"].is_string() {
            break watch;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "watch made no fix: {watch:#}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(polled["projects"]["shop"]["branch"], BRANCH, "{polled:#}");
    // A second instance on the same root is refused by the lock.
    p.root.run(&["watch", "--poll-interval", "1"]).expect(3);
    // `status` shows the daemon's last poll.
    let status = p.root.run(&["status"]);
    assert!(status.stdout.contains("watch: pid"), "{}", status.stdout);
    assert!(
        status
            .stdout
            .contains("1 fixed on `daydream/autofix-2026-11-21`"),
        "{}",
        status.stdout
    );

    crate::harness::kill(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fixed = git(&p.dir(), &["show", &format!("{BRANCH}:app/cart.py")]);
    assert!(fixed.contains("RATES.get(currency, 1.0)"), "{fixed}");
    p.assert_untouched();
    let watch: Value = serde_json::from_str(&p.root.read("data/watch.json")).unwrap();
    assert_eq!(watch["stopped"], "stopped by signal 15");
}

#[test]
fn sigterm_during_an_attempt_abandons_it_and_removes_the_worktree() {
    let Some(p) = Project::cart() else {
        return;
    };
    let api = FakeAnthropic::start(vec![Reply::Hang]);
    let child = p.spawn(&api, &["fix"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while api.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the model was never called"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    crate::harness::kill(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(143),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("skipped: interrupted"), "{stdout}");
    assert!(git(&p.dir(), &["branch", "--list", "daydream/*"]).is_empty());
    p.assert_untouched();
}

#[test]
fn watch_at_a_time_runs_the_nightly_run_once_a_day() {
    let root = Root::new();
    root.project("shop")
        .config(&crate::harness::config_for(&["shop"]));
    // The clock says 06:00: past `--at 05:30`, so the first poll is followed by the day's run.
    let run = root.run(&[
        "watch",
        "--poll-interval",
        "1",
        "--at",
        "05:30",
        "--polls",
        "1",
    ]);
    run.expect(0);
    assert!(
        run.stdout.contains("starting the nightly run"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("the nightly run ended with exit code 0"),
        "{}",
        run.stdout
    );
    assert!(root.report().contains("# Daydream Report - 2026-11-21"));
    let watch: Value = serde_json::from_str(&root.read("data/watch.json")).unwrap();
    assert_eq!(watch["last_nightly"], "2026-11-21", "{watch:#}");
    assert_eq!(watch["stopped"], "stopped after 1 poll(s)");
    // Once a day: the next watch that day does not run it again.
    let again = root.run(&[
        "watch",
        "--poll-interval",
        "1",
        "--at",
        "05:30",
        "--polls",
        "1",
    ]);
    again.expect(0);
    assert!(
        !again.stdout.contains("starting the nightly run"),
        "{}",
        again.stdout
    );
    // A bad time is a usage error that says the format.
    let bad = root.run(&["watch", "--at", "6pm"]);
    bad.expect(2);
    assert!(bad.stderr.contains("HH:MM"), "{}", bad.stderr);
}

#[test]
fn a_fix_that_adds_to_the_checks_problems_is_reverted_and_the_report_has_the_fixing_line() {
    let Some(p) = Project::cart() else {
        return;
    };
    // The project's check: no `HACK` in the code (prints each one, exits 1 when there is any).
    p.root.config(
        r#"{"projects": {"shop": {"working_directory": "projects/shop",
            "test_command": "python3 -m pytest -q -p no:cacheprovider",
            "tests": {"checks": ["! grep -n HACK app/cart.py"]}}}}"#,
    );
    let api = FakeAnthropic::start(vec![
        read("app/cart.py"),
        edit(
            "app/cart.py",
            "RATES[currency]",
            "RATES.get(currency, 1.0)  # HACK",
        ),
        Reply::Text("defaulted the rate".to_owned()),
        read("app/cart.py"),
        edit("app/cart.py", "RATES[currency]", "RATES.get(currency, 1.0)"),
        Reply::Text("total() defaults to a rate of 1".to_owned()),
    ]);
    p.fix(&api, &[]).expect(0);
    let fixed = git(&p.dir(), &["show", &format!("{BRANCH}:app/cart.py")]);
    assert!(
        fixed.contains("RATES.get(currency, 1.0)") && !fixed.contains("HACK"),
        "{fixed}"
    );
    let reasons: Vec<String> = p
        .attempts()
        .iter()
        .map(|a| {
            format!(
                "{}: {}",
                a["outcome"].as_str().unwrap(),
                a["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        reasons[0].starts_with(
            "checks_worse: `! grep -n HACK app/cart.py` reports 1 problem line(s), 0 before"
        ),
        "{reasons:?}"
    );
    assert!(reasons[1].starts_with("fixed"), "{reasons:?}");
    p.assert_untouched();

    // The night's report carries one line of the fix metrics.
    p.root.run(&["run", "--step", "report"]).expect(0);
    let report = p.root.report();
    assert!(
        report.contains("- **Fixing, last 30 days:** 1/1 fixed (100%), 2.0 attempts per fix"),
        "{report}"
    );
}
