//! `daydream build SPEC.md --project SLUG`: a feature built by parallel streams on the fix engine. A coordinator
//! call splits the spec into streams ([`manifest`]); each stream is one confined model call in its own worktree,
//! started as soon as the streams it comes after are done, up to `--streams` at once ([`streams`]); their commits
//! are merged in dependency order and verified by the whole suite and the checks, with one repair call, then
//! squashed into one commit on `daydream/build-<spec>` ([`integrate`]); the [`summary`] says what it took.
//!
//! The user's checkout is never touched: every worktree is removed at the end, after a failure and after
//! Ctrl-C too; only the build's branch stays, and only when it landed.

pub(crate) mod integrate;
pub(crate) mod manifest;
pub(crate) mod streams;
pub(crate) mod summary;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::budget::{Allowance, Budget, Purpose};
use crate::cancel::Cancel;
use crate::claude::{Claude, Request, Tools};
use crate::config::Project;
use crate::exit_codes;
use crate::fix::PathRules;
use crate::fix::builds::{self, Outcome, Record};
use crate::fix::engine::Limits;
use crate::sandbox::Jail;
use crate::setup::Setup;
use manifest::Manifest;

/// The coordinator answers from the prompt alone: a few turns are plenty.
const COORDINATOR_TURNS: u32 = 8;
/// Minutes the whole build may take: no call starts after that.
const MAX_MINUTES: u64 = 60;

/// What `daydream build` was asked to do.
#[derive(Debug)]
pub(crate) struct BuildOptions {
    pub(crate) spec: PathBuf,
    pub(crate) project: String,
    pub(crate) streams: usize,
    pub(crate) dry_run: bool,
    pub(crate) pr: bool,
}

/// What every part of one build shares.
pub(crate) struct Cx<'a> {
    pub(crate) setup: &'a Setup,
    pub(crate) project: &'a Project,
    pub(crate) command: &'a str,
    pub(crate) cancel: &'a Cancel,
    pub(crate) budget: &'a Budget,
    pub(crate) limits: Limits,
    pub(crate) jail: Jail,
    /// The protected paths (the defaults and the project's): no stream or repair may touch them.
    pub(crate) rules: PathRules,
    pub(crate) manifest: Manifest,
    pub(crate) spec: String,
    pub(crate) spec_name: String,
    /// The default branch's commit every stream starts from.
    pub(crate) base_commit: String,
    /// Tells the user what the build is doing, one line at a time (from any thread).
    pub(crate) progress: &'a (dyn Fn(&str) + Sync),
}

