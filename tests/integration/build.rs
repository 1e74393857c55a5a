//! `daydream build` end to end: a pytest project in a git repository and a stand-in `claude` (first the
//! coordinator's manifest, then one scripted action per stream, each call's start and end written to a log),
//! the tests run in the sandbox. The user's checkout must be untouched and no worktree or stream branch left.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::autofix::git;
use crate::fix::pytest;
use crate::harness::{Root, Run};

const BRANCH: &str = "daydream/build-cart-export";

const SPEC: &str = "# Cart export\n\nPrices come from a contract; the backend totals, the frontend labels; tests \
                    cover both.\n";

/// The 4-stream manifest: contracts -> backend + frontend -> tests.
fn four() -> Value {
    json!({ "streams": [
        { "id": "contracts", "task": "the price contract", "owns": ["app/contracts.py"], "after": [] },
        { "id": "backend", "task": "totals", "owns": ["app/backend.py"], "after": ["contracts"] },
        { "id": "frontend", "task": "labels", "owns": ["app/frontend.py"], "after": ["contracts"] },
        { "id": "tests", "task": "tests of both", "owns": ["tests/test_export.py"],
          "after": ["backend", "frontend"] }
    ] })
}

/// What each stream's stand-in does in its worktree (a shell script run there).
fn actions() -> Vec<(&'static str, &'static str)> {
    vec![
        ("contracts", "printf 'PRICE = 3\\n' > app/contracts.py"),
        (
            "backend",
            "printf 'from app.contracts import PRICE\\n\\n\\ndef total(n):\\n    return n * PRICE\\n' > app/backend.py",
        ),
        (
            "frontend",
            "printf 'from app.contracts import PRICE\\n\\n\\ndef label(n):\\n    return f\"{n} x {PRICE}\"\\n' > app/frontend.py",
        ),
        (
            "tests",
            "printf 'from app.backend import total\\nfrom app.frontend import label\\n\\n\\ndef test_total():\\n    assert total(2) == 6\\n\\n\\ndef test_label():\\n    assert label(2) == \"2 x 3\"\\n' > tests/test_export.py",
        ),
    ]
}

struct Build {
    root: Root,
    status_before: String,
    head_before: String,
}

impl Build {
    /// A pytest project `shop` on `main` (with the user's work on `feature`), the stand-in `claude` answering
    /// `manifest` and running `actions` (each call sleeping `sleep` seconds first).
    fn new(manifest: &Value, actions: &[(&str, &str)], sleep: &str) -> Option<Build> {
        if !pytest() {
            return None;
        }
        let root = Root::new();
        for (path, text) in [
            ("app/__init__.py", ""),
            ("app/backend.py", "def total(n):\n    return n\n"),
            (
                "tests/test_base.py",
                "from app.backend import total\n\n\ndef test_base():\n    assert total(2) > 0\n",
            ),
            (".gitignore", "__pycache__/\n.pytest_cache/\n"),
        ] {
            root.write(&format!("projects/shop/{path}"), text);
        }
        let dir = root.join("projects/shop");
        git(&dir, &["init", "-q", "-b", "main"]);
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "-m", "start"]);
        git(&dir, &["checkout", "-q", "-b", "feature"]);
        root.write("projects/shop/README.md", "work in progress\n");
        root.config(
            r#"{"projects": {"shop": {"working_directory": "projects/shop",
                "test_command": "python3 -m pytest -q -p no:cacheprovider"}}}"#,
        );
        root.write("specs/Cart Export.md", SPEC);
        root.write("stand-in/manifest.json", manifest.to_string());
        for (id, action) in actions {
            root.write(&format!("stand-in/{id}.sh"), action);
        }
        let base = root.join("stand-in");
        let script = format!(
            r#"#!/bin/sh
prompt=$(cat)
case "$*" in *--json-schema*)
  echo "coordinator $(date +%s.%N)" >> {base}/calls.log
  printf '{{"type":"result","subtype":"success","is_error":false,"result":"","structured_output":%s,"total_cost_usd":0.01,"num_turns":1,"session_id":"s","permission_denials":[]}}\n' "$(cat {base}/manifest.json)"
  exit 0;;
