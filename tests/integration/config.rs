//! `daydream validate` and configuration errors: file, line, column and the fix; exit code 2.

use crate::harness::Root;

fn validate(config: &str) -> crate::harness::Run {
    let root = Root::new();
    root.config(config);
    root.run(&["validate"])
}

#[test]
fn malformed_json_is_exit_2_with_line_column_and_fix() {
    let run =
        validate("{\n  \"projects\": {\n    \"a\": {\"working_directory\": \"/tmp\"},\n  }\n}\n");
    run.expect(2);
    assert!(
        run.stdout
            .contains("config/projects.json`: line 4, column 3: not valid JSON"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("fix: look just before that position"),
        "{}",
        run.stdout
    );
}

#[test]
fn wrong_type_is_exit_2_naming_the_key() {
    let run = validate(
        "{\"projects\": {\"a\": {\n  \"working_directory\": \"/tmp\",\n  \"logs\": 7\n}}}",
    );
    run.expect(2);
    assert!(
        run.stdout.contains(
            "line 3, column 11: `projects.a.logs`: invalid type: integer `7`, expected a sequence"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("fix: make `projects.a.logs` a sequence"),
        "{}",
        run.stdout
    );
}

#[test]
fn missing_working_directory_is_exit_2_with_the_fix() {
    let run = validate("{\"projects\": {\n  \"shop\": {\"name\": \"Shop\"}\n}}");
    run.expect(2);
    assert!(
        run.stdout
            .contains("line 2, column 26: `projects.shop` has no `working_directory`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("fix: add `\"working_directory\": \"~/src/app\"` to `projects.shop`"),
        "{}",
        run.stdout
    );
}

#[test]
fn run_refuses_a_bad_config_with_exit_2_and_runs_nothing() {
    let root = Root::new();
    root.config("{\"projects\": {\"a\": {}}}");
    let run = root.run(&["run"]);
    run.expect(2);
    assert!(
        run.stderr.contains("has no `working_directory`"),
        "{}",
        run.stderr
    );
    assert!(!root.join("logs/daydream/state.json").exists());
}

#[test]
fn unknown_keys_warn_and_missing_directories_are_skipped_not_errors() {
    let root = Root::new();
    root.config(
        "{\"projects\": {\"far\": {\"working_directory\": \"~/not/here\", \"sentri\": {}}}}",
    );
    let run = root.run(&["validate"]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("unknown key `projects.far.sentri` is ignored; did you mean `sentry`?"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("skipped: `~/not/here` does not exist on this machine"),
        "{}",
        run.stdout
    );

    let run = root.run(&["run"]);
    run.expect(0);
    let state = root.state();
    let unit = crate::harness::unit(&state, "cleanup", "far");
    assert_eq!(unit["status"], "skipped");
    assert_eq!(
        unit["reason"],
        "`~/not/here` does not exist on this machine"
    );
    assert!(
        root.report()
            .contains("_Skipped: `~/not/here` does not exist on this machine._")
    );
}

#[test]
fn tilde_expands_to_home() {
    let root = Root::new();
    std::fs::create_dir_all(root.join("home/src/app")).unwrap();
    root.config("{\"projects\": {\"app\": {\"working_directory\": \"~/src/app\"}}}");
    let run = root.run(&["validate"]);
    run.expect(0);
    assert!(
        run.stdout.contains(&format!(
            "app            {}",
            root.join("home/src/app").display()
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn unknown_step_or_project_is_a_usage_error() {
    let root = Root::new();
    root.project("a")
        .config(&crate::harness::config_for(&["a"]));
    let run = root.run(&["run", "--step", "sentry-ish"]);
    run.expect(2);
    assert!(
        run.stderr.contains("unknown step `sentry-ish`")
            && run.stderr.contains(
                "cleanup, logs, sessions, sentry, tasks, docs, tests, reflect, autofix, report"
            ),
        "{}",
        run.stderr
    );
    let run = root.run(&["run", "--project", "b"]);
    run.expect(2);
    assert!(run.stderr.contains("unknown project `b`"), "{}", run.stderr);
}

#[test]
fn a_top_level_that_is_not_an_object_and_a_project_written_twice_say_what_to_do() {
    let root = Root::new();
    root.config("[]");
    let run = root.run(&["validate"]);
    run.expect(2);
    assert!(
        run.stdout
            .contains("the top level must be an object with `projects`")
            && !run.stdout.contains("RawConfig"),
        "{}",
        run.stdout
    );
    root.config(
        "{\"projects\": {\n  \"a\": {\"working_directory\": \"x\"},\n  \"a\": {\"working_directory\": \"y\"}\n}}\n",
    );
    let run = root.run(&["validate"]);
    run.expect(2);
    assert!(
        run.stdout
            .contains("line 3, column 5: the project `a` is defined twice (here and at line 2)"),
        "{}",
        run.stdout
    );
}

#[test]
fn doctor_on_a_broken_config_says_so_and_leaves_nothing_behind() {
    let root = Root::new();
    root.config("{");
    let run = root.run(&["doctor"]);
    run.expect(2);
    assert!(run.stdout.contains("not valid JSON"), "{}", run.stdout);
    assert!(
        run.stdout.contains("ok    root is writable"),
        "{}",
        run.stdout
    );
    assert!(!root.join("logs").exists(), "doctor created `logs/`");
}
