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
//!   `struct.Item.html`) are not checked.
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
//!   the check was skipped); `npm run X` where `package.json` has no script `X`. Inline code that starts with
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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::exec::{Cmd, ExecError};
use crate::step::{Outcome, Output, Step, UnitCx, Warnings};

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

/// Folders the walk does not enter: version control, vendored code, virtualenvs, build trees.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "vendor",
    "third_party",
    ".venv",
    "venv",
    "site-packages",
    ".tox",
    ".nox",
    "target",
    "__pycache__",
];
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
    fn name(&self) -> &'static str {
        "docs"
    }

    fn title(&self) -> &'static str {
        "Docs"
    }

    /// Housekeeping: after yesterday's failures and the other steps' chores.
    fn action_rank(&self) -> u8 {
        2
    }

    fn digest(&self, output: &Output) -> Option<String> {
        digest(output)
    }

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome> {
        docs(cx, OsStr::new("git"))
    }

    fn render(&self, output: &Output, out: &mut String) {
        match serde_json::from_value::<DocsData>(output.data.clone()) {
            Ok(data) => render(&data, out),
            Err(err) => {
                let _ = writeln!(out, "_The docs findings could not be read: {err}._");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The data stored in the state and rendered into the report.

/// Everything one docs unit found; stored in the state, rendered by [`render`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct DocsData {
    /// Markdown files checked.
    docs: usize,
    #[serde(default)]
    checked: Checked,
    /// The staleness threshold used, in days.
    stale_days: u32,
    /// Findings per kind, all of them (the list is bounded).
    #[serde(default)]
    counts: BTreeMap<Kind, usize>,
    #[serde(default)]
    findings: Listed<Finding>,
    /// Checks skipped and why (not a git repository, no built binary, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

/// How many references of each sort were looked at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Checked {
    links: usize,
    paths: usize,
    commands: usize,
    env_vars: usize,
}

/// The sorts of finding, in the order the report lists them: what misleads readers first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    BrokenLink,
    Command,
    MissingPath,
    EnvVar,
    Stale,
    Orphan,
}

impl Kind {
    fn noun(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (Kind::BrokenLink, true) => "broken link",
            (Kind::BrokenLink, false) => "broken links",
            (Kind::Command, true) => "gone command",
            (Kind::Command, false) => "gone commands",
            (Kind::MissingPath, true) => "missing path",
            (Kind::MissingPath, false) => "missing paths",
            (Kind::EnvVar, true) => "unknown env var",
            (Kind::EnvVar, false) => "unknown env vars",
            (Kind::Stale, true) => "stale doc",
            (Kind::Stale, false) => "stale docs",
            (Kind::Orphan, true) => "orphan doc",
            (Kind::Orphan, false) => "orphan docs",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Kind::BrokenLink => "Broken links",
            Kind::Command => "Commands that no longer work",
            Kind::MissingPath => "Paths that no longer exist",
            Kind::EnvVar => "Unknown environment variables",
            Kind::Stale => "Docs older than the code they name",
            Kind::Orphan => "Docs nothing links to",
        }
    }
}

/// One stale reference: where it is, what is wrong, and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Finding {
    kind: Kind,
    /// The doc, relative to the project directory.
    file: String,
    /// 1-based.
    line: usize,
    what: String,
    fix: String,
    /// The mechanical fix, when there is one: replace `from` with `to` on that line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replace: Option<Replace>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Replace {
    from: String,
    to: String,
}

/// A bounded list: the first [`LIST_LIMIT`] items and how many there were.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Listed<T> {
    total: usize,
    items: Vec<T>,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            total: 0,
            items: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The unit.

/// The step with the git program as a parameter, so tests can make git missing.
fn docs(cx: &mut UnitCx<'_>, git: &OsStr) -> Result<Outcome> {
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
        GitState::Repo { shallow: false } => History::Complete,
        GitState::Repo { shallow: true } => {
            notes
                .push("a shallow clone: docs were not compared with the code's history".to_owned());
            History::Partial
        }
        GitState::NotARepository => {
            notes.push("not a git repository: docs were not compared with the code's history, and missing paths were only checked for typos".to_owned());
            History::None
        }
        GitState::Unavailable(reason) => {
            warnings.push(format!(
                "{reason}; docs were not compared with the code's history"
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
        data: serde_json::to_value(&data)?,
        actions: actions(&data),
        warnings: warnings.finish(),
    }))
}

/// A doc's text, or `None` when it is too large to check.
fn read_doc(path: &Path) -> io::Result<Option<String>> {
    if fs::metadata(path)?.len() > MAX_DOC_BYTES {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&fs::read(path)?).into_owned()))
}

// ---------------------------------------------------------------------------------------------------------
// The project's files.

/// What a walk of the project found.
#[derive(Default)]
struct Tree {
    /// Files, relative and `/`-separated (git-ignored ones and vendored folders left out), by file name.
    by_name: BTreeMap<String, Vec<String>>,
    /// The docs to check: top-level `*.md` and `docs/**/*.md`, in name order.
    docs: Vec<String>,
    /// Every `NAME_LIKE_THIS` in the project's non-markdown files.
    names: HashSet<String>,
    /// False when there were too many source files to read them all.
    names_complete: bool,
    /// The top-level file that lists the environment variables, if any.
    env_example: Option<String>,
    /// The prefixes (`APP_`) of the variables that file lists: the project's own namespaces.
    env_prefixes: HashSet<String>,
    /// Markdown file names that code includes (`include_str!("../docs/x.md")`) or a site's configuration
    /// lists: such docs are reached without a link.
    md_mentions: HashSet<String>,
}

static NAME_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z][A-Z0-9_]{2,}\b").expect("valid regex"));
static MD_MENTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\w.-]+\.(?:md|markdown)\b").expect("valid regex"));

/// Walks the project (`.gitignore`-aware, hidden files included, symlinks not followed).
fn walk(root: &Path, cancel: &Cancel, warnings: &mut Warnings) -> Result<Tree> {
    let mut tree = Tree {
        names_complete: true,
        ..Tree::default()
    };
    let (mut read, mut bytes) = (0usize, 0u64);
    let walk = ignore::WalkBuilder::new(root)
        .standard_filters(true)
        .hidden(false)
        // Honour `.gitignore` even where git is not (a copy of a repository).
        .require_git(false)
        .follow_links(false)
        .sort_by_file_name(Ord::cmp)
        .filter_entry(|entry| {
            let dir = entry.file_type().is_some_and(|t| t.is_dir());
            !(entry.depth() > 0
                && dir
                && (entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| SKIP_DIRS.contains(&n))
                    // Another repository: its docs are its own.
                    || entry.path().join(".git").exists()))
        })
        .build();
    for entry in walk {
        cancel.check()?;
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                warnings.push(format!("failed to walk the project: {err}"));
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel) = entry
            .path()
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .map(str::to_owned)
        else {
            continue;
        };
        let name = file_name(&rel).to_owned();
        tree.by_name
            .entry(name.clone())
            .or_default()
            .push(rel.clone());
        if is_markdown(&rel) {
            if !rel.contains('/') || rel.starts_with("docs/") {
                tree.docs.push(rel);
            }
            continue;
        }
        let example = ENV_EXAMPLES.contains(&name.as_str())
            && !rel.contains('/')
            && tree.env_example.is_none();
        if example {
            tree.env_example = Some(rel.clone());
        }
        if SECRET_FILES.contains(&name.as_str()) {
            continue;
        }
        if read >= MAX_SOURCE_FILES || bytes >= MAX_SOURCE_TOTAL {
            tree.names_complete = false;
            continue;
        }
        read += 1;
        match read_source(entry.path()) {
            Ok(Some(text)) => {
                bytes += text.len() as u64;
                for found in NAME_TOKEN.find_iter(&text) {
                    let found = found.as_str();
                    if found.contains('_') && !tree.names.contains(found) {
                        tree.names.insert(found.to_owned());
                    }
                    if example && let Some((prefix, _)) = found.split_once('_') {
                        tree.env_prefixes.insert(format!("{prefix}_"));
                    }
                }
                let config = Path::new(&name)
                    .extension()
                    .and_then(OsStr::to_str)
                    .is_some_and(|ext| SITE_CONFIG_EXTENSIONS.contains(&ext));
                for line in text
                    .lines()
                    .filter(|l| l.contains(".md") || l.contains(".markdown"))
                {
                    // A site's navigation, or code that includes the doc (`include_str!`): not a mere
                    // mention in a test or a message.
                    if config || line.contains("include") {
                        tree.md_mentions.extend(
                            MD_MENTION
                                .find_iter(line)
                                .map(|found| found.as_str().to_owned()),
                        );
                    }
                }
            }
            Ok(None) => {}
            Err(err) => warnings.push(format!("failed to read `{rel}`: {err}")),
        }
    }
    tree.docs.sort();
    Ok(tree)
}

/// A source file's text, or `None` when it is large or binary.
fn read_source(path: &Path) -> io::Result<Option<String>> {
    if fs::metadata(path)?.len() > MAX_SOURCE_BYTES {
        return Ok(None);
    }
    let bytes = fs::read(path)?;
    if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn is_markdown(rel: &str) -> bool {
    Path::new(rel)
        .extension()
        .and_then(OsStr::to_str)
        .is_some_and(|ext| ext.eq_ignore_ascii_case("md") || ext.eq_ignore_ascii_case("markdown"))
}

/// Whether a doc records the past (a changelog, a decision record): what it names is gone on purpose.
fn is_historical(rel: &str) -> bool {
    let stem = Path::new(file_name(rel))
        .file_stem()
        .and_then(OsStr::to_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    stem.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| HISTORICAL_DOCS.contains(&word))
        || rel
            .split('/')
            .skip(1)
            .collect::<Vec<_>>()
            .split_last()
            .is_some_and(|(_, dirs)| {
                dirs.iter()
                    .any(|d| HISTORICAL_DIRS.contains(&d.to_ascii_lowercase().as_str()))
            })
}

/// A line that tells the reader to set something: the variables it names are knobs of the project.
static SETTING_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:set|sets|setting|export|define|provide)\b").expect("valid regex")
});

static HISTORICAL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:renamed|removed|deprecated|no longer|replaced|formerly|previously|used to|obsolete|moved|deleted|instead of|migrat(?:e|ed|ing|ion))\b")
        .expect("valid regex")
});

