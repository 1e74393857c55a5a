//! The README's first command: `daydream demo` writes the bundled demo root and runs on it.

use crate::harness::{Root, unit};

#[test]
fn the_demo_runs_and_its_report_has_real_findings() {
    let root = Root::new();
    let demo = root.join("demo");
    let run = root.run(&["demo", demo.to_str().unwrap()]);
    run.expect(0);
    assert!(
        run.stdout
            .contains("report: logs/daydream/report_2026-11-21.md"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("done: units 10 done, 19 skipped"),
        "{}",
        run.stdout
    );

    let report = std::fs::read_to_string(demo.join("logs/daydream/report_2026-11-21.md")).unwrap();
    // The console and the report count the same units.
    assert!(
        report.contains("- **Units:** 10 done, 0 failed, 19 skipped, 0 not finished"),
        "{report}"
    );
    // Log findings: recurring errors, a stack trace, an access-log 5xx, and no secret of the logs.
    assert!(
        report.contains("Payment failed for order <*>: <*>"),
        "{report}"
    );
    assert!(report.contains("KeyError: 'sku'"), "{report}");
    assert!(report.contains("`POST /checkout -> 502`"), "{report}");
    assert!(
        !report.contains("hunter2") && !report.contains("7c1e4b9a2f6d8e03b5a4c2d1e0f9a8b7"),
        "{report}"
    );
    // Cleanup findings: artifacts removed, legacy code reported.
    assert!(report.contains("`app/__pycache__/`"), "{report}");
    assert!(report.contains("commented-out code: 1 block"), "{report}");
    assert!(report.contains("TODO/FIXME/XXX"), "{report}");
    assert!(
        report.contains(
            "_Skipped: `~/src/mobile-app-not-on-this-machine` does not exist on this machine._"
        ),
        "{report}"
    );
    assert!(!demo.join("projects/shop/app/__pycache__").exists());
    // The sample Claude Code session: its thrash loop, counted and named, and none of its prompts.
    assert!(
        report.contains("**1 session**, 9.9 min active: 3 user turns, 11 tool calls (**4 failed**), **1 thrash loop**, 1 interruption, 1 correction."),
        "{report}"
    );
    assert!(
        report.contains(
            "command `python -m pytest -q tests/test_checkout.py` failed 3 times in a row"
        ),
        "{report}"
    );
    assert!(!report.contains("please fix cart_total"), "{report}");

    insta::assert_snapshot!("demo_report", report);

    // A rerun the same day does nothing new.
    let again = crate::harness::Run::from(
        root.cmd(&["run", "--root", demo.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    again.expect(0);
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(demo.join("logs/daydream/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(unit(&state, "logs", "shop")["attempts"], 1);
    assert_eq!(
        std::fs::read_to_string(demo.join("logs/daydream/report_2026-11-21.md")).unwrap(),
        report
    );
}
