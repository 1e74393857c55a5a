//! `daydream schedule install|show|remove`: the nightly run scheduled by the system's own scheduler (a systemd
//! user timer, a launchd agent, or a line in the user's crontab), pointing at this binary and this root.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use chrono::{NaiveTime, Timelike};

use crate::env::Env;
use crate::exec::{Cmd, ExecError};
use crate::exit_codes;
use crate::setup::Setup;

/// The systemd unit names and the launchd label.
const UNIT: &str = "daydream";
const LABEL: &str = "dev.daydream.run";
/// Marks daydream's line in a crontab, with the root it runs.
const CRON_MARKER: &str = "# daydream:";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum System {
    Systemd,
    Launchd,
    Cron,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Action {
    Install,
    Show,
    Remove,
}

/// What `daydream schedule` was asked to do.
#[derive(Debug)]
pub(crate) struct ScheduleOptions {
    pub(crate) action: Action,
    pub(crate) system: Option<System>,
    pub(crate) at: NaiveTime,
    pub(crate) dry_run: bool,
}

/// The programs it drives, overridable for tests (`DAYDREAM_SYSTEMCTL`, `DAYDREAM_LAUNCHCTL`, `DAYDREAM_CRONTAB`).
struct Tools {
    systemctl: String,
    launchctl: String,
    crontab: String,
    home: PathBuf,
    config_home: PathBuf,
}

impl Tools {
    fn from_env(env: &Env) -> Result<Tools> {
        let home = PathBuf::from(
            env.get("HOME")
                .context("HOME is not set: the schedule lives under it")?,
        );
        let config_home = env
            .get("XDG_CONFIG_HOME")
            .map_or_else(|| home.join(".config"), PathBuf::from);
        Ok(Tools {
            systemctl: env
                .get("DAYDREAM_SYSTEMCTL")
                .unwrap_or("systemctl")
                .to_owned(),
            launchctl: env
                .get("DAYDREAM_LAUNCHCTL")
                .unwrap_or("launchctl")
                .to_owned(),
            crontab: env.get("DAYDREAM_CRONTAB").unwrap_or("crontab").to_owned(),
            home,
            config_home,
        })
    }

    fn systemd_dir(&self) -> PathBuf {
        self.config_home.join("systemd").join("user")
    }

    fn plist(&self) -> PathBuf {
        self.home
            .join("Library")
            .join("LaunchAgents")
            .join(format!("{LABEL}.plist"))
    }

    /// Whether a systemd user manager answers.
    fn user_manager(&self) -> bool {
        Cmd::new(&self.systemctl)
            .args(["--user", "show-environment"])
            .run()
            .is_ok()
    }
}

/// What the scheduled job runs.
struct Job {
    exe: PathBuf,
    root: PathBuf,
    path: String,
}

pub(crate) fn run(setup: &Setup, opts: &ScheduleOptions, out: &mut dyn Write) -> Result<u8> {
    let tools = Tools::from_env(&setup.env)?;
    let job = Job {
        exe: std::env::current_exe()
            .context("failed to find this binary's path")?
            .canonicalize()
            .context("failed to resolve this binary's path")?,
        root: setup.paths.root.clone(),
        path: setup
            .env
            .get("PATH")
            .unwrap_or("/usr/local/bin:/usr/bin:/bin")
            .to_owned(),
    };
    let system = opts.system.unwrap_or_else(|| {
        if cfg!(target_os = "macos") {
            System::Launchd
        } else if tools.user_manager() {
            System::Systemd
        } else {
            System::Cron
        }
    });
    match opts.action {
        Action::Install => install(&tools, &job, system, opts, out),
        Action::Show => {
            out.write_all(show(&tools, &job, setup.clock.now().naive_local()).as_bytes())?;
            Ok(exit_codes::OK)
        }
        Action::Remove => remove(&tools, &job, system, opts.dry_run, out),
    }
}

fn install(
    tools: &Tools,
    job: &Job,
    system: System,
    opts: &ScheduleOptions,
    out: &mut dyn Write,
) -> Result<u8> {
    match system {
        System::Systemd => {
            let dir = tools.systemd_dir();
            let files = [
                (dir.join(format!("{UNIT}.service")), service(job)),
                (dir.join(format!("{UNIT}.timer")), timer(opts.at)),
            ];
            for (path, text) in &files {
                if opts.dry_run {
                    writeln!(out, "# {}\n{text}", path.display())?;
                } else {
                    crate::fsutil::write_atomic(path, text.as_bytes())?;
                    writeln!(out, "wrote {}", path.display())?;
                }
            }
            if opts.dry_run {
                return Ok(exit_codes::OK);
            }
            let timer_unit = format!("{UNIT}.timer");
            let commands = [
                vec!["--user", "daemon-reload"],
                vec!["--user", "enable", "--now", &timer_unit],
            ];
            if tools.user_manager() {
                for args in &commands {
                    Cmd::new(&tools.systemctl)
                        .args(args.iter().copied())
                        .run()
                        .map_err(ExecError::into_anyhow)
                        .with_context(|| format!("`systemctl {}` failed", args.join(" ")))?;
                }
                writeln!(
                    out,
                    "enabled `{UNIT}.timer`: daydream runs every day at {}",
                    opts.at.format("%H:%M")
                )?;
            } else {
                writeln!(
                    out,
                    "warning: no systemd user manager answers here; the files are written. Enable the timer from \
                     a login session with:"
                )?;
                for args in &commands {
                    writeln!(out, "  systemctl {}", args.join(" "))?;
                }
            }
        }
        System::Launchd => {
            let path = tools.plist();
            let mut text = Vec::new();
            launch_agent(job, opts.at).to_writer_xml(&mut text)?;
            if opts.dry_run {
                writeln!(
                    out,
                    "# {}\n{}",
                    path.display(),
                    String::from_utf8_lossy(&text)
                )?;
                return Ok(exit_codes::OK);
            }
            crate::fsutil::write_atomic(&path, &text)?;
            writeln!(out, "wrote {}", path.display())?;
            if cfg!(target_os = "macos") {
                let uid = rustix::process::getuid().as_raw();
                let domain = format!("gui/{uid}");
                // Replacing an earlier install: bootout first (it may not be loaded).
                let _ = Cmd::new(&tools.launchctl)
                    .args(["bootout", &domain, &path.to_string_lossy()])
                    .run();
                Cmd::new(&tools.launchctl)
                    .args(["bootstrap", &domain, &path.to_string_lossy()])
                    .run()
                    .map_err(ExecError::into_anyhow)
                    .context("`launchctl bootstrap` failed")?;
                writeln!(
                    out,
                    "loaded `{LABEL}`: daydream runs every day at {}",
                    opts.at.format("%H:%M")
                )?;
            } else {
                writeln!(
                    out,
                    "warning: not macOS: load it there with `launchctl bootstrap gui/$(id -u) {}`",
                    path.display()
                )?;
            }
        }
        System::Cron => {
            let current = crontab(tools)?;
            let line = cron_line(job, opts.at);
            let updated = with_line(&current, &job.root, Some(&line));
            if opts.dry_run {
                writeln!(out, "# the crontab line\n{line}")?;
                return Ok(exit_codes::OK);
            }
            write_crontab(tools, &updated)?;
            writeln!(out, "added to your crontab: {line}")?;
        }
    }
    Ok(exit_codes::OK)
}

fn remove(
    tools: &Tools,
    job: &Job,
    system: System,
    dry_run: bool,
    out: &mut dyn Write,
) -> Result<u8> {
    match system {
        System::Systemd => {
            let dir = tools.systemd_dir();
            if !dry_run && tools.user_manager() {
                let _ = Cmd::new(&tools.systemctl)
                    .args(["--user", "disable", "--now", &format!("{UNIT}.timer")])
                    .run();
            }
            for name in [format!("{UNIT}.timer"), format!("{UNIT}.service")] {
                let path = dir.join(name);
                remove_file(&path, dry_run, out)?;
            }
        }
        System::Launchd => {
            let path = tools.plist();
            if path.exists() && !dry_run && cfg!(target_os = "macos") {
                let uid = rustix::process::getuid().as_raw();
                let _ = Cmd::new(&tools.launchctl)
                    .args(["bootout", &format!("gui/{uid}"), &path.to_string_lossy()])
                    .run();
            }
            remove_file(&path, dry_run, out)?;
        }
        System::Cron => {
            let current = crontab(tools)?;
            let updated = with_line(&current, &job.root, None);
            if updated != current {
                if !dry_run {
                    write_crontab(tools, &updated)?;
                }
                writeln!(
                    out,
                    "{} daydream's line from your crontab",
                    if dry_run { "would remove" } else { "removed" }
                )?;
            }
        }
    }
    Ok(exit_codes::OK)
}

/// Removes `path` when it is there (a dry run only says it would), and says so.
fn remove_file(path: &Path, dry_run: bool, out: &mut dyn Write) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    if !dry_run {
        std::fs::remove_file(path)
            .with_context(|| format!("failed to remove {}", path.display()))?;
    }
    writeln!(
        out,
        "{} {}",
        if dry_run { "would remove" } else { "removed" },
        path.display()
    )?;
    Ok(())
}