/// `.gitignore` files, read once per folder: what is ignored is created at run time, not missing.
struct Ignores {
    root: PathBuf,
    matchers: HashMap<String, Option<Gitignore>>,
}

impl Ignores {
    fn new(root: &Path) -> Ignores {
        Ignores {
            root: root.to_owned(),
            matchers: HashMap::new(),
        }
    }

    fn matcher(&mut self, dir: &str) -> Option<&Gitignore> {
        let root = &self.root;
        self.matchers
            .entry(dir.to_owned())
            .or_insert_with(|| {
                let abs = root.join(dir);
                let file = abs.join(".gitignore");
                let exclude = root.join(".git/info/exclude");
                let top = dir.is_empty() && exclude.is_file();
                if !file.is_file() && !top {
                    return None;
                }
                let mut builder = GitignoreBuilder::new(&abs);
                if file.is_file() {
                    let _ = builder.add(&file);
                }
                if top {
                    let _ = builder.add(&exclude);
                }
                builder.build().ok()
            })
            .as_ref()
    }

    /// Whether `rel` (relative to the project, existing or not) is ignored by a `.gitignore` on its way.
    fn ignored(&mut self, rel: &str, dir: bool) -> bool {
        let parts: Vec<&str> = rel.split('/').collect();
        let mut ignored = false;
        for depth in 0..parts.len() {
            let folder = parts[..depth].join("/");
            let sub = parts[depth..].join("/");
            if let Some(matcher) = self.matcher(&folder) {
                match matcher.matched_path_or_any_parents(&sub, dir) {
                    Match::Ignore(_) => ignored = true,
                    Match::Whitelist(_) => ignored = false,
                    Match::None => {}
                }
            }
        }
        ignored
    }
}

// ---------------------------------------------------------------------------------------------------------
// Markdown.

/// One markdown file, reduced to what the checks read.
#[derive(Debug, Default)]
struct Parsed {
    /// Link destinations as written, by line.
    links: Vec<(usize, String)>,
    /// Inline code, by line.
    spans: Vec<(usize, String)>,
    blocks: Vec<Block>,
    /// `$NAME` in prose, by line.
    dollars: Vec<(usize, String)>,
    /// The anchors a link may point at: heading slugs (GitHub's), in order, then explicit `id`s and `name`s;
    /// lowercase.
    anchors: Vec<String>,
}

/// A fenced code block.
#[derive(Debug, PartialEq, Eq)]
struct Block {
    /// The first word of the info string, lowercase (`sh`, `json`, empty).
    lang: String,
    lines: Vec<(usize, String)>,
}

static ATX_HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?[ \t]*$").expect("valid regex"));
static SETEXT_UNDERLINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ {0,3}(?:=+|-+)[ \t]*$").expect("valid regex"));
static REFERENCE_DEFINITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ {0,3}\[([^\]^][^\]]*)\]:[ \t]*(<[^>]*>|\S+)").expect("valid regex")
});
static HTML_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<(?:a|img|source|link|script)\b[^>]*?\s(?:href|src)\s*=\s*["']([^"']+)["']"#)
        .expect("valid regex")
});
static HTML_ANCHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<[a-z][a-z0-9]*\b[^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']"#)
        .expect("valid regex")
});
static DOLLAR_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{?([A-Z][A-Z0-9_]{2,})\b").expect("valid regex"));

fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut slugs: HashMap<String, usize> = HashMap::new();
    let mut fence: Option<(char, usize, Block)> = None;
    let mut comment = false;
    // The previous line, when it could be the text of a setext heading.
    let mut previous: Option<String> = None;
    let mut lines = text.lines().enumerate().peekable();
    // YAML front matter is not markdown.
    if text.starts_with("---\n") || text.starts_with("---\r\n") {
        lines.next();
        for (_, line) in lines.by_ref() {
            if matches!(line.trim_end(), "---" | "...") {
                break;
            }
        }
    }
    for (index, raw) in lines {
        let number = index + 1;
        if let Some((ch, len, block)) = &mut fence {
            let trimmed = raw.trim_start();
            let run = trimmed.chars().take_while(|c| c == ch).count();
            if run >= *len && trimmed[run * ch.len_utf8()..].trim().is_empty() {
                if let Some((_, _, block)) = fence.take() {
                    parsed.blocks.push(block);
                }
            } else {
                block.lines.push((number, raw.to_owned()));
            }
            continue;
        }
        if !comment && let Some((ch, len, lang)) = fence_open(raw) {
            fence = Some((
                ch,
                len,
                Block {
                    lang,
                    lines: Vec::new(),
                },
            ));
            previous = None;
            continue;
        }
        let Masked { prose, text, spans } = mask(raw, &mut comment);
        for span in spans {
            parsed.spans.push((number, span));
        }
        if text.trim().is_empty() {
            previous = None;
            continue;
        }
        // Told apart on the raw line (`` `# x` `` is no heading), named by its text (a comment is no part of it).
        if ATX_HEADING.is_match(raw)
            && let Some(found) = ATX_HEADING.captures(&text)
        {
            let heading = found.get(1).map_or("", |m| m.as_str());
            let heading = heading.trim_end_matches('#').trim_end();
            add_anchor(&mut parsed.anchors, &mut slugs, heading);
            previous = None;
        } else if SETEXT_UNDERLINE.is_match(raw) {
            if let Some(heading) = previous.take() {
                add_anchor(&mut parsed.anchors, &mut slugs, &heading);
            }
        } else {
            previous = Some(text.trim().to_owned());
        }
        for dest in inline_links(&prose) {
            parsed.links.push((number, dest));
        }
        if let Some(found) = REFERENCE_DEFINITION.captures(&prose) {
            let dest = found[2].trim_start_matches('<').trim_end_matches('>');
            parsed.links.push((number, dest.to_owned()));
        }
        for found in HTML_LINK.captures_iter(&prose) {
            parsed.links.push((number, found[1].to_owned()));
        }
        for found in HTML_ANCHOR.captures_iter(&prose) {
            parsed.anchors.push(found[1].to_lowercase());
        }
        for found in DOLLAR_NAME.captures_iter(&prose) {
            parsed.dollars.push((number, found[1].to_owned()));
        }
    }
    // An unclosed fence runs to the end of the document.
    if let Some((_, _, block)) = fence {
        parsed.blocks.push(block);
    }
    parsed
}

/// The fence character, its length and the block's language, when `line` opens a fenced code block.
fn fence_open(line: &str) -> Option<(char, usize, String)> {
    let trimmed = line.trim_start();
    let ch = trimmed.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = trimmed.chars().take_while(|c| *c == ch).count();
    if len < 3 {
        return None;
    }
    let info = &trimmed[len..];
    if ch == '`' && info.contains('`') {
        return None;
    }
    let lang = info
        .trim()
        .trim_start_matches(['{', '.'])
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | '{'))
        .next()
        .unwrap_or_default()
        .to_lowercase();
    Some((ch, len, lang))
}

/// One line of markdown taken apart by [`mask`].
struct Masked {
    /// The line with inline code and HTML comments blanked out: where links and prose variables are.
    prose: String,
    /// The line as it reads: HTML comments dropped, inline code without its backticks (a heading's text).
    text: String,
    /// The contents of the inline code spans.
    spans: Vec<String>,
}

/// Takes a line apart into its prose, its text and its inline code. `comment` carries an HTML comment that is
/// still open across lines.
fn mask(line: &str, comment: &mut bool) -> Masked {
    let mut prose = String::with_capacity(line.len());
    let mut text = String::with_capacity(line.len());
    let mut spans = Vec::new();
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        if *comment {
            if let Some(end) = rest.find("-->") {
                prose.push(' ');
                text.push(' ');
                i += end + 3;
                *comment = false;
                continue;
            }
            break;
        }
        let Some(c) = rest.chars().next() else { break };
        if c == '\\' {
            // An escaped character is literal text, a backtick included.
            let next = rest[1..].chars().next().map_or(0, char::len_utf8);
            prose.push_str(&rest[..=next]);
            text.push_str(&rest[1..=next]);
            i += 1 + next;
            continue;
        }
        if c == '`' {
            let run = rest.bytes().take_while(|b| *b == b'`').count();
            if let Some((content, len)) = code_span(rest, run) {
                text.push_str(&content);
                spans.push(content);
                prose.push(' ');
                i += len;
            } else {
                prose.push_str(&rest[..run]);
                text.push_str(&rest[..run]);
                i += run;
            }
            continue;
        }
        if rest.starts_with("<!--") {
            *comment = true;
            i += 4;
            continue;
        }
        prose.push(c);
        text.push(c);
        i += c.len_utf8();
    }
    Masked { prose, text, spans }
}

/// The content of the code span opened by the `run` backticks at the start of `text`, and the span's length.
fn code_span(text: &str, run: usize) -> Option<(String, usize)> {
    let body = &text[run..];
    let mut at = 0;
    while let Some(found) = body[at..].find('`') {
        let start = at + found;
        let len = body[start..].bytes().take_while(|b| *b == b'`').count();
        if len == run {
            let content = &body[..start];
            // One space on each side is padding, as in `` `x` ``.
            let content = if content.len() >= 2
                && content.starts_with(' ')
                && content.ends_with(' ')
                && !content.trim().is_empty()
            {
                &content[1..content.len() - 1]
            } else {
                content
            };
            return Some((content.to_owned(), run + start + len));
        }
        at = start + len;
    }
    None
}

/// The destinations of the inline links and images in `prose`: `[text](dest "title")`, `![alt](<dest>)`.
fn inline_links(prose: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = prose[from..].find("](") {
        let start = from + found + 2;
        match destination(&prose[start..]) {
            Some((dest, len)) => {
                out.push(dest);
                from = start + len;
            }
            None => from = start,
        }
    }
    out
}

/// A link destination at the start of `text` (after `](`), and how much of `text` it took.
fn destination(text: &str) -> Option<(String, usize)> {
    let trimmed = text.trim_start();
    let skipped = text.len() - trimmed.len();
    if let Some(rest) = trimmed.strip_prefix('<') {
        let end = rest.find('>')?;
        return Some((rest[..end].to_owned(), skipped + end + 2));
    }
    let mut depth = 0usize;
    for (i, c) in trimmed.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some((trimmed[..i].to_owned(), skipped + i + 1)),
            ')' => depth -= 1,
            c if c.is_whitespace() => return Some((trimmed[..i].to_owned(), skipped + i)),
            _ => {}
        }
    }
    None
}

