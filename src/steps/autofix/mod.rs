//! The `autofix` step: from a high-confidence bug to a draft pull request, safely, within budget, never twice.
//!
//! Candidates are today's reflections of category `code_bug` about the project, with a prevention, a pattern
//! of at least [`MIN_PATTERN`] characters and a confidence at or above the threshold. Each goes through the
//! gates in order, and its decision is recorded with the reason: the ignore list, a failed attempt in the last
//! [`RETRY_AFTER_HOURS`] hours, an earlier PR, issue or branch with its fingerprint (a closed PR is a human's
//! "no"), then the limits (fixes per run, the step's wall-clock cap, the auto-fix budget), highest confidence
//! first.
//!
//! One fix: a worktree of the default branch in a temp directory; Claude with file tools only and no GitHub
//! token; the diff checked against the protected and safe paths and a size cap; the project's tests; then a
//! commit by `daydream`, a push of `daydream/fix-<fingerprint>` (never forced, never the default branch) and a
//! draft PR carrying the fingerprint's marker. The unit's checkpoint records each candidate before and after
//! every side effect, so a kill between the push and the PR is completed by the next run, not repeated.
//! Finished attempts also go to `data/autofix_attempts.jsonl`, which later days read for the retry rule.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::budget::{Budget, Caps};
use crate::config::Project;
use crate::fix;
use crate::github::Gh;
use crate::lessons;
use crate::state::{ALL_PROJECTS, Status as UnitStatus};
use crate::step::{Outcome, Output, Step, UnitCx, Warnings};
use crate::steps::reflect::{Reflection, Reflections};

mod attempts;
mod data;
mod heal;
mod pull;
pub(crate) use pull::{PullKind, open_pull};
mod render;
mod run;
mod storm;

use data::{Candidate, FixData, FixStatus, Followup};
use render::{output, render};
use run::FixRun;

/// A pattern shorter than this is too vague to fix.
pub(crate) const MIN_PATTERN: usize = 20;
const DEFAULT_MIN_CONFIDENCE: f64 = 0.7;
const DEFAULT_MAX_FIXES: u32 = 5;
const DEFAULT_STEP_MINUTES: u64 = 30;
const DEFAULT_TEST_TIMEOUT_SECS: u64 = 600;
/// A candidate that a fix attempt failed on is not tried again for this long (3.5 days).
pub(crate) const RETRY_AFTER_HOURS: i64 = 84;
/// Characters of a project's rules files given to Claude, each.
const RULES_MAX: usize = 4000;
const LESSONS_GIVEN: usize = 10;
pub(crate) const LABEL: &str = "daydream";
const FIX_LABEL: &str = "auto-fix";
const FIX_LABEL_COLOR: &str = "0e8a16";
const FIX_LABEL_DESCRIPTION: &str = "A draft fix proposed by daydream; review before merging";
pub(crate) const LABEL_COLOR: &str = "5319e7";
pub(crate) const LABEL_DESCRIPTION: &str = "Nightly maintenance report by daydream";

/// The command Claude may run with `allow_test_command`: a script beside the worktree that runs the tests
/// confined ([`crate::sandbox::Jail::launcher`]).
const LAUNCHER: &str = "daydream-run-tests";

/// When this process's first auto-fix unit started: the step's wall-clock cap counts from here.
static STEP_START: OnceLock<Instant> = OnceLock::new();

pub(crate) struct Autofix;

/// The knobs, from the environment (see `.env.example`).
struct Settings {
    min_confidence: f64,
    max_fixes: u32,
    step_cap: Duration,
    fix_timeout: Duration,
    test_timeout: Duration,
    max_turns: u32,
    per_fix_usd: Option<f64>,
    model: String,
}

