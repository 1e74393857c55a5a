//! The `sentry` step: a project's unresolved Sentry issues seen in the last 24 hours, ranked P0/P1/P2 by severity
//! and frequency, the latest event's in-app stack frames of the P0/P1 ones mapped to files of the project, and an
//! error-storm guard that hands an infrastructure-looking flood to a human instead of to auto-fix.
//!
//! Configured by `"sentry": {"org": ..., "project": ...}` in `projects.json` and `SENTRY_AUTH_TOKEN` (base URL
//! `SENTRY_BASE_URL`, default `https://sentry.io`; an org's region host such as `https://us.sentry.io` works too).
//! Knobs: `DAYDREAM_SENTRY_STORM_PER_HOUR`, `DAYDREAM_SENTRY_P0_USERS`, `DAYDREAM_SENTRY_P0_RISE`, and for tests
//! `DAYDREAM_SENTRY_BACKOFF_MS` and `DAYDREAM_SENTRY_MAX_WAIT_MS`.
//!
//! Every request has a timeout; a 429 waits until `X-Sentry-Rate-Limit-Reset` (capped) and a 5xx or a transport
//! error backs off, both a bounded number of times; SIGINT/SIGTERM end any wait. The token goes only to the
//! configured host, in the `Authorization` header: next pages are requested by their cursor on that host, never
//! by following the URL of a `Link` header, and no error text quotes a URL or the token. Titles and culprits are
//! untrusted text: redacted and clipped when read, escaped when rendered.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as _;
use std::fmt::{self, Write as _};
use std::io::Read as _;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url, header};
use serde::{Deserialize, Serialize};

use crate::cancel::{Cancel, Interrupted};
use crate::env::Env;
use crate::redact::redact;
use crate::step::{Outcome, Output, Step, UnitCx};

const DEFAULT_BASE: &str = "https://sentry.io";
/// A project with more events than this in one hour is in an error storm (`DAYDREAM_SENTRY_STORM_PER_HOUR`).
const DEFAULT_STORM_PER_HOUR: u64 = 100;
/// An error seen by this many users is P0 (`DAYDREAM_SENTRY_P0_USERS`).
const DEFAULT_P0_USERS: u64 = 50;
/// An error whose hourly rate over the last [`RISE_RECENT_HOURS`] is this many times its rate over the hours
/// before is rising fast, so P0 (`DAYDREAM_SENTRY_P0_RISE`).
const DEFAULT_P0_RISE: f64 = 3.0;
const RISE_RECENT_HOURS: usize = 6;
/// Rising also needs this many events in the recent hours: 0 then 2 events is noise, not a rise.
const RISE_MIN_EVENTS: u64 = 12;
/// The first wait after a 5xx or a transport error, doubled each time (`DAYDREAM_SENTRY_BACKOFF_MS`).
const DEFAULT_BACKOFF_MS: u64 = 1000;
/// The longest wait a 429 gets (`DAYDREAM_SENTRY_MAX_WAIT_MS`).
const DEFAULT_MAX_WAIT_MS: u64 = 60_000;
/// Retries of one request after a 5xx or a transport error, and after a 429.
const SERVER_RETRIES: u32 = 3;
const RATE_LIMIT_RETRIES: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Pages of issues read (100 issues each on sentry.io); more is a warning.
const MAX_PAGES: usize = 20;
/// A larger answer is cut here and fails to parse rather than filling memory.
const MAX_BODY: u64 = 32 << 20;
/// Ranked issues kept in the data; the totals count them all.
const ISSUES_KEPT: usize = 50;
/// P0/P1 issues whose latest event is fetched for its frames, in rank order.
const FRAME_ISSUES: usize = 10;
/// In-app frames kept per issue, innermost first.
const FRAMES_KEPT: usize = 8;
const TABLE_ROWS: usize = 20;
const FRAMES_SHOWN_ISSUES: usize = 5;
const P0_ACTIONS: usize = 5;
const DIGEST_ISSUES: usize = 10;
const TEXT_MAX_CHARS: usize = 200;
const BODY_QUOTE_CHARS: usize = 300;

pub(crate) struct Sentry;

impl Step for Sentry {
    fn name(&self) -> &'static str {
        "sentry"
    }

    fn title(&self) -> &'static str {
        "Sentry"
    }

    /// Production errors come first in Action Required.
    fn action_rank(&self) -> u8 {
        0
    }

    /// The P0/P1 issues with their frames (and the storm, if any), for reflection and auto-fix.
    fn digest(&self, output: &Output) -> Option<String> {
        let data = serde_json::from_value::<SentryData>(output.data.clone()).ok()?;
        let urgent: Vec<&IssueRow> = data
            .issues
            .iter()
            .filter(|i| i.severity <= Severity::P1)
            .take(DIGEST_ISSUES)
            .collect();
        if urgent.is_empty() && data.storm.is_none() && output.warnings.is_empty() {
            return None;
        }
        let mut out = output.summary.clone();
        if let Some(storm) = &data.storm {
            let _ = write!(
                out,
                "\nerror storm: {} events in the hour from {} UTC (threshold {}/hour): likely infrastructure, \
                 needs a human; the {} issue(s) marked storm are not for auto-fix",
                storm.events,
                storm.hour.format("%Y-%m-%d %H:%M"),
                data.rules.storm_per_hour,
                storm.issues
            );
        }
        for issue in urgent {
            let _ = write!(
                out,
                "\n- {} ({}) {} `{}` in `{}`: {} events in 24 h (peak {}/h), {} events in all, {} users, {}{}; {}",
                issue.severity,
                issue.reason,
                issue.level,
                issue.title,
                issue.culprit,
                issue.events_24h,
                issue.per_hour.iter().max().copied().unwrap_or_default(),
                issue.events,
                issue.users,
                if issue.new { "new today" } else { "recurring" },
                if issue.not_for_autofix {
                    ", storm: not for auto-fix"
                } else {
                    ""
                },
                issue.permalink.as_deref().unwrap_or("no link")
            );
            for frame in &issue.frames {
                let _ = write!(out, "\n    at {}", frame.location());
                if let Some(function) = &frame.function {
                    let _ = write!(out, " in {function}");
                }
                if frame.missing {
                    out.push_str(" (file not in the working directory)");
                }
            }
        }
        for warning in output.warnings.iter().take(5) {
            out.push_str("\nwarning: ");
            out.push_str(warning);
        }
        Some(out)
    }

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome> {
        let project = cx.project();
        let Some(sentry) = &project.sentry else {
            return Ok(Outcome::Skipped(
                "no `sentry` entry in `projects.json`".to_owned(),
            ));
        };
        let env = &cx.run.env;
        let Some(token) = env
            .get("SENTRY_AUTH_TOKEN")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Ok(Outcome::Skipped(
                "`SENTRY_AUTH_TOKEN` is not set: create a Sentry auth token with `event:read` and put it in `.env`"
                    .to_owned(),
            ));
        };
        let slug = format!("{}/{}", sentry.org, sentry.project);
        let mut warnings = Vec::new();
        let rules = Rules::from_env(env, &mut warnings);
        let api = Api::new(env, token, &cx.run.cancel, &mut warnings)?;

        let (issues, more) = api
            .issues(&sentry.org, &sentry.project)
            .map_err(|err| err.into_anyhow(&slug))
            .with_context(|| format!("failed to list the unresolved issues of `{slug}`"))?;
        if more {
            warnings.push(format!(
                "read the first {MAX_PAGES} pages of issues only; the rest are not in this report"
            ));
        }
        let now = cx.run.clock.now().to_utc();
        let mut data = rank(&slug, issues, &rules, now);
        if data.issues.iter().all(|i| i.per_hour.is_empty()) && !data.issues.is_empty() {
            warnings.push(
                "Sentry sent no hourly stats: the storm guard and the rising rule could not apply"
                    .to_owned(),
            );
        }

        // The latest event's in-app frames of the top P0/P1 issues. A failure here costs those frames, not the
        // unit; a server that keeps failing stops the rest, so a Sentry outage does not cost a minute per issue.
        let urgent: Vec<usize> = (0..data.issues.len())
            .filter(|&i| data.issues[i].severity <= Severity::P1)
            .take(FRAME_ISSUES)
            .collect();
        for (n, &i) in urgent.iter().enumerate() {
            cx.check_cancel()?;
            let id = data.issues[i].id.clone();
            match api.latest_frames(&sentry.org, &id, &project.dir) {
                Ok(frames) => data.issues[i].frames = frames,
                Err(ApiError::Interrupted(signal)) => return Err(signal.into()),
                Err(ApiError::NotFound) => warnings.push(format!(
                    "no frames for issue {id}: Sentry has no latest event for it (404 Not Found)"
                )),
                Err(err @ ApiError::Denied(_)) => warnings.push(format!(
                    "no frames for issue {id}: the latest event could not be read: {}",
                    err.message(&slug)
                )),
                Err(ApiError::Failed(err)) => {
                    warnings.push(format!(
                        "no frames for issue {id}: failed to read its latest event: {err}"
                    ));
                    let left = urgent.len() - n - 1;
                    if left > 0 {
                        warnings.push(format!(
                            "no frames for {left} more P0/P1 issue(s): Sentry kept failing"
                        ));
                    }
                    break;
                }
            }
        }
        Ok(Outcome::Done(output(&data, warnings)))
    }

    fn render(&self, output: &Output, out: &mut String) {
        match serde_json::from_value::<SentryData>(output.data.clone()) {
            Ok(data) => render(&data, out),
            Err(err) => {
                let _ = writeln!(out, "_The Sentry findings could not be read: {err}._");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Findings

/// What the step stores in the state: the ranked issues and the totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SentryData {
    /// `org/project` in Sentry.
    pub(crate) project: String,
    /// The rule the severities and the storm guard used.
    pub(crate) rules: Rules,
    /// Unresolved issues seen in the last 24 hours, and how many of them are P0, P1 and P2.
    pub(crate) total: usize,
    pub(crate) p0: usize,
    pub(crate) p1: usize,
    pub(crate) p2: usize,
    /// Events of all those issues in the last 24 hours.
    pub(crate) events_24h: u64,
    /// The project's busiest hour (all issues together).
    pub(crate) peak_per_hour: u64,
    pub(crate) storm: Option<Storm>,
    /// The issues, most severe first, then most events, then most users; at most [`ISSUES_KEPT`].
    pub(crate) issues: Vec<IssueRow>,
}

/// More than [`Rules::storm_per_hour`] events in an hour, all issues of the project together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Storm {
    /// The start of the busiest such hour, and its events.
    pub(crate) hour: DateTime<Utc>,
    pub(crate) events: u64,
    /// Hours over the threshold.
    pub(crate) hours: usize,
    /// Issues with events in those hours (all marked not for auto-fix).
    pub(crate) issues: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum Severity {
    P0,
    P1,
    P2,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::P0 => "P0",
            Severity::P1 => "P1",
            Severity::P2 => "P2",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct IssueRow {
    pub(crate) id: String,
    pub(crate) short_id: Option<String>,
    pub(crate) title: String,
    pub(crate) culprit: String,
    pub(crate) level: String,
    pub(crate) severity: Severity,
    /// Why it has that severity: `fatal`, `80 users`, `rising: ...`, `error`, `warning`.
    pub(crate) reason: String,
    /// Sentry's `count` (sent as a string): every event of the issue Sentry still holds.
    pub(crate) events: u64,
    /// Events in the last 24 hours (the sum of the hourly stats).
    pub(crate) events_24h: u64,
    pub(crate) users: u64,
    pub(crate) first_seen: Option<DateTime<Utc>>,
    pub(crate) last_seen: Option<DateTime<Utc>>,
    pub(crate) permalink: Option<String>,
    /// First seen in the last 24 hours; otherwise recurring.
    pub(crate) new: bool,
    /// Events per hour over the last 24 hours, oldest hour first.
    pub(crate) per_hour: Vec<u64>,
    /// Had events in an hour of an error storm.
    pub(crate) storm: bool,
    /// Auto-fix must leave it to a human (it is part of an error storm).
    pub(crate) not_for_autofix: bool,
    /// In-app frames of the latest event, innermost first (P0/P1 issues only).
    pub(crate) frames: Vec<Frame>,
}

/// One in-app stack frame, as a file of the project's working directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Frame {
    /// Relative to the project's directory, `/`-separated.
    pub(crate) path: String,
    pub(crate) line: Option<u32>,
    pub(crate) function: Option<String>,
    /// No such file in the working directory (another version, generated code, or a path we cannot map).
    pub(crate) missing: bool,
}

impl Frame {
    /// `path:line`.
    pub(crate) fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.path),
            None => self.path.clone(),
        }
    }
}

