//! Confinement of code a model edited: the project's test command (and any other command run on a worktree
//! after Claude touched it) runs with an allow-listed environment, and on Linux inside bubblewrap or under
//! Landlock, on macOS under `sandbox-exec`: it may write only to its worktree and a private temp directory,
//! reach no network (unless the project says `"sandbox_network": true`), and read none of the secrets that
//! sit in `HOME` (bubblewrap and `sandbox-exec` hide them; Landlock cannot hide a path below a readable one).
//!
//! Landlock restricts the calling thread and what it executes, so daydream confines a process of its own:
//! `daydream __confine --write DIR ... -- PROGRAM ARGS` restricts itself, then `exec`s the program. Nothing
//! unconfined ever runs in between: if the restriction fails, the program does not run.
//!
//! Which sandbox: `DAYDREAM_SANDBOX` (`bwrap`, `landlock`, `sandbox-exec`) forces one; otherwise bubblewrap when
//! `bwrap` is on `PATH` and works, else Landlock when the kernel has it, else `sandbox-exec` on macOS. The
//! project's `"sandbox"` says what happens when there is none: `auto` (the default) runs unconfined with a
//! warning, `required` refuses to run, `off` never confines (the environment allow-list still applies).

use std::ffi::OsString;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::env::Env;
use crate::exec::Cmd;

/// The variables any child that must not see secrets gets, when set: where programs are, who and where the
/// user is, the language and time zone. `LC_*` too. Never a token, an SSH agent or a credential helper.
pub(crate) const BASE_ENV: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
];

/// The variables a child that talks to a server needs to reach it: proxies and certificate authorities.
pub(crate) const NETWORK_ENV: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// Files and folders under `HOME` that hold credentials; hidden from confined commands where the sandbox can.
const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    ".claude",
    ".claude.json",
    ".config/gh",
    ".config/gcloud",
    ".config/hub",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".cargo/credentials",
    ".cargo/credentials.toml",
];

/// `name=value` pairs of [`BASE_ENV`] and `LC_*` from `env`.
pub(crate) fn base_env(env: &Env) -> Vec<(String, String)> {
    env.vars()
        .filter(|(name, _)| BASE_ENV.contains(name) || name.starts_with("LC_"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A project's `"sandbox"`: what to do when this machine has no sandbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Policy {
    /// Confine when a sandbox is available, else run with the environment allow-list only, and say so.
    #[default]
    Auto,
    /// Refuse to run model-edited code without a sandbox.
    Required,
    /// Never confine (the environment allow-list still applies).
    Off,
}

/// The confinement this machine gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// bubblewrap: a read-only view of the system, the worktree bound writable, a private `/tmp`, `HOME`'s
    /// secrets hidden, no network namespace of the host.
    Bubblewrap(PathBuf),
    /// Linux Landlock (through `daydream __confine`): writes only to the worktree and a temp directory; TCP
    /// neither bound nor connected (kernel ABI 4 and later).
    Landlock,
    /// macOS `sandbox-exec` with a generated profile.
    SandboxExec,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Bubblewrap(path) => write!(f, "bubblewrap (`{}`)", path.display()),
            Kind::Landlock => f.write_str("Landlock"),
            Kind::SandboxExec => f.write_str("sandbox-exec"),
        }
    }
}

/// The sandbox of this machine: `Ok(None)` when there is none, `Err` when `DAYDREAM_SANDBOX` names one that
/// does not work here. What is found without `DAYDREAM_SANDBOX` is looked for once per process.
pub(crate) fn detect(env: &Env) -> Result<Option<Kind>, String> {
    static FOUND: OnceLock<Option<Kind>> = OnceLock::new();
    if env.get("DAYDREAM_SANDBOX").is_none() {
        return Ok(FOUND.get_or_init(|| find(env).ok().flatten()).clone());
    }
    find(env)
}

