//! The `docs` step: a project's markdown (the top-level `*.md` files and everything under `docs/`) checked for
//! references that no longer hold. Each finding carries `file:line` and a suggested fix (and, where the fix is
//! mechanical, the text to replace), ready for auto-fix to turn into a pull request. Nothing in the project is
//! written and nothing is committed.
//!
//! Precise rather than noisy: a finding nobody can act on is worse than none, so each rule flags only what it can
//! show to be wrong.
//! - **Broken links**: relative links (inline, reference definitions, HTML `href`/`src`) to files that do not
//!   exist, resolved from the doc's folder (from the project with a leading `/`), and `#anchors` that match no
//!   heading of the target (GitHub's slugs) and no explicit `id`/`name`. URLs, mail links, links that leave the
//!   project, git-ignored targets (generated docs) and rustdoc's links (`crate::Item`, `Item`,
//!   `struct.Item.html`) are not checked. In a doc that a site generator builds (`conf.py` Sphinx, `mkdocs.yml`,
//!   `docusaurus.config.*`; see `site`), a link resolves as the generator resolves it: site-root links from its
//!   docs folder (Docusaurus: `static/`), extensionless pages with their extension or as a folder's index
//!   (`MkDocs` also from the page's URL), and under Sphinx a target that names no file is a cross-reference
//!   (a `MyST` label, a document, an object) that Sphinx checks itself. `MyST` `(label)=` lines are anchors, and
//!   the argument of a `MyST` role (`` {ref}`x` ``) is no path.
//! - **Missing paths**: what looks like a repository path in inline code or in the arguments of a shell block
//!   (a `/` or a known extension; no spaces, globs, placeholders such as `<slug>`, `YYYY`, `DIR` or
//!   `path/to/...`, URLs, `~` or `$`) that exists neither from the project root nor from the doc's folder, and is
//!   not created at run time (git-ignored, or under `logs/`, `tmp/`, `build/`, ...) nor copied from an example
//!   (`x.example.json` next to `x.json`). Flagged only with evidence: git history shows it was deleted or
//!   renamed (the fix names the new path), or its folder holds a near-identical name (a typo). A bare file name
//!   needs the history evidence and no file of that name anywhere in the project.
//! - **Commands**: in `sh`/`bash`/`console` blocks (prompts stripped, output lines of prompted blocks skipped,
//!   continuations joined, heredocs skipped, `cd` followed), a program or interpreter script given by a path
//!   that does not exist (`./scripts/x.sh`, `python tools/y.py`); this project's own binary (the Cargo package
//!   or `[[bin]]` names) used with a subcommand its `--help` does not list, checked by running
//!   `target/{debug,release}/<name> --help` when that build is newer than the sources (otherwise a note says
//!   the check was skipped); `npm run X` where `package.json` has no script `X` (in a published library's docs,
//!   which show the reader's project, only a near miss of one of its scripts). Inline code that starts with
//!   the project's binary, `cargo run` or `npm run` is checked the same way. System programs are never flagged.
//! - **Unknown environment variables**: a `NAME_WITH_UNDERSCORE` that neither the `.env.example` nor any
//!   non-markdown file of the project mentions, when the doc tells the reader to set it (`NAME=...` or
//!   `export NAME=...` in inline code, shell or env blocks; a line that says "set", "export", ...) or names it
//!   (`` `NAME` ``, `$NAME`) within the project's namespace (`MYTOOL_` for `mytool`, or the prefix of a variable
//!   of the env example). Other programs' variables (`BASH_ENV`), constants of some API, well-known variables
//!   (`HTTPS_PROXY`, `GH_TOKEN`, `CARGO_*`, ...) and placeholders (`$PATH_TO_FILE`) are left alone.
//! - **Stale docs**: a doc whose last commit is more than `DAYDREAM_DOCS_STALE_DAYS` (default 90) days older
//!   than the last commit of a file it names (dependency manifests, lock files and other docs aside).
//! - **Orphan docs**: a markdown file under `docs/` that no other doc links to, no code includes
//!   (`include_str!`) and no site configuration lists (indexes such as `docs/README.md` aside; skipped when a
//!   site generator builds its navigation from the folder).
//!
//! Lines that speak of the past ("renamed", "removed", "deprecated", ...) and changelog-like files are not
//! checked for paths, commands or variables: they name what is gone on purpose.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;
use std::{fs, io};

use anyhow::{Context, Result};

use crate::git::WorkTree;
use crate::step::{Outcome, Output, Step, UnitCx, Warnings};

mod binaries;
mod checks;
mod commands;
mod data;
mod env;
mod files;
mod history;
mod links;
mod markdown;
mod paths;
mod render;
mod shell;
mod site;
mod staleness;

use checks::Audit;
use data::{DocsData, Kind, Listed};
use files::walk;
use history::{Git, History};
use paths::{normalize, parent};
use render::{actions, digest, render, summary};
use staleness::stale;

/// The knob for the staleness threshold, in days.
const STALE_DAYS_VAR: &str = "DAYDREAM_DOCS_STALE_DAYS";
const DEFAULT_STALE_DAYS: u32 = 90;
/// Findings kept in the data, most important kinds first; the counts cover all of them.
const LIST_LIMIT: usize = 100;
/// Findings shown per kind in the report.
const RENDER_LIMIT: usize = 10;
/// Broken links and commands listed one per action; beyond this they are grouped.
const ACTION_LIMIT: usize = 5;
/// Findings in the digest for reflection.
const DIGEST_LIMIT: usize = 10;
/// Docs larger than this are not read.
const MAX_DOC_BYTES: u64 = 1024 * 1024;
/// Docs checked at most; the rest are counted in a note.
const MAX_DOCS: usize = 500;
/// Source files larger than this are not searched for variable names.
const MAX_SOURCE_BYTES: u64 = 1024 * 1024;
/// Source files read at most for variable names; beyond, unknown variables are not reported.
const MAX_SOURCE_FILES: usize = 20_000;
/// Bytes of source files read at most for variable names; beyond, unknown variables are not reported.
const MAX_SOURCE_TOTAL: u64 = 256 * 1024 * 1024;
/// A NUL byte in this many leading bytes makes a file binary.
const BINARY_PROBE: usize = 8 * 1024;
const GIT_TIMEOUT: Duration = Duration::from_secs(60);
const HELP_TIMEOUT: Duration = Duration::from_secs(10);
/// Paths per `git log` call.
const GIT_CHUNK: usize = 200;
/// Renames followed from a path to where it lives now.
const RENAME_HOPS: usize = 3;

