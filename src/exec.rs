//! The only place that spawns processes: argv (never a shell string), a controlled environment, its own
//! process group, stdout and stderr read concurrently and capped, and an end that leaves nothing behind.
//!
//! A call unfolds like nextest's runner:
//! 1. The child starts with `process_group(0)`, stdin null or fed by a thread, one thread per output pipe
//!    (each keeps [`OUTPUT_CAP`] bytes and counts the rest), and one thread that waits for the leader to exit
//!    *without reaping it* (`waitid(WNOWAIT)`): while the leader is an unreaped zombie its pid, and so the
//!    group id, cannot be reused, so signalling the group can never hit a stranger.
//! 2. The caller waits for the leader's exit, the timeout or a cancellation. On timeout or cancellation the
//!    group gets SIGTERM (and SIGCONT, so a stopped child can act on it), the leader gets `grace` to exit,
//!    then the group gets SIGKILL.
//! 3. The pipes get [`PIPE_WINDOW`] to reach end of file, then the group gets SIGKILL whatever happened:
//!    a grandchild that still holds the pipes, or that merely lingers, dies with the call.
//!    Only a process that left the group (`setsid`) escapes; we stop reading its pipes after [`KILL_WINDOW`].
//!
//! Cancellation: give the command the run's [`Cancel`] with [`Cmd::cancel`]. A stop request while the child
//! runs ends the group as on timeout and returns [`ExecError::Interrupted`], whose `source()` is the
//! [`Interrupted`]. The runner recognises a cancelled unit by `err.downcast_ref::<Interrupted>()`, so in
//! `anyhow` code convert with `.map_err(ExecError::into_anyhow)?`; with a plain `?` the [`Interrupted`] is one
//! level down, found by `err.chain().any(|e| e.is::<Interrupted>())`.

use std::ffi::{OsStr, OsString};
use std::fmt::{self, Write as _};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};

use crate::cancel::{Cancel, Interrupted};

/// Output kept per stream; the rest is counted and dropped.
pub(crate) const OUTPUT_CAP: usize = 16 * 1024 * 1024;
/// How long the leader gets between SIGTERM and SIGKILL, unless [`Cmd::grace`] says otherwise.
pub(crate) const GRACE: Duration = Duration::from_secs(10);
/// The timeout of a [`Cmd`] that does not set one.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// After the leader exits, how long a grandchild may keep its pipes open before the group is killed.
const PIPE_WINDOW: Duration = Duration::from_millis(500);
/// After the last SIGKILL, how long we keep reading pipes that are still open: by then only a process that
/// left the group can hold them, and its output is not worth waiting for.
const KILL_WINDOW: Duration = Duration::from_secs(1);
/// How often a running child's cancellation flag is looked at (a signal handler sets it; nothing wakes us).
const CANCEL_POLL: Duration = Duration::from_millis(20);
/// Bytes of stderr shown in an error message.
const STDERR_TAIL: usize = 2000;

/// A command to run: program, argv, working directory, environment changes, stdin, timeout, cancellation.
#[derive(Clone, Debug)]
pub(crate) struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    /// Start from an empty environment instead of daydream's own ([`Cmd::env_clear`]).
    env_clear: bool,
    /// Changes to the inherited environment in call order: `Some` sets, `None` removes; the last one wins.
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Input>,
    timeout: Duration,
    grace: Duration,
    cancel: Option<Cancel>,
}

/// Bytes for the child's stdin, shared with the thread that writes them.
#[derive(Clone)]
struct Input(Arc<[u8]>);

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.0.len())
    }
}

