//! `state.json`: the day's units of work and their outcomes, and the run lock.
//!
//! A run saves each transition of a unit as one line appended (and fsynced) to the state's journal,
//! `state.journal` beside `state.json`, so a save costs the same whatever the number of projects. The journal is
//! compacted into `state.json` (written atomically) when a run starts and when it ends; whoever reads the state
//! in between replays it (a line torn by a kill is dropped).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fsutil::{self, Versioned, write_atomic};
use crate::paths::Paths;

/// Version of the state file layout. Bump it when a change is not readable with `#[serde(default)]` alone.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// How many times a failing unit is tried in one day.
pub(crate) const MAX_ATTEMPTS: u32 = 3;
/// The project name of a run-wide unit (such as the report).
pub(crate) const ALL_PROJECTS: &str = "*";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Pending,
    Running,
    Done,
    Failed,
    Skipped,
    /// Abandoned on SIGINT/SIGTERM; the next run does it again.
    Interrupted,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Interrupted => "interrupted",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct State {
    pub(crate) format_version: u32,
    pub(crate) date: NaiveDate,
    #[serde(default)]
    pub(crate) dry_run: bool,
    #[serde(default)]
    pub(crate) runs: Vec<RunRecord>,
    #[serde(default)]
    pub(crate) steps: Vec<StepState>,
    /// The report file, relative to the root, once written.
    #[serde(default)]
    pub(crate) report: Option<String>,
}

/// One `daydream run` invocation of the day.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    pub(crate) pid: u32,
    pub(crate) started_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub(crate) finished_at: Option<DateTime<FixedOffset>>,
    /// How it ended: `done`, `failed units`, `interrupted by SIGINT`; `None` while running or when it died.
    #[serde(default)]
    pub(crate) outcome: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StepState {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) units: Vec<Unit>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Unit {
    pub(crate) project: String,
    pub(crate) status: Status,
    #[serde(default)]
    pub(crate) attempts: u32,
    /// Why the unit was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) started_at: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) finished_at: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<Output>,
    /// Where an interrupted attempt got to; the next attempt resumes from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) checkpoint: Option<Value>,
}

impl Unit {
    pub(crate) fn new(project: &str) -> Unit {
        Unit {
            project: project.to_owned(),
            status: Status::Pending,
            attempts: 0,
            reason: None,
            last_error: None,
            started_at: None,
            finished_at: None,
            duration_ms: None,
            output: None,
            checkpoint: None,
        }
    }

    /// The project is not on this machine: skipped with `reason`, without an attempt. `false` when it already was.
    pub(crate) fn skip_unavailable(&mut self, reason: &str, now: DateTime<FixedOffset>) -> bool {
        if self.status == Status::Skipped && self.reason.as_deref() == Some(reason) {
            return false;
        }
        self.status = Status::Skipped;
        self.reason = Some(reason.to_owned());
        self.finished_at = Some(now);
        true
    }

    /// Whether the unit ran to an end today: done, or skipped by its step (a unit skipped only because its
    /// project was unavailable never started, attempts 0, and runs once the project is here).
    pub(crate) fn finished(&self) -> bool {
        self.status == Status::Done || (self.status == Status::Skipped && self.attempts > 0)
    }

    /// What the runner does with the unit now. `rerun` says the unit follows the state and the state changed
    /// since it finished (the report).
    pub(crate) fn next(&self, rerun: bool) -> Next {
        if self.finished() && !rerun {
            return Next::Finished;
        }
        if self.status == Status::Failed && self.attempts >= MAX_ATTEMPTS {
            return Next::GaveUp;
        }
        Next::Run
    }

    /// Starts an attempt: running, counted, and the resume point of an interrupted one handed back. A finished
    /// unit run again because its input changed is a new piece of work: its attempts start over.
    pub(crate) fn start(&mut self, now: DateTime<FixedOffset>) -> Option<Value> {
        if self.finished() {
            self.attempts = 0;
        }
        self.status = Status::Running;
        self.attempts += 1;
        self.reason = None;
        self.started_at = Some(now);
        self.finished_at = None;
        self.checkpoint.clone()
    }

