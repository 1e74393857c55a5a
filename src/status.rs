//! `daydream status`: where the day's run stands, as a table or as JSON.

use std::io::Write;

use anyhow::Result;
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

use crate::cli::StatusArgs;
use crate::setup::Setup;
use crate::state::{self, ALL_PROJECTS, ReadState, State, Status};
use crate::steps;

#[derive(Serialize)]
struct View {
    date: NaiveDate,
    root: String,
    dry_run: bool,
    /// The state file read, relative to the root; `null` when there is none yet for this date.
    state_file: Option<String>,
    /// The report of this date, relative to the root, if it exists.
    report: Option<String>,
    runs: Vec<state::RunRecord>,
    /// Model spend from `data/spend.jsonl` against the caps; `null` when the caps are misconfigured.
    spend: Option<SpendView>,
    /// `daydream watch` on this root: its last poll and each project's result; `null` when it never ran.
    watch: Option<crate::watch::WatchState>,
    steps: Vec<StepView>,
}

#[derive(Serialize)]
#[expect(
    clippy::struct_field_names,
    reason = "the unit belongs in the JSON keys"
)]
struct SpendView {
    today_usd: f64,
    month_usd: f64,
    run_cap_usd: f64,
    autofix_run_cap_usd: f64,
    daily_cap_usd: Option<f64>,
    monthly_cap_usd: Option<f64>,
}

#[derive(Serialize)]
struct StepView {
    name: &'static str,
    status: Status,
    units: Vec<UnitView>,
}

#[derive(Serialize)]
struct UnitView {
    project: String,
    status: Status,
    attempts: u32,
    reason: Option<String>,
    last_error: Option<String>,
    duration_ms: Option<u64>,
    started_at: Option<DateTime<FixedOffset>>,
    finished_at: Option<DateTime<FixedOffset>>,
    summary: Option<String>,
}

#[expect(
    clippy::too_many_lines,
    reason = "the status table's columns and notes, in the order they are printed"
)]
pub(crate) fn run(setup: &Setup, args: &StatusArgs, out: &mut impl Write) -> Result<u8> {
    let paths = &setup.paths;
    // Without `--date`: the latest saved run (after midnight, or after `run --date D`, that is not today's).
    let today = setup.clock.today();
    let date = args
        .date
        .unwrap_or_else(|| match state::read(&paths.state(args.dry_run)) {
            Ok(ReadState::Loaded(latest)) => latest.date,
            _ => today,
        });
    let (state, file, problem) = find(paths, date, args.dry_run)?;
    // Units the configuration implies but the state does not have yet show as pending.
    let config = setup.load_config().ok();
    let report = paths.report(date, args.dry_run);
    let view = View {
        date,
        root: paths.root.display().to_string(),
        dry_run: args.dry_run,
        state_file: file.as_ref().map(|f| paths.show(f)),
        report: report.exists().then(|| paths.show(&report)),
        runs: state.as_ref().map(|s| s.runs.clone()).unwrap_or_default(),
        spend: spend(setup),
        watch: crate::watch::load(&paths.root),
        steps: steps::ORDER
            .iter()
            .map(|step| {
                let mut units: Vec<UnitView> = state
                    .as_ref()
                    .and_then(|s| s.step(step.name()))
                    .map(|s| s.units.iter().map(unit_view).collect())
                    .unwrap_or_default();
                let configured = || {
                    config
                        .iter()
                        .flat_map(|c| c.projects.iter().map(|p| p.slug.clone()))
                };
                let expected: Vec<String> = match step.scope() {
                    crate::step::Scope::Run => vec![ALL_PROJECTS.to_owned()],
                    crate::step::Scope::PerProject => configured().collect(),
                    crate::step::Scope::ProjectsThenRun => {
                        configured().chain([ALL_PROJECTS.to_owned()]).collect()
                    }
                };
                for slug in expected {
                    if !units.iter().any(|u| u.project == slug) {
                        units.push(UnitView {
                            project: slug,
                            status: Status::Pending,
                            attempts: 0,
                            reason: None,
                            last_error: None,
                            duration_ms: None,
                            started_at: None,
                            finished_at: None,
                            summary: None,
                        });
                    }
                }
                let status = state::combine(units.iter().map(|u| u.status));
                StepView {
                    name: step.name(),
                    status,
                    units,
                }
            })
            .collect(),
    };

    if args.json {
        serde_json::to_writer_pretty(&mut *out, &view)?;
        writeln!(out)?;
        return Ok(crate::exit_codes::OK);
    }

    let kind = if args.dry_run { " (dry run)" } else { "" };
    writeln!(out, "daydream status for {date}{kind} · root {}", view.root)?;
    if args.date.is_none() && date != today {
        writeln!(
            out,
            "(the latest run; none yet for {today}: `--date {today}` shows what it will do)"
        )?;
    }
    if let Some(problem) = problem {
        writeln!(out, "warning: {problem}")?;
    }
    match (&view.state_file, view.runs.last()) {
        (None, _) => writeln!(out, "no run yet for {date}")?,
        (Some(file), None) => writeln!(out, "state: {file}")?,
        (Some(file), Some(run)) => {
            let ended = match (&run.outcome, run.finished_at) {
                (Some(outcome), Some(t)) => format!("ended {}: {outcome}", t.format("%H:%M:%S")),
                (Some(outcome), None) => outcome.clone(),
                (None, _) => "still running (or killed: a later run will say)".to_owned(),
            };
            writeln!(
                out,
                "state: {file} · {} run(s); last: pid {} started {}, {ended}",
                view.runs.len(),
                run.pid,
                run.started_at.format("%H:%M:%S")
            )?;
        }
    }
    writeln!(
        out,
        "report: {}",
        view.report.as_deref().unwrap_or("not written yet")
    )?;
    if let Some(s) = &view.spend {
        let cap =
            |c: Option<f64>| c.map_or_else(|| "no cap".to_owned(), |c| format!("cap ${c:.2}"));
        writeln!(
            out,
            "spend: today ${:.2} ({}), this month ${:.2} ({}); per run ${:.2}, auto-fix ${:.2}",
            s.today_usd,
            cap(s.daily_cap_usd),
            s.month_usd,
            cap(s.monthly_cap_usd),
            s.run_cap_usd,
            s.autofix_run_cap_usd
        )?;
    }
    for line in crate::watch::status_lines(&paths.root) {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<9} {:<14} {:<12} {:<9} {:>8}  DETAIL",
        "STEP", "PROJECT", "STATUS", "ATTEMPTS", "TIME"
    )?;
    for step in &view.steps {
        writeln!(out, "{:<9} {:<14} {}", step.name, "", step.status.as_str())?;
        for unit in &step.units {
            let detail = match unit.status {
                Status::Skipped => unit.reason.clone().unwrap_or_default(),
                Status::Failed | Status::Interrupted => unit.last_error.clone().unwrap_or_default(),
                _ => unit.summary.clone().unwrap_or_default(),
            };
            let detail = crate::text::one_line(&detail);
            let attempts = if unit.status == Status::Failed {
                format!("{}/{}", unit.attempts, state::MAX_ATTEMPTS)
            } else {
                unit.attempts.to_string()
            };
            let time = unit
                .duration_ms
                .map(crate::text::duration)
                .unwrap_or_default();
            let project = if unit.project == ALL_PROJECTS {
                "(all)"
            } else {
                &unit.project
            };
            writeln!(
                out,
                "{:<9} {project:<14} {:<12} {attempts:<9} {time:>8}  {detail}",
                "",
                unit.status.as_str()
            )?;
        }
    }
    Ok(crate::exit_codes::OK)
}