/// The severity rule and the storm threshold, from the environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Rules {
    pub(crate) storm_per_hour: u64,
    pub(crate) p0_users: u64,
    pub(crate) p0_rise: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            storm_per_hour: DEFAULT_STORM_PER_HOUR,
            p0_users: DEFAULT_P0_USERS,
            p0_rise: DEFAULT_P0_RISE,
        }
    }
}

impl Rules {
    /// A value that does not parse is a warning and the default applies: a typo must not cost the day's errors.
    fn from_env(env: &Env, warnings: &mut Vec<String>) -> Rules {
        let mut knob = |name: &str, default: u64| {
            env.parse_or(name, default).unwrap_or_else(|err| {
                warnings.push(format!("{err}; using {default}"));
                default
            })
        };
        let storm_per_hour = knob("DAYDREAM_SENTRY_STORM_PER_HOUR", DEFAULT_STORM_PER_HOUR);
        let p0_users = knob("DAYDREAM_SENTRY_P0_USERS", DEFAULT_P0_USERS);
        let p0_rise = match env.parse_or("DAYDREAM_SENTRY_P0_RISE", DEFAULT_P0_RISE) {
            Ok(rise) if rise.is_finite() && rise >= 1.0 => rise,
            Ok(rise) => {
                warnings.push(format!(
                    "`DAYDREAM_SENTRY_P0_RISE={rise}` must be a number of at least 1; using {DEFAULT_P0_RISE}"
                ));
                DEFAULT_P0_RISE
            }
            Err(err) => {
                warnings.push(format!("{err}; using {DEFAULT_P0_RISE}"));
                DEFAULT_P0_RISE
            }
        };
        Rules {
            storm_per_hour,
            p0_users,
            p0_rise,
        }
    }

    /// The rule as one sentence, for the report.
    fn text(&self) -> String {
        format!(
            "P0: fatal, or errors seen by {}+ users or rising {}× (the last {RISE_RECENT_HOURS} hours against the \
             hours before, {RISE_MIN_EVENTS}+ events); P1: other errors; P2: warnings and the rest. Error storm: more \
             than {} events in an hour.",
            self.p0_users, self.p0_rise, self.storm_per_hour
        )
    }
}

/// The severity of an issue and why.
fn classify(level: &str, users: u64, per_hour: &[u64], rules: &Rules) -> (Severity, String) {
    match level {
        "fatal" | "critical" => (Severity::P0, level.to_owned()),
        "error" if users >= rules.p0_users => (Severity::P0, format!("{users} users")),
        "error" => match rising(per_hour, rules.p0_rise) {
            Some(why) => (Severity::P0, why),
            None => (Severity::P1, "error".to_owned()),
        },
        other => (Severity::P2, other.to_owned()),
    }
}

/// `Some(why)` when the last [`RISE_RECENT_HOURS`] have at least [`RISE_MIN_EVENTS`] events and `factor` times the
/// hourly rate of the hours before.
#[expect(
    clippy::cast_precision_loss,
    reason = "event counts far below 2^52; a rate"
)]
fn rising(per_hour: &[u64], factor: f64) -> Option<String> {
    if per_hour.len() <= RISE_RECENT_HOURS {
        return None;
    }
    let (earlier, recent) = per_hour.split_at(per_hour.len() - RISE_RECENT_HOURS);
    let recent_sum: u64 = recent.iter().sum();
    if recent_sum < RISE_MIN_EVENTS {
        return None;
    }
    let recent_rate = recent_sum as f64 / RISE_RECENT_HOURS as f64;
    let earlier_rate = earlier.iter().sum::<u64>() as f64 / earlier.len() as f64;
    (recent_rate >= factor * earlier_rate).then(|| {
        format!(
            "rising: {recent_rate:.1}/h in the last {RISE_RECENT_HOURS} h against {earlier_rate:.1}/h before"
        )
    })
}

