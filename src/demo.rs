//! `daydream demo`: materialises the bundled demo root, which needs no `gh`, `claude` or token.
//!
//! `config/demo/` in the repository is the demo root as written, embedded into the binary so that it works from
//! anywhere: `config/projects.json` with two projects that exist (`projects/shop`, `projects/worker`) and one that
//! does not. Two renames happen on the way out:
//! - a file named `gitignore` is written as `.gitignore` (named so, the templates' `logs/` rule does not hide the
//!   log templates from daydream's own repository);
//! - a `*.tmpl` file is rendered by [`render`] for the run date and written without the suffix.
//!
//! Each project then becomes a git repository with its sources committed (logs and build artifacts are
//! gitignored), and gets build artifacts that git does not track, for the cleanup step to find.
//!
//! # Placeholders in `*.tmpl`
//! Dates and times are local, relative to the run date D, so that most lines fall in the review window
//! (D-1 00:00 to D 00:00) and a few fall before or after it.
//!
//! | placeholder | becomes |
//! | --- | --- |
//! | `{D}`, `{D-N}` | the date N days before D: `2026-11-20` |
//! | `{D-N HH:MM:SS STYLE}` | that local time on that date, in `STYLE` (below) |
//! | `{D-N HH:MM:SS +Ss STYLE}` | the same, S seconds later at each repetition `i` of a `{repeat}` block |
//! | `{D-N HH:MM:SS +Ss~ STYLE}` | the same, plus a deterministic 0-59 s jitter per repetition |
//! | `{seq B+S}` | the number `B + i * S` |
//! | `{pick a\|b\|c}` | alternative `i` modulo their count |
//! | `{{` | a literal `{` |
//!
//! A line `{repeat N}` and a line `{end}` enclose lines that are written N times, for `i` in `0..N`; outside a
//! block `i` is 0. Blocks do not nest. A stepped time that leaves its day is an error, and so is any other `{`.
//! A line with a time that does not exist on this machine's clock (a daylight saving gap) is left out, as a real
//! log has no lines in the skipped hour.
//!
//! Styles: `python` `2026-11-20 09:14:02,331` (logging's default `asctime`), `iso` `2026-11-20T09:14:02.331+01:00`,
//! `apache` `20/Nov/2026:09:14:02 +0100` (nginx and Apache access logs), `syslog` `Nov 20 09:14:02`. The
//! milliseconds derive from the time of day, so equal inputs give equal output.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{
    DateTime, Days, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone,
    Timelike,
};

use crate::exec::{Cmd, ExecError};

/// The file that marks a directory as a demo root, which `daydream demo` may replace.
const MARKER: &str = ".daydream-demo";

/// The projects of the demo root that exist on every machine, each a git repository.
const PROJECTS: &[&str] = &["projects/shop", "projects/worker"];

const GIT_TIMEOUT: Duration = Duration::from_secs(30);

macro_rules! embed {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../config/demo/", $path)))),*]
    };
}

/// Every file of the demo root: its path under `config/demo/` and its text.
const FILES: &[(&str, &str)] = embed![
    "config/projects.json",
    "projects/shop/README.md",
    "projects/shop/TODO.md",
    "projects/shop/gitignore",
    "projects/shop/requirements.txt",
    "projects/shop/app/__init__.py",
    "projects/shop/app/checkout.py",
    "projects/shop/app/inventory.py",
    "projects/shop/app/payments.py",
    "projects/shop/tests/__init__.py",
    "projects/shop/tests/test_checkout.py",
    "projects/shop/logs/app.log.tmpl",
    "projects/shop/logs/access.log.tmpl",
    "projects/worker/README.md",
    "projects/worker/gitignore",
    "projects/worker/package.json",
    "projects/worker/src/index.js",
    "projects/worker/src/log.js",
    "projects/worker/src/mailer.js",
    "projects/worker/src/queue.js",
    "projects/worker/test/queue.test.js",
    "projects/worker/logs/worker.log.tmpl",
    "projects/worker/logs/cron.txt.tmpl",
];