impl Cmd {
    /// `program` is a path when it contains a `/`, otherwise a name looked up on the child's `PATH`.
    pub(crate) fn new(program: impl Into<OsString>) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            env_clear: false,
            env: Vec::new(),
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
            grace: GRACE,
            cancel: None,
        }
    }

    pub(crate) fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Cmd {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The child's working directory; a relative program path is taken from there.
    pub(crate) fn cwd(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.cwd = Some(dir.into());
        self
    }

    /// Sets a variable in the child's environment. Calls apply in order: the last `env` or `env_remove`
    /// of a name wins.
    pub(crate) fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Cmd {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    /// The child inherits nothing of daydream's environment: only what [`Cmd::env`] sets (an allow-list, for
    /// children that must not see tokens).
    pub(crate) fn env_clear(mut self) -> Cmd {
        self.env_clear = true;
        self.env.clear();
        self
    }

    /// Removes a variable from the child's environment (inherited or set by an earlier [`Cmd::env`]).
    pub(crate) fn env_remove(mut self, key: impl Into<OsString>) -> Cmd {
        self.env.push((key.into(), None));
        self
    }

    /// Feeds `bytes` to the child's stdin (null otherwise); a child that never reads them is not waited for.
    pub(crate) fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(Input(bytes.into().into()));
        self
    }

    /// How long the child may run, counted from its start; then its group is ended.
    pub(crate) fn timeout(mut self, timeout: Duration) -> Cmd {
        self.timeout = timeout;
        self
    }

    /// How long the leader gets between SIGTERM and SIGKILL on timeout or cancellation ([`GRACE`] by default).
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "callers keep the default grace for now")
    )]
    pub(crate) fn grace(mut self, grace: Duration) -> Cmd {
        self.grace = grace;
        self
    }

    /// Ends the child's group, as on timeout, once `cancel` is set; the call then returns
    /// [`ExecError::Interrupted`]. A flag already set means the child is not started at all.
    pub(crate) fn cancel(mut self, cancel: &Cancel) -> Cmd {
        self.cancel = Some(cancel.clone());
        self
    }

    /// The command as one POSIX shell line that runs it in its working directory with exactly the environment
    /// it sets (`env -i`), for a caller that can only run a line (Claude's Bash tool). Only for a command built
    /// with [`Cmd::env_clear`]: anything else would inherit the caller's environment.
    pub(crate) fn shell_line(&self) -> String {
        assert!(
            self.env_clear,
            "a shell line is only made of a command with its own environment"
        );
        let quote = |word: &OsStr| {
            let word = word.to_string_lossy();
            format!("'{}'", word.replace('\'', r"'\''"))
        };
        let mut line = String::new();
        if let Some(dir) = &self.cwd {
            let _ = write!(line, "cd {} && ", quote(dir.as_os_str()));
        }
        line.push_str("exec env -i");
        for (key, value) in &self.env {
            if let Some(value) = value {
                let mut pair = key.clone();
                pair.push("=");
                pair.push(value);
                let _ = write!(line, " {}", quote(&pair));
            }
        }
        for word in std::iter::once(&self.program).chain(&self.args) {
            let _ = write!(line, " {}", quote(word));
        }
        line
    }

    /// `program arg ...` for messages: arguments with spaces or quotes in single quotes, long ones cut.
    pub(crate) fn display(&self) -> String {
        const MAX_WORDS: usize = 24;
        const MAX_CHARS: usize = 160;
        let mut out = String::new();
        let words = std::iter::once(&self.program).chain(&self.args);
        for (i, word) in words.enumerate() {
            if i == MAX_WORDS {
                let more = self.args.len() + 1 - MAX_WORDS;
                let _ = write!(out, " ... ({more} more arguments)");
                break;
            }
            if i > 0 {
                out.push(' ');
            }
            let word = word.to_string_lossy();
            let mut word = match word.char_indices().nth(MAX_CHARS) {
                Some((cut, _)) => format!("{}...", &word[..cut]),
                None => word.into_owned(),
            };
            // Quoted only where a reader could not tell where the argument ends.
            let ambiguous = word.is_empty()
                || word
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '\'' | '"' | '\\'));
            if ambiguous {
                word = format!("'{}'", word.replace('\'', r"'\''"));
            }
            out.push_str(&word);
        }
        out
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
        self.spawn()?.wait()
    }

    /// Starts the command; [`Running::wait`] sees it through, and dropping the [`Running`] kills its group.
    pub(crate) fn spawn(&self) -> Result<Running, ExecError> {
        if let Some(signal) = self.cancel.as_ref().and_then(Cancel::signal) {
            return Err(ExecError::Interrupted {
                cmd: self.display(),
                interrupted: Interrupted(signal),
            });
        }
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
        if self.env_clear {
            command.env_clear();
        }
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        let started = Instant::now();
        let mut child = command.spawn().map_err(|err| self.start_error(err))?;
        let pid = i32::try_from(child.id())
            .ok()
            .and_then(Pid::from_raw)
            .expect("a child's pid is a positive i32");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        // From here on, an early return or a panic kills the group.
        let group = Group {
            child,
            pid,
            reaped: false,
        };
        let running = |err| ExecError::Io {
            cmd: self.display(),
            err,
        };
        let (events, rx) = mpsc::channel();
        if let (Some(mut pipe), Some(Input(bytes))) = (stdin, self.stdin.clone()) {
            // A child that exits without reading closes the pipe: the write fails and the thread ends.
            detach("exec-stdin", move || {
                let _ = pipe.write_all(&bytes);
            })
            .map_err(running)?;
        }
        let out = Arc::new(Mutex::new(Sink::default()));
        let err = Arc::new(Mutex::new(Sink::default()));
        for (name, pipe, sink) in [
            ("exec-stdout", stdout.map(Pipe::Out), &out),
            ("exec-stderr", stderr.map(Pipe::Err), &err),
        ] {
            let (sink, events) = (Arc::clone(sink), events.clone());
            detach(name, move || {
                if let Some(pipe) = pipe {
                    read_capped(pipe, &sink);
                }
                let _ = events.send(Event::Closed);
            })
            .map_err(running)?;
        }
        detach("exec-wait", move || wait_for_exit(pid, &events)).map_err(running)?;
        Ok(Running {
            group,
            events: rx,
            stdout: out,
            stderr: err,
            cmd: self.display(),
            started,
            timeout: self.timeout,
            grace: self.grace,
            cancel: self.cancel.clone(),
        })
    }

    /// Says where the program was looked for, the way `execvp` looks.
    fn start_error(&self, err: io::Error) -> ExecError {
        let lookup = if self.cwd.as_ref().is_some_and(|dir| !dir.is_dir()) {
            Lookup::MissingDir
        } else if self.program.as_bytes().contains(&b'/') {
            let program = Path::new(&self.program);
            let path = match &self.cwd {
                Some(dir) if program.is_relative() => dir.join(program),
                _ => program.to_owned(),
            };
            Lookup::File {
                exists: path.is_file(),
                path,
            }
        } else {
            // A `PATH` set for the child is the one searched (std's `Command` does that).
            let path = match self.env.iter().rev().find(|(key, _)| key == "PATH") {
                Some((_, value)) => value.clone(),
                None if self.env_clear => None,
                None => std::env::var_os("PATH"),
            };
            let dirs = path.map(|path| std::env::split_paths(&path).collect::<Vec<_>>());
            let found = dirs.iter().flatten().find_map(|dir| {
                let candidate = dir.join(&self.program);
                candidate.is_file().then_some(candidate)
            });
            Lookup::Path { dirs, found }
        };
        ExecError::Start {
            program: self.program.to_string_lossy().into_owned(),
            cwd: self.cwd.clone(),
            err,
            lookup,
        }
    }
}

