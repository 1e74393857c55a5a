//! Auto-fix end to end: the real `claude` against a scripted fake Anthropic API edits a real git repository
//! whose test really fails, the real `gh` opens the draft PR on the fake GitHub, and the branch lands in a
//! local bare remote. Every scenario also checks that the user's working tree, dirty on purpose, is
//! byte-for-byte what it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::fake_anthropic::{FakeAnthropic, Reply};
use crate::fake_github::FakeGitHub;
use crate::harness::{Root, Run, unit};
use crate::reflect::{fake_claude, real_claude, result};

pub const REPO: &str = "acme/shop";
const TOMORROW: &str = "2026-11-22T06:00:00+00:00";
const BUGGY: &str = "add() {\n    echo $(($1 - $2))\n}\n";

/// A root whose project `shop` is a git repository with a failing test, pushed to a bare `origin`, with
/// uncommitted changes in its working tree; reflection already ran today and found the bug.
pub struct Fixture {
    pub root: Root,
    pub github: FakeGitHub,
    claude: PathBuf,
    env: Vec<(String, String)>,
    before: BTreeMap<PathBuf, Vec<u8>>,
    main_before: String,
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Every file under `dir` except `.git`, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().to_owned(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

fn reflection() -> Value {
    json!({
        "category": "code_bug",
        "summary": "add() subtracts its second argument",
        "pattern": "add() in calc.sh subtracts instead of adding its two arguments",
        "prevention": "Use + in add() and keep test.sh covering it",
        "project": "shop",
        "evidence": ["test.sh: add 2 3 gave -1"],
        "confidence": 0.9
    })
}

impl Fixture {
    /// `None` when the real `claude` or `gh` is missing outside CI (the test is skipped).
    pub fn new(extra_config: &str) -> Option<Fixture> {
        Fixture::with_tests(Some("sh test.sh"), extra_config)
    }

    pub fn with_tests(test_command: Option<&str>, extra_config: &str) -> Option<Fixture> {
        let claude = real_claude()?;
        if !crate::github::gh_available() {
            return None;
        }
        let root = Root::new();
        root.project("shop");
        root.write("projects/shop/calc.sh", BUGGY);
        root.write(
            "projects/shop/test.sh",
            ". ./calc.sh\nout=$(add 2 3)\n[ \"$out\" = 5 ] || { echo \"add 2 3 gave $out\"; exit 1; }\necho ok\n",
        );
        root.write("projects/shop/README.md", "# shop\n");
        let project = root.join("projects/shop");
        let bare = root.join("remote.git");
        git(
            root.path(),
            &["init", "-q", "--bare", "-b", "main", "remote.git"],
        );
        git(&project, &["init", "-q", "-b", "main"]);
        git(
            &project,
            &["add", "calc.sh", "test.sh", "README.md", "app/pay.py"],
        );
        git(&project, &["commit", "-q", "-m", "start"]);
        git(
            &project,
            &["remote", "add", "origin", &bare.to_string_lossy()],
        );
        git(&project, &["push", "-q", "origin", "main"]);
        // The user's work in progress, which no scenario may touch.
        root.write("projects/shop/README.md", "# shop\n\nwork in progress\n");
        root.write("projects/shop/notes.txt", "untracked notes\n");
        let main_before = git(&bare, &["rev-parse", "main"]);
        let tests = test_command.map_or(String::new(), |t| format!(r#", "test_command": "{t}""#));
        root.config(&format!(
            r#"{{"projects": {{"shop": {{"name": "Shop", "working_directory": "projects/shop",
                "github": {{"org": "acme", "repo": "shop"}}{tests}{extra_config}}}}}}}"#
        ));
        let github = FakeGitHub::start();
        let mut env = github.gh_env(&root.join("gh-config"));
        env.push(("DAYDREAM_GH_BACKOFF_MS".to_owned(), "10".to_owned()));
        // gh reaches the fake GitHub as a proxy; claude must reach the fake Anthropic API directly.
        for (k, v) in &mut env {
            if k == "NO_PROXY" || k == "no_proxy" {
                "127.0.0.1".clone_into(v);
            }
        }
        let before = snapshot(&project);
        let fx = Fixture {
            root,
            github,
            claude,
            env,
            before,
            main_before,
        };
        fx.reflect(crate::harness::NOW);
        Some(fx)
    }

    /// Reflection on the day of `now`, through a stand-in claude (logs then reflect), so that the autofix
    /// runs of that day see the bug.
    fn reflect(&self, now: &str) {
        let stand_in = fake_claude(
            &self.root,
            &result(&json!({"reflections": [reflection()]}), 0.01),
        );
        let run = Run::from(
            self.root
                .cmd(&["run", "--step", "logs", "--step", "reflect"])
                .env("DAYDREAM_CLAUDE", &stand_in)
                .env("DAYDREAM_NOW", now)
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .output()
                .unwrap(),
        );
        run.expect(0);
        let state = self.root.state();
        assert_eq!(unit(&state, "reflect", "*")["status"], "done", "{state:#}");
    }

    pub fn project(&self) -> PathBuf {
        self.root.join("projects/shop")
    }

    pub fn bare(&self) -> PathBuf {
        self.root.join("remote.git")
    }

    /// `daydream run --step autofix ARGS` with the real claude talking to `api`.
    pub fn run(&self, api: &FakeAnthropic, args: &[&str], env: &[(&str, &str)]) -> Run {
        let home = self.root.join("claude-home");
        std::fs::create_dir_all(&home).unwrap();
        let mut all = vec!["run", "--step", "autofix"];
        all.extend_from_slice(args);
        Run::from(
            self.root
                .cmd(&all)
                .env("DAYDREAM_CLAUDE", &self.claude)
                .envs(api.env(&home))
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .envs(env.iter().copied())
                .output()
                .unwrap(),
        )
    }

    pub fn candidate(&self, state_file: &str) -> Value {
        let state = self.root.state_at(state_file);
        let unit = unit(&state, "autofix", "shop");
        let data = if unit["output"].is_object() {
            &unit["output"]["data"]
        } else {
            &unit["checkpoint"]
        };
        data["candidates"][0].clone()
    }

    pub fn remote_branches(&self) -> Vec<String> {
        git(
            &self.bare(),
            &["for-each-ref", "--format=%(refname:short)", "refs/heads"],
        )
        .lines()
        .map(str::to_owned)
        .collect()
    }

    /// The user's working tree is unchanged, no fix branch or worktree is left in the project, and `main` on
    /// the remote did not move.
    #[track_caller]
    pub fn assert_untouched(&self) {
        let after = snapshot(&self.project());
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            self.before.keys().collect::<Vec<_>>(),
            "the working tree's files changed"
        );
        assert!(after == self.before, "a file of the working tree changed");
        let branches = git(&self.project(), &["branch", "--list", "daydream/*"]);
        assert!(
            branches.is_empty(),
            "a local fix branch was left: {branches}"
        );
        let worktrees = git(&self.project(), &["worktree", "list"]);
        assert_eq!(worktrees.lines().count(), 1, "{worktrees}");
        assert_eq!(git(&self.bare(), &["rev-parse", "main"]), self.main_before);
    }
}