/// The issues as ranked rows with the storm guard applied; drops issues not seen in the 24 hours before `now` and
/// repeats (a list that shifts between pages sends an issue twice).
fn rank(slug: &str, issues: Vec<ApiIssue>, rules: &Rules, now: DateTime<Utc>) -> SentryData {
    let since = now - chrono::Duration::hours(24);
    let mut seen = BTreeSet::new();
    let mut rows = Vec::new();
    // Hourly events of the whole project, by the start of the hour.
    let mut hours: BTreeMap<i64, u64> = BTreeMap::new();
    let mut buckets_of = Vec::new();
    for issue in issues {
        let id = issue.id.text();
        if !seen.insert(id.clone()) {
            continue;
        }
        let last_seen = parse_time(issue.last_seen.as_deref());
        if last_seen.is_some_and(|t| t < since) {
            continue;
        }
        let first_seen = parse_time(issue.first_seen.as_deref());
        let mut buckets = issue.stats.map(|s| s.day).unwrap_or_default();
        buckets.sort_by_key(|(ts, _)| *ts);
        for (ts, n) in &buckets {
            *hours.entry(*ts).or_default() += n;
        }
        let per_hour: Vec<u64> = buckets.iter().map(|(_, n)| *n).collect();
        let events = issue.count.number();
        let events_24h = if buckets.is_empty() {
            events
        } else {
            per_hour.iter().sum()
        };
        let level = issue
            .level
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .unwrap_or("error")
            .to_ascii_lowercase();
        let users = issue.user_count.number();
        let (severity, reason) = classify(&level, users, &per_hour, rules);
        rows.push(IssueRow {
            id,
            short_id: issue.short_id.map(|s| clip(&s)),
            title: clip(&redact(&issue.title)),
            culprit: clip(&redact(issue.culprit.as_deref().unwrap_or_default())),
            level: clip(&level),
            severity,
            reason,
            events,
            events_24h,
            users,
            new: first_seen.is_some_and(|t| t >= since),
            first_seen,
            last_seen,
            permalink: issue.permalink.filter(|p| is_web_url(p)),
            per_hour,
            storm: false,
            not_for_autofix: false,
            frames: Vec::new(),
        });
        buckets_of.push(buckets);
    }

    let storm_hours: BTreeSet<i64> = hours
        .iter()
        .filter(|&(_, &n)| n > rules.storm_per_hour)
        .map(|(&ts, _)| ts)
        .collect();
    for (row, buckets) in rows.iter_mut().zip(&buckets_of) {
        row.storm = buckets
            .iter()
            .any(|(ts, n)| *n > 0 && storm_hours.contains(ts));
        row.not_for_autofix = row.storm;
    }
    let storm = hours
        .iter()
        .filter(|(ts, _)| storm_hours.contains(ts))
        .max_by_key(|&(&ts, &n)| (n, std::cmp::Reverse(ts)))
        .map(|(&ts, &n)| Storm {
            hour: DateTime::from_timestamp(ts, 0).unwrap_or_default(),
            events: n,
            hours: storm_hours.len(),
            issues: rows.iter().filter(|r| r.storm).count(),
        });

    rows.sort_by(|a, b| {
        (
            a.severity,
            std::cmp::Reverse(a.events_24h),
            std::cmp::Reverse(a.users),
            &a.id,
        )
            .cmp(&(
                b.severity,
                std::cmp::Reverse(b.events_24h),
                std::cmp::Reverse(b.users),
                &b.id,
            ))
    });
    let count = |s: Severity| rows.iter().filter(|r| r.severity == s).count();
    let mut data = SentryData {
        project: slug.to_owned(),
        rules: rules.clone(),
        total: rows.len(),
        p0: count(Severity::P0),
        p1: count(Severity::P1),
        p2: count(Severity::P2),
        events_24h: rows.iter().map(|r| r.events_24h).sum(),
        peak_per_hour: hours.values().copied().max().unwrap_or_default(),
        storm,
        issues: rows,
    };
    data.issues.truncate(ISSUES_KEPT);
    data
}

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?.trim())
        .ok()
        .map(|t| t.to_utc())
}

fn is_web_url(text: &str) -> bool {
    Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// One line of at most [`TEXT_MAX_CHARS`] characters.
fn clip(text: &str) -> String {
    let text = text.trim().replace(['\n', '\r'], " ");
    if text.chars().count() <= TEXT_MAX_CHARS {
        return text;
    }
    let mut clipped: String = text.chars().take(TEXT_MAX_CHARS - 1).collect();
    clipped.push('…');
    clipped
}

fn output(data: &SentryData, warnings: Vec<String>) -> Output {
    let summary = if data.total == 0 {
        "no unresolved issues seen in the last 24 hours".to_owned()
    } else {
        let mut s = format!(
            "{} unresolved issue(s) in the last 24 hours: {} P0, {} P1, {} P2; {} events",
            data.total,
            data.p0,
            data.p1,
            data.p2,
            thousands(data.events_24h)
        );
        if let Some(storm) = &data.storm {
            let _ = write!(s, "; error storm ({}/hour)", thousands(storm.events));
        }
        s
    };
    let mut actions = Vec::new();
    if let Some(storm) = &data.storm {
        actions.push(format!(
            "error storm: likely infrastructure, needs a human: Sentry `{}` had {} events in the hour from {} UTC \
             (more than {} per hour); its {} issue(s) in those hours are not for auto-fix",
            data.project,
            thousands(storm.events),
            storm.hour.format("%Y-%m-%d %H:%M"),
            data.rules.storm_per_hour,
            storm.issues
        ));
    }
    let p0: Vec<&IssueRow> = data
        .issues
        .iter()
        .filter(|i| i.severity == Severity::P0)
        .collect();
    for issue in p0.iter().take(P0_ACTIONS) {
        let mut action = format!(
            "P0 in Sentry `{}`: {} ({}): {} events in 24 h, {} users, {}",
            data.project,
            link(&issue.title, issue.permalink.as_deref()),
            issue.reason,
            thousands(issue.events_24h),
            thousands(issue.users),
            if issue.new { "new today" } else { "recurring" }
        );
        if let Some(frame) = issue.frames.first() {
            let _ = write!(action, "; at {}", code(&frame.location()));
        }
        if issue.not_for_autofix {
            action.push_str("; part of the error storm, not for auto-fix");
        }
        actions.push(action);
    }
    if data.p0 > P0_ACTIONS {
        actions.push(format!(
            "{} more P0 issue(s) in Sentry `{}`: see the Sentry section",
            data.p0 - P0_ACTIONS,
            data.project
        ));
    }
    Output {
        summary,
        data: serde_json::to_value(data).unwrap_or_default(),
        actions,
        warnings,
    }
}

fn render(data: &SentryData, out: &mut String) {
    if data.total == 0 {
        let _ = writeln!(
            out,
            "No unresolved issues seen in the last 24 hours in `{}`.",
            data.project
        );
        return;
    }
    let _ = writeln!(
        out,
        "**{} unresolved issue(s)** seen in the last 24 hours in `{}`: {} P0, {} P1, {} P2; {} events, {} in the \
         busiest hour.\n",
        data.total,
        data.project,
        data.p0,
        data.p1,
        data.p2,
        thousands(data.events_24h),
        thousands(data.peak_per_hour)
    );
    if let Some(storm) = &data.storm {
        let _ = writeln!(
            out,
            "> **Error storm:** {} events in the hour from {} UTC (more than {} per hour, {} hour(s) over): likely \
             infrastructure, needs a human. The issues marked _storm_ are not for auto-fix.\n",
            thousands(storm.events),
            storm.hour.format("%Y-%m-%d %H:%M"),
            data.rules.storm_per_hour,
            storm.hours
        );
    }
    out.push_str("| Severity | Events 24 h / all | Users | New | Issue | Culprit |\n|---|---:|---:|---|---|---|\n");
    for issue in data.issues.iter().take(TABLE_ROWS) {
        let severity = if issue.storm {
            format!("**{}** storm", issue.severity)
        } else {
            format!("**{}**", issue.severity)
        };
        let culprit = if issue.culprit.is_empty() {
            String::new()
        } else {
            cell(&code(&issue.culprit))
        };
        let _ = writeln!(
            out,
            "| {severity} | {} / {} | {} | {} | {} | {culprit} |",
            thousands(issue.events_24h),
            thousands(issue.events),
            thousands(issue.users),
            if issue.new { "new" } else { "" },
            cell(&link(&issue.title, issue.permalink.as_deref())),
        );
    }
    if data.total > TABLE_ROWS {
        let _ = writeln!(out, "\nand {} more issue(s).", data.total - TABLE_ROWS);
    }
    let with_frames: Vec<&IssueRow> = data
        .issues
        .iter()
        .filter(|i| i.severity <= Severity::P1 && !i.frames.is_empty())
        .take(FRAMES_SHOWN_ISSUES)
        .collect();
    if !with_frames.is_empty() {
        out.push_str(
            "\nWhere the top P0/P1 issues happen (latest event, in-app frames, innermost first):\n",
        );
        for issue in with_frames {
            let _ = writeln!(
                out,
                "- **{}** {}",
                issue.severity,
                link(&issue.title, issue.permalink.as_deref())
            );
            for frame in &issue.frames {
                let _ = write!(out, "  - {}", code(&frame.location()));
                if let Some(function) = &frame.function {
                    let _ = write!(out, " in {}", code(function));
                }
                if frame.missing {
                    out.push_str(" _(not in the working directory)_");
                }
                out.push('\n');
            }
        }
    }
    let _ = writeln!(out, "\n_{}_", data.rules.text());
}

/// `[text](url)` with the text escaped, or the escaped text alone without a usable URL.
fn link(text: &str, url: Option<&str>) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '[' | ']' | '`' | '*' | '_' | '<' | '>' | '#' | '!'
        ) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    match url {
        Some(url) => format!(
            "[{escaped}]({})",
            url.replace(' ', "%20")
                .replace('(', "%28")
                .replace(')', "%29")
        ),
        None => escaped,
    }
}