/// Replaces this process with `program args` (`execvp`), keeping its pid, process group and environment: how
/// `daydream __confine` hands a confined process to the command it confines. Returns only on failure.
pub(crate) fn replace_process(program: &OsStr, args: &[OsString]) -> io::Error {
    Command::new(program).args(args).exec()
}

/// A started child. [`Running::wait`] sees it through; dropping it kills the group and reaps the leader.
pub(crate) struct Running {
    group: Group,
    events: Receiver<Event>,
    stdout: Arc<Mutex<Sink>>,
    stderr: Arc<Mutex<Sink>>,
    cmd: String,
    started: Instant,
    timeout: Duration,
    grace: Duration,
    cancel: Option<Cancel>,
}

/// Why the caller stopped waiting before the leader exited.
enum Stop {
    TimedOut,
    Cancelled(i32),
}

impl Running {
    /// Waits for the leader, the timeout or a cancellation, then ends the group and collects the output.
    pub(crate) fn wait(self) -> Result<Finished, ExecError> {
        let Running {
            mut group,
            events,
            stdout,
            stderr,
            cmd,
            started,
            timeout,
            grace,
            cancel,
        } = self;
        let mut open = 2;
        let deadline = started.checked_add(timeout);
        let (mut exit, stop) = loop {
            let mut wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if cancel.is_some() {
                wait = Some(wait.map_or(CANCEL_POLL, |w| w.min(CANCEL_POLL)));
            }
            match recv(&events, wait) {
                Ok(Event::Exited(result)) => break (Some(result), None),
                Ok(Event::Closed) => open -= 1,
                Err(RecvTimeoutError::Disconnected) => break (Some(Err(lost())), None),
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(signal) = cancel.as_ref().and_then(Cancel::signal) {
                        break (None, Some(Stop::Cancelled(signal)));
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break (None, Some(Stop::TimedOut));
                    }
                }
            }
        };
        if stop.is_some() {
            group.signal(Signal::TERM);
            group.signal(Signal::CONT);
            exit = wait_exit(&events, &mut open, Instant::now().checked_add(grace));
            if exit.is_none() {
                group.signal(Signal::KILL);
                exit = wait_exit(&events, &mut open, None);
            }
        }
        let exit = exit.unwrap_or_else(|| Err(lost()));
        // The leader is gone (or we lost track of it); whatever else is in its group goes with it.
        let drained = wait_closed(&events, &mut open, Instant::now() + PIPE_WINDOW);
        group.signal(Signal::KILL);
        let escaped = !drained && !wait_closed(&events, &mut open, Instant::now() + KILL_WINDOW);
        let status = group.reap();
        let (stdout, stdout_dropped) = take(&stdout);
        let (stderr, stderr_dropped) = take(&stderr);
        if escaped {
            tracing::warn!(
                cmd = %cmd,
                "something the child started left its process group and still holds its output: \
                 not waiting for it"
            );
        } else if !drained {
            tracing::warn!(
                cmd = %cmd,
                "something the child started still held its output after it exited: killed with its group"
            );
        }
        match stop {
            Some(Stop::TimedOut) => {
                return Err(ExecError::TimedOut {
                    cmd,
                    after: timeout,
                    stderr: tail(&stderr, STDERR_TAIL),
                });
            }
            Some(Stop::Cancelled(signal)) => {
                return Err(ExecError::Interrupted {
                    cmd,
                    interrupted: Interrupted(signal),
                });
            }
            None => {}
        }
        let status: ExitStatus = match exit.and(status) {
            Ok(status) => status,
            Err(err) => return Err(ExecError::Io { cmd, err }),
        };
        tracing::debug!(
            cmd = %cmd,
            code = ?status.code(),
            signal = ?status.signal(),
            elapsed_ms = started.elapsed().as_millis(),
            "child finished"
        );
        Ok(Finished {
            code: status.code(),
            signal: status.signal(),
            stdout,
            stderr,
            stdout_dropped,
            stderr_dropped,
            leaked: !drained,
        })
    }
}

/// Kills the child's process group when dropped, so nothing outlives an abandoned call.
struct Group {
    child: Child,
    pid: Pid,
    reaped: bool,
}

impl Group {
    /// Signals every process of the group. Only before the leader is reaped: until then its pid, which is
    /// the group id, cannot be taken by another process.
    fn signal(&self, signal: Signal) {
        if !self.reaped {
            // The group may already be gone; that is the outcome we want.
            let _ = rustix::process::kill_process_group(self.pid, signal);
        }
    }

    fn reap(&mut self) -> io::Result<ExitStatus> {
        let status = self.child.wait()?;
        self.reaped = true;
        Ok(status)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.signal(Signal::KILL);
        if !self.reaped {
            let _ = self.reap();
        }
    }
}

/// What the helper threads tell the caller.
enum Event {
    /// The leader exited (still unreaped), or waiting for it failed.
    Exited(io::Result<()>),
    /// An output pipe reached end of file (or failed).
    Closed,
}

/// Waits for the leader to exit and leaves it a zombie: the caller reaps it after the last group signal.
fn wait_for_exit(pid: Pid, events: &Sender<Event>) {
    let result = loop {
        match rustix::process::waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {
            Err(rustix::io::Errno::INTR) => {}
            Err(err) => break Err(io::Error::from(err)),
            Ok(_) => break Ok(()),
        }
    };
    let _ = events.send(Event::Exited(result));
}