/// Runs `daydream build`; returns the exit code: 0 when the build landed (or the dry run planned it), 1 when
/// it failed.
#[expect(
    clippy::too_many_lines,
    reason = "the build in order: checks, coordinator, plan, streams, integration, push, record"
)]
pub(crate) fn run(setup: &Setup, opts: &BuildOptions, out: &mut dyn Write) -> Result<u8> {
    let config = setup.load_config()?;
    crate::runner::select_projects(&config, std::slice::from_ref(&opts.project))?;
    let project = config
        .projects
        .iter()
        .find(|p| p.slug == opts.project)
        .expect("select_projects checked the slug");
    let spec = std::fs::read_to_string(&opts.spec).map_err(|err| {
        crate::UsageError(format!(
            "failed to read the spec `{}`: {err}",
            opts.spec.display()
        ))
    })?;
    if spec.trim().is_empty() {
        return Err(
            crate::UsageError(format!("the spec `{}` is empty", opts.spec.display())).into(),
        );
    }
    let Some(command) = project.test_command.as_deref() else {
        return Err(crate::UsageError(format!(
            "project `{}` has no `test_command`: a build is verified by the project's tests\n  fix: add `\"test_command\"` to it in `{}`",
            project.slug,
            config.path.display()
        ))
        .into());
    };
    if let Some(why) = &project.unavailable {
        bail!("project `{}` is not available here: {why}", project.slug);
    }
    if opts.pr && project.github.is_none() {
        return Err(crate::UsageError(format!(
            "`--pr` needs the project's GitHub repository\n  fix: add `\"github\": {{\"org\": ..., \"repo\": ...}}` to `{}` in `{}`",
            project.slug,
            config.path.display()
        ))
        .into());
    }
    let Some(session) = crate::fixer::Session::start(setup, "build", opts.dry_run)? else {
        return Ok(exit_codes::LOCKED);
    };
    let (cancel, budget) = (&session.cancel, &session.budget);
    if !opts.dry_run {
        let removed = streams::remove_leftovers(&project.dir, cancel);
        if removed > 0 {
            writeln!(
                out,
                "removed {removed} stream branch(es) left by a build that was killed"
            )?;
        }
    }
    let spec_name = spec_name(&opts.spec);
    let (base, start) = crate::fix::worktree::default_base(&project.dir, cancel)?;
    let base_commit = crate::fix::worktree::git_out(
        &project.dir,
        cancel,
        &["rev-parse", "--verify", &format!("{start}^{{commit}}")],
    )?
    .trim()
    .to_owned();
    let tracked: Vec<String> = crate::fix::worktree::git_out(
        &project.dir,
        cancel,
        &["ls-tree", "-r", "-z", "--name-only", &base_commit],
    )?
    .split('\0')
    .filter(|f| !f.is_empty())
    .map(str::to_owned)
    .collect();
    let limits = Limits::from_env(&setup.env, 1, MAX_MINUTES, project.tests.timeout)?;

    let progress_line = |line: &str| {
        let _ = writeln!(std::io::stderr(), "{}: {line}", project.slug);
    };
    progress_line(&format!(
        "asking the coordinator to split `{}` into streams",
        opts.spec.display()
    ));
    let coordinated = coordinate(
        setup,
        budget,
        cancel,
        &limits,
        project,
        &manifest::prompt(&spec, &tracked, command),
    );
    let (answer, coordinator_cost) = match coordinated {
        Ok(done) => done,
        Err(_) if cancel.signal().is_some() => {
            return stopped(
                out,
                cancel,
                "the coordinator call was ended; nothing else started",
            );
        }
        Err(err) => return Err(err),
    };
    let manifest =
        Manifest::check(&answer, &tracked).context("the coordinator's manifest was refused")?;
    if opts.dry_run {
        out.write_all(summary::plan(&manifest, &spec_name, &base, opts.streams).as_bytes())?;
        writeln!(
            out,
            "\ndry run: no stream was started and no branch was kept (the coordinator cost ${coordinator_cost:.2})"
        )?;
        return Ok(exit_codes::OK);
    }
    let jail = Jail::new(
        project.sandbox,
        project.sandbox_network,
        &setup.env,
        &setup.paths.root,
    )
    .map_err(anyhow::Error::msg)?;
    if jail.kind().is_none() {
        progress_line(
            "warning: no sandbox on this machine: the tests run unconfined (`\"sandbox\": \"required\"` refuses that)",
        );
    }
    let rules = PathRules::new(&[], &project.autofix.protected_paths)?;
    let cx = Cx {
        setup,
        project,
        command,
        cancel,
        budget,
        limits,
        jail,
        rules,
        manifest,
        spec,
        spec_name,
        base_commit,
        progress: &progress_line,
    };
    out.write_all(summary::plan(&cx.manifest, &cx.spec_name, &base, opts.streams).as_bytes())?;
    let mut branches = streams::Branches {
        repo: &project.dir,
        names: Vec::new(),
    };
    let started = Instant::now();
    let streams = streams::run(&cx, opts.streams.max(1), started, &mut branches);
    let streams_wall = started.elapsed();
    let all_committed = streams.iter().all(|s| s.commit().is_some());
    let mut integration = None;
    if all_committed && cancel.signal().is_none() {
        let branch = crate::fix::worktree::free_branch(
            &project.dir,
            cancel,
            &format!("daydream/build-{}", cx.spec_name),
        );
        let done = integrate::run(&cx, &streams, &branch);
        integration = Some(done);
    }
    let mut pushed = None;
    if opts.pr
        && let Some(integrate::Integration {
            result: Ok(landed), ..
        }) = &integration
        && cancel.signal().is_none()
    {
        pushed = Some(integrate::publish(&cx, landed, &base));
    }
    let total = started.elapsed();
    let cost = coordinator_cost
        + streams.iter().map(|s| s.cost_usd).sum::<f64>()
        + integration.as_ref().map_or(0.0, |i| i.cost_usd);
    let outcome = match (&integration, cancel.signal()) {
        (Some(i), _) if i.result.is_ok() => Outcome::Landed,
        (_, Some(_)) => Outcome::Stopped,
        (None, None) => Outcome::StreamFailed,
        (Some(_), None) => Outcome::IntegrationFailed,
    };
    let landed = integration.as_ref().and_then(|i| i.result.as_ref().ok());
    let record = Record {
        time: setup.clock.now(),
        project: project.slug.clone(),
        spec: cx.spec_name.clone(),
        streams: streams.len(),
        outcome,
        wall_secs: total.as_secs_f64(),
        serial_secs: streams.iter().map(|s| s.wall.as_secs_f64()).sum(),
        streams_wall_secs: streams_wall.as_secs_f64(),
        cost_usd: cost,
        repaired: integration.as_ref().is_some_and(|i| i.repaired),
        branch: landed.map(|l| l.branch.clone()),
        pr: pushed.as_ref().and_then(|p| p.as_ref().ok().cloned()),
    };
    if let Err(err) = builds::append(&setup.paths.root, &record) {
        progress_line(&format!("warning: could not record the build: {err:#}"));
    }
    let text = summary::render(&summary::Summary {
        spec_name: &cx.spec_name,
        base: &base,
        streams: &streams,
        streams_wall,
        total,
        coordinator_cost,
        integration: integration.as_ref(),
        pushed: pushed.as_ref(),
    });
    out.write_all(text.as_bytes())?;
    if cancel.signal().is_some() {
        return stopped(
            out,
            cancel,
            "the calls under way were ended and every worktree removed",
        );
    }
    let ok = outcome == Outcome::Landed && pushed.as_ref().is_none_or(Result::is_ok);
    Ok(if ok {
        exit_codes::OK
    } else {
        exit_codes::UNITS_FAILED
    })
}