/// First folders of paths that programs create at run time: a missing path under them is not a finding.
const RUNTIME_DIRS: &[&str] = &[
    "logs",
    "log",
    "tmp",
    "temp",
    ".cache",
    "cache",
    "build",
    "dist",
    "out",
    "target",
    "node_modules",
    "coverage",
    "data",
    ".venv",
    "venv",
];
/// Files that list a project's environment variables.
const ENV_EXAMPLES: &[&str] = &[
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    "env.example",
    "example.env",
];
/// Files never read, not even for names: they hold secrets.
const SECRET_FILES: &[&str] = &[".env", ".env.local", ".env.production", ".env.development"];
/// Extensions that make a bare word a file name.
const KNOWN_EXTENSIONS: &[&str] = &[
    "md", "markdown", "rst", "txt", "rs", "py", "pyi", "ipynb", "js", "mjs", "cjs", "jsx", "ts",
    "mts", "cts", "tsx", "vue", "svelte", "json", "jsonl", "toml", "yaml", "yml", "ini", "cfg",
    "conf", "env", "example", "sh", "bash", "zsh", "fish", "ps1", "go", "rb", "java", "kt", "kts",
    "swift", "c", "h", "cc", "cpp", "hpp", "cs", "php", "lua", "pl", "ex", "exs", "erl", "hs",
    "ml", "scala", "dart", "r", "sql", "graphql", "proto", "html", "css", "scss", "xml", "csv",
    "tsv", "lock", "log", "tf", "nix", "gradle", "plist", "service", "timer",
];
/// Files without an extension that are still plainly file names.
const KNOWN_FILES: &[&str] = &[
    "Makefile",
    "Dockerfile",
    "Justfile",
    "justfile",
    "Procfile",
    "Gemfile",
    "Rakefile",
    "Vagrantfile",
    "LICENSE",
    "Brewfile",
];
/// Files whose changes say nothing about the docs that name them (dependency bumps, ignores).
const NOT_CODE: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "poetry.lock",
    "uv.lock",
    "Pipfile",
    "Pipfile.lock",
    "pyproject.toml",
    "go.mod",
    "go.sum",
    "Gemfile",
    "Gemfile.lock",
    "composer.json",
    "composer.lock",
    ".gitignore",
    "LICENSE",
];
/// Words of the names of docs that record the past: what they name is gone on purpose.
const HISTORICAL_DOCS: &[&str] = &[
    "changelog",
    "changes",
    "history",
    "news",
    "release",
    "releases",
    "upgrading",
    "upgrade",
    "migration",
    "migrating",
];
/// Folders under `docs/` that record decisions of the past.
const HISTORICAL_DIRS: &[&str] = &[
    "adr",
    "adrs",
    "decisions",
    "rfcs",
    "rfc",
    "history",
    "changelog",
];
/// Docs under `docs/` that are entry points, not pages someone must link to.
const INDEX_DOCS: &[&str] = &["readme.md", "index.md", "summary.md", "_sidebar.md"];
/// Site generators that build their own navigation from `docs/`.
const SITE_CONFIGS: &[&str] = &[
    "docusaurus.config.js",
    "docusaurus.config.ts",
    "docusaurus.config.mjs",
    "docs/conf.py",
    "docs/.vitepress",
    "docs/_config.yml",
    "docs/.vuepress",
    "docs/docfx.json",
    "antora.yml",
];
/// Extensions of the files that configure a docs site's navigation.
const SITE_CONFIG_EXTENSIONS: &[&str] = &["yml", "yaml", "json", "toml", "js", "mjs", "cjs", "ts"];
/// Code block languages that are shell sessions or scripts.
const SHELL_LANGS: &[&str] = &[
    "sh",
    "bash",
    "shell",
    "console",
    "zsh",
    "terminal",
    "shell-session",
    "shellsession",
];
/// Code block languages (besides shell) whose `NAME=value` lines set variables.
const ENV_LANGS: &[&str] = &["env", "dotenv"];
/// Code block languages whose blocks set variables when they hold nothing but `NAME=value` lines.
const OTHER_ENV_LANGS: &[&str] = &["", "ini", "properties", "text", "txt", "conf"];
/// Programs that run a script given as their first argument.
const INTERPRETERS: &[&str] = &[
    "python", "python3", "python2", "node", "ruby", "perl", "bash", "sh", "zsh", "php", "Rscript",
    "deno", "bun", "tsx", "ts-node",
];
/// Programs whose arguments are paths to create, text, or things outside the repository.
const NO_PATH_ARGS: &[&str] = &[
    "mkdir",
    "touch",
    "cp",
    "mv",
    "ln",
    "install",
    "rsync",
    "scp",
    "tee",
    "wget",
    "curl",
    "git",
    "tar",
    "unzip",
    "zip",
    "docker",
    "podman",
    "rm",
    "rmdir",
    "echo",
    "printf",
    "ssh",
    "open",
    "xdg-open",
    "brew",
    "apt",
    "apt-get",
    "dnf",
    "yum",
    "pacman",
    "pip",
    "pip3",
    "pipx",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "cargo",
    "rustup",
    "gh",
    "kubectl",
    "helm",
    "terraform",
    "export",
    "cd",
    "source",
    ".",
    "code",
    "vim",
    "nano",
    "emacs",
];
/// Words before the program that do not change which program runs.
const WRAPPERS: &[&str] = &[
    "sudo", "env", "time", "nohup", "exec", "command", "builtin", "nice",
];
/// Environment variables every reader knows; they are not the project's to document.
const KNOWN_VARS: &[&str] = &[
    "NO_COLOR",
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "FTP_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "VIRTUAL_ENV",
    "JAVA_HOME",
    "KUBECONFIG",
    "OUT_DIR",
    "OPT_LEVEL",
    "NUM_JOBS",
];
/// Prefixes of variables that belong to well-known tools.
const KNOWN_VAR_PREFIXES: &[&str] = &[
    "CARGO_",
    "RUST_",
    "RUSTUP_",
    "GIT_",
    "GITHUB_",
    "GH_",
    "XDG_",
    "LC_",
    "NPM_",
    "NODE_",
    "PYTHON",
    "PIP_",
    "UV_",
    "POETRY_",
    "DOCKER_",
    "COMPOSE_",
    "AWS_",
    "GOOGLE_",
    "AZURE_",
    "SSH_",
    "LD_",
    "DYLD_",
    "HOMEBREW_",
    "RUNNER_",
    "ACTIONS_",
    "ANTHROPIC_",
    "OPENAI_",
    "CLAUDE_",
    "INSTA_",
    "CI_",
    "PYTEST_",
    "FLASK_",
    "DJANGO_",
];

pub(crate) struct Docs;

impl Step for Docs {
    type Data = DocsData;
    const NAME: &'static str = "docs";
    const TITLE: &'static str = "Docs";

    /// Housekeeping: after yesterday's failures and the other steps' chores.
    fn action_rank(&self) -> u8 {
        2
    }

    fn digest(&self, data: &DocsData, output: &Output) -> Option<String> {
        digest(data, output)
    }

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<DocsData>> {
        docs(cx, OsStr::new("git"))
    }

    fn render(&self, data: &DocsData, _: &Output, out: &mut String) {
        render(data, out);
    }
}

// ---------------------------------------------------------------------------------------------------------
// The unit.