/// What is installed for this root, and when it runs next.
fn show(tools_env: &Tools, job: &Job, now: chrono::NaiveDateTime) -> String {
    let mut out = String::new();
    let mut any = false;
    let timer = tools_env.systemd_dir().join(format!("{UNIT}.timer"));
    if let Ok(text) = std::fs::read_to_string(&timer)
        && let Some(at) = text
            .lines()
            .find_map(|l| l.strip_prefix("OnCalendar=*-*-* "))
            .and_then(parse_time)
    {
        any = true;
        let _ = writeln!(
            out,
            "systemd: {} at {} every day; next run {}",
            timer.display(),
            at.format("%H:%M"),
            next(now, at)
        );
    }
    if let Ok(agent) = plist::Value::from_file(tools_env.plist()) {
        let at = agent
            .as_dictionary()
            .and_then(|d| d.get("StartCalendarInterval"))
            .and_then(plist::Value::as_dictionary)
            .and_then(|d| {
                let hour = d.get("Hour")?.as_unsigned_integer()?;
                let minute = d.get("Minute")?.as_unsigned_integer()?;
                NaiveTime::from_hms_opt(u32::try_from(hour).ok()?, u32::try_from(minute).ok()?, 0)
            });
        if let Some(at) = at {
            any = true;
            let _ = writeln!(
                out,
                "launchd: {} at {} every day; next run {}",
                tools_env.plist().display(),
                at.format("%H:%M"),
                next(now, at)
            );
        }
    }
    if let Ok(current) = crontab(tools_env)
        && let Some(line) = current.lines().find(|l| l.ends_with(&marker(&job.root)))
    {
        any = true;
        let at = {
            let mut fields = line.split_whitespace();
            let minute = fields.next().and_then(|m| m.parse().ok());
            let hour = fields.next().and_then(|h| h.parse().ok());
            minute
                .zip(hour)
                .and_then(|(m, h)| NaiveTime::from_hms_opt(h, m, 0))
        };
        match at {
            Some(at) => {
                let _ = writeln!(
                    out,
                    "cron: at {} every day; next run {}\n  {line}",
                    at.format("%H:%M"),
                    next(now, at)
                );
            }
            None => {
                let _ = writeln!(out, "cron:\n  {line}");
            }
        }
    }
    if !any {
        out.push_str(
            "no schedule installed for this root: `daydream schedule install` (see `--help`)\n",
        );
    }
    out
}