static MARKDOWN_IMAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!\[[^\]]*\]\([^)]*\)").expect("valid regex"));
static MARKDOWN_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])").expect("valid regex"));
static HTML_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"</?[A-Za-z][^>]*>").expect("valid regex"));

static HEADING_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s*\{\s*#([\w-]+)[^}]*\}\s*$").expect("valid regex"));
static EMOJI_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r":[a-z0-9_+-]+:").expect("valid regex"));

/// Adds the anchor of `heading` to `anchors`: GitHub's slug (a repeated one gets `-1`, `-2`, ...), an explicit
/// `{#id}` (mkdocs, pandoc), and the variants a renderer may have made of it (without the `_` that was
/// emphasis, without `:emoji:` codes). An anchor too many only means a finding less.
fn add_anchor(anchors: &mut Vec<String>, seen: &mut HashMap<String, usize>, heading: &str) {
    let mut heading = heading;
    if let Some(found) = HEADING_ID.captures(heading) {
        anchors.push(found[1].to_lowercase());
        heading = &heading[..found.get(0).map_or(heading.len(), |m| m.start())];
    }
    let base = slug(heading);
    let count = seen.entry(base.clone()).or_insert(0);
    let suffix = if *count == 0 {
        String::new()
    } else {
        format!("-{count}")
    };
    *count += 1;
    let slug_ = format!("{base}{suffix}");
    if slug_.contains('_') {
        anchors.push(slug_.replace('_', ""));
    }
    if EMOJI_CODE.is_match(heading) {
        // Rendered as an emoji, which the slug drops after trimming, as GitHub's does.
        anchors.push(format!(
            "{}{suffix}",
            slug(&EMOJI_CODE.replace_all(heading, "\u{1f600}"))
        ));
    }
    anchors.push(slug_);
}

/// GitHub's anchor for a heading: the rendered text, lowercased, punctuation dropped, spaces to `-`.
fn slug(heading: &str) -> String {
    let text = MARKDOWN_IMAGE.replace_all(heading, "");
    let text = MARKDOWN_LINK.replace_all(&text, "$1");
    let text = HTML_TAG.replace_all(&text, "");
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Shell blocks.

/// The command lines of a shell block, by line: prompts stripped (and, when the block has prompts, the output
/// lines without one skipped), continuations joined, heredoc bodies skipped.
fn shell_lines(block: &Block) -> Vec<(usize, String)> {
    let prompted = block.lines.iter().any(|(_, line)| {
        let trimmed = line.trim_start();
        trimmed.starts_with("$ ") || trimmed.trim_end() == "$"
    });
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    let mut heredoc: Option<String> = None;
    for (number, raw) in &block.lines {
        if let Some(end) = &heredoc {
            if raw.trim() == end {
                heredoc = None;
            }
            continue;
        }
        let (start, text) = if let Some((start, mut text)) = pending.take() {
            text.push(' ');
            text.push_str(raw.trim());
            (start, text)
        } else {
            let trimmed = raw.trim();
            if prompted {
                match trimmed.strip_prefix("$ ") {
                    Some(rest) => (*number, rest.trim().to_owned()),
                    None => continue,
                }
            } else {
                (*number, trimmed.to_owned())
            }
        };
        if let Some(joined) = text.strip_suffix('\\') {
            pending = Some((start, joined.trim_end().to_owned()));
            continue;
        }
        heredoc = heredoc_end(&text);
        if !text.is_empty() {
            out.push((start, text));
        }
    }
    if let Some(line) = pending {
        out.push(line);
    }
    out
}

static HEREDOC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?"#).expect("valid regex")
});

/// The word that ends the heredoc `line` opens, if it opens one.
fn heredoc_end(line: &str) -> Option<String> {
    HEREDOC.captures(line).map(|found| found[1].to_owned())
}

/// The simple commands of a command line, each as its words: quotes removed, comments, redirections and their
/// targets dropped, split at `;`, `&&`, `||`, `|`, `&` and parentheses. `$(...)` and backquotes stay inside
/// their word, which is then dynamic (it holds a `$` or a backtick).
fn commands(line: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = line.chars().collect();
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    let mut word = String::new();
    let mut in_word = false;
    // The next word is where a redirection goes: not an argument.
    let mut redirect = false;
    let finish =
        |out: &mut Vec<Vec<String>>, word: &mut String, in_word: &mut bool, redirect: &mut bool| {
            if *in_word {
                if *redirect {
                    *redirect = false;
                } else if let Some(last) = out.last_mut() {
                    last.push(std::mem::take(word));
                }
            }
            word.clear();
            *in_word = false;
        };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => finish(&mut out, &mut word, &mut in_word, &mut redirect),
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.get(i + 1) {
                    word.push(*next);
                    i += 1;
                }
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                in_word = true;
                let mut depth = 0usize;
                while i < chars.len() {
                    word.push(chars[i]);
                    match chars[i] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            '`' => {
                in_word = true;
                word.push('`');
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    word.push(chars[i]);
                    i += 1;
                }
                word.push('`');
            }
            '>' | '<' => {
                // `2>`: the digits were a file descriptor, not a word.
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    finish(&mut out, &mut word, &mut in_word, &mut redirect);
                }
                while matches!(chars.get(i + 1), Some('>' | '<' | '|')) {
                    i += 1;
                }
                if chars.get(i + 1) == Some(&'&') {
                    // `>&2`, `2>&1`: a descriptor, no file.
                    i += 1;
                    while chars
                        .get(i + 1)
                        .is_some_and(|d| d.is_ascii_digit() || *d == '-')
                    {
                        i += 1;
                    }
                } else {
                    redirect = true;
                }
            }
            '&' if chars.get(i + 1) == Some(&'>') => {
                finish(&mut out, &mut word, &mut in_word, &mut redirect);
                i += 1;
                while chars.get(i + 1) == Some(&'>') {
                    i += 1;
                }
                redirect = true;
            }
            ';' | '|' | '&' | '(' | ')' => {
                finish(&mut out, &mut word, &mut in_word, &mut redirect);
                redirect = false;
                if out.last().is_some_and(|last| !last.is_empty()) {
                    out.push(Vec::new());
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
        i += 1;
    }
    finish(&mut out, &mut word, &mut in_word, &mut redirect);
    out.retain(|command| !command.is_empty());
    out
}

static ASSIGNMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z_][A-Za-z0-9_]*)=").expect("valid regex"));

// ---------------------------------------------------------------------------------------------------------
// Paths.

/// A path as a doc writes it, when it looks like one of the repository's.
#[derive(Debug, PartialEq, Eq)]
struct Candidate {
    /// As written, without a location suffix (`:12`, `#L3`).
    written: String,
    /// Without `./` and a trailing `/`.
    path: String,
    dir: bool,
}

static LOCATION_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?::\d+)+$|#L\d+(?:-L?\d+)?$").expect("valid regex"));

/// `token` as a repository path, if it looks like one: a `/` or a known extension; no spaces, globs,
/// placeholders' brackets, URLs, `~`, `$`, options or absolute paths.
fn path_candidate(token: &str) -> Option<Candidate> {
    let token = token.trim();
    let written = LOCATION_SUFFIX.replace(token, "").into_owned();
    let t = written.as_str();
    if t.is_empty()
        || t.len() > 200
        || t.starts_with(['~', '$', '/', '-', '@', '\\'])
        || t.starts_with("www.")
        || t.contains("//")
        || t.contains("...")
        || t.contains(':')
        || t.chars().any(|c| {
            c.is_whitespace() || c.is_control() || "*?[]{}<>|;&=,()'\"`$%!#^\\+".contains(c)
        })
        || !t.chars().any(char::is_alphabetic)
    {
        return None;
    }
    let dir = t.ends_with('/');
    let mut path = t;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    let path = path.trim_end_matches('/');
    if path.is_empty() || path == "." || path == ".." {
        return None;
    }
    // A bare word is a path when it is plainly a file name, or a folder by its trailing `/`.
    if !path.contains('/') && !dir && !known_file(path) {
        return None;
    }
    Some(Candidate {
        written: written.clone(),
        path: path.to_owned(),
        dir,
    })
}

/// Whether a bare word names a file: a known extension or a well-known extensionless name.
fn known_file(name: &str) -> bool {
    KNOWN_FILES.contains(&name)
        || Path::new(name)
            .extension()
            .and_then(OsStr::to_str)
            .is_some_and(|ext| KNOWN_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Whether a path is a placeholder rather than a path: `DIR/x`, `report_YYYY-MM-DD.md`, `path/to/x`,
/// `your-app/...`, `foo/bar.txt`, `example.com/api`.
fn placeholder(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let domain = parts.len() > 1
        && parts[0].contains('.')
        && parts[0].rsplit('.').next().is_some_and(|tld| {
            (2..=6).contains(&tld.len()) && tld.chars().all(|c| c.is_ascii_lowercase())
        })
        && !parts[0].starts_with('.');
    domain
        || path.starts_with("path/to/")
        || path.contains("/path/to/")
        || path.contains("YYYY")
        || path.contains("XXX")
        || parts.iter().any(|part| {
            let lower = part.to_ascii_lowercase();
            let stem = lower.split('.').next().unwrap_or_default();
            // `DIR`, `NAME`, `YYYY-MM-DD`: capitals and no extension.
            (part.chars().filter(char::is_ascii_uppercase).count() >= 2
                && !part.contains('.')
                && part.chars().all(|c| {
                    c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '-')
                }))
                || [
                    "foo", "bar", "baz", "qux", "example", "sample", "my", "your", "some",
                ]
                .contains(&stem)
                || lower.starts_with("your")
                || lower.starts_with("my-")
                || lower.starts_with("my_")
        })
}

/// `path` taken from the folder `base` (both relative to the project), or `None` when it leaves the project.
fn normalize(base: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `to` written from the folder `base` (both relative to the project).
fn relative(base: &str, to: &str) -> String {
    let from: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    let to: Vec<&str> = to.split('/').filter(|p| !p.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts = vec![".."; from.len() - common];
    parts.extend(&to[common..]);
    parts.join("/")
}

fn parent(rel: &str) -> String {
    rel.rsplit_once('/')
        .map_or_else(String::new, |(dir, _)| dir.to_owned())
}

fn file_name(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, name)| name)
}

/// Whether an example of the file sits next to it (`config/x.example.json` for `config/x.json`, `.env.example`
/// for `.env`): the file is one the user creates.
fn has_example(root: &Path, rel: &str) -> bool {
    let dir = parent(rel);
    let name = file_name(rel);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, Some(ext)),
        _ => (name, None),
    };
    let markers = ["example", "sample", "template", "dist", "tmpl", "default"];
    markers.iter().any(|marker| {
        let mut names = vec![format!("{name}.{marker}"), format!("{marker}.{name}")];
        if let Some(ext) = ext {
            names.push(format!("{stem}.{marker}.{ext}"));
            names.push(format!("{stem}_{marker}.{ext}"));
            names.push(format!("{stem}-{marker}.{ext}"));
        }
        names.iter().any(|n| root.join(&dir).join(n).exists())
    })
}

