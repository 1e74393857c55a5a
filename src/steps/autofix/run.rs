//! The fix run of one project: prerequisites, gates, the attempt, the pull request.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::attempts::{Attempt, pushed_without_pr, recent_failures, record_attempt};
use super::data::{FixData, FixStatus};
use super::pull::{DRAFT, PullKind, open_pull, pr_body, prompt};
use super::storm::{sentry_data, storm_guard};
use super::{LABEL, LAUNCHER, RETRY_AFTER_HOURS, STEP_START, Settings, marker};
use crate::budget::{Allowance, Budget, Purpose};
use crate::claude::{Claude, ClaudeError, Request, Tools};
use crate::config::Project;
use crate::fix::engine::{self, Engine, Limits};
use crate::fix::metrics::Source;
use crate::fix::suite::Suite;
use crate::fix::{self, PathRules, Worktree};
use crate::github::{Gh, GhError, IssueState};
use crate::notify::{Notifier, Summary};
use crate::redact::redact;
use crate::sandbox::{Jail, Policy};
use crate::step::{UnitCx, Warnings};
use crate::text::squeeze;
use crate::{ignore, lessons};

pub(super) struct FixRun<'a> {
    pub(super) project: &'a Project,
    pub(super) settings: Settings,
    pub(super) warnings: &'a mut Warnings,
    pub(super) gh: Gh,
    pub(super) budget: Budget,
    pub(super) attempted_elsewhere: u32,
    /// The default branch, once asked.
    pub(super) base: Option<String>,
    /// How the tests of a fix run, once the prerequisites passed.
    pub(super) jail: Option<Jail>,
}

