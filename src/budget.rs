//! The money: the caps from the environment and the append-only ledger `data/spend.jsonl`.
//!
//! Every model call writes two lines. Before it starts, a `start` line reserves the cap the call was given;
//! after it ends, a `settle` line records what it reported costing (or the cap again when it did not say).
//! Both are fsynced before the caller goes on, so the ledger is always ahead of the step's state. Spend is
//! the sum over calls of the settled cost, or of the cap for a call that has no `settle` line: the process
//! died during it, and the worst case is what it may have cost.
//!
//! Lines are appended with `O_APPEND`, one `write` each, so processes sharing the file do not interleave.
//! Reading skips what it cannot parse (a line torn by a crash mid-write, garbage) and says how many.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Datelike as _, FixedOffset, NaiveDate, Timelike as _};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::env::Env;

/// The ledger's line format; a line from a newer daydream is refused rather than misread.
const FORMAT_VERSION: u32 = 1;

/// Tolerance for comparing dollar amounts that went through float arithmetic.
const EPSILON: f64 = 1e-9;

/// What a model call is for: auto-fix has a per-run cap of its own inside the run's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Purpose {
    Reflect,
    Autofix,
}

/// The caps in US dollars (DESIGN.md, "Money").
#[derive(Clone, Debug)]
pub(crate) struct Caps {
    /// `DAYDREAM_BUDGET_USD`: every model call of one run.
    pub(crate) run: f64,
    /// `DAYDREAM_AUTO_FIX_BUDGET_USD`: the auto-fix calls of one run, also counted in `run`.
    pub(crate) autofix_run: f64,
    /// `DAYDREAM_DAILY_BUDGET_USD`: every call of the local day, across runs.
    pub(crate) daily: Option<f64>,
    /// `DAYDREAM_MONTHLY_BUDGET_USD`: every call of the local month, across runs.
    pub(crate) monthly: Option<f64>,
    /// `DAYDREAM_MIN_CALL_USD`: no call starts with less than this to spend.
    pub(crate) min_call: f64,
}

impl Caps {
    pub(crate) fn from_env(env: &Env) -> Result<Caps> {
        let min_call = amount(env, "DAYDREAM_MIN_CALL_USD")?.unwrap_or(0.05);
        if min_call <= 0.0 {
            bail!(
                "failed to read `DAYDREAM_MIN_CALL_USD={min_call}`: it must be more than zero\n  fix: set it to the smallest amount a call can do useful work with, e.g. `DAYDREAM_MIN_CALL_USD=0.05`"
            );
        }
        Ok(Caps {
            run: amount(env, "DAYDREAM_BUDGET_USD")?.unwrap_or(5.0),
            autofix_run: amount(env, "DAYDREAM_AUTO_FIX_BUDGET_USD")?.unwrap_or(2.0),
            daily: amount(env, "DAYDREAM_DAILY_BUDGET_USD")?,
            monthly: amount(env, "DAYDREAM_MONTHLY_BUDGET_USD")?,
            min_call,
        })
    }
}

/// `name` as a non-negative amount of dollars (`5`, `5.00`, `$5.00`), or `None` when unset or empty.
fn amount(env: &Env, name: &str) -> Result<Option<f64>> {
    let Some(raw) = env.get(name) else {
        return Ok(None);
    };
    let text = raw.trim();
    let text = text.strip_prefix('$').unwrap_or(text);
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(Some(value)),
        _ => bail!(
            "failed to read `{name}={raw}`: not an amount of US dollars\n  fix: set it to a number of dollars, zero or more, e.g. `{name}=5.00`"
        ),
    }
}

/// What the ledger says was spent, in dollars.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Spent {
    /// By this run, all purposes.
    pub(crate) run: f64,
    /// By this run on auto-fix (part of `run`).
    pub(crate) run_autofix: f64,
    /// Today, local date, every run.
    pub(crate) today: f64,
    /// This month, local date, every run.
    pub(crate) month: f64,
}

/// What a call may spend, or why it may not start.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Allowance {
    /// The most the call may spend: the smallest headroom, in whole cents rounded down.
    Spend(f64),
    /// A finding for the report, naming the cap that binds: "budget exhausted: $4.98 of $5.00 spent this run".
    Exhausted(String),
}