/// The step with the git program as a parameter, so tests can make git missing.
#[expect(
    clippy::too_many_lines,
    reason = "the unit in order: the files, git's history, each doc, the findings"
)]
fn docs(cx: &mut UnitCx<'_>, git: &OsStr) -> Result<Outcome<DocsData>> {
    let project = cx.project();
    let cancel = cx.run.cancel.clone();
    let stale_days: u32 = cx.run.env.parse_or(STALE_DAYS_VAR, DEFAULT_STALE_DAYS)?;
    let root = fs::canonicalize(&project.dir)
        .with_context(|| format!("failed to resolve `{}`", project.dir_display))?;
    let mut warnings = Warnings::default();
    let tree = walk(&root, &cancel, &mut warnings)?;
    if tree.docs.is_empty() {
        return Ok(Outcome::Skipped(
            "no markdown at the top level or under `docs/`".to_owned(),
        ));
    }
    let git = Git {
        program: git.to_owned(),
        root: root.clone(),
        cancel: cancel.clone(),
    };
    let mut notes = Vec::new();
    // How much history there is to tell deleted paths and stale docs by.
    let history = match git.state()? {
        WorkTree::Repo { shallow: false } => History::Complete,
        WorkTree::Repo { shallow: true } => {
            notes
                .push("a shallow clone: docs were not compared with the code's history".to_owned());
            History::Partial
        }
        WorkTree::NotARepository => {
            notes.push("not a git repository: docs were not compared with the code's history, and missing paths were only checked for typos".to_owned());
            History::None
        }
        WorkTree::Unavailable(reason) => {
            warnings.push(format!(
                "{reason}; docs were not compared with the code's history"
            ));
            History::None
        }
        WorkTree::Failed(err) => {
            warnings.push(format!(
                "could not ask git: {err}; docs were not compared with the code's history"
            ));
            History::None
        }
    };

    let mut audit = Audit::new(&root, &tree, cancel);
    let mut checked_docs: Vec<&String> = Vec::new();
    let mut skipped_docs = 0usize;
    for rel in &tree.docs {
        if checked_docs.len() >= MAX_DOCS {
            skipped_docs += 1;
            continue;
        }
        audit.cancel.check()?;
        match read_doc(&root.join(rel)) {
            Ok(Some(text)) => {
                audit.doc(rel, &text)?;
                checked_docs.push(rel);
            }
            Ok(None) => warnings.push(format!("`{rel}` is larger than 1 MiB; not checked")),
            Err(err) => warnings.push(format!("failed to read `{rel}`: {err}")),
        }
    }
    if skipped_docs > 0 {
        notes.push(format!(
            "only the first {MAX_DOCS} docs were checked; {skipped_docs} more were not"
        ));
    }

    // Missing references are settled once git said which of them were deleted or renamed.
    let gone = if history == History::None {
        BTreeMap::new()
    } else {
        let wanted: BTreeSet<String> = audit
            .missing
            .iter()
            .flat_map(|m| m.tries.iter().map(|(_, rel)| rel.clone()))
            .collect();
        match git.gone(&wanted.into_iter().collect::<Vec<_>>())? {
            Ok(gone) => gone,
            Err(err) => {
                warnings.push(format!("could not read the git history: {err}"));
                BTreeMap::new()
            }
        }
    };
    let missing = std::mem::take(&mut audit.missing);
    for m in &missing {
        if let Some(finding) = audit.settle(m, &gone) {
            if let (Kind::BrokenLink, Some(replace)) = (finding.kind, &finding.replace) {
                // The fix links the doc: it is no orphan.
                let base = if replace.to.starts_with('/') {
                    String::new()
                } else {
                    parent(&m.file)
                };
                if let Some(rel) = normalize(&base, &replace.to) {
                    audit.linked.insert(rel);
                }
            }
            audit.findings.push(finding);
        }
    }

    if history == History::Complete {
        match stale(&git, &audit, &checked_docs, stale_days)? {
            Ok(found) => audit.findings.extend(found),
            Err(err) => warnings.push(format!("could not read the git history: {err}")),
        }
    }
    audit.orphans(&checked_docs, &mut notes);
    if !tree.names_complete && audit.env_skipped {
        notes.push(
            "the project has too many source files to read them all: environment variables were not checked"
                .to_owned(),
        );
    }
    notes.extend(audit.notes.iter().cloned());

    let mut findings = std::mem::take(&mut audit.findings);
    findings.sort_by(|a, b| {
        (a.kind, &a.file, a.line, &a.what).cmp(&(b.kind, &b.file, b.line, &b.what))
    });
    findings.dedup();
    let mut counts = BTreeMap::new();
    for finding in &findings {
        *counts.entry(finding.kind).or_insert(0) += 1;
    }
    let total = findings.len();
    findings.truncate(LIST_LIMIT);
    let data = DocsData {
        docs: checked_docs.len(),
        checked: audit.checked,
        stale_days,
        counts,
        findings: Listed {
            total,
            items: findings,
        },
        notes,
    };
    Ok(Outcome::Done(Output {
        summary: summary(&data),
        actions: actions(&data),
        warnings: warnings.finish(),
        data,
    }))
}

/// A doc's text, or `None` when it is too large to check.
fn read_doc(path: &Path) -> io::Result<Option<String>> {
    if fs::metadata(path)?.len() > MAX_DOC_BYTES {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&fs::read(path)?).into_owned()))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    use std::time::SystemTime;

    use chrono::NaiveDate;
    use serde_json::json;

    use super::binaries::parse_help;
    use super::commands::subcommand_of;
    use super::data::{Checked, Finding, Replace};
    use super::links::percent_decode;
    use super::markdown::{Block, parse, slug};
    use super::paths::{path_candidate, placeholder, relative};
    use super::shell::{commands, shell_lines};
    use super::*;
    use crate::env::Env;
    use crate::step::{AnyStep, testing};

    /// The date of the first commit of the fixture, and of the one 212 days later that moves things.
    const OLD: &str = "2025-01-01T12:00:00+00:00";
    const NEW: &str = "2025-08-01T12:00:00+00:00";

    /// What a `--help` of the fixture's own binary prints (clap's layout, a wrapped description included).
    const MYTOOL_HELP: &str = "A tool.

Usage: mytool [OPTIONS] <COMMAND>

Commands:
  serve   Start the server
  status  Show the status of the server, with a description long enough
          to wrap onto a second line
  help    Print this message or the help of the given subcommand(s)

Options:
      --config <PATH>  The configuration file
  -h, --help           Print help