fn recv(events: &Receiver<Event>, wait: Option<Duration>) -> Result<Event, RecvTimeoutError> {
    match wait {
        Some(wait) => events.recv_timeout(wait),
        None => events.recv().map_err(|_| RecvTimeoutError::Disconnected),
    }
}

/// The leader's exit, or `None` if `until` passes first; pipe closings seen meanwhile are counted.
fn wait_exit(
    events: &Receiver<Event>,
    open: &mut usize,
    until: Option<Instant>,
) -> Option<io::Result<()>> {
    loop {
        let wait = until.map(|u| u.saturating_duration_since(Instant::now()));
        match recv(events, wait) {
            Ok(Event::Exited(result)) => return Some(result),
            Ok(Event::Closed) => *open -= 1,
            Err(RecvTimeoutError::Timeout) => return None,
            Err(RecvTimeoutError::Disconnected) => return Some(Err(lost())),
        }
    }
}

/// Whether both pipes reached end of file before `until`.
fn wait_closed(events: &Receiver<Event>, open: &mut usize, until: Instant) -> bool {
    while *open > 0 {
        match events.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(Event::Closed) => *open -= 1,
            Ok(Event::Exited(_)) => {}
            Err(RecvTimeoutError::Timeout) => return false,
            // Every reader has sent its last event.
            Err(RecvTimeoutError::Disconnected) => return true,
        }
    }
    true
}

fn lost() -> io::Error {
    io::Error::other("the thread waiting for the child ended without a status")
}

fn detach(name: &str, work: impl FnOnce() + Send + 'static) -> io::Result<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(work)
        .map(drop)
}

enum Pipe {
    Out(std::process::ChildStdout),
    Err(std::process::ChildStderr),
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Pipe::Out(pipe) => pipe.read(buf),
            Pipe::Err(pipe) => pipe.read(buf),
        }
    }
}

/// One stream's output as read so far; shared so that the caller can take it even from a reader that
/// never sees end of file.
#[derive(Default)]
struct Sink {
    kept: Vec<u8>,
    dropped: u64,
    /// Set when the caller took the output: the reader stops, closing its end of the pipe.
    taken: bool,
}

fn read_capped(mut pipe: impl Read, sink: &Mutex<Sink>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
        if sink.taken {
            return;
        }
        let room = OUTPUT_CAP.saturating_sub(sink.kept.len()).min(n);
        sink.kept.extend_from_slice(&buf[..room]);
        sink.dropped += (n - room) as u64;
    }
}

fn take(sink: &Mutex<Sink>) -> (Vec<u8>, u64) {
    let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
    sink.taken = true;
    (std::mem::take(&mut sink.kept), sink.dropped)
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
    /// Something the child started still held its stdout or stderr [`PIPE_WINDOW`] after it exited, and was
    /// killed with its group: the output may be incomplete.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "logged here; no caller reports it yet")
    )]
    pub(crate) leaked: bool,
}

impl Finished {
    /// The end of stderr, bounded for messages.
    pub(crate) fn stderr_text(&self) -> String {
        let text = tail(&self.stderr, STDERR_TAIL);
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
        /// Where it was looked for.
        lookup: Lookup,
    },
    /// It exited with a non-zero code; `stderr` is the end of its stderr.
    Failed {
        cmd: String,
        code: i32,
        stderr: String,
    },
    /// It ran past its timeout and its group was ended; `stderr` is the end of its stderr.
    TimedOut {
        cmd: String,
        after: Duration,
        stderr: String,
    },
    /// A signal ended it (one not sent by us: ours are `TimedOut` and `Interrupted`).
    Signalled { cmd: String, signal: i32 },
    /// The run was cancelled while it ran (or before it started) and its group was ended.
    Interrupted {
        cmd: String,
        interrupted: Interrupted,
    },
    /// Supervising it failed (a thread could not start, waiting failed).
    Io { cmd: String, err: std::io::Error },
}

/// Where a program that could not start was looked for.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// The working directory does not exist.
    MissingDir,
    /// A bare name: the directories of the child's `PATH` (`None` when unset), and the first file of that
    /// name in them, if any.
    Path {
        dirs: Option<Vec<PathBuf>>,
        found: Option<PathBuf>,
    },
    /// A name with a `/`: this file (a relative one taken from the working directory).
    File { path: PathBuf, exists: bool },
}

