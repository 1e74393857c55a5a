//! Commands in shell blocks and inline code: programs, scripts, this project's own binary, npm scripts.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result};

use super::binaries::{Help, built_binary, package_scripts, parse_help, published_library};
use super::checks::Audit;
use super::data::{Finding, Kind, Replace};
use super::markdown::{Block, DOLLAR_NAME};
use super::paths::{closest, file_name, normalize, path_candidate};
use super::shell::{ASSIGNMENT, commands, shell_lines};
use super::{
    ENV_LANGS, HELP_TIMEOUT, INTERPRETERS, NO_PATH_ARGS, OTHER_ENV_LANGS, SHELL_LANGS, WRAPPERS,
};
use crate::exec::{Cmd, ExecError};
use crate::text::code;

impl Audit<'_> {
    /// A fenced code block: variables set in shell and env blocks, commands and paths in shell. (A variable
    /// that code in a block reads is the reader's code's business, as in a library's examples.)
    pub(super) fn block(&mut self, doc: &str, block: &Block) -> Result<()> {
        let assignments: Vec<(usize, Option<&str>)> = block
            .lines
            .iter()
            .map(|(line, text)| (line, text.trim()))
            .filter(|(_, text)| !text.is_empty() && !text.starts_with('#'))
            .map(|(line, text)| {
                let text = text.strip_prefix("export ").unwrap_or(text);
                let name = ASSIGNMENT
                    .captures(text)
                    .and_then(|found| found.get(1))
                    .map(|m| m.as_str());
                (*line, name)
            })
            .collect();
        // An env block; or a block of another sort (or none) made only of `NAME=value` lines, which is one.
        let env_block = ENV_LANGS.contains(&block.lang.as_str())
            || (OTHER_ENV_LANGS.contains(&block.lang.as_str())
                && !assignments.is_empty()
                && assignments.iter().all(|(_, name)| name.is_some()));
        if env_block {
            for (line, name) in assignments {
                if let Some(name) = name {
                    self.env(doc, line, name, false, true);
                }
            }
        }
        if !SHELL_LANGS.contains(&block.lang.as_str()) {
            return Ok(());
        }
        let mut shell = Shell {
            base: Some(String::new()),
            ..Shell::default()
        };
        for (line, text) in shell_lines(block) {
            for found in DOLLAR_NAME.captures_iter(&text) {
                if !shell.assigned.contains(&found[1]) {
                    self.env(doc, line, &found[1], false, false);
                }
            }
            for words in commands(&text) {
                self.command(doc, line, &words, &mut shell)?;
            }
        }
        Ok(())
    }

    /// One simple command of a shell block (or of inline code).
    #[expect(
        clippy::too_many_lines,
        reason = "one match over the kinds of command a shell line can run"
    )]
    pub(super) fn command(
        &mut self,
        doc: &str,
        line: usize,
        words: &[String],
        shell: &mut Shell,
    ) -> Result<()> {
        let mut i = 0;
        while i < words.len() {
            let word = &words[i];
            // `NAME=value`, `sudo`, `env`, `time`, ... come before the program.
            if let Some(found) = ASSIGNMENT.captures(word) {
                self.env(doc, line, &found[1], false, true);
                shell.assigned.insert(found[1].to_owned());
            } else if !(WRAPPERS.contains(&word.as_str())
                || (i > 0 && WRAPPERS.contains(&words[i - 1].as_str()) && word.starts_with('-')))
            {
                break;
            }
            i += 1;
        }
        let Some(program) = words.get(i) else {
            return Ok(());
        };
        let args = &words[i + 1..];
        let name = file_name(program);
        match name {
            "cd" => {
                shell.base = cd(
                    shell.base.take(),
                    args.first().map(String::as_str),
                    shell.cloned.as_deref(),
                    self.root,
                );
                return Ok(());
            }
            "export" | "set" | "read" | "for" | "local" | "declare" | "unset" => {
                for arg in args {
                    let var = ASSIGNMENT.captures(arg).map_or(arg.as_str(), |found| {
                        found.get(1).map_or("", |m| m.as_str())
                    });
                    if name == "export" && ASSIGNMENT.is_match(arg) {
                        self.env(doc, line, var, false, true);
                    }
                    shell.assigned.insert(var.to_owned());
                }
                return Ok(());
            }
            "git" if args.first().is_some_and(|a| a == "clone") => {
                shell.cloned = args
                    .iter()
                    .skip(1)
                    .filter(|a| !a.starts_with('-'))
                    .nth(1)
                    .cloned()
                    .or_else(|| {
                        args.iter()
                            .skip(1)
                            .find(|a| !a.starts_with('-'))
                            .map(|url| {
                                file_name(url.trim_end_matches('/'))
                                    .trim_end_matches(".git")
                                    .to_owned()
                            })
                    });
            }
            _ => {}
        }
        let Some(base) = shell.base.clone() else {
            return Ok(());
        };
        self.checked.commands += 1;
        let tries = [base.clone()];
        if program.contains('/') {
            if !program.starts_with('/')
                && !shell.seen.contains(program.trim_start_matches("./"))
                && let Some(candidate) = path_candidate(program)
            {
                self.path(doc, line, &candidate, &tries, Kind::Command, true, false);
            }
        } else if INTERPRETERS.contains(&name)
            && let Some(script) = script_arg(args)
            && !shell.seen.contains(script.trim_start_matches("./"))
            && let Some(candidate) = path_candidate(script)
        {
            self.path(doc, line, &candidate, &tries, Kind::Command, true, false);
        }
        let own = !program.contains('/')
            || program.starts_with('/')
            || program.contains("target/debug/")
            || program.contains("target/release/");
        if own && self.bins.rust.contains(name) {
            self.subcommand(doc, line, name, &words[i..], args)?;
        } else if own && self.bins.node.contains(name) && first_positional(args).is_some() {
            self.notes.insert(format!(
                "the subcommands of {} (a `package.json` bin) were not checked: only Rust binaries are run",
                code(name)
            ));
        } else if name == "cargo" && args.first().is_some_and(|a| a == "run") {
            self.cargo_run(doc, line, &words[i..], &args[1..])?;
        } else if matches!(name, "npm" | "pnpm" | "yarn" | "bun")
            && args
                .first()
                .is_some_and(|a| a == "run" || a == "run-script")
        {
            self.npm_run(doc, line, &base, &words[i..], &args[1..]);
        }
        if !NO_PATH_ARGS.contains(&name) && !INTERPRETERS.contains(&name) {
            let mut skip_value = false;
            for arg in args {
                if std::mem::take(&mut skip_value) {
                    continue;
                }
                if arg.starts_with('-') {
                    // The value of an option is not known to be a path of the repository.
                    skip_value = !arg.contains('=');
                    continue;
                }
                if !shell.seen.contains(arg.trim_start_matches("./"))
                    && let Some(candidate) = path_candidate(arg)
                {
                    self.path(
                        doc,
                        line,
                        &candidate,
                        &tries,
                        Kind::MissingPath,
                        false,
                        false,
                    );
                }
            }
        }
        // What a command names may be what a later one uses (`curl -o x.sh ...; ./x.sh`).
        shell
            .seen
            .extend(words.iter().map(|w| w.trim_start_matches("./").to_owned()));
        Ok(())
    }

    /// `cargo run [--bin NAME] ... -- ARGS`: the arguments go to the project's binary.
    pub(super) fn cargo_run(
        &mut self,
        doc: &str,
        line: usize,
        words: &[String],
        args: &[String],
    ) -> Result<()> {
        let Some(split) = args.iter().position(|a| a == "--") else {
            return Ok(());
        };
        let named = args[..split]
            .iter()
            .position(|a| a == "--bin")
            .and_then(|at| args.get(at + 1))
            .or_else(|| {
                args[..split]
                    .iter()
                    .find_map(|a| a.strip_prefix("--bin="))
                    .and_then(|name| self.bins.rust.get(name))
            })
            .cloned();
        let bin = match named {
            Some(bin) => bin,
            None if self.bins.rust.len() == 1 => {
                self.bins.rust.iter().next().cloned().unwrap_or_default()
            }
            None => return Ok(()),
        };
        if self.bins.rust.contains(&bin) {
            self.subcommand(doc, line, &bin, words, &args[split + 1..])?;
        }
        Ok(())
    }

    /// This project's binary `bin` run with `args`: its first positional argument must be a subcommand its
    /// `--help` lists.
    pub(super) fn subcommand(
        &mut self,
        doc: &str,
        line: usize,
        bin: &str,
        words: &[String],
        args: &[String],
    ) -> Result<()> {
        let Some(help) = self.help(bin)? else {
            return Ok(());
        };
        let Some(sub) = subcommand_of(args, &help) else {
            return Ok(());
        };
        if help.subcommands.contains(sub)
            || !sub
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
        {
            return Ok(());
        }
        let shown = code(&words.join(" "));
        let what = format!("{shown}: {} has no subcommand {}", code(bin), code(sub));
        let near = closest(sub, &help.subcommands).map(|near| {
            let replace = Replace {
                from: format!("{bin} {sub}"),
                to: format!("{bin} {near}"),
            };
            (near.as_str(), replace)
        });
        let listed: Vec<String> = help
            .subcommands
            .iter()
            .filter(|s| *s != "help")
            .map(|s| code(s))
            .collect();
        let otherwise = format!(
            "use one of the subcommands its `--help` lists ({}), or remove the command",
            listed.join(", ")
        );
        self.unknown_name(doc, line, what, near, otherwise);
        Ok(())
    }

    /// A command that names something its program does not have: the near miss (with the replacement that puts
    /// it in place) or, with none, `otherwise`.
    fn unknown_name(
        &mut self,
        doc: &str,
        line: usize,
        what: String,
        near: Option<(&str, Replace)>,
        otherwise: String,
    ) {
        let (fix, replace) = match near {
            Some((near, replace)) => (format!("use {} instead", code(near)), Some(replace)),
            None => (otherwise, None),
        };
        self.findings.push(Finding {
            kind: Kind::Command,
            file: doc.to_owned(),
            line,
            what,
            fix,
            replace,
        });
    }

    /// The subcommands of the project's binary `bin`, from its `--help`; `None` (with a note) when they cannot
    /// be known.
    pub(super) fn help(&mut self, bin: &str) -> Result<Option<Help>> {
        if let Some(known) = self.bins.helps.get(bin) {
            return Ok(known.clone());
        }
        let help = match built_binary(self.root, bin) {
            Err(why) => {
                self.notes.insert(format!(
                    "the subcommands of {} were not checked: {why}",
                    code(bin)
                ));
                None
            }
            Ok(path) => {
                let cwd = tempfile::tempdir().context("failed to create a temporary folder")?;
                let run = Cmd::new(&path)
                    .args(["--help"])
                    .cwd(cwd.path())
                    .timeout(HELP_TIMEOUT)
                    .cancel(&self.cancel)
                    .env("NO_COLOR", "1")
                    .env("TERM", "dumb")
                    .run_any();
                match run {
                    Ok(done) => {
                        let text = format!(
                            "{}\n{}",
                            String::from_utf8_lossy(&done.stdout),
                            String::from_utf8_lossy(&done.stderr)
                        );
                        let help = parse_help(&text);
                        if help.is_none() {
                            self.notes.insert(format!(
                                "the subcommands of {} were not checked: its `--help` lists none",
                                code(bin)
                            ));
                        }
                        help
                    }
                    Err(ExecError::Interrupted { interrupted, .. }) => {
                        return Err(interrupted.into());
                    }
                    Err(err) => {
                        self.notes.insert(format!(
                            "the subcommands of {} were not checked: {err}",
                            code(bin)
                        ));
                        None
                    }
                }
            }
        };
        self.bins.helps.insert(bin.to_owned(), help.clone());
        Ok(help)
    }

    /// `npm run X`: `X` must be a script of the `package.json` in the folder the command runs in.
    pub(super) fn npm_run(
        &mut self,
        doc: &str,
        line: usize,
        base: &str,
        words: &[String],
        args: &[String],
    ) {
        if args.iter().any(|a| {
            a.starts_with("-w")
                || a.starts_with("--workspace")
                || a.starts_with("--prefix")
                || a == "-C"
        }) {
            return;
        }
        let Some(script) = args.iter().find(|a| !a.starts_with('-')) else {
            return;
        };
        if !script
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        {
            return;
        }
        let root = self.root;
        let scripts = self
            .npm_scripts
            .entry(base.to_owned())
            .or_insert_with(|| package_scripts(&root.join(base).join("package.json")));
        let Some(scripts) = scripts else {
            return;
        };
        if scripts.contains(script) {
            return;
        }
        let near = closest(script, scripts.iter()).cloned();
        // A library's docs show the reader's project (`npm run dev` after `npm init`): a script it lacks is
        // flagged only when it is a near miss of one it has.
        if near.is_none() && published_library(&root.join(base).join("package.json")) {
            return;
        }
        let manifest = code(&if base.is_empty() {
            "package.json".to_owned()
        } else {
            format!("{base}/package.json")
        });
        let what = format!(
            "{}: {manifest} has no script {}",
            code(&words.join(" ")),
            code(script)
        );
        let near = near.as_deref().map(|near| {
            let replace = Replace {
                from: format!("run {script}"),
                to: format!("run {near}"),
            };
            (near, replace)
        });
        let otherwise = if scripts.is_empty() {
            format!("{manifest} has no scripts: remove the command")
        } else {
            let listed: Vec<String> = scripts.iter().take(8).map(|s| code(s)).collect();
            format!(
                "use one of its scripts ({}), or remove the command",
                listed.join(", ")
            )
        };
        self.unknown_name(doc, line, what, near, otherwise);
    }
}