/// A name in the folder of `rel` that differs from its name by a slip (case, or one or two characters of the
/// stem with the same extension), when there is exactly one closest.
fn near_name(root: &Path, rel: &str) -> Option<String> {
    let dir = parent(rel);
    let name = file_name(rel);
    let (stem, ext) = split_ext(name);
    if stem.chars().count() < 3 {
        return None;
    }
    let limit = if stem.chars().count() < 5 { 1 } else { 2 };
    let mut best: Option<(usize, String)> = None;
    let mut tie = false;
    for entry in fs::read_dir(root.join(&dir)).ok()?.flatten() {
        let Some(other) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let (other_stem, other_ext) = split_ext(&other);
        let distance = if other.eq_ignore_ascii_case(name) {
            0
        } else if other_ext.eq_ignore_ascii_case(ext) {
            edit_distance(&stem.to_lowercase(), &other_stem.to_lowercase())
        } else {
            continue;
        };
        if distance > limit || other == name {
            continue;
        }
        match &best {
            Some((d, _)) if *d < distance => {}
            Some((d, _)) if *d == distance => tie = true,
            _ => {
                best = Some((distance, other));
                tie = false;
            }
        }
    }
    if tie {
        return None;
    }
    best.map(|(_, other)| {
        if dir.is_empty() {
            other
        } else {
            format!("{dir}/{other}")
        }
    })
}

fn split_ext(name: &str) -> (&str, &str) {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, ext),
        _ => (name, ""),
    }
}

/// Edit distance by characters, a swap of two neighbours counting as one edit (optimal string alignment): the
/// slips of typing.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The closest of `options` to `word` when it is close enough to be a slip.
fn closest<'a>(word: &str, options: impl IntoIterator<Item = &'a String>) -> Option<&'a String> {
    let limit = (word.chars().count() / 4).clamp(1, 3);
    let mut best: Option<(usize, &String)> = None;
    for option in options {
        let distance = edit_distance(&word.to_lowercase(), &option.to_lowercase());
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, option));
        }
    }
    best.map(|(_, option)| option)
}

// ---------------------------------------------------------------------------------------------------------
// The checks.

/// A reference to a path that does not exist, settled once the git history is known.
struct Missing {
    kind: Kind,
    file: String,
    line: usize,
    /// As written in the doc.
    written: String,
    /// Where it was looked for: (the folder it was taken from, the path), both relative to the project.
    tries: Vec<(String, String)>,
    /// The doc says it is there (a link, a program): flagged even without evidence of what happened to it.
    certain: bool,
    /// A bare file name: flagged only when git says it was deleted and nothing of that name exists now.
    bare: bool,
    /// `what` for the finding.
    what: String,
    /// Written from the project root with a leading `/` (a link).
    from_top: bool,
}

/// The checks over all docs of a project, and what they found.
struct Audit<'a> {
    root: &'a Path,
    tree: &'a Tree,
    cancel: Cancel,
    ignores: Ignores,
    bins: Bins,
    /// The scripts of `package.json` files, by folder.
    npm_scripts: HashMap<String, Option<BTreeSet<String>>>,
    /// Anchors of markdown files that links point into.
    anchors: HashMap<String, Option<Vec<String>>>,
    findings: Vec<Finding>,
    missing: Vec<Missing>,
    /// Existing files each doc names, with the line of the first mention.
    named: BTreeMap<String, BTreeMap<String, usize>>,
    /// Docs another doc links to.
    linked: BTreeSet<String>,
    /// Docs another doc names in code but does not link to: the first place.
    mentioned: BTreeMap<String, (String, usize)>,
    /// Variables already checked per doc.
    env_seen: HashSet<(String, String)>,
    /// Prefixes of the project's own variables, from its names (`MYTOOL_` for `mytool`).
    namespaces: Vec<String>,
    /// A variable was not checked because the source files were too many.
    env_skipped: bool,
    checked: Checked,
    notes: BTreeSet<String>,
}