/// Held while a call's headroom is computed and its `start` line written, so that threads reserve one at a time.
static RESERVING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The ledger of one root, seen from one run.
pub(crate) struct Budget {
    path: PathBuf,
    caps: Caps,
    run_id: String,
    clock: Clock,
    /// How many unreadable lines were last warned about, so each allowance does not repeat the warning.
    warned_skipped: AtomicUsize,
}

/// A call that has started: its `start` line is on disk. Settle it when the call ends.
#[must_use = "settle the ticket when the call ends; until then the ledger counts its whole cap"]
#[derive(Debug)]
pub(crate) struct Ticket {
    id: String,
    step: String,
    project: String,
    purpose: Purpose,
    cap: f64,
}

impl Ticket {
    /// What the call may spend: its `--max-budget-usd`.
    pub(crate) fn cap(&self) -> f64 {
        self.cap
    }
}

impl Budget {
    /// `data/spend.jsonl` under `root`; `run_id` identifies this run (the runner passes e.g. "<date>T<time>-<pid>").
    pub(crate) fn open(root: &Path, caps: Caps, run_id: &str, clock: Clock) -> Budget {
        Budget {
            path: root.join("data").join("spend.jsonl"),
            caps,
            run_id: run_id.to_owned(),
            clock,
            warned_skipped: AtomicUsize::new(0),
        }
    }

    pub(crate) fn caps(&self) -> &Caps {
        &self.caps
    }

    pub(crate) fn spent(&self) -> Result<Spent> {
        let ledger = read_ledger(&self.path)?;
        if ledger.skipped > 0
            && self.warned_skipped.swap(ledger.skipped, Ordering::Relaxed) != ledger.skipped
        {
            tracing::warn!(
                "skipped {} unreadable line(s) in `{}` (a crash mid-write, or an edit); the rest counts",
                ledger.skipped,
                self.path.display()
            );
        }
        let today = self.clock.today();
        let mut spent = Spent::default();
        for call in ledger.calls.values() {
            let cost = call.cost();
            if call.run == self.run_id {
                spent.run += cost;
                if call.purpose == Purpose::Autofix {
                    spent.run_autofix += cost;
                }
            }
            // The entry's own offset gives the local date it was written on, whatever the offset is now.
            let date = call.time.date_naive();
            if date == today {
                spent.today += cost;
            }
            if same_month(date, today) {
                spent.month += cost;
            }
        }
        Ok(spent)
    }

    /// The smallest headroom among the caps that apply to `purpose`, or why no call may start.
    pub(crate) fn allowance(&self, purpose: Purpose) -> Result<Allowance> {
        let spent = self.spent()?;
        let caps = &self.caps;
        let mut limits = vec![(caps.run, spent.run, "this run")];
        if purpose == Purpose::Autofix {
            limits.push((caps.autofix_run, spent.run_autofix, "on auto-fix this run"));
        }
        if let Some(daily) = caps.daily {
            limits.push((daily, spent.today, "today"));
        }
        if let Some(monthly) = caps.monthly {
            limits.push((monthly, spent.month, "this month"));
        }
        // The first of the smallest binds, so the message names the plainest cap on a tie.
        let (cap, used, label) = limits
            .into_iter()
            .reduce(|best, next| {
                if next.0 - next.1 < best.0 - best.1 {
                    next
                } else {
                    best
                }
            })
            .expect("the run cap always applies");
        let remaining = whole_cents(cap - used);
        if remaining + EPSILON < caps.min_call {
            return Ok(Allowance::Exhausted(format!(
                "budget exhausted: ${used:.2} of ${cap:.2} spent {label}"
            )));
        }
        Ok(Allowance::Spend(remaining))
    }

    /// Writes and fsyncs the `start` line before the call, reserving `cap`, or what is left when that is less
    /// (the ticket's [`Ticket::cap`] is what the call may spend). Reserving is atomic between the threads of a run:
    /// two calls started at once never reserve the same dollars.
    pub(crate) fn begin(
        &self,
        step: &str,
        project: &str,
        purpose: Purpose,
        cap: f64,
    ) -> Result<Ticket> {
        if !cap.is_finite() || cap <= 0.0 {
            bail!(
                "failed to start a model call for `{step}` in `{project}`: its cap ${cap} is not a positive amount"
            );
        }
        let _reserving = RESERVING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cap = match self.allowance(purpose)? {
            Allowance::Exhausted(why) => {
                bail!("failed to start a model call for `{step}` in `{project}`: {why}")
            }
            // Another call of this run reserved part of it since the caller looked.
            Allowance::Spend(most) => cap.min(most),
        };
        let ticket = Ticket {
            id: call_id(&self.run_id),
            step: step.to_owned(),
            project: project.to_owned(),
            purpose,
            cap,
        };
        self.append(&self.line(Kind::Start, &ticket, None))?;
        Ok(ticket)
    }

