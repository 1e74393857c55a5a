//! Sentry healing end to end: a local fake Sentry with a P1 `KeyError` whose frame is in the project, the
//! real `claude` (scripted fake API) writing a reproducing test and then the fix, real pytest, the real `gh`
//! opening the PR on `fix/sentry-<shortId>` on the fake GitHub, pushed to a local bare remote.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::autofix::git;
use crate::fake_anthropic::{FakeAnthropic, Reply};
use crate::fake_github::FakeGitHub;
use crate::fake_http::FakeHttp;
use crate::harness::{Root, Run, unit};
use crate::reflect::real_claude;

const REPO: &str = "acme/shop";
const SHORT: &str = "SHOP-1A";
const BRANCH: &str = "fix/sentry-SHOP-1A";
/// `total()` raises inside `app/cart.py` line 5 when no rate is known for the currency.
const CART: &str = "RATES = {\"EUR\": 1.0}\n\n\ndef total(prices, currency=\"USD\"):\n    return sum(prices) * RATES[currency]\n\n\ndef count(prices):\n    return len(prices)\n";
const TEST_COUNT: &str =
    "from app.cart import count\n\n\ndef test_count():\n    assert count([2, 3]) == 2\n";
const REPRO: &str = "tests/test_sentry_shop_1a.py";
const REPRO_TEXT: &str = "from app.cart import total\n\n\ndef test_total_in_the_default_currency():\n    assert total([2, 3]) == 5\n";
/// A test that does not reproduce anything: it passes on the default branch.
const PASSING_TEXT: &str = "from app.cart import total\n\n\ndef test_total_in_euros():\n    assert total([2, 3], 'EUR') == 5\n";

struct Heal {
    root: Root,
    github: FakeGitHub,
    sentry: FakeHttp,
    claude: PathBuf,
    env: Vec<(String, String)>,
}

