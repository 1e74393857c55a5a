//! The tests step in the report: a summary line, actions for what broke, the failing and flaky tests.

use std::fmt::Write as _;

use super::TestsData;
use crate::step::{Output, Reason};
use crate::text::{cell, code, plural, squeeze};

/// Tests listed per kind in the report; the counts cover all.
const SHOWN: usize = 10;
/// New failures named one per action; beyond, one action counts them.
const ACTIONS: usize = 3;

pub(super) fn output(data: TestsData, warnings: Vec<String>) -> Output<TestsData> {
    let mut actions = Vec::new();
    // On the first night on record every failure is news.
    let new: Vec<_> = data
        .failing
        .iter()
        .filter(|t| t.new || data.first_night)
        .collect();
    let what = if data.first_night {
        "Failing test"
    } else {
        "New failing test"
    };
    for t in new.iter().take(ACTIONS) {
        actions.push(Reason::Failing.tag(&format!(
            "{what} on `{}`: {} ({})",
            data.base,
            code(&t.failure.test),
            squeeze(&t.failure.error(), 120)
        )));
    }
    if new.len() > ACTIONS {
        actions.push(Reason::Failing.tag(&format!(
            "{} more new failing tests (see Tests)",
            new.len() - ACTIONS
        )));
    }
    if data.status.starts_with("timed out") || data.status.starts_with("could not run") {
        actions.push(format!(
            "The test suite {} on `{}`: {}",
            data.status,
            data.base,
            code(&data.command)
        ));
    }
    Output {
        summary: summary(&data),
        data,
        actions,
        warnings,
    }
}

fn summary(data: &TestsData) -> String {
    let new = data.failing.iter().filter(|t| t.new).count();
    let mut parts = Vec::new();
    if data.failing.is_empty() {
        parts.push(if data.status == "passed" || data.status == "failed" {
            "all tests pass".to_owned()
        } else {
            format!("the suite {}", data.status)
        });
    } else {
        let mut failing = format!("{} failing", data.failing.len());
        if new > 0 {
            let _ = write!(failing, " ({new} new)");
        }
        parts.push(failing);
    }
    if !data.fixed.is_empty() {
        parts.push(format!("{} fixed since last night", data.fixed.len()));
    }
    if !data.flaky.is_empty() {
        parts.push(format!("{} flaky", data.flaky.len()));
    }
    let mut line = parts.join(", ");
    let _ = write!(
        line,
        "; {} on `{}`",
        duration(data.duration_secs),
        data.base
    );
    if let Some(change) = trend(data) {
        let _ = write!(line, " ({change})");
    }
    line
}

/// The duration against the median of the nights before, when there are at least three.
fn trend(data: &TestsData) -> Option<String> {
    if data.trend.len() < 3 {
        return None;
    }
    let mut before: Vec<f64> = data.trend.iter().map(|(_, s)| *s).collect();
    before.sort_by(f64::total_cmp);
    let median = before[before.len() / 2];
    if median <= 0.0 {
        return None;
    }
    let change = (data.duration_secs - median) / median * 100.0;
    if change.abs() < 10.0 {
        return Some(format!("as usual, median {}", duration(median)));
    }
    let sign = if change > 0.0 { "+" } else { "" };
    Some(format!(
        "{sign}{change:.0}% on the median {} of the last {} nights",
        duration(median),
        before.len()
    ))
}

fn duration(secs: f64) -> String {
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        let whole = secs.round();
        let minutes = (whole / 60.0).floor();
        format!("{minutes:.0} min {:.0} s", whole - minutes * 60.0)
    }
}

pub(super) fn render(data: &TestsData, out: &mut String) {
    let _ = writeln!(
        out,
        "{} on `{}` ({}), {}{}.",
        code(&data.command),
        data.base,
        &data.commit[..data.commit.len().min(10)],
        duration(data.duration_secs),
        match &data.sandbox {
            Some(kind) => format!(", confined by {kind}"),
            None => ", unconfined".to_owned(),
        }
    );
    if !data.failing.is_empty() {
        let _ = writeln!(out, "\n| Failing test | Error | Since |\n|---|---|---|");
        for t in data.failing.iter().take(SHOWN) {
            let since = if t.new {
                "new tonight".to_owned()
            } else {
                t.since.to_string()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {since} |",
                code(&t.failure.test),
                cell(&squeeze(&t.failure.error(), 160)),
            );
        }
        if data.failing.len() > SHOWN {
            let _ = writeln!(out, "\n{} more failing.", data.failing.len() - SHOWN);
        }
    }
    if !data.fixed.is_empty() {
        let shown: Vec<String> = data.fixed.iter().take(SHOWN).map(|t| code(t)).collect();
        let _ = writeln!(out, "\nFixed since last night: {}.", shown.join(", "));
    }
    if !data.flaky.is_empty() {
        let _ = writeln!(
            out,
            "\nFlaky (failed, then passed alone; never sent to a model): {}",
            plural(data.flaky.len(), "test", "tests")
        );
        for f in data.flaky.iter().take(SHOWN) {
            let _ = writeln!(
                out,
                "- {} ({}, flaky on {} of the last nights)",
                code(&f.test),
                cell(&f.message),
                f.nights
            );
        }
    }
}

pub(super) fn digest(data: &TestsData, output: &Output) -> Option<String> {
    if data.failing.is_empty() && data.flaky.is_empty() {
        return None;
    }
    let mut out = output.summary.clone();
    for t in data.failing.iter().take(5) {
        let _ = write!(
            out,
            "\nfailing: {} ({})",
            t.failure.test,
            squeeze(&t.failure.error(), 200)
        );
    }
    Some(out)
}
