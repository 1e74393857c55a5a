//! The `sessions` step: each project's Claude Code sessions of the run's window, from the transcripts Claude Code
//! keeps under `$CLAUDE_CONFIG_DIR/projects` (DESIGN.md, step 2b): sessions, active time, user turns, tool calls
//! and tool errors by tool, thrash loops, interruptions, corrections, tokens by model and their estimated cost,
//! and the commands, tests and files of the most friction. `daydream sessions` prints the same analysis.
//!
//! Counts and redacted names leave the machine; prompts and tool outputs never do (they are not even stored).

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;

use crate::cancel::Cancel;
use crate::clock::Window;
use crate::config::Project;
use crate::env::Env;
use crate::step::{Outcome, Output, Step, UnitCx};

mod analysis;
mod data;
mod files;
mod render;
mod transcript;

use analysis::Analysis;
use data::SessionsData;

pub(crate) struct Sessions;

impl Step for Sessions {
    type Data = SessionsData;
    const NAME: &'static str = "sessions";
    const TITLE: &'static str = "Claude Code Sessions";

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<SessionsData>> {
        let run = cx.run;
        let Some(dir) = files::projects_dir(&run.env).filter(|d| d.is_dir()) else {
            return Ok(Outcome::Skipped(no_transcripts(&run.env)));
        };
        let (data, warnings) = analyze(cx.project(), &dir, run.window, run.date, &run.cancel)?;
        Ok(Outcome::Done(render::output(data, warnings)))
    }

    fn digest(&self, data: &SessionsData, _: &Output) -> Option<String> {
        render::digest(data)
    }

    fn render(&self, data: &SessionsData, _: &Output, out: &mut String) {
        render::render(data, out);
    }
}

/// The folder Claude Code keeps the transcripts of sessions in `dir` in (under `projects/`).
pub(crate) fn transcript_folder(dir: &Path) -> String {
    files::encoded(&dir.to_string_lossy())
}

fn no_transcripts(env: &Env) -> String {
    // Under `HOME` the folder is named as people know it, so the report does not depend on the machine.
    match (env.get("CLAUDE_CONFIG_DIR"), files::projects_dir(env)) {
        (Some(_), Some(dir)) => format!(
            "no Claude Code transcripts: `{}` does not exist",
            dir.display()
        ),
        (None, Some(_)) => {
            "no Claude Code transcripts: `~/.claude/projects` does not exist".to_owned()
        }
        (_, None) => {
            "no Claude Code transcripts: neither `CLAUDE_CONFIG_DIR` nor `HOME` is set".to_owned()
        }
    }
}

/// For `daydream doctor`: whether there are Claude Code transcripts to read, and where.
pub(crate) fn doctor_line(env: &Env) -> (bool, String) {
    match files::projects_dir(env).filter(|d| d.is_dir()) {
        Some(dir) => {
            let folders = std::fs::read_dir(&dir).map_or(0, Iterator::count);
            (
                true,
                format!(
                    "Claude Code transcripts: `{}` ({})",
                    dir.display(),
                    crate::text::plural(folders, "folder", "folders")
                ),
            )
        }
        None => (false, no_transcripts(env)),
    }
}

/// One project's sessions in `window`, from the transcripts under `dir`, and the warnings of reading them.
pub(crate) fn analyze(
    project: &Project,
    dir: &Path,
    window: Window,
    date: NaiveDate,
    cancel: &Cancel,
) -> Result<(SessionsData, Vec<String>)> {
    let roots = files::roots(project);
    let mut analysis = Analysis::new(window, roots.clone());
    let mut warnings = crate::step::Warnings::default();
    for warning in files::read_all(dir, &roots, window, &mut analysis, cancel)? {
        warnings.push(warning);
    }
    Ok((analysis.finish(&project.slug, date), warnings.finish()))
}

/// `daydream sessions`: the analysis of run date `date` for the configured projects (or the one named), as
/// text or as a JSON array.
pub(crate) fn command(
    setup: &crate::setup::Setup,
    project: Option<&str>,
    date: Option<NaiveDate>,
    json: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let config = setup.load_config()?;
    let projects: Vec<&Project> = config
        .projects
        .iter()
        .filter(|p| project.is_none_or(|slug| p.slug == slug))
        .collect();
    if let (Some(slug), true) = (project, projects.is_empty()) {
        let known: Vec<&str> = config.projects.iter().map(|p| p.slug.as_str()).collect();
        return Err(crate::UsageError(format!(
            "no project `{slug}` in the configuration (known: {})",
            known.join(", ")
        ))
        .into());
    }
    let date = date.unwrap_or_else(|| setup.clock.today());
    let window = Window::previous_day(date);
    let dir = files::projects_dir(&setup.env).filter(|d| d.is_dir());
    let mut all = Vec::new();
    for p in projects {
        let (found, warnings) = match &dir {
            Some(dir) => analyze(p, dir, window, date, &Cancel::default())?,
            None => (
                SessionsData {
                    project: p.slug.clone(),
                    date: Some(date),
                    ..SessionsData::default()
                },
                vec![no_transcripts(&setup.env)],
            ),
        };
        for warning in &warnings {
            eprintln!("warning: {}: {warning}", p.slug);
        }
        all.push((p, found));
    }
    if json {
        let list: Vec<&SessionsData> = all.iter().map(|(_, d)| d).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(crate::exit_codes::OK);
    }
    for (p, data) in &all {
        let mut text = format!(
            "## {} — Claude Code sessions of {}\n\n",
            p.name,
            date.pred_opt().unwrap_or(date)
        );
        render::render(data, &mut text);
        out.write_all(text.as_bytes())?;
    }
    Ok(crate::exit_codes::OK)
}