esac
id=$(printf '%s\n' "$prompt" | sed -n 's/^You are stream `\(.*\)`\.$/\1/p')
[ -n "$id" ] || id=repair
echo "start $id $(date +%s.%N)" >> {base}/calls.log
sleep {sleep}
[ -f {base}/$id.sh ] && sh {base}/$id.sh
echo "end $id $(date +%s.%N)" >> {base}/calls.log
printf '{{"type":"result","subtype":"success","is_error":false,"result":"did %s","total_cost_usd":0.02,"num_turns":1,"session_id":"s","permission_denials":[]}}\n' "$id"
"#,
            base = base.display()
        );
        root.write("stand-in/claude", script);
        make_executable(&base.join("claude"));
        let status_before = git(&dir, &["status", "--porcelain"]);
        let head_before = git(&dir, &["rev-parse", "HEAD"]);
        Some(Build {
            root,
            status_before,
            head_before,
        })
    }

    fn dir(&self) -> PathBuf {
        self.root.join("projects/shop")
    }

    fn build(&self, args: &[&str]) -> Run {
        Run::from(self.command(args, &[]).output().unwrap())
    }

    /// `daydream build <spec> --project shop ARGS` with the stand-in `claude`, then `env` over it.
    fn command(&self, args: &[&str], env: &[(String, String)]) -> std::process::Command {
        let spec = self.root.join("specs/Cart Export.md");
        let mut all = vec!["build", spec.to_str().unwrap(), "--project", "shop"];
        all.extend_from_slice(args);
        let mut cmd = self.root.cmd(&all);
        cmd.env("DAYDREAM_CLAUDE", self.root.join("stand-in/claude"))
            .envs(env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// `(what, seconds)` per line of the stand-in's log.
    fn calls(&self) -> Vec<(String, f64)> {
        std::fs::read_to_string(self.root.join("stand-in/calls.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let (what, at) = l.rsplit_once(' ').unwrap();
                (what.to_owned(), at.parse().unwrap())
            })
            .collect()
    }

    fn at(&self, what: &str) -> f64 {
        self.calls()
            .into_iter()
            .find(|(w, _)| w == what)
            .unwrap_or_else(|| panic!("no `{what}` in {:?}", self.calls()))
            .1
    }

    /// The user's branch, HEAD, files and status are what they were; no worktree and no stream branch is left.
    #[track_caller]
    fn assert_untouched(&self) {
        let dir = self.dir();
        assert_eq!(git(&dir, &["rev-parse", "--abbrev-ref", "HEAD"]), "feature");
        assert_eq!(git(&dir, &["rev-parse", "HEAD"]), self.head_before);
        assert_eq!(git(&dir, &["status", "--porcelain"]), self.status_before);
        let worktrees = git(&dir, &["worktree", "list"]);
        assert_eq!(worktrees.lines().count(), 1, "{worktrees}");
        let branches = git(&dir, &["branch", "--list", "daydream/build-stream-*"]);
        assert!(branches.is_empty(), "stream branches left: {branches}");
    }

    /// Whether the stand-in logged `what` (`start backend`, `end tests`).
    fn called(&self, what: &str) -> bool {
        self.calls().iter().any(|(w, _)| w == what)
    }

    /// The build failed or stopped: no `daydream/*` branch is kept, the checkout is untouched, and the record
    /// says `outcome`.
    #[track_caller]
    fn assert_nothing_kept(&self, outcome: &str) {
        assert!(git(&self.dir(), &["branch", "--list", "daydream/*"]).is_empty());
        self.assert_untouched();
        assert_eq!(self.records().last().unwrap()["outcome"], outcome);
    }

    fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(self.root.join("data/builds.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn four_streams_land_as_one_commit_whose_suite_passes_and_the_middle_streams_overlap() {
    let Some(b) = Build::new(&four(), &actions(), "1") else {
        return;
    };
    let run = b.build(&["--streams", "2"]);
    run.expect(0);
    let dir = b.dir();
    // One commit on the branch, straight on `main`, with the four streams' files and nothing else.
    assert_eq!(
        git(&dir, &["rev-parse", &format!("{BRANCH}^")]),
        git(&dir, &["rev-parse", "main"])
    );
    let files = git(&dir, &["diff", "--name-only", "main", BRANCH]);
    assert_eq!(
        files.lines().collect::<Vec<_>>(),
        [
            "app/backend.py",
            "app/contracts.py",
            "app/frontend.py",
            "tests/test_export.py"
        ]
    );
    let message = git(&dir, &["log", "-1", "--format=%B", BRANCH]);
    assert!(message.starts_with("build: Cart export"), "{message}");
    assert!(
        message.contains("- frontend (1 file(s)): did frontend"),
        "{message}"
    );
    // Its suite passes: checked out on its own, the project's tests pass.
    let check = tempfile::tempdir().unwrap();
    let out = check.path().join("tree");
    git(
        &dir,
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            out.to_str().unwrap(),
            BRANCH,
        ],
    );
    let pytest = std::process::Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(&out)
        .output()
        .unwrap();
    git(
        &dir,
        &["worktree", "remove", "--force", out.to_str().unwrap()],
    );
    assert!(
        pytest.status.success(),
        "{}",
        String::from_utf8_lossy(&pytest.stdout)
    );
    assert!(String::from_utf8_lossy(&pytest.stdout).contains("3 passed"));
    // The two middle streams' calls overlapped: each started before the other ended.
    assert!(
        b.at("start backend") < b.at("end frontend"),
        "{:?}",
        b.calls()
    );
    assert!(
        b.at("start frontend") < b.at("end backend"),
        "{:?}",
        b.calls()
    );
    // The order held: contracts before both, tests after both.
    assert!(b.at("end contracts") <= b.at("start backend"));
    assert!(
        b.at("end backend") <= b.at("start tests") && b.at("end frontend") <= b.at("start tests")
    );
    assert!(!b.called("start repair"), "{:?}", b.calls());
    // The summary: each stream, the wall time against the serial estimate, the cost, the integration.
    for needle in [
        "wave 2: backend, frontend",
        "contracts  -",
        "committed",
        "tests: 1 test file(s) passed",
        "serial estimate (the streams one after another)",
        "cost: $0.09 (coordinator $0.01, streams $0.08, repair $0.00)",
        "integration: passed: the whole suite (`python3 -m pytest -q -p no:cacheprovider`) passes\n",
        &format!("on the local branch `{BRANCH}` (from `main`)"),
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle:?} in:\n{}",
            run.stdout
        );
    }
    b.assert_untouched();
    let git_branches = git(&dir, &["branch", "--list", "daydream/*"]);
    assert_eq!(git_branches.trim(), BRANCH);
    // Recorded, and shown by `daydream metrics`.
    let records = b.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["outcome"], "landed");
    assert_eq!(records[0]["streams"], 4);
    let serial = records[0]["serial_secs"].as_f64().unwrap();
    let wall = records[0]["streams_wall_secs"].as_f64().unwrap();
    assert!(
        serial > wall,
        "the streams overlapped, so their sum exceeds their wall time: {records:?}"
    );
    let metrics = b.root.run(&["metrics"]);
    assert!(
        metrics
            .stdout
            .contains("integration failure rate: 0% of 1 integration(s)"),
        "{}",
        metrics.stdout
    );
    let json: Value = serde_json::from_str(&b.root.run(&["metrics", "--json"]).stdout).unwrap();
    assert_eq!(json["builds"]["landed"], 1);
    // A second build of the same spec gets a free name.
    b.build(&[]).expect(0);
    assert!(git(&dir, &["branch", "--list", &format!("{BRANCH}-2")]).contains("-2"));
}

