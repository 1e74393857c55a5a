//! The contract between the runner and a step: what one unit of work receives and what it returns.
//!
//! A unit is one step applied to one project (or, for run-wide steps such as the report, to the whole run).
//! Steps never touch `state.json` themselves: they return an [`Outcome`] and may save a resume point through
//! [`UnitCx::checkpoint`], which the runner writes atomically before returning.

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cancel::Cancel;
use crate::clock::{Clock, Window};
use crate::config::{Config, Project};
use crate::env::Env;
pub(crate) use crate::state::Output;
use crate::state::State;

/// Whether a step runs once per project or once per run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    PerProject,
    /// One unit for the whole run (reflection over every project's findings).
    Run,
    /// One unit per project, then one for the whole run (the report: each project's issue, then the file).
    ProjectsThenRun,
}

/// One step of the nightly run. Each implementation lives in its own file under `src/steps/`.
pub(crate) trait Step: Sync {
    /// The name used by `--step` and in `state.json`.
    fn name(&self) -> &'static str;

    /// The heading of the step's section in the report.
    fn title(&self) -> &'static str;

    fn scope(&self) -> Scope {
        Scope::PerProject
    }

    /// Whether a done unit must run again when an earlier unit of the day changed (true for the report,
    /// which is a pure function of the state).
    fn follows_state(&self) -> bool {
        false
    }

    /// Where the step's actions go in the report's Action Required, lowest first: what went wrong yesterday comes
    /// before housekeeping.
    fn action_rank(&self) -> u8 {
        1
    }

    /// What reflection should know of one done unit beyond its actions, or `None` when it found nothing worth a
    /// reflection. By default: its summary and warnings when it has warnings; steps with richer findings (the
    /// logs' templates and stack traces) say more. Text copied from logs or issues is untrusted.
    fn digest(&self, output: &Output) -> Option<String> {
        if output.warnings.is_empty() {
            return None;
        }
        let mut out = output.summary.clone();
        for warning in output.warnings.iter().take(5) {
            out.push_str("\nwarning: ");
            out.push_str(warning);
        }
        Some(out)
    }

    /// Does the unit's work. `Err` fails the unit (retried by a later run that day, up to 3 attempts); an error
    /// that is a [`crate::cancel::Interrupted`] abandons it as interrupted.
    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome>;

    /// Whether reflection reads this step's findings: not for the steps that work from reflection's output or
    /// that render everything (autofix, report) nor for reflection itself.
    fn reflected(&self) -> bool {
        true
    }

    /// Appends the markdown of one done unit's [`Output::data`] to `out`, under the project's heading.
    fn render(&self, output: &Output, out: &mut String) {
        let _ = (output, out);
    }
}

/// What a unit ended with, when it did not fail.
#[derive(Debug)]
pub(crate) enum Outcome {
    Done(Output),
    /// The unit had nothing it could do here; the reason says why (shown in status and the report).
    Skipped(String),
}

/// A unit's warnings, bounded: the first [`Warnings::LIMIT`] and a count of the rest, so a project with
/// thousands of unreadable files still has a short report.
#[derive(Default)]
pub(crate) struct Warnings {
    kept: Vec<String>,
    dropped: usize,
}

impl Warnings {
    pub(crate) const LIMIT: usize = 20;

    pub(crate) fn push(&mut self, warning: String) {
        if self.kept.len() < Self::LIMIT {
            self.kept.push(warning);
        } else {
            self.dropped += 1;
        }
    }

    /// The kept warnings, and a last line counting the others.
    pub(crate) fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.kept
                .push(format!("and {} more problems like these", self.dropped));
        }
        self.kept
    }
}

/// A bounded list in a step's data: the first `LIMIT` items and how many there were.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Listed<T, const LIMIT: usize> {
    pub(crate) total: usize,
    pub(crate) items: Vec<T>,
}

impl<T, const LIMIT: usize> Default for Listed<T, LIMIT> {
    fn default() -> Self {
        Listed {
            total: 0,
            items: Vec::new(),
        }
    }
}

impl<T, const LIMIT: usize> Listed<T, LIMIT> {
    /// Counts `item`, and keeps it while there is room.
    pub(crate) fn push(&mut self, item: T) {
        self.total += 1;
        if self.items.len() < LIMIT {
            self.items.push(item);
        }
    }
}