impl Heal {
    fn new() -> Option<Heal> {
        let claude = real_claude()?;
        if !crate::github::gh_available() || !crate::fix::pytest() {
            return None;
        }
        let root = Root::new();
        for (path, text) in [
            ("app/__init__.py", ""),
            ("app/cart.py", CART),
            ("tests/test_count.py", TEST_COUNT),
            (".gitignore", "__pycache__/\n"),
        ] {
            root.write(&format!("projects/shop/{path}"), text);
        }
        let project = root.join("projects/shop");
        git(
            root.path(),
            &["init", "-q", "--bare", "-b", "main", "remote.git"],
        );
        git(&project, &["init", "-q", "-b", "main"]);
        git(&project, &["add", "."]);
        git(&project, &["commit", "-q", "-m", "start"]);
        git(
            &project,
            &[
                "remote",
                "add",
                "origin",
                &root.join("remote.git").to_string_lossy(),
            ],
        );
        git(&project, &["push", "-q", "origin", "main"]);
        root.config(
            r#"{"projects": {"shop": {"name": "Shop", "working_directory": "projects/shop",
                "github": {"org": "acme", "repo": "shop"},
                "sentry": {"org": "acme", "project": "shop", "reviewers": ["alice"]},
                "test_command": "python3 -m pytest -q -p no:cacheprovider"}}}"#,
        );
        let github = FakeGitHub::start();
        let sentry = FakeHttp::start();
        let mut env = github.gh_env(&root.join("gh-config"));
        for (k, v) in &mut env {
            if k == "NO_PROXY" || k == "no_proxy" {
                "127.0.0.1".clone_into(v);
            }
        }
        env.push(("SENTRY_AUTH_TOKEN".to_owned(), "sntryu_test".to_owned()));
        env.push(("SENTRY_BASE_URL".to_owned(), sentry.url()));
        Some(Heal {
            root,
            github,
            sentry,
            claude,
            env,
        })
    }

    /// One unresolved `KeyError` of the last day, `per_hour` events in each of the 24 hours, and its latest
    /// event with an in-app frame in `app/cart.py`.
    fn sentry_issue(&self, per_hour: u64) {
        self.sentry_issue_at(per_hour, crate::harness::NOW);
    }

    /// [`Heal::sentry_issue`] as Sentry answers at `now`.
    fn sentry_issue_at(&self, per_hour: u64, now: &str) {
        let now = chrono::DateTime::parse_from_rfc3339(now)
            .unwrap()
            .timestamp();
        let hour = now - now % 3600;
        let stats: Vec<Value> = (0..24)
            .map(|k| json!([hour - 3600 * (23 - k), per_hour]))
            .collect();
        let issue = json!({
            "id": "1", "shortId": SHORT, "title": "KeyError: 'USD'", "culprit": "app.cart in total",
            "level": "error", "count": (per_hour * 24).to_string(), "userCount": 3,
            "firstSeen": "2026-11-20T08:00:00Z", "lastSeen": chrono::DateTime::from_timestamp(now - 600, 0).unwrap().to_rfc3339(),
            "permalink": "https://acme.sentry.io/issues/1/", "status": "unresolved",
            "stats": { "24h": stats },
        });
        self.sentry.respond(
            "/api/0/projects/acme/shop/issues/",
            200,
            &json!([issue]).to_string(),
            &[],
        );
        let event = json!({ "id": "e1",
            "tags": [{ "key": "currency", "value": "USD" }, { "key": "user.email", "value": "ann@example.com" }],
            "entries": [
            { "type": "request", "data": { "method": "POST", "url": "https://shop.example/checkout?token=abc" } },
            { "type": "exception", "data": { "values": [{
            "type": "KeyError", "value": "'USD'",
            "stacktrace": { "frames": [
                { "filename": "flask/app.py", "lineNo": 880, "inApp": false },
                { "filename": "app/cart.py", "absPath": "/srv/shop/app/cart.py", "lineNo": 5, "inApp": true,
                  "function": "total" }
            ]}
        }]}}]});
        self.sentry.respond(
            "/api/0/organizations/acme/issues/1/events/latest/",
            200,
            &event.to_string(),
            &[],
        );
    }

    fn run(&self, api: &FakeAnthropic) -> Run {
        self.run_at(api, crate::harness::NOW)
    }

    fn run_at(&self, api: &FakeAnthropic, now: &str) -> Run {
        let home = self.root.join("claude-home");
        std::fs::create_dir_all(&home).unwrap();
        Run::from(
            self.root
                .cmd(&[
                    "run", "--step", "sentry", "--step", "autofix", "--step", "report",
                ])
                .env("DAYDREAM_CLAUDE", &self.claude)
                .envs(api.env(&home))
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .env("DAYDREAM_NOW", now)
                .output()
                .unwrap(),
        )
    }

    fn candidate(&self) -> Value {
        let state = self.root.state();
        let unit = unit(&state, "autofix", "shop");
        unit["output"]["data"]["candidates"][0].clone()
    }

    /// The prompts that started a model call (the first request of each session).
    fn prompts(api: &FakeAnthropic) -> Vec<String> {
        api.requests()
            .iter()
            .filter(|body| body["messages"].as_array().is_some_and(|m| m.len() == 1))
            .map(crate::fake_anthropic::user_text)
            .collect()
    }
}

fn write(file: &str, content: &str) -> Reply {
    Reply::tool(
        "Write",
        json!({ "file_path": format!("{{cwd}}/{file}"), "content": content }),
    )
}

fn read(file: &str) -> Reply {
    Reply::tool("Read", json!({ "file_path": format!("{{cwd}}/{file}") }))
}