/// Writes the demo root into `dir` for run date `today`; returns notes for the user.
///
/// `dir` must be missing, empty, or an earlier demo root (which is emptied first, so each demo starts fresh).
pub(crate) fn write(dir: &Path, today: NaiveDate) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    if prepare(dir)? {
        notes.push(format!("replaced the earlier demo in `{}`", dir.display()));
    }
    // The marker goes first: a demo that fails half-way can still be replaced by the next `daydream demo`.
    let marker = format!(
        "Written by `daydream demo` for the run of {today}.\n`daydream demo` empties and rewrites this directory.\n"
    );
    write_file(&dir.join(MARKER), marker.as_bytes())?;
    for (path, text) in FILES {
        let (path, text) = match path.strip_suffix(".tmpl") {
            Some(target) => (
                target,
                Cow::Owned(
                    render(text, today)
                        .with_context(|| format!("failed to render the demo template `{path}`"))?,
                ),
            ),
            None => (*path, Cow::Borrowed(*text)),
        };
        write_file(&dir.join(target(path)), text.as_bytes())?;
    }
    commit_sources(dir, today, &mut notes);
    write_sessions(dir, today)?;
    for (path, bytes) in artifacts() {
        write_file(&dir.join(path), &bytes)?;
    }
    Ok(notes)
}

/// Makes `dir` an empty directory; true when it held an earlier demo.
fn prepare(dir: &Path) -> Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create `{}`", dir.display()))?;
            return Ok(false);
        }
        Err(err) if dir.exists() && !dir.is_dir() => {
            return Err(refuse(&format!(
                "`{}` is not a directory ({err})",
                dir.display()
            )));
        }
        Err(err) => return Err(err).with_context(|| format!("failed to read `{}`", dir.display())),
    };
    let entries: Vec<_> = entries
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("failed to read `{}`", dir.display()))?;
    if entries.is_empty() {
        return Ok(false);
    }
    if !dir.join(MARKER).is_file() {
        return Err(refuse(&format!(
            "`{}` is not empty and holds no earlier demo (no `{MARKER}` file)",
            dir.display()
        )));
    }
    // The directory itself stays (it may be the current directory); its content goes.
    for entry in entries {
        let path = entry.path();
        let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| {
            format!("failed to remove `{}` of the earlier demo", path.display())
        })?;
    }
    Ok(true)
}

/// A directory the demo may not be written to: a usage error (exit code 2).
fn refuse(why: &str) -> anyhow::Error {
    anyhow::Error::new(crate::UsageError(format!(
        "failed to write the demo: {why}\n  fix: choose an empty directory, e.g. `daydream demo daydream-demo`"
    )))
}

/// The shop's sample Claude Code transcript: `@DAY@` is the day before the run date, `@SHOP@` the project's
/// absolute path (it names the folder Claude Code keeps the transcript in, so it is filled in when written).
const TRANSCRIPT: &str = include_str!("../config/demo/claude/shop-session.jsonl");

/// Writes the transcript where Claude Code would keep it under the demo's own `claude/` folder, and a `.env`
/// pointing the sessions step there (`CLAUDE_CONFIG_DIR`; a variable of that name in the environment wins).
fn write_sessions(dir: &Path, today: NaiveDate) -> Result<()> {
    let root = if dir.is_absolute() {
        dir.to_owned()
    } else {
        std::env::current_dir()
            .context("failed to read the current directory")?
            .join(dir)
    };
    let shop = root.join("projects/shop");
    let shop_text = shop.to_string_lossy();
    let escaped =
        serde_json::to_string(&shop_text).context("failed to write the demo transcript")?;
    let day = today.pred_opt().unwrap_or(today).to_string();
    let text = TRANSCRIPT
        .replace("@DAY@", &day)
        .replace("@SHOP@", escaped.trim_matches('"'));
    let config = root.join("claude");
    let folder = crate::steps::sessions::transcript_folder(&shop);
    write_file(
        &config
            .join("projects")
            .join(folder)
            .join("7d3f0c2e-5b1a-4c8e-9f60-2a4b6c8d0e1f.jsonl"),
        text.as_bytes(),
    )?;
    let value = config
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    write_file(
        &root.join(".env"),
        format!("# Where the sessions step reads Claude Code transcripts: the demo's sample.\nCLAUDE_CONFIG_DIR=\"{value}\"\n").as_bytes(),
    )
}

/// Where a file of `config/demo/` goes in the demo root.
fn target(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((folder, "gitignore")) => format!("{folder}/.gitignore"),
        _ => path.to_owned(),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("failed to create `{}`", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("failed to write `{}`", path.display()))
}

