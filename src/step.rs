//! The contract between the runner and a step: what one unit of work receives and what it returns.
//!
//! A unit is one step applied to one project (or, for run-wide steps such as the report, to the whole run).
//! Steps never touch `state.json` themselves: they return an [`Outcome`] and may save a resume point through
//! [`UnitCx::checkpoint`], which the runner writes atomically before returning.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
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

/// One step of the nightly run. Each implementation lives under `src/steps/`; the runner, the report and
/// reflection see it as an [`AnyStep`], which reads its [`Step::Data`] back from the state in one place.
pub(crate) trait Step: Sync {
    /// What a done unit stores in [`Output::data`]: written by [`Step::run`], read back typed (in one place,
    /// [`AnyStep`]) for [`Step::render`] and [`Step::digest`].
    type Data: Serialize + DeserializeOwned;

    /// The name used by `--step` and in `state.json`.
    const NAME: &'static str;

    /// The heading of the step's section in the report.
    const TITLE: &'static str;

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

    /// Whether reflection reads this step's findings: not for the steps that work from reflection's output or
    /// that render everything (autofix, report) nor for reflection itself.
    fn reflected(&self) -> bool {
        true
    }

    /// What reflection should know of one done unit beyond its actions, or `None` when it found nothing worth a
    /// reflection. By default: its summary and warnings when it has warnings; steps with richer findings (the
    /// logs' templates and stack traces) say more. Text copied from logs or issues is untrusted.
    fn digest(&self, data: &Self::Data, output: &Output) -> Option<String> {
        let _ = data;
        warnings_digest(output)
    }

    /// Does the unit's work. `Err` fails the unit (retried by a later run that day, up to 3 attempts); an error
    /// that is a [`crate::cancel::Interrupted`] abandons it as interrupted.
    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<Self::Data>>;

    /// Appends the markdown of one done unit's findings to `out`, under the project's heading.
    fn render(&self, data: &Self::Data, output: &Output, out: &mut String) {
        let _ = (data, output, out);
    }
}

/// A unit's summary and warnings, when it has warnings: what reflection reads of a step that says no more.
fn warnings_digest(output: &Output) -> Option<String> {
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

/// A [`Step`] as the runner, the report and reflection see it: its data erased to the JSON of the state.
pub(crate) trait AnyStep: Sync {
    fn name(&self) -> &'static str;
    fn title(&self) -> &'static str;
    fn scope(&self) -> Scope;
    fn follows_state(&self) -> bool;
    fn action_rank(&self) -> u8;
    fn reflected(&self) -> bool;
    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome>;
    /// [`Step::digest`] of the unit's data; the warnings alone when the data cannot be read.
    fn digest(&self, output: &Output) -> Option<String>;
    /// [`Step::render`] of the unit's data; its summary when it stored none; a line saying the data cannot be
    /// read (written by another version) otherwise.
    fn render(&self, output: &Output, out: &mut String);
}

impl<S: Step> AnyStep for S {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn title(&self) -> &'static str {
        S::TITLE
    }

    fn scope(&self) -> Scope {
        Step::scope(self)
    }

    fn follows_state(&self) -> bool {
        Step::follows_state(self)
    }

    fn action_rank(&self) -> u8 {
        Step::action_rank(self)
    }

    fn reflected(&self) -> bool {
        Step::reflected(self)
    }

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome> {
        Step::run(self, cx)?.try_map(|output| {
            output
                .erase()
                .with_context(|| format!("failed to serialize the {} findings", S::NAME))
        })
    }

    fn digest(&self, output: &Output) -> Option<String> {
        match output.read::<S::Data>() {
            Ok(data) => Step::digest(self, &data, output),
            Err(_) => warnings_digest(output),
        }
    }

    fn render(&self, output: &Output, out: &mut String) {
        // A unit that stored no data (reflection that made no call) is its summary.
        if output.data.is_null() {
            let _ = writeln!(out, "{}", output.summary);
            return;
        }
        match output.read::<S::Data>() {
            Ok(data) => Step::render(self, &data, output, out),
            Err(err) => {
                let _ = writeln!(
                    out,
                    "{}\n\n_The {} findings could not be read ({err}): another version of daydream wrote them._",
                    output.summary,
                    S::TITLE
                );
            }
        }
    }
}

/// What a unit ended with, when it did not fail: typed as a step returns it, erased to JSON for the runner.
#[derive(Debug)]
pub(crate) enum Outcome<D = Value> {
    Done(Output<D>),
    /// The unit had nothing it could do here; the reason says why (shown in status and the report).
    Skipped(String),
}

impl<D> Outcome<D> {
    /// The same outcome with a done unit's output passed through `f`.
    pub(crate) fn try_map<E, Error>(
        self,
        f: impl FnOnce(Output<D>) -> Result<Output<E>, Error>,
    ) -> Result<Outcome<E>, Error> {
        Ok(match self {
            Outcome::Done(output) => Outcome::Done(f(output)?),
            Outcome::Skipped(reason) => Outcome::Skipped(reason),
        })
    }