impl<'a> Audit<'a> {
    fn new(root: &'a Path, tree: &'a Tree, cancel: Cancel) -> Audit<'a> {
        let bins = Bins::of(root);
        let mut namespaces: Vec<String> = root
            .file_name()
            .and_then(OsStr::to_str)
            .into_iter()
            .chain(bins.rust.iter().map(String::as_str))
            .chain(bins.node.iter().map(String::as_str))
            .map(|name| format!("{}_", name.to_ascii_uppercase().replace(['-', '.'], "_")))
            .filter(|prefix| prefix.len() > 2)
            .collect();
        namespaces.sort();
        namespaces.dedup();
        Audit {
            root,
            tree,
            cancel,
            ignores: Ignores::new(root),
            bins,
            namespaces,
            npm_scripts: HashMap::new(),
            anchors: HashMap::new(),
            findings: Vec::new(),
            missing: Vec::new(),
            named: BTreeMap::new(),
            linked: BTreeSet::new(),
            mentioned: BTreeMap::new(),
            env_seen: HashSet::new(),
            env_skipped: false,
            checked: Checked::default(),
            notes: BTreeSet::new(),
        }
    }

    fn doc(&mut self, rel: &str, text: &str) -> Result<()> {
        let parsed = parse(text);
        let lines: Vec<&str> = text.lines().collect();
        let dir = parent(rel);
        let line_is = |re: &Regex, line: usize| {
            lines
                .get(line.wrapping_sub(1))
                .is_some_and(|l| re.is_match(l))
        };
        let past = |line: usize| line_is(&HISTORICAL_LINE, line);
        let says_set = |line: usize| line_is(&SETTING_LINE, line);
        for (line, dest) in &parsed.links {
            self.link(rel, &dir, *line, dest, &parsed.anchors);
        }
        if is_historical(rel) {
            return Ok(());
        }
        for (line, span) in &parsed.spans {
            let historical = past(*line);
            for (name, setting) in span_vars(span) {
                self.env(rel, *line, &name, historical, setting || says_set(*line));
            }
            let first = span.split_whitespace().next().unwrap_or_default();
            let second = span.split_whitespace().nth(1).unwrap_or_default();
            let runs = self.bins.rust.contains(first)
                || self.bins.node.contains(first)
                || (matches!(first, "cargo" | "npm" | "pnpm" | "yarn" | "bun") && second == "run");
            if runs && !historical {
                for words in commands(span) {
                    let mut shell = Shell {
                        base: Some(String::new()),
                        ..Shell::default()
                    };
                    self.command(rel, *line, &words, &mut shell)?;
                }
            }
            if let Some(candidate) = path_candidate(span) {
                let tries = bases(&["", &dir]);
                self.path(
                    rel,
                    *line,
                    &candidate,
                    &tries,
                    Kind::MissingPath,
                    false,
                    historical,
                );
            }
        }
        for block in &parsed.blocks {
            self.block(rel, block)?;
        }
        for (line, name) in &parsed.dollars {
            self.env(rel, *line, name, past(*line), says_set(*line));
        }
        Ok(())
    }

    /// A link: to a file that must exist, and to an anchor that must be one of its headings.
    fn link(&mut self, doc: &str, dir: &str, line: usize, dest: &str, own: &[String]) {
        let dest = dest.trim();
        if dest.is_empty()
            || dest.starts_with("//")
            || has_scheme(dest)
            || dest.contains(['{', '}', '<', '>', '$'])
        {
            return;
        }
        let (target, anchor) = match dest.split_once('#') {
            Some((target, anchor)) => (target, Some(anchor)),
            None => (dest, None),
        };
        let target = target.split('?').next().unwrap_or_default();
        if rustdoc_link(target) {
            return;
        }
        self.checked.links += 1;
        let path = percent_decode(target);
        if path.is_empty() {
            if let Some(anchor) = anchor {
                self.anchor(doc, line, dest, anchor, doc, Some(own));
            }
            return;
        }
        let from_top = path.starts_with('/');
        let base = if from_top { "" } else { dir };
        let Some(rel) = normalize(base, path.trim_start_matches('/')) else {
            return;
        };
        let full = self.root.join(&rel);
        if let Ok(meta) = fs::metadata(&full) {
            if meta.is_file() {
                self.name(doc, line, &rel);
                if is_markdown(&rel) {
                    if rel != doc {
                        self.linked.insert(rel.clone());
                    }
                    if let Some(anchor) = anchor {
                        self.anchor(doc, line, dest, anchor, &rel, None);
                    }
                }
            }
            return;
        }
        let dir_link = path.ends_with('/');
        if self.ignores.ignored(&rel, dir_link) || placeholder(&path) {
            return;
        }
        self.missing.push(Missing {
            kind: Kind::BrokenLink,
            file: doc.to_owned(),
            line,
            written: target.to_owned(),
            tries: vec![(base.to_owned(), rel)],
            certain: true,
            bare: false,
            what: format!("links to {}, which does not exist", code(target)),
            from_top,
        });
    }

    /// An anchor into `target` (a markdown file of the project; `own` are its anchors when it is the doc
    /// itself).
    fn anchor(
        &mut self,
        doc: &str,
        line: usize,
        dest: &str,
        anchor: &str,
        target: &str,
        own: Option<&[String]>,
    ) {
        let wanted = percent_decode(anchor).to_lowercase();
        let wanted = wanted.strip_prefix("user-content-").unwrap_or(&wanted);
        // `#L12` lines, and an empty `#` (the top).
        if wanted.is_empty()
            || (wanted.starts_with('l')
                && wanted[1..]
                    .split('-')
                    .next()
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())))
        {
            return;
        }
        let anchors: Vec<String> = if let Some(own) = own {
            own.to_vec()
        } else {
            let root = self.root;
            let cached = self.anchors.entry(target.to_owned()).or_insert_with(|| {
                read_doc(&root.join(target))
                    .ok()
                    .flatten()
                    .map(|text| parse(&text).anchors)
            });
            let Some(anchors) = cached else {
                return;
            };
            anchors.clone()
        };
        if anchors.iter().any(|a| a == wanted) {
            return;
        }
        let (path, _) = dest.split_once('#').unwrap_or((dest, ""));
        let whose = if own.is_some() {
            "this doc has".to_owned()
        } else {
            format!("{} has", code(target))
        };
        let what = format!("links to {}, but {whose} no such heading", code(dest));
        let (fix, replace) = match closest(wanted, &anchors) {
            Some(near) => {
                let to = format!("{path}#{near}");
                (
                    format!("point it at {}", code(&to)),
                    Some(Replace {
                        from: dest.to_owned(),
                        to,
                    }),
                )
            }
            None if anchors.is_empty() => (
                "remove the anchor: the target has no headings".to_owned(),
                None,
            ),
            None => {
                let shown: Vec<String> = anchors
                    .iter()
                    .take(5)
                    .map(|a| code(&format!("#{a}")))
                    .collect();
                (
                    format!(
                        "point it at one of its headings ({}{}) or remove the anchor",
                        shown.join(", "),
                        if anchors.len() > 5 { ", ..." } else { "" }
                    ),
                    None,
                )
            }
        };
        self.findings.push(Finding {
            kind: Kind::BrokenLink,
            file: doc.to_owned(),
            line,
            what,
            fix,
            replace,
        });
    }

    /// Records that `doc` names the existing file `rel` at `line` (for staleness).
    fn name(&mut self, doc: &str, line: usize, rel: &str) {
        self.named
            .entry(doc.to_owned())
            .or_default()
            .entry(rel.to_owned())
            .or_insert(line);
    }

    /// A path in code: fine when it exists from one of `tries`' folders, otherwise kept for [`Audit::settle`]
    /// unless it is created at run time, a placeholder or copied from an example.
    #[expect(
        clippy::too_many_arguments,
        reason = "the callers differ in each of them"
    )]
    fn path(
        &mut self,
        doc: &str,
        line: usize,
        candidate: &Candidate,
        tries: &[String],
        kind: Kind,
        certain: bool,
        historical: bool,
    ) -> bool {
        let tries: Vec<(String, String)> = tries
            .iter()
            .filter_map(|base| normalize(base, &candidate.path).map(|rel| (base.clone(), rel)))
            .filter(|(_, rel)| !rel.is_empty())
            .collect();
        if tries.is_empty() {
            return true;
        }
        self.checked.paths += 1;
        for (_, rel) in &tries {
            if fs::symlink_metadata(self.root.join(rel)).is_ok() {
                if self.root.join(rel).is_file() {
                    self.name(doc, line, rel);
                    if is_markdown(rel) && rel != doc && rel.starts_with("docs/") {
                        self.mentioned
                            .entry(rel.clone())
                            .or_insert_with(|| (doc.to_owned(), line));
                    }
                }
                return true;
            }
        }
        if (historical && !certain)
            || placeholder(&candidate.path)
            || tries.iter().any(|(_, rel)| {
                RUNTIME_DIRS.contains(&rel.split('/').next().unwrap_or_default())
                    || self.ignores.ignored(rel, candidate.dir)
                    || has_example(self.root, rel)
            })
        {
            return true;
        }
        let shown = code(&candidate.written);
        let what = match kind {
            Kind::Command => format!("runs {shown}, which does not exist"),
            _ => format!("names {shown}, which does not exist"),
        };
        self.missing.push(Missing {
            kind,
            file: doc.to_owned(),
            line,
            written: candidate.written.clone(),
            tries,
            certain,
            bare: !candidate.path.contains('/'),
            what,
            from_top: false,
        });
        false
    }

    /// The finding for a missing reference, now that git said what happened to it, if there is evidence.
    fn settle(&self, m: &Missing, gone: &BTreeMap<String, Gone>) -> Option<Finding> {
        let rewrite = |index: usize, to: &str| -> String {
            let (base, _) = &m.tries[index];
            let mut text = if m.from_top {
                format!("/{to}")
            } else {
                let rel = relative(base, to);
                if m.written.starts_with("./") && !rel.starts_with("../") {
                    format!("./{rel}")
                } else {
                    rel
                }
            };
            if m.written.ends_with('/') {
                text.push('/');
            }
            text
        };
        let finding = |fix: String, to: Option<String>| Finding {
            kind: m.kind,
            file: m.file.clone(),
            line: m.line,
            what: m.what.clone(),
            fix,
            replace: to.map(|to| Replace {
                from: m.written.clone(),
                to,
            }),
        };
        for (index, (_, rel)) in m.tries.iter().enumerate() {
            let Some(event) = gone.get(rel) else {
                continue;
            };
            if m.bare && self.tree.by_name.contains_key(file_name(rel)) {
                return None;
            }
            let when = format!("in `{}` on {}", event.commit, day(event.time));
            return Some(match &event.renamed_to {
                Some(to) => {
                    let new = rewrite(index, to);
                    finding(
                        format!("point it at {} (renamed {when})", code(&new)),
                        Some(new),
                    )
                }
                None => finding(
                    format!("remove it, or name what replaced it (deleted {when})"),
                    None,
                ),
            });
        }
        if m.bare {
            return None;
        }
        for (index, (_, rel)) in m.tries.iter().enumerate() {
            if let Some(to) = near_name(self.root, rel) {
                let new = rewrite(index, &to);
                let folder = parent(&to);
                let place = if folder.is_empty() {
                    "the project's top folder".to_owned()
                } else {
                    code(&format!("{folder}/"))
                };
                return Some(finding(
                    format!("point it at {} (the closest name in {place})", code(&new)),
                    Some(new),
                ));
            }
        }
        if !m.certain {
            return None;
        }
        let (base, rel) = &m.tries[0];
        if m.kind == Kind::BrokenLink && !base.is_empty() {
            // A link resolves from the doc's folder; the path may have been written from the project's.
            let from_root = m.written.trim_start_matches("./");
            if let Some(top) = normalize("", from_root).filter(|top| self.root.join(top).exists()) {
                let new = rewrite(0, &top);
                return Some(finding(
                    format!(
                        "point it at {} (links resolve from the doc's folder, {})",
                        code(&new),
                        code(&format!("{base}/"))
                    ),
                    Some(new),
                ));
            }
        }
        // A doc moved elsewhere keeps its name; a code file of the same name elsewhere is another file.
        if is_markdown(rel)
            && let Some([only]) = self.tree.by_name.get(file_name(rel)).map(Vec::as_slice)
        {
            let new = rewrite(0, only);
            return Some(finding(
                format!(
                    "point it at {} (the only {} in the project)",
                    code(&new),
                    code(file_name(rel))
                ),
                Some(new),
            ));
        }
        Some(finding(
            match m.kind {
                Kind::BrokenLink => "point it at an existing file, or remove the link".to_owned(),
                _ => "correct the path, or remove the command".to_owned(),
            },
            None,
        ))
    }

    /// A fenced code block: variables set in shell and env blocks, commands and paths in shell. (A variable
    /// that code in a block reads is the reader's code's business, as in a library's examples.)
    fn block(&mut self, doc: &str, block: &Block) -> Result<()> {
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
    fn command(
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
    fn cargo_run(
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
    fn subcommand(
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
        let (fix, replace) = if let Some(near) = closest(sub, &help.subcommands) {
            (
                format!("use {} instead", code(near)),
                Some(Replace {
                    from: format!("{bin} {sub}"),
                    to: format!("{bin} {near}"),
                }),
            )
        } else {
            let listed: Vec<String> = help
                .subcommands
                .iter()
                .filter(|s| *s != "help")
                .map(|s| code(s))
                .collect();
            (
                format!(
                    "use one of the subcommands its `--help` lists ({}), or remove the command",
                    listed.join(", ")
                ),
                None,
            )
        };
        self.findings.push(Finding {
            kind: Kind::Command,
            file: doc.to_owned(),
            line,
            what,
            fix,
            replace,
        });
        Ok(())
    }

    /// The subcommands of the project's binary `bin`, from its `--help`; `None` (with a note) when they cannot
    /// be known.
    fn help(&mut self, bin: &str) -> Result<Option<Help>> {
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
    fn npm_run(&mut self, doc: &str, line: usize, base: &str, words: &[String], args: &[String]) {
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
        let manifest = code(&if base.is_empty() {
            "package.json".to_owned()
        } else {
            format!("{base}/package.json")
        });
        let (fix, replace) = match closest(script, scripts.iter()) {
            Some(near) => (
                format!("use {} instead", code(near)),
                Some(Replace {
                    from: format!("run {script}"),
                    to: format!("run {near}"),
                }),
            ),
            None if scripts.is_empty() => (
                format!("{manifest} has no scripts: remove the command"),
                None,
            ),
            None => {
                let listed: Vec<String> = scripts.iter().take(8).map(|s| code(s)).collect();
                (
                    format!(
                        "use one of its scripts ({}), or remove the command",
                        listed.join(", ")
                    ),
                    None,
                )
            }
        };
        self.findings.push(Finding {
            kind: Kind::Command,
            file: doc.to_owned(),
            line,
            what: format!(
                "{}: {manifest} has no script {}",
                code(&words.join(" ")),
                code(script)
            ),
            fix,
            replace,
        });
    }

    /// A variable named in `doc`: known when the env example or a source file mentions it.
    ///
    /// A variable the doc tells the reader to set (`NAME=value`, `export NAME=...`, "set `NAME`") is checked
    /// whatever its name; one it merely names (`$NAME`, `` `NAME` ``) only when it is in the project's namespace
    /// (`DAYDREAM_...`, or the prefix of a variable of the env example): otherwise it is another program's
    /// variable (`BASH_ENV`) or a constant of some API.
    fn env(&mut self, doc: &str, line: usize, name: &str, historical: bool, set: bool) {
        if !name.contains('_') || name.len() < 3 || well_known(name) {
            return;
        }
        if !set
            && !self
                .namespaces
                .iter()
                .chain(&self.tree.env_prefixes)
                .any(|prefix| name.starts_with(prefix.as_str()))
        {
            return;
        }
        if !self.env_seen.insert((doc.to_owned(), name.to_owned())) {
            return;
        }
        self.checked.env_vars += 1;
        if historical || self.tree.names.contains(name) {
            return;
        }
        if !self.tree.names_complete {
            self.env_skipped = true;
            return;
        }
        let what = match &self.tree.env_example {
            Some(example) => format!(
                "names {}, which neither {} nor any source file mentions",
                code(name),
                code(example)
            ),
            None => format!(
                "names {}, which no source file mentions (and there is no `.env.example`)",
                code(name)
            ),
        };
        let example = self.tree.env_example.as_deref().unwrap_or(".env.example");
        let near = (name.len() >= 6)
            .then(|| closest(name, self.tree.names.iter().filter(|n| n.len() >= 6)))
            .flatten();
        let (fix, replace) = match near {
            Some(near) => (
                format!("use {}, which the project does read", code(near)),
                Some(Replace {
                    from: name.to_owned(),
                    to: near.clone(),
                }),
            ),
            None => (
                format!(
                    "remove it from the doc, or add it to {} if something still reads it",
                    code(example)
                ),
                None,
            ),
        };
        self.findings.push(Finding {
            kind: Kind::EnvVar,
            file: doc.to_owned(),
            line,
            what,
            fix,
            replace,
        });
    }

    /// Docs under `docs/` that no other doc links to.
    fn orphans(&mut self, docs: &[&String], notes: &mut Vec<String>) {
        static PAGE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"[\w./-]+\.md\b").expect("valid regex"));
        let mut linked = std::mem::take(&mut self.linked);
        if let Some(config) = SITE_CONFIGS
            .iter()
            .find(|config| self.root.join(config).exists())
        {
            notes.push(format!(
                "{} builds the docs into a site with its own navigation: orphan docs were not checked",
                code(config)
            ));
            return;
        }
        for mkdocs in ["mkdocs.yml", "mkdocs.yaml"] {
            let Ok(text) = fs::read_to_string(self.root.join(mkdocs)) else {
                continue;
            };
            if !text.lines().any(|l| l.starts_with("nav:")) {
                notes.push(format!(
                    "{} builds every page under `docs/` into its site: orphan docs were not checked",
                    code(mkdocs)
                ));
                return;
            }
            let docs_dir = text
                .lines()
                .find_map(|l| l.strip_prefix("docs_dir:"))
                .map_or("docs", |d| d.trim().trim_matches(['"', '\'']))
                .trim_end_matches('/')
                .to_owned();
            for page in PAGE.find_iter(&text) {
                if let Some(rel) = normalize(&docs_dir, page.as_str()) {
                    linked.insert(rel);
                }
            }
        }
        for doc in docs {
            if !doc.starts_with("docs/")
                || linked.contains(*doc)
                || self.tree.md_mentions.contains(file_name(doc))
                || INDEX_DOCS.contains(&file_name(doc).to_ascii_lowercase().as_str())
            {
                continue;
            }
            let (fix, replace) = match self.mentioned.get(*doc) {
                Some((from, line)) => {
                    let target = relative(&parent(from), doc);
                    (
                        format!(
                            "{} names it in code: make that a link, {}",
                            code(&format!("{from}:{line}")),
                            code(&format!("[`{doc}`]({target})"))
                        ),
                        None,
                    )
                }
                None => (
                    "link it from `README.md` or a docs index, or delete it if it is obsolete"
                        .to_owned(),
                    None,
                ),
            };
            self.findings.push(Finding {
                kind: Kind::Orphan,
                file: (*doc).clone(),
                line: 1,
                what: "no other doc links to it".to_owned(),
                fix,
                replace,
            });
        }
    }
}

/// Where a shell block's commands run, as far as the block says.
#[derive(Default)]
struct Shell {
    /// The folder commands run in, relative to the project; `None` once a `cd` went somewhere unknown.
    base: Option<String>,
    /// The folder a `git clone` in the block creates (a `cd` into it goes to the project root).
    cloned: Option<String>,
    /// Words of earlier commands: what they create is not missing.
    seen: HashSet<String>,
    /// Variables the block sets itself.
    assigned: HashSet<String>,
}

/// Where a `cd` leads from `base`.
fn cd(base: Option<String>, to: Option<&str>, cloned: Option<&str>, root: &Path) -> Option<String> {
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
fn script_arg(args: &[String]) -> Option<&str> {
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

fn first_positional(args: &[String]) -> Option<&String> {
    args.iter().find(|a| !a.starts_with('-'))
}

/// The subcommand among `args`: the first positional argument, options' values skipped.
fn subcommand_of<'w>(args: &'w [String], help: &Help) -> Option<&'w str> {
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

/// Variables named in a span of inline code, each with whether the span sets it: `NAME=...` at its start
/// (set), the whole span, `$NAME`, reads such as `getenv("NAME")` (named).
fn span_vars(span: &str) -> Vec<(String, bool)> {
    static WHOLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\$?\{?([A-Z][A-Z0-9_]{2,})\}?$").expect("valid regex"));
    if let Some(found) = WHOLE.captures(span.trim()) {
        return vec![(found[1].to_owned(), false)];
    }
    let mut names = Vec::new();
    for word in span.split_whitespace() {
        if word == "export" {
            continue;
        }
        match ASSIGNMENT.captures(word) {
            Some(found) if found[1].chars().all(|c| !c.is_ascii_lowercase()) => {
                names.push((found[1].to_owned(), true));
            }
            _ => break,
        }
    }
    names.extend(
        DOLLAR_NAME
            .captures_iter(span)
            .map(|found| (found[1].to_owned(), false)),
    );
    names.extend(accessed_vars(span).into_iter().map(|name| (name, false)));
    names
}

/// Variables a span of code reads by name: `os.environ["X"]`, `getenv("X")`, `process.env.X`, `env::var("X")`.
fn accessed_vars(text: &str) -> Vec<String> {
    static READ: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:environ(?:\.get)?\s*[\[(]\s*|getenv\s*\(\s*|env::var(?:_os)?\s*\(\s*|ENV\s*\[\s*|ENV\.fetch\s*\(\s*)["']([A-Z][A-Z0-9_]{2,})["']|process\.env\.([A-Z][A-Z0-9_]{2,})"#)
            .expect("valid regex")
    });
    READ.captures_iter(text)
        .filter_map(|found| found.get(1).or_else(|| found.get(2)))
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// A variable every reader knows, or a placeholder to fill in (`$PATH_TO_LOCK_FILE`, `YOUR_API_KEY`).
fn well_known(name: &str) -> bool {
    KNOWN_VARS.contains(&name)
        || KNOWN_VAR_PREFIXES.iter().any(|p| name.starts_with(p))
        || ["PATH_TO_", "YOUR_", "MY_", "SOME_", "EXAMPLE_"]
            .iter()
            .any(|p| name.starts_with(p))
}

/// Whether a link target is one rustdoc resolves (an item path, a bare identifier, an item page) rather than
/// a file: READMEs generated from crate docs keep them.
fn rustdoc_link(target: &str) -> bool {
    static ITEM_PAGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|/)(?:struct|enum|trait|fn|macro|type|constant|static|union|mod|attr|derive|primitive|keyword|trait\.impl)\.[\w]+\.html$")
            .expect("valid regex")
    });
    target.contains("::")
        || (!target.is_empty() && !target.contains(['/', '.']) && !KNOWN_FILES.contains(&target))
        || ITEM_PAGE.is_match(target)
}

fn has_scheme(dest: &str) -> bool {
    static SCHEME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:").expect("valid regex"));
    SCHEME.is_match(dest)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(value) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Folders relative to the project that a path in code may be written from, without repeats.
fn bases(folders: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for folder in folders {
        if !out.iter().any(|f| f == folder) {
            out.push((*folder).to_owned());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// The project's own binaries.

/// The names of the project's binaries, and their `--help` once read.
#[derive(Default)]
struct Bins {
    /// Cargo binaries: run from `target/` to read their subcommands.
    rust: BTreeSet<String>,
    /// `package.json` bins: known, not run.
    node: BTreeSet<String>,
    helps: HashMap<String, Option<Help>>,
}

impl Bins {
    fn of(root: &Path) -> Bins {
        let mut bins = Bins::default();
        if let Ok(text) = fs::read_to_string(root.join("Cargo.toml")) {
            static NAME: LazyLock<Regex> = LazyLock::new(|| {
                Regex::new(r#"^name\s*=\s*["']([^"']+)["']"#).expect("valid regex")
            });
            let mut section = "";
            let mut package = None;
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with('[') {
                    section = line;
                } else if let Some(found) = NAME.captures(line) {
                    match section {
                        "[package]" => package = Some(found[1].to_owned()),
                        "[[bin]]" => {
                            bins.rust.insert(found[1].to_owned());
                        }
                        _ => {}
                    }
                }
            }
            if let Some(package) = package
                && root.join("src/main.rs").is_file()
            {
                bins.rust.insert(package);
            }
            if let Ok(entries) = fs::read_dir(root.join("src/bin")) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let name = if path.is_dir() && path.join("main.rs").is_file() {
                        path.file_name().and_then(OsStr::to_str).map(str::to_owned)
                    } else if path.extension() == Some(OsStr::new("rs")) {
                        path.file_stem().and_then(OsStr::to_str).map(str::to_owned)
                    } else {
                        None
                    };
                    bins.rust.extend(name);
                }
            }
        }
        if let Ok(text) = fs::read_to_string(root.join("package.json"))
            && let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
        {
            match json.get("bin") {
                Some(serde_json::Value::String(_)) => {
                    if let Some(name) = json.get("name").and_then(|n| n.as_str()) {
                        bins.node.insert(file_name(name).to_owned());
                    }
                }
                Some(serde_json::Value::Object(map)) => bins.node.extend(map.keys().cloned()),
                _ => {}
            }
        }
        bins
    }
}

/// What a binary's `--help` says about its command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Help {
    subcommands: BTreeSet<String>,
    /// Options that take a value (`--root <DIR>`), whose value is not a subcommand.
    takes_value: BTreeSet<String>,
}

/// The subcommands and value-taking options of a `--help` text (clap's layout, and most others'), or `None`
/// when it lists no subcommands.
fn parse_help(text: &str) -> Option<Help> {
    static SECTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?:available\s+)?(?:sub)?commands\s*:?\s*$").expect("valid regex")
    });
    static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\s+)([a-z0-9][a-z0-9_-]*)((?:\s*,\s*[a-z0-9][a-z0-9_-]*)*)(?:\s{2,}|$)")
            .expect("valid regex")
    });
    static ALIASES: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\[aliases?:\s*([^\]]+)\]").expect("valid regex"));
    static VALUE_OPTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|[\s,\[])(--?[A-Za-z][\w-]*)[ =](?:<[^>]+>|[A-Z][A-Z_]+\b)")
            .expect("valid regex")
    });
    let mut help = Help::default();
    let mut in_section = false;
    let mut indent: Option<usize> = None;
    for line in text.lines() {
        for found in VALUE_OPTION.captures_iter(line) {
            help.takes_value.insert(found[1].to_owned());
        }
        if SECTION.is_match(line.trim()) && !line.starts_with(char::is_whitespace) {
            in_section = true;
            indent = None;
            continue;
        }
        if !in_section {
            continue;
        }
        if line.trim().is_empty() || !line.starts_with(char::is_whitespace) {
            in_section = false;
            continue;
        }
        let Some(found) = ENTRY.captures(line) else {
            continue;
        };
        let depth = found[1].len();
        // Deeper lines continue the description of the entry above.
        if indent.is_some_and(|i| depth > i) {
            continue;
        }
        indent = Some(depth);
        help.subcommands.insert(found[2].to_owned());
        for alias in found[3].split(',').map(str::trim).filter(|a| !a.is_empty()) {
            help.subcommands.insert(alias.to_owned());
        }
        if let Some(aliases) = ALIASES.captures(line) {
            help.subcommands
                .extend(aliases[1].split(',').map(|a| a.trim().to_owned()));
        }
    }
    if help.subcommands.is_empty() {
        return None;
    }
    help.subcommands.insert("help".to_owned());
    Some(help)
}