fn find(env: &Env) -> Result<Option<Kind>, String> {
    let bwrap = || {
        let path = which("bwrap", env)?;
        bwrap_works(&path, env).then_some(Kind::Bubblewrap(path))
    };
    let landlock = || landlock_available().then_some(Kind::Landlock);
    let seatbelt = || {
        (cfg!(target_os = "macos") && Path::new("/usr/bin/sandbox-exec").is_file())
            .then_some(Kind::SandboxExec)
    };
    match env.get("DAYDREAM_SANDBOX") {
        None => Ok(bwrap().or_else(landlock).or_else(seatbelt)),
        Some("bwrap" | "bubblewrap") => bwrap().map(Some).ok_or_else(|| {
            "`DAYDREAM_SANDBOX=bwrap`, but `bwrap` is not on `PATH` or cannot create a sandbox here \
             (install bubblewrap, or allow unprivileged user namespaces)"
                .to_owned()
        }),
        Some("landlock") => landlock().map(Some).ok_or_else(|| {
            "`DAYDREAM_SANDBOX=landlock`, but this kernel has no Landlock (Linux 5.13 or later, with \
             `landlock` in the `lsm=` boot list)"
                .to_owned()
        }),
        Some("sandbox-exec") => seatbelt()
            .map(Some)
            .ok_or_else(|| "`DAYDREAM_SANDBOX=sandbox-exec` works only on macOS".to_owned()),
        Some(other) => Err(format!(
            "`DAYDREAM_SANDBOX={other}` is not a sandbox: use `bwrap`, `landlock` or `sandbox-exec`, or unset it"
        )),
    }
}