fn edit(file: &str, old: &str, new: &str) -> Reply {
    Reply::tool(
        "Edit",
        json!({ "file_path": format!("{{cwd}}/{file}"), "old_string": old, "new_string": new }),
    )
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario: the candidate, the branch, the suite there, the PR, the prompts, the report"
)]
fn a_p1_key_error_is_reproduced_by_a_test_then_fixed_on_its_own_branch_with_a_pr_for_review() {
    let Some(h) = Heal::new() else { return };
    h.sentry_issue(2);
    let api = FakeAnthropic::start(vec![
        write(REPRO, REPRO_TEXT),
        Reply::Text(format!("{REPRO} calls total() in the default currency")),
        read("app/cart.py"),
        edit("app/cart.py", "RATES[currency]", "RATES.get(currency, 1.0)"),
        Reply::Text("total() looked up an unknown currency; it defaults to a rate of 1".to_owned()),
    ]);
    h.run(&api).expect(0);

    let c = h.candidate();
    assert_eq!(c["fingerprint"], format!("sentry-{SHORT}"), "{c:#}");
    assert_eq!(c["status"], "pr_opened", "{c:#}");
    assert_eq!(c["sentry"]["test"], REPRO);
    assert_eq!(c["sentry"]["reproduced"], true);

    // The branch holds the reproducing test, then the fix; the suite passes there.
    let bare = h.root.join("remote.git");
    let log = git(&bare, &["log", "--format=%s", &format!("main..{BRANCH}")]);
    let subjects: Vec<&str> = log.lines().collect();
    assert_eq!(subjects.len(), 2, "{log}");
    assert!(
        subjects[1].starts_with("test: reproduce Sentry SHOP-1A"),
        "{log}"
    );
    assert!(subjects[0].starts_with("fix: "), "{log}");
    let message = git(&bare, &["log", "-1", "--format=%B", BRANCH]);
    assert!(
        message.contains("Fixes Sentry SHOP-1A: https://acme.sentry.io/issues/1/"),
        "{message}"
    );
    let checkout = h.root.join("checkout");
    git(
        h.root.path(),
        &[
            "clone",
            "-q",
            "-b",
            BRANCH,
            &bare.to_string_lossy(),
            "checkout",
        ],
    );
    let suite = std::process::Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(&checkout)
        .output()
        .unwrap();
    assert!(
        suite.status.success(),
        "{}",
        String::from_utf8_lossy(&suite.stdout)
    );

    // One PR, ready for review, titled and labelled as asked, with the permalink and the test; alice asked.
    let pulls = h.github.pulls(REPO);
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    let pr = &pulls[0];
    assert_eq!(pr["title"], "fix: [Sentry-SHOP-1A] KeyError: 'USD'");
    assert_eq!(pr["draft"], false);
    assert_eq!(pr["head"]["ref"], BRANCH);
    let labels: Vec<&str> = pr["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(labels, ["auto-fix", "sentry"]);
    let body = pr["body"].as_str().unwrap();
    assert!(
        body.contains("https://acme.sentry.io/issues/1/") && body.contains(REPRO),
        "{body}"
    );
    assert!(
        body.contains(REPRO) && body.contains("`app/cart.py`"),
        "{c:#}"
    );
    assert!(
        body.contains("<!-- daydream:fix:sentry-SHOP-1A -->"),
        "{body}"
    );
    assert!(
        body.contains("48 events and 3 users in the last 24 hours"),
        "{body}"
    );
    assert!(
        body.contains("## Verification")
            && body.contains("reproduced `KeyError` on `main` 3 times"),
        "{body}"
    );
    let asked = h
        .github
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/requested_reviewers"))
        .expect("reviewers were requested");
    assert!(asked.body.contains("alice"), "{}", asked.body);

    // Two model calls: the reproduction (with the frame's code) and the fix (which may not touch the test).
    let prompts = Heal::prompts(&api);
    assert_eq!(prompts.len(), 2, "{prompts:#?}");
    assert!(
        prompts[0].contains("Write ONE new test file")
            && prompts[0].contains("return sum(prices)")
            && prompts[0].contains("- request: POST https://shop.example/checkout\n")
            && prompts[0].contains("currency=USD")
            && !prompts[0].contains("ann@example.com")
    );
    assert!(
        prompts[1].contains(&format!("### `{REPRO}")),
        "{}",
        prompts[1]
    );
    let report = h.root.report();
    assert!(
        report.contains(pr["html_url"].as_str().unwrap()),
        "{report}"
    );
    assert!(
        report.contains("**Production errors:** 0 P0, 1 P1; 1 of 1 reproduced by a test."),
        "{report}"
    );
    assert!(
        report.contains(&format!("  - test `{REPRO}`: reproduced the error")),
        "{report}"
    );

    // A human merges it; the next night the error goes on: still happening, in Action Required. No model call.
    let number = pr["number"].as_u64().unwrap();
    h.github.merge_pull(REPO, number, "2026-11-21T07:00:00Z");
    // A reviewer pushed a commit of their own before merging.
    h.github
        .set_commit_authors(REPO, number, &["daydream", "daydream", "bob"]);
    let next = "2026-11-22T06:00:00+00:00";
    h.sentry_issue_at(2, next);
    let quiet = FakeAnthropic::start(Vec::new());
    h.run_at(&quiet, next).expect(0);
    assert!(
        quiet.requests().is_empty(),
        "the fixed issue is not fixed again"
    );
    let report = h.root.read("logs/daydream/report_2026-11-22.md");
    let url = pr["html_url"].as_str().unwrap();
    assert!(
        report.contains(&format!(
            "Sentry SHOP-1A is still happening: 48 event(s) since its fix {url} merged on 2026-11-21"
        )),
        "{report}"
    );
    assert!(
        report
            .contains("- SHOP-1A: still happening: 48 event(s) since the fix merged on 2026-11-21"),
        "{report}"
    );

    // The metrics of healing: reproduced, 22 h from first seen to PR, merged but a false fix, taken over.
    let metrics = Run::from(
        h.root
            .cmd(&["metrics", "--json"])
            .env("DAYDREAM_NOW", next)
            .output()
            .unwrap(),
    );
    metrics.expect(0);
    let m: Value = serde_json::from_str(&metrics.stdout).unwrap();
    let sentry = &m["sentry"];
    assert_eq!(sentry["issues_attempted"], 1, "{m:#}");
    assert_eq!(sentry["reproduction_rate"], 1.0);
    assert_eq!(sentry["prs_opened"], 1);
    assert_eq!(sentry["mean_hours_first_seen_to_pr"], 22.0);
    assert_eq!(sentry["merged"], 1);
    assert_eq!(sentry["fix_success_rate"], 0.0);
    assert_eq!(sentry["false_fix_rate"], 1.0);
    assert_eq!(sentry["human_override_rate"], 1.0);
    let text = Run::from(
        h.root
            .cmd(&["metrics"])
            .env("DAYDREAM_NOW", next)
            .output()
            .unwrap(),
    );
    assert!(
        text.stdout.contains("Sentry errors healed:"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_test_that_passes_on_the_default_branch_is_not_a_reproduction_and_no_fix_is_attempted() {
    let Some(h) = Heal::new() else { return };
    h.sentry_issue(2);
    let api = FakeAnthropic::start(vec![
        write(REPRO, PASSING_TEXT),
        Reply::Text("a test of total() in euros".to_owned()),
    ]);
    h.run(&api).expect(0);
    let c = h.candidate();
    assert_eq!(c["status"], "not_reproduced", "{c:#}");
    assert!(
        c["reason"].as_str().unwrap().contains("passes on `main`"),
        "{c:#}"
    );
    assert_eq!(
        Heal::prompts(&api).len(),
        1,
        "no fix call after a failed reproduction"
    );
    assert!(h.github.pulls(REPO).is_empty());
    assert_eq!(
        git(&h.root.join("remote.git"), &["branch", "--list", "fix/*"]),
        ""
    );
    let report = h.root.report();
    assert!(report.contains("0 of 1 reproduced by a test"), "{report}");
    assert!(
        report.contains(&format!("  - test `{REPRO}`: did not reproduce it")),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "  - not reproduced: the test `{REPRO}` passes on `main`"
        )),
        "{report}"
    );
}

#[test]
fn a_fix_that_edits_the_reproducing_test_is_rejected_and_a_storm_gets_no_model_call() {
    let Some(h) = Heal::new() else { return };
    h.sentry_issue(2);
    let mut script = vec![
        write(REPRO, REPRO_TEXT),
        Reply::Text("reproduced".to_owned()),
    ];
    for _ in 0..3 {
        script.push(read(REPRO));
        script.push(edit(REPRO, "== 5", "!= 5"));
        script.push(Reply::Text("relaxed the test".to_owned()));
    }
    let api = FakeAnthropic::start(script);
    h.run(&api).expect(0);
    let c = h.candidate();
    assert_eq!(c["status"], "tests_failed", "{c:#}");
    assert!(
        c["reason"].as_str().unwrap().contains("protected path"),
        "{c:#}"
    );
    assert!(h.github.pulls(REPO).is_empty());

    // A storm: 150 events an hour. The human is alerted; no model call at all.
    let storm = Heal::new().unwrap();
    storm.sentry_issue(150);
    let api = FakeAnthropic::start(Vec::new());
    storm.run(&api).expect(0);
    let c = storm.candidate();
    assert_eq!(c["status"], "skipped", "{c:#}");
    assert!(
        c["reason"].as_str().unwrap().contains("error storm"),
        "{c:#}"
    );
    assert!(api.requests().is_empty(), "a storm gets no model call");
}