    /// Ends the attempt with what the step returned. An interruption is not the unit's fault: the attempt does
    /// not count, and its resume point stays for the next one.
    pub(crate) fn end(&mut self, end: End, now: DateTime<FixedOffset>, duration_ms: u64) {
        self.finished_at = Some(now);
        self.duration_ms = Some(duration_ms);
        match end {
            End::Done(output) => {
                self.status = Status::Done;
                self.last_error = None;
                self.checkpoint = None;
                self.output = Some(output);
            }
            End::Skipped(reason) => {
                self.status = Status::Skipped;
                self.reason = Some(reason);
                self.last_error = None;
                self.checkpoint = None;
                self.output = None;
            }
            End::Interrupted(why) => {
                self.status = Status::Interrupted;
                self.attempts = self.attempts.saturating_sub(1);
                self.last_error = Some(why);
            }
            End::Failed(error) => {
                self.status = Status::Failed;
                self.last_error = Some(error);
            }
        }
    }

    /// Attempts left today after a failure.
    pub(crate) fn attempts_left(&self) -> u32 {
        MAX_ATTEMPTS.saturating_sub(self.attempts)
    }
}

/// What the runner does with a unit ([`Unit::next`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    Run,
    /// Done (or skipped by its step) today, and nothing it depends on changed.
    Finished,
    /// Failed [`MAX_ATTEMPTS`] times today.
    GaveUp,
}

/// How an attempt ended ([`Unit::end`]).
pub(crate) enum End {
    Done(Output),
    Skipped(String),
    Interrupted(String),
    Failed(String),
}

/// A step's status from its units': running or failed if any unit is, done when every unit is done or skipped.
pub(crate) fn combine(statuses: impl IntoIterator<Item = Status>) -> Status {
    let all: Vec<Status> = statuses.into_iter().collect();
    let any = |s: Status| all.contains(&s);
    if any(Status::Running) {
        Status::Running
    } else if any(Status::Failed) {
        Status::Failed
    } else if any(Status::Interrupted) {
        Status::Interrupted
    } else if all.is_empty() || any(Status::Pending) {
        Status::Pending
    } else if all.iter().all(|s| *s == Status::Skipped) {
        Status::Skipped
    } else {
        Status::Done
    }
}

impl State {
    pub(crate) fn new(date: NaiveDate, dry_run: bool) -> State {
        State {
            format_version: FORMAT_VERSION,
            date,
            dry_run,
            runs: Vec::new(),
            steps: Vec::new(),
            report: None,
        }
    }

    pub(crate) fn step(&self, name: &str) -> Option<&StepState> {
        self.steps.iter().find(|s| s.name == name)
    }

    pub(crate) fn unit(&self, step: &str, project: &str) -> Option<&Unit> {
        self.step(step)?.units.iter().find(|u| u.project == project)
    }

    /// The unit of `step` for `project`, created (pending) if the state has none yet.
    pub(crate) fn unit_mut(&mut self, step: &str, project: &str) -> &mut Unit {
        let index = self
            .steps
            .iter()
            .position(|s| s.name == step)
            .unwrap_or_else(|| {
                self.steps.push(StepState {
                    name: step.to_owned(),
                    units: Vec::new(),
                });
                self.steps.len() - 1
            });
        let units = &mut self.steps[index].units;
        let at = units
            .iter()
            .position(|u| u.project == project)
            .unwrap_or_else(|| {
                units.push(Unit::new(project));
                units.len() - 1
            });
        &mut units[at]
    }

    pub(crate) fn to_json(&self) -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(self).context("failed to serialize the state")?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_json()?)
    }
}

