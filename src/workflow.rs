//! `daydream init github-actions`: a workflow that runs the projects of `config/projects.json` on GitHub Actions,
//! one matrix job per project, for a team that has outgrown one machine.
//!
//! The root is the repository the workflow lives in. Each job checks out the root and its project, links the
//! project's checkout to where `config/projects.json` says it is (`~` is the runner's home, a relative path is
//! under the root), restores the project's state and `data/` from the Actions cache (keyed by project and date),
//! runs `daydream run --project <slug>`, and saves them again even when the run failed. Jobs run with
//! `DAYDREAM_MACHINE=github-actions`, so `"machines"` can keep a project on one side or the other.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::{NaiveTime, Timelike};
use serde_json::json;

use crate::UsageError;
use crate::config::{Config, Project};
use crate::exit_codes;
use crate::setup::Setup;

/// Where the workflow goes, under the root.
pub(crate) const WORKFLOW: &str = ".github/workflows/daydream.yml";
/// The machine name jobs run as (`"machines": ["github-actions"]`).
pub(crate) const MACHINE: &str = "github-actions";
/// The repository secrets the jobs read, by the names daydream reads them.
const SECRETS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "GH_TOKEN",
    "SENTRY_AUTH_TOKEN",
    "TELEGRAM_BOT_TOKEN",
];
/// The Claude Code release daydream is tested against.
const CLAUDE_CODE: &str = "@anthropic-ai/claude-code@2.1.328";

/// What `daydream init github-actions` was asked to do.
#[derive(Debug)]
pub(crate) struct Options {
    /// The time of the nightly run, UTC (GitHub's cron runs in UTC).
    pub(crate) at: NaiveTime,
    pub(crate) max_parallel: u16,
    /// What the whole matrix may spend on models in a day, shared equally by the jobs.
    pub(crate) budget_usd: f64,
    /// A git URL to `cargo install` daydream from, when the root is not a clone of daydream itself.
    pub(crate) install_from: Option<String>,
    pub(crate) dry_run: bool,
    pub(crate) force: bool,
}

/// One matrix job.
#[derive(Debug, PartialEq, Eq)]
struct Job {
    slug: String,
    repository: String,
    dir: String,
}

/// How the jobs get the binary.
#[derive(Debug, PartialEq, Eq)]
enum Install {
    /// The root is a clone of daydream: `cargo install --path .`.
    Root,
    Git(String),
}

pub(crate) fn run(setup: &Setup, opts: &Options, out: &mut dyn Write) -> Result<u8> {
    let root = &setup.paths.root;
    let config = setup.load_config()?;
    let config_arg = config_arg(root, &setup.config_path)?;
    let install = match &opts.install_from {
        Some(url) => Install::Git(url.clone()),
        None if is_daydream_clone(root) => Install::Root,
        None => {
            return Err(UsageError(format!(
                "`{}` is not a clone of daydream, so the jobs cannot build it from the root\n  fix: pass \
                 `--install-from <git URL of daydream>`",
                root.display()
            ))
            .into());
        }
    };
    let (jobs, left_out) = jobs(&config);
    if jobs.is_empty() {
        return Err(UsageError(format!(
            "no project of `{}` can run on GitHub Actions:\n{}\n  fix: give each project `\"github\": {{\"org\", \
             \"repo\"}}` (the repository the job checks out)",
            setup.paths.show(&setup.config_path),
            bullets(&left_out)
        ))
        .into());
    }
    let share = per_job(opts.budget_usd, jobs.len())?;
    let text = workflow(&jobs, opts, share, &install, config_arg.as_deref());
    let path = root.join(WORKFLOW);
    if opts.dry_run {
        out.write_all(text.as_bytes())?;
        writeln!(out, "# dry run: `{WORKFLOW}` not written")?;
    } else {
        match std::fs::read_to_string(&path) {
            Ok(old) if old == text => writeln!(out, "`{WORKFLOW}` is up to date")?,
            Ok(_) if !opts.force => {
                return Err(UsageError(format!(
                    "`{}` exists and differs from the workflow daydream would write\n  fix: pass `--force` to \
                     replace it, or `--dry-run` to see the new one",
                    path.display()
                ))
                .into());
            }
            _ => {
                crate::fsutil::write_atomic(&path, text.as_bytes())
                    .with_context(|| format!("failed to write `{}`", path.display()))?;
                writeln!(out, "wrote `{WORKFLOW}`: {} project job(s)", jobs.len())?;
            }
        }
    }
    if !left_out.is_empty() {
        writeln!(out, "left out:\n{}", bullets(&left_out))?;
    }
    if !opts.dry_run {
        writeln!(
            out,
            "next: commit and push `{WORKFLOW}`, then add the repository secrets {} (Settings > Secrets and \
             variables > Actions); GH_TOKEN must read the projects' repositories and write their issues",
            SECRETS.join(", ")
        )?;
    }
    Ok(exit_codes::OK)
}

