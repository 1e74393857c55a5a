//! `daydream validate` and `daydream doctor`: is the configuration right, and does this machine have what the
//! steps need?

use std::io::Write;

use anyhow::Result;

use crate::exec::Cmd;
use crate::exit_codes;
use crate::setup::Setup;

/// Checks the configuration; prints a summary, the warnings, or the error with its position and fix.
pub(crate) fn validate(setup: &Setup, out: &mut impl Write) -> Result<u8> {
    let shown = setup.paths.show(&setup.config_path);
    let config = match setup.load_config() {
        Ok(config) => config,
        Err(err) => {
            writeln!(out, "error: {err}")?;
            return Ok(exit_codes::USAGE);
        }
    };
    for warning in &config.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    let ready: Vec<&str> = config
        .projects
        .iter()
        .filter(|p| p.unavailable.is_none())
        .map(|p| p.slug.as_str())
        .collect();
    writeln!(
        out,
        "`{shown}` is valid: {} project(s), {} runnable on this machine",
        config.projects.len(),
        ready.len()
    )?;
    for project in &config.projects {
        match &project.unavailable {
            None => writeln!(out, "  {:<14} {}", project.slug, project.dir.display())?,
            Some(reason) => writeln!(out, "  {:<14} skipped: {reason}", project.slug)?,
        }
    }
    Ok(exit_codes::OK)
}

/// `validate`, then what each step needs: a writable root, git, gh, claude and their tokens.
pub(crate) fn doctor(setup: &Setup, out: &mut impl Write) -> Result<u8> {
    let code = validate(setup, out)?;
    writeln!(out)?;
    let run_dir = setup.paths.run_dir();
    // Probed with a temp file that removes itself: doctor leaves nothing behind, not even `logs/daydream/`.
    let probe = if run_dir.is_dir() {
        &run_dir
    } else {
        &setup.paths.root
    };
    let writable = tempfile::tempfile_in(probe).is_ok();
    line(
        out,
        writable,
        &format!("root is writable (`{}`)", setup.paths.show(&run_dir)),
        "needed by every run: fix the permissions or pass another `--root`",
    )?;
    let git = version(&["git", "--version"]);
    line(
        out,
        git.is_some(),
        &format!("git: {}", git.as_deref().unwrap_or("not found")),
        "cleanup needs git to tell tracked files from artifacts; install git",
    )?;
    let gh_bin = setup.env.get("DAYDREAM_GH").unwrap_or("gh").to_owned();
    let gh = version(&[&gh_bin, "--version"]);
    line(
        out,
        gh.is_some(),
        &format!("gh (`{gh_bin}`): {}", gh.as_deref().unwrap_or("not found")),
        "GitHub steps (tasks, report issues, auto-fix PRs) need the GitHub CLI; see https://cli.github.com",
    )?;
    let claude_bin = setup
        .env
        .get("DAYDREAM_CLAUDE")
        .unwrap_or("claude")
        .to_owned();
    let claude = version(&[&claude_bin, "--version"]);
    line(
        out,
        claude.is_some(),
        &format!(
            "claude (`{claude_bin}`): {}",
            claude.as_deref().unwrap_or("not found")
        ),
        "reflection and auto-fix need Claude Code: `npm install -g @anthropic-ai/claude-code`",
    )?;
    let sandbox = crate::sandbox::detect(&setup.env);
    let (found, what) = match &sandbox {
        Ok(Some(kind)) => (true, format!("sandbox for the tests of fixes: {kind}")),
        Ok(None) => (false, "sandbox for the tests of fixes: none".to_owned()),
        Err(why) => (false, format!("sandbox for the tests of fixes: {why}")),
    };
    line(
        out,
        found,
        &what,
        &format!(
            "{}; until then they run with a cleaned environment only, and projects with \
             `\"sandbox\": \"required\"` get no fixes",
            crate::sandbox::install_hint()
        ),
    )?;
    let (found, what) = crate::steps::sessions::doctor_line(&setup.env);
    line(
        out,
        found,
        &what,
        "the sessions step reads Claude Code's transcripts there, and is skipped without them \
         (`CLAUDE_CONFIG_DIR` names another Claude Code folder)",
    )?;
    scheduling(setup, out)?;
    for (var, need) in [
        ("SENTRY_AUTH_TOKEN", "the sentry step"),
        ("TELEGRAM_BOT_TOKEN", "Telegram notifications"),
    ] {
        let set = setup.env.get(var).is_some();
        line(
            out,
            set,
            &format!("{var} {}", if set { "is set" } else { "is not set" }),
            &format!("{need}: skipped without it (put it in `.env`)"),
        )?;
    }
    Ok(code)
}

/// How the nightly run is scheduled: this machine's scheduler, and the GitHub Actions workflow if the root has one.
fn scheduling(setup: &Setup, out: &mut impl Write) -> std::io::Result<()> {
    let schedule = crate::schedule::doctor_line(
        &setup.env,
        &setup.paths.root,
        setup.clock.now().naive_local(),
    );
    line(
        out,
        schedule.is_some(),
        &schedule.unwrap_or_else(|| "no schedule installed for this root".to_owned()),
        "`daydream schedule install` runs it every night (systemd, launchd or cron; `--help` says which)",
    )?;
    if crate::workflow::installed(&setup.paths.root) {
        line(
            out,
            true,
            &format!(
                "GitHub Actions: `{}` runs the projects as a matrix",
                crate::workflow::WORKFLOW
            ),
            "",
        )?;
    }
    Ok(())
}

fn line(out: &mut impl Write, ok: bool, what: &str, fix: &str) -> std::io::Result<()> {
    if ok {
        writeln!(out, "  ok    {what}")
    } else {
        writeln!(out, "  miss  {what}\n        {fix}")
    }
}

fn version(argv: &[&str]) -> Option<String> {
    let done = Cmd::new(argv[0])
        .args(&argv[1..])
        .timeout(std::time::Duration::from_secs(10))
        .run()
        .ok()?;
    String::from_utf8_lossy(&done.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_owned())
}
