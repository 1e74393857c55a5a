//! The state file across runs and days: older formats, corrupt files, a new day.

use crate::harness::{Root, config_for, unit};

#[test]
fn an_older_state_file_loads_and_its_done_units_are_not_repeated() {
    let root = Root::new();
    root.project("a").config(&config_for(&["a"]));
    root.write(
        "logs/daydream/state.json",
        r#"{"format_version": 0, "date": "2026-11-21", "steps": [{"name": "cleanup", "units": [{"project": "a", "status": "done", "output": {"summary": "done by an older daydream"}}]}]}"#,
    );
    root.run(&["run"]).expect(0);
    let state = root.state();
    assert_eq!(state["format_version"], 1);
    assert_eq!(
        unit(&state, "cleanup", "a")["output"]["summary"],
        "done by an older daydream"
    );
    assert!(
        root.join("projects/a/app/__pycache__").exists(),
        "the done cleanup unit did not run again"
    );
    assert_eq!(unit(&state, "logs", "a")["status"], "done");
}

#[test]
fn a_corrupt_state_file_is_moved_aside_and_named() {
    let root = Root::new();
    root.project("a").config(&config_for(&["a"]));
    root.write(
        "logs/daydream/state.json",
        "{\"format_version\": 1, \"date\": \"2026-11-21\", \"steps\": [tru",
    );
    let run = root.run(&["run"]);
    run.expect(0);
    let aside = "logs/daydream/state.json.corrupt-20261121T060000";
    assert!(
        run.stderr
            .contains("`logs/daydream/state.json` was not valid JSON"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("moved to `{aside}`")),
        "{}",
        run.stderr
    );
    assert!(root.read(aside).ends_with("[tru"));
    assert_eq!(unit(&root.state(), "logs", "a")["status"], "done");
}

#[test]
fn a_newer_state_file_is_moved_aside_not_overwritten() {
    let root = Root::new();
    root.project("a").config(&config_for(&["a"]));
    root.write(
        "logs/daydream/state.json",
        r#"{"format_version": 9, "date": "2026-11-21", "future": true}"#,
    );
    let run = root.run(&["run"]);
    run.expect(0);
    assert!(
        run.stderr
            .contains("written by a newer daydream (format_version 9"),
        "{}",
        run.stderr
    );
    assert!(
        root.read("logs/daydream/state.json.v9-20261121T060000")
            .contains("\"future\": true")
    );
}

#[test]
fn a_new_day_starts_fresh_and_keeps_yesterdays_state() {
    let root = Root::new();
    root.project("a").config(&config_for(&["a"]));
    root.run(&["run", "--date", "2026-11-20"]).expect(0);
    assert_eq!(root.state()["date"], "2026-11-20");
    let run = root.run(&["run"]);
    run.expect(0);
    assert!(
        run.stderr.contains(
            "new day: the state of 2026-11-20 is kept in `logs/daydream/state_2026-11-20.json`"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(root.state()["date"], "2026-11-21");
    assert_eq!(unit(&root.state(), "logs", "a")["attempts"], 1);
    let kept: serde_json::Value =
        serde_json::from_str(&root.read("logs/daydream/state_2026-11-20.json")).unwrap();
    assert_eq!(unit(&kept, "logs", "a")["status"], "done");
    assert!(root.join("logs/daydream/report_2026-11-20.md").exists());
}