fn which(program: &str, env: &Env) -> Option<PathBuf> {
    let path = env.get("PATH")?;
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Whether `bwrap` can build the sandbox we ask for (it cannot where user namespaces are off and it is not
/// setuid).
fn bwrap_works(bwrap: &Path, env: &Env) -> bool {
    let tmp = std::env::temp_dir();
    Cmd::new(bwrap)
        .args(bwrap_mounts(&tmp, &[], false, &[], None))
        .args(["true"])
        .env_clear()
        .env("PATH", env.get("PATH").unwrap_or("/usr/bin:/bin"))
        .timeout(std::time::Duration::from_secs(10))
        .run()
        .is_ok()
}

#[cfg(target_os = "linux")]
fn landlock_available() -> bool {
    use landlock::{ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr};
    // Creating a ruleset restricts nothing; it only fails where the kernel has no Landlock.
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(ABI::V1))
        .and_then(Ruleset::create)
        .is_ok()
}

#[cfg(not(target_os = "linux"))]
fn landlock_available() -> bool {
    false
}

/// How model-edited code of one project runs: the sandbox (if any), the network, the environment.
#[derive(Clone, Debug)]
pub(crate) struct Jail {
    kind: Option<Kind>,
    network: bool,
    env: Vec<(String, String)>,
    /// Files to hide from the command where the sandbox can: `HOME`'s secrets and daydream's own `.env`.
    hidden: Vec<PathBuf>,
    /// This binary, for `__confine`.
    daydream: PathBuf,
}

impl Jail {
    /// The jail of a project with `policy` and `network`; `Err` says why model-edited code may not run here.
    /// `root` is daydream's root, whose `.env` is hidden too.
    pub(crate) fn new(
        policy: Policy,
        network: bool,
        env: &Env,
        root: &Path,
    ) -> Result<Jail, String> {
        let kind = match policy {
            Policy::Off => None,
            Policy::Auto | Policy::Required => detect(env)?,
        };
        if kind.is_none() && policy == Policy::Required {
            return Err(format!(
                "the project requires a sandbox (`\"sandbox\": \"required\"`) and this machine has none: {}",
                install_hint()
            ));
        }
        let home = env.get("HOME").map(PathBuf::from);
        let mut hidden: Vec<PathBuf> = home
            .iter()
            .flat_map(|home| HOME_SECRETS.iter().map(move |rel| home.join(rel)))
            .collect();
        hidden.push(root.join(".env"));
        hidden.retain(|p| p.exists());
        Ok(Jail {
            kind,
            network,
            env: base_env(env)
                .into_iter()
                .filter(|(name, _)| name != "TMPDIR")
                .collect(),
            hidden,
            daydream: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("daydream")),
        })
    }

    /// The sandbox used, `None` when commands run unconfined.
    pub(crate) fn kind(&self) -> Option<&Kind> {
        self.kind.as_ref()
    }

    /// `sh -c command` in `dir`, confined; `read_only` are paths outside `dir` the command must still see
    /// under bubblewrap's private `/tmp` (the repository's git directory of a worktree). The returned value
    /// owns the private temp directory: keep it until the command has finished.
    pub(crate) fn shell(
        &self,
        dir: &Path,
        read_only: &[PathBuf],
        command: &str,
    ) -> Result<Confined> {
        let tmp = tempfile::Builder::new()
            .prefix("daydream-sandbox-")
            .tempdir()
            .context("failed to make the sandbox's temp directory")?;
        let shell: [&str; 3] = ["sh", "-c", command];
        let (mut cmd, tmpdir) = match &self.kind {
            None => (Cmd::new("sh").args(["-c", command]), tmp.path().to_owned()),
            Some(Kind::Bubblewrap(bwrap)) => {
                let mut args = bwrap_mounts(dir, read_only, self.network, &self.hidden, Some(dir));
                args.extend(shell.iter().map(|s| (*s).to_owned()));
                // Inside, `/tmp` is a fresh tmpfs of its own.
                (Cmd::new(bwrap).args(args), PathBuf::from("/tmp"))
            }
            Some(Kind::Landlock) => {
                let mut args: Vec<OsString> = vec!["__confine".into()];
                for write in [dir, tmp.path()] {
                    args.push("--write".into());
                    args.push(write.into());
                }
                if self.network {
                    args.push("--network".into());
                }
                args.push("--".into());
                args.extend(shell.iter().map(OsString::from));
                (Cmd::new(&self.daydream).args(args), tmp.path().to_owned())
            }
            Some(Kind::SandboxExec) => {
                let profile = seatbelt_profile(dir, tmp.path(), self.network, &self.hidden);
                let mut args = vec!["-p".to_owned(), profile];
                args.extend(shell.iter().map(|s| (*s).to_owned()));
                (
                    Cmd::new("/usr/bin/sandbox-exec").args(args),
                    tmp.path().to_owned(),
                )
            }
        };
        cmd = cmd.cwd(dir).env_clear();
        for (name, value) in &self.env {
            cmd = cmd.env(name, value);
        }
        cmd = cmd
            .env("TMPDIR", tmpdir)
            .env("CI", "true")
            // Python's bytecode caches would be files the tests left behind in the worktree.
            .env("PYTHONDONTWRITEBYTECODE", "1");
        Ok(Confined { cmd, _tmp: tmp })
    }

    /// A script at `path` that runs `command` confined in `dir`, for a caller that can only run a command line:
    /// Claude's Bash tool when the project sets `allow_test_command`. `path` must lie outside `dir`, where the
    /// model cannot edit it; the script starts from an empty environment (`env -i`), so the model's own
    /// variables stay out of the tests.
    pub(crate) fn launcher(
        &self,
        dir: &Path,
        read_only: &[PathBuf],
        command: &str,
        path: &Path,
    ) -> Result<Launcher> {
        use std::os::unix::fs::PermissionsExt as _;
        anyhow::ensure!(
            !path.starts_with(dir),
            "the test launcher must lie outside the worktree"
        );
        let confined = self.shell(dir, read_only, command)?;
        let path = path.to_owned();
        let script = format!(
            "#!/bin/sh\n# Runs the project's tests confined, as daydream does after a fix.\n{}\n",
            confined.cmd.shell_line()
        );
        std::fs::write(&path, script)
            .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o555)))
            .with_context(|| format!("failed to write `{}`", path.display()))?;
        Ok(Launcher {
            path,
            _confined: confined,
        })
    }
}

/// A script that runs the tests confined ([`Jail::launcher`]); removed when dropped.
pub(crate) struct Launcher {
    pub(crate) path: PathBuf,
    _confined: Confined,
}

impl Drop for Launcher {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A confined command and the private temp directory it may write to (removed when dropped).
pub(crate) struct Confined {
    pub(crate) cmd: Cmd,
    _tmp: tempfile::TempDir,
}

/// What to install for a sandbox on this system.
pub(crate) fn install_hint() -> &'static str {
    if cfg!(target_os = "macos") {
        "`/usr/bin/sandbox-exec` is missing from this macOS"
    } else {
        "install bubblewrap (`apt-get install bubblewrap`, `dnf install bubblewrap`) or boot a kernel with \
         Landlock"
    }
}