/// Read then Edit `calc.sh` in whatever directory the fix runs in, then say what was done.
pub fn fixing_script(new: &str) -> Vec<Reply> {
    vec![
        Reply::tool("Read", json!({ "file_path": "{cwd}/calc.sh" })),
        Reply::tool(
            "Edit",
            json!({ "file_path": "{cwd}/calc.sh", "old_string": "$1 - $2", "new_string": new }),
        ),
        Reply::Text("add() now adds: `-` became `+`.".to_owned()),
    ]
}

#[test]
fn a_real_edit_that_makes_the_tests_pass_becomes_one_draft_pr_and_a_rerun_adds_nothing() {
    let Some(fx) = Fixture::new("") else { return };
    let api = FakeAnthropic::start(fixing_script("$1 + $2"));
    fx.run(&api, &["--step", "report"], &[]).expect(0);

    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "pr_opened", "{c:#}");
    let fp = c["fingerprint"].as_str().unwrap().to_owned();
    let branch = format!("daydream/fix-{fp}");
    // The branch is on the remote, by daydream, with the fix; main did not move.
    assert_eq!(
        fx.remote_branches(),
        vec![branch.clone(), "main".to_owned()]
    );
    let fixed = git(&fx.bare(), &["show", &format!("{branch}:calc.sh")]);
    assert!(fixed.contains("$(($1 + $2))"), "{fixed}");
    assert_eq!(
        git(&fx.bare(), &["log", "-1", "--format=%an", &branch]),
        "daydream"
    );
    fx.assert_untouched();

    // One draft PR with the marker, the labels and the evidence.
    let pulls = fx.github.pulls(REPO);
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    let pr = &pulls[0];
    assert_eq!(pr["draft"], true);
    assert_eq!(pr["head"]["ref"], branch.as_str());
    assert_eq!(pr["base"]["ref"], "main");
    let body = pr["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("<!-- daydream:fix:{fp} -->")),
        "{body}"
    );
    assert!(
        body.contains("add 2 3 gave -1") && body.contains("`calc.sh`"),
        "{body}"
    );
    let labels: Vec<&str> = pr["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(labels, ["daydream", "auto-fix"]);
    assert_eq!(c["pr_url"], pr["html_url"]);

    // Claude got the file tools only, no GitHub token, and the bug fenced as data.
    let first = &api.requests()[0];
    let tools = crate::fake_anthropic::tool_names(first);
    assert!(tools.contains(&"Edit".to_owned()), "{tools:?}");
    let prompt = crate::fake_anthropic::user_text(first);
    assert!(prompt.contains("BEGIN UNTRUSTED EVIDENCE"), "{prompt}");

    // The report shows it, as an action too.
    let report = fx.root.report();
    assert!(
        report.contains("## Auto-fix") || report.contains("Auto-fix"),
        "{report}"
    );
    assert!(
        report.contains(pr["html_url"].as_str().unwrap()),
        "{report}"
    );

    // A rerun the same day does nothing new; the next day the PR's marker keeps it from starting again.
    let requests = api.requests().len();
    fx.run(&api, &[], &[]).expect(0);
    fx.reflect(TOMORROW);
    let next_day = fx.run(&api, &[], &[("DAYDREAM_NOW", TOMORROW)]);
    next_day.expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "skipped", "{c:#}");
    assert!(
        c["reason"].as_str().unwrap().contains("carries its marker"),
        "{c:#}"
    );
    assert_eq!(api.requests().len(), requests, "no new model call");
    assert_eq!(fx.github.pulls(REPO).len(), 1);
    fx.assert_untouched();
}

