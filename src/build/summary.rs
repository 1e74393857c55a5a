//! What a build says on stdout: the plan (the manifest by wave), then each stream with its wall time and cost,
//! the total wall time against the serial estimate (the streams' times added up), the cost and the integration.

use std::fmt::Write as _;
use std::time::Duration;

use super::integrate::Integration;
use super::manifest::Manifest;
use super::secs;
use super::streams::{State, StreamRun, short};

/// The manifest as a plan: each wave of streams that run side by side, each stream's task and files.
pub(crate) fn plan(manifest: &Manifest, spec_name: &str, base: &str, at_once: usize) -> String {
    let mut out = format!(
        "## build `{spec_name}`: {} stream(s) from `{base}`, up to {at_once} at once\n",
        manifest.streams.len()
    );
    for (n, wave) in manifest.waves().iter().enumerate() {
        let ids: Vec<&str> = wave
            .iter()
            .map(|i| manifest.streams[*i].id.as_str())
            .collect();
        let _ = writeln!(out, "wave {}: {}", n + 1, ids.join(", "));
    }
    for s in &manifest.streams {
        let after = if s.after.is_empty() {
            String::new()
        } else {
            format!(" (after {})", s.after.join(", "))
        };
        let _ = writeln!(
            out,
            "- {}{after}: owns {}\n    {}",
            s.id,
            s.owns.join(", "),
            crate::text::squeeze(&s.task, 200)
        );
    }
    let _ = writeln!(
        out,
        "lands on: the local branch `daydream/build-{spec_name}` (`-2`, `-3` when taken)"
    );
    out
}

/// Everything the final summary shows.
pub(crate) struct Summary<'a> {
    pub(crate) spec_name: &'a str,
    pub(crate) base: &'a str,
    pub(crate) streams: &'a [StreamRun],
    /// From the first stream's start to the last one's end.
    pub(crate) streams_wall: Duration,
    /// From the first stream's start to the end of the integration (and the push).
    pub(crate) total: Duration,
    pub(crate) coordinator_cost: f64,
    pub(crate) integration: Option<&'a Integration>,
    pub(crate) pushed: Option<&'a Result<String, String>>,
}

pub(crate) fn render(s: &Summary<'_>) -> String {
    let mut out = format!("\n## build `{}`: the streams\n", s.spec_name);
    let rows: Vec<[String; 6]> = s
        .streams
        .iter()
        .map(|r| {
            let result = match &r.state {
                State::Committed(c) => format!(
                    "committed {} ({} file(s); tests: {})",
                    short(c),
                    r.files.len(),
                    r.tests
                ),
                State::Failed(why) => format!("failed: {why}"),
                State::NotStarted(why) => why.clone(),
            };
            let not_run = matches!(r.state, State::NotStarted(_));
            [
                r.id.clone(),
                if r.after.is_empty() {
                    "-".to_owned()
                } else {
                    r.after.join(", ")
                },
                if not_run {
                    "-".to_owned()
                } else {
                    secs(r.started)
                },
                if not_run {
                    "-".to_owned()
                } else {
                    secs(r.wall)
                },
                format!("${:.2}", r.cost_usd),
                result,
            ]
        })
        .collect();
    out.push_str(&crate::fixer::table(
        ["stream", "after", "started", "wall", "cost", "result"],
        &rows,
    ));
    let serial: Duration = s.streams.iter().map(|r| r.wall).sum();
    let speedup = if s.streams_wall.is_zero() {
        0.0
    } else {
        serial.as_secs_f64() / s.streams_wall.as_secs_f64()
    };
    let _ = writeln!(
        out,
        "\nwall time: {} in all ({} for the streams, {} to integrate); serial estimate (the streams one after another): {} ({speedup:.2}x)",
        secs(s.total),
        secs(s.streams_wall),
        secs(s.integration.map_or(Duration::ZERO, |i| i.wall)),
        secs(serial),
    );
    let streams_cost: f64 = s.streams.iter().map(|r| r.cost_usd).sum();
    let repair = s.integration.map_or(0.0, |i| i.cost_usd);
    let _ = writeln!(
        out,
        "cost: ${:.2} (coordinator ${:.2}, streams ${streams_cost:.2}, repair ${repair:.2})",
        s.coordinator_cost + streams_cost + repair,
        s.coordinator_cost,
    );
    out.push_str(&integration(s));
    match s.pushed {
        Some(Ok(url)) => {
            let _ = writeln!(out, "draft pull request: {url}");
        }
        Some(Err(why)) => {
            let _ = writeln!(out, "not pushed: {why}");
        }
        None => {}
    }
    out
}

/// The integration's lines: how it went, and where the build is.
fn integration(s: &Summary<'_>) -> String {
    let mut out = String::new();
    match s.integration {
        None => {
            let _ = writeln!(
                out,
                "integration: not run: a stream did not commit; no branch was kept"
            );
        }
        Some(i) => {
            for note in &i.notes {
                let _ = writeln!(out, "integration: {note}");
            }
            match &i.result {
                Ok(landed) => {
                    let _ = writeln!(
                        out,
                        "integration: passed: {}\n\nThe build is one commit ({}, {} file(s)) on the local branch `{}` (from `{}`).\n  review: git show {}\n  push when you approve: git push origin {}",
                        landed.verified,
                        short(&landed.commit),
                        landed.files,
                        landed.branch,
                        s.base,
                        landed.branch,
                        landed.branch
                    );
                }
                Err(why) => {
                    let _ = writeln!(out, "integration: failed: {why}\nNo branch was kept.");
                }
            }
        }
    }
    out
}