/// The doctor's line: what is scheduled, if anything.
pub(crate) fn doctor_line(env: &Env, root: &Path, now: chrono::NaiveDateTime) -> Option<String> {
    let tools = Tools::from_env(env).ok()?;
    let job = Job {
        exe: PathBuf::new(),
        root: root.to_owned(),
        path: String::new(),
    };
    let text = show(&tools, &job, now);
    (!text.starts_with("no schedule")).then(|| text.lines().next().unwrap_or_default().to_owned())
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M:%S").ok()
}

/// The next `at` after `now`, local time.
fn next(now: chrono::NaiveDateTime, at: NaiveTime) -> String {
    let today = now.date().and_time(at);
    let when = if today > now {
        today
    } else {
        today + chrono::TimeDelta::days(1)
    };
    when.format("%Y-%m-%d %H:%M").to_string()
}

fn service(job: &Job) -> String {
    format!(
        "[Unit]\nDescription=daydream: nightly maintenance of the projects in {root}\n\n[Service]\nType=oneshot\n\
         WorkingDirectory={root}\nEnvironment=\"PATH={path}\"\nExecStart=\"{exe}\" run --root \"{root}\"\n",
        root = job.root.display(),
        path = job.path,
        exe = job.exe.display()
    )
}

fn timer(at: NaiveTime) -> String {
    format!(
        "[Unit]\nDescription=Run daydream every day at {hm}\n\n[Timer]\nOnCalendar=*-*-* {hms}\nPersistent=true\n\n\
         [Install]\nWantedBy=timers.target\n",
        hm = at.format("%H:%M"),
        hms = at.format("%H:%M:00")
    )
}