#[test]
fn a_dry_run_previews_and_a_closed_pr_of_the_same_bug_means_no() {
    let Some(fx) = Fixture::new("") else { return };
    let api = FakeAnthropic::start(fixing_script("$1 + $2"));
    // `--no-spend`: the preview works from the reflections of today's real run.
    let dry = fx.run(&api, &["--dry-run", "--no-spend"], &[]);
    dry.expect(0);
    let c = fx.candidate("logs/daydream/state.dry-run.json");
    assert_eq!(c["status"], "would_fix", "{c:#}");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("spending at most $2.00"),
        "{c:#}"
    );
    assert!(api.requests().is_empty(), "a dry run makes no fix call");
    assert_eq!(fx.remote_branches(), ["main"]);
    assert!(fx.github.pulls(REPO).is_empty());
    assert!(
        fx.github.requests().iter().all(|r| r.method == "GET"),
        "a dry run only reads GitHub"
    );
    fx.assert_untouched();

    // A human closed daydream's PR for this bug: that is a no.
    let fp = c["fingerprint"].as_str().unwrap();
    fx.github.add_pull(
        REPO,
        "daydream: fix add",
        &format!("<!-- daydream:fix:{fp} -->"),
        &format!("daydream/fix-{fp}"),
        "closed",
    );
    fx.run(&api, &[], &[]).expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "skipped", "{c:#}");
    assert!(c["reason"].as_str().unwrap().contains("(closed)"), "{c:#}");
    assert!(api.requests().is_empty());
    fx.assert_untouched();
}