    /// Writes and fsyncs the `settle` line: `cost` as reported, or None when the call did not report one (counts the cap).
    #[expect(
        clippy::needless_pass_by_value,
        reason = "settling consumes the ticket, so that a call cannot be settled twice"
    )]
    pub(crate) fn settle(&self, ticket: Ticket, cost: Option<f64>) -> Result<()> {
        // A cost that is not an amount is as good as none: count the worst case.
        let reported = cost.filter(|c| c.is_finite() && *c >= 0.0);
        if let (Some(raw), None) = (cost, reported) {
            tracing::warn!(
                "model call `{}` reported a cost of {raw}; counting its cap ${:.2}",
                ticket.id,
                ticket.cap
            );
        }
        let settled = Settled {
            cost: reported.unwrap_or(ticket.cap),
            reported: reported.is_some(),
        };
        self.append(&self.line(Kind::Settle, &ticket, Some(settled)))
    }

    fn line(&self, kind: Kind, ticket: &Ticket, settled: Option<Settled>) -> Line {
        let now = self.clock.now();
        Line {
            v: FORMAT_VERSION,
            kind,
            id: ticket.id.clone(),
            time: now.with_nanosecond(0).unwrap_or(now),
            run: self.run_id.clone(),
            step: ticket.step.clone(),
            project: ticket.project.clone(),
            purpose: ticket.purpose,
            cap: ticket.cap,
            cost: settled.map(|s| s.cost),
            reported: settled.map(|s| s.reported),
        }
    }

    /// Appends `line` with one write and fsyncs it ([`crate::fsutil::append_jsonl`]).
    fn append(&self, line: &Line) -> Result<()> {
        crate::fsutil::append_jsonl(&self.path, line)
    }
}

#[derive(Clone, Copy)]
struct Settled {
    cost: f64,
    reported: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Start,
    Settle,
}

/// One line of `data/spend.jsonl`. A `settle` line repeats what its `start` said, so that each is a whole
/// record of the call on its own.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    v: u32,
    kind: Kind,
    id: String,
    time: DateTime<FixedOffset>,
    run: String,
    step: String,
    project: String,
    purpose: Purpose,
    /// The `--max-budget-usd` the call was given.
    cap: f64,
    /// `settle` only: the reported `total_cost_usd`, or the cap when the call did not report one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
    /// `settle` only: whether `cost` is what the call reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reported: Option<bool>,
}

/// Just the version, read first so that a newer line is refused instead of skipped as garbage.
#[derive(Deserialize)]
struct Versioned {
    v: u32,
}

/// A call as the ledger tells it.
#[derive(Debug)]
struct Call {
    /// When it started (when it settled, if its `start` line is missing).
    time: DateTime<FixedOffset>,
    run: String,
    purpose: Purpose,
    cap: f64,
    settled: Option<f64>,
}

impl Call {
    /// What it cost, or the worst case when it never settled.
    fn cost(&self) -> f64 {
        self.settled.unwrap_or(self.cap)
    }
}

#[derive(Debug, Default)]
struct Ledger {
    calls: BTreeMap<String, Call>,
    /// Lines that could not be read: torn or garbage.
    skipped: usize,
}

fn read_ledger(path: &Path) -> Result<Ledger> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Ledger::default()),
        Err(err) => {
            return Err(err).with_context(|| format!("failed to read `{}`", path.display()));
        }
    };
    let mut ledger = Ledger::default();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = match serde_json::from_slice::<Versioned>(raw) {
            Ok(Versioned { v }) if v > FORMAT_VERSION => bail!(
                "failed to read `{}`: line {} was written by a newer daydream (format {v}, this one reads {FORMAT_VERSION})\n  fix: upgrade daydream",
                path.display(),
                index + 1
            ),
            Ok(_) => serde_json::from_slice::<Line>(raw)
                .ok()
                .filter(Line::is_sound),
            Err(_) => None,
        };
        match line {
            Some(line) => ledger.add(line),
            None => ledger.skipped += 1,
        }
    }
    Ok(ledger)
}