impl Settings {
    fn from_env(env: &crate::env::Env) -> Result<Settings> {
        let per_fix_usd = crate::fix::engine::per_fix_usd(env)?;
        let min_confidence =
            env.parse_or("DAYDREAM_AUTO_FIX_MIN_CONFIDENCE", DEFAULT_MIN_CONFIDENCE)?;
        anyhow::ensure!(
            (0.0..=1.0).contains(&min_confidence),
            "failed to read `DAYDREAM_AUTO_FIX_MIN_CONFIDENCE={min_confidence}`: it must be between 0 and 1"
        );
        Ok(Settings {
            min_confidence,
            max_fixes: env.parse_or("DAYDREAM_AUTO_FIX_MAX_FIXES", DEFAULT_MAX_FIXES)?,
            step_cap: Duration::from_secs(
                60 * env.parse_or("DAYDREAM_AUTO_FIX_STEP_MINUTES", DEFAULT_STEP_MINUTES)?,
            ),
            fix_timeout: Duration::from_secs(env.parse_or(
                "DAYDREAM_AUTO_FIX_TIMEOUT_SECS",
                crate::fix::engine::DEFAULT_CALL_TIMEOUT_SECS,
            )?),
            test_timeout: Duration::from_secs(env.parse_or(
                "DAYDREAM_AUTO_FIX_TEST_TIMEOUT_SECS",
                DEFAULT_TEST_TIMEOUT_SECS,
            )?),
            max_turns: env.parse_or(
                "DAYDREAM_AUTO_FIX_MAX_TURNS",
                crate::fix::engine::DEFAULT_MAX_TURNS,
            )?,
            per_fix_usd,
            model: env
                .get("DAYDREAM_AUTO_FIX_MODEL")
                .unwrap_or(crate::claude::DEFAULT_MODEL)
                .to_owned(),
        })
    }
}

/// Whether `DAYDREAM_AUTO_FIX_ENABLED` turns auto-fix off.
fn disabled_by_env(env: &crate::env::Env) -> bool {
    env.get("DAYDREAM_AUTO_FIX_ENABLED").is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "false" | "0" | "no" | "off"
        )
    })
}

/// A short stable fingerprint of a bug: FNV-1a over the normalised pattern and the project, 12 hex digits.
pub(crate) fn fingerprint(project: &str, pattern: &str) -> String {
    let key = lessons::fingerprint(project, pattern);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", hash >> 16)
}

/// The hidden marker of a fix's PR body.
pub(crate) fn marker(fingerprint: &str) -> String {
    format!("<!-- daydream:fix:{fingerprint} -->")
}

impl Step for Autofix {
    type Data = FixData;

    const NAME: &'static str = "autofix";

    fn reflected(&self) -> bool {
        false
    }

    const TITLE: &'static str = "Auto-fix";