#[test]
fn a_fix_that_touches_a_protected_file_is_rejected_and_nothing_is_pushed() {
    let Some(fx) = Fixture::new("") else { return };
    let api = FakeAnthropic::start(vec![
        Reply::tool(
            "Write",
            json!({ "file_path": "{cwd}/.env", "content": "DEBUG=1\n" }),
        ),
        Reply::Text("done".to_owned()),
    ]);
    fx.run(&api, &[], &[]).expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "rejected", "{c:#}");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("`.env` is a protected path"),
        "{c:#}"
    );
    assert_eq!(fx.remote_branches(), ["main"]);
    assert!(fx.github.pulls(REPO).is_empty());
    fx.assert_untouched();
    // The failure is remembered: tomorrow it is not tried again.
    fx.reflect(TOMORROW);
    let next = fx.run(&api, &[], &[("DAYDREAM_NOW", TOMORROW)]);
    next.expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert!(
        c["reason"].as_str().unwrap().contains("not retried before"),
        "{c:#}"
    );
}

#[test]
fn a_fix_that_leaves_the_tests_red_opens_no_pr() {
    let Some(fx) = Fixture::new("") else { return };
    let api = FakeAnthropic::start(fixing_script("$1 * $2"));
    fx.run(&api, &[], &[]).expect(0);

    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "tests_failed", "{c:#}");
    assert!(
        c["reason"].as_str().unwrap().contains("add 2 3 gave 6"),
        "{c:#}"
    );
    assert_eq!(fx.remote_branches(), ["main"]);
    assert!(fx.github.pulls(REPO).is_empty());
    fx.assert_untouched();
}

#[test]
fn a_looping_fix_is_stopped_by_the_budget_and_a_hang_by_the_timeout() {
    let Some(fx) = Fixture::new("") else { return };
    let api = FakeAnthropic::start(Vec::new());
    api.repeat(Reply::tool("Read", json!({ "file_path": "{cwd}/calc.sh" })));
    // Each turn costs about $0.10 at these usage numbers; the auto-fix budget is $0.30.
    api.set_usage(20_000, 2_000);
    fx.run(&api, &[], &[("DAYDREAM_AUTO_FIX_BUDGET_USD", "0.30")])
        .expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "budget_stop", "{c:#}");
    let cost = c["cost_usd"].as_f64().unwrap();
    assert!(cost > 0.0 && cost < 0.6, "{c:#}");
    assert_eq!(fx.remote_branches(), ["main"]);
    fx.assert_untouched();
    let ledger = fx.root.read("data/spend.jsonl");
    assert!(ledger.contains("\"purpose\":\"autofix\""), "{ledger}");

    // A hang, the next day; the record of the failure is removed so that the candidate is tried again.
    std::fs::remove_file(fx.root.join("data/autofix_attempts.jsonl")).unwrap();
    fx.reflect(TOMORROW);
    let hang = FakeAnthropic::start(vec![Reply::Hang]);
    let started = std::time::Instant::now();
    fx.run(
        &hang,
        &[],
        &[
            ("DAYDREAM_NOW", TOMORROW),
            ("DAYDREAM_AUTO_FIX_TIMEOUT_SECS", "3"),
        ],
    )
    .expect(0);
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "timed_out", "{c:#}");
    fx.assert_untouched();
}