fn spend(setup: &Setup) -> Option<SpendView> {
    let caps = crate::budget::Caps::from_env(&setup.env).ok()?;
    let budget =
        crate::budget::Budget::open(&setup.paths.root, caps, "status", setup.clock.clone());
    let spent = budget.spent().ok()?;
    let caps = budget.caps();
    Some(SpendView {
        today_usd: spent.today,
        month_usd: spent.month,
        run_cap_usd: caps.run,
        autofix_run_cap_usd: caps.autofix_run,
        daily_cap_usd: caps.daily,
        monthly_cap_usd: caps.monthly,
    })
}

fn unit_view(u: &state::Unit) -> UnitView {
    UnitView {
        project: u.project.clone(),
        status: u.status,
        attempts: u.attempts,
        reason: u.reason.clone(),
        last_error: u.last_error.clone(),
        duration_ms: u.duration_ms,
        started_at: u.started_at,
        finished_at: u.finished_at,
        summary: u.output.as_ref().map(|o| o.summary.clone()),
    }
}

/// The state of `date` without changing anything: today's file, or the kept file of that date.
fn find(
    paths: &crate::paths::Paths,
    date: NaiveDate,
    dry_run: bool,
) -> Result<(Option<State>, Option<std::path::PathBuf>, Option<String>)> {
    for path in [paths.state(dry_run), paths.archived_state(date, dry_run)] {
        match state::read(&path)? {
            ReadState::Loaded(s) if s.date == date => return Ok((Some(s), Some(path), None)),
            ReadState::Loaded(_) | ReadState::Missing => {}
            ReadState::Corrupt(why) => {
                return Ok((
                    None,
                    None,
                    Some(format!(
                        "`{}` is {why}; the next run moves it aside",
                        paths.show(&path)
                    )),
                ));
            }
            ReadState::Newer(v) => {
                return Ok((
                    None,
                    None,
                    Some(format!(
                        "`{}` was written by a newer daydream (format_version {v})",
                        paths.show(&path)
                    )),
                ));
            }
        }
    }
    Ok((None, None, None))
}
