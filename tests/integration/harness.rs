//! A temporary daydream root and a builder that runs the real binary in it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The fixed "now" of every test: a 06:00 run on 2026-11-21, reviewing the logs of 2026-11-20.
pub const NOW: &str = "2026-11-21T06:00:00+00:00";
pub const DATE: &str = "2026-11-21";

pub struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    pub fn new() -> Root {
        let dir = tempfile::Builder::new()
            .prefix("daydream-test-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Root { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `rel` (creating directories) under the root.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Root {
        let path = self.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel))
            .unwrap_or_else(|e| panic!("failed to read {rel}: {e}"))
    }

    pub fn config(&self, json: &str) -> &Root {
        self.write("config/projects.json", json)
    }

    /// A small project `slug` at `projects/<slug>` with a log of yesterday and a `__pycache__`.
    pub fn project(&self, slug: &str) -> &Root {
        let base = format!("projects/{slug}");
        self.write(
            &format!("{base}/logs/app.log"),
            "2026-11-19 23:59:59,999 ERROR [app] Too early for order 1\n\
             2026-11-20 00:00:00,000 INFO [app] Started worker 3\n\
             2026-11-20 09:14:02,331 ERROR [app] Payment failed for order 18231: card_declined\n\
             Traceback (most recent call last):\n  File \"app/pay.py\", line 12, in charge\n    raise KeyError(sku)\nKeyError: 'sku-1'\n\
             2026-11-20 10:01:00,001 ERROR [app] Payment failed for order 18232: card_declined\n\
             2026-11-20 11:00:00,500 WARNING [app] Slow query took 2.31s\n\
             2026-11-21 00:00:00,000 ERROR [app] Too late for order 2\n",
        );
        self.write(
            &format!("{base}/app/__pycache__/pay.cpython-311.pyc"),
            vec![0u8; 300],
        );
        self.write(
            &format!("{base}/app/pay.py"),
            "def charge(sku):\n    # TODO: retry on timeout\n    raise KeyError(sku)\n",
        );
        self
    }

    /// `daydream ARGS` with `--root` this root unless ARGS name another.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_daydream"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.join("home"))
            .env("TZ", "UTC")
            .env("DAYDREAM_NOW", NOW)
            .env("DAYDREAM_MACHINE", "testbox")
            // Hermetic: no test reaches a real `claude` or `gh` unless it points at one.
            .env("DAYDREAM_CLAUDE", "/nonexistent/claude")
            .current_dir(self.path())
            .args(args);
        if !args.contains(&"--root") {
            cmd.arg("--root").arg(self.path());
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().unwrap())
    }

    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        let mut cmd = self.cmd(args);
        cmd.envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    }

    /// The state as a reader sees it: `state.json` with its journal replayed (what a run saved since it started).
    pub fn state(&self) -> Value {
        self.state_at("logs/daydream/state.json")
    }

    /// The state file `rel` (`state.json`, `state.dry-run.json`, ...) with its journal replayed.
    pub fn state_at(&self, rel: &str) -> Value {
        self.replayed(rel)
            .unwrap_or_else(|| panic!("{rel} does not parse"))
    }

    fn replayed(&self, rel: &str) -> Option<Value> {
        let path = self.join(rel);
        let text = std::fs::read_to_string(&path).ok()?;
        let mut state: Value = serde_json::from_str(&text).ok()?;
        let journal = std::fs::read_to_string(path.with_extension("journal")).unwrap_or_default();
        // A line torn by a kill does not parse and is dropped, as daydream does.
        for entry in journal
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        {
            let (step, unit) = (&entry["unit"]["step"], &entry["unit"]["unit"]);
            let steps = state["steps"].as_array_mut()?;
            if !steps.iter().any(|s| s["name"] == *step) {
                steps.push(serde_json::json!({"name": step, "units": []}));
            }
            let units = steps.iter_mut().find(|s| s["name"] == *step)?["units"].as_array_mut()?;
            match units.iter_mut().find(|u| u["project"] == unit["project"]) {
                Some(known) => *known = unit.clone(),
                None => units.push(unit.clone()),
            }
        }
        Some(state)
    }

    pub fn report(&self) -> String {
        self.read(&format!("logs/daydream/report_{DATE}.md"))
    }

    /// Waits until `pred` holds for the state file (bounded), for tests that act mid-run.
    pub fn wait_for_state(&self, what: &str, pred: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self
                .replayed("logs/daydream/state.json")
                .is_some_and(|v| pred(&v))
            {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A finished run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The unit `step`/`project` in a state or status JSON.
pub fn unit<'v>(state: &'v Value, step: &str, project: &str) -> &'v Value {
    state["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == step)
        .and_then(|s| {
            s["units"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["project"] == project)
        })
        .unwrap_or_else(|| panic!("no unit {step}/{project} in {state:#}"))
}

/// A config with projects at `projects/<slug>` for each slug.
pub fn config_for(slugs: &[&str]) -> String {
    let entries: Vec<String> = slugs
        .iter()
        .map(|s| {
            format!(
                "\"{s}\": {{\"name\": \"{}\", \"working_directory\": \"projects/{s}\"}}",
                s.to_uppercase()
            )
        })
        .collect();
    format!("{{\"projects\": {{{}}}}}", entries.join(", "))
}

pub fn kill(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// A tool the tests need, named by the environment variable `var` (set by `.ci/run`): `None` on a developer's
/// machine without it (the test says it skipped and how to install), a failure under `CI`.
pub fn required_tool(var: &str, install: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.exists());
    assert!(
        path.is_some() || std::env::var_os("CI").is_none(),
        "`{var}` must name {install} under CI"
    );
    if path.is_none() {
        eprintln!("skipped: set {var} to {install}");
    }
    path
}