/// bubblewrap's arguments up to the command: the system read-only, devices and `/proc`, a private `/tmp`,
/// `hidden` paths masked, `read_only` paths re-exposed, `dir` writable, and no network unless `network`.
fn bwrap_mounts(
    dir: &Path,
    read_only: &[PathBuf],
    network: bool,
    hidden: &[PathBuf],
    chdir: Option<&Path>,
) -> Vec<String> {
    let show = |p: &Path| p.to_string_lossy().into_owned();
    let mut args: Vec<String> = [
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-ipc",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
    ]
    .map(str::to_owned)
    .to_vec();
    if !network {
        args.push("--unshare-net".to_owned());
    }
    for path in hidden {
        if path.is_dir() {
            args.extend(["--tmpfs".to_owned(), show(path)]);
        } else {
            args.extend(["--ro-bind".to_owned(), "/dev/null".to_owned(), show(path)]);
        }
    }
    for path in read_only {
        args.extend(["--ro-bind".to_owned(), show(path), show(path)]);
    }
    args.extend(["--bind".to_owned(), show(dir), show(dir)]);
    if let Some(chdir) = chdir {
        args.extend(["--chdir".to_owned(), show(chdir)]);
    }
    args.push("--".to_owned());
    args
}

/// A `sandbox-exec` profile: everything allowed but writes outside `dir` and `tmp`, reads of `hidden`, and
/// (unless `network`) the network other than local sockets.
fn seatbelt_profile(dir: &Path, tmp: &Path, network: bool, hidden: &[PathBuf]) -> String {
    // The profile language is Scheme: strings in double quotes with backslash escapes.
    let quote = |p: &Path| {
        let real = p.canonicalize().unwrap_or_else(|_| p.to_owned());
        format!(
            "\"{}\"",
            real.to_string_lossy()
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
        )
    };
    let mut profile = String::from("(version 1)\n(allow default)\n(deny file-write*)\n");
    let _ = writeln!(
        profile,
        "(allow file-write* (subpath {}) (subpath {}) (literal \"/dev/null\") (literal \"/dev/zero\") (literal \"/dev/tty\"))",
        quote(dir),
        quote(tmp)
    );
    for path in hidden {
        let filter = if path.is_dir() { "subpath" } else { "literal" };
        let _ = writeln!(profile, "(deny file-read* ({filter} {}))", quote(path));
    }
    if !network {
        profile.push_str("(deny network*)\n(allow network* (remote unix-socket))\n");
    }
    profile
}

