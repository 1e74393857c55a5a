//! A SIGKILL in the middle of a unit loses nothing and counts nothing twice.

use std::fmt::Write as _;

use crate::harness::{Root, config_for, kill, unit};

/// A log of yesterday big enough that a slowed run is killed mid-file.
fn big_log() -> String {
    let mut log = String::new();
    for i in 0..40_000 {
        let minute = i % 60;
        let hour = (i / 60) % 24;
        let _ = writeln!(
            log,
            "2026-11-20 {hour:02}:{minute:02}:07,120 INFO [worker] Processed job {i} in {}ms",
            i % 97
        );
        if i % 50 == 0 {
            let _ = writeln!(
                log,
                "2026-11-20 {hour:02}:{minute:02}:08,001 ERROR [worker] Job {i} failed: timeout after 30s"
            );
            log.push_str("Traceback (most recent call last):\n  File \"worker.py\", line 3, in run\nTimeoutError: job\n");
        }
        if i % 70 == 0 {
            let _ = writeln!(
                log,
                "2026-11-20 {hour:02}:{minute:02}:09,500 WARNING [worker] Queue depth {i} above 100"
            );
        }
    }
    log
}

fn root_with_big_log() -> Root {
    let root = Root::new();
    root.project("a").config(&config_for(&["a"]));
    root.write("projects/a/logs/big.log", big_log());
    root
}

#[test]
fn sigkill_mid_file_then_rerun_gives_the_same_report_as_an_uninterrupted_run() {
    let reference = root_with_big_log();
    reference.run(&["run"]).expect(0);

    let root = root_with_big_log();
    let mut child = root.spawn(
        &["run"],
        &[
            ("DAYDREAM_TEST_CHECKPOINT_BYTES", "65536"),
            ("DAYDREAM_TEST_SLOW_MS", "40"),
        ],
    );
    root.wait_for_state("a checkpoint in the middle of the log", |s| {
        s["steps"].as_array().is_some_and(|steps| {
            steps.iter().any(|st| {
                st["name"] == "logs"
                    && st["units"][0]["status"] == "running"
                    && !st["units"][0]["checkpoint"].is_null()
            })
        })
    });
    kill(&child, "KILL");
    child.wait().unwrap();
    let killed = root.state();
    assert_eq!(
        unit(&killed, "logs", "a")["status"],
        "running",
        "killed mid-unit"
    );

    let rerun = root.run(&["run"]);
    rerun.expect(0);
    assert!(
        rerun
            .stderr
            .contains("logs for a was left running by a run that died; running it again"),
        "{}",
        rerun.stderr
    );
    let state = root.state();
    assert_eq!(
        unit(&state, "cleanup", "a")["attempts"],
        1,
        "the done unit was not repeated"
    );
    assert_eq!(unit(&state, "logs", "a")["attempts"], 2);
    assert_eq!(unit(&state, "logs", "a")["status"], "done");
    assert!(unit(&state, "logs", "a")["checkpoint"].is_null());
    assert_eq!(
        state["runs"][0]["outcome"],
        "ended without finishing (killed or crashed)"
    );
    assert_eq!(
        root.report(),
        reference.report(),
        "resumed report equals the uninterrupted one"
    );
    // The two roots' files were written at different moments; everything but their mtimes must match.
    let without_mtimes = |state: &serde_json::Value| {
        let mut output = unit(state, "logs", "a")["output"].clone();
        for file in output["data"]["files"].as_array_mut().unwrap() {
            file.as_object_mut().unwrap().remove("modified");
        }
        output
    };
    assert_eq!(without_mtimes(&state), without_mtimes(&reference.state()));
}