#[test]
fn the_ignore_list_holds_a_bug_back_until_it_expires() {
    let Some(fx) = Fixture::new("") else { return };
    let add = fx.root.run(&[
        "ignore",
        "add",
        "SUBTRACTS instead",
        "--days",
        "1",
        "--reason",
        "known, fixing by hand",
    ]);
    add.expect(0);
    assert!(add.stdout.contains("until 2026-11-22"), "{}", add.stdout);
    let list = fx.root.run(&["ignore", "list"]);
    assert!(
        list.stdout.contains("SUBTRACTS instead · until 2026-11-22"),
        "{}",
        list.stdout
    );

    let api = FakeAnthropic::start(fixing_script("$1 + $2"));
    fx.run(&api, &[], &[]).expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "skipped", "{c:#}");
    assert!(
        c["reason"].as_str().unwrap().contains(
            "on the ignore list (`SUBTRACTS instead`, until 2026-11-22): known, fixing by hand"
        ),
        "{c:#}"
    );
    assert!(api.requests().is_empty());

    // Expired two days later: listed as such, and no longer holding anything back.
    let later = fx
        .root
        .cmd(&["ignore", "list"])
        .env("DAYDREAM_NOW", "2026-11-24T06:00:00+00:00")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&later.stdout).contains("expired 2026-11-22"));
    fx.root
        .run(&["ignore", "remove", "SUBTRACTS instead"])
        .expect(0);
    assert!(fx.root.run(&["ignore", "list"]).stdout.contains("empty"));
    let missing = fx.root.run(&["ignore", "remove", "SUBTRACTS instead"]);
    missing.expect(2);
    assert!(
        missing.stderr.contains("not on the ignore list"),
        "{}",
        missing.stderr
    );

    // The limits: the step's wall-clock cap (previewed by a dry run) and the number of fixes.
    fx.reflect(TOMORROW);
    fx.run(
        &api,
        &["--dry-run"],
        &[
            ("DAYDREAM_NOW", TOMORROW),
            ("DAYDREAM_AUTO_FIX_STEP_MINUTES", "0"),
        ],
    )
    .expect(0);
    let c = fx.candidate("logs/daydream/state.dry-run.json");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("wall-clock cap of 0 min"),
        "{c:#}"
    );
    fx.run(
        &api,
        &[],
        &[
            ("DAYDREAM_NOW", TOMORROW),
            ("DAYDREAM_AUTO_FIX_MAX_FIXES", "0"),
        ],
    )
    .expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert!(
        c["reason"].as_str().unwrap().contains("limit of 0 fixes"),
        "{c:#}"
    );
    assert!(api.requests().is_empty());
    fx.assert_untouched();
}

#[test]
fn a_kill_between_the_push_and_the_pr_is_completed_by_the_next_run_with_one_pr() {
    let Some(fx) = Fixture::new("") else { return };
    let api = FakeAnthropic::start(fixing_script("$1 + $2"));
    let crashed = fx.run(&api, &[], &[("DAYDREAM_TEST_CRASH_AT", "pushed")]);
    assert_ne!(crashed.code, 0, "{}", crashed.stderr);
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "pushed", "{c:#}");
    let branch = format!("daydream/fix-{}", c["fingerprint"].as_str().unwrap());
    assert_eq!(fx.remote_branches(), [branch.as_str(), "main"]);
    assert!(fx.github.pulls(REPO).is_empty());

    let calls = api.requests().len();
    fx.run(&api, &[], &[]).expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "pr_opened", "{c:#}");
    assert_eq!(fx.github.pulls(REPO).len(), 1);
    assert_eq!(api.requests().len(), calls, "the fix is not made again");
    fx.run(&api, &[], &[]).expect(0);
    assert_eq!(fx.github.pulls(REPO).len(), 1);
    fx.assert_untouched();
}

#[test]
fn auto_fix_off_is_said_and_no_test_command_blocks_every_candidate() {
    let Some(fx) = Fixture::new(r#", "autofix": {"enabled": false}"#) else {
        return;
    };
    let api = FakeAnthropic::start(Vec::new());
    fx.run(&api, &[], &[]).expect(0);
    let state = fx.root.state();
    let u = unit(&state, "autofix", "shop");
    assert_eq!(u["status"], "skipped");
    assert!(
        u["reason"]
            .as_str()
            .unwrap()
            .contains("`autofix.enabled: false`"),
        "{u:#}"
    );

    let Some(fx) = Fixture::with_tests(None, "") else {
        return;
    };
    fx.run(&api, &[], &[("DAYDREAM_AUTO_FIX_ENABLED", "false")])
        .expect(0);
    let state = fx.root.state();
    let u = unit(&state, "autofix", "shop");
    assert_eq!(u["status"], "skipped");
    assert!(
        u["reason"]
            .as_str()
            .unwrap()
            .contains("`DAYDREAM_AUTO_FIX_ENABLED=false`"),
        "{u:#}"
    );
    fx.reflect(TOMORROW);
    fx.run(&api, &[], &[("DAYDREAM_NOW", TOMORROW)]).expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "skipped", "{c:#}");
    assert!(
        c["reason"].as_str().unwrap().contains("no `test_command`"),
        "{c:#}"
    );
    assert!(api.requests().is_empty());
    fx.assert_untouched();
}