#[test]
fn a_stream_writing_outside_its_files_is_rejected_and_the_streams_after_it_never_start() {
    let mut actions = actions();
    actions[1].1 = "printf 'PRICE = 4\\n' > app/contracts.py";
    let Some(b) = Build::new(&four(), &actions, "0") else {
        return;
    };
    let run = b.build(&[]);
    run.expect(1);
    assert!(
        run.stdout.contains(
            "failed: diff rejected: `app/contracts.py` is outside the stream's `owns` (app/backend.py)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("not started: it comes after `backend`, which did not commit"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("integration: not run"),
        "{}",
        run.stdout
    );
    assert!(!b.called("start tests"), "{:?}", b.calls());
    b.assert_nothing_kept("stream_failed");
}

#[test]
fn a_failing_integration_suite_gets_one_repair_call_then_the_build_fails() {
    // The backend's new total breaks `tests/test_base.py`, which no stream owns: only the whole suite sees it.
    let mut actions = actions();
    actions[1].1 = "printf 'def total(n):\\n    return -n\\n' > app/backend.py";
    actions[3].1 = "printf 'from app.frontend import label\\n\\n\\ndef test_label():\\n    assert label(2) == \"2 x 3\"\\n' > tests/test_export.py";
    // The repair changes the right file, wrongly.
    actions.push((
        "repair",
        "printf 'def total(n):\\n    return 0\\n' > app/backend.py",
    ));
    let Some(b) = Build::new(&four(), &actions, "0") else {
        return;
    };
    let run = b.build(&[]);
    run.expect(1);
    let repairs = b
        .calls()
        .iter()
        .filter(|(w, _)| w == "start repair")
        .count();
    assert_eq!(repairs, 1, "{:?}", b.calls());
    assert!(
        run.stdout.contains("integration: failed: the whole suite fails (1 failure(s)): `tests/test_base.py::test_base`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(after the repair call)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("No branch was kept."));
    b.assert_nothing_kept("integration_failed");
    assert_eq!(b.records()[0]["repaired"], true);
    let metrics = b.root.run(&["metrics"]);
    assert!(
        metrics.stdout.contains(
            "integration failure rate: 100% of 1 integration(s); repair call needed in 100%"
        ),
        "{}",
        metrics.stdout
    );
}

#[test]
fn a_dry_run_shows_the_plan_and_keeps_nothing() {
    let Some(b) = Build::new(&four(), &actions(), "0") else {
        return;
    };
    let run = b.build(&["--dry-run"]);
    run.expect(0);
    for needle in [
        "4 stream(s) from `main`",
        "wave 1: contracts",
        "wave 2: backend, frontend",
        "wave 3: tests",
        "- tests (after backend, frontend): owns tests/test_export.py",
        "dry run: no stream was started and no branch was kept",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle:?} in:\n{}",
            run.stdout
        );
    }
    let calls: Vec<String> = b.calls().into_iter().map(|(w, _)| w).collect();
    assert_eq!(calls, ["coordinator"]);
    assert!(git(&b.dir(), &["branch", "--list", "daydream/*"]).is_empty());
    b.assert_untouched();
    assert!(b.records().is_empty());
}

#[test]
fn cyclic_and_invalid_manifests_are_refused_before_any_stream() {
    let mut cyclic = four();
    cyclic["streams"][0]["after"] = json!(["tests"]);
    let mut unknown = four();
    unknown["streams"][2]["after"] = json!(["design"]);
    let mut shared = four();
    shared["streams"][2]["owns"] = json!(["app/backend.py"]);
    for (manifest, error) in [
        (
            cyclic,
            "the streams' order has a cycle: contracts -> tests -> ",
        ),
        (
            unknown,
            "stream `frontend` comes after `design`, which is not a stream of the manifest",
        ),
        (
            shared,
            "streams `backend` and `frontend` may own the same files",
        ),
    ] {
        let Some(b) = Build::new(&manifest, &actions(), "0") else {
            return;
        };
        let run = b.build(&[]);
        run.expect(1);
        assert!(
            run.stderr
                .contains("the coordinator's manifest was refused"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(error), "{error:?} in:\n{}", run.stderr);
        let calls: Vec<String> = b.calls().into_iter().map(|(w, _)| w).collect();
        assert_eq!(calls, ["coordinator"]);
        b.assert_untouched();
    }
}

#[test]
fn usage_errors_exit_2_and_the_help_answers_what_a_build_does() {
    let root = Root::new();
    root.config(r#"{"projects": {"shop": {"working_directory": "."}}}"#);
    root.write("SPEC.md", SPEC);
    let run = root.run(&["build", "SPEC.md", "--project", "shop"]);
    run.expect(2);
    assert!(
        run.stderr.contains("project `shop` has no `test_command`"),
        "{}",
        run.stderr
    );
    let run = root.run(&["build", "missing.md", "--project", "shop"]);
    run.expect(2);
    assert!(
        run.stderr.contains("failed to read the spec `missing.md`"),
        "{}",
        run.stderr
    );
    let help = root.run(&["build", "--help"]);
    help.expect(0);
    for needle in [
        "--streams",
        "--dry-run",
        "--pr",
        "daydream/build-<spec>",
        "owns",
        "repair call",
        "130",
    ] {
        assert!(
            help.stdout.contains(needle),
            "{needle:?} in:\n{}",
            help.stdout
        );
    }
}

#[test]
fn with_pr_the_build_is_pushed_to_its_own_branch_and_opened_as_a_draft_pull_request() {
    let Some(b) = Build::new(&four(), &actions(), "0") else {
        return;
    };
    let dir = b.dir();
    let bare = b.root.join("remote.git");
    git(
        b.root.path(),
        &["init", "-q", "--bare", "-b", "main", "remote.git"],
    );
    git(&dir, &["remote", "add", "origin", bare.to_str().unwrap()]);
    git(&dir, &["push", "-q", "origin", "main"]);
    let main_before = git(&bare, &["rev-parse", "main"]);
    b.root.config(
        r#"{"projects": {"shop": {"working_directory": "projects/shop",
            "github": {"org": "acme", "repo": "shop"},
            "test_command": "python3 -m pytest -q -p no:cacheprovider"}}}"#,
    );
    let github = crate::fake_github::FakeGitHub::start();
    let mut env = github.gh_env(&b.root.join("gh-config"));
    env.push(("DAYDREAM_GH_BACKOFF_MS".to_owned(), "10".to_owned()));
    let run = Run::from(b.command(&["--pr"], &env).output().unwrap());
    run.expect(0);
    // The branch is on `origin` with the build's one commit; `main` did not move.
    assert_eq!(git(&bare, &["rev-parse", "main"]), main_before);
    assert_eq!(
        git(&bare, &["rev-parse", BRANCH]),
        git(&dir, &["rev-parse", BRANCH])
    );
    assert_eq!(
        git(&bare, &["log", "-1", "--format=%an", BRANCH]),
        "daydream"
    );
    let pulls = github.pulls("acme/shop");
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(pulls[0]["draft"], true);
    assert_eq!(pulls[0]["head"]["ref"], BRANCH);
    assert_eq!(pulls[0]["base"]["ref"], "main");
    assert!(pulls[0]["body"].as_str().unwrap().contains("Cart export"));
    let url = pulls[0]["html_url"].as_str().unwrap();
    assert!(
        run.stdout.contains(&format!("draft pull request: {url}")),
        "{}",
        run.stdout
    );
    assert_eq!(b.records()[0]["pr"], url);
    b.assert_untouched();
}