/// The newest build of `bin` under `target/`, if it is not older than the sources.
fn built_binary(root: &Path, bin: &str) -> Result<PathBuf, String> {
    let built = ["debug", "release"]
        .iter()
        .map(|profile| root.join("target").join(profile).join(bin))
        .filter_map(|path| Some((fs::metadata(&path).ok()?.modified().ok()?, path)))
        .max();
    let Some((built_at, path)) = built else {
        return Err(format!(
            "no build at `target/debug/{bin}` or `target/release/{bin}`"
        ));
    };
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut stack = vec![root.join("src")];
    for file in ["Cargo.toml", "build.rs"] {
        if let Ok(modified) = fs::metadata(root.join(file)).and_then(|m| m.modified()) {
            newest = newest.max(modified);
        }
    }
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file()
                && let Ok(modified) = entry.metadata().and_then(|m| m.modified())
            {
                newest = newest.max(modified);
            }
        }
    }
    if newest > built_at {
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        return Err(format!(
            "{} is older than the sources (build it to check them)",
            code(&shown)
        ));
    }
    Ok(path)
}

/// The script names of a `package.json`, or `None` when there is none to read.
fn package_scripts(path: &Path) -> Option<BTreeSet<String>> {
    let text = fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(
        json.get("scripts")
            .and_then(|s| s.as_object())
            .map(|scripts| scripts.keys().cloned().collect())
            .unwrap_or_default(),
    )
}