/// `daydream __confine`: restricts this process with Landlock to writing `write` (and `/dev/null`), and to no
/// TCP unless `network`, then becomes `command`. Returns only on failure: nothing runs unconfined.
#[cfg(target_os = "linux")]
pub(crate) fn confine_and_exec(
    write: &[PathBuf],
    network: bool,
    command: &[OsString],
) -> anyhow::Error {
    let Some((program, args)) = command.split_first() else {
        return anyhow::anyhow!("failed to confine: no command after `--`");
    };
    if let Err(err) = confine_self(write, network) {
        return err.context("failed to confine the command with Landlock; it was not run");
    }
    let err = crate::exec::replace_process(program, args);
    anyhow::Error::new(err).context(format!(
        "failed to run `{}` in the sandbox",
        program.to_string_lossy()
    ))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn confine_and_exec(_: &[PathBuf], _: bool, _: &[OsString]) -> anyhow::Error {
    anyhow::anyhow!("failed to confine: Landlock exists only on Linux")
}

/// Restricts the calling thread (and what it runs from now on) with Landlock. An error unless the file system
/// rules are enforced; the network rules are applied where the kernel has them (ABI 4, Linux 6.7).
#[cfg(target_os = "linux")]
pub(crate) fn confine_self(write: &[PathBuf], network: bool) -> Result<()> {
    use landlock::{
        ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
        path_beneath_rules,
    };
    let abi = ABI::V5;
    let mut ruleset = Ruleset::default().handle_access(AccessFs::from_all(abi))?;
    if !network {
        ruleset = ruleset.handle_access(AccessNet::from_all(abi))?;
    }
    let devices = [
        Path::new("/dev/null"),
        Path::new("/dev/zero"),
        Path::new("/dev/full"),
    ];
    let status = ruleset
        .create()?
        .add_rules(path_beneath_rules(["/"], AccessFs::from_read(abi)))?
        .add_rules(path_beneath_rules(write, AccessFs::from_all(abi)))?
        .add_rules(path_beneath_rules(devices, AccessFs::from_all(abi)))?
        .restrict_self()?;
    anyhow::ensure!(
        status.ruleset != RulesetStatus::NotEnforced,
        "this kernel does not enforce Landlock"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> Env {
        let mut env = Env::default();
        for (k, v) in pairs {
            env.set(k, v);
        }
        env
    }

    #[test]
    fn the_base_environment_keeps_locale_and_paths_and_drops_every_token() {
        let env = env_of(&[
            ("PATH", "/usr/bin"),
            ("HOME", "/home/u"),
            ("LC_ALL", "C"),
            ("LANG", "en_US.UTF-8"),
            ("GH_TOKEN", "ghp_x"),
            ("SENTRY_AUTH_TOKEN", "s"),
            ("TELEGRAM_BOT_TOKEN", "t"),
            ("SSH_AUTH_SOCK", "/tmp/agent"),
            ("GIT_ASKPASS", "/bin/askpass"),
            ("ANTHROPIC_API_KEY", "sk-ant"),
            ("AWS_SECRET_ACCESS_KEY", "a"),
        ]);
        let names: Vec<String> = base_env(&env).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["HOME", "LANG", "LC_ALL", "PATH"]);
    }

    #[test]
    fn bubblewrap_binds_only_the_worktree_writable_and_hides_secrets() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".ssh")).unwrap();
        std::fs::write(home.path().join(".netrc"), "machine x password y").unwrap();
        let hidden = vec![home.path().join(".ssh"), home.path().join(".netrc")];
        let wt = Path::new("/tmp/wt");
        let args = bwrap_mounts(wt, &[PathBuf::from("/repo/.git")], false, &hidden, Some(wt));
        let joined = args.join(" ");
        assert!(joined.starts_with("--die-with-parent --unshare-pid --unshare-ipc --ro-bind / / "));
        assert!(joined.contains("--tmpfs /tmp"));
        assert!(joined.contains("--unshare-net"));
        assert!(joined.contains(&format!("--tmpfs {}", home.path().join(".ssh").display())));
        assert!(joined.contains(&format!(
            "--ro-bind /dev/null {}",
            home.path().join(".netrc").display()
        )));
        assert!(joined.contains("--ro-bind /repo/.git /repo/.git"));
        assert!(joined.ends_with("--bind /tmp/wt /tmp/wt --chdir /tmp/wt --"));
        let with_net = bwrap_mounts(wt, &[], true, &[], None);
        assert!(!with_net.contains(&"--unshare-net".to_owned()));
    }

    #[test]
    fn the_seatbelt_profile_denies_writes_outside_and_the_network() {
        let dir = tempfile::tempdir().unwrap();
        let profile = seatbelt_profile(dir.path(), Path::new("/private/tmp/x\"y"), false, &[]);
        assert!(profile.contains("(deny file-write*)"));
        assert!(profile.contains(&format!(
            "(allow file-write* (subpath \"{}\")",
            dir.path().canonicalize().unwrap().display()
        )));
        assert!(
            profile.contains(r#"(subpath "/private/tmp/x\"y")"#),
            "{profile}"
        );
        assert!(profile.contains("(deny network*)"));
        assert!(!seatbelt_profile(dir.path(), dir.path(), true, &[]).contains("network"));
    }

    #[test]
    fn required_without_a_sandbox_refuses_and_off_never_confines() {
        let env = env_of(&[("PATH", "/usr/bin"), ("DAYDREAM_SANDBOX", "nonsense")]);
        let root = tempfile::tempdir().unwrap();
        let err = Jail::new(Policy::Auto, false, &env, root.path()).unwrap_err();
        assert!(
            err.contains("`DAYDREAM_SANDBOX=nonsense` is not a sandbox"),
            "{err}"
        );
        let jail = Jail::new(Policy::Off, false, &env, root.path()).unwrap();
        assert_eq!(jail.kind(), None);
    }

    /// A command that outlives its timeout in bubblewrap is ended with everything it started: bwrap stays in
    /// exec's process group, and its pid namespace dies with it.
    #[test]
    fn a_timed_out_command_in_bubblewrap_leaves_no_process() {
        let env = Env::load(Path::new("/nonexistent")).unwrap();
        let Some(bwrap) = which("bwrap", &env).filter(|b| bwrap_works(b, &env)) else {
            assert!(std::env::var_os("CI").is_none(), "CI installs bubblewrap");
            eprintln!("skipping: no working `bwrap`");
            return;
        };
        let root = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut jail = Jail::new(Policy::Off, false, &env, root.path()).unwrap();
        jail.kind = Some(Kind::Bubblewrap(bwrap));
        let marker = format!("sleep 4{}", std::process::id() % 1000);
        let confined = jail
            .shell(dir.path(), &[], &format!("{marker} & {marker}; wait"))
            .unwrap();
        let err = confined
            .cmd
            .clone()
            .timeout(std::time::Duration::from_millis(500))
            .grace(std::time::Duration::from_millis(200))
            .run()
            .unwrap_err();
        assert!(
            matches!(err, crate::exec::ExecError::TimedOut { .. }),
            "{err}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
        let left: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.trim() == marker)
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// Landlock restricts one thread: a thread of the test confines itself and tries to write outside.
    #[cfg(target_os = "linux")]
    #[test]
    fn landlock_confines_writes_to_the_allowed_directories() {
        if !landlock_available() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI's kernel is expected to have Landlock"
            );
            eprintln!("skipping: this kernel has no Landlock");
            return;
        }
        let inside = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let (ins, outs) = (inside.path().to_owned(), outside.path().to_owned());
        let (wrote_inside, wrote_outside) = std::thread::spawn(move || {
            confine_self(std::slice::from_ref(&ins), false).unwrap();
            (
                std::fs::write(ins.join("ok"), "x").is_ok(),
                std::fs::write(outs.join("escape"), "x").is_ok(),
            )
        })
        .join()
        .unwrap();
        assert!(wrote_inside);
        assert!(!wrote_outside);
        assert!(!outside.path().join("escape").exists());
    }

    /// What a sandbox adds to one run of a command: `tests/bench/sandbox.sh` (or `cargo test --release --lib
    /// sandbox_overhead -- --ignored --nocapture` with `DAYDREAM_BIN` naming a built `daydream`).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn sandbox_overhead() {
        use std::time::{Duration, Instant};
        const RUNS: usize = 100;
        let env = Env::load(Path::new("/nonexistent")).unwrap();
        let root = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let bin = std::env::var_os("DAYDREAM_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/daydream"),
            PathBuf::from,
        );
        let mut jails = vec![(
            "unconfined",
            Jail::new(Policy::Off, false, &env, root.path()).unwrap(),
        )];
        let base = jails[0].1.clone();
        if let Some(bwrap) = which("bwrap", &env).filter(|b| bwrap_works(b, &env)) {
            jails.push((
                "bubblewrap",
                Jail {
                    kind: Some(Kind::Bubblewrap(bwrap)),
                    ..base.clone()
                },
            ));
        }
        if landlock_available() && bin.is_file() {
            jails.push((
                "landlock",
                Jail {
                    kind: Some(Kind::Landlock),
                    daydream: bin,
                    ..base.clone()
                },
            ));
        }
        for command in ["true", "sh -c 'echo x > out.txt; cat out.txt >/dev/null'"] {
            let mut times: Vec<Vec<Duration>> = vec![Vec::new(); jails.len()];
            for round in 0..RUNS + 10 {
                for (i, (_, jail)) in jails.iter().enumerate() {
                    let confined = jail.shell(dir.path(), &[], command).unwrap();
                    let t = Instant::now();
                    let done = confined.cmd.run().unwrap();
                    let took = t.elapsed();
                    assert_eq!(done.code, Some(0));
                    if round >= 10 {
                        times[i].push(took);
                    }
                }
            }
            println!("`{command}`, {RUNS} runs each, interleaved:");
            let mut unconfined = Duration::ZERO;
            for ((name, _), mut t) in jails.iter().zip(times) {
                t.sort();
                let mean = t.iter().sum::<Duration>() / u32::try_from(t.len()).unwrap();
                if *name == "unconfined" {
                    unconfined = mean;
                }
                println!(
                    "  {name:<11} mean {:>7.2} ms  p50 {:>7.2} ms  p95 {:>7.2} ms  added {:>6.2} ms",
                    mean.as_secs_f64() * 1e3,
                    t[t.len() / 2].as_secs_f64() * 1e3,
                    t[t.len() * 95 / 100].as_secs_f64() * 1e3,
                    (mean.as_secs_f64() - unconfined.as_secs_f64()) * 1e3
                );
            }
        }
    }
}