/// A code span that holds any text, backticks included.
fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if longest == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

/// Text for a table cell.
fn cell(text: &str) -> String {
    crate::report::cell(text)
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Frames

/// The latest event's in-app frames, innermost first, each mapped to a file under `dir`.
fn frames_of(event: &ApiEvent, dir: &Path) -> Vec<Frame> {
    let mut stacks: Vec<Vec<ApiFrame>> = Vec::new();
    for entry in &event.entries {
        match entry.kind.as_str() {
            // Chained exceptions come oldest first; the one raised last is where the event ended.
            "exception" => {
                let values = entry
                    .data
                    .get("values")
                    .and_then(|v| v.as_array())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for value in values.iter().rev() {
                    stacks.push(frames_at(value.get("stacktrace")));
                }
            }
            "stacktrace" => stacks.push(frames_at(Some(&entry.data))),
            _ => {}
        }
    }
    let mut frames: Vec<Frame> = Vec::new();
    // Frames come outermost first: the last is where it happened.
    for frame in stacks.iter().flat_map(|s| s.iter().rev()) {
        if frames.len() == FRAMES_KEPT {
            break;
        }
        if frame.in_app != Some(true) {
            continue;
        }
        let Some((path, missing)) =
            map_file(dir, frame.filename.as_deref(), frame.abs_path.as_deref())
        else {
            continue;
        };
        let mapped = Frame {
            path,
            line: frame.line_no,
            function: frame
                .function
                .as_deref()
                .map(clip)
                .filter(|f| !f.is_empty()),
            missing,
        };
        if !frames
            .iter()
            .any(|f| f.path == mapped.path && f.line == mapped.line)
        {
            frames.push(mapped);
        }
    }
    frames
}

fn frames_at(stacktrace: Option<&serde_json::Value>) -> Vec<ApiFrame> {
    stacktrace
        .and_then(|s| s.get("frames"))
        .and_then(|f| serde_json::from_value::<Vec<Option<ApiFrame>>>(f.clone()).ok())
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// The file a frame points to, relative to `dir`, and whether it is missing there. Tries the frame's `filename`
/// then its `absPath`, each as written and then without leading folders (a deploy path such as `/srv/app/`, a
/// URL's host, `webpack:///./`), longest first; no candidate leaves `dir`. Without a match, the cleaned
/// `filename` (or `absPath`) is shown as missing.
fn map_file(dir: &Path, filename: Option<&str>, abs_path: Option<&str>) -> Option<(String, bool)> {
    let candidates: Vec<Vec<String>> = [filename, abs_path]
        .into_iter()
        .flatten()
        .map(components)
        .filter(|c| !c.is_empty())
        .collect();
    for parts in &candidates {
        for start in 0..parts.len() {
            let rel = parts[start..].join("/");
            if dir.join(&rel).is_file() {
                return Some((rel, false));
            }
        }
    }
    candidates.first().map(|parts| (parts.join("/"), true))
}

/// The path components of a frame's file name or URL: no scheme or host, no `.`, `..`, drive or empty parts.
fn components(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    let path = match raw.split_once("://") {
        Some((scheme, rest)) => {
            let rest = rest.split(['?', '#']).next().unwrap_or_default();
            if matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
                rest.split_once('/').map_or("", |(_, path)| path)
            } else {
                rest
            }
        }
        None => raw,
    };
    path.split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != "." && *p != ".." && *p != "~" && !p.ends_with(':'))
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// The Sentry API

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiIssue {
    id: Text,
    #[serde(default)]
    short_id: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    culprit: Option<String>,
    #[serde(default)]
    level: Option<String>,
    /// A string in Sentry's answers (`"1234"`).
    #[serde(default)]
    count: Text,
    #[serde(default)]
    user_count: Text,
    #[serde(default)]
    first_seen: Option<String>,
    #[serde(default)]
    last_seen: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
    #[serde(default)]
    stats: Option<Stats>,
}

#[derive(Deserialize)]
struct Stats {
    /// `[[unix seconds of the hour, events], ...]`.
    #[serde(rename = "24h", default)]
    day: Vec<(i64, u64)>,
}

/// A value Sentry sends as a string or a number.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Text {
    Str(String),
    Num(u64),
    #[default]
    Missing,
}

impl Text {
    fn text(&self) -> String {
        match self {
            Text::Str(s) => s.clone(),
            Text::Num(n) => n.to_string(),
            Text::Missing => String::new(),
        }
    }

    fn number(&self) -> u64 {
        match self {
            Text::Str(s) => s.trim().parse().unwrap_or_default(),
            Text::Num(n) => *n,
            Text::Missing => 0,
        }
    }
}

#[derive(Deserialize, Default)]
struct ApiEvent {
    #[serde(default)]
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiFrame {
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    abs_path: Option<String>,
    #[serde(default)]
    line_no: Option<u32>,
    #[serde(default)]
    in_app: Option<bool>,
    #[serde(default)]
    function: Option<String>,
}

/// Why a request came to nothing.
#[derive(Debug)]
enum ApiError {
    Interrupted(Interrupted),
    /// 401 or 403: the token is wrong or lacks a scope or the project.
    Denied(StatusCode),
    NotFound,
    /// Everything else, retries spent: one line, no URL, no token.
    Failed(String),
}

impl ApiError {
    fn message(&self, slug: &str) -> String {
        match self {
            ApiError::Interrupted(i) => i.to_string(),
            ApiError::Denied(status) => format!(
                "Sentry answered {}: the token in `SENTRY_AUTH_TOKEN` lacks `event:read` or access to project \
                 `{slug}`{} (fix: give the token the `event:read` scope and a team with access to `{slug}`, or set \
                 `SENTRY_BASE_URL` to the organization's region such as `https://us.sentry.io`)",
                status_text(*status),
                if *status == StatusCode::UNAUTHORIZED {
                    ", or is invalid or expired"
                } else {
                    ""
                }
            ),
            ApiError::NotFound => format!(
                "Sentry answered 404 Not Found: check `org` and `project` of `{slug}` in `projects.json` and \
                 `SENTRY_BASE_URL`"
            ),
            ApiError::Failed(err) => err.clone(),
        }
    }

    /// An error for the runner: an interruption stays an [`Interrupted`] in the chain.
    fn into_anyhow(self, slug: &str) -> anyhow::Error {
        match self {
            ApiError::Interrupted(i) => i.into(),
            other => anyhow::anyhow!(other.message(slug)),
        }
    }
}

/// One successful answer.
struct Reply {
    body: String,
    /// The cursor of the next page, when the `Link` header says there are more results.
    next: Option<String>,
}

struct Api<'a> {
    client: Client,
    base: Url,
    token: String,
    cancel: &'a Cancel,
    backoff: Duration,
    max_wait: Duration,
}