fn launch_agent(job: &Job, at: NaiveTime) -> plist::Value {
    let logs = job.root.join("logs").join("daydream");
    let mut interval = plist::Dictionary::new();
    interval.insert("Hour".to_owned(), plist::Value::Integer(at.hour().into()));
    interval.insert(
        "Minute".to_owned(),
        plist::Value::Integer(at.minute().into()),
    );
    let mut env = plist::Dictionary::new();
    env.insert("PATH".to_owned(), plist::Value::String(job.path.clone()));
    let mut agent = plist::Dictionary::new();
    agent.insert("Label".to_owned(), plist::Value::String(LABEL.to_owned()));
    agent.insert(
        "ProgramArguments".to_owned(),
        plist::Value::Array(
            [
                job.exe.display().to_string(),
                "run".to_owned(),
                "--root".to_owned(),
                job.root.display().to_string(),
            ]
            .into_iter()
            .map(plist::Value::String)
            .collect(),
        ),
    );
    agent.insert(
        "WorkingDirectory".to_owned(),
        plist::Value::String(job.root.display().to_string()),
    );
    agent.insert(
        "StartCalendarInterval".to_owned(),
        plist::Value::Dictionary(interval),
    );
    agent.insert(
        "EnvironmentVariables".to_owned(),
        plist::Value::Dictionary(env),
    );
    agent.insert(
        "StandardOutPath".to_owned(),
        plist::Value::String(logs.join("launchd.out.log").display().to_string()),
    );
    agent.insert(
        "StandardErrorPath".to_owned(),
        plist::Value::String(logs.join("launchd.err.log").display().to_string()),
    );
    plist::Value::Dictionary(agent)
}