/// The projects that can run as jobs, and why the others cannot.
fn jobs(config: &Config) -> (Vec<Job>, Vec<String>) {
    let mut jobs = Vec::new();
    let mut left_out = Vec::new();
    for p in &config.projects {
        match job(p) {
            Ok(job) => jobs.push(job),
            Err(why) => left_out.push(format!("{}: {why}", p.slug)),
        }
    }
    (jobs, left_out)
}

fn job(p: &Project) -> Result<Job, String> {
    let Some(gh) = &p.github else {
        return Err("no `github` repository to check out".to_owned());
    };
    if !p.machines.is_empty() && !p.machines.iter().any(|m| m.eq_ignore_ascii_case(MACHINE)) {
        return Err(format!(
            "its `machines` do not include `{MACHINE}`: {}",
            p.machines.join(", ")
        ));
    }
    Ok(Job {
        slug: p.slug.clone(),
        repository: format!("{}/{}", gh.org, gh.repo),
        dir: p.dir_display.clone(),
    })
}

/// Each job's share of the day's budget, in whole cents: the jobs keep separate ledgers, so a shared total is
/// only kept by splitting it.
fn per_job(total: f64, jobs: usize) -> Result<f64> {
    let cents = (total * 100.0 / f64::from(u32::try_from(jobs).unwrap_or(u32::MAX))).floor();
    if !(cents >= 5.0 && cents.is_finite()) {
        return Err(UsageError(format!(
            "${total:.2} shared by {jobs} jobs leaves each less than $0.05, too little for one model call\n  fix: \
             raise `--budget-usd`"
        ))
        .into());
    }
    Ok(cents / 100.0)
}

/// `--config PATH` for the jobs when the projects file is not the default one; it must be in the repository.
fn config_arg(root: &Path, config: &Path) -> Result<Option<String>> {
    if config == root.join("config").join("projects.json") {
        return Ok(None);
    }
    let relative = config.strip_prefix(root).map_err(|_| {
        UsageError(format!(
            "the projects file `{}` is outside the root `{}`, so the jobs cannot see it\n  fix: move it under the \
             root (it is committed with the workflow)",
            config.display(),
            root.display()
        ))
    })?;
    Ok(Some(relative.to_string_lossy().into_owned()))
}

fn is_daydream_clone(root: &Path) -> bool {
    std::fs::read_to_string(root.join("Cargo.toml"))
        .is_ok_and(|manifest| manifest.lines().any(|l| l.trim() == "name = \"daydream\""))
}