/// Makes each project a git repository with its sources committed, or says in `notes` why it is not one.
fn commit_sources(dir: &Path, today: NaiveDate, notes: &mut Vec<String>) {
    match git(dir, &["--version"]) {
        Err(ExecError::Start { err, .. }) if err.kind() == std::io::ErrorKind::NotFound => {
            notes.push("git not found: projects written without git history".to_owned());
            return;
        }
        Err(err) => {
            notes.push(format!(
                "git does not work ({err}): projects written without git history"
            ));
            return;
        }
        Ok(_) => {}
    }
    // A fixed author date a week back: the same day gives the same commits, and the history looks lived in.
    let week_ago = today
        .checked_sub_days(Days::new(7))
        .unwrap_or(today)
        .and_time(NaiveTime::MIN)
        + TimeDelta::hours(10);
    let date = local(week_ago).to_rfc3339();
    for project in PROJECTS {
        let repo = dir.join(project);
        let steps: [&[&str]; 3] = [
            &["-c", "init.defaultBranch=main", "init", "-q"],
            &["add", "-A"],
            &[
                "-c",
                "user.name=daydream-demo",
                "-c",
                "user.email=demo@daydream.invalid",
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-q",
                "--no-verify",
                "-m",
                "Initial import",
            ],
        ];
        let done = steps.iter().try_for_each(|args| {
            Cmd::new("git")
                .args(*args)
                .cwd(&repo)
                .env("GIT_AUTHOR_DATE", &date)
                .env("GIT_COMMITTER_DATE", &date)
                // The user's hooks, signing and excludes have no say over the demo's repositories.
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env_remove("GIT_DIR")
                .env_remove("GIT_WORK_TREE")
                .env_remove("GIT_INDEX_FILE")
                .timeout(GIT_TIMEOUT)
                .run()
                .map(drop)
        });
        if let Err(err) = done {
            // Half a repository would make every source file look untracked: none is clearer.
            let _ = std::fs::remove_dir_all(repo.join(".git"));
            notes.push(format!("{err}: `{project}` written without git history"));
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<crate::exec::Finished, ExecError> {
    Cmd::new("git")
        .args(args)
        .cwd(dir)
        .timeout(GIT_TIMEOUT)
        .run()
}

/// Build artifacts that git does not track: bytecode and pytest's cache in the shop.
fn artifacts() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for (module, source) in [
        ("app", "__init__"),
        ("app", "checkout"),
        ("app", "inventory"),
        ("app", "payments"),
    ] {
        let path = format!("projects/shop/{module}/__pycache__/{source}.cpython-311.pyc");
        files.push((path, fake_pyc(&format!("{module}/{source}.py"))));
    }
    files.push((
        "projects/shop/tests/__pycache__/test_checkout.cpython-311-pytest-8.3.3.pyc".to_owned(),
        fake_pyc("tests/test_checkout.py"),
    ));
    let cache = "projects/shop/.pytest_cache";
    let pytest: [(&str, &str); 5] = [
        (
            "CACHEDIR.TAG",
            "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by pytest.\n# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/spec.html\n",
        ),
        (".gitignore", "# Created by pytest automatically.\n*\n"),
        (
            "README.md",
            "# pytest cache directory #\n\nThis directory contains data from the pytest's cache plugin,\nwhich provides the `--lf` and `--ff` options, as well as the `cache` fixture.\n\n**Do not** commit this to version control.\n",
        ),
        (
            "v/cache/lastfailed",
            "{\n  \"tests/test_checkout.py::test_reserve_skips_items_out_of_stock\": true\n}",
        ),
        (
            "v/cache/nodeids",
            "[\n  \"tests/test_checkout.py::test_cart_total_applies_the_discount\",\n  \"tests/test_checkout.py::test_cart_total_is_never_negative\",\n  \"tests/test_checkout.py::test_reserve_skips_items_out_of_stock\"\n]",
        ),
    ];
    for (path, text) in pytest {
        files.push((format!("{cache}/{path}"), text.as_bytes().to_vec()));
    }
    files
}

/// A few hundred bytes that start like Python 3.11 bytecode of `source`; the same source gives the same bytes.
fn fake_pyc(source: &str) -> Vec<u8> {
    let mut bytes = vec![0xa7, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
    let seed = source.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    bytes.extend_from_slice(&seed.to_le_bytes());
    bytes.extend_from_slice(
        &u32::try_from(source.len() * 97)
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    bytes.push(0xe3);
    let mut state = seed;
    for _ in 0..320 {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        bytes.push(state.to_be_bytes()[0]);
    }
    bytes.extend_from_slice(source.as_bytes());
    bytes
}

/// Renders a log template for run date `today` (see the module documentation for the placeholders).
fn render(template: &str, today: NaiveDate) -> Result<String> {
    let mut out = String::with_capacity(template.len() * 4);
    let mut lines = template.lines().enumerate().map(|(n, line)| (n + 1, line));
    while let Some((n, line)) = lines.next() {
        if let Some(count) = line
            .trim()
            .strip_prefix("{repeat ")
            .and_then(|rest| rest.strip_suffix('}'))
        {
            let count: u64 = count
                .trim()
                .parse()
                .with_context(|| format!("line {n}: `{line}` needs a count"))?;
            let mut body = Vec::new();
            loop {
                match lines.next() {
                    None => bail!("line {n}: `{{repeat}}` has no `{{end}}`"),
                    Some((_, l)) if l.trim() == "{end}" => break,
                    Some((m, l)) if l.trim().starts_with("{repeat") => {
                        bail!("line {m}: `{{repeat}}` blocks do not nest")
                    }
                    Some(line) => body.push(line),
                }
            }
            for i in 0..count {
                for (m, l) in &body {
                    expand(l, i, today, &mut out).with_context(|| format!("line {m}"))?;
                }
            }
        } else if line.trim() == "{end}" {
            bail!("line {n}: `{{end}}` without `{{repeat N}}`");
        } else {
            expand(line, 0, today, &mut out).with_context(|| format!("line {n}"))?;
        }
    }
    Ok(out)
}

/// Appends `line` with its placeholders replaced, for repetition `i`, and a newline; or nothing, when one of its
/// times does not exist on this machine's clock (the hour skipped when daylight saving time starts).
fn expand(line: &str, i: u64, today: NaiveDate, out: &mut String) -> Result<()> {
    let line_start = out.len();
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        rest = &rest[open + 1..];
        if let Some(after) = rest.strip_prefix('{') {
            out.push('{');
            rest = after;
            continue;
        }
        let Some(end) = rest.find('}') else {
            bail!("`{{` without `}}` (write `{{{{` for a literal `{{`)")
        };
        if !placeholder(&rest[..end], i, today, out)? {
            out.truncate(line_start);
            return Ok(());
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.push('\n');
    Ok(())
}

/// Appends the value of one placeholder; false when it is a local time that does not exist.
fn placeholder(spec: &str, i: u64, today: NaiveDate, out: &mut String) -> Result<bool> {
    let (head, tail) = spec.split_once(' ').unwrap_or((spec, ""));
    match head {
        "seq" => {
            let (base, step) = tail.split_once('+').unwrap_or((tail, "0"));
            let (Ok(base), Ok(step)) = (base.trim().parse::<u64>(), step.trim().parse::<u64>())
            else {
                bail!("`{{{spec}}}`: expected `{{seq BASE+STEP}}`");
            };
            let value = i
                .checked_mul(step)
                .and_then(|n| n.checked_add(base))
                .with_context(|| format!("`{{{spec}}}` overflows"))?;
            let _ = write!(out, "{value}");
        }
        "pick" => {
            let choices: Vec<&str> = tail.split('|').collect();
            let index = usize::try_from(i).unwrap_or(0) % choices.len();
            out.push_str(choices[index]);
        }
        _ => {
            let Some(date) = day(head, today) else {
                bail!("unknown placeholder `{{{spec}}}`")
            };
            if tail.is_empty() {
                let _ = write!(out, "{}", date.format("%Y-%m-%d"));
            } else {
                return timestamp(date, tail, i, out).with_context(|| format!("`{{{spec}}}`"));
            }
        }
    }
    Ok(true)
}

/// `D` or `D-N`: the date N days before `today`.
fn day(spec: &str, today: NaiveDate) -> Option<NaiveDate> {
    let back = match spec.strip_prefix('D')? {
        "" => 0,
        rest => rest.strip_prefix('-')?.parse().ok()?,
    };
    today.checked_sub_days(Days::new(back))
}

/// `HH:MM:SS [+Ss[~]] STYLE` on `date`, at repetition `i`; false when that local time does not exist.
fn timestamp(date: NaiveDate, spec: &str, i: u64, out: &mut String) -> Result<bool> {
    let words: Vec<&str> = spec.split_whitespace().collect();
    let (time, step, style) = match words[..] {
        [time, style] => (time, None, style),
        [time, step, style] => (time, Some(step), style),
        _ => bail!("expected `D-N HH:MM:SS [+Ss[~]] STYLE`"),
    };
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S")
        .with_context(|| format!("`{time}` is not a time HH:MM:SS"))?;
    let mut seconds = 0;
    if let Some(step) = step {
        let (step, jitter) = step.strip_suffix('~').map_or((step, false), |s| (s, true));
        let Some(step) = step
            .strip_prefix('+')
            .and_then(|s| s.strip_suffix('s'))
            .and_then(|s| s.parse::<u64>().ok())
        else {
            bail!("`{step}` is not a step such as `+3600s`");
        };
        seconds = i
            .saturating_mul(step)
            .saturating_add(if jitter { i * 37 % 60 } else { 0 });
    }
    let at = i64::try_from(seconds)
        .ok()
        .and_then(|s| {
            date.and_time(time)
                .checked_add_signed(TimeDelta::try_seconds(s)?)
        })
        .filter(|at| at.date() == date)
        .with_context(|| format!("repetition {i} leaves the day"))?;
    if Local.offset_from_local_datetime(&at).earliest().is_none() {
        return Ok(false);
    }
    let millis = (at.num_seconds_from_midnight() * 389 + 211) % 1000;
    match style {
        "python" => write!(out, "{},{millis:03}", at.format("%Y-%m-%d %H:%M:%S")),
        "iso" => write!(
            out,
            "{}.{millis:03}{}",
            at.format("%Y-%m-%dT%H:%M:%S"),
            local(at).format("%:z")
        ),
        "apache" => write!(out, "{}", local(at).format("%d/%b/%Y:%H:%M:%S %z")),
        "syslog" => write!(out, "{}", at.format("%b %e %H:%M:%S")),
        _ => bail!("unknown style `{style}` (python, iso, apache or syslog)"),
    }?;
    Ok(true)
}

/// A local wall-clock time with this machine's offset at that time (in a daylight saving gap, the offset before it).
fn local(at: NaiveDateTime) -> DateTime<FixedOffset> {
    let offset = (0..4)
        .find_map(|h| {
            Local
                .offset_from_local_datetime(&(at - TimeDelta::hours(h)))
                .earliest()
        })
        .unwrap_or_else(|| Local.offset_from_utc_datetime(&at));
    DateTime::from_naive_utc_and_offset(at - offset, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Window;
    use crate::env::Env;
    use chrono::Datelike;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn template(path: &str) -> &'static str {
        FILES
            .iter()
            .find(|(p, _)| *p == path)
            .unwrap_or_else(|| panic!("no demo file `{path}`"))
            .1
    }

    fn is_template(path: &str) -> bool {
        Path::new(path).extension().is_some_and(|e| e == "tmpl")
    }

    fn git_works() -> bool {
        Cmd::new("git").args(["--version"]).run().is_ok()
    }

    fn git(repo: &Path, args: &[&str]) -> String {
        let done = Cmd::new("git").args(args).cwd(repo).run().unwrap();
        String::from_utf8(done.stdout).unwrap()
    }

    fn files_under(dir: &Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(folder) = stack.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.file_name().is_some_and(|n| n == ".git") {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else {
                    found.push(path.strip_prefix(dir).unwrap().display().to_string());
                }
            }
        }
        found.sort();
        found
    }

    /// Unix seconds of a log line's own timestamp, by the format of its file; `None` for continuation lines.
    fn line_time(file: &str, line: &str, today: NaiveDate) -> Option<i64> {
        if file.ends_with("app.log.tmpl") {
            let at =
                NaiveDateTime::parse_from_str(line.get(..23)?, "%Y-%m-%d %H:%M:%S,%3f").ok()?;
            Some(local(at).timestamp())
        } else if file.ends_with("access.log.tmpl") {
            let stamp = line.split_once('[')?.1.split_once(']')?.0;
            Some(
                DateTime::parse_from_str(stamp, "%d/%b/%Y:%H:%M:%S %z")
                    .unwrap()
                    .timestamp(),
            )
        } else if file.ends_with("worker.log.tmpl") {
            DateTime::parse_from_rfc3339(line.split_whitespace().next()?)
                .ok()
                .map(|t| t.timestamp())
        } else {
            let prefix = line.get(..15)?;
            let at = NaiveDateTime::parse_from_str(
                &format!("{} {prefix}", today.year()),
                "%Y %b %e %H:%M:%S",
            )
            .unwrap();
            let at = if at.date() > today {
                at.with_year(today.year() - 1).unwrap()
            } else {
                at
            };
            Some(local(at).timestamp())
        }
    }

    #[test]
    fn writes_a_demo_root_that_the_config_accepts() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("daydream-demo");
        let notes = write(&root, date(2026, 11, 21)).unwrap();

        let env = Env::from_pairs([
            ("HOME", tmp.path().to_str().unwrap()),
            ("DAYDREAM_MACHINE", "laptop"),
        ]);
        let config = crate::config::load(&root.join("config/projects.json"), &root, &env).unwrap();
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        let slugs: Vec<_> = config.projects.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(slugs, ["mobile", "shop", "worker"]);
        let [mobile, shop, worker] = &config.projects[..] else {
            unreachable!()
        };
        assert_eq!(
            mobile.unavailable.as_deref(),
            Some("`~/src/mobile-app-not-on-this-machine` does not exist on this machine")
        );
        assert_eq!(
            (shop.unavailable.as_ref(), &shop.dir),
            (None, &root.join("projects/shop"))
        );
        assert_eq!(
            (worker.unavailable.as_ref(), &worker.dir),
            (None, &root.join("projects/worker"))
        );
        assert_eq!(worker.logs, ["logs/*.log", "logs/*.txt"]);
        let payments = std::fs::read_to_string(root.join("projects/shop/app/payments.py")).unwrap();
        assert!(
            shop.deprecated_patterns
                .iter()
                .any(|p| p.is_match(&payments))
        );
        assert!(
            payments.contains("# def refund(")
                && payments.contains("# FIXME")
                && payments.contains("# XXX")
        );

        let files = files_under(&root);
        assert!(
            files
                .iter()
                .all(|f| !is_template(f) && !f.ends_with("/gitignore")),
            "{files:?}"
        );
        for file in [
            ".daydream-demo",
            "projects/shop/.gitignore",
            "projects/worker/.gitignore",
            "projects/worker/src/queue.js",
        ] {
            assert!(
                files.iter().any(|f| f == file),
                "{file} missing from {files:?}"
            );
        }

        for (log, yesterday) in [
            ("projects/shop/logs/app.log", "2026-11-20 "),
            ("projects/shop/logs/access.log", "[20/Nov/2026:"),
            ("projects/worker/logs/worker.log", "2026-11-20T"),
            ("projects/worker/logs/cron.txt", "Nov 20 "),
        ] {
            let text = std::fs::read_to_string(root.join(log)).unwrap();
            assert!(
                text.matches(yesterday).count() > 20,
                "{log} has few lines of yesterday:\n{text}"
            );
            assert!(
                !text.contains('{') && !text.contains('}'),
                "{log} has a placeholder left:\n{text}"
            );
        }
        let app = std::fs::read_to_string(root.join("projects/shop/logs/app.log")).unwrap();
        assert!(
            app.contains("Traceback (most recent call last):")
                && app.contains("postgres://shop:hunter2@")
        );

        let pycs = [
            "app/__pycache__/checkout.cpython-311.pyc",
            "app/__pycache__/inventory.cpython-311.pyc",
            "tests/__pycache__/test_checkout.cpython-311-pytest-8.3.3.pyc",
        ];
        for artifact in pycs.iter().chain(&[".pytest_cache/v/cache/lastfailed"]) {
            let len = std::fs::metadata(root.join("projects/shop").join(artifact))
                .unwrap()
                .len();
            assert!(len > 40, "{artifact}: {len} bytes");
        }

        if git_works() {
            assert!(notes.is_empty(), "{notes:?}");
            let shop = root.join("projects/shop");
            let tracked = git(&shop, &["ls-files"]);
            assert!(
                tracked.lines().any(|f| f == "app/checkout.py")
                    && tracked.lines().any(|f| f == ".gitignore"),
                "{tracked}"
            );
            assert!(
                !tracked.contains("logs/")
                    && !tracked.contains(".pyc")
                    && !tracked.contains(".pytest_cache"),
                "{tracked}"
            );
            // Everything else is ignored, so cleanup sees the artifacts as untracked build output.
            assert_eq!(git(&shop, &["status", "--porcelain"]), "");
            assert!(
                git(&shop, &["status", "--porcelain", "--ignored"]).contains("!! app/__pycache__/")
            );
            let worker = root.join("projects/worker");
            assert!(
                git(&worker, &["ls-files"])
                    .lines()
                    .any(|f| f == "src/queue.js")
            );
            assert_eq!(
                git(&worker, &["log", "--format=%an <%ae>"]),
                "daydream-demo <demo@daydream.invalid>\n"
            );
        } else {
            assert_eq!(
                notes,
                ["git not found: projects written without git history"]
            );
        }
    }

    #[test]
    fn log_lines_fall_in_the_review_window_with_a_few_just_outside() {
        // A year boundary, a leap day, and the DST changes of Europe (March 29) and the US (March 8, November 1).
        for today in [
            date(2026, 11, 21),
            date(2027, 1, 1),
            date(2028, 3, 1),
            date(2026, 3, 30),
            date(2026, 3, 9),
            date(2026, 11, 2),
        ] {
            let window = Window::previous_day(today);
            let mut total = 0;
            for (file, text) in FILES.iter().filter(|(p, _)| is_template(p)) {
                let rendered = render(text, today).unwrap();
                let (mut before, mut inside, mut after, mut last) = (0, 0, 0, i64::MIN);
                for line in rendered.lines() {
                    total += 1;
                    let Some(at) = line_time(file, line, today) else {
                        continue;
                    };
                    assert!(at >= last, "{today}: {file} goes back in time at `{line}`");
                    last = at;
                    match at {
                        at if at < window.start => before += 1,
                        at if at >= window.end => after += 1,
                        _ => inside += 1,
                    }
                }
                assert!(
                    before >= 2 && after >= 1 && inside >= 20,
                    "{today}: {file}: {before} before, {inside} in, {after} after"
                );
            }
            assert!((150..=400).contains(&total), "{today}: {total} lines");
        }
    }

    #[test]
    fn stack_traces_quote_the_lines_they_point_at() {
        let app = render(
            template("projects/shop/logs/app.log.tmpl"),
            date(2026, 11, 21),
        )
        .unwrap();
        let lines: Vec<&str> = app.lines().collect();
        let mut frames = 0;
        for (n, line) in lines.iter().enumerate() {
            let Some(rest) = line.trim().strip_prefix("File \"/srv/shop/") else {
                continue;
            };
            let (file, rest) = rest.split_once("\", line ").unwrap();
            let (number, function) = rest.split_once(", in ").unwrap();
            let source: Vec<&str> = template(&format!("projects/shop/{file}")).lines().collect();
            let number: usize = number.parse().unwrap();
            assert_eq!(source[number - 1].trim(), lines[n + 1].trim(), "{line}");
            assert!(
                source[..number]
                    .iter()
                    .any(|l| l.starts_with(&format!("def {function}("))),
                "{line}"
            );
            frames += 1;
        }
        assert_eq!(frames, 6);

        let worker = render(
            template("projects/worker/logs/worker.log.tmpl"),
            date(2026, 11, 21),
        )
        .unwrap();
        let mut frames = 0;
        for line in worker.lines() {
            let Some(rest) = line.trim().strip_prefix("at ") else {
                continue;
            };
            let (function, place) = rest
                .trim_start_matches("async ")
                .split_once(" (/srv/worker/")
                .unwrap();
            let mut parts = place.trim_end_matches(')').split(':');
            let (file, number, column) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            let source: Vec<&str> = template(&format!("projects/worker/{file}"))
                .lines()
                .collect();
            let (number, column): (usize, usize) =
                (number.parse().unwrap(), column.parse().unwrap());
            assert!(
                source[number - 1].len() >= column && !source[number - 1].trim().is_empty(),
                "{line}"
            );
            let name = function.rsplit('.').next().unwrap();
            assert!(
                source[..number]
                    .iter()
                    .any(|l| l.contains(&format!("{name}("))),
                "{line}"
            );
            frames += 1;
        }
        assert_eq!(frames, 30);
    }

    #[test]
    fn placeholders_render_as_documented() {
        let template = "{repeat 3}\n{D-1 23:00:00 +60s python} #{seq 10+5} {pick a|b}\n{end}\n{D} {D-2} {{x}\n{D-15 09:05:07 syslog} {D-1 01:02:03 iso}\n";
        let out = render(template, date(2026, 11, 21)).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[..4],
            [
                "2026-11-20 23:00:00,411 #10 a",
                "2026-11-20 23:01:00,751 #15 b",
                "2026-11-20 23:02:00,091 #20 a",
                "2026-11-21 2026-11-19 {x}"
            ]
        );
        assert!(
            lines[4].starts_with("Nov  6 09:05:07 2026-11-20T01:02:03."),
            "{}",
            lines[4]
        );
        let offset = local(date(2026, 11, 20).and_hms_opt(1, 2, 3).unwrap())
            .offset()
            .to_string();
        assert!(
            lines[4].ends_with(&offset),
            "{} does not end with {offset}",
            lines[4]
        );

        let apache = render("{D-1 09:14:02 apache}", date(2026, 11, 21)).unwrap();
        assert!(apache.starts_with("20/Nov/2026:09:14:02 "), "{apache}");
        let jittered = render(
            "{repeat 2}\n{D-1 10:00:00 +3600s~ syslog}\n{end}",
            date(2026, 11, 21),
        )
        .unwrap();
        assert_eq!(jittered, "Nov 20 10:00:00\nNov 20 11:00:37\n");

        for (bad, why) in [
            ("{D-1 23:30:00 +3600s python}\n", ""),
            (
                "{repeat 2}\n{D-1 23:30:00 +3600s python}\n{end}\n",
                "repetition 1 leaves the day",
            ),
            ("a {json: 1}\n", "unknown placeholder `{json: 1}`"),
            ("a { b\n", "`{` without `}`"),
            (
                "{repeat 2}\n{repeat 2}\n{end}\n",
                "line 2: `{repeat}` blocks do not nest",
            ),
            ("{repeat 2}\nx\n", "line 1: `{repeat}` has no `{end}`"),
            ("x\n{end}\n", "line 2: `{end}` without `{repeat N}`"),
            ("{D-1 09:14:02 rfc}\n", "unknown style `rfc`"),
        ] {
            let result = render(bad, date(2026, 11, 21)).map_err(|e| format!("{e:#}"));
            if why.is_empty() {
                assert!(result.is_ok(), "{bad}: {result:?}");
            } else {
                assert!(
                    result.as_ref().is_err_and(|e| e.contains(why)),
                    "{bad}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn refuses_a_directory_that_is_not_empty_and_not_a_demo() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        let err = write(tmp.path(), date(2026, 11, 21)).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains(&format!("`{}` is not empty", tmp.path().display())),
            "{message}"
        );
        assert!(
            message.contains("fix: choose an empty directory"),
            "{message}"
        );
        assert!(
            err.downcast_ref::<crate::UsageError>().is_some(),
            "a usage error exits 2"
        );
        assert_eq!(files_under(tmp.path()), ["notes.txt"]);

        let file = tmp.path().join("notes.txt");
        let message = format!("{:#}", write(&file, date(2026, 11, 21)).unwrap_err());
        assert!(
            message.contains("is not a directory") && message.contains("choose an empty directory"),
            "{message}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    }

    #[test]
    fn writes_into_an_empty_directory_and_replaces_an_earlier_demo() {
        let tmp = tempfile::tempdir().unwrap();
        let notes = write(tmp.path(), date(2026, 11, 21)).unwrap();
        assert!(!notes.iter().any(|n| n.contains("replaced")), "{notes:?}");
        let first = files_under(tmp.path());
        std::fs::write(tmp.path().join("projects/shop/stray.txt"), "left over").unwrap();
        std::fs::create_dir_all(tmp.path().join("logs/daydream")).unwrap();
        std::fs::write(tmp.path().join("logs/daydream/state.json"), "{}").unwrap();

        let notes = write(tmp.path(), date(2026, 12, 2)).unwrap();
        assert!(
            notes.contains(&format!(
                "replaced the earlier demo in `{}`",
                tmp.path().display()
            )),
            "{notes:?}"
        );
        assert_eq!(files_under(tmp.path()), first);
        let app = std::fs::read_to_string(tmp.path().join("projects/shop/logs/app.log")).unwrap();
        assert!(app.contains("2026-12-01 ") && !app.contains("2026-11-20 "));
        if git_works() {
            assert_eq!(
                git(
                    &tmp.path().join("projects/shop"),
                    &["rev-list", "--count", "HEAD"]
                ),
                "1\n"
            );
        }
    }
}