// ---------------------------------------------------------------------------------------------------------
// Git.

/// How much git history the checks can read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum History {
    Complete,
    /// A shallow clone: a deletion found is real, but the last change of a file may be the clone's cut.
    Partial,
    None,
}

/// What git can say about the project.
enum GitState {
    /// A work tree; history is incomplete in a shallow clone.
    Repo {
        shallow: bool,
    },
    NotARepository,
    /// Why git cannot be asked.
    Unavailable(String),
}

/// A path that git history shows deleted, and where it went if it was renamed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Gone {
    /// The short hash of the commit that removed it.
    commit: String,
    hash: String,
    time: i64,
    /// Where it lives now, when the removal was a rename (followed up to [`RENAME_HOPS`] times).
    renamed_to: Option<String>,
}

struct Git {
    program: OsString,
    root: PathBuf,
    cancel: Cancel,
}

impl Git {
    fn cmd(&self) -> Cmd {
        // English messages (we read stderr), no inherited repository overrides, no lock taken, no paging or
        // signature lines in the output, pathspecs taken literally.
        Cmd::new(&self.program)
            .cwd(&self.root)
            .timeout(GIT_TIMEOUT)
            .cancel(&self.cancel)
            .env("LC_ALL", "C")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .args([
                "-c",
                "log.showSignature=false",
                "-c",
                "core.quotePath=false",
                "--no-pager",
                "--literal-pathspecs",
            ])
    }

    /// Runs git; `Ok(Err(message))` when it failed, `Err` only when the run was interrupted.
    fn run(&self, args: &[&str], paths: &[String]) -> Result<Result<Vec<u8>, String>> {
        let mut cmd = self.cmd().args(args);
        if !paths.is_empty() {
            cmd = cmd.args(["--"]).args(paths);
        }
        match cmd.run() {
            Ok(done) if done.stdout_dropped > 0 => Ok(Err(format!(
                "`git {}` printed more than daydream keeps",
                args.first().copied().unwrap_or_default()
            ))),
            Ok(done) => Ok(Ok(done.stdout)),
            Err(ExecError::Interrupted { interrupted, .. }) => Err(interrupted.into()),
            Err(err) => Ok(Err(err.to_string())),
        }
    }

    fn state(&self) -> Result<GitState> {
        let shown = self.program.to_string_lossy();
        match self
            .cmd()
            .args([
                "rev-parse",
                "--is-inside-work-tree",
                "--is-shallow-repository",
            ])
            .run()
        {
            Ok(done) => {
                let text = String::from_utf8_lossy(&done.stdout);
                let mut lines = text.lines();
                if lines.next() != Some("true") {
                    return Ok(GitState::Unavailable(
                        "the project directory is inside a `.git` folder, not a work tree"
                            .to_owned(),
                    ));
                }
                Ok(GitState::Repo {
                    shallow: lines.next() == Some("true"),
                })
            }
            Err(ExecError::Start { err, .. }) if err.kind() == io::ErrorKind::NotFound => {
                Ok(GitState::Unavailable(format!(
                    "git is needed to read the history, and `{shown}` was not found"
                )))
            }
            Err(ExecError::Failed { stderr, .. }) if stderr.contains("not a git repository") => {
                Ok(GitState::NotARepository)
            }
            Err(ExecError::Interrupted { interrupted, .. }) => Err(interrupted.into()),
            Err(err) => Ok(GitState::Unavailable(format!("could not ask git: {err}"))),
        }
    }

    /// The time of the last commit that touched each of `paths` (those git never tracked are absent).
    fn last_changes(&self, paths: &[String]) -> Result<Result<BTreeMap<String, i64>, String>> {
        let mut out = BTreeMap::new();
        for chunk in paths.chunks(GIT_CHUNK) {
            let log = match self.run(
                &[
                    "log",
                    "--format=%x01%ct",
                    "--name-only",
                    "-z",
                    "--no-renames",
                    "--relative",
                ],
                chunk,
            )? {
                Ok(log) => log,
                Err(err) => return Ok(Err(err)),
            };
            // Newest first: the first time a path shows is its last change.
            for (header, names) in commits(&log) {
                let Ok(time) = header.trim().parse::<i64>() else {
                    continue;
                };
                for name in names {
                    out.entry(name).or_insert(time);
                }
            }
        }
        Ok(Ok(out))
    }

    /// Which of `paths` git history shows deleted (the last time), and where the renamed ones live now.
    fn gone(&self, paths: &[String]) -> Result<Result<BTreeMap<String, Gone>, String>> {
        let mut out = match self.deletions(paths)? {
            Ok(out) => out,
            Err(err) => return Ok(Err(err)),
        };
        let mut renames: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for path in paths {
            let Some(gone) = out.get(path).cloned() else {
                continue;
            };
            let mut current = path.clone();
            let mut event = gone.clone();
            let mut renamed_to = None;
            for _ in 0..RENAME_HOPS {
                let commit = event.hash.clone();
                if !renames.contains_key(&commit) {
                    let found = match self.renames(&commit)? {
                        Ok(found) => found,
                        Err(err) => return Ok(Err(err)),
                    };
                    renames.insert(commit.clone(), found);
                }
                // The file itself, or a folder whose files moved together (`scripts/x.sh` to `tools/x.sh`).
                let Some(to) = renames[&commit].iter().find_map(|(from, to)| {
                    if *from == current {
                        return Some(to.clone());
                    }
                    let inside = from.strip_prefix(current.as_str())?.strip_prefix('/')?;
                    to.strip_suffix(inside)?
                        .strip_suffix('/')
                        .filter(|dir| !dir.is_empty())
                        .map(str::to_owned)
                }) else {
                    break;
                };
                if self.root.join(&to).exists() {
                    renamed_to = Some(to);
                    break;
                }
                // Renamed again, or deleted, later.
                current = to;
                match self.deletions(std::slice::from_ref(&current))? {
                    Ok(next) => match next.get(&current) {
                        Some(next) => event = next.clone(),
                        None => break,
                    },
                    Err(err) => return Ok(Err(err)),
                }
            }
            if let Some(entry) = out.get_mut(path) {
                entry.renamed_to = renamed_to;
            }
        }
        Ok(Ok(out))
    }

