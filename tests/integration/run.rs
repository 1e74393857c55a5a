//! Whole runs: the steps in order, reruns, selection, dry runs, retries, the lock and signals.

use crate::harness::{Root, Run, config_for, kill, unit};

#[test]
fn a_run_does_the_steps_and_writes_the_report() {
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    let run = root.run(&["run"]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("report: logs/daydream/report_2026-11-21.md"),
        "{}",
        run.stdout
    );
    let state = root.state();
    for step in ["cleanup", "logs", "report"] {
        let project = if step == "report" { "*" } else { "shop" };
        assert_eq!(unit(&state, step, project)["status"], "done", "{step}");
        assert_eq!(unit(&state, step, project)["attempts"], 1, "{step}");
    }
    assert!(
        !root.join("projects/shop/app/__pycache__").exists(),
        "untracked artifacts are removed"
    );
    let report = root.report();
    assert!(
        report.starts_with("# Daydream Report - 2026-11-21\n"),
        "{report}"
    );
    assert!(report.contains("Payment failed for order"), "{report}");
    assert!(
        !report.contains("Too early") && !report.contains("Too late"),
        "only the previous day's lines: {report}"
    );
    assert!(
        report.contains("KeyError: 'sku-1'"),
        "the stack trace is attached: {report}"
    );
}

#[test]
fn a_rerun_the_same_day_does_nothing() {
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    root.run(&["run"]).expect(0);
    let state = root.read("logs/daydream/state.json");
    let report = root.report();
    let run = root.run(&["run"]);
    run.expect(0);
    assert!(
        !run.stdout.contains("  cleanup") && !run.stdout.contains("  logs"),
        "no unit runs again: {}",
        run.stdout
    );
    let after: serde_json::Value = root.state();
    let before: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(after["steps"], before["steps"], "units untouched");
    assert_eq!(after["runs"].as_array().unwrap().len(), 2);
    assert_eq!(root.report(), report);
}

#[test]
fn step_and_project_select_units() {
    let root = Root::new();
    root.project("a")
        .project("b")
        .config(&config_for(&["a", "b"]));
    root.run(&["run", "--step", "logs", "--project", "b"])
        .expect(0);
    let state = root.state();
    assert_eq!(unit(&state, "logs", "b")["status"], "done");
    assert!(
        state["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["name"] == "logs"),
        "only logs ran: {state:#}"
    );
    assert_eq!(state["steps"][0]["units"].as_array().unwrap().len(), 1);
    assert!(
        root.join("projects/b/app/__pycache__").exists(),
        "cleanup did not run"
    );

    let status = root.run(&["status", "--json"]);
    status.expect(0);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["date"], "2026-11-21");
    assert_eq!(unit(&status, "logs", "b")["status"], "done");
    assert_eq!(unit(&status, "logs", "a")["status"], "pending");
    assert_eq!(unit(&status, "cleanup", "a")["status"], "pending");
    assert_eq!(status["steps"][1]["name"], "logs");
    assert_eq!(status["steps"][1]["status"], "pending");
}

#[test]
fn dry_run_changes_nothing_in_projects_and_keeps_its_own_state() {
    let root = Root::new();
    root.project("shop").config(&config_for(&["shop"]));
    let run = root.run(&["run", "--dry-run"]);
    run.expect(0);
    assert!(run.stdout.contains("would remove"), "{}", run.stdout);
    assert!(
        root.join("projects/shop/app/__pycache__/pay.cpython-311.pyc")
            .exists()
    );
    assert!(root.join("logs/daydream/state.dry-run.json").exists());
    assert!(!root.join("logs/daydream/state.json").exists());
    assert!(
        root.read("logs/daydream/report_2026-11-21.dry-run.md")
            .contains("**Dry run.**")
    );
    // A real run later that day still does everything.
    root.run(&["run"]).expect(0);
    assert!(!root.join("projects/shop/app/__pycache__").exists());
    assert_eq!(unit(&root.state(), "cleanup", "shop")["status"], "done");
}

#[test]
fn a_failing_unit_is_retried_up_to_three_times_and_the_others_go_on() {
    let root = Root::new();
    root.project("a")
        .project("b")
        .config(&config_for(&["a", "b"]));
    let fail = [("DAYDREAM_TEST_FAIL", "logs/a")];
    for attempt in 1..=4 {
        let run = crate::harness::Run::from(root.cmd(&["run"]).envs(fail).output().unwrap());
        run.expect(1);
        let state = root.state();
        let a = unit(&state, "logs", "a");
        assert_eq!(a["status"], "failed");
        assert_eq!(a["attempts"], attempt.min(3), "attempt {attempt}");
        assert!(
            a["last_error"]
                .as_str()
                .unwrap()
                .contains("injected failure")
        );
        assert_eq!(
            unit(&state, "logs", "b")["status"],
            "done",
            "a failure in one project never stops the others"
        );
        if attempt == 4 {
            assert!(
                run.stdout.contains("gave up after 3 attempts today"),
                "{}",
                run.stdout
            );
        }
    }
    let report = root.report();
    assert!(
        report.contains("**A** · `logs` failed after 3 attempt(s): injected failure"),
        "{report}"
    );
    let status = root.run(&["status"]);
    assert!(
        status.stdout.contains("failed       3/3"),
        "{}",
        status.stdout
    );
}

