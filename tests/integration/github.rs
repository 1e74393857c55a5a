//! GitHub through the real `gh` against a local fake GitHub: the tasks step and one report issue per project
//! per day, created once, updated in place, converging when machines race.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake_github::FakeGitHub;
use crate::harness::{Root, Run, kill, unit};

/// Whether the real `gh` is here; under CI its absence is a failure, elsewhere the test is skipped.
pub fn gh_available() -> bool {
    let found = std::process::Command::new("gh")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "`gh` is required under CI: `apt-get install gh`"
    );
    if !found {
        eprintln!(
            "skipped: `gh` is not installed (`apt-get install gh`, see ../shared/REAL-CLIENTS.md)"
        );
    }
    found
}

/// A root whose project `shop` has a `github` entry and findings (six payment errors yesterday).
fn root_for(github: &FakeGitHub, extra: &str) -> (Root, Vec<(String, String)>) {
    let root = Root::new();
    root.project("shop");
    let mut log = String::new();
    for i in 0..6 {
        let _ = writeln!(
            log,
            "2026-11-20 0{i}:10:00,000 ERROR [app] Refund failed for order {i}: gateway_timeout"
        );
    }
    root.write("projects/shop/logs/refunds.log", log);
    root.config(&format!(
        r#"{{"projects": {{"shop": {{"name": "Shop", "working_directory": "projects/shop", "github": {{"org": "o", "repo": "r"}}{extra}}}}}}}"#
    ));
    let mut env = github.gh_env(&root.join("gh-config"));
    env.push(("DAYDREAM_GH_BACKOFF_MS".to_owned(), "10".to_owned()));
    (root, env)
}

