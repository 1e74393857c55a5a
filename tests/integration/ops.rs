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