impl<'a> Api<'a> {
    fn new(
        env: &Env,
        token: &str,
        cancel: &'a Cancel,
        warnings: &mut Vec<String>,
    ) -> Result<Api<'a>> {
        let raw = env.get("SENTRY_BASE_URL").unwrap_or(DEFAULT_BASE).trim();
        let base = Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .with_context(|| {
                format!("failed to read `SENTRY_BASE_URL={raw}`: expected a URL such as `https://sentry.io`")
            })?;
        let mut millis = |name: &str, default: u64| {
            env.parse_or(name, default).unwrap_or_else(|err| {
                warnings.push(format!("{err}; using {default}"));
                default
            })
        };
        let backoff =
            Duration::from_millis(millis("DAYDREAM_SENTRY_BACKOFF_MS", DEFAULT_BACKOFF_MS));
        let max_wait =
            Duration::from_millis(millis("DAYDREAM_SENTRY_MAX_WAIT_MS", DEFAULT_MAX_WAIT_MS));
        let client = Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("daydream/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| {
                anyhow::anyhow!("failed to set up the HTTP client: {}", describe(err))
            })?;
        Ok(Api {
            client,
            base,
            token: token.to_owned(),
            cancel,
            backoff,
            max_wait,
        })
    }

    /// `base` + `/api/0/<segments>/` + `query`, each segment percent-encoded.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["api", "0"])
                .extend(segments)
                .push("");
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// The unresolved issues seen in the last 24 hours, every page up to [`MAX_PAGES`]; `true` when more remain.
    fn issues(&self, org: &str, project: &str) -> Result<(Vec<ApiIssue>, bool), ApiError> {
        let mut issues = Vec::new();
        let mut cursor: Option<String> = None;
        let mut cursors = BTreeSet::new();
        for page in 1..=MAX_PAGES {
            let mut query = vec![
                ("query", "is:unresolved lastSeen:-24h"),
                ("statsPeriod", "24h"),
            ];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let url = self.url(&["projects", org, project, "issues"], &query);
            let reply = self.get(&url).map_err(|err| match err {
                ApiError::Failed(e) if page > 1 => ApiError::Failed(format!("page {page}: {e}")),
                other => other,
            })?;
            let list: Vec<ApiIssue> = serde_json::from_str(&reply.body).map_err(|err| {
                ApiError::Failed(format!(
                    "Sentry's answer is not a list of issues ({err}): {}",
                    quote(&reply.body)
                ))
            })?;
            issues.extend(list);
            match reply.next {
                // A cursor seen before would loop forever.
                Some(next) if cursors.insert(next.clone()) => cursor = Some(next),
                _ => return Ok((issues, false)),
            }
        }
        Ok((issues, true))
    }

    /// The in-app frames of issue `id`'s latest event, mapped to files under `dir`.
    fn latest_frames(&self, org: &str, id: &str, dir: &Path) -> Result<Vec<Frame>, ApiError> {
        let url = self.url(
            &["organizations", org, "issues", id, "events", "latest"],
            &[],
        );
        let reply = match self.get(&url) {
            // Older self-hosted Sentry has only the route without the organization.
            Err(ApiError::NotFound) => {
                self.get(&self.url(&["issues", id, "events", "latest"], &[]))?
            }
            other => other?,
        };
        let event: ApiEvent = serde_json::from_str(&reply.body).map_err(|err| {
            ApiError::Failed(format!(
                "Sentry's answer is not an event ({err}): {}",
                quote(&reply.body)
            ))
        })?;
        Ok(frames_of(&event, dir))
    }

    /// One GET with the token: a 429 waits as told and retries, a 5xx or a transport error backs off and retries,
    /// each a bounded number of times.
    fn get(&self, url: &Url) -> Result<Reply, ApiError> {
        let mut failures = 0;
        let mut limited = 0;
        loop {
            self.cancel.check().map_err(ApiError::Interrupted)?;
            let sent = self
                .client
                .get(url.clone())
                .bearer_auth(&self.token)
                .header(header::ACCEPT, "application/json")
                .send();
            // What failed, when it is worth another try after a backoff.
            let err = match sent {
                Ok(response) if response.status().is_success() => {
                    let next = response
                        .headers()
                        .get_all(header::LINK)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .find_map(next_cursor);
                    let body = read_body(response)?;
                    return Ok(Reply { body, next });
                }
                Ok(response) => {
                    let status = response.status();
                    match status {
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                            return Err(ApiError::Denied(status));
                        }
                        StatusCode::NOT_FOUND => return Err(ApiError::NotFound),
                        StatusCode::TOO_MANY_REQUESTS => {
                            limited += 1;
                            let wait = self.rate_limit_wait(response.headers());
                            if limited > RATE_LIMIT_RETRIES {
                                return Err(ApiError::Failed(format!(
                                    "Sentry answered 429 Too Many Requests {limited} times in a row"
                                )));
                            }
                            tracing::info!(
                                "sentry rate limit; retrying in {} ms",
                                wait.as_millis()
                            );
                            self.sleep(wait)?;
                            continue;
                        }
                        _ => {}
                    }
                    let body = read_body(response).unwrap_or_default();
                    let err = format!("Sentry answered {}: {}", status_text(status), quote(&body));
                    if !status.is_server_error() {
                        return Err(ApiError::Failed(err));
                    }
                    err
                }
                Err(err) => format!("could not reach Sentry: {}", describe(err)),
            };
            failures += 1;
            if failures > SERVER_RETRIES {
                return Err(ApiError::Failed(format!("{err} ({failures} attempts)")));
            }
            let delay = self.backoff.saturating_mul(1 << (failures - 1));
            tracing::info!("{err}; retrying in {} ms", delay.as_millis());
            self.sleep(delay)?;
        }
    }

    /// Until `X-Sentry-Rate-Limit-Reset` (Unix seconds), else `Retry-After` (seconds), at least the backoff and at
    /// most `max_wait`.
    fn rate_limit_wait(&self, headers: &HeaderMap) -> Duration {
        let number = |name: &str| -> Option<f64> {
            headers
                .get(name)?
                .to_str()
                .ok()?
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
        };
        let asked = if let Some(reset) = number("x-sentry-rate-limit-reset") {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64();
            Some(reset - now)
        } else {
            number("retry-after")
        };
        let asked = asked
            .filter(|s| *s > 0.0)
            .map_or(Duration::ZERO, |s| Duration::from_secs_f64(s.min(86_400.0)));
        asked.max(self.backoff).min(self.max_wait)
    }

    /// Sleeps `wait`, ending early with [`ApiError::Interrupted`] on SIGINT or SIGTERM.
    fn sleep(&self, wait: Duration) -> Result<(), ApiError> {
        let deadline = Instant::now() + wait;
        loop {
            self.cancel.check().map_err(ApiError::Interrupted)?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }
}

fn read_body(response: Response) -> Result<String, ApiError> {
    let mut body = String::new();
    response
        .take(MAX_BODY)
        .read_to_string(&mut body)
        .map_err(|err| ApiError::Failed(format!("failed to read Sentry's answer: {err}")))?;
    Ok(body)
}

/// The cursor of `rel="next"` in a `Link` header, unless it says `results="false"`.
fn next_cursor(link: &str) -> Option<String> {
    let mut rest = link;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let tail = &after[close + 1..];
        let params = &tail[..tail.find('<').unwrap_or(tail.len())];
        rest = &tail[params.len()..];
        let mut rel = None;
        let mut results = None;
        let mut cursor = None;
        for param in params.split([';', ',']) {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').to_owned();
            match key.trim().to_ascii_lowercase().as_str() {
                "rel" => rel = Some(value),
                "results" => results = Some(value),
                "cursor" => cursor = Some(value),
                _ => {}
            }
        }
        if rel.as_deref() != Some("next") {
            continue;
        }
        if results.as_deref() == Some("false") {
            return None;
        }
        return cursor.filter(|c| !c.is_empty()).or_else(|| {
            Url::parse(target)
                .ok()?
                .query_pairs()
                .find(|(k, _)| k == "cursor")
                .map(|(_, v)| v.into_owned())
        });
    }
    None
}

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

fn quote(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut text: String = body
        .chars()
        .take(BODY_QUOTE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.chars().count() > BODY_QUOTE_CHARS {
        text.push('…');
    }
    format!("`{}`", redact(&text))
}

/// A transport error with its causes and without the URL.
fn describe(err: reqwest::Error) -> String {
    let timeout = err.is_timeout();
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = source.and_then(|cause| cause.source());
    }
    if timeout && !text.contains("timed out") {
        text.push_str(" (timed out)");
    }
    text
}

