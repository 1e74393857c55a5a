//! The `tests` step: each project's `test_command` on its default branch, in a worktree and a sandbox, read as
//! failing tests; each failing test rerun alone to tell the flaky ones; compared with the nights before (new,
//! still failing, fixed) from `data/tests/<project>.json`. The autofix step takes today's failing tests as
//! candidates.

mod history;
mod render;

use anyhow::{Context as _, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::fix::engine;
use crate::fix::suite::{Status, Suite};
use crate::fix::{Worktree, worktree};
use crate::sandbox::Jail;
use crate::step::{Outcome, Output, Step, UnitCx};
use history::Night;

pub(crate) struct Tests;

/// What the tests step found in one project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TestsData {
    pub(crate) command: String,
    /// The default branch the suite ran on, and its commit.
    pub(crate) base: String,
    pub(crate) commit: String,
    /// How the tests were confined (`bubblewrap`, `landlock`), `None` when they ran unconfined.
    pub(crate) sandbox: Option<String>,
    /// `passed`, `failed`, `timed out`, or why it could not run.
    pub(crate) status: String,
    pub(crate) duration_secs: f64,
    /// Failing tests that also fail alone, the new ones first.
    pub(crate) failing: Vec<FailingTest>,
    /// Tests that failed last night and pass today.
    pub(crate) fixed: Vec<String>,
    pub(crate) flaky: Vec<FlakyTest>,
    /// The suite's duration on the nights before (oldest first), for the trend.
    pub(crate) trend: Vec<(NaiveDate, f64)>,
    /// Whether this is the first night on record.
    pub(crate) first_night: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct FailingTest {
    pub(crate) failure: crate::fix::failures::Failure,
    /// The first night of the current run of nights it has failed.
    pub(crate) since: NaiveDate,
    /// It did not fail last night.
    pub(crate) new: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct FlakyTest {
    pub(crate) test: String,
    pub(crate) message: String,
    /// Nights it has been flaky in the last 30, today included.
    pub(crate) nights: usize,
}

impl Step for Tests {
    type Data = TestsData;
    const NAME: &'static str = "tests";
    const TITLE: &'static str = "Tests";

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<TestsData>> {
        let project = cx.project();
        let Some(command) = project.test_command.clone() else {
            return Ok(Outcome::Skipped(
                "no `test_command` in `projects.json`".to_owned(),
            ));
        };
        let cancel = cx.run.cancel.clone();
        let (base, start) = match worktree::default_base(&project.dir, &cancel) {
            Ok(found) => found,
            Err(err) => return Ok(Outcome::Skipped(format!("{err:#}"))),
        };
        if cx.run.dry_run {
            return Ok(Outcome::Skipped(format!(
                "dry run: `{command}` would run on `{base}` in a worktree and a sandbox"
            )));
        }
        let jail = match Jail::new(
            project.sandbox,
            project.sandbox_network,
            &cx.run.env,
            cx.root(),
        ) {
            Ok(jail) => jail,
            Err(why) => return Ok(Outcome::Skipped(why)),
        };
        let mut warnings = crate::step::Warnings::default();
        if worktree::origin(&project.dir, &cancel).is_some()
            && let Err(err) = worktree::fetch(&project.dir, &base, &cancel)
        {
            warnings.push(format!(
                "{err:#}: the tests ran on `{base}` as this clone last saw it"
            ));
        }
        let branch = format!("daydream/tests-{}", cx.run.date);
        let worktree = Worktree::add(&project.dir, &start, &branch, &cancel)?;
        let suite = Suite::in_worktree(&jail, &worktree, &command, &project.tests, &cancel)?;
        let slug = project.slug.clone();
        let mut progress = |line: &str| tracing::info!("tests {slug}: {line}");
        let triage = engine::triage(&suite, project.tests.timeout, &mut progress)?;
        let commit = worktree.head()?;
        drop(worktree);
        for w in &triage.baseline.warnings {
            warnings.push(w.clone());
        }
        if jail.kind().is_none() {
            warnings.push("no sandbox on this machine: the tests ran unconfined".to_owned());
        }

        let (mut nights, bad) = history::load(cx.root(), &slug);
        if bad {
            warnings.push(format!(
                "`{}` could not be read: the comparison with earlier nights starts again",
                history::path(cx.root(), &slug).display()
            ));
        }
        nights.retain(|n| n.date < cx.run.date);
        let status = match &triage.baseline.status {
            Status::Passed => "passed".to_owned(),
            Status::Failed => "failed".to_owned(),
            Status::TimedOut => format!("timed out after {} s", project.tests.timeout.as_secs()),
            Status::NotRun(why) => format!("could not run: {why}"),
        };
        let tonight = Night {
            date: cx.run.date,
            failing: triage
                .roots
                .iter()
                .flat_map(engine::RootCause::tests)
                .collect(),
            flaky: triage.flaky.iter().map(|f| f.test.clone()).collect(),
            duration_secs: triage.baseline.duration.as_secs_f64(),
        };
        let data = history::compare(
            TestsData {
                command,
                base,
                commit,
                sandbox: jail.kind().map(ToString::to_string),
                status,
                duration_secs: tonight.duration_secs,
                ..TestsData::default()
            },
            &triage,
            &nights,
            &tonight,
        );
        nights.push(tonight);
        history::save(cx.root(), &slug, &nights)
            .with_context(|| format!("failed to save the test history of `{slug}`"))?;
        Ok(Outcome::Done(render::output(data, warnings.finish())))
    }

    fn render(&self, data: &TestsData, _: &Output, out: &mut String) {
        render::render(data, out);
    }

    fn digest(&self, data: &TestsData, output: &Output) -> Option<String> {
        render::digest(data, output)
    }
}