/// What reading a state file found.
pub(crate) type ReadState = Versioned<State>;

/// Reads a state file and replays its journal, without changing anything.
pub(crate) fn read(path: &Path) -> Result<ReadState> {
    Ok(
        match fsutil::read_versioned::<State>(path, FORMAT_VERSION, "a daydream state file")? {
            // Older layouts load with defaults for what they lack and are saved in the current layout.
            Versioned::Loaded(mut state) => {
                state.format_version = FORMAT_VERSION;
                replay(&mut state, &journal_of(path))?;
                Versioned::Loaded(state)
            }
            other => other,
        },
    )
}

/// The journal of the state file `path`: `state.journal` beside `state.json`.
pub(crate) fn journal_of(path: &Path) -> PathBuf {
    path.with_extension("journal")
}

/// One line of the journal: a unit as it is now. (The run records change when a run starts and ends, and
/// both compact.)
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Entry {
    Unit { step: String, unit: Unit },
}

fn replay(state: &mut State, journal: &Path) -> Result<()> {
    let (entries, bad) = fsutil::read_jsonl::<Entry>(journal)?;
    if bad > 0 {
        tracing::warn!(
            "skipped {bad} unreadable line(s) of `{}` (a save torn by a kill)",
            journal.display()
        );
    }
    for entry in entries {
        match entry {
            Entry::Unit { step, unit } => {
                let project = unit.project.clone();
                *state.unit_mut(&step, &project) = unit;
            }
        }
    }
    Ok(())
}

/// The state of a run and where it is saved: `state.json` plus its journal.
pub(crate) struct Store {
    pub(crate) state: State,
    path: PathBuf,
    journal: PathBuf,
}

impl Store {
    /// Takes over `state` (already replayed from `path` and its journal): writes it whole and starts an empty
    /// journal.
    pub(crate) fn open(state: State, path: PathBuf) -> Result<Store> {
        let mut store = Store {
            state,
            journal: journal_of(&path),
            path,
        };
        store.compact()?;
        Ok(store)
    }

    /// Saves the unit of `step` for `project` as it is now.
    pub(crate) fn save_unit(&self, step: &str, project: &str) -> Result<()> {
        let unit = self
            .state
            .unit(step, project)
            .context("saving a unit the state does not have")?
            .clone();
        let entry = Entry::Unit {
            step: step.to_owned(),
            unit,
        };
        fsutil::append_jsonl(&self.journal, &entry)
    }

    /// Writes the whole state to `state.json` and empties the journal (in that order: a kill between the two
    /// leaves a journal whose replay changes nothing).
    pub(crate) fn compact(&mut self) -> Result<()> {
        self.state.save(&self.path)?;
        match std::fs::remove_file(&self.journal) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(err).with_context(|| format!("failed to remove `{}`", self.journal.display()))
            }
            _ => Ok(()),
        }
    }
}

/// Folds the journal of `path` into it, when there is one: what a new day does before keeping the file.
fn compact_in_place(path: &Path) -> Result<()> {
    if !journal_of(path).exists() {
        return Ok(());
    }
    if let Versioned::Loaded(state) = read(path)? {
        Store::open(state, path.to_owned())?;
    }
    Ok(())
}

/// The state a run of `date` works on, the file it lives in, and what the run should tell the user about it.
pub(crate) struct Loaded {
    pub(crate) state: State,
    pub(crate) path: PathBuf,
    pub(crate) notices: Vec<String>,
}