";

    fn test_env() -> Env {
        Env::from_pairs([("DAYDREAM_MACHINE", "test")])
    }

    /// Runs the step on `dir` as project `shop` with `env`, and `git` as the git program.
    fn run_with(dir: &Path, env: Env, git: &str) -> Result<Outcome> {
        let project = json!({ "working_directory": dir });
        let date = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let run = testing::run_cx(dir, &project, env, date, false);
        let (outcome, saved) = testing::run_unit(&run, None, |cx| docs(cx, OsStr::new(git)));
        assert!(saved.is_empty(), "the docs step saves no resume point");
        outcome?.try_map(|output| Ok(output.erase()?))
    }

    fn run(dir: &Path) -> (Output, DocsData) {
        done(run_with(dir, test_env(), "git").unwrap())
    }

    fn done(outcome: Outcome) -> (Output, DocsData) {
        match outcome {
            Outcome::Done(output) => {
                let data: DocsData = serde_json::from_value(output.data.clone()).unwrap();
                (output, data)
            }
            Outcome::Skipped(reason) => panic!("skipped: {reason}"),
        }
    }

    fn put(root: &Path, rel: &str, content: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    /// The findings of a run over a project of these files (path, content).
    fn findings_in(files: &[(&str, &str)]) -> Vec<(String, usize, String)> {
        let tmp = tempfile::tempdir().unwrap();
        for (rel, content) in files {
            put(tmp.path(), rel, content);
        }
        found(&run(tmp.path()).1)
    }

    /// The findings of a run, as (file, line, what).
    fn found(data: &DocsData) -> Vec<(String, usize, String)> {
        data.findings
            .items
            .iter()
            .map(|f| (f.file.clone(), f.line, f.what.clone()))
            .collect()
    }

    #[test]
    fn a_sphinx_myst_site_owns_its_labels_references_and_pages() {
        let findings = findings_in(&[
            ("docs/conf.py", "extensions = ['myst_parser']\n"),
            ("docs/_static/logo.png", "png"),
            ("docs/advanced/transports.md", "# Transports\n"),
            (
                "docs/index.md",
                "(labels/x)=\n# Title\n\nSee [the API](attrs.frozen), [x](labels/x), [adv](advanced/transports) and {ref}`the label <labels/x>`.\n\nAlso {doc}`advanced/gone/page.md`, [jump](#labels/x) and [logo](/_static/logo.png).\n\nBut [gone](/_static/gone.png) and [missing](missing.md) are broken.\n",
            ),
            // Read on the forge, not built by Sphinx: its links are files.
            ("README.md", "# Shop\n\nSee [x](labels/x).\n"),
        ]);

        assert_eq!(
            findings,
            [
                (
                    "README.md".to_owned(),
                    3,
                    "links to `labels/x`, which does not exist".to_owned()
                ),
                (
                    "docs/index.md".to_owned(),
                    8,
                    "links to `/_static/gone.png`, which does not exist".to_owned()
                ),
                (
                    "docs/index.md".to_owned(),
                    8,
                    "links to `missing.md`, which does not exist".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn an_mkdocs_site_resolves_pages_from_its_root_and_without_extension() {
        let findings = findings_in(&[
            ("mkdocs.yml", "site_name: shop\n"),
            ("docs/index.md", "# Shop\n\n[Quickstart](quickstart.md)\n"),
            ("docs/img/logo.svg", "<svg/>"),
            ("docs/advanced/transports.md", "# Transports\n"),
            (
                "docs/quickstart.md",
                "![logo](/img/logo.svg)\n\nSee [transports](../advanced/transports/) or [the same](advanced/transports).\n\n![gone](/img/gone.svg) and [a typo](../advanced/transport/).\n",
            ),
        ]);

        assert_eq!(
            findings,
            [
                (
                    "docs/quickstart.md".to_owned(),
                    5,
                    "links to `../advanced/transport/`, which does not exist".to_owned()
                ),
                (
                    "docs/quickstart.md".to_owned(),
                    5,
                    "links to `/img/gone.svg`, which does not exist".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn cd_into_the_clone_or_a_folder_the_project_lacks_is_not_a_project_folder() {
        let findings = findings_in(&[
            ("scripts/setup.sh", "#!/bin/sh\n"),
            (
                "README.md",
                "# Shop\n\n```sh\ngit clone https://github.com/acme/shop.git && cd shop\n./scripts/setup.sh\n./scripts/gone.sh\ncd build-output\n./configure\n```\n\n```sh\ngit clone git@github.com:acme/shop.git\ncd shop/\n./scripts/setup.sh\n```\n",
            ),
        ]);

        assert_eq!(
            findings,
            [(
                "README.md".to_owned(),
                6,
                "runs `./scripts/gone.sh`, which does not exist".to_owned()
            )]
        );
    }

    #[test]
    fn a_librarys_docs_run_the_readers_scripts_and_only_near_misses_are_flagged() {
        let findings = findings_in(&[
            (
                "package.json",
                r#"{ "name": "fastlib", "main": "index.js", "scripts": { "test": "node test.js", "lint": "eslint ." } }"#,
            ),
            (
                "README.md",
                "# fastlib\n\n```sh\nnpm init -y && npm install fastlib\nnpm run dev\nnpm run tset\n```\n",
            ),
        ]);

        assert_eq!(
            findings,
            [(
                "README.md".to_owned(),
                6,
                "`npm run tset`: `package.json` has no script `tset`".to_owned()
            )]
        );
    }

    #[test]
    fn a_variable_the_docs_example_program_reads_is_the_readers() {
        let findings = findings_in(&[
            ("src/config.py", "class Config: pass\n"),
            (
                "README.md",
                "# Config\n\n```python\nconfig = Config(\".env\")\nALLOWED_HOSTS = config('ALLOWED_HOSTS')\n```\n\n```shell\nALLOWED_HOSTS=127.0.0.1\nPAYMENT_TIMEOUT=5\n```\n",
            ),
        ]);

        assert_eq!(
            findings,
            [(
                "README.md".to_owned(),
                10,
                "names `PAYMENT_TIMEOUT`, which no source file mentions (and there is no `.env.example`)"
                    .to_owned()
            )]
        );
    }

    /// Runs git in `dir` with both commit dates set to `date`; returns its stdout.
    fn git(dir: &Path, date: &str, args: &[&str]) -> String {
        crate::testing::git_at(dir, Some(date), args)
    }

    /// A repository with one stale reference of each kind, and as many traps that must not be flagged. Its
    /// history: everything committed on [`OLD`]; on [`NEW`], `docs/setup.md` renamed to `docs/install.md`,
    /// `src/old_module.py`, `src/legacy.py` and `scripts/deploy.sh` deleted, `src/app.py` changed. The
    /// project's own binary is a script at `target/debug/mytool` that prints [`MYTOOL_HELP`]. Returns the
    /// short hash of the second commit.
    #[expect(
        clippy::too_many_lines,
        reason = "the fixture project, one file after another"
    )]
    fn fixture(root: &Path) -> String {
        put(root, ".gitignore", "/target\nlogs/\n");
        put(
            root,
            ".env.example",
            "DATABASE_URL=postgres://localhost/app\n",
        );
        put(
            root,
            "Cargo.toml",
            "[package]\nname = \"mytool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        );
        put(
            root,
            "package.json",
            r#"{ "name": "mytool-web", "scripts": { "test": "jest", "build": "tsc" } }"#,
        );
        put(
            root,
            "src/main.rs",
            "fn main() {\n    let _ = std::env::var(\"API_TIMEOUT_MS\");\n}\n",
        );
        put(root, "src/app.py", "TIMEOUT = 1\n");
        put(root, "src/old_module.py", "def parse(): pass\n");
        put(root, "src/legacy.py", "MODE = 1\n");
        put(root, "scripts/deploy.sh", "#!/bin/sh\necho deploy\n");
        put(root, "scripts/seed.py", "print('seed')\n");
        put(root, "config/settings.example.json", "{}\n");
        put(
            root,
            "README.md",
            "# Mytool

Read the [guide](docs/guide.md) and the [setup notes](docs/setup.md).
Jump to [usage](#usage) or to [installing](#instalation).
See [the site](https://example.com/docs/missing.md), [mail](mailto:dev@example.com) and [the API docs](target/doc/index.html).

## Usage

```console
$ cargo build --release
$ ./scripts/deploy.sh production
deploying with mytool frobnicate...
$ mytool --config conf/local.toml serve --port 8080
$ mytool frobnicate
$ npm run lint
$ npm run test
$ git status && ls -la /tmp
```

## Installation

Run `mytool serve` or `cargo run -- serve`; `mytool <command>` lists the rest.
",
        );
        put(
            root,
            "docs/guide.md",
            "# Guide

The app lives in `src/app.py`; `src/old_module.py` holds the parser.
Settings go in `config/settings.json` (copy `config/settings.example.json`).
Logs are written to `logs/app/debug.log`, reports to `reports/<slug>.md` and `out/report_YYYY-MM-DD.html`.
Set `$APP_SECRET_KEY`, `DATABASE_URL` and `API_TIMEOUT_MS` before starting; `HTTPS_PROXY` is honoured.
Install with `pip install -r requirements.txt`; see https://example.com/a/b.txt and `~/notes/todo.md`.
`LEGACY_MODE_FLAG` and `src/legacy.py` were removed in 2.0.
See [setup](install.md#setup), [the top](#guide) and [a heading](install.md#first-run).
The entry point is `src/mian.rs`.

```sh
python scripts/seed.py --count 3 > logs/seed.out
export SEED_ROUNDS=3
echo \"$SEED_ROUNDS\"
```
",
        );
        put(
            root,
            "docs/setup.md",
            "# Setup\n\n## First run\n\nRun `scripts/seed.py` once.\n",
        );
        put(root, "docs/orphan.md", "# Orphan\n\nNobody links here.\n");
        put(
            root,
            "CHANGELOG.md",
            "# Changelog\n\n- Dropped `src/old_module.py` and `OLD_ENV_VAR`.\n",
        );
        git(root, OLD, &["init", "-q"]);
        git(root, OLD, &["add", "-A"]);
        git(root, OLD, &["commit", "-qm", "first"]);
        git(root, NEW, &["mv", "docs/setup.md", "docs/install.md"]);
        git(
            root,
            NEW,
            &[
                "rm",
                "-q",
                "src/old_module.py",
                "src/legacy.py",
                "scripts/deploy.sh",
            ],
        );
        put(root, "src/app.py", "TIMEOUT = 2\n");
        git(root, NEW, &["commit", "-qam", "second"]);
        let head = git(root, NEW, &["rev-parse", "HEAD"]);
        // Built after the sources, so its help is trusted.
        put(
            root,
            "target/debug/mytool",
            &format!("#!/bin/sh\ncat <<'EOF'\n{MYTOOL_HELP}EOF\n"),
        );
        fs::set_permissions(
            root.join("target/debug/mytool"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        head[..7].to_owned()
    }

    fn tempdir() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        (tmp, root)
    }

    /// Every file, folder and link under `root` with its bytes and mode, `.git` included.
    fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
        let mut out = BTreeMap::new();
        let mut stack = vec![root.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let meta = fs::symlink_metadata(&path).unwrap();
                let bytes = if meta.is_dir() {
                    stack.push(path.clone());
                    Vec::new()
                } else if meta.file_type().is_symlink() {
                    fs::read_link(&path)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes()
                } else {
                    fs::read(&path).unwrap()
                };
                out.insert(
                    path.strip_prefix(root).unwrap().to_owned(),
                    (meta.permissions().mode(), bytes),
                );
            }
        }
        out
    }

    fn finding(kind: Kind, file: &str, line: usize, what: &str, fix: &str) -> Finding {
        Finding {
            kind,
            file: file.to_owned(),
            line,
            what: what.to_owned(),
            fix: fix.to_owned(),
            replace: None,
        }
    }

    fn replacing(mut finding: Finding, from: &str, to: &str) -> Finding {
        finding.replace = Some(Replace {
            from: from.to_owned(),
            to: to.to_owned(),
        });
        finding
    }

    #[test]
    #[expect(
        clippy::too_many_lines,
        reason = "one scenario, checked finding by finding"
    )]
    fn finds_each_kind_of_stale_reference_with_its_line_and_fix_and_writes_nothing() {
        let (_tmp, root) = tempdir();
        let commit = fixture(&root);
        let before = snapshot(&root);

        let (output, data) = run(&root);

        assert_eq!(
            snapshot(&root),
            before,
            "the project must be left as it was"
        );
        let renamed =
            format!("point it at `docs/install.md` (renamed in `{commit}` on 2025-08-01)");
        let deleted =
            format!("remove it, or name what replaced it (deleted in `{commit}` on 2025-08-01)");
        assert_eq!(
            data.findings.items,
            [
                replacing(
                    finding(
                        Kind::BrokenLink,
                        "README.md",
                        3,
                        "links to `docs/setup.md`, which does not exist",
                        &renamed,
                    ),
                    "docs/setup.md",
                    "docs/install.md",
                ),
                replacing(
                    finding(
                        Kind::BrokenLink,
                        "README.md",
                        4,
                        "links to `#instalation`, but this doc has no such heading",
                        "point it at `#installation`",
                    ),
                    "#instalation",
                    "#installation",
                ),
                finding(
                    Kind::Command,
                    "README.md",
                    11,
                    "runs `./scripts/deploy.sh`, which does not exist",
                    &deleted,
                ),
                finding(
                    Kind::Command,
                    "README.md",
                    14,
                    "`mytool frobnicate`: `mytool` has no subcommand `frobnicate`",
                    "use one of the subcommands its `--help` lists (`serve`, `status`), or remove the command",
                ),
                finding(
                    Kind::Command,
                    "README.md",
                    15,
                    "`npm run lint`: `package.json` has no script `lint`",
                    "use one of its scripts (`build`, `test`), or remove the command",
                ),
                finding(
                    Kind::MissingPath,
                    "docs/guide.md",
                    3,
                    "names `src/old_module.py`, which does not exist",
                    &deleted,
                ),
                replacing(
                    finding(
                        Kind::MissingPath,
                        "docs/guide.md",
                        10,
                        "names `src/mian.rs`, which does not exist",
                        "point it at `src/main.rs` (the closest name in `src/`)",
                    ),
                    "src/mian.rs",
                    "src/main.rs",
                ),
                finding(
                    Kind::EnvVar,
                    "docs/guide.md",
                    6,
                    "names `APP_SECRET_KEY`, which neither `.env.example` nor any source file mentions",
                    "remove it from the doc, or add it to `.env.example` if something still reads it",
                ),
                finding(
                    Kind::EnvVar,
                    "docs/guide.md",
                    14,
                    "names `SEED_ROUNDS`, which neither `.env.example` nor any source file mentions",
                    "remove it from the doc, or add it to `.env.example` if something still reads it",
                ),
                finding(
                    Kind::Stale,
                    "docs/guide.md",
                    3,
                    "last changed 2025-01-01, 212 days before `src/app.py` (2025-08-01), which it names here",
                    "review it against what changed since (`git log --since=2025-01-01 -- src/app.py`) and update it",
                ),
                finding(
                    Kind::Orphan,
                    "docs/orphan.md",
                    1,
                    "no other doc links to it",
                    "link it from `README.md` or a docs index, or delete it if it is obsolete",
                ),
            ]
        );
        assert_eq!(data.findings.total, 11);
        assert_eq!(
            output.summary,
            "5 docs: 2 broken links, 3 gone commands, 2 missing paths, 2 unknown env vars, 1 stale doc, 1 orphan doc"
        );
        assert_eq!(data.notes, Vec::<String>::new());
        assert_eq!(output.warnings, Vec::<String>::new());
        assert_eq!(data.stale_days, 90);
        // Broken links and commands mislead readers: they are actions, one each up to five.
        assert_eq!(output.actions.len(), 5);
        assert_eq!(
            output.actions[0],
            format!("`README.md:3` links to `docs/setup.md`, which does not exist: {renamed}")
        );
        assert_eq!(
            output.actions[4],
            "`README.md:15` `npm run lint`: `package.json` has no script `lint`: use one of its scripts (`build`, `test`), or remove the command"
        );
    }

    #[test]
    fn without_git_history_links_commands_typos_and_variables_are_still_found() {
        let (_tmp, root) = tempdir();
        fixture(&root);
        fs::remove_dir_all(root.join(".git")).unwrap();

        let (_, data) = run(&root);

        let found: Vec<(Kind, &str, usize, &str)> = data
            .findings
            .items
            .iter()
            .map(|f| (f.kind, f.file.as_str(), f.line, f.fix.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    Kind::BrokenLink,
                    "README.md",
                    3,
                    "point it at an existing file, or remove the link"
                ),
                (
                    Kind::BrokenLink,
                    "README.md",
                    4,
                    "point it at `#installation`"
                ),
                (
                    Kind::Command,
                    "README.md",
                    11,
                    "correct the path, or remove the command"
                ),
                (
                    Kind::Command,
                    "README.md",
                    14,
                    "use one of the subcommands its `--help` lists (`serve`, `status`), or remove the command"
                ),
                (
                    Kind::Command,
                    "README.md",
                    15,
                    "use one of its scripts (`build`, `test`), or remove the command"
                ),
                // `src/old_module.py` has no history to show it was deleted: not flagged.
                (
                    Kind::MissingPath,
                    "docs/guide.md",
                    10,
                    "point it at `src/main.rs` (the closest name in `src/`)"
                ),
                (
                    Kind::EnvVar,
                    "docs/guide.md",
                    6,
                    "remove it from the doc, or add it to `.env.example` if something still reads it"
                ),
                (
                    Kind::EnvVar,
                    "docs/guide.md",
                    14,
                    "remove it from the doc, or add it to `.env.example` if something still reads it"
                ),
                (
                    Kind::Orphan,
                    "docs/orphan.md",
                    1,
                    "link it from `README.md` or a docs index, or delete it if it is obsolete"
                ),
            ]
        );
        assert_eq!(
            data.notes,
            [
                "not a git repository: docs were not compared with the code's history, and missing paths were only checked for typos"
            ]
        );
    }

    #[test]
    fn a_missing_git_is_a_warning_not_a_failure() {
        let (_tmp, root) = tempdir();
        fixture(&root);

        let (output, data) = done(run_with(&root, test_env(), "daydream-no-such-git").unwrap());

        assert_eq!(
            output.warnings,
            [
                "git is needed to read the history, and `daydream-no-such-git` was not found; docs were not compared with the code's history"
            ]
        );
        assert!(!data.counts.contains_key(&Kind::Stale));
        assert_eq!(data.counts.get(&Kind::BrokenLink), Some(&2));
    }

    #[test]
    fn the_staleness_threshold_comes_from_the_environment() {
        let (_tmp, root) = tempdir();
        fixture(&root);
        let stale = |days: &str| {
            let env = Env::from_pairs([("DAYDREAM_MACHINE", "test"), (STALE_DAYS_VAR, days)]);
            let (_, data) = done(run_with(&root, env, "git").unwrap());
            assert_eq!(data.stale_days.to_string(), days);
            data.counts.get(&Kind::Stale).copied().unwrap_or(0)
        };
        // The guide is 212 days behind `src/app.py`.
        assert_eq!(stale("211"), 1);
        assert_eq!(stale("212"), 0);
        assert_eq!(stale("365"), 0);
        let env = Env::from_pairs([("DAYDREAM_MACHINE", "test"), (STALE_DAYS_VAR, "soon")]);
        let err = run_with(&root, env, "git").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to read `DAYDREAM_DOCS_STALE_DAYS=soon`"),
            "{err}"
        );
    }

    #[test]
    fn subcommands_are_not_checked_against_a_missing_or_outdated_build() {
        let (_tmp, root) = tempdir();
        fixture(&root);
        let binary = root.join("target/debug/mytool");
        fs::File::options()
            .write(true)
            .open(&binary)
            .unwrap()
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000))
            .unwrap();

        let (_, data) = run(&root);

        assert!(
            !data
                .findings
                .items
                .iter()
                .any(|f| f.what.contains("frobnicate")),
            "{:?}",
            data.findings
        );
        assert_eq!(
            data.notes,
            [
                "the subcommands of `mytool` were not checked: `target/debug/mytool` is older than the sources (build it to check them)"
            ]
        );

        fs::remove_file(&binary).unwrap();
        let (_, data) = run(&root);
        assert_eq!(
            data.notes,
            [
                "the subcommands of `mytool` were not checked: no build at `target/debug/mytool` or `target/release/mytool`"
            ]
        );
    }

    #[test]
    fn a_project_without_docs_is_skipped() {
        let (_tmp, root) = tempdir();
        put(&root, "src/main.rs", "fn main() {}\n");
        put(&root, "notes/todo.md", "- [ ] nothing\n");
        match run_with(&root, test_env(), "git").unwrap() {
            Outcome::Skipped(reason) => {
                assert_eq!(reason, "no markdown at the top level or under `docs/`");
            }
            Outcome::Done(output) => panic!("not skipped: {}", output.summary),
        }
    }

    #[test]
    fn a_cancelled_run_stops_as_interrupted() {
        let (_tmp, root) = tempdir();
        fixture(&root);
        let project = json!({ "working_directory": &root });
        let date = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let run = testing::run_cx(&root, &project, test_env(), date, false);
        run.cancel.trigger(15);
        let (outcome, _) = testing::run_unit(&run, None, |cx| docs(cx, OsStr::new("git")));
        let err = outcome.unwrap_err();
        assert!(
            err.downcast_ref::<crate::cancel::Interrupted>().is_some(),
            "{err:#}"
        );
    }

    #[test]
    fn many_findings_are_bounded_and_counted() {
        let (_tmp, root) = tempdir();
        let mut links = String::new();
        for i in 0..150 {
            let _ = writeln!(links, "- [page {i}](docs/page-{i}.md)");
        }
        put(&root, "README.md", &format!("# Links\n\n{links}"));

        let (output, data) = run(&root);

        assert_eq!(data.findings.total, 150);
        assert_eq!(data.findings.items.len(), LIST_LIMIT);
        assert_eq!(data.counts, BTreeMap::from([(Kind::BrokenLink, 150)]));
        assert_eq!(output.summary, "1 doc: 150 broken links");
        assert_eq!(output.actions.len(), ACTION_LIMIT + 1);
        assert_eq!(
            output.actions[ACTION_LIMIT],
            "145 more broken links or commands in the docs (see the Docs section)"
        );
        let mut out = String::new();
        render(&data, &mut out);
        assert!(out.contains("\n- and 140 more\n"), "{out}");
        let digest = AnyStep::digest(&Docs, &output).unwrap();
        assert!(digest.ends_with("\n- and 140 more"), "{digest}");
    }

    #[test]
    fn the_data_round_trips_and_renders_grouped_by_kind() {
        let data = DocsData {
            docs: 3,
            checked: Checked {
                links: 4,
                paths: 5,
                commands: 1,
                env_vars: 2,
            },
            stale_days: 90,
            counts: BTreeMap::from([(Kind::BrokenLink, 1), (Kind::EnvVar, 1)]),
            findings: Listed {
                total: 2,
                items: vec![
                    replacing(
                        finding(
                            Kind::BrokenLink,
                            "README.md",
                            3,
                            "links to `docs/setup.md`, which does not exist",
                            "point it at `docs/install.md` (renamed in `abc1234` on 2025-08-01)",
                        ),
                        "docs/setup.md",
                        "docs/install.md",
                    ),
                    finding(
                        Kind::EnvVar,
                        "docs/guide.md",
                        6,
                        "names `APP_KEY`, which neither `.env.example` nor any source file mentions",
                        "remove it from the doc, or add it to `.env.example` if something still reads it",
                    ),
                ],
            },
            notes: vec![
                "not a git repository: docs were not compared with the code's history".to_owned(),
            ],
        };
        let value = serde_json::to_value(&data).unwrap();
        assert_eq!(value["counts"], json!({ "broken_link": 1, "env_var": 1 }));
        assert_eq!(value["findings"]["items"][0]["kind"], "broken_link");
        assert_eq!(
            value["findings"]["items"][0]["replace"],
            json!({ "from": "docs/setup.md", "to": "docs/install.md" })
        );
        assert!(value["findings"]["items"][1].get("replace").is_none());
        assert_eq!(serde_json::from_value::<DocsData>(value).unwrap(), data);

        let mut out = String::new();
        render(&data, &mut out);
        assert_eq!(
            out,
            "Checked 3 docs: 4 links, 5 paths, 1 command, 2 variables.

**Broken links** (1)
- `README.md:3` links to `docs/setup.md`, which does not exist: point it at `docs/install.md` (renamed in `abc1234` on 2025-08-01)

**Unknown environment variables** (1)
- `docs/guide.md:6` names `APP_KEY`, which neither `.env.example` nor any source file mentions: remove it from the doc, or add it to `.env.example` if something still reads it

_Not a git repository: docs were not compared with the code's history_
"
        );
        let output = Output {
            summary: summary(&data),
            data: serde_json::to_value(&data).unwrap(),
            actions: actions(&data),
            warnings: Vec::new(),
        };
        assert_eq!(output.summary, "3 docs: 1 broken link, 1 unknown env var");
        assert_eq!(output.actions.len(), 1);
        assert_eq!(
            AnyStep::digest(&Docs, &output).unwrap(),
            "3 docs: 1 broken link, 1 unknown env var
- `README.md:3` links to `docs/setup.md`, which does not exist: point it at `docs/install.md` (renamed in `abc1234` on 2025-08-01)
- `docs/guide.md:6` names `APP_KEY`, which neither `.env.example` nor any source file mentions: remove it from the doc, or add it to `.env.example` if something still reads it"
        );
        let mut clean = String::new();
        let nothing = DocsData {
            docs: 2,
            ..DocsData::default()
        };
        render(&nothing, &mut clean);
        assert_eq!(
            clean,
            "Checked 2 docs: 0 links, 0 paths, 0 commands, 0 variables.\nNothing stale found.\n"
        );
        assert_eq!(summary(&nothing), "2 docs: nothing stale found");
        assert_eq!(
            AnyStep::digest(
                &Docs,
                &Output {
                    summary: summary(&nothing),
                    data: serde_json::to_value(&nothing).unwrap(),
                    ..Output::default()
                }
            ),
            None
        );
    }

    #[test]
    fn slugs_are_githubs() {
        for (heading, slug_) in [
            ("Exit codes", "exit-codes"),
            ("GitHub, Telegram and Slack", "github-telegram-and-slack"),
            ("config/projects.json", "configprojectsjson"),
            ("`--dry-run` and `--no-spend`", "--dry-run-and---no-spend"),
            ("[The guide](docs/guide.md) (v2)", "the-guide-v2"),
            ("Café 🎉 ümlaut", "café--ümlaut"),
            ("snake_case names", "snake_case-names"),
            ("What's new?", "whats-new"),
        ] {
            assert_eq!(slug(heading), slug_, "{heading}");
        }
        let parsed = parse(
            "# Intro\n\n## Intro\n\nSetext\n======\n\n## Launch :rocket: {#go-live}\n\n<a name=\"Custom\"></a>\n",
        );
        assert_eq!(
            parsed.anchors,
            [
                "intro",
                "intro-1",
                "setext",
                "go-live",
                "launch-",
                "launch-rocket",
                "custom"
            ]
        );
    }

    #[test]
    fn markdown_is_read_as_links_spans_blocks_and_headings() {
        let text = "---
title: `not/a/path.md`
---
# Title <!-- a `hidden/path.md` -->

Text with `inline/code.rs`, ``double `tick` span`` and \\`escaped\\` ticks.
A [link](docs/a.md \"title\"), an ![image](<img/with space.png>) and [ref][r].
<!--
[commented](out.md)
-->
[r]: docs/ref.md
[^note]: a footnote, not a link
<img src=\"docs/logo.svg\"> costs $5 and reads $API_TOKEN.

~~~~bash title=\"x\"
```
inside
~~~~

```{.sh}
echo hi
```
";
        let parsed = parse(text);
        assert_eq!(
            parsed.links,
            [
                (7, "docs/a.md".to_owned()),
                (7, "img/with space.png".to_owned()),
                (11, "docs/ref.md".to_owned()),
                (13, "docs/logo.svg".to_owned()),
            ]
        );
        assert_eq!(
            parsed.spans,
            [
                (6, "inline/code.rs".to_owned()),
                (6, "double `tick` span".to_owned())
            ]
        );
        assert_eq!(parsed.dollars, [(13, "API_TOKEN".to_owned())]);
        assert_eq!(parsed.anchors, ["title"]);
        assert_eq!(
            parsed.blocks,
            [
                Block {
                    lang: "bash".to_owned(),
                    lines: vec![(16, "```".to_owned()), (17, "inside".to_owned())],
                },
                Block {
                    lang: "sh".to_owned(),
                    lines: vec![(21, "echo hi".to_owned())],
                },
            ]
        );
    }

    #[test]
    fn only_what_looks_like_a_repository_path_is_a_path() {
        for (token, path) in [
            ("src/main.rs", Some("src/main.rs")),
            ("./scripts/x.sh", Some("scripts/x.sh")),
            ("src/logmine/", Some("src/logmine")),
            ("scripts/", Some("scripts")),
            ("scripts", None),
            ("src/exec.rs:42", Some("src/exec.rs")),
            ("src/exec.rs#L3-L9", Some("src/exec.rs")),
            ("Cargo.toml", Some("Cargo.toml")),
            ("Makefile", Some("Makefile")),
            (".env.example", Some(".env.example")),
            (
                "../shared/REAL-CLIENTS.md",
                Some("../shared/REAL-CLIENTS.md"),
            ),
            ("os.path", None),
            ("e.g.", None),
            ("daydream", None),
            ("logs/*.log", None),
            ("src/steps/<step>.rs", None),
            ("repos/{org}/{repo}", None),
            ("~/src/shop", None),
            ("$HOME/x.txt", None),
            ("/etc/hosts", None),
            ("--config", None),
            ("https://example.com/a.md", None),
            ("a b/c.md", None),
            ("std::io", None),
            ("KEY=a/b.txt", None),
            ("@anthropic-ai/claude-code@2.1.328", None),
            ("1/2", None),
            ("path/to/...", None),
        ] {
            assert_eq!(
                path_candidate(token).map(|c| c.path),
                path.map(str::to_owned),
                "{token}"
            );
        }
        for (path, is) in [
            ("DIR/node_modules/.bin/claude", true),
            ("logs/daydream/report_YYYY-MM-DD.md", true),
            ("path/to/root", true),
            ("your-app/config.py", true),
            ("foo/bar.txt", true),
            ("github.com/acme/shop", true),
            ("src/main.rs", false),
            (".ci/run", false),
            ("docs/README.md", false),
        ] {
            assert_eq!(placeholder(path), is, "{path}");
        }
    }

    #[test]
    fn shell_lines_are_split_into_commands() {
        let block = Block {
            lang: "console".to_owned(),
            lines: [
                "$ cargo build --release \\",
                "    --locked",
                "   Compiling x v0.1.0",
                "$ FOO_BAR=1 ./run.sh >> logs/out.log 2>&1 && echo \"a; b\" | tee out.txt # done",
                "$ cat <<EOF > x.txt",
                "$ not a command",
                "EOF",
                "$ python -m venv .venv; (cd sub && ./x) & $(which y) --flag=value `z`",
            ]
            .iter()
            .enumerate()
            .map(|(i, l)| (i + 1, (*l).to_owned()))
            .collect(),
        };
        let lines = shell_lines(&block);
        assert_eq!(
            lines,
            [
                (1, "cargo build --release --locked".to_owned()),
                (
                    4,
                    "FOO_BAR=1 ./run.sh >> logs/out.log 2>&1 && echo \"a; b\" | tee out.txt # done"
                        .to_owned()
                ),
                (5, "cat <<EOF > x.txt".to_owned()),
                (
                    8,
                    "python -m venv .venv; (cd sub && ./x) & $(which y) --flag=value `z`"
                        .to_owned()
                ),
            ]
        );
        let words = |line: &str| commands(line);
        assert_eq!(
            words(&lines[1].1),
            [
                vec!["FOO_BAR=1", "./run.sh"],
                vec!["echo", "a; b"],
                vec!["tee", "out.txt"]
            ]
        );
        assert_eq!(words(&lines[2].1), [vec!["cat"]]);
        assert_eq!(
            words(&lines[3].1),
            [
                vec!["python", "-m", "venv", ".venv"],
                vec!["cd", "sub"],
                vec!["./x"],
                vec!["$(which y)", "--flag=value", "`z`"],
            ]
        );
    }

    #[test]
    fn help_texts_give_subcommands_and_options_that_take_values() {
        let help = parse_help(DAYDREAM_HELP).unwrap();
        assert_eq!(
            help.subcommands.iter().collect::<Vec<_>>(),
            [
                "demo", "doctor", "help", "lessons", "run", "status", "validate"
            ]
        );
        assert!(help.takes_value.contains("--root"));
        assert!(help.takes_value.contains("--config"));
        assert!(!help.takes_value.contains("--verbose"));
        let args =
            |line: &str| -> Vec<String> { line.split_whitespace().map(str::to_owned).collect() };
        assert_eq!(
            subcommand_of(&args("--root /srv/dd -v status --json"), &help),
            Some("status")
        );
        assert_eq!(
            subcommand_of(&args("--root=/srv/dd nope"), &help),
            Some("nope")
        );
        assert_eq!(subcommand_of(&args("--version"), &help), None);
        assert_eq!(
            parse_help("Usage: tool [FILE]\n\nOptions:\n  -h  help\n"),
            None
        );
    }

    /// `daydream --help` as clap printed it when this was written.
    const DAYDREAM_HELP: &str =
        "Nightly maintenance for your repositories, with a report in the morning.

Usage: daydream [OPTIONS] <COMMAND>

Commands:
  run       Run the steps over the projects; resumes where an earlier run of the same day stopped
  status    Show where the day's run stands: each step and each project's unit
  validate  Check `config/projects.json`; exits 2 with file, line, column and the fix when it is
            wrong
  doctor    Check the configuration and what this machine has (directories, git, gh, claude, tokens)
  lessons   List the lessons reflection has learned (`data/lessons_learned.jsonl`)
  demo      Write the bundled demo root (two small projects with real-looking logs) into DIR and run
            on it
  help      Print this message or the help of the given subcommand(s)

Options:
      --root <DIR>
          The daydream root: holds `config/`, `logs/daydream/` and `data/` [default: the current
          directory]

          [env: DAYDREAM_ROOT=]

      --config <PATH>
          The projects file [default: `<root>/config/projects.json`]

  -v, --verbose...
          More detail on stderr (`-v` info, `-vv` debug)

  -h, --help
          Print help (see a summary with '-h')

Exit codes:
  0    every selected unit of work is done or skipped
";

    #[test]
    fn paths_are_resolved_and_rewritten_relative_to_their_folder() {
        assert_eq!(
            normalize("docs", "../src/main.rs").as_deref(),
            Some("src/main.rs")
        );
        assert_eq!(
            normalize("docs", "./a/./b.md").as_deref(),
            Some("docs/a/b.md")
        );
        assert_eq!(normalize("", "../outside.md"), None);
        assert_eq!(relative("docs/guides", "docs/install.md"), "../install.md");
        assert_eq!(relative("", "docs/install.md"), "docs/install.md");
        assert_eq!(relative("docs", "src/main.rs"), "../src/main.rs");
        // Near names count a swap of two letters as one edit (optimal string alignment).
        assert_eq!(strsim::osa_distance("mian", "main"), 1);
        assert_eq!(strsim::osa_distance("kitten", "sitting"), 3);
        assert_eq!(percent_decode("my%20file.md"), "my file.md");
    }

    #[test]
    fn links_from_a_docs_folder_resolve_from_there() {
        let (_tmp, root) = tempdir();
        put(
            &root,
            "README.md",
            "# Top\n\nSee the [guide](docs/guides/guide.md).\n",
        );
        put(&root, "src/main.rs", "fn main() {}\n");
        put(&root, "docs/install.md", "# Install\n");
        put(
            &root,
            "docs/guides/guide.md",
            "# Guide\n\n[Main](src/main.rs), [install](../install.md#install), [top](/README.md#top), [gone](../instal.md).\n",
        );

        let (_, data) = run(&root);

        let found: Vec<(usize, &str, Option<&Replace>)> = data
            .findings
            .items
            .iter()
            .map(|f| (f.line, f.fix.as_str(), f.replace.as_ref()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    3,
                    "point it at `../install.md` (the closest name in `docs/`)",
                    Some(&Replace {
                        from: "../instal.md".to_owned(),
                        to: "../install.md".to_owned()
                    })
                ),
                (
                    3,
                    "point it at `../../src/main.rs` (links resolve from the doc's folder, `docs/guides/`)",
                    Some(&Replace {
                        from: "src/main.rs".to_owned(),
                        to: "../../src/main.rs".to_owned()
                    })
                ),
            ]
        );
    }

    #[test]
    fn a_moved_folder_is_followed_to_where_it_lives_now() {
        let (_tmp, root) = tempdir();
        put(&root, "scripts/build.sh", "#!/bin/sh\n");
        put(&root, "scripts/lint.sh", "#!/bin/sh\necho lint\n");
        put(
            &root,
            "README.md",
            "# Tools\n\nRun `scripts/build.sh`; the rest is under `scripts/`.\n\n```sh\n./scripts/lint.sh --fix\n```\n",
        );
        git(&root, OLD, &["init", "-q"]);
        git(&root, OLD, &["add", "-A"]);
        git(&root, OLD, &["commit", "-qm", "first"]);
        git(&root, NEW, &["mv", "scripts", "tools"]);
        git(&root, NEW, &["commit", "-qm", "move"]);
        let commit = &git(&root, NEW, &["rev-parse", "HEAD"])[..7];

        let (_, data) = run(&root);

        let found: Vec<(Kind, usize, &str, Option<&Replace>)> = data
            .findings
            .items
            .iter()
            .map(|f| (f.kind, f.line, f.fix.as_str(), f.replace.as_ref()))
            .collect();
        let fix = |to: &str| format!("point it at `{to}` (renamed in `{commit}` on 2025-08-01)");
        let replace = |from: &str, to: &str| Replace {
            from: from.to_owned(),
            to: to.to_owned(),
        };
        assert_eq!(
            found,
            [
                (
                    Kind::Command,
                    6,
                    fix("./tools/lint.sh").as_str(),
                    Some(&replace("./scripts/lint.sh", "./tools/lint.sh"))
                ),
                (
                    Kind::MissingPath,
                    3,
                    fix("tools/").as_str(),
                    Some(&replace("scripts/", "tools/"))
                ),
                (
                    Kind::MissingPath,
                    3,
                    fix("tools/build.sh").as_str(),
                    Some(&replace("scripts/build.sh", "tools/build.sh"))
                ),
            ]
        );
    }

    #[test]
    fn variables_are_checked_where_a_doc_sets_them_or_they_are_the_projects_own() {
        let (_tmp, tmp) = tempdir();
        let root = tmp.join("shop");
        put(
            &root,
            "src/app.py",
            "import os\nURL = os.environ[\"SHOP_DB_URL\"]\n",
        );
        put(
            &root,
            "README.md",
            "# Shop

| variable | what |
| --- | --- |
| `SHOP_DB_URL` | the database |
| `SHOP_OLD_KNOB` | read no more |

Where `BASH_ENV` points to `.bashrc`, load it first.
Export `OTHER_TOKEN` before running.
`EFI_RNG_ALGORITHM_RAW` is a constant of the firmware.
`$PATH_TO_LOCK_FILE` is where the lock file is.

```sh
[[ -n $JUPYTER_SERVER_ROOT ]] && echo yes
FEATURE_FLAG_X=1 python src/app.py
```

```
# .env
SHOP_DB_URL=postgres://localhost/shop
CACHE_TTL_SECONDS=60
```

```
RESULT_CODE=0
all good
```
",
        );

        let (_, data) = run(&root);

        let found: Vec<(usize, &str)> = data
            .findings
            .items
            .iter()
            .map(|f| (f.line, f.what.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    6,
                    "names `SHOP_OLD_KNOB`, which no source file mentions (and there is no `.env.example`)"
                ),
                (
                    9,
                    "names `OTHER_TOKEN`, which no source file mentions (and there is no `.env.example`)"
                ),
                (
                    15,
                    "names `FEATURE_FLAG_X`, which no source file mentions (and there is no `.env.example`)"
                ),
                (
                    21,
                    "names `CACHE_TTL_SECONDS`, which no source file mentions (and there is no `.env.example`)"
                ),
            ]
        );
    }

    /// This repository's own docs: what the step finds here is what the lead fixes in the docs (the orphan
    /// below), after which this list is empty.
    #[test]
    fn this_repository() {
        let (output, data) = run(Path::new(env!("CARGO_MANIFEST_DIR")));
        let found: Vec<(Kind, &str, usize, &str)> = data
            .findings
            .items
            .iter()
            .map(|f| (f.kind, f.file.as_str(), f.line, f.what.as_str()))
            .collect();
        assert_eq!(found, [], "{:#?}", data.findings.items);
        assert!(output.warnings.is_empty(), "{:?}", output.warnings);
    }
}