fn marker(root: &Path) -> String {
    format!("{CRON_MARKER} {}", root.display())
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

fn cron_line(job: &Job, at: NaiveTime) -> String {
    let log = job.root.join("logs").join("daydream").join("cron.log");
    format!(
        "{} {} * * * cd {root} && PATH={path} {exe} run --root {root} >> {log} 2>&1 {marker}",
        at.minute(),
        at.hour(),
        root = quote(&job.root),
        path = quote(Path::new(&job.path)),
        exe = quote(&job.exe),
        log = quote(&log),
        marker = marker(&job.root)
    )
}

/// `crontab` with daydream's line for `root` replaced by `line` (or removed), every other line kept.
fn with_line(crontab: &str, root: &Path, line: Option<&str>) -> String {
    let mine = marker(root);
    let mut out = String::new();
    for l in crontab.lines().filter(|l| !l.ends_with(&mine)) {
        out.push_str(l);
        out.push('\n');
    }
    if let Some(line) = line {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The user's crontab; empty when they have none (`crontab -l` exits 1 with "no crontab for ...").
fn crontab(tools: &Tools) -> Result<String> {
    match Cmd::new(&tools.crontab).args(["-l"]).run_any() {
        Ok(done) if done.code == Some(0) => Ok(String::from_utf8_lossy(&done.stdout).into_owned()),
        Ok(done) if String::from_utf8_lossy(&done.stderr).contains("no crontab") => {
            Ok(String::new())
        }
        Ok(done) => bail!(
            "`crontab -l` failed: {}",
            String::from_utf8_lossy(&done.stderr).trim()
        ),
        Err(err) => Err(err
            .into_anyhow()
            .context("`crontab` could not run; install cron or use --system systemd")),
    }
}

fn write_crontab(tools: &Tools, text: &str) -> Result<()> {
    Cmd::new(&tools.crontab)
        .args(["-"])
        .stdin(text.as_bytes().to_vec())
        .run()
        .map_err(ExecError::into_anyhow)
        .context("`crontab -` failed")
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            exe: PathBuf::from("/opt/daydream/bin/daydream"),
            root: PathBuf::from("/home/ann/maint"),
            path: "/usr/bin:/bin".to_owned(),
        }
    }

    #[test]
    fn the_timer_runs_daily_at_the_time_and_catches_up_after_sleep() {
        let at = NaiveTime::from_hms_opt(6, 30, 0).unwrap();
        let timer = timer(at);
        assert!(
            timer.contains("OnCalendar=*-*-* 06:30:00\nPersistent=true\n"),
            "{timer}"
        );
        let service = service(&job());
        assert!(
            service.contains(
                "ExecStart=\"/opt/daydream/bin/daydream\" run --root \"/home/ann/maint\"\n"
            ),
            "{service}"
        );
        assert!(
            service.contains("WorkingDirectory=/home/ann/maint\n")
                && service.contains("PATH=/usr/bin:/bin")
        );
    }

    #[test]
    fn the_crontab_keeps_other_lines_and_has_one_line_of_ours() {
        let at = NaiveTime::from_hms_opt(6, 0, 0).unwrap();
        let line = cron_line(&job(), at);
        assert!(line.starts_with("0 6 * * * cd '/home/ann/maint' && PATH='/usr/bin:/bin' '/opt/daydream/bin/daydream' run"));
        assert!(line.ends_with("# daydream: /home/ann/maint"));
        let theirs = "MAILTO=ann\n15 3 * * * backup.sh\n";
        let once = with_line(theirs, &job().root, Some(&line));
        let twice = with_line(&once, &job().root, Some(&line));
        assert_eq!(once, twice);
        assert_eq!(once, format!("{theirs}{line}\n"));
        // Another root's line stays.
        let other = with_line(
            &once,
            Path::new("/srv/other"),
            Some("0 5 * * * x # daydream: /srv/other"),
        );
        assert_eq!(
            with_line(&other, &job().root, None),
            format!("{theirs}0 5 * * * x # daydream: /srv/other\n")
        );
    }

    #[test]
    fn the_launch_agent_is_a_plist_with_the_time_paths_and_logs() {
        let at = NaiveTime::from_hms_opt(7, 5, 0).unwrap();
        let mut text = Vec::new();
        launch_agent(&job(), at).to_writer_xml(&mut text).unwrap();
        let back = plist::Value::from_reader_xml(text.as_slice()).unwrap();
        let dict = back.as_dictionary().unwrap();
        let interval = dict["StartCalendarInterval"].as_dictionary().unwrap();
        assert_eq!(interval["Hour"].as_unsigned_integer(), Some(7));
        assert_eq!(interval["Minute"].as_unsigned_integer(), Some(5));
        let args: Vec<&str> = dict["ProgramArguments"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(plist::Value::as_string)
            .collect();
        assert_eq!(
            args,
            [
                "/opt/daydream/bin/daydream",
                "run",
                "--root",
                "/home/ann/maint"
            ]
        );
        assert_eq!(
            dict["StandardErrorPath"].as_string(),
            Some("/home/ann/maint/logs/daydream/launchd.err.log")
        );
    }

    #[test]
    fn the_next_run_is_today_or_tomorrow() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_opt(5, 0, 0)
            .unwrap();
        let at = NaiveTime::from_hms_opt(6, 0, 0).unwrap();
        assert_eq!(next(now, at), "2026-12-02 06:00");
        assert_eq!(
            next(now, NaiveTime::from_hms_opt(4, 0, 0).unwrap()),
            "2026-12-03 04:00"
        );
    }
}
