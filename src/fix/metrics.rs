//! The record of the fix loop, one line per attempt in the append-only `data/fix_attempts.jsonl`, and what
//! `daydream metrics` and the nightly report make of it: how many root causes got fixed, in how many
//! attempts, how long it took and what it cost.
//!
//! A *fix* is one root cause in one loop: the attempts that share `(run, project, root_cause)`. Lines are
//! appended with `O_APPEND`, one write each, and fsynced before the loop goes on. Reading skips what it cannot
//! parse (a line torn by a crash mid-write, an outcome from a newer daydream) and says how many.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Where the failing tests came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Source {
    Tests,
    Reflection,
    Sentry,
}

/// How one attempt ended, or why a failure was not attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The attempt's fix passed the test, the suite and the checks: committed.
    Fixed,
    /// The affected test still failed after the attempt.
    StillFailing,
    /// The suite gained a failure against the baseline: reverted.
    Regression,
    /// The checks (linters) gained problems: reverted.
    ChecksWorse,
    /// The diff guard refused the change (protected path, outside safe paths, secret, too big...).
    Rejected,
    /// The model call failed, hit its budget or timed out.
    ModelFailed,
    /// Not attempted: the test passed when rerun alone (flaky). attempt = 0.
    Flaky,
    /// Not attempted for another reason (budget spent, time cap, protected root cause...). attempt = 0.
    Skipped,
}

/// One line of `data/fix_attempts.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct AttemptRecord {
    pub(crate) time: DateTime<FixedOffset>,
    pub(crate) project: String,
    pub(crate) source: Source,
    /// Which loop it belongs to (e.g. "fix-2026-12-02T06:00:00-1234"): attempts of one root cause in one loop
    /// are one fix.
    pub(crate) run: String,
    /// The root cause's key (its innermost project frame `src/cart.py:12`, or the test id).
    pub(crate) root_cause: String,
    /// The failing tests of this root cause.
    #[serde(default)]
    pub(crate) tests: Vec<String>,
    /// 1-based; 0 for a record of a failure that was not attempted (flaky, skipped).
    pub(crate) attempt: u32,
    pub(crate) outcome: Outcome,
    #[serde(default)]
    pub(crate) reason: String,
    pub(crate) duration_secs: f64,
    pub(crate) cost_usd: f64,
    /// The attempt broke another test and was reverted.
    #[serde(default)]
    pub(crate) regression: bool,
    #[serde(default)]
    pub(crate) pr: Option<String>,
    #[serde(default)]
    pub(crate) commit: Option<String>,
}

/// How fixing went over some records. `--json` prints these field names.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Metrics {
    /// Distinct `(run, project, root_cause)` with at least one attempt (attempt >= 1).
    pub(crate) fixes_attempted: usize,
    /// Of those, the ones where an attempt is `Fixed`.
    pub(crate) fixes_succeeded: usize,
    pub(crate) fixes_failed: usize,
    /// `fixes_succeeded / fixes_attempted`, 0 when none were attempted.
    pub(crate) success_rate: f64,
    /// Attempts (attempt >= 1) per attempted fix, 0 when none were attempted.
    pub(crate) avg_attempts_per_fix: f64,
    /// Attempts that broke another test and were reverted.
    pub(crate) regressions_reverted: usize,
    /// The diff guard's refusals by kind (see `rejection_kind`).
    pub(crate) rejections: BTreeMap<String, usize>,
    /// Distinct `(project, test)` seen flaky.
    pub(crate) flaky_tests: usize,
    /// Over succeeded fixes: the minutes of their attempts up to and including the fixing one.
    pub(crate) mean_minutes_to_fix: f64,
    /// Every record, attempted or not.
    pub(crate) cost_usd: f64,
}

/// The metrics of a window, in total and by project.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Report {
    pub(crate) days: u32,
    pub(crate) since: DateTime<FixedOffset>,
    pub(crate) total: Metrics,
    pub(crate) projects: BTreeMap<String, Metrics>,
    /// Sentry issues healed, when auto-fix took any on (`data/sentry_fixes.jsonl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sentry: Option<super::healing::Healing>,
    /// `daydream build`'s figures, when there were builds (`data/builds.jsonl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) builds: Option<super::builds::Figures>,
}

/// The file's name inside `data/`.
const FILE: &str = "fix_attempts.jsonl";

/// `data/fix_attempts.jsonl` under the daydream root.
pub(crate) fn path(root: &Path) -> PathBuf {
    root.join("data").join(FILE)
}