    fn action_rank(&self) -> u8 {
        0
    }

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<FixData>> {
        let project = cx.project();
        if disabled_by_env(&cx.run.env) {
            return Ok(Outcome::Skipped(
                "auto-fix is off (`DAYDREAM_AUTO_FIX_ENABLED=false`)".to_owned(),
            ));
        }
        if project.autofix.enabled == Some(false) {
            return Ok(Outcome::Skipped(
                "auto-fix is off for this project (`autofix.enabled: false`)".to_owned(),
            ));
        }
        // Tonight's failing tests, then the project's P0/P1 Sentry issues, then the day's reflections.
        let sentry = storm::sentry_data(cx, &project.slug);
        let mut sources: Vec<Candidate> = tests_candidate(cx, &project.slug).into_iter().collect();
        sources.extend(heal::candidates(sentry.as_ref(), project));
        let mut warnings = Warnings::default();
        let gh = Gh::new(&cx.run.env, cx.run.cancel.clone());
        // The Sentry fixes of earlier nights: did their errors stop?
        let followups = match (&project.github, &sentry) {
            (Some(repo), Some(sentry)) => match gh.pulls(repo) {
                Ok(pulls) => {
                    let followups = heal::followups(&pulls, sentry, cx.run.clock.now());
                    if !cx.run.dry_run {
                        // Who else committed to a merged fix: a human who took it over.
                        let others = |f: &Followup| {
                            let authors = gh.pull_commit_authors(repo, f.number).ok()?;
                            Some(authors.iter().filter(|a| *a != fix::AUTHOR_NAME).count())
                        };
                        heal::record_followups(
                            cx.root(),
                            &project.slug,
                            cx.run.clock.now(),
                            &followups,
                            others,
                        );
                    }
                    followups
                }
                Err(err) => {
                    warnings.push(format!("could not follow up the Sentry fixes: {err}"));
                    Vec::new()
                }
            },
            _ => Vec::new(),
        };
        let reflections = match today_reflections(cx) {
            Ok(r) => r,
            Err(_) if !sources.is_empty() || !followups.is_empty() => Vec::new(),
            Err(why) => return Ok(Outcome::Skipped(why)),
        };
        let mine: Vec<&Reflection> = reflections
            .iter()
            .filter(|r| r.project == project.slug)
            .collect();
        if mine.is_empty() && sources.is_empty() && followups.is_empty() {
            return Ok(Outcome::Skipped(
                "no reflection about this project today".to_owned(),
            ));
        }
        let settings = Settings::from_env(&cx.run.env)?;
        STEP_START.get_or_init(Instant::now);
        let resume: Option<FixData> = cx.resume();
        let mut data = FixData {
            candidates: sources
                .into_iter()
                .chain(candidates(&project.slug, &mine, settings.min_confidence))
                .collect(),
            most_usd: None,
            followups,
        };
        if let Some(resume) = resume {
            carry_over(&mut data, resume, project);
        }
        let mut run = FixRun {
            project,
            settings,
            warnings: &mut warnings,
            gh,
            budget: Budget::open(
                cx.root(),
                Caps::from_env(&cx.run.env)?,
                &format!("{}-{}", cx.run.date, std::process::id()),
                cx.run.clock.clone(),
            ),
            attempted_elsewhere: attempted_today(cx, &project.slug),
            base: None,
            jail: None,
        };
        run.decide_all(cx, &mut data)?;
        let output = output(data, run.warnings);
        Ok(Outcome::Done(output))
    }

    fn render(&self, data: &FixData, _: &Output, out: &mut String) {
        render(data, out);
    }
}

/// Today's reflections, or why there are none to work from. A dry run that has none of its own (with
/// `--no-spend`, or before its reflection) previews from those of today's real run.
fn today_reflections(cx: &UnitCx<'_>) -> Result<Vec<Reflection>, String> {
    let own = reflections_in(cx.state);
    if !cx.run.dry_run || own.is_ok() {
        return own;
    }
    let path = crate::paths::Paths::new(cx.root().to_owned()).state(false);
    match crate::state::read(&path) {
        Ok(crate::state::ReadState::Loaded(real)) if real.date == cx.run.date => {
            reflections_in(&real).map_err(|_| own.unwrap_err())
        }
        _ => own,
    }
}

fn reflections_in(state: &crate::state::State) -> Result<Vec<Reflection>, String> {
    let unit = state
        .unit("reflect", ALL_PROJECTS)
        .ok_or_else(|| "reflection has not run today, so there is nothing to fix".to_owned())?;
    match unit.status {
        UnitStatus::Done => {}
        UnitStatus::Skipped => {
            return Err(format!(
                "no reflections today ({}), so nothing to fix",
                unit.reason.as_deref().unwrap_or("reflection was skipped")
            ));
        }
        other => {
            return Err(format!(
                "reflection is {} today, so there is nothing to fix yet",
                other.as_str()
            ));
        }
    }
    let output = unit.output.as_ref();
    let data = output
        .and_then(|o| o.read::<Reflections>().ok())
        .ok_or_else(|| {
            format!(
                "no reflections to work from: {}",
                output.map_or("reflection left none", |o| o.summary.as_str())
            )
        })?;
    Ok(data.reflections)
}

/// The fingerprint of a Sentry issue's fix starts with this (`sentry-<shortId>`; its branch `fix/sentry-<shortId>`).
pub(crate) const SENTRY_PREFIX: &str = "sentry-";

/// The branch of a candidate's fix: `fix/sentry-<shortId>` for a Sentry issue, `daydream/fix-<fingerprint>`
/// otherwise.
pub(crate) fn branch_for(fingerprint: &str) -> String {
    match fingerprint.strip_prefix(SENTRY_PREFIX) {
        Some(short_id) => format!("fix/sentry-{short_id}"),
        None => fix::branch(fingerprint),
    }
}