#[test]
fn a_second_run_exits_3_naming_the_holder() {
    let root = Root::new();
    root.project("a").config(&config_for(&["a"]));
    let mut first = root.spawn(&["run"], &[("DAYDREAM_TEST_UNIT_DELAY_MS", "3000")]);
    root.wait_for_state("the first run to start a unit", |s| {
        s["steps"][0]["units"][0]["status"] == "running"
    });
    let second = root.run(&["run"]);
    second.expect(3);
    assert!(
        second.stderr.contains(&format!(
            "holds the lock of `{}` (pid {}",
            root.path().display(),
            first.id()
        )),
        "{}",
        second.stderr
    );
    assert!(first.wait().unwrap().success());
}

#[test]
fn sigterm_abandons_the_unit_as_interrupted_and_exits_143() {
    let root = Root::new();
    root.project("a").config(&config_for(&["a"]));
    let mut child = root.spawn(&["run"], &[("DAYDREAM_TEST_UNIT_DELAY_MS", "20000")]);
    root.wait_for_state("a unit to start", |s| {
        s["steps"][0]["units"][0]["status"] == "running"
    });
    kill(&child, "TERM");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    let state = root.state();
    let cleanup = unit(&state, "cleanup", "a");
    assert_eq!(cleanup["status"], "interrupted");
    assert_eq!(
        cleanup["attempts"], 0,
        "an interruption is not a failed attempt"
    );
    assert_eq!(state["runs"][0]["outcome"], "interrupted by SIGTERM");
    root.run(&["run"]).expect(0);
    assert_eq!(unit(&root.state(), "cleanup", "a")["status"], "done");
}

#[test]
fn status_shows_units_reasons_and_the_report() {
    let root = Root::new();
    root.project("a").config("{\"projects\": {\"a\": {\"working_directory\": \"projects/a\"}, \"gone\": {\"working_directory\": \"/nonexistent/x\"}}}");
    let before = root.run(&["status"]);
    before.expect(0);
    assert!(
        before.stdout.contains("no run yet for 2026-11-21"),
        "{}",
        before.stdout
    );
    root.run(&["run"]).expect(0);
    let status = root.run(&["status"]);
    status.expect(0);
    assert!(
        status
            .stdout
            .contains("report: logs/daydream/report_2026-11-21.md"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("gone           skipped"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("`/nonexistent/x` does not exist on this machine"),
        "{}",
        status.stdout
    );
}

#[test]
fn status_without_a_date_shows_the_latest_run_after_midnight() {
    let root = Root::new();
    root.project("a").config(&config_for(&["a"]));
    root.run(&["run"]).expect(0);
    // The next morning, before that day's run: yesterday's run, said to be the latest, not an empty today.
    let status = Run::from(
        root.cmd(&["status"])
            .env("DAYDREAM_NOW", "2026-11-22T02:00:00+00:00")
            .output()
            .unwrap(),
    );
    status.expect(0);
    assert!(
        status.stdout.contains("daydream status for 2026-11-21"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("(the latest run; none yet for 2026-11-22"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("cleanup                  done\n          a              done"),
        "{}",
        status.stdout
    );
    // `--date` still asks for that day.
    let today = Run::from(
        root.cmd(&["status", "--date", "2026-11-22"])
            .env("DAYDREAM_NOW", "2026-11-22T02:00:00+00:00")
            .output()
            .unwrap(),
    );
    assert!(
        today.stdout.contains("no run yet for 2026-11-22"),
        "{}",
        today.stdout
    );
}

#[test]
fn a_later_run_of_other_steps_brings_the_days_report_file_up_to_date() {
    let root = Root::new();
    root.project("a").config(&config_for(&["a"]));
    root.write(
        "projects/a/README.md",
        "# a\n\nSee [the guide](docs/guide.md).\n",
    );
    root.run(&["run", "--step", "logs", "--step", "report"])
        .expect(0);
    let before = root.report();
    let docs = |report: &str| {
        report
            .split("## Docs")
            .nth(1)
            .unwrap_or_default()
            .split("\n## ")
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(docs(&before).contains("_Not run yet._"), "{before}");

    let run = root.run(&["run", "--step", "docs"]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("report: logs/daydream/report_2026-11-21.md (updated;"),
        "{}",
        run.stdout
    );
    let after = root.report();
    assert!(!docs(&after).contains("_Not run yet._"), "{after}");
    assert!(docs(&after).contains("docs/guide.md"), "{after}");
}

#[test]
fn the_console_counts_a_units_warnings_and_points_at_the_report() {
    let root = Root::new();
    root.write("projects/a/logs/bin.log", b"x\0y\0z\n");
    root.config(&config_for(&["a"]));
    let run = root.run(&["run", "--step", "logs", "--step", "report"]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("(1 warning(s): see Log Review in the report)"),
        "{}",
        run.stdout
    );
    assert!(root.report().contains("bin.log"), "{}", root.report());
}