impl Line {
    fn is_sound(&self) -> bool {
        let amount = |x: f64| x.is_finite() && x >= 0.0;
        amount(self.cap)
            && match self.kind {
                Kind::Start => true,
                Kind::Settle => self.cost.is_some_and(amount),
            }
    }
}

impl Ledger {
    fn add(&mut self, line: Line) {
        let call = self.calls.entry(line.id).or_insert_with(|| Call {
            time: line.time,
            run: line.run.clone(),
            purpose: line.purpose,
            cap: line.cap,
            settled: None,
        });
        call.cap = call.cap.max(line.cap);
        match line.kind {
            Kind::Start => {
                call.time = line.time;
                call.run = line.run;
                call.purpose = line.purpose;
            }
            // Settled twice (it should not happen): the larger, to stay on the safe side.
            Kind::Settle => {
                let cost = line.cost.unwrap_or(line.cap);
                call.settled = Some(call.settled.map_or(cost, |c| c.max(cost)));
            }
        }
    }
}

fn same_month(a: NaiveDate, b: NaiveDate) -> bool {
    a.year() == b.year() && a.month() == b.month()
}

/// `dollars` rounded down to whole cents, so a call never gets a cent more than what remains.
fn whole_cents(dollars: f64) -> f64 {
    ((dollars * 100.0) + EPSILON).floor() / 100.0
}