#[test]
fn a_fix_pushed_on_an_earlier_day_without_its_pr_gets_the_pr_the_next_day() {
    let Some(fx) = Fixture::new("") else { return };
    let api = FakeAnthropic::start(fixing_script("$1 + $2"));
    let crashed = fx.run(&api, &[], &[("DAYDREAM_TEST_CRASH_AT", "pushed")]);
    assert_ne!(crashed.code, 0, "{}", crashed.stderr);
    assert!(fx.github.pulls(REPO).is_empty());
    // The day's state is gone with the day: only `data/autofix_attempts.jsonl` remembers the push.
    let calls = api.requests().len();
    fx.reflect(TOMORROW);
    fx.run(&api, &[], &[("DAYDREAM_NOW", TOMORROW)]).expect(0);
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["status"], "pr_opened", "{c:#}");
    assert_eq!(fx.github.pulls(REPO).len(), 1);
    assert_eq!(api.requests().len(), calls, "the fix is not made again");
    fx.assert_untouched();
}

#[test]
fn tonights_failing_tests_go_through_the_fix_loop_into_one_draft_pr_on_the_fix_tests_branch() {
    let Some(fx) = Fixture::new("") else { return };
    let api = FakeAnthropic::start(fixing_script("$1 + $2"));
    // One fix per run: tonight's failing tests come before the reflection about the same bug.
    let run = fx.run(
        &api,
        &["--step", "tests", "--step", "report"],
        &[("DAYDREAM_AUTO_FIX_MAX_FIXES", "1")],
    );
    run.expect(0);

    // The tests step ran `sh test.sh` on main (an unknown runner: the whole suite is the failure).
    let state = fx.root.state();
    let tests = unit(&state, "tests", "shop");
    assert_eq!(tests["status"], "done", "{tests:#}");
    let failing = &tests["output"]["data"]["failing"];
    assert_eq!(
        failing[0]["failure"]["test"], "(the whole suite)",
        "{tests:#}"
    );
    assert!(
        failing[0]["failure"]["trace"]
            .as_str()
            .unwrap()
            .contains("add 2 3 gave -1")
    );

    // The loop fixed it; the branch of the night is on the remote with the fix, and one draft PR is open.
    let c = fx.candidate("logs/daydream/state.json");
    assert_eq!(c["fingerprint"], "tests-2026-11-21", "{c:#}");
    assert_eq!(c["status"], "pr_opened", "{c:#}");
    let branch = "daydream/fix-tests-2026-11-21";
    assert!(
        fx.remote_branches().contains(&branch.to_owned()),
        "{:?}",
        fx.remote_branches()
    );
    let fixed = git(&fx.bare(), &["show", &format!("{branch}:calc.sh")]);
    assert!(fixed.contains("$(($1 + $2))"), "{fixed}");
    let pulls = fx.github.pulls(REPO);
    assert_eq!(pulls.len(), 1, "{pulls:#?}");
    assert_eq!(pulls[0]["head"]["ref"], branch);
    let body = pulls[0]["body"].as_str().unwrap();
    assert!(
        body.contains("## The failing tests") && body.contains("## Verification"),
        "{body}"
    );
    let attempts = fx.root.read("data/fix_attempts.jsonl");
    assert!(attempts.contains(r#""outcome":"fixed""#), "{attempts}");
    fx.assert_untouched();

    // The report shows the tests section and the PR.
    let report = fx.root.report();
    assert!(report.contains("## Tests"), "{report}");
    assert!(
        report.contains(pulls[0]["html_url"].as_str().unwrap()),
        "{report}"
    );
}