/// The fingerprint of a night's failing tests starts with this (`tests-<date>`; its branch
/// `daydream/fix-tests-<date>`).
pub(crate) const TESTS_PREFIX: &str = "tests-";
/// Failing tests named in a candidate's pattern and evidence.
const TESTS_NAMED: usize = 5;

/// Tonight's failing tests of the project (from the tests step) as one candidate: the fix loop works through
/// them and opens one draft PR for the night.
fn tests_candidate(cx: &UnitCx<'_>, slug: &str) -> Option<Candidate> {
    let data = cx
        .state
        .unit("tests", slug)?
        .output
        .as_ref()?
        .read::<crate::steps::tests::TestsData>()
        .ok()?;
    if data.failing.is_empty() {
        return None;
    }
    let names: Vec<&str> = data
        .failing
        .iter()
        .take(TESTS_NAMED)
        .map(|t| t.failure.test.as_str())
        .collect();
    Some(Candidate::undecided(
        format!("{TESTS_PREFIX}{}", cx.run.date),
        format!("{} failing test(s) on `{}`", data.failing.len(), data.base),
        format!("failing tests: {}", names.join(", ")),
        "each fix verified by its tests and the whole suite".to_owned(),
        data.failing
            .iter()
            .take(TESTS_NAMED)
            .map(|t| {
                format!(
                    "{}: {}: {}",
                    t.failure.test, t.failure.error_type, t.failure.message
                )
            })
            .collect(),
        1.0,
    ))
}

/// Every reflection of the project, once per fingerprint, with its first decision: a candidate waits
/// (`Skipped` with an empty reason) or is not one, saying why. Highest confidence first.
fn candidates(slug: &str, reflections: &[&Reflection], min_confidence: f64) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for r in reflections {
        let fp = fingerprint(slug, &r.pattern);
        if out.iter().any(|c| c.fingerprint == fp) {
            continue;
        }
        let not = if r.category != "code_bug" {
            Some(format!("category `{}`, not `code_bug`", r.category))
        } else if r.prevention.trim().is_empty() {
            Some("no prevention to act on".to_owned())
        } else if r.pattern.trim().chars().count() < MIN_PATTERN {
            Some(format!(
                "the pattern is shorter than {MIN_PATTERN} characters: too vague to fix"
            ))
        } else if r.confidence < min_confidence {
            Some(format!(
                "confidence {:.2} is below {min_confidence:.2}",
                r.confidence
            ))
        } else {
            None
        };
        let mut candidate = Candidate::undecided(
            fp,
            r.summary.clone(),
            r.pattern.clone(),
            r.prevention.clone(),
            r.evidence.clone(),
            r.confidence,
        );
        if let Some(why) = not {
            candidate.status = FixStatus::NotCandidate;
            candidate.reason = why;
        }
        out.push(candidate);
    }
    out.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    out
}

/// Takes over what an interrupted attempt of this unit recorded. Finished decisions stand; a fix that was
/// pushed (or may have been) goes on to its PR; one stopped before its commit is cleaned up and decided again.
fn carry_over(data: &mut FixData, resume: FixData, project: &Project) {
    for old in resume.candidates {
        let Some(new) = data
            .candidates
            .iter_mut()
            .find(|c| c.fingerprint == old.fingerprint)
        else {
            continue;
        };
        match old.status {
            FixStatus::Fixing | FixStatus::Committed => {
                fix::discard(&project.dir, &branch_for(&old.fingerprint));
                new.cost_usd = old.cost_usd;
            }
            // Undecided: decided again.
            FixStatus::Skipped if old.reason.is_empty() => {}
            _ => *new = old,
        }
    }
}