/// Says that a signal stopped the build, and what became of the work; the exit code of that signal.
fn stopped(out: &mut dyn Write, cancel: &Cancel, what: &str) -> Result<u8> {
    let signal = cancel.signal().unwrap_or(2);
    writeln!(out, "\nstopped by signal {signal}: {what}")?;
    Ok(if signal == 2 {
        exit_codes::SIGINT
    } else {
        exit_codes::SIGTERM
    })
}

/// The coordinator call: the manifest as JSON (`--json-schema`, no tools), and what it cost.
fn coordinate(
    setup: &Setup,
    budget: &Budget,
    cancel: &Cancel,
    limits: &Limits,
    project: &Project,
    prompt: &str,
) -> Result<(serde_json::Value, f64)> {
    let cap = match budget.allowance(Purpose::Autofix)? {
        Allowance::Spend(left) => limits.per_attempt_usd.map_or(left, |p| p.min(left)),
        Allowance::Exhausted(why) => bail!("no coordinator call: {why}"),
    };
    let schema = manifest::schema();
    let ticket = budget.begin("build", &project.slug, Purpose::Autofix, cap)?;
    let reply = Claude::new(&setup.env, cancel.clone()).run(&Request {
        prompt,
        model: &limits.model,
        max_budget_usd: cap,
        max_turns: COORDINATOR_TURNS,
        json_schema: Some(&schema),
        tools: Tools::None,
        timeout: limits.call_timeout,
    });
    let cost = match &reply {
        Ok(r) => Some(r.total_cost_usd),
        Err(e) => e.cost_usd(),
    };
    budget.settle(ticket, cost)?;
    let reply =
        reply.map_err(|err| anyhow::Error::new(err).context("the coordinator call failed"))?;
    let answer = reply
        .structured_output
        .context("the coordinator answered without the manifest")?;
    Ok((answer, cost.unwrap_or(cap)))
}

/// The spec's file name as a branch-name part: `docs/Cart Export.md` is `cart-export`.
pub(crate) fn spec_name(path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut name = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_matches('-').chars().take(40).collect();
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "spec".to_owned()
    } else {
        name.to_owned()
    }
}

/// Seconds with one decimal, for the summary.
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_name_is_a_branch_name_part() {
        assert_eq!(
            spec_name(std::path::Path::new("docs/Cart Export.md")),
            "cart-export"
        );
        assert_eq!(spec_name(std::path::Path::new("SPEC.md")), "spec");
        assert_eq!(spec_name(std::path::Path::new("--.md")), "spec");
        assert_eq!(spec_name(std::path::Path::new("a__b.v2.md")), "a-b-v2");
    }
}
