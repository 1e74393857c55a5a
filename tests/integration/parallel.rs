//! `run --jobs`: the units of a step for different projects side by side, with the outcome of one at a time.
//! The benchmark (`tests/bench/parallel.sh`) runs the `#[ignore]`d `bench_` functions here, in release mode.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::fake_github::FakeGitHub;
use crate::github::{gh_available, run};
use crate::harness::Root;

/// `n` projects, each with yesterday's errors and its own GitHub repository on `github`.
fn root_with(github: &FakeGitHub, n: usize) -> (Root, Vec<(String, String)>) {
    let root = Root::new();
    let mut projects = Vec::new();
    for i in 0..n {
        let slug = format!("p{i:03}");
        root.project(&slug);
        let mut refunds = String::new();
        for h in 0..6 {
            let _ = writeln!(
                refunds,
                "2026-11-20 0{h}:10:00,000 ERROR [app] Refund failed for order {h}: gateway_timeout"
            );
        }
        root.write(&format!("projects/{slug}/logs/refunds.log"), refunds);
        projects.push(format!(
            r#""{slug}": {{"working_directory": "projects/{slug}", "github": {{"org": "o", "repo": "{slug}"}}}}"#
        ));
    }
    root.config(&format!(r#"{{"projects": {{{}}}}}"#, projects.join(", ")));
    let mut env = github.gh_env(&root.join("gh-config"));
    env.push(("DAYDREAM_GH_BACKOFF_MS".to_owned(), "10".to_owned()));
    (root, env)
}

/// The issues of every project's repository: (repo, title, state).
fn issues(github: &FakeGitHub, n: usize) -> Vec<(String, String, String)> {
    (0..n)
        .flat_map(|i| {
            let repo = format!("o/p{i:03}");
            github.issues(&repo).into_iter().map(move |issue| {
                (
                    repo.clone(),
                    issue["title"].as_str().unwrap_or_default().to_owned(),
                    issue["state"].as_str().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect()
}

const STEPS: [&str; 8] = [
    "--step", "cleanup", "--step", "logs", "--step", "tasks", "--step", "report",
];

#[test]
fn projects_run_side_by_side_with_the_issues_and_report_of_one_at_a_time() {
    if !gh_available() {
        return;
    }
    let n = 5;
    let serial_github = FakeGitHub::start();
    serial_github.set_latency(Duration::from_millis(100));
    let (serial, env) = root_with(&serial_github, n);
    let mut args = vec!["run", "--jobs", "1"];
    args.extend(STEPS);
    run(&serial, &env, &args).expect(0);
    assert_eq!(serial_github.most_in_flight(), 1);

    let github = FakeGitHub::start();
    github.set_latency(Duration::from_millis(100));
    let (parallel, env) = root_with(&github, n);
    args[2] = "4";
    let out = run(&parallel, &env, &args);
    out.expect(0);
    assert!(
        github.most_in_flight() >= 2,
        "no two GitHub requests overlapped"
    );
    assert!(
        out.stdout.contains("5 project(s) (4 at once)"),
        "{}",
        out.stdout
    );
    // Every line whole: a unit line, or the run's own lines.
    for line in out.stdout.lines() {
        assert!(
            line.starts_with("  ")
                || line.starts_with("daydream ")
                || line.starts_with("done: ")
                || line.starts_with("report: "),
            "a broken line: {line:?}\n{}",
            out.stdout
        );
    }

    let created = issues(&github, n);
    assert_eq!(created.len(), n, "{created:?}\n{}", out.stdout);
    assert_eq!(created, issues(&serial_github, n));
    assert_eq!(parallel.report(), serial.report());
    // The state lists the units in the projects' order, whatever order they finished in.
    assert_units_in_project_order(&parallel.state());
    // Saved through the journal, compacted at the end.
    assert!(!parallel.join("logs/daydream/state.journal").exists());
}

/// Wall time and peak RSS (KiB, from `/usr/bin/time`) of `daydream ARGS`.
fn measure(root: &Root, env: &[(String, String)], args: &[&str]) -> (Duration, u64) {
    let inner = root.cmd(args);
    let rss = root.join("rss.txt");
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.env_clear()
        .arg("-o")
        .arg(&rss)
        .arg("-f")
        .arg("%M")
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(root.path());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let took = started.elapsed();
    assert!(
        out.status.code() == Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let kib = std::fs::read_to_string(&rss)
        .ok()
        .and_then(|t| t.trim().lines().last()?.parse().ok())
        .unwrap_or(0);
    (took, kib)
}

#[test]
#[ignore = "a benchmark: tests/bench/parallel.sh"]
fn bench_jobs_against_a_slow_github() {
    let n = 12;
    let mut times = Vec::new();
    for jobs in ["1", "8"] {
        let github = FakeGitHub::start();
        github.set_latency(Duration::from_millis(150));
        let (root, env) = root_with(&github, n);
        let mut args = vec!["run", "--jobs", jobs];
        args.extend(STEPS);
        let (took, rss) = measure(&root, &env, &args);
        println!(
            "{n} projects, GitHub answering in 150 ms, --jobs {jobs}: {:.2} s, peak RSS {} MiB, {} issue(s)",
            took.as_secs_f64(),
            rss / 1024,
            issues(&github, n).len()
        );
        times.push(took.as_secs_f64());
    }
    println!("--jobs 8 / --jobs 1 = {:.2}", times[1] / times[0]);
}

#[test]
#[ignore = "a benchmark: tests/bench/parallel.sh"]
fn bench_saves_as_the_project_count_grows() {
    let mut times = Vec::new();
    for n in [20, 200] {
        let github = FakeGitHub::start();
        let (root, env) = root_with(&github, n);
        let (took, rss) = measure(
            &root,
            &env,
            &["run", "--jobs", "1", "--step", "cleanup", "--step", "logs"],
        );
        println!(
            "{n} projects, cleanup + logs, --jobs 1: {:.2} s, peak RSS {} MiB, state.json {} KB",
            took.as_secs_f64(),
            rss / 1024,
            std::fs::metadata(root.join("logs/daydream/state.json")).map_or(0, |m| m.len() / 1000)
        );
        times.push(took.as_secs_f64());
    }
    println!(
        "200 projects / 20 projects = {:.1}x (linear: 10x)",
        times[1] / times[0]
    );
}

/// The units of every step of `state`, in the order the state holds them, are in the projects' order.
fn assert_units_in_project_order(state: &serde_json::Value) {
    for step in state["steps"].as_array().unwrap() {
        let units: Vec<&str> = step["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["project"].as_str().unwrap())
            .collect();
        let mut sorted = units.clone();
        sorted.sort_by_key(|p| (*p == "*", (*p).to_owned()));
        assert_eq!(units, sorted, "{}", step["name"]);
    }
}

#[test]
fn a_kill_mid_step_leaves_a_journal_whose_replay_keeps_the_projects_order() {
    let root = Root::new();
    let slugs = ["a", "b", "c", "d"];
    for slug in slugs {
        root.project(slug);
    }
    root.config(&crate::harness::config_for(&slugs));
    let mut child = root.spawn(
        &["run", "--jobs", "4", "--step", "cleanup", "--step", "logs"],
        &[("DAYDREAM_TEST_UNIT_DELAY_MS", "400")],
    );
    root.wait_for_state("the logs step to start", |s| {
        s["steps"]
            .as_array()
            .is_some_and(|steps| steps.iter().any(|st| st["name"] == "logs"))
    });
    crate::harness::kill(&child, "KILL");
    child.wait().unwrap();
    assert!(root.join("logs/daydream/state.journal").exists());
    assert_units_in_project_order(&root.state());
    // The next run replays and finishes; the order holds in the compacted file.
    root.run(&["run", "--jobs", "4", "--step", "cleanup", "--step", "logs"])
        .expect(0);
    assert_units_in_project_order(&root.state());
    assert!(!root.join("logs/daydream/state.journal").exists());
}