impl ExecError {
    /// The stop request that ended the call, when it was cancelled.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "for callers that match on cancellation")
    )]
    pub(crate) fn interrupted(&self) -> Option<Interrupted> {
        match self {
            ExecError::Interrupted { interrupted, .. } => Some(*interrupted),
            _ => None,
        }
    }

    /// An `anyhow::Error` in which `downcast_ref::<Interrupted>()` finds a cancellation, as the runner
    /// expects: `cmd.run().map_err(ExecError::into_anyhow)?`.
    pub(crate) fn into_anyhow(self) -> anyhow::Error {
        match self {
            ExecError::Interrupted { cmd, interrupted } => {
                anyhow::Error::new(interrupted).context(format!("`{cmd}` was stopped"))
            }
            other => anyhow::Error::new(other),
        }
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::Start {
                program,
                cwd,
                err,
                lookup,
            } => {
                write!(f, "could not start `{program}`: ")?;
                let not_found = err.kind() == io::ErrorKind::NotFound;
                let interpreter = "its interpreter (the `#!` line) was not found";
                match lookup {
                    Lookup::MissingDir => {
                        let dir = cwd.as_deref().unwrap_or(Path::new(""));
                        write!(
                            f,
                            "the working directory `{}` does not exist",
                            dir.display()
                        )
                    }
                    Lookup::Path {
                        found: Some(path), ..
                    } if not_found => write!(f, "found `{}` but {interpreter}", path.display()),
                    Lookup::Path { dirs, found: None } => {
                        if not_found {
                            write!(f, "not found on PATH")?;
                        } else {
                            write!(f, "{err}, looking on PATH")?;
                        }
                        match dirs {
                            None => write!(f, " (PATH is not set)"),
                            Some(dirs) => write!(f, " ({})", list_dirs(dirs)),
                        }
                    }
                    Lookup::File {
                        path,
                        exists: false,
                    } if not_found => write!(f, "no file at `{}`", path.display()),
                    Lookup::File { path, exists: true } if not_found => {
                        write!(f, "`{}` exists but {interpreter}", path.display())
                    }
                    Lookup::Path {
                        found: Some(path), ..
                    }
                    | Lookup::File { path, .. } => write!(f, "`{}`: {err}", path.display()),
                }
            }
            ExecError::Failed { cmd, code, stderr } => {
                write!(f, "`{cmd}` exited with code {code}")?;
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                Ok(())
            }
            ExecError::TimedOut { cmd, after, stderr } => {
                write!(f, "`{cmd}` timed out after {after:?} and was stopped")?;
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                Ok(())
            }
            ExecError::Signalled { cmd, signal } => {
                write!(f, "`{cmd}` was killed by signal {signal}")?;
                if let Some(name) = signal_name(*signal) {
                    write!(f, " ({name})")?;
                }
                Ok(())
            }
            // The `Interrupted` is the source: `{:#}` reads "`cmd` was stopped: interrupted by SIGTERM".
            ExecError::Interrupted { cmd, .. } => write!(f, "`{cmd}` was stopped"),
            ExecError::Io { cmd, err } => write!(f, "could not supervise `{cmd}`: {err}"),
        }
    }
}

impl std::error::Error for ExecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExecError::Interrupted { interrupted, .. } => Some(interrupted),
            _ => None,
        }
    }
}

/// `PATH`'s directories for a message: the first few, then how many more.
fn list_dirs(dirs: &[PathBuf]) -> String {
    const SHOWN: usize = 8;
    if dirs.is_empty() {
        return "PATH is empty".to_owned();
    }
    let mut text = dirs
        .iter()
        .take(SHOWN)
        .map(|dir| format!("`{}`", dir.display()))
        .collect::<Vec<_>>()
        .join(", ");
    if dirs.len() > SHOWN {
        let _ = write!(text, " and {} more", dirs.len() - SHOWN);
    }
    text
}