/// Appends one record ([`crate::fsutil::append_jsonl`]): a kill leaves at most a torn last line, which `load`
/// skips.
pub(crate) fn append(root: &Path, record: &AttemptRecord) -> Result<()> {
    crate::fsutil::append_jsonl(&path(root), record)
}

/// The report's line of fix metrics of the last 30 days, when there were attempts (unreadable records are left
/// out).
pub(crate) fn night_line(root: &Path, now: DateTime<FixedOffset>) -> Option<String> {
    let (records, _) = load(root).ok()?;
    line(&compute(&records, now, 30, None))
}

/// All records, and how many lines could not be read (skipped). A missing file has none.
pub(crate) fn load(root: &Path) -> Result<(Vec<AttemptRecord>, usize)> {
    crate::fsutil::read_jsonl(&path(root))
}

/// The metrics of the records of the last `days` days before `now` (inclusive window), optionally one
/// project. Records are chosen before they are grouped, so a fix whose attempts straddle the start of the
/// window counts with its attempts inside it.
pub(crate) fn compute(
    records: &[AttemptRecord],
    now: DateTime<FixedOffset>,
    days: u32,
    project: Option<&str>,
) -> Report {
    let since = window_start(now, days);
    let chosen = in_window(records, since, now, project, |r| (r.time, &r.project));
    let mut by_project: BTreeMap<&str, Vec<&AttemptRecord>> = BTreeMap::new();
    for record in &chosen {
        by_project.entry(&record.project).or_default().push(record);
    }
    Report {
        days,
        since,
        total: metrics(&chosen),
        projects: by_project
            .into_iter()
            .map(|(name, records)| (name.to_owned(), metrics(&records)))
            .collect(),
        sentry: None,
        builds: None,
    }
}

/// The records from `since` to `now` (both included), of `project` when one is given; `time_and_project` reads
/// a record's. Every figure of `daydream metrics` is computed over such a choice.
pub(crate) fn in_window<'a, R>(
    records: &'a [R],
    since: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
    project: Option<&str>,
    time_and_project: impl Fn(&R) -> (DateTime<FixedOffset>, &String),
) -> Vec<&'a R> {
    records
        .iter()
        .filter(|r| {
            let (time, of) = time_and_project(r);
            since <= time && time <= now && project.is_none_or(|p| of == p)
        })
        .collect()
}

/// `days` before `now`; the earliest time there is when that is before it (`--days 4000000000`).
pub(crate) fn window_start(now: DateTime<FixedOffset>, days: u32) -> DateTime<FixedOffset> {
    now.checked_sub_signed(TimeDelta::days(i64::from(days)))
        .unwrap_or_else(|| DateTime::<Utc>::MIN_UTC.fixed_offset())
}

/// The figures of records already chosen by window and project.
fn metrics(records: &[&AttemptRecord]) -> Metrics {
    let mut m = Metrics::default();
    let mut fixes: BTreeMap<(&str, &str, &str), Vec<&AttemptRecord>> = BTreeMap::new();
    let mut flaky: BTreeSet<(&str, &str)> = BTreeSet::new();
    for record in records {
        m.cost_usd += record.cost_usd;
        if record.outcome == Outcome::Flaky {
            flaky.extend(flaky_tests(record).map(|test| (record.project.as_str(), test)));
        }
        if record.attempt == 0 {
            continue;
        }
        m.regressions_reverted += usize::from(record.regression);
        if record.outcome == Outcome::Rejected {
            *m.rejections
                .entry(rejection_kind(&record.reason).to_owned())
                .or_default() += 1;
        }
        fixes
            .entry((&record.run, &record.project, &record.root_cause))
            .or_default()
            .push(record);
    }
    let attempts: usize = fixes.values().map(Vec::len).sum();
    let fixed_secs: Vec<f64> = fixes.values().filter_map(|a| seconds_to_fix(a)).collect();
    m.fixes_attempted = fixes.len();
    m.fixes_succeeded = fixed_secs.len();
    m.fixes_failed = m.fixes_attempted - m.fixes_succeeded;
    m.success_rate = ratio(m.fixes_succeeded, m.fixes_attempted);
    m.avg_attempts_per_fix = ratio(attempts, m.fixes_attempted);
    m.mean_minutes_to_fix = tidy(mean(&fixed_secs) / 60.0);
    m.flaky_tests = flaky.len();
    m.cost_usd = tidy(m.cost_usd);
    m
}