/// An id unique across calls, runs and processes: the run, a counter, and a nonce of this process.
fn call_id(run_id: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static NONCE: OnceLock<u64> = OnceLock::new();
    let nonce = NONCE.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mixed = u64::try_from(nanos % u128::from(u64::MAX)).unwrap_or(0)
            ^ (u64::from(std::process::id()) << 40);
        mixed & 0xffff_ffff_ffff
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    format!("{run_id}/{n}-{nonce:012x}")
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn at(rfc3339: &str) -> Clock {
        Clock::Fixed(DateTime::parse_from_rfc3339(rfc3339).unwrap())
    }

    fn caps() -> Caps {
        Caps {
            run: 5.0,
            autofix_run: 2.0,
            daily: None,
            monthly: None,
            min_call: 0.05,
        }
    }

    fn ledger_path(root: &Path) -> PathBuf {
        root.join("data").join("spend.jsonl")
    }

    #[track_caller]
    fn assert_dollars(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-6,
            "expected ${expected}, got ${actual}"
        );
    }

    #[track_caller]
    fn assert_allowance(budget: &Budget, purpose: Purpose, expected: &Allowance) {
        assert_eq!(&budget.allowance(purpose).unwrap(), expected);
    }

    fn spend(budget: &Budget, purpose: Purpose, cap: f64, cost: f64) {
        let ticket = budget.begin("reflect", "valor", purpose, cap).unwrap();
        budget.settle(ticket, Some(cost)).unwrap();
    }

    /// splitmix64: deterministic, and enough to vary costs.
    struct Rng(u64);

    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform in [0, 1).
        fn unit(&mut self) -> f64 {
            f64::from(u32::try_from(self.next_u64() >> 32).unwrap()) / 4_294_967_296.0
        }
    }

    #[test]
    fn many_calls_stay_within_the_run_cap_but_one_overshoot_and_stop_under_the_minimum() {
        let mut all_calls = 0;
        for seed in 0..10 {
            let dir = tempfile::tempdir().unwrap();
            let budget = Budget::open(dir.path(), caps(), "run-1", at("2026-11-21T06:00:00+01:00"));
            let mut rng = Rng(seed);
            let (mut calls, mut skipped, mut overshoot, mut total) = (0, 0, 0.0_f64, 0.0);
            for _ in 0..500 {
                let purpose = if rng.unit() < 0.5 {
                    Purpose::Reflect
                } else {
                    Purpose::Autofix
                };
                let cap = match budget.allowance(purpose).unwrap() {
                    Allowance::Spend(cap) => cap,
                    Allowance::Exhausted(_) => {
                        skipped += 1;
                        continue;
                    }
                };
                assert!(
                    cap + EPSILON >= 0.05,
                    "a call was given ${cap}, under the minimum"
                );
                // The binary may overshoot its cap by one turn.
                let cost = rng.unit().powi(4) * 1.5 * cap;
                overshoot = overshoot.max(cost - cap);
                total += cost;
                spend(&budget, purpose, cap, cost);
                calls += 1;
            }
            let spent = budget.spent().unwrap();
            assert_dollars(spent.run, total);
            assert!(skipped > 0, "seed {seed}: never refused a call");
            all_calls += calls;
            assert!(
                spent.run <= 5.0 + overshoot + EPSILON,
                "seed {seed}: spent ${} of $5.00",
                spent.run
            );
            assert!(
                spent.run_autofix <= 2.0 + overshoot + EPSILON,
                "seed {seed}: auto-fix spent ${}",
                spent.run_autofix
            );
            // It stopped because too little was left, not by chance: both purposes are refused now.
            assert!(
                5.0 - spent.run < 0.05 + 0.01,
                "seed {seed}: stopped with ${} left",
                5.0 - spent.run
            );
            for purpose in [Purpose::Reflect, Purpose::Autofix] {
                assert!(matches!(
                    budget.allowance(purpose).unwrap(),
                    Allowance::Exhausted(_)
                ));
            }
        }
        // Most calls cost a fraction of their cap, so a run makes many before it stops.
        assert!(all_calls > 50, "{all_calls} calls over 10 runs");
    }

    #[test]
    fn a_call_killed_before_it_settled_counts_its_cap_until_a_settle_line_says_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let clock = at("2026-11-21T06:00:00+01:00");
        let budget = Budget::open(dir.path(), caps(), "run-1", clock.clone());
        let ticket = budget
            .begin("reflect", "valor", Purpose::Reflect, 1.5)
            .unwrap();
        // The start line is on disk before the call runs.
        let text = std::fs::read_to_string(ledger_path(dir.path())).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(
            text.contains(r#""kind":"start""#) && text.contains(r#""cap":1.5"#),
            "{text}"
        );

        // Another process (the next run, after a kill) sees the worst case.
        let later = Budget::open(dir.path(), caps(), "run-1", clock.clone());
        assert_eq!(
            later.spent().unwrap(),
            Spent {
                run: 1.5,
                run_autofix: 0.0,
                today: 1.5,
                month: 1.5
            }
        );
        assert_allowance(&later, Purpose::Reflect, &Allowance::Spend(3.5));

        // The call did report after all: its settle line is honoured.
        budget.settle(ticket, Some(0.25)).unwrap();
        let spent = later.spent().unwrap();
        assert_dollars(spent.run, 0.25);
        assert_dollars(spent.today, 0.25);
        assert_allowance(&later, Purpose::Reflect, &Allowance::Spend(4.75));
    }

    #[test]
    fn a_settle_without_a_reported_cost_counts_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget::open(dir.path(), caps(), "run-1", at("2026-11-21T06:00:00+01:00"));
        let ticket = budget
            .begin("reflect", "valor", Purpose::Reflect, 0.8)
            .unwrap();
        budget.settle(ticket, None).unwrap();
        let ticket = budget
            .begin("reflect", "valor", Purpose::Reflect, 0.7)
            .unwrap();
        budget.settle(ticket, Some(f64::NAN)).unwrap();
        assert_dollars(budget.spent().unwrap().run, 1.5);
        let text = std::fs::read_to_string(ledger_path(dir.path())).unwrap();
        assert!(text.contains(r#""cost":0.8,"reported":false"#), "{text}");
    }

    #[test]
    fn days_and_months_count_every_run_by_the_local_date_the_entry_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let unlimited = Caps {
            run: 100.0,
            autofix_run: 100.0,
            ..caps()
        };
        let entries = [
            // The same month a year earlier.
            ("2025-03-29T09:00:00+01:00", "run-a", 0.01),
            // Last month.
            ("2026-02-28T23:59:00+01:00", "run-b", 0.02),
            // Earlier this month.
            ("2026-03-01T00:00:00+01:00", "run-c", 0.04),
            // Yesterday evening in winter time: 2026-03-29T00:30 in today's +02:00, but not today.
            ("2026-03-28T23:30:00+01:00", "run-d", 0.08),
            // Today, before the clocks went forward at 02:00.
            ("2026-03-29T00:30:00+01:00", "run-e", 0.16),
        ];
        for (time, run, cost) in entries {
            spend(
                &Budget::open(root, unlimited.clone(), run, at(time)),
                Purpose::Reflect,
                1.0,
                cost,
            );
        }
        let now = at("2026-03-29T10:00:00+02:00");
        let budget = Budget::open(root, unlimited.clone(), "run-f", now.clone());
        spend(&budget, Purpose::Autofix, 1.0, 0.32);
        // Another run the same day counts for the day and the month, not for this run.
        spend(
            &Budget::open(root, unlimited, "run-f2", now),
            Purpose::Reflect,
            1.0,
            0.64,
        );

        let spent = budget.spent().unwrap();
        assert_dollars(spent.run, 0.32);
        assert_dollars(spent.run_autofix, 0.32);
        assert_dollars(spent.today, 0.16 + 0.32 + 0.64);
        assert_dollars(spent.month, 0.04 + 0.08 + 0.16 + 0.32 + 0.64);
    }

    #[test]
    fn daily_and_monthly_caps_bind_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let capped = Caps {
            daily: Some(1.0),
            monthly: Some(3.0),
            ..caps()
        };
        // Yesterday had a larger daily cap (the user changed it since).
        let yesterday = Budget::open(
            root,
            Caps {
                daily: Some(2.0),
                ..capped.clone()
            },
            "run-1",
            at("2026-11-20T22:00:00+01:00"),
        );
        spend(&yesterday, Purpose::Reflect, 2.0, 1.9);
        let open = |run, time| Budget::open(root, capped.clone(), run, at(time));

        // A new day: the day's cap is the smallest headroom.
        let morning = open("run-2", "2026-11-21T06:00:00+01:00");
        assert_allowance(&morning, Purpose::Reflect, &Allowance::Spend(1.0));
        spend(&morning, Purpose::Reflect, 1.0, 0.6);

        // Later that day, another run: the day has 0.40 left, the month 0.50, the run 5.00.
        let noon = open("run-3", "2026-11-21T12:00:00+01:00");
        assert_allowance(&noon, Purpose::Reflect, &Allowance::Spend(0.4));
        spend(&noon, Purpose::Reflect, 0.4, 0.38);
        assert_allowance(
            &noon,
            Purpose::Reflect,
            &Allowance::Exhausted("budget exhausted: $0.98 of $1.00 spent today".into()),
        );

        // The next day the month binds.
        let next = open("run-4", "2026-11-22T06:00:00+01:00");
        assert_allowance(&next, Purpose::Reflect, &Allowance::Spend(0.12));
        spend(&next, Purpose::Reflect, 0.12, 0.1);
        assert_allowance(
            &next,
            Purpose::Autofix,
            &Allowance::Exhausted("budget exhausted: $2.98 of $3.00 spent this month".into()),
        );

        // A new month starts afresh.
        let december = open("run-5", "2026-12-01T06:00:00+01:00");
        assert_allowance(&december, Purpose::Reflect, &Allowance::Spend(1.0));
    }

    #[test]
    fn autofix_has_its_own_cap_inside_the_run_total() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget::open(dir.path(), caps(), "run-1", at("2026-11-21T06:00:00+01:00"));
        assert_allowance(&budget, Purpose::Autofix, &Allowance::Spend(2.0));
        spend(&budget, Purpose::Autofix, 2.0, 1.0);
        assert_allowance(&budget, Purpose::Autofix, &Allowance::Spend(1.0));
        // Auto-fix spend counts against the run: reflection has 4.00 left, not 5.00.
        assert_allowance(&budget, Purpose::Reflect, &Allowance::Spend(4.0));
        spend(&budget, Purpose::Reflect, 4.0, 3.5);
        // Reflection spend is not auto-fix spend, but the run total now binds auto-fix too.
        assert_eq!(
            budget.spent().unwrap(),
            Spent {
                run: 4.5,
                run_autofix: 1.0,
                today: 4.5,
                month: 4.5
            }
        );
        assert_allowance(&budget, Purpose::Autofix, &Allowance::Spend(0.5));
        spend(&budget, Purpose::Autofix, 0.5, 0.1);
        spend(&budget, Purpose::Autofix, 0.4, 0.37);
        assert_allowance(
            &budget,
            Purpose::Autofix,
            &Allowance::Exhausted("budget exhausted: $4.97 of $5.00 spent this run".into()),
        );
    }

    #[test]
    fn exhausted_names_the_cap_that_binds() {
        let dir = tempfile::tempdir().unwrap();
        let clock = at("2026-11-21T06:00:00+01:00");
        let roomy = Caps {
            daily: Some(50.0),
            monthly: Some(100.0),
            ..caps()
        };

        let budget = Budget::open(dir.path(), roomy.clone(), "run-1", clock.clone());
        spend(&budget, Purpose::Reflect, 5.0, 4.98);
        assert_allowance(
            &budget,
            Purpose::Reflect,
            &Allowance::Exhausted("budget exhausted: $4.98 of $5.00 spent this run".into()),
        );

        let budget = Budget::open(dir.path(), roomy.clone(), "run-2", clock.clone());
        spend(&budget, Purpose::Autofix, 2.0, 1.96);
        assert_allowance(
            &budget,
            Purpose::Autofix,
            &Allowance::Exhausted(
                "budget exhausted: $1.96 of $2.00 spent on auto-fix this run".into(),
            ),
        );
        // Reflection is still allowed: the auto-fix cap is not the run's.
        assert_allowance(&budget, Purpose::Reflect, &Allowance::Spend(3.04));

        let today = Caps {
            daily: Some(6.98),
            ..roomy.clone()
        };
        let budget = Budget::open(dir.path(), today, "run-3", clock.clone());
        assert_allowance(
            &budget,
            Purpose::Reflect,
            &Allowance::Exhausted("budget exhausted: $6.94 of $6.98 spent today".into()),
        );

        let month = Caps {
            monthly: Some(6.95),
            ..roomy
        };
        let budget = Budget::open(dir.path(), month, "run-4", clock);
        assert_allowance(
            &budget,
            Purpose::Autofix,
            &Allowance::Exhausted("budget exhausted: $6.94 of $6.95 spent this month".into()),
        );
        // Refused at `begin` too, whatever the caller asks for.
        let err = budget
            .begin("autofix", "valor", Purpose::Autofix, 0.01)
            .unwrap_err();
        assert!(err.to_string().contains("spent this month"), "{err}");
    }

    #[test]
    fn calls_started_at_once_from_many_threads_never_reserve_more_than_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget::open(dir.path(), caps(), "run-1", at("2026-11-21T06:00:00+01:00"));
        let run_cap = budget.caps().run;
        let start = std::sync::Barrier::new(32);
        let tickets: Vec<Ticket> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..32)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        budget.begin("reflect", "valor", Purpose::Reflect, 0.5).ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().unwrap())
                .collect()
        });
        let reserved: f64 = tickets.iter().map(Ticket::cap).sum();
        assert!(
            reserved <= run_cap + 1e-9,
            "reserved {reserved} of {run_cap}"
        );
        assert!(!tickets.is_empty());
        assert!(matches!(
            budget.allowance(Purpose::Reflect).unwrap(),
            Allowance::Exhausted(_)
        ));
        for t in tickets {
            budget.settle(t, Some(0.0)).unwrap();
        }
    }

    #[test]
    fn the_minimum_call_amount_is_honoured_and_begin_reserves_no_more_than_remains() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget::open(
            dir.path(),
            Caps {
                min_call: 0.5,
                ..caps()
            },
            "run-1",
            at("2026-11-21T06:00:00+01:00"),
        );
        spend(&budget, Purpose::Reflect, 5.0, 4.5);
        assert_allowance(&budget, Purpose::Reflect, &Allowance::Spend(0.5));
        let ticket = budget
            .begin("reflect", "valor", Purpose::Reflect, 0.51)
            .unwrap();
        assert!((ticket.cap() - 0.5).abs() < 1e-9);
        budget.settle(ticket, Some(0.01)).unwrap();
        assert_allowance(
            &budget,
            Purpose::Reflect,
            &Allowance::Exhausted("budget exhausted: $4.51 of $5.00 spent this run".into()),
        );
    }

    #[test]
    fn torn_and_garbage_lines_are_skipped_counted_and_do_not_swallow_the_next_line() {
        let dir = tempfile::tempdir().unwrap();
        let clock = at("2026-11-21T06:00:00+01:00");
        let budget = Budget::open(dir.path(), caps(), "run-1", clock);
        spend(&budget, Purpose::Reflect, 1.0, 0.5);
        let path = ledger_path(dir.path());
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"not json\n\n{\"v\":1,\"kind\":\"mystery\"}\n\xff\xfe\n")
            .unwrap();
        file.write_all(br#"{"v":1,"kind":"settle","id":"x","time":"2026-11-21T06:00:00+01:00","run":"run-1","step":"reflect","project":"valor","purpose":"reflect","cap":1.0,"cost":-3.0}"#).unwrap();
        file.write_all(b"\n").unwrap();
        // A crash in the middle of a start line.
        file.write_all(br#"{"v":1,"kind":"start","id":"run-1/9","time":"2026-11-21T06:0"#)
            .unwrap();
        drop(file);

        let ledger = read_ledger(&path).unwrap();
        assert_eq!(ledger.skipped, 5);
        assert_dollars(budget.spent().unwrap().run, 0.5);

        // The start line written after the torn one is read whole: its cap counts until it settles.
        let ticket = budget
            .begin("reflect", "valor", Purpose::Reflect, 1.0)
            .unwrap();
        assert_eq!(read_ledger(&path).unwrap().skipped, 5);
        assert_dollars(budget.spent().unwrap().run, 1.5);
        budget.settle(ticket, Some(0.25)).unwrap();
        assert_dollars(budget.spent().unwrap().run, 0.75);
    }

    #[test]
    fn a_line_from_a_newer_daydream_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = ledger_path(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{\"v\":2,\"kind\":\"start\"}\n").unwrap();
        let budget = Budget::open(dir.path(), caps(), "run-1", at("2026-11-21T06:00:00+01:00"));
        let err = budget.allowance(Purpose::Reflect).unwrap_err().to_string();
        assert!(
            err.contains("line 1 was written by a newer daydream") && err.contains("upgrade"),
            "{err}"
        );
    }

    #[test]
    fn concurrent_writers_do_not_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let unlimited = Caps {
            run: 1e6,
            autofix_run: 1e6,
            ..caps()
        };
        std::thread::scope(|scope| {
            for t in 0..8 {
                let (root, caps) = (dir.path(), unlimited.clone());
                scope.spawn(move || {
                    let budget = Budget::open(
                        root,
                        caps,
                        &format!("run-{t}"),
                        at("2026-11-21T06:00:00+01:00"),
                    );
                    for _ in 0..40 {
                        spend(&budget, Purpose::Reflect, 1.0, 0.01);
                    }
                });
            }
        });
        let ledger = read_ledger(&ledger_path(dir.path())).unwrap();
        assert_eq!(ledger.skipped, 0);
        assert_eq!(ledger.calls.len(), 8 * 40);
        assert!(ledger.calls.values().all(|c| c.settled.is_some()));
    }

    #[test]
    fn caps_from_env_defaults_values_and_errors() {
        let defaults = Caps::from_env(&Env::from_pairs([])).unwrap();
        assert_dollars(defaults.run, 5.0);
        assert_dollars(defaults.autofix_run, 2.0);
        assert_eq!((defaults.daily, defaults.monthly), (None, None));
        assert_dollars(defaults.min_call, 0.05);

        let set = Caps::from_env(&Env::from_pairs([
            ("DAYDREAM_BUDGET_USD", " 3.5 "),
            ("DAYDREAM_AUTO_FIX_BUDGET_USD", "$1"),
            ("DAYDREAM_DAILY_BUDGET_USD", "10"),
            ("DAYDREAM_MONTHLY_BUDGET_USD", "0"),
            ("DAYDREAM_MIN_CALL_USD", "0.10"),
        ]))
        .unwrap();
        assert_dollars(set.run, 3.5);
        assert_dollars(set.autofix_run, 1.0);
        assert_eq!((set.daily, set.monthly), (Some(10.0), Some(0.0)));
        assert_dollars(set.min_call, 0.1);

        for (name, value) in [
            ("DAYDREAM_BUDGET_USD", "five"),
            ("DAYDREAM_AUTO_FIX_BUDGET_USD", "-1"),
            ("DAYDREAM_DAILY_BUDGET_USD", "inf"),
            ("DAYDREAM_MONTHLY_BUDGET_USD", "NaN"),
            ("DAYDREAM_MIN_CALL_USD", "0"),
        ] {
            let err = Caps::from_env(&Env::from_pairs([(name, value)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("`{name}={value}`")) && err.contains("fix: set it to"),
                "{err}"
            );
        }
    }
}