/// Fixes started today by the other projects' auto-fix units.
fn attempted_today(cx: &UnitCx<'_>, slug: &str) -> u32 {
    let Some(step) = cx.state.step("autofix") else {
        return 0;
    };
    let count = step
        .units
        .iter()
        .filter(|u| u.project != slug)
        .filter_map(|u| u.output.as_ref())
        .filter_map(|o| o.read::<FixData>().ok())
        .flat_map(|d| d.candidates)
        .filter(|c| c.status.attempted())
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::DateTime;

    use super::attempts::{attempts_path, recent_failures};
    use super::pull::prompt;
    use super::storm::storm_guard;
    use super::*;
    use crate::fix::PathRules;
    use crate::steps::sentry::{IssueRow, SentryData};

    fn reflection(category: &str, pattern: &str, confidence: f64) -> Reflection {
        Reflection {
            category: category.to_owned(),
            summary: format!("summary of {pattern}"),
            pattern: pattern.to_owned(),
            prevention: "check the value first".to_owned(),
            project: "shop".to_owned(),
            evidence: vec!["logs: KeyError".to_owned()],
            confidence,
        }
    }

    /// The one candidate of a confident code bug.
    fn sku_candidate() -> Candidate {
        let good = reflection("code_bug", "KeyError when the cart has no sku", 0.9);
        candidates("shop", &[&good], 0.7).remove(0)
    }

    #[test]
    fn candidates_qualify_by_category_pattern_prevention_and_confidence() {
        let good = reflection("code_bug", "KeyError when the cart has no sku", 0.9);
        let low = reflection("code_bug", "Timeout talking to the payment API", 0.5);
        let short = reflection("code_bug", "bad sku", 0.95);
        let other = reflection(
            "poor_planning",
            "Deploys without a rollback plan at all",
            0.99,
        );
        let mut no_prevention = reflection("code_bug", "Division by zero in the totals", 0.8);
        no_prevention.prevention = " ".to_owned();
        let dup = reflection("code_bug", "KeyError when the cart has no SKU.", 0.7);
        let all = [&good, &low, &short, &other, &no_prevention, &dup];
        let out = candidates("shop", &all, 0.7);
        assert_eq!(out.len(), 5, "the reworded duplicate shares a fingerprint");
        let find = |p: &str| out.iter().find(|c| c.pattern == p).unwrap();
        assert_eq!(find(&good.pattern).status, FixStatus::Skipped);
        assert!(
            find(&good.pattern).reason.is_empty(),
            "waiting for the gates"
        );
        assert!(find(&low.pattern).reason.contains("below 0.70"));
        assert!(find(&short.pattern).reason.contains("shorter than 20"));
        assert!(find(&other.pattern).reason.contains("not `code_bug`"));
        assert!(
            find(&no_prevention.pattern)
                .reason
                .contains("no prevention")
        );
        // Highest confidence first.
        let confidences: Vec<f64> = out.iter().map(|c| c.confidence).collect();
        let mut sorted = confidences.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(confidences, sorted);
    }

    #[test]
    fn fingerprints_are_short_stable_and_survive_rewording() {
        let a = fingerprint("shop", "KeyError when the cart has 3 items");
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            a,
            fingerprint("shop", "keyerror when the cart has 12 items.")
        );
        assert_ne!(a, fingerprint("blog", "KeyError when the cart has 3 items"));
        assert_eq!(marker(&a), format!("<!-- daydream:fix:{a} -->"));
    }

    #[test]
    fn recent_failures_hold_a_candidate_back_for_three_and_a_half_days() {
        let dir = tempfile::tempdir().unwrap();
        let line = |time: &str, status: &str| {
            format!(
                r#"{{"time":"{time}","project":"shop","fingerprint":"abc","status":"{status}","reason":"r","cost_usd":0.1,"duration_secs":1}}"#
            )
        };
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(
            attempts_path(dir.path()),
            [
                line("2026-11-18T06:00:00+00:00", "tests_failed"),
                line("2026-11-17T17:00:00+00:00", "rejected"),
                line("2026-11-20T06:00:00+00:00", "pr_opened"),
                "torn{".to_owned(),
            ]
            .join("\n"),
        )
        .unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-21T06:00:00+00:00").unwrap();
        let found = recent_failures(dir.path(), "shop", now);
        assert_eq!(found.len(), 1, "84 h back reaches 2026-11-17T18:00 only");
        assert_eq!(found[0].status, FixStatus::TestsFailed);
        assert!(recent_failures(dir.path(), "blog", now).is_empty());
    }

    fn issue(id: &str, short: &str, title: &str, storm: bool) -> IssueRow {
        serde_json::from_value(serde_json::json!({
            "id": id, "short_id": short, "title": title, "culprit": "app.cart", "level": "error",
            "severity": "P0", "reason": "fatal", "events": 900, "events_24h": 900, "users": 3,
            "first_seen": null, "last_seen": null, "permalink": null, "new": false,
            "per_hour": [], "storm": storm, "not_for_autofix": storm, "frames": []
        }))
        .unwrap()
    }

    #[test]
    fn the_storm_guard_keeps_storm_issues_and_sentry_work_in_a_storm_from_auto_fix() {
        let mut data = SentryData {
            issues: vec![
                issue(
                    "4021",
                    "SHOP-7Q",
                    "OperationalError: could not connect to server",
                    true,
                ),
                issue("4022", "SHOP-7R", "KeyError: 'sku' in cart totals", false),
            ],
            ..SentryData::default()
        };
        let mut c = sku_candidate();
        // Not about Sentry at all: no storm guard, whatever Sentry says.
        assert_eq!(storm_guard(Some(&data), &c), None);
        assert_eq!(storm_guard(None, &c), None);
        // Names an issue marked storm, by short id: never.
        c.evidence = vec!["sentry SHOP-7Q: 900 events".to_owned()];
        let why = storm_guard(Some(&data), &c).unwrap();
        assert!(
            why.contains("`SHOP-7Q`") && why.contains("error storm"),
            "{why}"
        );
        // By title, any case.
        c.evidence = vec!["operationalerror: could not connect to server, 900 times".to_owned()];
        assert!(storm_guard(Some(&data), &c).is_some());
        // An issue outside the storm hours may be fixed while the project is calm...
        c.evidence = vec!["Sentry SHOP-7R: KeyError".to_owned()];
        assert_eq!(storm_guard(Some(&data), &c), None);
        // ...but not while the project is in a storm: then nothing drawn from Sentry is fixed.
        data.storm = Some(crate::steps::sentry::Storm {
            hour: chrono::DateTime::parse_from_rfc3339("2026-11-20T03:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            events: 450,
            hours: 1,
            issues: 1,
        });
        let why = storm_guard(Some(&data), &c).unwrap();
        assert!(why.contains("`SHOP-7R`"), "{why}");
        c.evidence = vec!["sentry: a spike of 500s".to_owned()];
        let why = storm_guard(Some(&data), &c).unwrap();
        assert!(why.contains("in a Sentry error storm (450 events"), "{why}");
    }

    #[test]
    fn the_prompt_fences_evidence_and_names_the_rules() {
        let c = &sku_candidate();
        let config = crate::config::parse(
            r#"{"projects":{"shop":{"working_directory":"/tmp","test_command":"sh t.sh"}}}"#,
            Path::new("/tmp/p.json"),
            Path::new("/tmp"),
            &crate::env::Env::from_pairs([]),
        )
        .unwrap();
        let rules = PathRules::new(&["src/".to_owned()], &[]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("CLAUDE.md"), "Always use tabs.").unwrap();
        let prompt_for = |launcher| {
            prompt(
                c,
                &config.projects[0],
                &[],
                &rules,
                dir.path(),
                "sh t.sh",
                launcher,
            )
        };
        let p = prompt_for(None);
        assert!(p.contains("BEGIN UNTRUSTED EVIDENCE\n- logs: KeyError\nEND UNTRUSTED EVIDENCE"));
        assert!(p.contains("Only change files under: src/."));
        assert!(p.contains("**/.env*"));
        assert!(p.contains("BEGIN PROJECT RULES\nAlways use tabs.\nEND PROJECT RULES"));
        assert!(p.contains("runs `sh t.sh`"));
        assert!(p.contains("Use only the file tools."));
        let p = prompt_for(Some(LAUNCHER));
        assert!(
            p.contains("the one command you may run is `daydream-run-tests`, which runs `sh t.sh` in a sandbox"),
            "{p}"
        );
    }
}
