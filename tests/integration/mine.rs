//! `daydream mine`: one JSON object per input line, in order, from stdin or files, with `--raw` headers found.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::Stdio;

use serde_json::Value;

use crate::harness::Root;

fn mine(root: &Root, args: &[&str], input: &str) -> (i32, Vec<Value>, String) {
    let mut all = vec!["mine"];
    all.extend_from_slice(args);
    let mut child = root
        .cmd(&all)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn stdin_messages_get_one_object_each_in_order() {
    let root = Root::new();
    let mut input = String::new();
    for (i, user) in ["alice", "bob", "carol", "dave", "erin"].iter().enumerate() {
        let _ = writeln!(
            input,
            "Accepted password for {user} from 10.0.0.{i} port 50{i}2 ssh2"
        );
    }
    input.push_str("\nConnection closed by 10.0.0.3 [preauth]\n");
    let (code, out, stderr) = mine(&root, &[], &input);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(out.len(), 7, "an object for every line, the empty one too");
    // Templates are the final ones: the first line's names the user as a variable once five were seen.
    for o in &out[1..5] {
        assert_eq!(o["cluster"], out[0]["cluster"], "{out:#?}");
    }
    assert_eq!(
        out[0]["template"], "Accepted password for <*> from <*> port <*> ssh2",
        "{out:#?}"
    );
    assert_ne!(out[6]["cluster"], out[0]["cluster"]);
    assert_eq!(
        out[6]["template"], "Connection closed by <*> [preauth]",
        "{out:#?}"
    );
}

#[test]
fn raw_lines_lose_their_headers_and_a_missing_file_is_a_usage_error() {
    let root = Root::new();
    let mut log = String::new();
    for (i, user) in ["alice", "bob", "carol", "dave", "erin"].iter().enumerate() {
        let _ = writeln!(
            log,
            "Nov 20 01:0{i}:03 web1 sshd[{}]: Accepted password for {user} from 10.0.0.{i} port 50{i}2 ssh2",
            100 + i
        );
    }
    root.write("auth.log", &log);
    let (code, out, stderr) = mine(
        &root,
        &["--raw", &root.join("auth.log").to_string_lossy()],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(out.len(), 5);
    let template = out[4]["template"].as_str().unwrap();
    assert!(
        !template.contains("sshd") && !template.contains("Nov"),
        "{template}"
    );
    assert!(template.starts_with("Accepted password for"), "{template}");
    let (code, out, stderr) = mine(&root, &["nope.log"], "");
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        stderr.contains("`nope.log` is not a readable file"),
        "{stderr}"
    );
}