/// Everything shared by the units of one run.
pub(crate) struct RunCx {
    pub(crate) root: std::path::PathBuf,
    pub(crate) config: Config,
    pub(crate) env: Env,
    pub(crate) clock: Clock,
    /// The run date D; the logs window is D-1 00:00 to D 00:00 local time.
    pub(crate) date: NaiveDate,
    pub(crate) window: Window,
    pub(crate) dry_run: bool,
    /// `--no-spend`: no model call at all; say what it would have cost at most.
    pub(crate) no_spend: bool,
    pub(crate) cancel: Cancel,
    /// The steps in their order (`crate::steps::ORDER`), for what reads other steps' findings: the report and
    /// reflection.
    pub(crate) steps: &'static [&'static dyn Step],
}

/// What one unit of work receives.
pub(crate) struct UnitCx<'a> {
    pub(crate) run: &'a RunCx,
    /// The project of a per-project unit; `None` for a run-wide unit.
    pub(crate) project: Option<&'a Project>,
    /// The state as it was when the unit started (what a run-wide step such as the report reads).
    pub(crate) state: &'a State,
    resume: Option<Value>,
    save: &'a mut dyn FnMut(Value) -> Result<()>,
}

impl<'a> UnitCx<'a> {
    pub(crate) fn new(
        run: &'a RunCx,
        project: Option<&'a Project>,
        state: &'a State,
        resume: Option<Value>,
        save: &'a mut dyn FnMut(Value) -> Result<()>,
    ) -> Self {
        UnitCx {
            run,
            project,
            state,
            resume,
            save,
        }
    }

    /// The project of a per-project unit.
    pub(crate) fn project(&self) -> &'a Project {
        self.project
            .expect("per-project steps always get a project")
    }

    pub(crate) fn root(&self) -> &Path {
        &self.run.root
    }

    /// The resume point saved by an earlier, interrupted attempt of this unit, taken once.
    pub(crate) fn take_resume(&mut self) -> Option<Value> {
        self.resume.take()
    }

    /// Saves a resume point in `state.json` (atomically) so that a kill after this call resumes from here.
    pub(crate) fn checkpoint(&mut self, point: Value) -> Result<()> {
        (self.save)(point)
    }

    /// `Err` once SIGINT or SIGTERM arrived.
    pub(crate) fn check_cancel(&self) -> Result<(), crate::cancel::Interrupted> {
        self.run.cancel.check()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn warnings_keep_the_first_ones_and_count_the_rest() {
        let mut warnings = super::Warnings::default();
        for i in 0..super::Warnings::LIMIT + 3 {
            warnings.push(format!("w{i}"));
        }
        let kept = warnings.finish();
        assert_eq!(kept.len(), super::Warnings::LIMIT + 1);
        assert_eq!(kept[0], "w0");
        assert_eq!(kept.last().unwrap(), "and 3 more problems like these");
        assert_eq!(super::Warnings::default().finish(), Vec::<String>::new());
    }
}

/// Running one unit the way the runner does, for the steps' own tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    use anyhow::Result;
    use chrono::NaiveDate;
    use serde_json::Value;

    use super::{Outcome, RunCx, UnitCx};
    use crate::cancel::Cancel;
    use crate::clock::{Clock, Window};
    use crate::env::Env;
    use crate::state::State;

    /// A run with one project, `shop`, configured by `project` (its JSON object) under `root`.
    pub(crate) fn run_cx(
        root: &Path,
        project: &Value,
        env: Env,
        date: NaiveDate,
        dry_run: bool,
    ) -> RunCx {
        let text = serde_json::json!({ "projects": { "shop": project } }).to_string();
        let config = crate::config::parse(&text, Path::new("projects.json"), root, &env)
            .expect("test config is valid");
        RunCx {
            root: root.to_owned(),
            config,
            env,
            clock: Clock::System,
            date,
            window: Window::previous_day(date),
            dry_run,
            no_spend: false,
            cancel: Cancel::default(),
            steps: crate::steps::ORDER,
        }
    }

    /// Runs `work` as the unit of project `shop` in `run`, resuming from `resume`; returns what it returned and
    /// the checkpoints it saved.
    pub(crate) fn run_unit(
        run: &RunCx,
        resume: Option<Value>,
        work: impl FnOnce(&mut UnitCx<'_>) -> Result<Outcome>,
    ) -> (Result<Outcome>, Vec<Value>) {
        let state = State::new(run.date, run.dry_run);
        let mut saved = Vec::new();
        let outcome = {
            let mut save = |point: Value| -> Result<()> {
                saved.push(point);
                Ok(())
            };
            let mut cx = UnitCx::new(
                run,
                Some(&run.config.projects[0]),
                &state,
                resume,
                &mut save,
            );
            work(&mut cx)
        };
        (outcome, saved)
    }
}
