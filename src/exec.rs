//! The only place that spawns processes: argv (never a shell string), its own process group, bounded output,
//! a timeout that ends the whole group (SIGTERM, a grace period, SIGKILL).

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

/// Output kept per stream; the rest is counted and dropped.
pub(crate) const OUTPUT_CAP: usize = 16 * 1024 * 1024;
/// How long a group gets between SIGTERM and SIGKILL.
pub(crate) const GRACE: Duration = Duration::from_secs(10);
/// After the leader exits, how long a grandchild may keep its pipes open before the group is killed.
const PIPE_WINDOW: Duration = Duration::from_millis(500);

/// A command to run.
#[derive(Clone, Debug)]
pub(crate) struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    env_remove: Vec<OsString>,
    env_set: Vec<(OsString, OsString)>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    grace: Duration,
}

impl Cmd {
    pub(crate) fn new(program: impl Into<OsString>) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            env_remove: Vec::new(),
            env_set: Vec::new(),
            stdin: None,
            timeout: Duration::from_secs(60),
            grace: GRACE,
        }
    }

    pub(crate) fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Cmd {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub(crate) fn cwd(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.cwd = Some(dir.into());
        self
    }

    pub(crate) fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Cmd {
        self.env_set.push((key.into(), value.into()));
        self
    }

    pub(crate) fn env_remove(mut self, key: impl Into<OsString>) -> Cmd {
        self.env_remove.push(key.into());
        self
    }

    /// Feeds `bytes` to the child's stdin (null otherwise); a child that never reads them is not waited for.
    pub(crate) fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    pub(crate) fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = timeout;
        self
    }

    /// `program arg ...` for messages.
    pub(crate) fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|s| s.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs the command to completion and returns its output when it exited 0.
    pub(crate) fn run(&self) -> Result<Finished, ExecError> {
        let finished = self.run_any()?;
        match finished.code {
            Some(0) => Ok(finished),
            Some(code) => Err(ExecError::Failed {
                cmd: self.display(),
                code,
                stderr: finished.stderr_text(),
            }),
            None => Err(ExecError::Signalled {
                cmd: self.display(),
                signal: finished.signal.unwrap_or(0),
            }),
        }
    }

    /// Runs the command to completion; any exit status is `Ok`.
    pub(crate) fn run_any(&self) -> Result<Finished, ExecError> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(dir) = &self.cwd {
            command.current_dir(dir);
        }
        for key in &self.env_remove {
            command.env_remove(key);
        }
        for (key, value) in &self.env_set {
            command.env(key, value);
        }
        let child = command.spawn().map_err(|err| ExecError::Start {
            program: self.program.to_string_lossy().into_owned(),
            cwd: self.cwd.clone(),
            err,
        })?;
        let mut group = Group {
            child,
            reaped: false,
        };
        if let (Some(mut pipe), Some(bytes)) = (group.child.stdin.take(), self.stdin.clone()) {
            // A child that exits without reading closes the pipe: the write fails and the thread ends.
            std::thread::spawn(move || {
                let _ = std::io::Write::write_all(&mut pipe, &bytes);
            });
        }
        let stdout = reader(group.child.stdout.take());
        let stderr = reader(group.child.stderr.take());
        let start = Instant::now();
        let mut timed_out = false;
        let status = loop {
            match group.child.try_wait() {
                Ok(Some(status)) => {
                    group.reaped = true;
                    break status;
                }
                Ok(None) => {}
                Err(err) => {
                    return Err(ExecError::Io {
                        cmd: self.display(),
                        err,
                    });
                }
            }
            if start.elapsed() >= self.timeout && !timed_out {
                timed_out = true;
                group.signal(Signal::TERM);
                let deadline = Instant::now() + self.grace;
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = group.child.try_wait() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                group.signal(Signal::KILL);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        // The leader is gone; a grandchild that still holds the pipes is ended with the group.
        let window = Instant::now() + PIPE_WINDOW;
        while !(stdout.is_finished() && stderr.is_finished()) && Instant::now() < window {
            std::thread::sleep(Duration::from_millis(5));
        }
        group.signal(Signal::KILL);
        let (stdout, stdout_dropped) = stdout.join().unwrap_or_default();
        let (stderr, stderr_dropped) = stderr.join().unwrap_or_default();
        if timed_out {
            return Err(ExecError::TimedOut {
                cmd: self.display(),
                after: self.timeout,
            });
        }
        Ok(Finished {
            code: status.code(),
            signal: status.signal(),
            stdout,
            stderr,
            stdout_dropped,
            stderr_dropped,
        })
    }
}