impl FixRun<'_> {
    pub(super) fn decide_all(&mut self, cx: &mut UnitCx<'_>, data: &mut FixData) -> Result<()> {
        let project = self.project;
        // What every candidate needs, checked once.
        let blocker = self.prerequisites(cx);
        let (ignored, bad) = ignore::load(cx.root())?;
        if bad > 0 {
            self.warnings.push(format!(
                "{bad} line(s) of `data/daydream_ignore.jsonl` could not be read and were skipped"
            ));
        }
        let failures = recent_failures(cx.root(), &project.slug, cx.run.clock.now());
        // A fix pushed on an earlier day whose PR never got opened (its unit gave up): open it now.
        if blocker.is_none() && !cx.run.dry_run {
            let orphans = pushed_without_pr(cx.root(), &project.slug);
            for c in &mut data.candidates {
                if c.status == FixStatus::Skipped
                    && c.reason.is_empty()
                    && orphans.contains(&c.fingerprint)
                {
                    c.status = FixStatus::Pushed;
                    "pushed on an earlier day; its PR is opened now".clone_into(&mut c.reason);
                }
            }
        }
        let mut most = 0.0;
        for i in 0..data.candidates.len() {
            let c = &data.candidates[i];
            match c.status {
                FixStatus::Pushing | FixStatus::Pushed => {
                    self.finish_pushed(cx, data, i)?;
                    continue;
                }
                FixStatus::PrOpened if !c.notified => {
                    self.notify(cx, data, i)?;
                    continue;
                }
                FixStatus::Skipped if c.reason.is_empty() => {}
                _ => continue,
            }
            let verdict = self.gates(cx, data, i, blocker.as_deref(), &ignored, &failures);
            let c = &mut data.candidates[i];
            match verdict {
                Gate::Stop(reason) => {
                    c.status = FixStatus::Skipped;
                    c.reason = reason;
                }
                Gate::Go(cap) if cx.run.dry_run || cx.run.no_spend => {
                    let base = self.base.clone().unwrap_or_default();
                    most += cap;
                    c.status = FixStatus::WouldFix;
                    c.reason = format!(
                        "would fix in a worktree of `{base}` on `{}`, spending at most ${cap:.2}; dry run: no worktree, model call, push or PR",
                        super::branch_for(&c.fingerprint)
                    );
                    c.base = Some(base);
                }
                Gate::Go(cap) => {
                    self.attempt(cx, data, i, cap)?;
                }
            }
        }
        if cx.run.dry_run || cx.run.no_spend {
            // Fixes share the auto-fix budget: together they spend at most what it has left.
            let left = match self.budget.allowance(Purpose::Autofix)? {
                Allowance::Spend(left) => left,
                Allowance::Exhausted(_) => 0.0,
            };
            data.most_usd = Some(f64::min(most, left));
        }
        Ok(())
    }

    /// Why no candidate of the project can be fixed here, if none can.
    pub(super) fn prerequisites(&mut self, cx: &UnitCx<'_>) -> Option<String> {
        let project = self.project;
        let Some(repo) = &project.github else {
            return Some(
                "no `github` for this project in projects.json: nowhere to open a pull request"
                    .to_owned(),
            );
        };
        if project
            .test_command
            .as_deref()
            .is_none_or(|t| t.trim().is_empty())
        {
            return Some(
                "no `test_command` for this project: a fix that no test has checked is never proposed; set `test_command` in projects.json"
                    .to_owned(),
            );
        }
        if let Err(err) = PathRules::new(
            &project.autofix.safe_paths,
            &project.autofix.protected_paths,
        ) {
            return Some(format!("{err:#}; fix the pattern in projects.json"));
        }
        if fix::origin(&project.dir, &cx.run.cancel).is_none() {
            return Some("the project has no `origin` remote to push a fix branch to".to_owned());
        }
        match Jail::new(
            project.sandbox,
            project.sandbox_network,
            &cx.run.env,
            cx.root(),
        ) {
            Ok(jail) => {
                if jail.kind().is_none() && project.sandbox == Policy::Auto {
                    self.warnings.push(format!(
                        "the tests of fixes run without a sandbox on this machine (only the environment is \
                         cleaned): {}, or set `\"sandbox\": \"required\"` to refuse",
                        crate::sandbox::install_hint()
                    ));
                }
                self.jail = Some(jail);
            }
            Err(why) => return Some(why),
        }
        match self.gh.default_branch(repo) {
            Ok(base) => self.base = Some(base),
            Err(err) => {
                return Some(format!(
                    "could not read the default branch from GitHub ({err}); no fix without it"
                ));
            }
        }
        None
    }

    pub(super) fn gates(
        &mut self,
        cx: &UnitCx<'_>,
        data: &FixData,
        i: usize,
        blocker: Option<&str>,
        ignored: &[ignore::Entry],
        failures: &[Attempt],
    ) -> Gate {
        let c = &data.candidates[i];
        if let Some(why) = blocker {
            return Gate::Stop(why.to_owned());
        }
        if let Some(entry) = ignore::find(ignored, cx.run.date, &c.fingerprint, &c.pattern) {
            let mut why = format!(
                "on the ignore list (`{}`, until {})",
                entry.pattern, entry.expires
            );
            if let Some(reason) = &entry.reason {
                let _ = write!(why, ": {reason}");
            }
            return Gate::Stop(why);
        }
        if let Some(why) = storm_guard(sentry_data(cx, &self.project.slug).as_ref(), c) {
            return Gate::Stop(why);
        }
        if let Some(failed) = failures.iter().find(|a| a.fingerprint == c.fingerprint) {
            let again = failed.time + chrono::Duration::hours(RETRY_AFTER_HOURS);
            return Gate::Stop(format!(
                "a fix attempt failed on {} ({}: {}); not retried before {}",
                failed.time.format("%Y-%m-%d %H:%M"),
                failed.status.label(),
                failed.reason,
                again.format("%Y-%m-%d %H:%M")
            ));
        }
        if let Some(why) = self.duplicate(cx, &c.fingerprint) {
            return Gate::Stop(why);
        }
        // A dry run counts the fixes it would start, so its preview stops where the real run would.
        let started_here = data
            .candidates
            .iter()
            .filter(|c| c.status.attempted() || c.status == FixStatus::WouldFix)
            .count();
        let started = self.attempted_elsewhere as usize + started_here;
        if started >= self.settings.max_fixes as usize {
            return Gate::Stop(format!(
                "the limit of {} fixes per run is reached (`DAYDREAM_AUTO_FIX_MAX_FIXES`)",
                self.settings.max_fixes
            ));
        }
        if self.time_left().is_none() {
            return Gate::Stop(format!(
                "the step's wall-clock cap of {} min is reached (`DAYDREAM_AUTO_FIX_STEP_MINUTES`)",
                self.settings.step_cap.as_secs() / 60
            ));
        }
        match self.budget.allowance(Purpose::Autofix) {
            Ok(Allowance::Spend(left)) => {
                Gate::Go(self.settings.per_fix_usd.map_or(left, |p| p.min(left)))
            }
            Ok(Allowance::Exhausted(why)) => Gate::Stop(why),
            Err(err) => Gate::Stop(format!("could not read the budget: {err:#}")),
        }
    }

    /// Why an earlier fix of this fingerprint means no new one: a PR or issue with its marker, a PR from its
    /// branch (open or closed: a closed one is a human's "no"), or the branch on `origin` or here.
    pub(super) fn duplicate(&self, cx: &UnitCx<'_>, fp: &str) -> Option<String> {
        let project = self.project;
        let repo = project.github.as_ref()?;
        let branch = super::branch_for(fp);
        let mark = marker(fp);
        let on_github = || -> Result<Option<String>, GhError> {
            let items = self.gh.issues_and_pulls(repo, IssueState::All, LABEL)?;
            if let Some(item) = items.iter().find(|i| i.body.contains(&mark)) {
                return Ok(Some(format!(
                    "already handled: {} ({}) carries its marker",
                    item.html_url, item.state
                )));
            }
            let pulls = self.gh.pulls_from(repo, &branch)?;
            Ok(pulls.first().map(|pull| {
                format!(
                    "already handled: {} ({}) is from `{branch}`",
                    pull.html_url, pull.state
                )
            }))
        };
        match on_github() {
            Ok(Some(why)) => return Some(why),
            Ok(None) => {}
            Err(err) => {
                return Some(format!(
                    "could not check GitHub for an earlier fix ({err}); not risking a duplicate"
                ));
            }
        }
        match fix::remote_has(&project.dir, &cx.run.cancel, &branch) {
            Ok(true) => return Some(format!("the branch `{branch}` already exists on `origin`")),
            Ok(false) => {}
            Err(err) => {
                return Some(format!("{err:#}; not risking a duplicate"));
            }
        }
        if fix::local_has(&project.dir, &cx.run.cancel, &branch) {
            return Some(format!(
                "the branch `{branch}` already exists in the project (delete it to let auto-fix try)"
            ));
        }
        None
    }

    pub(super) fn time_left(&self) -> Option<Duration> {
        let start = STEP_START.get_or_init(Instant::now);
        self.settings
            .step_cap
            .checked_sub(start.elapsed())
            .filter(|d| !d.is_zero())
    }

    /// One fix, recorded before and after each side effect.
    pub(super) fn attempt(
        &mut self,
        cx: &mut UnitCx<'_>,
        data: &mut FixData,
        i: usize,
        cap: f64,
    ) -> Result<()> {
        let project = self.project;
        let started = Instant::now();
        let fp = data.candidates[i].fingerprint.clone();
        let branch = super::branch_for(&fp);
        let base = self.base.clone().unwrap_or_default();
        {
            let c = &mut data.candidates[i];
            c.status = FixStatus::Fixing;
            c.reason = format!("fixing on `{branch}` from `{base}`");
            c.base = Some(base.clone());
        }
        save(cx, data)?;
        let result = self.fix(cx, data, i, cap, &base, &branch);
        let c = &mut data.candidates[i];
        c.duration_secs = started.elapsed().as_secs();
        match result {
            Ok(()) => {}
            Err(err) if is_interrupted(&err) => return Err(err),
            Err(err) => {
                c.status = FixStatus::Failed;
                c.reason = format!("{err:#}");
            }
        }
        if c.status.failed() {
            fix::discard(&project.dir, &branch);
            record_attempt(cx, project, c);
        }
        save(cx, data)?;
        if data.candidates[i].status == FixStatus::Pushed {
            self.finish_pushed(cx, data, i)?;
        }
        Ok(())
    }

    /// The worktree, Claude, the checks, the tests, the commit and the push. Sets the candidate's status.
    #[expect(
        clippy::too_many_lines,
        reason = "the fix's side effects in order, each saved before the next"
    )]
    pub(super) fn fix(
        &mut self,
        cx: &mut UnitCx<'_>,
        data: &mut FixData,
        i: usize,
        cap: f64,
        base: &str,
        branch: &str,
    ) -> Result<()> {
        let project = self.project;
        let cancel = cx.run.cancel.clone();
        let prepared = self.prepare(cx, base, branch)?;
        if is_tests(&data.candidates[i]) {
            return self.fix_tests(cx, data, i, cap, prepared);
        }
        if data.candidates[i].sentry.is_some() {
            return self.fix_sentry(cx, data, i, cap, prepared);
        }
        let Prepared {
            rules,
            test_command,
            worktree,
            jail,
            ..
        } = prepared;
        let git_dir = worktree.git_dir()?;
        // With `allow_test_command`, Claude may run the tests, but only confined, through a launcher it cannot
        // edit.
        let launcher = if project.autofix.allow_test_command {
            Some(jail.launcher(
                worktree.dir(),
                std::slice::from_ref(&git_dir),
                &test_command,
                &worktree.beside(LAUNCHER),
            )?)
        } else {
            None
        };
        let launcher_dir = launcher.as_ref().and_then(|l| l.path.parent());
        let (known, _) = lessons::load(cx.root())?;
        let prompt = prompt(
            &data.candidates[i],
            project,
            &known,
            &rules,
            worktree.dir(),
            &test_command,
            launcher.as_ref().map(|_| LAUNCHER),
        );
        let timeout = self
            .time_left()
            .map_or(Duration::ZERO, |left| left.min(self.settings.fix_timeout));
        let claude = Claude::new(&cx.run.env, cancel.clone());
        let ticket = self
            .budget
            .begin("autofix", &project.slug, Purpose::Autofix, cap)?;
        let cap = ticket.cap();
        let reply = claude.run(&Request {
            prompt: &prompt,
            model: &self.settings.model,
            max_budget_usd: cap,
            max_turns: self.settings.max_turns,
            json_schema: None,
            tools: Tools::Files {
                dir: worktree.dir(),
                bash: launcher.as_ref().map(|_| LAUNCHER),
                bin: launcher_dir,
            },
            timeout,
        });
        let cost = match &reply {
            Ok(r) => Some(r.total_cost_usd),
            Err(e) => e.cost_usd(),
        };
        self.budget.settle(ticket, cost)?;
        let c = &mut data.candidates[i];
        c.cost_usd += cost.unwrap_or(cap);
        let reply = match reply {
            Ok(reply) => reply,
            Err(ClaudeError::Interrupted(i)) => {
                return Err(anyhow::Error::new(i).context("the fix was stopped"));
            }
            Err(err) => {
                c.status = match err {
                    ClaudeError::BudgetStop { .. } => FixStatus::BudgetStop,
                    ClaudeError::TimedOut { .. } => FixStatus::TimedOut,
                    _ => FixStatus::Failed,
                };
                c.reason = err.to_string();
                return Ok(());
            }
        };
        c.note = Some(fix::tail(&redact(&reply.result), 1500));
        if !reply.permission_denials.is_empty() {
            self.warnings.push(format!(
                "Claude asked for {} tool use(s) outside the fix's allow-list while fixing `{}`; they were refused",
                reply.permission_denials.len(),
                c.fingerprint
            ));
        }
        save(cx, data)?;

        let c = &mut data.candidates[i];
        let diff = match worktree.stage_and_check(&rules)? {
            Ok(diff) => diff,
            Err(why) => {
                c.status = FixStatus::Rejected;
                c.reason = format!("diff rejected: {why}");
                return Ok(());
            }
        };
        c.diff = Some(diff);
        let timeout = self
            .time_left()
            .map_or(Duration::ZERO, |left| left.min(self.settings.test_timeout));
        c.sandbox = jail.kind().map(ToString::to_string);
        let staged = worktree.staged_tree()?;
        match fix::run_tests(
            &jail,
            worktree.dir(),
            &git_dir,
            &test_command,
            timeout,
            &cancel,
        )? {
            Ok(output) => c.tests = Some(redact(&output).into_owned()),
            Err(why) => {
                c.status = FixStatus::TestsFailed;
                c.reason = format!("tests failed after the fix: {}", redact(&why));
                return Ok(());
            }
        }
        if let Err(why) = worktree.check_after_tests(&staged)? {
            c.status = FixStatus::Rejected;
            c.reason = format!("rejected after the tests: {why}");
            return Ok(());
        }
        let message = format!(
            "Fix: {}\n\n{}\n\nProposed by daydream auto-fix; fingerprint {}.",
            squeeze(&c.summary, 60),
            c.prevention,
            c.fingerprint
        );
        c.commit = Some(worktree.commit(&message)?);
        c.status = FixStatus::Committed;
        c.reason = format!("committed on `{branch}`");
        save(cx, data)?;
        self.push_commit(cx, data, i, branch, worktree)
    }

    /// Pushes the candidate's commit from its worktree's branch, recorded before and after.
    pub(super) fn push_commit(
        &mut self,
        cx: &mut UnitCx<'_>,
        data: &mut FixData,
        i: usize,
        branch: &str,
        worktree: Worktree,
    ) -> Result<()> {
        let project = self.project;
        let cancel = cx.run.cancel.clone();
        let commit = data.candidates[i].commit.clone().unwrap_or_default();
        data.candidates[i].status = FixStatus::Pushing;
        save(cx, data)?;
        crash_point(cx, "pushing");
        let pushed = fix::push(&project.dir, &cancel, &commit, branch)?;
        drop(worktree);
        let c = &mut data.candidates[i];
        if pushed {
            c.status = FixStatus::Pushed;
            c.reason = format!("pushed `{branch}` to `origin`");
            record_attempt(cx, project, c);
        } else {
            c.status = FixStatus::Skipped;
            c.reason = format!("another machine pushed `{branch}` first; its PR is theirs");
        }
        save(cx, data)?;
        crash_point(cx, "pushed");
        Ok(())
    }

    /// The fix loop's limits for one candidate: the auto-fix settings, at most `cap` for the whole loop, the
    /// step's time left, and each test of a root cause passing `confirm_runs` times.
    pub(super) fn loop_limits(&self, cap: f64, confirm_runs: u32) -> Limits {
        Limits {
            max_attempts: engine::DEFAULT_MAX_ATTEMPTS,
            deadline: Instant::now() + self.time_left().unwrap_or_default(),
            per_attempt_usd: self.settings.per_fix_usd,
            total_usd: Some(cap),
            model: self.settings.model.clone(),
            max_turns: self.settings.max_turns,
            call_timeout: self.settings.fix_timeout,
            test_timeout: self.project.tests.timeout,
            confirm_runs,
        }
    }

    /// What every fix starts from: the rules, the test command, the worktree of `base` on `branch`, the jail.
    fn prepare(&self, cx: &UnitCx<'_>, base: &str, branch: &str) -> Result<Prepared> {
        let project = self.project;
        Ok(Prepared {
            rules: PathRules::new(
                &project.autofix.safe_paths,
                &project.autofix.protected_paths,
            )?,
            test_command: project.test_command.clone().unwrap_or_default(),
            worktree: Worktree::create(&project.dir, base, branch, &cx.run.cancel)?,
            jail: self
                .jail
                .clone()
                .context("the sandbox was not decided before the fix")?,
            base: base.to_owned(),
            branch: branch.to_owned(),
        })
    }

    /// Tonight's failing tests through the fix loop, in a worktree of `base` on `branch`: each verified fix is
    /// a commit there; when there is at least one, the branch is pushed for one draft PR.
    fn fix_tests(
        &mut self,
        cx: &mut UnitCx<'_>,
        data: &mut FixData,
        i: usize,
        cap: f64,
        prepared: Prepared,
    ) -> Result<()> {
        let project = self.project;
        let cancel = cx.run.cancel.clone();
        let Prepared {
            rules,
            test_command: command,
            worktree,
            jail,
            base,
            branch,
        } = prepared;
        let (base, branch) = (base.as_str(), branch.as_str());
        let suite = Suite::in_worktree(&jail, &worktree, &command, &project.tests, &cancel)?;
        let limits = self.loop_limits(cap, 1);
        let slug = project.slug.clone();
        let mut progress = |line: &str| tracing::info!("autofix {slug}: {line}");
        let mut engine = Engine {
            project,
            root: cx.root(),
            env: &cx.run.env,
            clock: &cx.run.clock,
            cancel: &cancel,
            worktree: &worktree,
            suite,
            rules,
            budget: &self.budget,
            limits,
            run_id: format!("autofix-{}-{}", cx.run.date, std::process::id()),
            source: Source::Tests,
            progress: &mut progress,
            spent_usd: 0.0,
            committed: 0,
            trailer: String::new(),
        };
        let triage = engine.triage()?;
        let fixed = engine.fix_all(&triage)?;
        let spent = engine.spent_usd;
        drop(engine);
        let c = &mut data.candidates[i];
        c.cost_usd += spent;
        c.sandbox = jail.kind().map(ToString::to_string);
        let mut note = String::new();
        for f in &fixed {
            let tests = f.root.tests().join(", ");
            let _ = match &f.result {
                Ok(_) => writeln!(
                    note,
                    "- fixed `{tests}` (root cause `{}`): {}",
                    f.root.key, f.approach
                ),
                Err(why) => writeln!(
                    note,
                    "- not fixed `{tests}`: {} ({})",
                    why.describe(f.attempts),
                    f.detail
                ),
            };
        }
        for f in &triage.flaky {
            let _ = writeln!(note, "- flaky, left alone: `{}`", f.test);
        }
        c.note = Some(redact(&note).into_owned());
        let good = fixed.iter().filter(|f| f.result.is_ok()).count();
        c.tests = Some(format!(
            "{} root cause(s) failing on `{base}`, {good} fixed; each fix passed its tests alone and the whole \
             suite gained no failure",
            triage.roots.len()
        ));
        if triage.roots.is_empty() {
            c.status = FixStatus::Skipped;
            "the failures did not reproduce in the fix's worktree (flaky or already fixed)"
                .clone_into(&mut c.reason);
            return Ok(());
        }
        if good == 0 {
            c.status = FixStatus::TestsFailed;
            c.reason = format!(
                "no failing test could be fixed and verified:\n{}",
                note.trim_end()
            );
            return Ok(());
        }
        c.diff = Some(worktree.diff_since(&format!("refs/remotes/origin/{base}"))?);
        c.commit = Some(worktree.head()?);
        c.status = FixStatus::Committed;
        c.reason = format!("{good} verified fix(es) committed on `{branch}`");
        save(cx, data)?;
        self.push_commit(cx, data, i, branch, worktree)
    }

    /// The PR of a pushed fix (also after a kill between the push and the PR), then its notification.
    pub(super) fn finish_pushed(
        &mut self,
        cx: &mut UnitCx<'_>,
        data: &mut FixData,
        i: usize,
    ) -> Result<()> {
        let project = self.project;
        let repo = project
            .github
            .as_ref()
            .context("the project lost its `github` entry")?;
        let branch = super::branch_for(&data.candidates[i].fingerprint);
        if data.candidates[i].status == FixStatus::Pushing {
            // Killed during the push: `origin` says whether it happened.
            if fix::remote_has(&project.dir, &cx.run.cancel, &branch)? {
                data.candidates[i].status = FixStatus::Pushed;
            } else {
                fix::discard(&project.dir, &branch);
                let c = &mut data.candidates[i];
                c.status = FixStatus::Failed;
                "stopped during the push, which did not happen; tried again after the retry delay"
                    .clone_into(&mut c.reason);
                record_attempt(cx, project, c);
                return save(cx, data);
            }
        }
        let base = match data.candidates[i].base.clone() {
            Some(base) => base,
            None => self.gh.default_branch(repo)?,
        };
        let c = &data.candidates[i];
        let body = pr_body(cx, c, project.keep_pii);
        let reviewers = project
            .sentry
            .as_ref()
            .map(|s| s.reviewers.clone())
            .unwrap_or_default();
        let (title, kind, what) = match &c.sentry {
            Some(issue) => (
                format!(
                    "fix: [Sentry-{}] {}",
                    issue.short_id,
                    squeeze(&issue.title, 80)
                ),
                PullKind {
                    labels: super::heal::LABELS,
                    draft: false,
                    reviewers: &reviewers,
                },
                "PR ready for review",
            ),
            None => (
                format!("daydream: fix {}", squeeze(&c.summary, 70)),
                DRAFT,
                "draft PR",
            ),
        };
        let url = open_pull(&self.gh, repo, &title, &branch, &base, &body, &kind)?;
        let c = &mut data.candidates[i];
        c.status = FixStatus::PrOpened;
        c.reason = format!("{what} opened from `{branch}` into `{base}`");
        if let Some(issue) = &c.sentry {
            super::heal::record(
                cx.root(),
                &crate::fix::healing::Record {
                    time: cx.run.clock.now(),
                    project: project.slug.clone(),
                    short_id: issue.short_id.clone(),
                    event: crate::fix::healing::Event::PrOpened,
                    first_seen: issue.first_seen,
                    pr: Some(url.clone()),
                    others_commits: None,
                },
            );
        }
        c.pr_url = Some(url);
        record_attempt(cx, project, c);
        save(cx, data)?;
        self.notify(cx, data, i)
    }

    /// Posts a created PR to the project's channels, once: recorded before it is sent.
    pub(super) fn notify(
        &mut self,
        cx: &mut UnitCx<'_>,
        data: &mut FixData,
        i: usize,
    ) -> Result<()> {
        let project = self.project;
        let notifier = Notifier::from_env(&cx.run.env).with_cancel(cx.run.cancel.clone());
        let chat = project.telegram_chat_id.as_deref();
        data.candidates[i].notified = true;
        if notifier.channels(chat).is_empty() {
            return Ok(());
        }
        save(cx, data)?;
        let c = &data.candidates[i];
        let summary = Summary {
            date: cx.run.date,
            project: &project.name,
            counts: vec![(
                "auto-fix".to_owned(),
                if c.sentry.is_some() {
                    "pull request opened"
                } else {
                    "draft pull request opened"
                }
                .to_owned(),
            )],
            actions: vec![format!(
                "Review the {}: {}",
                if c.sentry.is_some() {
                    "fix"
                } else {
                    "draft fix"
                },
                c.summary
            )],
            link: c.pr_url.clone(),
            keep_pii: project.keep_pii,
        };
        for (channel, result) in notifier.send(&summary, chat) {
            if let Err(err) = result {
                self.warnings
                    .push(format!("failed to post the draft PR to {channel}: {err}"));
            }
        }
        Ok(())
    }
}