/// Telegram through the local fake `telegram` with the bot token `123456:fake-token`. gh reaches the fake
/// GitHub through `HTTP_PROXY`; the local Telegram and Slack fakes are reached directly.
fn with_telegram(env: &mut Vec<(String, String)>, telegram: &crate::fake_http::FakeHttp) {
    env.extend(
        [
            ("NO_PROXY", "127.0.0.1".to_owned()),
            ("no_proxy", "127.0.0.1".to_owned()),
            ("TELEGRAM_BOT_TOKEN", "123456:fake-token".to_owned()),
            ("TELEGRAM_API_BASE", telegram.url()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
}

pub fn run(root: &Root, env: &[(String, String)], args: &[&str]) -> Run {
    Run::from(
        root.cmd(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap(),
    )
}

/// Starts `daydream run` and returns once its create call reached the fake GitHub (which is delaying it).
fn spawn_until_create(
    root: &Root,
    github: &FakeGitHub,
    env: &[(String, String)],
) -> std::process::Child {
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let child = root.spawn(&["run"], &envs);
    wait_until("the create call", || {
        github
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/issues"))
    });
    child
}

/// Waits (bounded) until `done` holds.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Marks today's logs unit pending again and adds a log line, so the next run finds something new.
fn new_findings_later_today(root: &Root) {
    let text = std::fs::read_to_string(root.join("logs/daydream/state.json")).unwrap();
    let mut state: Value = serde_json::from_str(&text).unwrap();
    for step in state["steps"].as_array_mut().unwrap() {
        if step["name"] == "logs" {
            step["units"][0]["status"] = "pending".into();
        }
    }
    root.write(
        "logs/daydream/state.json",
        serde_json::to_string(&state).unwrap(),
    );
    root.write(
        "projects/shop/logs/more.log",
        "2026-11-20 12:00:00,000 WARNING [app] Disk 91% full on /var\n",
    );
}

fn open_reports(github: &FakeGitHub) -> Vec<Value> {
    github
        .issues("o/r")
        .into_iter()
        .filter(|i| {
            i["state"] == "open"
                && i["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("<!-- daydream:report project=shop date=2026-11-21 -->")
        })
        .collect()
}

#[test]
fn the_report_issue_is_created_once_updated_in_place_and_older_ones_closed() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    let older = github.add_issue(
        "o/r",
        "Daydream Report - 2026-11-20 - Shop",
        "<!-- daydream:report project=shop date=2026-11-20 -->\nold",
        &["daydream"],
        "open",
        "2026-11-20T06:00:00Z",
    );
    let (root, env) = root_for(&github, "");
    let first = run(&root, &env, &["run"]);
    first.expect(0);

    let reports = open_reports(&github);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let issue = &reports[0];
    assert_eq!(issue["title"], "Daydream Report - 2026-11-21 - Shop");
    assert!(
        issue["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "daydream")
    );
    assert!(
        issue["body"]
            .as_str()
            .unwrap()
            .contains("6 errors of `[app] Refund failed for order <*>: gateway_timeout` yesterday")
    );
    let old = github
        .issues("o/r")
        .into_iter()
        .find(|i| i["number"] == older)
        .unwrap();
    assert_eq!(old["state"], "closed", "yesterday's report is closed");
    let number = issue["number"].as_u64().unwrap();
    assert!(
        github
            .comments("o/r", older)
            .iter()
            .any(|c| c["body"].as_str().unwrap().contains(&format!("#{number}")))
    );
    let state = root.state();
    let url = issue["html_url"].as_str().unwrap();
    assert!(
        root.report()
            .contains(&format!("- **Report issues:** [Shop]({url})\n")),
        "the file links the issue"
    );
    assert_eq!(
        unit(&state, "report", "shop")["output"]["data"]["number"],
        number
    );
    assert_eq!(
        unit(&state, "report", "shop")["output"]["data"]["url"],
        issue["html_url"]
    );

    // A rerun with nothing new changes nothing on GitHub.
    let writes = |g: &FakeGitHub| g.requests().iter().filter(|r| r.method != "GET").count();
    let before = writes(&github);
    run(&root, &env, &["run"]).expect(0);
    assert_eq!(writes(&github), before, "no write on an unchanged rerun");

    // New findings the same day update the body of the same issue.
    new_findings_later_today(&root);
    run(&root, &env, &["run"]).expect(0);
    let reports = open_reports(&github);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["number"], number);
    assert!(
        reports[0]["body"]
            .as_str()
            .unwrap()
            .contains("Disk <*> full on <*>"),
        "{}",
        reports[0]["body"]
    );
}

#[test]
fn dry_run_writes_nothing_to_github_and_says_what_it_would_do() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    let (root, env) = root_for(&github, "");
    let dry = run(&root, &env, &["run", "--dry-run"]);
    dry.expect(0);
    assert!(
        dry.stdout
            .contains("would create issue `Daydream Report - 2026-11-21 - Shop`"),
        "{}",
        dry.stdout
    );
    assert!(
        github.requests().iter().all(|r| r.method == "GET"),
        "only reads"
    );
    assert!(github.issues("o/r").is_empty());
}

#[test]
fn three_machines_racing_leave_exactly_one_open_report_issue() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    // Creation is slow, so every machine lists before any issue exists: the race really happens.
    github.set_create_delay(Duration::from_secs(3));
    let machines: Vec<(Root, Vec<(String, String)>)> =
        (0..3).map(|_| root_for(&github, "")).collect();
    let children: Vec<_> = machines
        .iter()
        .map(|(root, env)| {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            root.spawn(&["run"], &env)
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let reports = open_reports(&github);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    // The label did not exist: it was created with a color and a description.
    let label = github
        .labels("o/r")
        .into_iter()
        .find(|l| l["name"] == "daydream")
        .expect("label created");
    assert_eq!(label["color"], "5319e7");
    assert_eq!(
        label["description"],
        "Nightly maintenance report by daydream"
    );
    let all: Vec<Value> = github.issues("o/r");
    let created = all
        .iter()
        .filter(|i| i["title"] == "Daydream Report - 2026-11-21 - Shop")
        .count();
    // Every duplicate that a race produced is closed and points to the survivor.
    for dup in all.iter().filter(|i| i["state"] == "closed") {
        let n = dup["number"].as_u64().unwrap();
        assert!(github.comments("o/r", n).iter().any(|c| {
            c["body"]
                .as_str()
                .unwrap()
                .contains(&format!("#{}", reports[0]["number"]))
        }));
    }
    assert!(created >= 2, "the three machines did not race: {all:#?}");
}

#[test]
fn a_kill_between_the_create_call_and_the_state_save_still_leaves_one_issue() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    github.set_create_delay(Duration::from_millis(1500));
    let (root, env) = root_for(&github, "");
    let mut child = spawn_until_create(&root, &github, &env);
    kill(&child, "KILL");
    child.wait().unwrap();
    // The orphaned `gh` finishes its call: the issue exists, the state does not know it.
    wait_until("the create to complete", || {
        !github.issues("o/r").is_empty()
    });
    assert!(unit(&root.state(), "report", "shop")["output"].is_null());
    github.set_create_delay(Duration::ZERO);
    run(&root, &env, &["run"]).expect(0);
    assert_eq!(github.issues("o/r").len(), 1, "still one issue");
    assert_eq!(open_reports(&github).len(), 1);
}

#[test]
fn tasks_lists_all_pages_finds_stale_issues_and_retries_rate_limits() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    for i in 0..250 {
        let updated = if i < 7 {
            "2026-01-02T00:00:00Z"
        } else {
            "2026-11-19T00:00:00Z"
        };
        github.add_issue("o/r", &format!("Bug {i}"), "details", &[], "open", updated);
    }
    github.add_pull("o/r", "A pull request", "", "feature", "open");
    github.fail_next(
        "GET",
        "/repos/o/r/issues",
        403,
        r#"{"message":"API rate limit exceeded for 127.0.0.1."}"#,
        &[("X-RateLimit-Remaining", "0")],
        1,
    );
    let (root, env) = root_for(&github, "");
    root.write(
        "projects/shop/TODO.md",
        "# Todo\n- [x] done\n- [ ] ship refunds\n  - [ ] nested item\n",
    );
    run(&root, &env, &["run", "--step", "tasks"]).expect(0);
    let state = root.state();
    let tasks = unit(&state, "tasks", "shop");
    let data = &tasks["output"]["data"];
    assert_eq!(data["open_issues"], 250, "all pages, no pull requests");
    assert_eq!(data["stale_total"], 7);
    assert_eq!(data["todo_total"], 2);
    assert_eq!(
        tasks["output"]["summary"],
        "250 open issue(s), 7 idle for 90+ days; 2 unchecked TODO.md item(s)"
    );
    assert!(
        github.requests().iter().all(|r| r.method == "GET"),
        "reporting only by default"
    );
}

#[test]
fn stale_issues_are_labelled_and_closed_only_when_the_project_opts_in() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    let ancient = github.add_issue("o/r", "Ancient", "", &[], "open", "2025-01-01T00:00:00Z");
    let stale = github.add_issue("o/r", "Stale", "", &[], "open", "2026-06-01T00:00:00Z");
    let fresh = github.add_issue("o/r", "Fresh", "", &[], "open", "2026-11-20T00:00:00Z");
    let (root, env) = root_for(
        &github,
        r#", "tasks": {"label_stale": true, "close_stale_after_days": 180}"#,
    );
    let dry = run(&root, &env, &["run", "--step", "tasks", "--dry-run"]);
    dry.expect(0);
    assert!(
        github.requests().iter().all(|r| r.method == "GET"),
        "a dry run only reads"
    );
    let dry_state: Value =
        serde_json::from_str(&root.read("logs/daydream/state.dry-run.json")).unwrap();
    let changes = &unit(&dry_state, "tasks", "shop")["output"]["data"]["changes"];
    assert_eq!(
        changes,
        &serde_json::json!([
            format!("would label #{stale} `stale`"),
            format!("would label #{ancient} `stale`"),
            format!("would close #{ancient} (no activity for 689 days)")
        ])
    );

    run(&root, &env, &["run", "--step", "tasks"]).expect(0);
    let issues = github.issues("o/r");
    let by = |n: u64| issues.iter().find(|i| i["number"] == n).unwrap().clone();
    assert_eq!(by(ancient)["state"], "closed");
    assert_eq!(by(stale)["state"], "open");
    assert!(
        by(stale)["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "stale")
    );
    assert!(by(fresh)["labels"].as_array().unwrap().is_empty());
    assert_eq!(github.comments("o/r", ancient).len(), 1);
}

#[test]
fn a_github_500_fails_the_unit_with_the_reason_and_the_others_go_on() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    github.fail_next(
        "GET",
        "/repos/o/r/issues",
        500,
        r#"{"message":"boom"}"#,
        &[],
        10,
    );
    let (root, env) = root_for(&github, "");
    run(&root, &env, &["run", "--step", "tasks", "--step", "logs"]).expect(1);
    let state = root.state();
    let tasks = unit(&state, "tasks", "shop");
    assert_eq!(tasks["status"], "failed");
    assert!(
        tasks["last_error"].as_str().unwrap().contains("500"),
        "{tasks:#}"
    );
    assert_eq!(unit(&state, "logs", "shop")["status"], "done");
}

#[test]
fn sigterm_during_a_gh_call_interrupts_the_unit_and_kills_gh() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    github.set_create_delay(Duration::from_secs(5));
    let (root, env) = root_for(&github, "");
    let mut child = spawn_until_create(&root, &github, &env);
    let signalled = Instant::now();
    kill(&child, "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(143));
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "gh was stopped, not waited for"
    );
    let state = root.state();
    let report = unit(&state, "report", "shop");
    assert_eq!(report["status"], "interrupted", "{report:#}");
    assert_eq!(report["attempts"], 0);
    // The fake finishes the create the stopped `gh` had sent (as GitHub would); the next run finds it by its
    // marker instead of filing a second one.
    wait_until("the create to complete", || {
        !github.issues("o/r").is_empty()
    });
    github.set_create_delay(Duration::ZERO);
    run(&root, &env, &["run"]).expect(0);
    assert_eq!(github.issues("o/r").len(), 1);
    assert_eq!(unit(&root.state(), "report", "shop")["status"], "done");
}