    /// The same outcome with a done unit's data passed through `f`.
    pub(crate) fn map<E>(self, f: impl FnOnce(D) -> E) -> Outcome<E> {
        let result: Result<_, std::convert::Infallible> = self.try_map(|o| o.try_map(|d| Ok(f(d))));
        match result {
            Ok(outcome) => outcome,
        }
    }
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

/// Why an action ranks where it does in Action Required: kind and novelty first, volume after. Its word leads
/// the action (`traceback · 3 errors of ...`), so the report ranks the actions of every step together and the
/// reader sees why each is where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Reason {
    /// A P0 Sentry issue, or an error storm.
    P0,
    /// An error template the logs never had before.
    New,
    /// Errors with a traceback through the project's own code.
    Traceback,
    /// A test that fails on the default branch.
    Failing,
    /// A P1 Sentry issue.
    P1,
    /// An error template spiking against the nights before.
    Rising,
    /// Many errors of one template, nothing more telling about them.
    Volume,
    /// A test that passes on a rerun.
    Flaky,
    /// A test that has been failing for nights.
    Chronic,
    /// Claude Code going round in circles in the team's sessions (the same failing command or test again and
    /// again).
    Thrash,
}

impl Reason {
    const ALL: [Reason; 10] = [
        Reason::P0,
        Reason::New,
        Reason::Traceback,
        Reason::Failing,
        Reason::P1,
        Reason::Rising,
        Reason::Volume,
        Reason::Flaky,
        Reason::Chronic,
        Reason::Thrash,
    ];
    const SEPARATOR: &str = " · ";

    pub(crate) fn word(self) -> &'static str {
        match self {
            Reason::P0 => "P0",
            Reason::New => "new",
            Reason::Traceback => "traceback",
            Reason::Failing => "failing",
            Reason::P1 => "P1",
            Reason::Rising => "rising",
            Reason::Volume => "volume",
            Reason::Flaky => "flaky",
            Reason::Chronic => "chronic",
            Reason::Thrash => "thrash",
        }
    }

    /// The action, led by this reason's word.
    pub(crate) fn tag(self, action: &str) -> String {
        format!("{}{}{action}", self.word(), Reason::SEPARATOR)
    }

    /// The reason an action was tagged with, if any.
    pub(crate) fn of(action: &str) -> Option<Reason> {
        let (word, _) = action.split_once(Reason::SEPARATOR)?;
        Reason::ALL.into_iter().find(|r| r.word() == word)
    }

    /// The tier of an action in Action Required, lowest first: P0; what is new or broken in the code (new
    /// templates, tracebacks through the project's code, failing tests); P1; rising; volume; flaky and chronic
    /// tests, and the team's sessions going round in circles; then what carries no reason (docs, cleanup,
    /// housekeeping).
    pub(crate) fn tier(action: &str) -> u8 {
        match Reason::of(action) {
            Some(Reason::P0) => 0,
            Some(Reason::New | Reason::Traceback | Reason::Failing) => 1,
            Some(Reason::P1) => 2,
            Some(Reason::Rising) => 3,
            Some(Reason::Volume) => 4,
            Some(Reason::Flaky | Reason::Chronic | Reason::Thrash) => 5,
            None => 6,
        }
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
    pub(crate) steps: &'static [&'static dyn AnyStep],
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

    /// The resume point of an interrupted attempt read as a `T`; `None` when there is none or it has another
    /// shape (an older daydream's), and the unit starts afresh.
    pub(crate) fn resume<T: DeserializeOwned>(&mut self) -> Option<T> {
        self.take_resume().and_then(|v| T::deserialize(v).ok())
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
    use std::fmt::Write as _;

    use serde::{Deserialize, Serialize};

    use super::{AnyStep, Outcome, Output, Step, UnitCx};

    #[derive(Serialize, Deserialize)]
    struct Count {
        n: u32,
    }

    struct Counting;

    impl Step for Counting {
        type Data = Count;

        const NAME: &'static str = "counting";
        const TITLE: &'static str = "Counting";

        fn run(&self, _: &mut UnitCx<'_>) -> anyhow::Result<Outcome<Count>> {
            unreachable!("only rendered here")
        }

        fn render(&self, data: &Count, _: &Output, out: &mut String) {
            let _ = writeln!(out, "counted {}", data.n);
        }

        fn digest(&self, data: &Count, _: &Output) -> Option<String> {
            Some(format!("n={}", data.n))
        }
    }

    fn output(data: serde_json::Value) -> Output {
        Output {
            summary: "a summary".to_owned(),
            data,
            warnings: vec!["w".to_owned()],
            ..Output::default()
        }
    }

    #[test]
    fn the_adapter_reads_a_steps_data_once_typed_and_says_so_when_it_cannot() {
        let mut md = String::new();
        AnyStep::render(&Counting, &output(serde_json::json!({ "n": 3 })), &mut md);
        assert_eq!(md, "counted 3\n");
        assert_eq!(
            AnyStep::digest(&Counting, &output(serde_json::json!({ "n": 3 }))).as_deref(),
            Some("n=3")
        );
        let mut md = String::new();
        AnyStep::render(&Counting, &output(serde_json::Value::Null), &mut md);
        assert_eq!(md, "a summary\n", "no data: the summary");
        let mut md = String::new();
        AnyStep::render(
            &Counting,
            &output(serde_json::json!({ "n": "three" })),
            &mut md,
        );
        assert!(
            md.starts_with("a summary\n\n_The Counting findings could not be read (invalid type"),
            "{md}"
        );
        // Unreadable data still gives reflection the warnings.
        assert_eq!(
            AnyStep::digest(&Counting, &output(serde_json::json!([]))).as_deref(),
            Some("a summary\nwarning: w")
        );
    }

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
    pub(crate) fn run_unit<D>(
        run: &RunCx,
        resume: Option<Value>,
        work: impl FnOnce(&mut UnitCx<'_>) -> Result<Outcome<D>>,
    ) -> (Result<Outcome<D>>, Vec<Value>) {
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
