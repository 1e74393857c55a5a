//! What the step finds: issues ranked P0/P1/P2, rising errors, the error-storm guard, and how they are rendered.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use super::{
    DEFAULT_P0_RISE, DEFAULT_P0_USERS, DEFAULT_STORM_PER_HOUR, FRAMES_SHOWN_ISSUES, ISSUES_KEPT,
    P0_ACTIONS, P1_ACTIONS, RISE_MIN_EVENTS, RISE_RECENT_HOURS, TABLE_ROWS, TEXT_MAX_CHARS,
};
use crate::env::Env;
use crate::redact::redact;
use crate::sentry::ApiIssue;
use crate::step::{Output, Reason};
use crate::text::{code, thousands};

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
    /// The latest event's request (method and URL, no query) and tags, secrets redacted and personal data
    /// masked (P0/P1 issues only): what a reproducing test needs to know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) context: Vec<String>,
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
    pub(super) fn from_env(env: &Env, warnings: &mut Vec<String>) -> Rules {
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
    pub(super) fn text(&self) -> String {
        format!(
            "P0: fatal, or errors seen by {}+ users or rising {}× (the last {RISE_RECENT_HOURS} hours against the \
             hours before, {RISE_MIN_EVENTS}+ events); P1: other errors; P2: warnings and the rest. Error storm: more \
             than {} events in an hour.",
            self.p0_users, self.p0_rise, self.storm_per_hour
        )
    }
}

/// The severity of an issue and why.
pub(super) fn classify(
    level: &str,
    users: u64,
    per_hour: &[u64],
    rules: &Rules,
) -> (Severity, String) {
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
pub(super) fn rising(per_hour: &[u64], factor: f64) -> Option<String> {
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
#[expect(
    clippy::too_many_lines,
    reason = "one pass ranking the issues, with the storm guard and the rising rule"
)]
pub(super) fn rank(
    slug: &str,
    issues: Vec<ApiIssue>,
    rules: &Rules,
    now: DateTime<Utc>,
) -> SentryData {
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
            context: Vec::new(),
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

pub(super) fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?.trim())
        .ok()
        .map(|t| t.to_utc())
}

pub(super) fn is_web_url(text: &str) -> bool {
    Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// One line of at most [`TEXT_MAX_CHARS`] characters.
pub(super) fn clip(text: &str) -> String {
    let text = text.trim().replace(['\n', '\r'], " ");
    if text.chars().count() <= TEXT_MAX_CHARS {
        return text;
    }
    let mut clipped: String = text.chars().take(TEXT_MAX_CHARS - 1).collect();
    clipped.push('…');
    clipped
}

pub(super) fn output(data: SentryData, warnings: Vec<String>) -> Output<SentryData> {
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
        actions.push(Reason::P0.tag(&format!(
            "error storm: likely infrastructure, needs a human: Sentry `{}` had {} events in the hour from {} UTC \
             (more than {} per hour); its {} issue(s) in those hours are not for auto-fix",
            data.project,
            thousands(storm.events),
            storm.hour.format("%Y-%m-%d %H:%M"),
            data.rules.storm_per_hour,
            storm.issues
        )));
    }
    // P0 then P1, each led by its severity: the report ranks P0 first and P1 above log volume.
    for (severity, reason, count, shown) in [
        (Severity::P0, Reason::P0, data.p0, P0_ACTIONS),
        (Severity::P1, Reason::P1, data.p1, P1_ACTIONS),
    ] {
        let issues: Vec<&IssueRow> = data
            .issues
            .iter()
            .filter(|i| i.severity == severity)
            .collect();
        for issue in issues.iter().take(shown) {
            let mut action = format!(
                "Sentry `{}`: {} ({}): {} events in 24 h, {} users, {}",
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
            actions.push(reason.tag(&action));
        }
        if count > shown {
            actions.push(reason.tag(&format!(
                "{} more {} issue(s) in Sentry `{}`: see the Sentry section",
                count - shown,
                reason.word(),
                data.project
            )));
        }
    }
    Output {
        summary,
        data,
        actions,
        warnings,
    }
}

pub(super) fn render(data: &SentryData, out: &mut String) {
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
pub(super) fn link(text: &str, url: Option<&str>) -> String {
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

/// Text for a table cell.
pub(super) fn cell(text: &str) -> String {
    crate::text::cell(text)
}