#[cfg(test)]
#[path = "../../tests/support/fake_http.rs"]
#[expect(
    clippy::duplicate_mod,
    reason = "`notify` includes the test server too, privately; each test module gets its own copy"
)]
mod fake_http;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{DateTime, FixedOffset, NaiveDate, Timelike};
    use serde_json::{Value, json};

    use super::fake_http::FakeHttp;
    use super::*;
    use crate::clock::Clock;
    use crate::step::testing;

    /// Shaped like a real user token, so a leak would be visible and redaction would not hide it by accident.
    const TOKEN: &str = "sntryu_0123456789abcdef0123456789abcdef0123456789abcdef";
    const LIST: &str = "/api/0/projects/acme/valor/issues/";
    const NOW: &str = "2026-11-20T06:30:00+00:00";

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(NOW).unwrap()
    }

    fn event_path(id: &str) -> String {
        format!("/api/0/organizations/acme/issues/{id}/events/latest/")
    }

    /// The start of hour `k` of the 24 stats buckets (0 the oldest, 23 the current hour).
    fn hour(k: usize) -> i64 {
        let current = now().with_minute(0).unwrap().timestamp();
        current - 3600 * (23 - i64::try_from(k).unwrap())
    }

    /// 24 hourly counts: `base` everywhere, `(hour, n)` where given.
    fn hourly(base: u64, at: &[(usize, u64)]) -> Vec<u64> {
        let mut v = vec![base; 24];
        for &(k, n) in at {
            v[k] = n;
        }
        v
    }

    /// An issue as Sentry's list sends it: `count` a string, stats as `[[ts, n], ...]`.
    fn issue(
        id: &str,
        level: &str,
        count: &str,
        users: u64,
        first_seen: &str,
        per_hour: &[u64],
    ) -> Value {
        let stats: Vec<Value> = per_hour
            .iter()
            .enumerate()
            .map(|(k, n)| json!([hour(k), n]))
            .collect();
        json!({
            "id": id,
            "shortId": format!("VALOR-{id}"),
            "title": format!("Issue {id}"),
            "culprit": format!("app.views in handler_{id}"),
            "level": level,
            "count": count,
            "userCount": users,
            "firstSeen": first_seen,
            "lastSeen": "2026-11-20T06:10:00.123456Z",
            "permalink": format!("https://acme.sentry.io/issues/{id}/"),
            "status": "unresolved",
            "stats": { "24h": stats },
        })
    }

    const OLD: &str = "2026-10-01T08:00:00Z";
    const TODAY: &str = "2026-11-20T01:15:00Z";

    fn env(server: &FakeHttp, knobs: &[(&str, &str)]) -> Env {
        let base = server.url();
        let get = |name: &str| knobs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        Env::from_pairs([
            (
                "SENTRY_AUTH_TOKEN",
                get("SENTRY_AUTH_TOKEN").unwrap_or(TOKEN),
            ),
            ("SENTRY_BASE_URL", base.as_str()),
            (
                "DAYDREAM_SENTRY_BACKOFF_MS",
                get("DAYDREAM_SENTRY_BACKOFF_MS").unwrap_or("1"),
            ),
            (
                "DAYDREAM_SENTRY_MAX_WAIT_MS",
                get("DAYDREAM_SENTRY_MAX_WAIT_MS").unwrap_or(""),
            ),
            (
                "DAYDREAM_SENTRY_STORM_PER_HOUR",
                get("DAYDREAM_SENTRY_STORM_PER_HOUR").unwrap_or(""),
            ),
            (
                "DAYDREAM_SENTRY_P0_USERS",
                get("DAYDREAM_SENTRY_P0_USERS").unwrap_or(""),
            ),
            (
                "DAYDREAM_SENTRY_P0_RISE",
                get("DAYDREAM_SENTRY_P0_RISE").unwrap_or(""),
            ),
        ])
    }

    fn run_cx(dir: &Path, env: Env, configured: bool) -> crate::step::RunCx {
        let mut project = json!({ "working_directory": dir.display().to_string() });
        if configured {
            project["sentry"] = json!({ "org": "acme", "project": "valor" });
        }
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let mut run = testing::run_cx(dir, &project, env, date, false);
        run.clock = Clock::Fixed(now());
        run
    }

    fn run_step(dir: &Path, env: Env) -> Result<Outcome> {
        let run = run_cx(dir, env, true);
        testing::run_unit(&run, None, |cx| Sentry.run(cx)).0
    }

    fn done(outcome: Result<Outcome>) -> (Output, SentryData) {
        match outcome {
            Ok(Outcome::Done(output)) => {
                let data: SentryData = serde_json::from_value(output.data.clone()).unwrap();
                assert_eq!(
                    serde_json::to_value(&data).unwrap(),
                    output.data,
                    "the data round-trips"
                );
                (output, data)
            }
            other => panic!("expected a done unit, got {other:?}"),
        }
    }

    fn failed(outcome: Result<Outcome>) -> String {
        match outcome {
            Err(err) => format!("{err:#}"),
            Ok(other) => panic!("expected a failed unit, got {other:?}"),
        }
    }

    fn list_requests(server: &FakeHttp) -> Vec<fake_http::Received> {
        server
            .received()
            .into_iter()
            .filter(|r| r.path.starts_with(LIST))
            .collect()
    }

    fn query(path: &str) -> BTreeMap<String, String> {
        Url::parse(&format!("http://x{path}"))
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn severities(data: &SentryData) -> Vec<(String, Severity)> {
        data.issues
            .iter()
            .map(|i| (i.id.clone(), i.severity))
            .collect()
    }

    fn page(issues: &[Value]) -> String {
        serde_json::to_string(issues).unwrap()
    }

    #[test]
    fn every_page_is_read_until_results_false_and_counts_are_strings() {
        let server = FakeHttp::start();
        let dir = tempfile::tempdir().unwrap();
        let url = server.url();
        let link = |cursor: &str, more: bool| {
            format!(
                "<{url}{LIST}?cursor=0:0:1>; rel=\"previous\"; results=\"false\"; cursor=\"0:0:1\", \
                 <{url}{LIST}?cursor={cursor}>; rel=\"next\"; results=\"{more}\"; cursor=\"{cursor}\""
            )
        };
        let mut first = issue("11", "error", "1234", 3, OLD, &hourly(2, &[]));
        first["title"] = json!("KeyError | `user` [id] password=hunter2");
        server.respond(
            LIST,
            200,
            &page(&[first]),
            &[("Link", &link("0:100:0", true))],
        );
        server.respond(
            LIST,
            200,
            &page(&[issue(
                "12",
                "warning",
                "56",
                1,
                TODAY,
                &hourly(0, &[(22, 5)]),
            )]),
            &[("Link", &link("0:200:0", true))],
        );
        server.respond(
            LIST,
            200,
            &page(&[issue("13", "error", "7", 2, OLD, &hourly(0, &[(1, 7)]))]),
            &[("Link", &link("0:300:0", false))],
        );
        // Never asked for: the third page said there are no more results.
        server.respond(LIST, 500, "{}", &[]);

        let (output, data) = done(run_step(dir.path(), env(&server, &[])));

        let lists = list_requests(&server);
        assert_eq!(lists.len(), 3, "{lists:#?}");
        let first = query(&lists[0].path);
        assert_eq!(
            first.get("query").map(String::as_str),
            Some("is:unresolved lastSeen:-24h")
        );
        assert_eq!(first.get("statsPeriod").map(String::as_str), Some("24h"));
        assert_eq!(first.get("cursor"), None);
        assert_eq!(
            query(&lists[1].path).get("cursor").map(String::as_str),
            Some("0:100:0")
        );
        assert_eq!(
            query(&lists[2].path).get("cursor").map(String::as_str),
            Some("0:200:0")
        );
        for r in server.received() {
            assert_eq!(
                r.header("authorization"),
                Some(format!("Bearer {TOKEN}").as_str())
            );
        }

        assert_eq!(data.total, 3);
        assert_eq!((data.p0, data.p1, data.p2), (0, 2, 1));
        assert_eq!(
            severities(&data),
            vec![
                ("11".to_owned(), Severity::P1),
                ("13".to_owned(), Severity::P1),
                ("12".to_owned(), Severity::P2)
            ],
            "ranked by severity, then events"
        );
        let top = &data.issues[0];
        assert_eq!((top.events, top.events_24h, top.users), (1234, 48, 3));
        assert_eq!(top.per_hour.len(), 24);
        assert!(!top.new, "first seen weeks ago: recurring");
        assert!(data.issues[2].new, "first seen today: new");
        assert_eq!(data.issues[2].events, 56);
        assert_eq!(top.title, "KeyError | `user` [id] password=[REDACTED]");
        assert_eq!(top.culprit, "app.views in handler_11");
        assert_eq!(
            top.permalink.as_deref(),
            Some("https://acme.sentry.io/issues/11/")
        );
        assert_eq!(data.events_24h, 48 + 7 + 5);
        assert_eq!(
            output.summary,
            "3 unresolved issue(s) in the last 24 hours: 0 P0, 2 P1, 1 P2; 60 events"
        );
        assert!(
            output.actions.is_empty(),
            "no P0, no storm: {:?}",
            output.actions
        );
        let stored = serde_json::to_string(&output).unwrap();
        assert!(!stored.contains(TOKEN) && !stored.contains("hunter2"));

        let mut md = String::new();
        Sentry.render(&output, &mut md);
        assert!(
            md.starts_with("**3 unresolved issue(s)** seen in the last 24 hours in `acme/valor`: 0 P0, 2 P1, 1 P2; 60 events, 9 in the busiest hour.\n"),
            "{md}"
        );
        assert!(
            md.contains("| Severity | Events 24 h / all | Users | New | Issue | Culprit |\n"),
            "{md}"
        );
        assert!(
            md.contains("| **P1** | 48 / 1,234 | 3 |  | [KeyError \\| \\`user\\` \\[id\\] password=\\[REDACTED\\]](https://acme.sentry.io/issues/11/) | `app.views in handler_11` |\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "| **P2** | 5 / 56 | 1 | new | [Issue 12](https://acme.sentry.io/issues/12/) |"
            ),
            "{md}"
        );
        assert!(
            md.contains("_P0: fatal, or errors seen by 50+ users or rising 3×"),
            "{md}"
        );
    }

    #[test]
    fn severity_follows_level_users_and_rise_and_the_knobs() {
        let issues = page(&[
            issue("1", "fatal", "3", 1, OLD, &hourly(0, &[(5, 3)])),
            issue("2", "error", "900", 80, OLD, &hourly(1, &[])),
            // 1/h for 18 hours, then 5/h: 30 events in the last 6 hours, five times the rate before.
            issue(
                "3",
                "error",
                "120",
                2,
                OLD,
                &[vec![1; 18], vec![5; 6]].concat(),
            ),
            // Steady: 2/h all day is not rising.
            issue("4", "error", "48", 2, OLD, &hourly(2, &[])),
            // A warning is P2 whatever its users or rise.
            issue(
                "5",
                "warning",
                "500",
                500,
                OLD,
                &[vec![0; 18], vec![20; 6]].concat(),
            ),
            issue("6", "info", "1", 1, OLD, &hourly(0, &[(23, 1)])),
        ]);
        let dir = tempfile::tempdir().unwrap();

        let server = FakeHttp::start();
        server.respond(LIST, 200, &issues, &[]);
        let (output, data) = done(run_step(dir.path(), env(&server, &[])));
        assert_eq!(
            severities(&data),
            vec![
                ("3".to_owned(), Severity::P0),
                ("2".to_owned(), Severity::P0),
                ("1".to_owned(), Severity::P0),
                ("4".to_owned(), Severity::P1),
                ("5".to_owned(), Severity::P2),
                ("6".to_owned(), Severity::P2),
            ]
        );
        let reasons: Vec<&str> = data.issues.iter().map(|i| i.reason.as_str()).collect();
        assert_eq!(
            reasons[..3],
            [
                "rising: 5.0/h in the last 6 h against 1.0/h before",
                "80 users",
                "fatal"
            ]
        );
        assert_eq!(
            output.actions.len(),
            3,
            "one action per P0: {:?}",
            output.actions
        );
        assert!(
            output.actions[1].starts_with(
                "P0 in Sentry `acme/valor`: [Issue 2](https://acme.sentry.io/issues/2/) (80 users): 24 events in 24 h, 80 users, recurring"
            ),
            "{:?}",
            output.actions
        );

        // Stricter knobs: 80 users is not many, 5× is not a rise.
        let server = FakeHttp::start();
        server.respond(LIST, 200, &issues, &[]);
        let knobs = [
            ("DAYDREAM_SENTRY_P0_USERS", "100"),
            ("DAYDREAM_SENTRY_P0_RISE", "6"),
        ];
        let (output, data) = done(run_step(dir.path(), env(&server, &knobs)));
        let p0: Vec<String> = data
            .issues
            .iter()
            .filter(|i| i.severity == Severity::P0)
            .map(|i| i.id.clone())
            .collect();
        assert_eq!(p0, ["1"]);
        assert_eq!(data.rules.p0_users, 100);
        assert_eq!(output.actions.len(), 1);

        // A knob that does not parse is a warning and the default, not a lost day.
        let server = FakeHttp::start();
        server.respond(LIST, 200, &issues, &[]);
        let (output, data) = done(run_step(
            dir.path(),
            env(&server, &[("DAYDREAM_SENTRY_P0_USERS", "many")]),
        ));
        assert_eq!(data.rules.p0_users, DEFAULT_P0_USERS);
        assert!(
            output.warnings[0].contains("`DAYDREAM_SENTRY_P0_USERS=many`"),
            "{:?}",
            output.warnings
        );
    }

    #[test]
    fn a_rise_needs_enough_events() {
        let quiet = [vec![0; 18], vec![2, 2, 2, 2, 2, 1]].concat();
        assert_eq!(rising(&quiet, 3.0), None, "11 events in 6 hours is noise");
        let burst = [vec![0; 18], vec![2; 6]].concat();
        assert!(
            rising(&burst, 3.0).is_some(),
            "12 events from nothing is a rise"
        );
        assert_eq!(
            rising(&[9; 6], 3.0),
            None,
            "no hours before to compare with"
        );
    }

    #[test]
    fn an_error_storm_is_flagged_for_a_human_and_kept_from_autofix() {
        let issues = page(&[
            // Hours ago, so not rising: the storm alone flags them.
            issue("21", "error", "90", 3, OLD, &hourly(0, &[(10, 90)])),
            issue("22", "error", "60", 2, OLD, &hourly(0, &[(10, 60)])),
            issue("23", "error", "50", 1, OLD, &hourly(0, &[(3, 50)])),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let server = FakeHttp::start();
        server.respond(LIST, 200, &issues, &[]);
        let (output, data) = done(run_step(dir.path(), env(&server, &[])));

        let storm = data
            .storm
            .as_ref()
            .expect("150 events in one hour is a storm");
        assert_eq!((storm.events, storm.hours, storm.issues), (150, 1, 2));
        assert_eq!(storm.hour.timestamp(), hour(10));
        let flagged: Vec<(&str, bool, bool)> = data
            .issues
            .iter()
            .map(|i| (i.id.as_str(), i.storm, i.not_for_autofix))
            .collect();
        assert_eq!(
            flagged,
            [("21", true, true), ("22", true, true), ("23", false, false)]
        );
        assert!(
            output.actions[0].starts_with("error storm: likely infrastructure, needs a human: Sentry `acme/valor` had 150 events in the hour from 2026-11-19 17:00 UTC (more than 100 per hour)"),
            "{:?}",
            output.actions
        );
        assert!(
            output.summary.ends_with("; error storm (150/hour)"),
            "{}",
            output.summary
        );
        let mut md = String::new();
        Sentry.render(&output, &mut md);
        assert!(
            md.contains("> **Error storm:** 150 events in the hour"),
            "{md}"
        );
        assert!(md.contains("| **P1** storm | 90 / 90 |"), "{md}");
        let digest = Sentry.digest(&output).unwrap();
        assert!(digest.contains("error storm: 150 events"), "{digest}");
        assert!(digest.contains("storm: not for auto-fix"), "{digest}");

        // 150 is not more than 150.
        let server = FakeHttp::start();
        server.respond(LIST, 200, &issues, &[]);
        let knobs = [("DAYDREAM_SENTRY_STORM_PER_HOUR", "150")];
        let (output, data) = done(run_step(dir.path(), env(&server, &knobs)));
        assert_eq!(data.storm, None);
        assert!(data.issues.iter().all(|i| !i.storm && !i.not_for_autofix));
        assert!(output.actions.is_empty(), "{:?}", output.actions);
    }

    #[test]
    fn in_app_frames_of_p0_p1_issues_map_to_project_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/util")).unwrap();
        std::fs::write(dir.path().join("src/app.py"), "").unwrap();
        std::fs::write(dir.path().join("src/util/helpers.py"), "").unwrap();
        let server = FakeHttp::start();
        server.respond(
            LIST,
            200,
            &page(&[
                issue("7", "error", "4", 1, OLD, &hourly(0, &[(10, 4)])),
                issue("8", "warning", "9", 1, OLD, &hourly(0, &[(10, 9)])),
            ]),
            &[],
        );
        let event = json!({
            "id": "abc",
            "entries": [
                { "type": "breadcrumbs", "data": { "values": [] } },
                { "type": "exception", "data": { "values": [{
                    "type": "ValueError",
                    "stacktrace": { "frames": [
                        { "filename": "threading.py", "absPath": "/usr/lib/python3.12/threading.py", "lineNo": 1016, "inApp": false },
                        { "filename": "src/app.py", "absPath": "/srv/www/src/app.py", "lineNo": 42, "inApp": true, "function": "handle" },
                        { "filename": null, "absPath": "/srv/www/src/util/helpers.py", "lineNo": 7, "inApp": true, "function": "parse" },
                        { "filename": "src/gone.py", "lineNo": 9, "inApp": true, "function": "old" },
                        { "filename": "requests/api.py", "lineNo": 59, "inApp": false }
                    ]}
                }]}}
            ]
        });
        server.respond(&event_path("7"), 200, &event.to_string(), &[]);

        let (output, data) = done(run_step(dir.path(), env(&server, &[])));
        let frames: Vec<(String, bool)> = data.issues[0]
            .frames
            .iter()
            .map(|f| (f.location(), f.missing))
            .collect();
        assert_eq!(
            frames,
            [
                ("src/gone.py:9".to_owned(), true),
                ("src/util/helpers.py:7".to_owned(), false),
                ("src/app.py:42".to_owned(), false),
            ],
            "innermost first, library frames skipped"
        );
        assert!(data.issues[1].frames.is_empty());
        let paths: Vec<String> = server.received().into_iter().map(|r| r.path).collect();
        assert!(
            !paths.contains(&event_path("8")),
            "a P2 issue's event is not fetched: {paths:?}"
        );
        assert!(paths.contains(&event_path("7")), "{paths:?}");

        let mut md = String::new();
        Sentry.render(&output, &mut md);
        assert!(
            md.contains("- **P1** [Issue 7](https://acme.sentry.io/issues/7/)\n  - `src/gone.py:9` in `old` _(not in the working directory)_\n  - `src/util/helpers.py:7` in `parse`\n  - `src/app.py:42` in `handle`\n"),
            "{md}"
        );
        let digest = Sentry.digest(&output).unwrap();
        assert!(
            digest.contains("\n    at src/app.py:42 in handle"),
            "{digest}"
        );
        assert!(
            digest.contains("\n    at src/gone.py:9 in old (file not in the working directory)"),
            "{digest}"
        );
        assert!(
            !digest.contains("Issue 8"),
            "P2 issues are not for reflection: {digest}"
        );
    }

    #[test]
    fn a_failing_event_costs_its_frames_not_the_unit() {
        let dir = tempfile::tempdir().unwrap();
        let server = FakeHttp::start();
        server.respond(
            LIST,
            200,
            &page(&[
                issue("41", "error", "9", 1, OLD, &hourly(0, &[(10, 9)])),
                issue("42", "error", "5", 1, OLD, &hourly(0, &[(10, 5)])),
            ]),
            &[],
        );
        for _ in 0..4 {
            server.respond(&event_path("41"), 503, "down", &[]);
        }
        let (output, data) = done(run_step(dir.path(), env(&server, &[])));
        assert_eq!(data.total, 2);
        assert_eq!(
            output.warnings,
            [
                "no frames for issue 41: failed to read its latest event: Sentry answered 503 Service \
                 Unavailable: `down` (4 attempts)",
                "no frames for 1 more P0/P1 issue(s): Sentry kept failing",
            ]
        );
        let paths: Vec<String> = server.received().into_iter().map(|r| r.path).collect();
        assert!(
            !paths.contains(&event_path("42")),
            "Sentry is down: the rest are not tried: {paths:?}"
        );
    }

    #[test]
    fn frame_paths_lose_hosts_and_deploy_folders_but_never_leave_the_project() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/App.js"), "").unwrap();
        std::fs::write(dir.path().join("main.py"), "").unwrap();
        let map = |f: Option<&str>, a: Option<&str>| map_file(dir.path(), f, a);
        assert_eq!(
            map(Some("webpack:///./src/App.js"), None),
            Some(("src/App.js".to_owned(), false))
        );
        assert_eq!(
            map(Some("app:///src/App.js"), None),
            Some(("src/App.js".to_owned(), false))
        );
        assert_eq!(
            map(None, Some("/app/main.py")),
            Some(("main.py".to_owned(), false))
        );
        assert_eq!(
            map(Some("https://cdn.example.com/static/js/main.js?v=3"), None),
            Some(("static/js/main.js".to_owned(), true))
        );
        assert_eq!(
            map(Some("../../etc/passwd"), None),
            Some(("etc/passwd".to_owned(), true))
        );
        assert_eq!(
            map(Some("C:\\build\\src\\App.js"), None),
            Some(("src/App.js".to_owned(), false))
        );
        assert_eq!(map(None, None), None);
    }

    #[test]
    fn link_headers_give_the_next_cursor_only_while_there_are_results() {
        let both = r#"<https://sentry.io/x/?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://sentry.io/x/?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0""#;
        assert_eq!(next_cursor(both).as_deref(), Some("0:100:0"));
        let last = r#"<https://sentry.io/x/?cursor=0:0:1>; rel="previous"; results="true"; cursor="0:0:1", <https://sentry.io/x/?cursor=0:200:0>; rel="next"; results="false"; cursor="0:200:0""#;
        assert_eq!(
            next_cursor(last),
            None,
            "a previous page with results is not a next page"
        );
        let bare = r#"<https://sentry.io/x/?a=1,2&cursor=abc>; rel="next""#;
        assert_eq!(next_cursor(bare).as_deref(), Some("abc"));
        assert_eq!(next_cursor(""), None);
    }

    #[test]
    fn a_429_waits_until_the_reset_then_retries() {
        let dir = tempfile::tempdir().unwrap();
        let server = FakeHttp::start();
        let reset = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 2)
        .to_string();
        server.respond(
            LIST,
            429,
            r#"{"detail":"slow down"}"#,
            &[("X-Sentry-Rate-Limit-Reset", &reset)],
        );
        server.respond(
            LIST,
            200,
            &page(&[issue("31", "warning", "1", 1, OLD, &hourly(0, &[(23, 1)]))]),
            &[],
        );
        let started = Instant::now();
        let (_, data) = done(run_step(dir.path(), env(&server, &[])));
        let waited = started.elapsed();
        assert_eq!(data.total, 1);
        assert_eq!(list_requests(&server).len(), 2);
        // The backoff is 1 ms: only the reset header explains a wait of a second or more.
        assert!(waited >= Duration::from_millis(900), "waited {waited:?}");

        // The wait is capped, and so are the retries.
        let server = FakeHttp::start();
        let far = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600)
            .to_string();
        for _ in 0..5 {
            server.respond(LIST, 429, "{}", &[("X-Sentry-Rate-Limit-Reset", &far)]);
        }
        let started = Instant::now();
        let err = failed(run_step(
            dir.path(),
            env(&server, &[("DAYDREAM_SENTRY_MAX_WAIT_MS", "20")]),
        ));
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(list_requests(&server).len(), 4, "1 try and 3 retries");
        assert_eq!(
            err,
            "failed to list the unresolved issues of `acme/valor`: Sentry answered 429 Too Many Requests 4 times in a row"
        );
    }

    #[test]
    fn a_denied_token_fails_the_unit_with_the_missing_scope() {
        let dir = tempfile::tempdir().unwrap();
        for (status, expired) in [(401, true), (403, false)] {
            let server = FakeHttp::start();
            server.respond(
                LIST,
                status,
                r#"{"detail":"You do not have permission"}"#,
                &[],
            );
            let err = failed(run_step(dir.path(), env(&server, &[])));
            assert!(
                err.starts_with(
                    "failed to list the unresolved issues of `acme/valor`: Sentry answered "
                ),
                "{err}"
            );
            assert!(
                err.contains("the token in `SENTRY_AUTH_TOKEN` lacks `event:read` or access to project `acme/valor`"),
                "{err}"
            );
            assert_eq!(err.contains("invalid or expired"), expired, "{err}");
            assert!(!err.contains(TOKEN) && !err.contains('\n'), "{err}");
            assert_eq!(server.received().len(), 1, "a refusal is not retried");
        }
    }

    #[test]
    fn server_errors_are_retried_with_backoff_then_fail_the_unit() {
        let dir = tempfile::tempdir().unwrap();
        let server = FakeHttp::start();
        server.respond(LIST, 502, "bad gateway", &[]);
        server.respond(LIST, 500, "{}", &[]);
        server.respond(LIST, 200, "[]", &[]);
        let (output, data) = done(run_step(dir.path(), env(&server, &[])));
        assert_eq!(list_requests(&server).len(), 3);
        assert_eq!(data.total, 0);
        assert_eq!(
            output.summary,
            "no unresolved issues seen in the last 24 hours"
        );

        let server = FakeHttp::start();
        for _ in 0..4 {
            server.respond(LIST, 500, r#"{"detail":"Internal Error"}"#, &[]);
        }
        server.respond(LIST, 200, "[]", &[]);
        let err = failed(run_step(dir.path(), env(&server, &[])));
        assert_eq!(list_requests(&server).len(), 4, "1 try and 3 retries");
        assert_eq!(
            err,
            "failed to list the unresolved issues of `acme/valor`: Sentry answered 500 Internal Server Error: \
             `{\"detail\":\"Internal Error\"}` (4 attempts)"
        );
    }

    #[test]
    fn without_a_token_or_a_sentry_entry_the_unit_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let server = FakeHttp::start();
        let outcome = run_step(dir.path(), env(&server, &[("SENTRY_AUTH_TOKEN", " ")]));
        match outcome {
            Ok(Outcome::Skipped(reason)) => assert!(
                reason.starts_with("`SENTRY_AUTH_TOKEN` is not set"),
                "{reason}"
            ),
            other => panic!("{other:?}"),
        }

        let run = run_cx(dir.path(), env(&server, &[]), false);
        match testing::run_unit(&run, None, |cx| Sentry.run(cx)).0 {
            Ok(Outcome::Skipped(reason)) => {
                assert_eq!(reason, "no `sentry` entry in `projects.json`");
            }
            other => panic!("{other:?}"),
        }
        assert!(server.received().is_empty());
    }

    #[test]
    fn a_signal_interrupts_the_unit() {
        let dir = tempfile::tempdir().unwrap();
        let server = FakeHttp::start();
        let run = run_cx(dir.path(), env(&server, &[]), true);
        run.cancel.trigger(15);
        let err = testing::run_unit(&run, None, |cx| Sentry.run(cx))
            .0
            .unwrap_err();
        assert!(
            err.chain()
                .any(|e| e.downcast_ref::<Interrupted>().is_some()),
            "{err:#}"
        );
        assert!(server.received().is_empty());
    }
}