/// Where a shell block's commands run, as far as the block says.
#[derive(Default)]
pub(super) struct Shell {
    /// The folder commands run in, relative to the project; `None` once a `cd` went somewhere unknown.
    pub(super) base: Option<String>,
    /// The folder a `git clone` in the block creates (a `cd` into it goes to the project root).
    pub(super) cloned: Option<String>,
    /// Words of earlier commands: what they create is not missing.
    pub(super) seen: HashSet<String>,
    /// Variables the block sets itself.
    pub(super) assigned: HashSet<String>,
}

/// Where a `cd` leads from `base`.
pub(super) fn cd(
    base: Option<String>,
    to: Option<&str>,
    cloned: Option<&str>,
    root: &Path,
) -> Option<String> {
    let to = to?;
    if cloned.is_some_and(|c| c == to.trim_end_matches('/')) {
        return Some(String::new());
    }
    if to.starts_with(['/', '~', '$', '-']) {
        return None;
    }
    let next = normalize(&base?, to)?;
    root.join(&next).is_dir().then_some(next)
}

/// The script an interpreter runs: its first argument that is not an option (`-m module` and `-c code` run
/// none).
pub(super) fn script_arg(args: &[String]) -> Option<&str> {
    for arg in args {
        match arg.as_str() {
            "-m" | "-c" | "-e" | "--eval" | "-p" | "--print" => return None,
            "run" | "exec" => {}
            arg if arg.starts_with('-') => {}
            arg => return Some(arg),
        }
    }
    None
}

pub(super) fn first_positional(args: &[String]) -> Option<&String> {
    args.iter().find(|a| !a.starts_with('-'))
}

/// The subcommand among `args`: the first positional argument, options' values skipped.
pub(super) fn subcommand_of<'w>(args: &'w [String], help: &Help) -> Option<&'w str> {
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            return None;
        }
        if arg.starts_with('-') {
            if !arg.contains('=') && help.takes_value.contains(arg.as_str()) {
                i += 1;
            }
            i += 1;
            continue;
        }
        return Some(arg);
    }
    None
}