/// Loads the state of `date`: today's file, a fresh one on a new day (keeping the previous day's file), or the
/// kept file of an earlier date. A corrupt or newer file is moved aside, never overwritten.
pub(crate) fn load_for(
    paths: &Paths,
    date: NaiveDate,
    dry_run: bool,
    stamp: &str,
) -> Result<Loaded> {
    let current = paths.state(dry_run);
    compact_in_place(&current)?;
    let mut notices = Vec::new();
    let mut path = current.clone();
    let mut found = read_or_set_aside(paths, &current, stamp, &mut notices)?;
    if let Some(state) = &found {
        if state.date < date {
            let keep = fsutil::unused(paths.archived_state(state.date, dry_run));
            std::fs::rename(&current, &keep).with_context(|| {
                format!(
                    "failed to keep `{}` as `{}`",
                    current.display(),
                    keep.display()
                )
            })?;
            notices.push(format!(
                "new day: the state of {} is kept in `{}`",
                state.date,
                paths.show(&keep)
            ));
            found = None;
        } else if state.date > date {
            path = paths.archived_state(date, dry_run);
            found = read_or_set_aside(paths, &path, stamp, &mut notices)?;
        }
    }
    let state = match found {
        Some(state) if state.date == date => state,
        _ => State::new(date, dry_run),
    };
    Ok(Loaded {
        state,
        path,
        notices,
    })
}

fn read_or_set_aside(
    paths: &Paths,
    path: &Path,
    stamp: &str,
    notices: &mut Vec<String>,
) -> Result<Option<State>> {
    let read = read(path)?;
    let Some((why, tag)) = read.unusable(FORMAT_VERSION) else {
        return Ok(match read {
            Versioned::Loaded(state) => Some(state),
            _ => None,
        });
    };
    let aside = fsutil::set_aside(path, &tag, stamp)?;
    notices.push(format!(
        "`{}` was {why}; it was moved to `{}` and today's run starts from a fresh state",
        paths.show(path),
        paths.show(&aside)
    ));
    Ok(None)
}

/// Held for the whole of a run: a second run of the same root sees who holds it.
pub(crate) struct RunLock {
    _file: File,
}

/// Who holds the lock, as written into the lock file.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Holder {
    pub(crate) pid: u32,
    pub(crate) started_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub(crate) dry_run: bool,
}

pub(crate) enum Locking {
    Acquired(RunLock),
    /// Someone else holds it; their record when it could be read.
    Held(Option<Holder>),
}

impl RunLock {
    pub(crate) fn acquire(path: &Path, me: &Holder) -> Result<Locking> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create `{}`", dir.display()))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("failed to open the lock file `{}`", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                // The holder writes its record right after locking; give it a moment if it is not there yet.
                let mut holder = None;
                for _ in 0..20 {
                    let mut text = String::new();
                    file.rewind().ok();
                    if file.read_to_string(&mut text).is_ok() {
                        holder = serde_json::from_str(&text).ok();
                    }
                    if holder.is_some() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                return Ok(Locking::Held(holder));
            }
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("failed to lock `{}`", path.display()));
            }
        }
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(&serde_json::to_vec(me)?)?;
        file.sync_all()?;
        Ok(Locking::Acquired(RunLock { _file: file }))
    }
}

/// A done unit's results, stored in the state and rendered into the report.
///
/// A step returns its data typed (`Output<Step::Data>`); the state keeps it as JSON (`Output<Value>`), erased by
/// [`Output::erase`] and read back by [`Output::read`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Output<D = Value> {
    /// One line for the console, `status` and the report summary.
    pub(crate) summary: String,
    /// Step-specific findings, rendered by [`Step::render`].
    #[serde(default)]
    pub(crate) data: D,
    /// Things a human should do, for the report's Action Required section.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) actions: Vec<String>,
    /// Problems met on the way that did not fail the unit (an unreadable file, a binary log, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
}

impl Output {
    /// [`Output::data`] read back as a `T`: the one place a step's findings are read from the state.
    pub(crate) fn read<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.data)
    }
}

impl<D> Output<D> {
    /// The same output with its data passed through `f`.
    pub(crate) fn try_map<E, Error>(
        self,
        f: impl FnOnce(D) -> Result<E, Error>,
    ) -> Result<Output<E>, Error> {
        Ok(Output {
            data: f(self.data)?,
            summary: self.summary,
            actions: self.actions,
            warnings: self.warnings,
        })
    }
}