/// Kills the child's process group when dropped, so nothing outlives an abandoned call.
struct Group {
    child: Child,
    reaped: bool,
}

impl Group {
    fn signal(&self, signal: Signal) {
        if let Some(pid) = Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(0)) {
            // The group may already be gone; that is the outcome we want.
            let _ = rustix::process::kill_process_group(pid, signal);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal(Signal::KILL);
        if !self.reaped {
            let _ = self.child.wait();
        }
    }
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<(Vec<u8>, u64)> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut dropped = 0u64;
        let Some(mut pipe) = pipe else {
            return (kept, dropped);
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = OUTPUT_CAP.saturating_sub(kept.len()).min(n);
                    kept.extend_from_slice(&buf[..room]);
                    dropped += (n - room) as u64;
                }
            }
        }
        (kept, dropped)
    })
}

/// A child that ran to completion.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) code: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) stdout_dropped: u64,
    pub(crate) stderr_dropped: u64,
}

impl Finished {
    /// The end of stderr, bounded for messages.
    pub(crate) fn stderr_text(&self) -> String {
        let text = tail(&self.stderr, 2000);
        if self.stderr_dropped > 0 {
            return format!("{text} ({} more bytes not kept)", self.stderr_dropped);
        }
        text
    }
}

fn tail(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let cut = text.len() - max;
    let cut = (cut..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    format!("...{}", &text[cut..])
}

#[derive(Debug)]
pub(crate) enum ExecError {
    /// The program could not be started (not found, not executable, bad working directory).
    Start {
        program: String,
        cwd: Option<PathBuf>,
        err: std::io::Error,
    },
    Failed {
        cmd: String,
        code: i32,
        stderr: String,
    },
    TimedOut {
        cmd: String,
        after: Duration,
    },
    Signalled {
        cmd: String,
        signal: i32,
    },
    Io {
        cmd: String,
        err: std::io::Error,
    },
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::Start { program, cwd, err } => {
                write!(f, "could not start `{program}`: {err}")?;
                if err.kind() == std::io::ErrorKind::NotFound {
                    write!(f, " (looked for it on PATH")?;
                    if let Some(dir) = cwd {
                        write!(f, ", working directory `{}`", dir.display())?;
                    }
                    write!(f, ")")?;
                }
                Ok(())
            }
            ExecError::Failed { cmd, code, stderr } => {
                write!(f, "`{cmd}` exited with code {code}")?;
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                Ok(())
            }
            ExecError::TimedOut { cmd, after } => write!(
                f,
                "`{cmd}` timed out after {}s and was killed",
                after.as_secs()
            ),
            ExecError::Signalled { cmd, signal } => {
                write!(f, "`{cmd}` was killed by signal {signal}")
            }
            ExecError::Io { cmd, err } => write!(f, "failed to wait for `{cmd}`: {err}"),
        }
    }
}

impl std::error::Error for ExecError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_tells_failures_apart() {
        let done = Cmd::new("sh")
            .args(["-c", "echo out; echo err >&2"])
            .run()
            .unwrap();
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
        let err = Cmd::new("sh")
            .args(["-c", "echo boom >&2; exit 3"])
            .run()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`sh -c echo boom >&2; exit 3` exited with code 3: boom"
        );
        let err = Cmd::new("/nonexistent/daydream-test").run().unwrap_err();
        assert!(matches!(err, ExecError::Start { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("could not start `/nonexistent/daydream-test`")
        );
    }

    #[test]
    fn stdin_is_fed_and_a_child_that_ignores_it_is_not_waited_for() {
        let done = Cmd::new("cat").stdin("hello").run().unwrap();
        assert_eq!(done.stdout, b"hello");
        let done = Cmd::new("true")
            .stdin(vec![b'x'; 8 * 1024 * 1024])
            .timeout(Duration::from_secs(10))
            .run()
            .unwrap();
        assert_eq!(done.code, Some(0));
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let mut cmd = Cmd::new("sh")
            .args(["-c", "trap '' TERM; sleep 30 & echo $!; wait"])
            .timeout(Duration::from_millis(200));
        cmd.grace = Duration::from_millis(200);
        let started = Instant::now();
        let err = cmd.run().unwrap_err();
        assert!(matches!(err, ExecError::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