    /// The last commit that deleted each of `paths` (a folder: the last that deleted a file in it), renames
    /// counted as deletions.
    fn deletions(&self, paths: &[String]) -> Result<Result<BTreeMap<String, Gone>, String>> {
        let mut out = BTreeMap::new();
        for chunk in paths.chunks(GIT_CHUNK) {
            let wanted: HashSet<&str> = chunk.iter().map(String::as_str).collect();
            let log = match self.run(
                &[
                    "log",
                    "--diff-filter=D",
                    "--format=%x01%H %ct",
                    "--name-only",
                    "-z",
                    "--no-renames",
                    "--relative",
                ],
                chunk,
            )? {
                Ok(log) => log,
                Err(err) => return Ok(Err(err)),
            };
            for (header, names) in commits(&log) {
                let Some((hash, time)) = header.trim().split_once(' ') else {
                    continue;
                };
                let Ok(time) = time.parse::<i64>() else {
                    continue;
                };
                for name in names {
                    // The file, and each folder on its way that was asked about.
                    let mut at = name.len();
                    loop {
                        let path = &name[..at];
                        if wanted.contains(path) {
                            out.entry(path.to_owned()).or_insert_with(|| Gone {
                                commit: hash.chars().take(7).collect(),
                                hash: hash.to_owned(),
                                time,
                                renamed_to: None,
                            });
                        }
                        match path.rfind('/') {
                            Some(slash) => at = slash,
                            None => break,
                        }
                    }
                }
            }
        }
        Ok(Ok(out))
    }

    /// The renames (old, new) of one commit.
    fn renames(&self, commit: &str) -> Result<Result<Vec<(String, String)>, String>> {
        let out = match self.run(
            &[
                "show",
                "-M",
                "--name-status",
                "-z",
                "--format=",
                "--relative",
                commit,
            ],
            &[],
        )? {
            Ok(out) => out,
            Err(err) => return Ok(Err(err)),
        };
        let fields: Vec<String> = out
            .split(|b| *b == 0)
            .map(|f| {
                String::from_utf8_lossy(f)
                    .trim_start_matches('\n')
                    .to_owned()
            })
            .collect();
        let mut renames = Vec::new();
        let mut i = 0;
        while i < fields.len() {
            let status = &fields[i];
            if status.starts_with('R') || status.starts_with('C') {
                if let (Some(from), Some(to)) = (fields.get(i + 1), fields.get(i + 2))
                    && status.starts_with('R')
                {
                    renames.push((from.clone(), to.clone()));
                }
                i += 3;
            } else {
                i += 2;
            }
        }
        Ok(Ok(renames))
    }
}

/// The commits of a `git log --format=%x01... --name-only -z`: each one's header and file names.
fn commits(log: &[u8]) -> Vec<(String, Vec<String>)> {
    log.split(|b| *b == 1)
        .filter(|chunk| !chunk.is_empty())
        .map(|chunk| {
            let mut fields = chunk.split(|b| *b == 0);
            let header = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
            let names = fields
                .map(|f| {
                    String::from_utf8_lossy(f)
                        .trim_start_matches('\n')
                        .to_owned()
                })
                .filter(|f| !f.is_empty())
                .collect();
            (header, names)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Staleness.

/// Docs whose last commit is more than `days` older than the last commit of a file they name.
fn stale(
    git: &Git,
    audit: &Audit<'_>,
    docs: &[&String],
    days: u32,
) -> Result<Result<Vec<Finding>, String>> {
    let docs: Vec<&String> = docs.iter().copied().filter(|d| !is_historical(d)).collect();
    let mut paths: BTreeSet<String> = docs.iter().map(|d| (*d).clone()).collect();
    for doc in &docs {
        if let Some(named) = audit.named.get(*doc) {
            paths.extend(named.keys().filter(|rel| code_file(rel)).cloned());
        }
    }
    let times = match git.last_changes(&paths.into_iter().collect::<Vec<_>>())? {
        Ok(times) => times,
        Err(err) => return Ok(Err(err)),
    };
    let threshold = i64::from(days) * 86_400;
    let mut findings = Vec::new();
    for doc in docs {
        let Some(&doc_time) = times.get(doc) else {
            continue;
        };
        let Some(named) = audit.named.get(doc) else {
            continue;
        };
        let mut newer: Vec<(i64, &String, usize)> = named
            .iter()
            .filter(|(rel, _)| code_file(rel) && *rel != doc)
            .filter_map(|(rel, line)| Some((*times.get(rel)?, rel, *line)))
            .filter(|(time, _, _)| time - doc_time > threshold)
            .collect();
        newer.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        let Some(&(time, rel, line)) = newer.first() else {
            continue;
        };
        let behind = (time - doc_time) / 86_400;
        let mut what = format!(
            "last changed {}, {behind} days before {} ({}), which it names here",
            day(doc_time),
            code(rel),
            day(time)
        );
        if newer.len() > 1 {
            let _ = write!(
                what,
                "; {} more files it names changed since",
                newer.len() - 1
            );
        }
        findings.push(Finding {
            kind: Kind::Stale,
            file: doc.clone(),
            line,
            what,
            fix: format!(
                "review it against what changed since ({}) and update it",
                code(&format!("git log --since={} -- {rel}", day(doc_time)))
            ),
            replace: None,
        });
    }
    Ok(Ok(findings))
}

/// Whether a named file is code whose changes may leave a doc behind (not a doc, a lock file or a manifest).
fn code_file(rel: &str) -> bool {
    let name = file_name(rel);
    !is_markdown(rel)
        && !NOT_CODE.contains(&name)
        && !name.starts_with("requirements")
        && !Path::new(name)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("lock"))
}

fn day(time: i64) -> String {
    chrono::DateTime::from_timestamp(time, 0)
        .map_or_else(|| time.to_string(), |t| t.format("%Y-%m-%d").to_string())
}

// ---------------------------------------------------------------------------------------------------------
// Summary, actions, digest and rendering.

/// `12 docs: 3 broken links, 1 missing path, 2 unknown env vars`.
fn summary(data: &DocsData) -> String {
    let docs = plural(data.docs, "doc", "docs");
    if data.counts.is_empty() {
        return format!("{docs}: nothing stale found");
    }
    let parts: Vec<String> = data
        .counts
        .iter()
        .map(|(kind, n)| format!("{n} {}", kind.noun(*n)))
        .collect();
    format!("{docs}: {}", parts.join(", "))
}

/// `file:line what: fix` for a list.
fn line_of(finding: &Finding) -> String {
    format!(
        "{} {}: {}",
        code(&format!("{}:{}", finding.file, finding.line)),
        finding.what,
        finding.fix
    )
}

/// Broken links and gone commands mislead readers: each is an action, up to [`ACTION_LIMIT`].
fn actions(data: &DocsData) -> Vec<String> {
    let misleading: Vec<&Finding> = data
        .findings
        .items
        .iter()
        .filter(|f| matches!(f.kind, Kind::BrokenLink | Kind::Command))
        .collect();
    let total: usize = [Kind::BrokenLink, Kind::Command]
        .iter()
        .filter_map(|k| data.counts.get(k))
        .sum();
    let mut actions: Vec<String> = misleading
        .iter()
        .take(ACTION_LIMIT)
        .map(|f| line_of(f))
        .collect();
    if total > actions.len() {
        actions.push(format!(
            "{} more broken links or commands in the docs (see the Docs section)",
            total - actions.len()
        ));
    }
    actions
}

fn digest(output: &Output) -> Option<String> {
    let data = serde_json::from_value::<DocsData>(output.data.clone()).ok()?;
    let mut out = output.summary.clone();
    if data.findings.total == 0 {
        // Nothing stale: only problems met on the way are worth a reflection.
        if output.warnings.is_empty() {
            return None;
        }
        for warning in output.warnings.iter().take(5) {
            out.push_str("\nwarning: ");
            out.push_str(warning);
        }
        return Some(out);
    }
    for finding in data.findings.items.iter().take(DIGEST_LIMIT) {
        let _ = write!(out, "\n- {}", line_of(finding));
    }
    if data.findings.total > DIGEST_LIMIT {
        let _ = write!(out, "\n- and {} more", data.findings.total - DIGEST_LIMIT);
    }
    Some(out)
}

/// The markdown of one project's docs audit, under the project's heading.
fn render(data: &DocsData, out: &mut String) {
    let checked = &data.checked;
    let _ = writeln!(
        out,
        "Checked {}: {}, {}, {}, {}.",
        plural(data.docs, "doc", "docs"),
        plural(checked.links, "link", "links"),
        plural(checked.paths, "path", "paths"),
        plural(checked.commands, "command", "commands"),
        plural(checked.env_vars, "variable", "variables"),
    );
    if data.counts.is_empty() {
        out.push_str("Nothing stale found.\n");
    }
    for (kind, total) in &data.counts {
        let _ = writeln!(out, "\n**{}** ({total})", kind.heading());
        let items: Vec<&Finding> = data
            .findings
            .items
            .iter()
            .filter(|f| f.kind == *kind)
            .collect();
        for finding in items.iter().take(RENDER_LIMIT) {
            let _ = writeln!(out, "- {}", line_of(finding));
        }
        if *total > items.len().min(RENDER_LIMIT) {
            let _ = writeln!(out, "- and {} more", total - items.len().min(RENDER_LIMIT));
        }
    }
    for note in &data.notes {
        let _ = writeln!(out, "\n_{}_", capitalise(note));
    }
}

/// Inline code that survives backticks in the text.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use chrono::NaiveDate;
    use serde_json::json;

    use super::*;
    use crate::env::Env;
    use crate::step::testing;

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
        outcome
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

    /// Runs git in `dir` with both commit dates set to `date`; returns its stdout.
    fn git(dir: &Path, date: &str, args: &[&str]) -> String {
        let done = Cmd::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .cwd(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .run()
            .unwrap();
        String::from_utf8_lossy(&done.stdout).trim().to_owned()
    }

    /// A repository with one stale reference of each kind, and as many traps that must not be flagged. Its
    /// history: everything committed on [`OLD`]; on [`NEW`], `docs/setup.md` renamed to `docs/install.md`,
    /// `src/old_module.py`, `src/legacy.py` and `scripts/deploy.sh` deleted, `src/app.py` changed. The
    /// project's own binary is a script at `target/debug/mytool` that prints [`MYTOOL_HELP`]. Returns the
    /// short hash of the second commit.
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
        let digest = digest(&output).unwrap();
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
            Docs.digest(&output).unwrap(),
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
            Docs.digest(&Output {
                summary: summary(&nothing),
                data: serde_json::to_value(&nothing).unwrap(),
                ..Output::default()
            }),
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
        assert_eq!(edit_distance("mian", "main"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
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