impl<D: Serialize> Output<D> {
    /// The output with its data as the JSON the state stores: the one place a step's findings are written.
    pub(crate) fn erase(self) -> Result<Output, serde_json::Error> {
        self.try_map(|data| serde_json::to_value(&data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(time: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(time).unwrap()
    }

    fn failed(unit: &mut Unit) {
        unit.start(at("2026-11-21T06:00:00+00:00"));
        unit.end(
            End::Failed("boom".to_owned()),
            at("2026-11-21T06:00:01+00:00"),
            1000,
        );
    }

    #[test]
    fn a_done_unit_is_not_repeated_unless_it_follows_a_state_that_changed() {
        let mut unit = Unit::new("shop");
        assert_eq!(unit.next(false), Next::Run);
        assert_eq!(unit.start(at("2026-11-21T06:00:00+00:00")), None);
        assert_eq!((unit.status, unit.attempts), (Status::Running, 1));
        unit.end(
            End::Done(Output::default()),
            at("2026-11-21T06:00:01+00:00"),
            1000,
        );
        assert_eq!(unit.status, Status::Done);
        assert_eq!(unit.next(false), Next::Finished);
        // The report follows the state: it runs again, as a new piece of work.
        assert_eq!(unit.next(true), Next::Run);
        unit.start(at("2026-11-21T07:00:00+00:00"));
        assert_eq!(unit.attempts, 1);
    }

    #[test]
    fn a_failed_unit_is_retried_up_to_three_attempts_then_given_up_for_the_day() {
        let mut unit = Unit::new("shop");
        for attempt in 1..=MAX_ATTEMPTS {
            assert_eq!(unit.next(false), Next::Run, "attempt {attempt}");
            failed(&mut unit);
            assert_eq!(unit.attempts, attempt);
            assert_eq!(unit.attempts_left(), MAX_ATTEMPTS - attempt);
        }
        assert_eq!(unit.next(false), Next::GaveUp);
        assert_eq!(unit.next(true), Next::GaveUp, "even when the state changed");
        assert_eq!(unit.last_error.as_deref(), Some("boom"));
    }

    #[test]
    fn an_interruption_does_not_count_and_keeps_the_resume_point() {
        let mut unit = Unit::new("shop");
        unit.start(at("2026-11-21T06:00:00+00:00"));
        unit.checkpoint = Some(serde_json::json!({ "offset": 42 }));
        unit.end(
            End::Interrupted("interrupted by SIGTERM".to_owned()),
            at("2026-11-21T06:00:01+00:00"),
            1000,
        );
        assert_eq!((unit.status, unit.attempts), (Status::Interrupted, 0));
        assert_eq!(unit.next(false), Next::Run);
        let resume = unit.start(at("2026-11-21T06:05:00+00:00"));
        assert_eq!(resume, Some(serde_json::json!({ "offset": 42 })));
        // A unit found running (the process died) runs again, and that attempt counts.
        assert_eq!(unit.status, Status::Running);
        assert_eq!(unit.next(false), Next::Run);
        unit.start(at("2026-11-21T06:10:00+00:00"));
        assert_eq!(unit.attempts, 2);
        unit.end(
            End::Done(Output::default()),
            at("2026-11-21T06:10:01+00:00"),
            1000,
        );
        assert_eq!(
            unit.checkpoint, None,
            "a finished unit keeps no resume point"
        );
    }

    #[test]
    fn an_unavailable_project_is_skipped_without_an_attempt_and_runs_once_it_is_here() {
        let mut unit = Unit::new("far");
        let now = at("2026-11-21T06:00:00+00:00");
        assert!(unit.skip_unavailable("`/x` does not exist on this machine", now));
        assert!(!unit.skip_unavailable("`/x` does not exist on this machine", now));
        assert_eq!((unit.status, unit.attempts), (Status::Skipped, 0));
        assert!(!unit.finished());
        assert_eq!(unit.next(false), Next::Run);
        // Skipped by the step itself (after an attempt): finished for the day.
        unit.start(now);
        unit.end(End::Skipped("no `github` entry".to_owned()), now, 0);
        assert!(unit.finished());
        assert_eq!(unit.next(false), Next::Finished);
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn older_format_loads_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, r#"{"format_version": 0, "date": "2026-11-21", "steps": [{"name": "logs", "units": [{"project": "a", "status": "done"}]}]}"#).unwrap();
        let ReadState::Loaded(state) = read(&path).unwrap() else {
            panic!("should load")
        };
        assert_eq!(state.format_version, FORMAT_VERSION);
        let unit = state.unit("logs", "a").unwrap();
        assert_eq!((unit.status, unit.attempts), (Status::Done, 0));
        assert!(state.runs.is_empty() && !state.dry_run);
    }

    #[test]
    fn corrupt_and_newer_files_are_moved_aside_and_named() {
        for (content, tag) in [
            ("{not json", "corrupt"),
            (r#"{"format_version": 99, "date": "2026-11-21"}"#, "v99"),
            (r#"{"format_version": 1}"#, "corrupt"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let paths = Paths::new(dir.path().to_owned());
            std::fs::create_dir_all(paths.run_dir()).unwrap();
            std::fs::write(paths.state(false), content).unwrap();
            let loaded = load_for(&paths, date("2026-11-21"), false, "T1").unwrap();
            assert!(loaded.state.steps.is_empty());
            let aside = paths.run_dir().join(format!("state.json.{tag}-T1"));
            assert_eq!(
                std::fs::read_to_string(&aside).unwrap(),
                content,
                "kept byte for byte"
            );
            assert!(!paths.state(false).exists());
            assert_eq!(loaded.notices.len(), 1);
            assert!(
                loaded.notices[0]
                    .contains(&format!("moved to `logs/daydream/state.json.{tag}-T1`")),
                "{}",
                loaded.notices[0]
            );
        }
    }

    #[test]
    fn a_new_day_keeps_yesterdays_state() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().to_owned());
        let mut yesterday = State::new(date("2026-11-20"), false);
        yesterday.unit_mut("logs", "a").status = Status::Done;
        yesterday.save(&paths.state(false)).unwrap();
        let loaded = load_for(&paths, date("2026-11-21"), false, "T").unwrap();
        assert_eq!(loaded.state.date, date("2026-11-21"));
        assert!(loaded.state.steps.is_empty());
        let ReadState::Loaded(kept) =
            read(&paths.archived_state(date("2026-11-20"), false)).unwrap()
        else {
            panic!()
        };
        assert_eq!(kept.unit("logs", "a").unwrap().status, Status::Done);
        // Rerunning an earlier date works on that date's kept file and leaves today's alone.
        loaded.state.save(&loaded.path).unwrap();
        let past = load_for(&paths, date("2026-11-20"), false, "T").unwrap();
        assert_eq!(past.path, paths.archived_state(date("2026-11-20"), false));
        assert_eq!(past.state.unit("logs", "a").unwrap().status, Status::Done);
    }

    #[test]
    fn second_lock_sees_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daydream.lock");
        let me = Holder {
            pid: 42,
            started_at: "2026-11-21T06:00:00+00:00".parse().unwrap(),
            dry_run: false,
        };
        let Locking::Acquired(lock) = RunLock::acquire(&path, &me).unwrap() else {
            panic!("first lock")
        };
        let Locking::Held(Some(holder)) = RunLock::acquire(&path, &me).unwrap() else {
            panic!("second must fail")
        };
        assert_eq!(holder.pid, 42);
        drop(lock);
        assert!(matches!(
            RunLock::acquire(&path, &me).unwrap(),
            Locking::Acquired(_)
        ));
    }
}