fn bullets(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A YAML scalar: a JSON string is a valid YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

fn workflow(
    jobs: &[Job],
    opts: &Options,
    share: f64,
    install: &Install,
    config: Option<&str>,
) -> String {
    let (hour, minute) = (opts.at.hour(), opts.at.minute());
    let mut y = String::new();
    let version = env!("CARGO_PKG_VERSION");
    let _ = writeln!(
        y,
        "# Written by `daydream init github-actions` (daydream {version}): the projects of the root's projects \
         file,\n# one job each. Write it again after changing the projects: `daydream init github-actions \
         --force`.\nname: daydream\n\non:\n  schedule:\n    - cron: \"{minute} {hour} * * *\" # {hour:02}:{minute:02} \
         UTC\n  workflow_dispatch:\n\npermissions:\n  contents: read\n\nconcurrency:\n  group: daydream\n  \
         cancel-in-progress: false\n\njobs:\n  project:\n    name: ${{{{ matrix.slug }}}}\n    runs-on: \
         ubuntu-latest\n    timeout-minutes: 300\n    strategy:\n      fail-fast: false\n      max-parallel: {}\n      \
         matrix:\n        include:",
        opts.max_parallel
    );
    for job in jobs {
        let _ = writeln!(
            y,
            "          - {}",
            json!({"slug": job.slug, "repository": job.repository, "dir": job.dir})
        );
    }
    // The same cap for the run and the day: a job run again by hand the same day restores its ledger.
    let _ = writeln!(
        y,
        "    env:\n      DAYDREAM_MACHINE: {MACHINE}\n      # ${:.2} a day for all {} jobs\n      \
         DAYDREAM_BUDGET_USD: \"{share:.2}\"\n      DAYDREAM_DAILY_BUDGET_USD: \"{share:.2}\"",
        opts.budget_usd,
        jobs.len()
    );
    for secret in SECRETS {
        let _ = writeln!(y, "      {secret}: ${{{{ secrets.{secret} }}}}");
    }
    let (bin_key, install_run) = match install {
        Install::Root => (
            "daydream-bin-${{ runner.os }}-${{ hashFiles('Cargo.lock', 'Cargo.toml', 'src/**') }}"
                .to_owned(),
            "cargo install --locked --path .".to_owned(),
        ),
        Install::Git(url) => (
            format!("daydream-bin-${{{{ runner.os }}}}-{version}"),
            format!("cargo install --locked --git {}", quoted(url)),
        ),
    };
    let config_flag = config
        .map(|c| format!(" --config {}", quoted(c)))
        .unwrap_or_default();
    let _ = write!(
        y,
        r#"    steps:
      - name: Check out the daydream root
        uses: actions/checkout@v4
      - name: Check out ${{{{ matrix.repository }}}}
        uses: actions/checkout@v4
        with:
          repository: ${{{{ matrix.repository }}}}
          token: ${{{{ secrets.GH_TOKEN }}}}
          path: .daydream-checkouts/${{{{ matrix.slug }}}}
          fetch-depth: 0
      - name: Put the checkout where the projects file expects it
        env:
          DIR: ${{{{ matrix.dir }}}}
          SLUG: ${{{{ matrix.slug }}}}
        run: |
          dir="${{DIR/#\~/$HOME}}"
          case "$dir" in /*) ;; *) dir="$GITHUB_WORKSPACE/$dir" ;; esac
          if [ -e "$dir" ] && [ ! -L "$dir" ]; then echo "$dir is part of the root's checkout"; exit 0; fi
          parent="$(dirname "$dir")"
          mkdir -p "$parent" 2>/dev/null || {{ sudo mkdir -p "$parent" && sudo chown "$(id -u)" "$parent"; }}
          ln -sfn "$GITHUB_WORKSPACE/.daydream-checkouts/$SLUG" "$dir"
      - name: Today
        id: today
        run: echo "date=$(date -u +%F)" >> "$GITHUB_OUTPUT"
      - name: Restore the state and data of ${{{{ matrix.slug }}}}
        id: state
        uses: actions/cache/restore@v4
        with:
          path: |
            logs/daydream
            data
          key: daydream-${{{{ matrix.slug }}}}-${{{{ steps.today.outputs.date }}}}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}
          restore-keys: |
            daydream-${{{{ matrix.slug }}}}-${{{{ steps.today.outputs.date }}}}-
            daydream-${{{{ matrix.slug }}}}-
      - name: Cache the daydream binary
        id: bin
        uses: actions/cache@v4
        with:
          path: ~/.cargo/bin/daydream
          key: {bin_key}
      - name: Install daydream
        if: steps.bin.outputs.cache-hit != 'true'
        run: {install_run}
      - name: Install Claude Code and bubblewrap
        run: |
          npm install --global {CLAUDE_CODE}
          sudo apt-get install --yes bubblewrap
      - name: Run daydream on ${{{{ matrix.slug }}}}
        env:
          SLUG: ${{{{ matrix.slug }}}}
        run: daydream run --root "$GITHUB_WORKSPACE"{config_flag} --project "$SLUG"
      - name: Save the state and data of ${{{{ matrix.slug }}}}
        if: always()
        uses: actions/cache/save@v4
        with:
          path: |
            logs/daydream
            data
          key: ${{{{ steps.state.outputs.cache-primary-key }}}}
      - name: Keep the report
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: daydream-${{{{ matrix.slug }}}}-${{{{ steps.today.outputs.date }}}}
          path: logs/daydream/report_*.md
          if-no-files-found: ignore
"#
    );
    y
}

/// Whether the root has the workflow, for `doctor`.
pub(crate) fn installed(root: &Path) -> bool {
    root.join(WORKFLOW).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            at: NaiveTime::from_hms_opt(5, 30, 0).unwrap(),
            max_parallel: 3,
            budget_usd: 10.0,
            install_from: None,
            dry_run: false,
            force: false,
        }
    }

    fn jobs() -> Vec<Job> {
        vec![
            Job {
                slug: "shop".into(),
                repository: "acme/shop".into(),
                dir: "~/code/shop".into(),
            },
            Job {
                slug: "api: \"v2\"".into(),
                repository: "acme/api".into(),
                dir: "projects/api".into(),
            },
        ]
    }

    #[test]
    fn the_workflow_runs_nightly_and_by_hand_one_job_per_project() {
        let y = workflow(&jobs(), &opts(), 5.0, &Install::Root, None);
        assert!(y.contains("    - cron: \"30 5 * * *\" # 05:30 UTC\n  workflow_dispatch:\n"));
        assert!(y.contains("      fail-fast: false\n      max-parallel: 3\n"));
        assert!(y.contains(
            "          - {\"dir\":\"~/code/shop\",\"repository\":\"acme/shop\",\"slug\":\"shop\"}\n"
        ));
        // Quotes in a slug stay inside one JSON (and so YAML) string.
        assert!(y.contains("\"slug\":\"api: \\\"v2\\\"\"}"));
        assert!(y.contains("run: daydream run --root \"$GITHUB_WORKSPACE\" --project \"$SLUG\"\n"));
        assert!(y.contains("run: cargo install --locked --path .\n"));
        assert!(y.contains(
            "      DAYDREAM_BUDGET_USD: \"5.00\"\n      DAYDREAM_DAILY_BUDGET_USD: \"5.00\"\n"
        ));
        for secret in SECRETS {
            assert!(y.contains(&format!("      {secret}: ${{{{ secrets.{secret} }}}}\n")));
        }
    }

    #[test]
    fn the_days_budget_is_split_between_the_jobs_rounded_down_to_cents() {
        assert!((per_job(10.0, 3).unwrap() - 3.33).abs() < 1e-9);
        assert!((per_job(5.0, 1).unwrap() - 5.0).abs() < 1e-9);
        assert!(per_job(f64::NAN, 1).is_err());
        let err = per_job(0.5, 20).unwrap_err();
        assert!(format!("{err:#}").contains("raise `--budget-usd`"));
    }

    #[test]
    fn state_is_restored_by_project_and_date_and_saved_even_after_a_failed_run() {
        let y = workflow(&jobs(), &opts(), 5.0, &Install::Root, None);
        assert!(y.contains("restore-keys: |\n            daydream-${{ matrix.slug }}-${{ steps.today.outputs.date }}-\n            daydream-${{ matrix.slug }}-\n"));
        let save = y.find("uses: actions/cache/save@v4").unwrap();
        assert!(y[..save].ends_with("if: always()\n        "));
        assert!(y[save..].contains("key: ${{ steps.state.outputs.cache-primary-key }}"));
    }

    #[test]
    fn a_root_that_is_not_daydream_installs_from_git_and_a_moved_config_is_passed() {
        let install = Install::Git("https://github.com/acme/daydream".into());
        let y = workflow(&jobs(), &opts(), 5.0, &install, Some("ops/projects.json"));
        assert!(
            y.contains("run: cargo install --locked --git \"https://github.com/acme/daydream\"\n")
        );
        assert!(y.contains(&format!(
            "key: daydream-bin-${{{{ runner.os }}}}-{}\n",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(y.contains("--config \"ops/projects.json\" --project"));
        let root = Path::new("/r");
        assert_eq!(
            config_arg(root, Path::new("/r/config/projects.json")).unwrap(),
            None
        );
        assert_eq!(
            config_arg(root, Path::new("/r/ops/p.json"))
                .unwrap()
                .as_deref(),
            Some("ops/p.json")
        );
        let err = config_arg(root, Path::new("/elsewhere/p.json")).unwrap_err();
        assert!(format!("{err:#}").contains("outside the root"));
    }
}