/// Whether the candidate is the night's failing tests (rather than a reflection).
pub(super) fn is_tests(c: &super::data::Candidate) -> bool {
    c.fingerprint.starts_with(super::TESTS_PREFIX)
}

pub(super) fn save(cx: &mut UnitCx<'_>, data: &FixData) -> Result<()> {
    cx.checkpoint(serde_json::to_value(data)?)
}

pub(super) fn is_interrupted(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.downcast_ref::<crate::cancel::Interrupted>().is_some())
}

/// `DAYDREAM_TEST_CRASH_AT=<point>` ends the process at once there, as a kill would (tests only).
pub(super) fn crash_point(cx: &UnitCx<'_>, point: &str) {
    if cx.run.env.get("DAYDREAM_TEST_CRASH_AT") == Some(point) {
        eprintln!("daydream: test crash at `{point}`");
        std::process::abort();
    }
}

/// What [`FixRun::prepare`] set up for one fix.
pub(super) struct Prepared {
    pub(super) rules: PathRules,
    pub(super) test_command: String,
    pub(super) worktree: Worktree,
    pub(super) jail: Jail,
    pub(super) base: String,
    pub(super) branch: String,
}

pub(super) enum Gate {
    /// Go, spending at most this.
    Go(f64),
    Stop(String),
}