/// Names of the signals that share a number on Linux and macOS.
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the shell's pid, leaves a grandchild sleeping in the background, records it, waits for it.
    const SLEEPER: &str = r#"echo $$ >> "$PIDS"; sleep 60 & echo $! >> "$PIDS"; wait"#;
    /// [`SLEEPER`] with SIGTERM ignored; the grandchild inherits the ignored disposition.
    const IGNORES_TERM: &str =
        r#"trap '' TERM; echo $$ >> "$PIDS"; sleep 60 & echo $! >> "$PIDS"; wait"#;
    /// [`SLEEPER`] that says so on stderr and exits when asked to stop.
    const HONOURS_TERM: &str = r#"trap 'echo got-term >&2; exit 7' TERM; echo $$ >> "$PIDS"; sleep 60 & echo $! >> "$PIDS"; wait"#;
    /// Exits at once, leaving a grandchild that holds stdout and stderr.
    const LEAVES_GRANDCHILD: &str =
        r#"echo $$ >> "$PIDS"; sleep 60 & echo $! >> "$PIDS"; echo started; exit 0"#;
    /// Exits at once, leaving a grandchild that holds none of its pipes.
    const LEAVES_QUIET_GRANDCHILD: &str =
        r#"echo $$ >> "$PIDS"; sleep 60 </dev/null >/dev/null 2>&1 & echo $! >> "$PIDS"; exit 0"#;

    fn sh(script: &str) -> Cmd {
        Cmd::new("sh").args(["-c", script])
    }

    /// The call returned within `limit` of `started`.
    #[track_caller]
    fn assert_quick(started: Instant, limit: Duration) {
        let elapsed = started.elapsed();
        assert!(elapsed < limit, "{elapsed:?}");
    }

    /// The call took at least `least` (it waited for what it had to) and less than `slack` more.
    #[track_caller]
    fn assert_took(elapsed: Duration, least: Duration, slack: Duration) {
        assert!(elapsed >= least, "{elapsed:?}");
        assert!(elapsed < least + slack, "{elapsed:?}");
    }

    /// A file in which a fixture writes the pids of everything it starts, one a line.
    struct Pids {
        _dir: tempfile::TempDir,
        path: PathBuf,
    }

    impl Pids {
        fn new() -> Pids {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("pids");
            std::fs::write(&path, "").unwrap();
            Pids { _dir: dir, path }
        }

        /// The fixture `script`, told where to write its pids through the environment.
        fn sh(&self, script: &str) -> Cmd {
            sh(script).env("PIDS", &self.path)
        }

        fn read(&self) -> Vec<i32> {
            std::fs::read_to_string(&self.path)
                .unwrap()
                .lines()
                .map(|line| line.trim().parse().unwrap())
                .collect()
        }

        /// Blocks until the fixture has written `count` pids: it is then past its set-up.
        fn wait_for(&self, count: usize) {
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.read().len() < count {
                assert!(
                    Instant::now() < deadline,
                    "the fixture never wrote {count} pids"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }

        /// Asserts that the fixture wrote `count` pids and that none of them is running any more.
        fn assert_gone(&self, count: usize) {
            let pids = self.read();
            assert_eq!(pids.len(), count, "pids written by the fixture: {pids:?}");
            // An orphan is reaped by whoever adopted it, a moment after it died.
            let deadline = Instant::now() + Duration::from_secs(3);
            loop {
                let alive: Vec<i32> = pids.iter().copied().filter(|&pid| alive(pid)).collect();
                if alive.is_empty() {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "still running: {alive:?} of {pids:?}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn alive(pid: i32) -> bool {
        let Some(id) = Pid::from_raw(pid) else {
            return false;
        };
        if rustix::process::test_kill_process(id).is_err() {
            return false;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // A zombie runs nothing: it only waits for its adoptive parent to reap it.
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_none_or(|(_, rest)| !rest.starts_with('Z')),
            Err(_) => !Path::new("/proc/self").exists(),
        }
    }

    #[test]
    fn captures_output_and_tells_failures_apart() {
        let done = sh("echo out; echo err >&2").run().unwrap();
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
        assert!(!done.leaked);
        let err = sh("echo boom >&2; exit 3").run().unwrap_err();
        assert!(matches!(err, ExecError::Failed { code: 3, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "`sh -c 'echo boom >&2; exit 3'` exited with code 3: boom"
        );
        // `run_any` hands back any exit code.
        let done = sh("exit 3").run_any().unwrap();
        assert_eq!((done.code, done.signal), (Some(3), None));
    }

    #[test]
    fn a_failure_shows_only_the_end_of_a_long_stderr() {
        let err = sh("seq 1 100000 >&2; exit 4").run().unwrap_err();
        let ExecError::Failed { code, stderr, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(*code, 4);
        assert!(stderr.len() <= STDERR_TAIL + 3, "{} bytes", stderr.len());
        assert!(stderr.starts_with("..."), "{stderr}");
        assert!(stderr.ends_with("99999\n100000"), "{stderr}");
    }

    #[test]
    fn a_child_killed_by_a_signal_is_signalled() {
        let err = sh("kill -KILL $$").run().unwrap_err();
        assert!(
            matches!(err, ExecError::Signalled { signal: 9, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "`sh -c 'kill -KILL $$'` was killed by signal 9 (SIGKILL)"
        );
        let done = sh("kill -KILL $$").run_any().unwrap();
        assert_eq!((done.code, done.signal), (None, Some(9)));
    }

    #[test]
    fn a_program_that_cannot_start_says_where_it_was_looked_for() {
        let start = |cmd: Cmd| match cmd.run() {
            Err(err @ ExecError::Start { .. }) => err,
            other => panic!("{other:?}"),
        };
        // A bare name is looked up on the child's PATH, which the message lists.
        let err = start(Cmd::new("daydream-no-such-program").env("PATH", "/nowhere/a:/nowhere/b"));
        let ExecError::Start { err: io, .. } = &err else {
            unreachable!()
        };
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            err.to_string(),
            "could not start `daydream-no-such-program`: not found on PATH (`/nowhere/a`, `/nowhere/b`)"
        );
        let long: Vec<String> = (0..12).map(|i| format!("/nowhere/{i}")).collect();
        let err = start(Cmd::new("daydream-no-such-program").env("PATH", long.join(":")));
        assert!(
            err.to_string()
                .ends_with("(`/nowhere/0`, `/nowhere/1`, `/nowhere/2`, `/nowhere/3`, `/nowhere/4`, `/nowhere/5`, `/nowhere/6`, `/nowhere/7` and 4 more)"),
            "{err}"
        );
        let err = start(Cmd::new("daydream-no-such-program").env_remove("PATH"));
        assert!(
            err.to_string()
                .ends_with("not found on PATH (PATH is not set)"),
            "{err}"
        );
        // A path is that path; a relative one is taken from the working directory.
        let err = start(Cmd::new("/nonexistent/daydream-test"));
        assert_eq!(
            err.to_string(),
            "could not start `/nonexistent/daydream-test`: no file at `/nonexistent/daydream-test`"
        );
        let dir = tempfile::tempdir().unwrap();
        let err = start(Cmd::new("bin/tool").cwd(dir.path()));
        assert_eq!(
            err.to_string(),
            format!(
                "could not start `bin/tool`: no file at `{}`",
                dir.path().join("bin/tool").display()
            )
        );
        // A script whose interpreter is missing fails with "not found" too: say which part is missing.
        let script = dir.path().join("script");
        std::fs::write(&script, "#!/nonexistent/interpreter\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let err = start(Cmd::new(&script));
        assert!(
            err.to_string()
                .ends_with("exists but its interpreter (the `#!` line) was not found"),
            "{err}"
        );
        let err = start(Cmd::new("script").env("PATH", dir.path()));
        assert!(
            err.to_string()
                .contains(&format!("found `{}` but its interpreter", script.display())),
            "{err}"
        );
        let err = start(Cmd::new("true").cwd("/nonexistent/daydream-dir"));
        assert_eq!(
            err.to_string(),
            "could not start `true`: the working directory `/nonexistent/daydream-dir` does not exist"
        );
    }

    #[test]
    fn working_directory_and_environment_are_the_ones_given() {
        let dir = tempfile::tempdir().unwrap();
        let done = Cmd::new("pwd").args(["-P"]).cwd(dir.path()).run().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&done.stdout).trim(),
            dir.path().canonicalize().unwrap().to_string_lossy()
        );
        // The last word on a name wins; a removed variable is gone even when the parent has it.
        assert!(std::env::var_os("PATH").is_some());
        let done = Cmd::new("/usr/bin/env")
            .env("GH_REPO", "owner/repo")
            .env_remove("GH_REPO")
            .env_remove("DAYDREAM_X")
            .env("DAYDREAM_X", "kept")
            .env_remove("PATH")
            .run()
            .unwrap();
        let seen = String::from_utf8_lossy(&done.stdout);
        let names: Vec<&str> = seen
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, _)| k)
            .collect();
        assert!(seen.lines().any(|l| l == "DAYDREAM_X=kept"), "{seen}");
        assert!(!names.contains(&"GH_REPO"), "{seen}");
        assert!(!names.contains(&"PATH"), "{seen}");
        assert!(
            !names.is_empty(),
            "the rest of the environment is inherited"
        );
    }

    #[test]
    fn stdin_is_fed() {
        let done = Cmd::new("cat").stdin("hello").run().unwrap();
        assert_eq!(done.stdout, b"hello");
        // More than a pipe holds, read while we read its echo.
        let big = vec![b'x'; 4 * 1024 * 1024];
        let done = Cmd::new("cat").stdin(big.clone()).run().unwrap();
        assert_eq!(done.stdout, big);
    }

    #[test]
    fn a_child_that_never_reads_its_stdin_does_not_block_the_call() {
        let started = Instant::now();
        let done = sh("sleep 0.3; exit 5")
            .stdin(vec![b'x'; 64 * 1024 * 1024])
            .run_any()
            .unwrap();
        assert_eq!(done.code, Some(5));
        assert_quick(started, Duration::from_secs(5));
    }

    #[test]
    fn a_child_that_never_reads_its_stdin_and_hangs_times_out() {
        let pids = Pids::new();
        let started = Instant::now();
        let running = pids
            .sh(r#"echo $$ >> "$PIDS"; exec sleep 60"#)
            .stdin(vec![b'x'; 64 * 1024 * 1024])
            .timeout(Duration::from_millis(300))
            .grace(Duration::from_millis(300))
            .spawn()
            .unwrap();
        pids.wait_for(1);
        let err = running.wait().unwrap_err();
        assert!(matches!(err, ExecError::TimedOut { .. }), "{err:?}");
        assert_quick(started, Duration::from_secs(5));
        pids.assert_gone(1);
    }

    #[test]
    fn a_group_that_ignores_sigterm_is_killed_after_the_grace() {
        let pids = Pids::new();
        let (timeout, grace) = (Duration::from_millis(300), Duration::from_millis(500));
        let started = Instant::now();
        let running = pids
            .sh(IGNORES_TERM)
            .timeout(timeout)
            .grace(grace)
            .spawn()
            .unwrap();
        pids.wait_for(2);
        let err = running.wait().unwrap_err();
        let elapsed = started.elapsed();
        assert!(matches!(err, ExecError::TimedOut { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("`sh -c 'trap '\\'''\\'' TERM; echo $$"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("timed out after 300ms and was stopped"),
            "{err}"
        );
        // It waited for the grace, and not much longer.
        assert_took(elapsed, timeout + grace, Duration::from_secs(4));
        pids.assert_gone(2);
    }

    #[test]
    fn a_group_that_honours_sigterm_is_not_kept_for_the_whole_grace() {
        let pids = Pids::new();
        let started = Instant::now();
        let running = pids
            .sh(HONOURS_TERM)
            .timeout(Duration::from_millis(200))
            .grace(Duration::from_secs(30))
            .spawn()
            .unwrap();
        pids.wait_for(2);
        let err = running.wait().unwrap_err();
        let ExecError::TimedOut { stderr, .. } = &err else {
            panic!("{err:?}");
        };
        // SIGTERM came first, and was enough.
        assert_eq!(stderr, "got-term");
        assert_quick(started, Duration::from_secs(5));
        pids.assert_gone(2);
    }

    #[test]
    fn a_grandchild_holding_stdout_does_not_keep_the_call_and_dies() {
        let pids = Pids::new();
        let started = Instant::now();
        let done = pids.sh(LEAVES_GRANDCHILD).run().unwrap();
        let elapsed = started.elapsed();
        assert_eq!(done.code, Some(0));
        assert_eq!(done.stdout, b"started\n");
        assert!(done.leaked);
        // The pipes got their window, then the group was killed rather than waited for.
        assert!(elapsed >= PIPE_WINDOW, "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        pids.assert_gone(2);
    }

    #[test]
    fn a_grandchild_without_the_pipes_dies_with_the_call() {
        let pids = Pids::new();
        let done = pids.sh(LEAVES_QUIET_GRANDCHILD).run().unwrap();
        assert_eq!(done.code, Some(0));
        assert!(!done.leaked);
        pids.assert_gone(2);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_process_that_left_the_group_cannot_hold_the_call() {
        let pids = Pids::new();
        let started = Instant::now();
        let done = pids
            .sh(r#"setsid sh -c 'echo $$ >> "$PIDS"; exec sleep 60' & echo before; exit 0"#)
            .run()
            .unwrap();
        let elapsed = started.elapsed();
        pids.wait_for(1);
        let escaped = pids.read()[0];
        // It is out of our reach by design; end it by pid so that the test leaves nothing behind.
        let _ = rustix::process::kill_process(Pid::from_raw(escaped).unwrap(), Signal::KILL);
        assert_eq!(done.code, Some(0));
        assert_eq!(done.stdout, b"before\n");
        assert!(done.leaked);
        assert_took(elapsed, PIPE_WINDOW + KILL_WINDOW, Duration::from_secs(3));
        pids.assert_gone(1);
    }

    #[test]
    fn a_hundred_megabytes_of_output_keep_the_cap_and_count_the_rest() {
        let total = 100_000_000u64;
        let done = Cmd::new("head")
            .args(["-c", &total.to_string(), "/dev/zero"])
            .run()
            .unwrap();
        assert_eq!(done.stdout.len(), OUTPUT_CAP);
        assert_eq!(done.stdout_dropped, total - OUTPUT_CAP as u64);
        assert!(done.stdout.iter().all(|&b| b == 0));
        assert_eq!((done.stderr.len(), done.stderr_dropped), (0, 0));
    }

    #[test]
    fn cancellation_stops_the_group_and_surfaces_as_interrupted() {
        let pids = Pids::new();
        let cancel = Cancel::default();
        let started = Instant::now();
        let running = pids
            .sh(SLEEPER)
            .timeout(Duration::from_secs(60))
            .grace(Duration::from_secs(30))
            .cancel(&cancel)
            .spawn()
            .unwrap();
        pids.wait_for(2);
        let trigger = {
            let cancel = cancel.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                cancel.trigger(15);
            })
        };
        let err = running.wait().unwrap_err();
        trigger.join().unwrap();
        // SIGTERM ended the sleeper well within the grace.
        assert_quick(started, Duration::from_secs(5));
        assert!(err.interrupted().is_some_and(|i| i.0 == 15), "{err:?}");
        let source = std::error::Error::source(&err).unwrap();
        assert!(source.is::<Interrupted>());
        let err = err.into_anyhow();
        assert!(err.downcast_ref::<Interrupted>().is_some());
        assert_eq!(
            format!("{err:#}"),
            format!(
                "`sh -c '{}'` was stopped: interrupted by SIGTERM",
                SLEEPER.replace('\'', r"'\''")
            )
        );
        pids.assert_gone(2);
    }

    #[test]
    fn a_cancelled_run_starts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("mark");
        let cancel = Cancel::default();
        cancel.trigger(2);
        let err = sh(r#"touch "$MARK""#)
            .env("MARK", &mark)
            .cancel(&cancel)
            .run()
            .unwrap_err();
        assert!(err.interrupted().is_some_and(|i| i.0 == 2), "{err:?}");
        // Through anyhow with a plain `?`, the interruption is one level down the chain.
        let plain = anyhow::Error::from(err);
        assert!(
            plain
                .chain()
                .any(<dyn std::error::Error>::is::<Interrupted>)
        );
        assert!(!mark.exists());
    }

    #[test]
    fn dropping_a_running_child_kills_its_group() {
        let pids = Pids::new();
        let running = pids.sh(SLEEPER).spawn().unwrap();
        pids.wait_for(2);
        let started = Instant::now();
        drop(running);
        assert_quick(started, Duration::from_secs(2));
        pids.assert_gone(2);
    }

    #[test]
    fn display_quotes_what_a_shell_would_split_and_cuts_what_is_long() {
        let cmd = Cmd::new("gh").args([
            "api",
            "repos/o/r/issues?state=open&per_page=100",
            "-f",
            "body=two words",
            "it's",
            "",
        ]);
        assert_eq!(
            cmd.display(),
            r"gh api repos/o/r/issues?state=open&per_page=100 -f 'body=two words' 'it'\''s' ''"
        );
        let long = "x".repeat(500);
        let shown = Cmd::new("claude").args([long.as_str()]).display();
        assert_eq!(shown, format!("claude {}...", "x".repeat(160)));
        let many = Cmd::new("git")
            .args((0..40).map(|i| i.to_string()))
            .display();
        assert!(many.ends_with(" 22 ... (17 more arguments)"), "{many}");
    }

    /// `cargo test --release --lib exec_overhead -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, not a check"]
    fn exec_overhead_vs_std_command() {
        const RUNS: usize = 200;
        fn summary(name: &str, mut times: Vec<Duration>) -> Duration {
            times.sort();
            let mean = times.iter().sum::<Duration>() / u32::try_from(times.len()).unwrap();
            let at = |q: usize| times[(times.len() * q / 100).min(times.len() - 1)];
            println!(
                "{name:<28} mean {:>8.1?}  p50 {:>8.1?}  p95 {:>8.1?}",
                mean,
                at(50),
                at(95)
            );
            mean
        }
        let ours = || {
            let done = Cmd::new("true").run().unwrap();
            assert_eq!(done.code, Some(0));
        };
        let std = || {
            let out = Command::new("true").output().unwrap();
            assert!(out.status.success());
        };
        for _ in 0..20 {
            ours();
            std();
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        // Interleaved, so that a busy moment of the machine weighs on both alike.
        for _ in 0..RUNS {
            let t = Instant::now();
            ours();
            a.push(t.elapsed());
            let t = Instant::now();
            std();
            b.push(t.elapsed());
        }
        let ours = summary("exec::Cmd::run(`true`)", a);
        let std = summary("std Command::output(`true`)", b);
        println!(
            "overhead per spawn: {:.1?} (mean)",
            ours.saturating_sub(std)
        );
    }
}