#[test]
fn the_published_issue_is_announced_once_on_telegram_and_slack() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    let telegram = crate::fake_http::FakeHttp::start();
    let slack = crate::fake_http::FakeHttp::start();
    let (root, mut env) = root_for(&github, r#", "telegram": {"chat_id": "-10042"}"#);
    with_telegram(&mut env, &telegram);
    env.push((
        "DAYDREAM_SLACK_WEBHOOK_URL".to_owned(),
        format!("{}/hooks/T0/B0/x", slack.url()),
    ));

    let dry = run(&root, &env, &["run", "--dry-run"]);
    dry.expect(0);
    assert!(
        dry.stdout
            .contains("would send a summary to telegram and slack"),
        "{}",
        dry.stdout
    );
    assert!(
        telegram.received().is_empty() && slack.received().is_empty(),
        "a dry run sends nothing"
    );

    run(&root, &env, &["run"]).expect(0);
    let sent = telegram.received();
    assert_eq!(sent.len(), 1, "one message");
    assert_eq!(sent[0].path, "/bot123456:fake-token/sendMessage");
    let message = sent[0].json();
    assert_eq!(message["chat_id"], "-10042");
    let text = message["text"].as_str().unwrap();
    let url = open_reports(&github)[0]["html_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.contains("Shop") && text.contains("2026-11-21"),
        "{text}"
    );
    assert!(
        text.contains(&format!("<a href=\"{url}\">")),
        "the issue link: {text}"
    );
    assert!(
        text.contains("Refund failed for order &lt;*&gt;"),
        "HTML escaped: {text}"
    );
    let posted = slack.received();
    assert_eq!(posted.len(), 1);
    assert!(
        posted[0].json()["text"]
            .as_str()
            .unwrap()
            .contains(&format!("<{url}|"))
    );

    // New findings later that day update the issue but do not announce it again.
    new_findings_later_today(&root);
    run(&root, &env, &["run"]).expect(0);
    assert_eq!(telegram.received().len(), 1, "at most one message a day");
}