#[test]
fn sigterm_during_the_streams_ends_the_calls_and_removes_every_worktree() {
    let Some(b) = Build::new(&four(), &actions(), "30") else {
        return;
    };
    let mut child = b
        .command(&[], &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !b.called("start contracts") {
        assert!(
            std::time::Instant::now() < deadline,
            "the first stream never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    crate::harness::kill(&child, "TERM");
    let started = std::time::Instant::now();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(143), "{stdout}");
    assert!(
        started.elapsed().as_secs() < 20,
        "the 30 s call was ended, not waited for"
    );
    assert!(stdout.contains("stopped by signal 15"), "{stdout}");
    assert!(!b.called("start backend"), "{:?}", b.calls());
    b.assert_nothing_kept("stopped");
}

#[test]
fn an_exhausted_budget_stops_the_build_before_the_next_stream() {
    let Some(b) = Build::new(&four(), &actions(), "0") else {
        return;
    };
    // The coordinator settles at $0.01 and each stream at $0.02; a call needs $0.05 to start: after
    // contracts and backend, $0.08 leaves $0.03: too little for frontend.
    let budget = [("DAYDREAM_AUTO_FIX_BUDGET_USD".to_owned(), "0.08".to_owned())];
    let run = Run::from(b.command(&["--streams", "1"], &budget).output().unwrap());
    run.expect(1);
    assert!(
        run.stdout.contains(
            "$0.00  not started: budget exhausted: $0.05 of $0.08 spent on auto-fix this run"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("not started: it comes after `frontend`, which did not commit"),
        "{}",
        run.stdout
    );
    assert!(!b.called("start tests"), "{:?}", b.calls());
    let spent: f64 = std::fs::read_to_string(b.root.join("data/spend.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["kind"] == "settle")
        .map(|v| v["cost"].as_f64().unwrap())
        .sum();
    assert!(spent <= 0.08, "spent {spent}");
    b.assert_untouched();
}

#[test]
fn the_real_claude_coordinates_through_the_schema_and_each_stream_gets_file_tools_only() {
    let Some(claude) = crate::reflect::real_claude() else {
        return;
    };
    let Some(b) = Build::new(&four(), &[], "0") else {
        return;
    };
    let write = |file: &str, content: &str| {
        crate::fake_anthropic::Reply::tool(
            "Write",
            json!({ "file_path": format!("{{cwd}}/{file}"), "content": content }),
        )
    };
    let text = |t: &str| crate::fake_anthropic::Reply::Text(t.to_owned());
    // One stream at a time, so the scripted replies come in the manifest's order.
    let api = crate::fake_anthropic::FakeAnthropic::start(vec![
        crate::fake_anthropic::Reply::tool("StructuredOutput", four()),
        write("app/contracts.py", "PRICE = 3\n"),
        text("The price contract."),
        // `app/backend.py` exists: Claude Code writes a file only once it has read it.
        crate::fake_anthropic::Reply::tool("Read", json!({ "file_path": "{cwd}/app/backend.py" })),
        write(
            "app/backend.py",
            "from app.contracts import PRICE\n\n\ndef total(n):\n    return n * PRICE\n",
        ),
        text("Totals."),
        write(
            "app/frontend.py",
            "from app.contracts import PRICE\n\n\ndef label(n):\n    return f\"{n} x {PRICE}\"\n",
        ),
        text("Labels."),
        write(
            "tests/test_export.py",
            "from app.backend import total\nfrom app.frontend import label\n\n\ndef test_both():\n    assert total(2) == 6 and label(2) == \"2 x 3\"\n",
        ),
        text("Tests of both."),
    ]);
    let home = b.root.join("claude-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut env = api.env(&home);
    env.push((
        "DAYDREAM_CLAUDE".to_owned(),
        claude.to_string_lossy().into_owned(),
    ));
    let run = Run::from(b.command(&["--streams", "1"], &env).output().unwrap());
    run.expect(0);
    let dir = b.dir();
    assert_eq!(
        git(&dir, &["diff", "--name-only", "main", BRANCH])
            .lines()
            .count(),
        4
    );
    assert!(
        run.stdout.contains("tests: 1 test file(s) passed"),
        "{}",
        run.stdout
    );
    let requests = api.requests();
    // The coordinator is offered only the answer's shape; a stream the file tools, nothing that runs things.
    assert_eq!(
        crate::fake_anthropic::tool_names(&requests[0]),
        ["StructuredOutput"]
    );
    let prompt = crate::fake_anthropic::user_text(&requests[0]);
    assert!(
        prompt.contains("Cart export") && prompt.contains("- app/backend.py"),
        "{prompt}"
    );
    let stream = requests
        .iter()
        .find(|r| crate::fake_anthropic::user_text(r).contains("You are stream `backend`."))
        .expect("the backend stream's request");
    let tools = crate::fake_anthropic::tool_names(stream);
    assert!(tools.contains(&"Write".to_owned()), "{tools:?}");
    assert!(!tools.iter().any(|t| t == "Bash"), "{tools:?}");
    b.assert_untouched();
}

#[test]
fn a_stream_whose_own_tests_fail_fails_before_integration() {
    let mut actions = actions();
    actions[3].1 = "printf 'from app.backend import total\\n\\n\\ndef test_total():\\n    assert total(2) == 7\\n' > tests/test_export.py";
    let Some(b) = Build::new(&four(), &actions, "0") else {
        return;
    };
    let run = b.build(&[]);
    run.expect(1);
    assert!(
        run.stdout.contains(
            "failed: its tests fail: `tests/test_export.py`: tests/test_export.py::test_total"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("integration: not run"),
        "{}",
        run.stdout
    );
    b.assert_nothing_kept("stream_failed");
}