/// The tests a flaky record names; its root cause's key when it names none, which is then the test id.
fn flaky_tests(record: &AttemptRecord) -> impl Iterator<Item = &str> {
    let fallback = record
        .tests
        .is_empty()
        .then_some(record.root_cause.as_str());
    record.tests.iter().map(String::as_str).chain(fallback)
}

/// How long a fix took to succeed: its attempts up to and including the first that fixed it, ranked by
/// number rather than by line order; `None` when none fixed it.
fn seconds_to_fix(attempts: &[&AttemptRecord]) -> Option<f64> {
    let fixed_at = attempts
        .iter()
        .filter(|r| r.outcome == Outcome::Fixed)
        .map(|r| r.attempt)
        .min()?;
    Some(
        attempts
            .iter()
            .filter(|r| r.attempt <= fixed_at)
            .map(|r| r.duration_secs)
            .sum(),
    )
}

/// `part / whole`, 0 when `whole` is 0.
pub(crate) fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        float(part) / float(whole)
    }
}

/// The mean, 0 for none (not NaN).
pub(crate) fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / float(values.len())
    }
}

/// A count as a float.
#[expect(
    clippy::cast_precision_loss,
    reason = "counts of fix attempts stay far below 2^52"
)]
fn float(n: usize) -> f64 {
    n as f64
}

/// Rounds a sum of floats to a millionth, so that `--json` prints `0.3` and not `0.30000000000000004`.
fn tidy(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The kinds of the diff guard's reasons (`fix::check`, `PathRules::refuse`), first match wins: words that
/// tell each kind apart, looked for outside the `code spans` that quote paths, so that a file named
/// `secret_rates.py` on a protected path is a protected path.
const REJECTION_KINDS: &[(&str, &[&str])] = &[
    ("protected path", &["protected"]),
    (
        "outside safe paths",
        &["is outside", "outside safe", "outside the safe"],
    ),
    ("secret", &["credential", "secret"]),
    (
        "diff too large",
        &["may change at most", "too large", "too big"],
    ),
    ("empty diff", &["empty", "changed nothing"]),
];

/// A short stable key for why the diff guard refused a change: one of the kinds above, or "other" (a
/// symlink, a submodule, a binary file...), so that counts group however the wording of reasons changes.
pub(crate) fn rejection_kind(reason: &str) -> &'static str {
    let text = without_code_spans(reason).to_lowercase();
    REJECTION_KINDS
        .iter()
        .find(|(_, words)| words.iter().any(|w| text.contains(w)))
        .map_or("other", |(kind, _)| kind)
}

