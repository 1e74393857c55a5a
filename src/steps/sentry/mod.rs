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

use std::fmt::Write as _;

use anyhow::{Context, Result};

use crate::step::{Outcome, Output, Step, UnitCx};

mod findings;
mod frames;

use crate::sentry::{Api, ApiError, MAX_PAGES};
#[cfg(test)]
pub(crate) use findings::Storm;
pub(crate) use findings::{IssueRow, SentryData, Severity};
use findings::{Rules, output, rank, render};
use frames::{context_of, frames_of};

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
/// Ranked issues kept in the data; the totals count them all.
const ISSUES_KEPT: usize = 50;
/// P0/P1 issues whose latest event is fetched for its frames, in rank order.
const FRAME_ISSUES: usize = 10;
/// In-app frames kept per issue, innermost first.
const FRAMES_KEPT: usize = 8;
const TABLE_ROWS: usize = 20;
const FRAMES_SHOWN_ISSUES: usize = 5;
const P0_ACTIONS: usize = 5;
/// P1 issues named one per action (below P0, above log volume in the report).
const P1_ACTIONS: usize = 3;
const DIGEST_ISSUES: usize = 10;
const TEXT_MAX_CHARS: usize = 200;

pub(crate) struct Sentry;

impl Step for Sentry {
    type Data = SentryData;
    const NAME: &'static str = "sentry";
    const TITLE: &'static str = "Sentry";

    /// Production errors come first in Action Required.
    fn action_rank(&self) -> u8 {
        0
    }

    /// The P0/P1 issues with their frames (and the storm, if any), for reflection and auto-fix.
    fn digest(&self, data: &SentryData, output: &Output) -> Option<String> {
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

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<SentryData>> {
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
            match api
                .latest_event(&sentry.org, &id)
                .map(|event| (frames_of(&event, &project.dir), context_of(&event)))
            {
                Ok((frames, context)) => {
                    data.issues[i].frames = frames;
                    data.issues[i].context = context;
                }
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
        Ok(Outcome::Done(output(data, warnings)))
    }

    fn render(&self, data: &SentryData, _: &Output, out: &mut String) {
        render(data, out);
    }
}

#[cfg(test)]
#[path = "../../../tests/support/fake_http.rs"]
#[expect(
    clippy::duplicate_mod,
    reason = "`notify` includes the test server too, privately; each test module gets its own copy"
)]
mod fake_http;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use chrono::{DateTime, FixedOffset, NaiveDate, Timelike};
    use reqwest::Url;
    use serde_json::{Value, json};

    use super::fake_http::FakeHttp;
    use super::findings::rising;
    use super::frames::map_file;
    use super::*;
    use crate::cancel::Interrupted;
    use crate::clock::Clock;
    use crate::env::Env;
    use crate::sentry::next_cursor;
    use crate::step::AnyStep;
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
        testing::run_unit(&run, None, |cx| AnyStep::run(&Sentry, cx)).0
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
    #[expect(
        clippy::too_many_lines,
        reason = "one scenario over paged answers, checked field by field"
    )]
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
        assert_eq!(
            output.actions.len(),
            2,
            "no P0, no storm; the 2 P1: {:?}",
            output.actions
        );
        assert!(
            output
                .actions
                .iter()
                .all(|a| a.starts_with("P1 · Sentry `acme/valor`: ")),
            "{:?}",
            output.actions
        );
        let stored = serde_json::to_string(&output).unwrap();
        assert!(!stored.contains(TOKEN) && !stored.contains("hunter2"));

        let mut md = String::new();
        AnyStep::render(&Sentry, &output, &mut md);
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
        let tagged = |actions: &[String], word: &str| {
            actions
                .iter()
                .filter(|a| a.starts_with(&format!("{word} · ")))
                .count()
        };
        assert_eq!(
            (tagged(&output.actions, "P0"), tagged(&output.actions, "P1")),
            (3, 1),
            "one action per P0 and per P1, P0 first: {:?}",
            output.actions
        );
        assert!(
            output.actions[1].starts_with(
                "P0 · Sentry `acme/valor`: [Issue 2](https://acme.sentry.io/issues/2/) (80 users): 24 events in 24 h, 80 users, recurring"
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
        assert_eq!(tagged(&output.actions, "P0"), 1);

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
            output.actions[0].starts_with("P0 · error storm: likely infrastructure, needs a human: Sentry `acme/valor` had 150 events in the hour from 2026-11-19 17:00 UTC (more than 100 per hour)"),
            "{:?}",
            output.actions
        );
        assert!(
            output.summary.ends_with("; error storm (150/hour)"),
            "{}",
            output.summary
        );
        let mut md = String::new();
        AnyStep::render(&Sentry, &output, &mut md);
        assert!(
            md.contains("> **Error storm:** 150 events in the hour"),
            "{md}"
        );
        assert!(md.contains("| **P1** storm | 90 / 90 |"), "{md}");
        let digest = AnyStep::digest(&Sentry, &output).unwrap();
        assert!(digest.contains("error storm: 150 events"), "{digest}");
        assert!(digest.contains("storm: not for auto-fix"), "{digest}");

        // 150 is not more than 150.
        let server = FakeHttp::start();
        server.respond(LIST, 200, &issues, &[]);
        let knobs = [("DAYDREAM_SENTRY_STORM_PER_HOUR", "150")];
        let (output, data) = done(run_step(dir.path(), env(&server, &knobs)));
        assert_eq!(data.storm, None);
        assert!(data.issues.iter().all(|i| !i.storm && !i.not_for_autofix));
        assert!(
            output.actions.iter().all(|a| a.starts_with("P1 · ")),
            "no storm, the P1 issues only: {:?}",
            output.actions
        );
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
        AnyStep::render(&Sentry, &output, &mut md);
        assert!(
            md.contains("- **P1** [Issue 7](https://acme.sentry.io/issues/7/)\n  - `src/gone.py:9` in `old` _(not in the working directory)_\n  - `src/util/helpers.py:7` in `parse`\n  - `src/app.py:42` in `handle`\n"),
            "{md}"
        );
        let digest = AnyStep::digest(&Sentry, &output).unwrap();
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
        match testing::run_unit(&run, None, |cx| Step::run(&Sentry, cx)).0 {
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
        let err = testing::run_unit(&run, None, |cx| Step::run(&Sentry, cx))
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