#[test]
fn a_failed_notification_is_a_warning_not_a_failed_run() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    let telegram = crate::fake_http::FakeHttp::start();
    telegram.respond(
        "/bot",
        400,
        r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
        &[],
    );
    let (root, mut env) = root_for(&github, r#", "telegram": {"chat_id": "-1"}"#);
    with_telegram(&mut env, &telegram);
    run(&root, &env, &["run"]).expect(0);
    let state = root.state();
    let report = unit(&state, "report", "shop");
    assert_eq!(report["status"], "done");
    let warnings = report["output"]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("chat not found")),
        "{report:#}"
    );
    assert!(
        !serde_json::to_string(&state)
            .unwrap()
            .contains("fake-token"),
        "the token never reaches the state"
    );
}

#[test]
fn published_reports_mask_personal_data_that_the_local_report_keeps() {
    if !gh_available() {
        return;
    }
    let github = FakeGitHub::start();
    let telegram = crate::fake_http::FakeHttp::start();
    let (root, mut env) = root_for(&github, r#", "telegram": {"chat_id": "-10042"}"#);
    let mut log = String::new();
    for i in 0..5 {
        let _ = writeln!(
            log,
            "2026-11-20 1{i}:00:00,000 ERROR [auth] Login failed for jane.doe@example.com from 203.0.113.{i} (call +1 415-555-010{i})"
        );
    }
    root.write("projects/shop/logs/auth.log", log);
    with_telegram(&mut env, &telegram);
    run(&root, &env, &["run"]).expect(0);

    let local = root.report();
    assert!(
        local.contains("jane.doe@example.com") && local.contains("203.0.113."),
        "the local report keeps them: {local}"
    );
    let issues = open_reports(&github);
    assert_eq!(issues.len(), 1);
    let body = issues[0]["body"].as_str().unwrap();
    assert!(body.contains("Login failed for"), "{body}");
    let message = telegram.received()[0].json()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    for published in [body, message.as_str()] {
        assert!(!published.contains("jane.doe"), "{published}");
        assert!(!published.contains("203.0.113."), "{published}");
        assert!(!published.contains("415-555"), "{published}");
    }
    assert!(body.contains("[email]"), "{body}");

    // A project that keeps them publishes them as they are.
    let github = FakeGitHub::start();
    let (root, env) = root_for(&github, r#", "publish": {"pii": "keep"}"#);
    root.write(
        "projects/shop/logs/auth.log",
        "2026-11-20 10:00:00,000 ERROR [auth] Login failed for jane.doe@example.com\n",
    );
    run(&root, &env, &["run"]).expect(0);
    let body = open_reports(&github)[0]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("jane.doe@example.com"), "{body}");
}