/// `text` without its `code spans`; an unclosed span is kept as text.
fn without_code_spans(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some((before, after)) = rest.split_once('`') {
        out.push_str(before);
        let Some((_, tail)) = after.split_once('`') else {
            rest = after;
            break;
        };
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The columns of the table of `render`.
const HEADER: [&str; 10] = [
    "project",
    "attempted",
    "fixed",
    "failed",
    "rate %",
    "attempts/fix",
    "regressions",
    "flaky",
    "min/fix",
    "cost $",
];

/// The human text of `daydream metrics`: a header line with the window, an aligned table (one row per
/// project and a total row), then the rejections by kind; a plain sentence when nothing was attempted.
pub(crate) fn render(report: &Report) -> String {
    let mut text = render_fixes(report);
    if let Some(sentry) = &report.sentry {
        text.push_str(&super::healing::render(sentry));
    }
    if let Some(builds) = &report.builds {
        text.push_str(&super::builds::render(builds));
    }
    text
}

fn render_fixes(report: &Report) -> String {
    let total = &report.total;
    if total.fixes_attempted == 0 {
        let flaky = if total.flaky_tests > 0 {
            format!(
                " ({} not attempted)",
                plural(total.flaky_tests, "flaky test")
            )
        } else {
            String::new()
        };
        return format!(
            "no fix attempts in the last {}{flaky}\n",
            plural(report.days, "day")
        );
    }
    let mut rows = vec![HEADER.map(str::to_owned)];
    rows.extend(report.projects.iter().map(|(name, m)| row(name, m)));
    rows.push(row("total", total));
    format!(
        "Fixing, last {} (since {}):\n\n{}\n{}",
        plural(report.days, "day"),
        report.since.format("%Y-%m-%d %H:%M %:z"),
        table(&rows),
        rejections(&total.rejections)
    )
}

/// One row of the table; "-" where a figure has nothing to be over (no attempt, no fix).
fn row(name: &str, m: &Metrics) -> [String; 10] {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    let attempted = m.fixes_attempted > 0;
    [
        name.to_owned(),
        m.fixes_attempted.to_string(),
        m.fixes_succeeded.to_string(),
        m.fixes_failed.to_string(),
        or_dash(percent(m).map(|p| p.to_string())),
        or_dash(attempted.then(|| one_decimal(m.avg_attempts_per_fix))),
        m.regressions_reverted.to_string(),
        m.flaky_tests.to_string(),
        or_dash((m.fixes_succeeded > 0).then(|| one_decimal(m.mean_minutes_to_fix))),
        money(m.cost_usd),
    ]
}

/// The rows, the first column to the left and the figures to the right, two spaces apart.
fn table(rows: &[[String; 10]]) -> String {
    let mut widths = [0; 10];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The rejections block of `render`, kinds aligned; says "none" rather than leaving the reader to wonder.
fn rejections(kinds: &BTreeMap<String, usize>) -> String {
    if kinds.is_empty() {
        return "Rejected by the diff guard: none\n".to_owned();
    }
    let width = kinds.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    let lines: Vec<String> = kinds
        .iter()
        .map(|(kind, n)| format!("  {kind:<width$}  {n}"))
        .collect();
    format!("Rejected by the diff guard:\n{}\n", lines.join("\n"))
}

/// One line for the nightly report; `None` when nothing was attempted.
pub(crate) fn line(report: &Report) -> Option<String> {
    let m = &report.total;
    let percent = percent(m)?;
    Some(format!(
        "Fixing, last {}: {}/{} fixed ({percent}%), {} attempts per fix, {} reverted, {}, ${}",
        plural(report.days, "day"),
        m.fixes_succeeded,
        m.fixes_attempted,
        one_decimal(m.avg_attempts_per_fix),
        plural(m.regressions_reverted, "regression"),
        plural(m.flaky_tests, "flaky test"),
        money(m.cost_usd)
    ))
}

/// The success rate in whole percent, half up, from the counts so that 7/9 is 78 whatever the float;
/// `None` when nothing was attempted.
fn percent(m: &Metrics) -> Option<usize> {
    let whole = m.fixes_attempted;
    (whole > 0).then(|| (m.fixes_succeeded * 200 + whole) / (whole * 2))
}

/// One decimal, half away from zero as people round: `{:.1}` alone prints 2.25 as "2.2".
fn one_decimal(x: f64) -> String {
    format!("{:.1}", (x * 10.0).round() / 10.0)
}

/// Dollars with cents, without the sign.
fn money(x: f64) -> String {
    format!("{:.2}", (x * 100.0).round() / 100.0)
}

/// "1 day", "30 days".
fn plural<N: Copy + std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str) -> String {
    let s = if n == N::from(1) { "" } else { "s" };
    format!("{n} {one}{s}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write as _;

    use chrono::{DateTime, FixedOffset};

    use super::{
        AttemptRecord, Metrics, Outcome, Report, Source, append, compute, line, load, path,
        rejection_kind, render,
    };

    const NOW: &str = "2026-12-02T06:00:00+01:00";
    const RUN_A: &str = "fix-2026-11-20T06:00:00-1234";
    const RUN_B: &str = "fix-2026-11-27T06:00:00-5678";
    const RUN_OLD: &str = "fix-2026-10-15T06:00:00-42";
    const SECRET: &str = "`app/settings.py` line 12 adds what looks like a credential (AWS access key); a fix \
                          may not add secrets (move it to the environment, or reject the fix)";

    fn at(time: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(time).unwrap()
    }

    /// One root cause in one loop; its attempts are made with `attempt`.
    struct Fix {
        time: &'static str,
        run: &'static str,
        project: &'static str,
        root_cause: &'static str,
        test: &'static str,
    }

    impl Fix {
        fn attempt(&self, attempt: u32, outcome: Outcome, secs: f64, cost: f64) -> AttemptRecord {
            AttemptRecord {
                time: at(self.time),
                project: self.project.to_owned(),
                source: Source::Tests,
                run: self.run.to_owned(),
                root_cause: self.root_cause.to_owned(),
                tests: vec![self.test.to_owned()],
                attempt,
                outcome,
                reason: String::new(),
                duration_secs: secs,
                cost_usd: cost,
                regression: false,
                pr: None,
                commit: None,
            }
        }
    }

    fn reason(reason: &str, record: AttemptRecord) -> AttemptRecord {
        AttemptRecord {
            reason: reason.to_owned(),
            ..record
        }
    }

    const A: &str = "2026-11-20T06:10:00+01:00";
    const B: &str = "2026-11-27T06:10:00+01:00";
    const CART: &str = "tests/test_cart.py::test_total";
    const TIMEOUT: &str = "tests/test_api.py::test_timeout";

    fn fix(
        time: &'static str,
        run: &'static str,
        project: &'static str,
        root_cause: &'static str,
        test: &'static str,
    ) -> Fix {
        Fix {
            time,
            run,
            project,
            root_cause,
            test,
        }
    }

    /// Two projects and two loops in the window, then one loop before it.
    fn records() -> Vec<AttemptRecord> {
        let mut all = shop_in_window();
        all.extend(valor_in_window());
        all.extend(before_window());
        all
    }

    fn shop_in_window() -> Vec<AttemptRecord> {
        use Outcome::{Fixed, Flaky, Regression, Rejected, StillFailing};
        let cart_a = fix(A, RUN_A, "shop", "src/cart.py:12", CART);
        let tax_a = fix(
            A,
            RUN_A,
            "shop",
            "src/tax.py:40",
            "tests/test_tax.py::test_vat",
        );
        vec![
            // Fixed on the 2nd attempt: 5 minutes.
            reason(
                "tests/test_cart.py::test_total still fails",
                cart_a.attempt(1, StillFailing, 120.0, 0.30),
            ),
            AttemptRecord {
                commit: Some("3f2a9c1".into()),
                pr: Some("https://github.com/acme/shop/pull/17".into()),
                ..cart_a.attempt(2, Fixed, 180.0, 0.25)
            },
            // Never fixed after 3: a regression, a rejection, still failing.
            AttemptRecord {
                regression: true,
                ..reason(
                    "tests/test_order.py::test_refund now fails",
                    tax_a.attempt(1, Regression, 200.0, 0.40),
                )
            },
            reason(
                "`migrations/0042_secret_rates.py` is a protected path",
                tax_a.attempt(2, Rejected, 60.0, 0.20),
            ),
            tax_a.attempt(3, StillFailing, 100.0, 0.35),
            reason(
                "passed when rerun alone",
                fix(A, RUN_A, "shop", TIMEOUT, TIMEOUT).attempt(0, Flaky, 30.0, 0.0),
            ),
            // The same root cause in a later loop is another fix: 1.5 minutes.
            fix(B, RUN_B, "shop", "src/cart.py:12", CART).attempt(1, Fixed, 90.0, 0.15),
            // The same flaky test again.
            fix(B, RUN_B, "shop", TIMEOUT, TIMEOUT).attempt(0, Flaky, 25.0, 0.0),
        ]
    }

    fn valor_in_window() -> Vec<AttemptRecord> {
        use Outcome::{Fixed, Flaky, ModelFailed, Rejected, Skipped};
        let auth = fix(
            B,
            RUN_B,
            "valor",
            "src/auth.py:7",
            "tests/test_auth.py::test_login",
        );
        let db = fix(
            B,
            RUN_B,
            "valor",
            "src/db.py:88",
            "tests/test_db.py::test_pool",
        );
        vec![
            // A flaky test of the same name as shop's is another test.
            fix(B, RUN_B, "valor", TIMEOUT, TIMEOUT).attempt(0, Flaky, 20.0, 0.0),
            // Fixed on the 3rd attempt after a secret and a timeout: 13 minutes.
            reason(SECRET, auth.attempt(1, Rejected, 45.0, 0.10)),
            reason(
                "the model call timed out after 600s",
                auth.attempt(2, ModelFailed, 600.0, 0.50),
            ),
            auth.attempt(3, Fixed, 135.0, 0.20),
            reason(
                "the auto-fix budget is spent",
                db.attempt(0, Skipped, 0.0, 0.0),
            ),
        ]
    }

    /// None of it counts in a 30-day window.
    fn before_window() -> Vec<AttemptRecord> {
        use Outcome::{Fixed, Flaky, Rejected};
        let old = fix(
            "2026-10-15T06:10:00+02:00",
            RUN_OLD,
            "shop",
            "src/old.py:1",
            "tests/test_old.py::test_old",
        );
        vec![
            AttemptRecord {
                regression: true,
                ..reason(
                    "the diff is empty: Claude changed nothing",
                    old.attempt(1, Rejected, 60.0, 1.00),
                )
            },
            old.attempt(2, Fixed, 60.0, 5.00),
            AttemptRecord {
                tests: vec!["tests/test_old.py::test_flaky".into()],
                ..old.attempt(0, Flaky, 10.0, 0.0)
            },
        ]
    }

    fn kinds(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    }

    fn shop() -> Metrics {
        Metrics {
            fixes_attempted: 3,
            fixes_succeeded: 2,
            fixes_failed: 1,
            success_rate: 2.0 / 3.0,
            avg_attempts_per_fix: 2.0,
            regressions_reverted: 1,
            rejections: kinds(&[("protected path", 1)]),
            flaky_tests: 1,
            mean_minutes_to_fix: 3.25,
            cost_usd: 1.65,
        }
    }

    fn valor() -> Metrics {
        Metrics {
            fixes_attempted: 1,
            fixes_succeeded: 1,
            fixes_failed: 0,
            success_rate: 1.0,
            avg_attempts_per_fix: 3.0,
            regressions_reverted: 0,
            rejections: kinds(&[("secret", 1)]),
            flaky_tests: 1,
            mean_minutes_to_fix: 13.0,
            cost_usd: 0.80,
        }
    }

    fn report() -> Report {
        compute(&records(), at(NOW), 30, None)
    }

    #[test]
    fn figures_of_realistic_records() {
        let report = report();
        assert_eq!(report.days, 30);
        assert_eq!(report.since, at("2026-11-02T06:00:00+01:00"));
        assert_eq!(
            report.total,
            Metrics {
                fixes_attempted: 4,
                fixes_succeeded: 3,
                fixes_failed: 1,
                success_rate: 0.75,
                avg_attempts_per_fix: 2.25,
                regressions_reverted: 1,
                rejections: kinds(&[("protected path", 1), ("secret", 1)]),
                flaky_tests: 2,
                mean_minutes_to_fix: 6.5,
                cost_usd: 2.45,
            }
        );
        let projects: BTreeMap<String, Metrics> =
            [("shop".to_owned(), shop()), ("valor".to_owned(), valor())].into();
        assert_eq!(report.projects, projects);
    }

    #[test]
    fn the_window_includes_both_ends_whatever_the_offset() {
        // Each record is its own project, named for where it stands.
        let record = |time, project| {
            fix(time, RUN_A, project, "src/a.py:1", "t").attempt(1, Outcome::Fixed, 60.0, 0.1)
        };
        let records = [
            record("2026-12-01T05:00:00+00:00", "start-in-utc"),
            record("2026-12-01T05:59:59+01:00", "second-before-start"),
            record("2026-12-02T06:00:00+01:00", "now"),
            record("2026-12-02T06:00:01+01:00", "after-now"),
            record("2026-12-01T20:00:00-08:00", "inside-on-an-earlier-date"),
        ];
        let seen = |days| {
            let report = compute(&records, at(NOW), days, None);
            assert_eq!(report.total.fixes_attempted, report.projects.len());
            report.projects.into_keys().collect::<Vec<_>>()
        };
        assert_eq!(
            compute(&records, at(NOW), 1, None).since,
            at("2026-12-01T06:00:00+01:00")
        );
        assert_eq!(
            seen(1),
            ["inside-on-an-earlier-date", "now", "start-in-utc"]
        );
        assert_eq!(seen(0), ["now"]);
        // A window longer than time itself does not panic, and holds everything up to now.
        assert_eq!(
            seen(u32::MAX),
            [
                "inside-on-an-earlier-date",
                "now",
                "second-before-start",
                "start-in-utc"
            ]
        );
    }

    #[test]
    fn a_project_filter_keeps_only_that_project() {
        let only = compute(&records(), at(NOW), 30, Some("valor"));
        assert_eq!(only.total, valor());
        assert_eq!(only.projects.keys().collect::<Vec<_>>(), ["valor"]);

        let none = compute(&records(), at(NOW), 30, Some("nope"));
        assert_eq!(none.total, Metrics::default());
        assert!(none.projects.is_empty());
    }

    #[test]
    fn append_then_load_round_trips_and_a_torn_line_is_skipped_without_swallowing_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(load(root).unwrap(), (Vec::new(), 0));
        assert_eq!(path(root), root.join("data/fix_attempts.jsonl"));

        let all = records();
        append(root, &all[0]).unwrap();
        append(root, &all[1]).unwrap();
        // A kill in the middle of the next write.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(path(root))
            .unwrap();
        file.write_all(br#"{"time":"2026-11-20T06:10:00+01:00","project":"sh"#)
            .unwrap();
        drop(file);
        append(root, &all[2]).unwrap();

        assert_eq!(load(root).unwrap(), (all[..3].to_vec(), 1));
        let text = std::fs::read_to_string(path(root)).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn a_line_is_snake_case_json_and_optional_fields_may_be_absent() {
        let record = &records()[0];
        let text = serde_json::to_string(record).unwrap();
        assert!(text.contains(r#""outcome":"still_failing""#), "{text}");
        assert!(text.contains(r#""source":"tests""#), "{text}");
        assert!(
            text.contains(r#""time":"2026-11-20T06:10:00+01:00""#),
            "{text}"
        );

        let minimal = r#"{"time":"2026-11-20T06:10:00+01:00","project":"shop","source":"sentry",
            "run":"r","root_cause":"src/a.py:1","attempt":1,"outcome":"checks_worse",
            "duration_secs":1.5,"cost_usd":0.01}"#;
        let read: AttemptRecord = serde_json::from_str(minimal).unwrap();
        assert_eq!(
            (
                read.source,
                read.outcome,
                read.tests.len(),
                read.regression,
                read.pr
            ),
            (Source::Sentry, Outcome::ChecksWorse, 0, false, None)
        );
    }

    #[test]
    fn json_prints_the_documented_field_names() {
        let json = serde_json::to_string_pretty(&report()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let fields = [
            "avg_attempts_per_fix",
            "cost_usd",
            "fixes_attempted",
            "fixes_failed",
            "fixes_succeeded",
            "flaky_tests",
            "mean_minutes_to_fix",
            "regressions_reverted",
            "rejections",
            "success_rate",
        ];
        for metrics in [
            &value["total"],
            &value["projects"]["shop"],
            &value["projects"]["valor"],
        ] {
            let keys: Vec<&str> = metrics
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, fields);
        }
        assert_eq!(value["days"], 30);
        assert_eq!(value["since"], "2026-11-02T06:00:00+01:00");
        assert_eq!(value["total"]["rejections"]["protected path"], 1);
        assert_eq!(value["projects"]["valor"]["fixes_succeeded"], 1);
        // Sums print as amounts, not as float noise.
        assert!(json.contains("\"cost_usd\": 2.45\n"), "{json}");
        assert!(json.contains("\"cost_usd\": 1.65\n"), "{json}");
    }

    #[test]
    fn minutes_to_fix_stop_at_the_first_fixing_attempt_by_number() {
        use Outcome::{Fixed, ModelFailed, StillFailing};
        // Lines out of order, and a stray attempt after the fix (a loop resumed after a crash): only
        // attempts 1 and 2 took time to fix it.
        let fix = fix(A, RUN_A, "shop", "src/a.py:1", "t");
        let records = [
            fix.attempt(2, Fixed, 240.0, 0.1),
            fix.attempt(1, StillFailing, 120.0, 0.1),
            fix.attempt(3, ModelFailed, 6000.0, 0.1),
        ];
        let total = compute(&records, at(NOW), 30, None).total;
        assert_eq!((total.fixes_attempted, total.fixes_succeeded), (1, 1));
        assert_eq!(super::one_decimal(total.mean_minutes_to_fix), "6.0");
    }

    #[test]
    fn sums_print_as_amounts_not_float_noise() {
        // 0.1 + 0.2 is 0.30000000000000004 in floats.
        let fix = fix(A, RUN_A, "shop", "src/a.py:1", "t");
        let records = [
            fix.attempt(1, Outcome::StillFailing, 0.1, 0.1),
            fix.attempt(2, Outcome::Fixed, 0.2, 0.2),
        ];
        let json = serde_json::to_string(&compute(&records, at(NOW), 30, None).total).unwrap();
        assert!(
            json.ends_with(r#""mean_minutes_to_fix":0.005,"cost_usd":0.3}"#),
            "{json}"
        );
    }

    #[test]
    fn rejection_kinds_of_the_diff_guards_reasons() {
        let cases = [
            ("`migrations/0042.py` is a protected path", "protected path"),
            ("`config/secrets.yml` is a protected path", "protected path"),
            (
                "`lib/x.py` is outside `autofix.safe_paths` (src/**, tests/**)",
                "outside safe paths",
            ),
            ("`secret/x.py` is outside safe paths", "outside safe paths"),
            (SECRET, "secret"),
            (
                "the diff changes 21 files; a fix may change at most 20",
                "diff too large",
            ),
            (
                "the diff changes 501 lines; a fix may change at most 500",
                "diff too large",
            ),
            ("Diff Too Big", "diff too large"),
            ("the diff is empty: Claude changed nothing", "empty diff"),
            ("`l` is a symlink: fixes may not add symlinks", "other"),
            (
                "`out/passwd` goes through the symlink `out`, which may point outside the repository",
                "other",
            ),
            (
                "`a.png` is a binary file: fixes may not change binary files",
                "other",
            ),
            (
                "`empty.py` is a submodule: fixes may not change submodules",
                "other",
            ),
            // An unclosed quote does not hide the words after it.
            ("`x is a protected path", "protected path"),
            // As the fix loop words them, before and after the tests ran.
            (
                "diff rejected: `.env` is a protected path",
                "protected path",
            ),
            (
                "diff rejected: the diff is empty: Claude changed nothing",
                "empty diff",
            ),
            (
                "rejected after the tests: the tests left a new file `out/x` outside git-ignored \
                 paths (add it to `.gitignore` if it is a build or test artifact)",
                "other",
            ),
            ("", "other"),
        ];
        for (reason, kind) in cases {
            assert_eq!(rejection_kind(reason), kind, "{reason}");
        }
    }

    #[test]
    fn render_shows_a_row_per_project_the_total_and_the_rejections() {
        assert_eq!(
            render(&report()),
            "Fixing, last 30 days (since 2026-11-02 06:00 +01:00):\n\
             \n\
             project  attempted  fixed  failed  rate %  attempts/fix  regressions  flaky  min/fix  cost $\n\
             shop             3      2       1      67           2.0            1      1      3.3    1.65\n\
             valor            1      1       0     100           3.0            0      1     13.0    0.80\n\
             total            4      3       1      75           2.3            1      2      6.5    2.45\n\
             \n\
             Rejected by the diff guard:\n\
             \x20 protected path  1\n\
             \x20 secret          1\n"
        );
    }

    #[test]
    fn render_marks_figures_with_nothing_to_be_over() {
        // Valor's only fix in one loop was never fixed, and nothing was rejected.
        let failed = Fix {
            time: "2026-12-01T06:00:00+01:00",
            run: RUN_B,
            project: "valor",
            root_cause: "src/a.py:1",
            test: "t",
        }
        .attempt(1, Outcome::StillFailing, 60.0, 0.004);
        let text = render(&compute(&[failed], at(NOW), 1, None));
        assert!(
            text.contains(
                "\nvalor            1      0       1       0           1.0            0      0        -    0.00\n"
            ),
            "{text}"
        );
        assert!(text.starts_with("Fixing, last 1 day (since "), "{text}");
        assert!(
            text.ends_with("\nRejected by the diff guard: none\n"),
            "{text}"
        );
    }

    #[test]
    fn the_nightly_line() {
        assert_eq!(
            line(&report()).as_deref(),
            Some(
                "Fixing, last 30 days: 3/4 fixed (75%), 2.3 attempts per fix, 1 regression reverted, \
                 2 flaky tests, $2.45"
            )
        );
        let seven_of_nine = Report {
            days: 7,
            total: Metrics {
                fixes_attempted: 9,
                fixes_succeeded: 7,
                avg_attempts_per_fix: 1.44,
                regressions_reverted: 2,
                flaky_tests: 1,
                cost_usd: 1.835,
                ..Metrics::default()
            },
            ..Report::default()
        };
        assert_eq!(
            line(&seven_of_nine).as_deref(),
            Some(
                "Fixing, last 7 days: 7/9 fixed (78%), 1.4 attempts per fix, 2 regressions reverted, \
                 1 flaky test, $1.84"
            )
        );
    }

    #[test]
    fn nothing_attempted_is_said_plainly() {
        let empty = compute(&records(), at(NOW), 30, Some("nope"));
        assert_eq!(line(&empty), None);
        assert_eq!(render(&empty), "no fix attempts in the last 30 days\n");

        // Only flaky and skipped records: still no attempt, but the flaky test is not hidden.
        let unattempted: Vec<AttemptRecord> = records()
            .into_iter()
            .filter(|r| r.project == "valor" && r.attempt == 0)
            .collect();
        let report = compute(&unattempted, at(NOW), 30, None);
        assert_eq!(line(&report), None);
        assert_eq!(
            render(&report),
            "no fix attempts in the last 30 days (1 flaky test not attempted)\n"
        );
    }
}
