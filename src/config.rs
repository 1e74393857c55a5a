//! `config/projects.json`: the raw serde shape, its errors with line and column, and the validated [`Config`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::env::Env;

/// Log globs of a project that names none.
pub(crate) const DEFAULT_LOGS: &[&str] = &["logs/*.log"];
pub(crate) const DEFAULT_STALE_ISSUE_DAYS: u32 = 90;

/// The validated configuration.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) path: PathBuf,
    /// Projects in the order of their slugs.
    pub(crate) projects: Vec<Project>,
    /// Unknown keys and other things worth saying that do not stop a run.
    pub(crate) warnings: Vec<String>,
    /// `"defaults": {"jobs": N}`: projects worked on at once by `run` [default: the cores, at most 8].
    pub(crate) jobs: Option<usize>,
}

/// One project, with defaults applied and `~` expanded.
#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub(crate) slug: String,
    pub(crate) name: String,
    /// The directory as written in the config, for messages.
    pub(crate) dir_display: String,
    /// The directory, expanded and absolute.
    pub(crate) dir: PathBuf,
    pub(crate) logs: Vec<String>,
    pub(crate) deprecated_patterns: Vec<regex::Regex>,
    pub(crate) github: Option<GitHub>,
    pub(crate) sentry: Option<Sentry>,
    pub(crate) telegram_chat_id: Option<String>,
    pub(crate) test_command: Option<String>,
    pub(crate) autofix: Autofix,
    pub(crate) tests: Tests,
    pub(crate) tasks: Tasks,
    pub(crate) stale_issue_days: u32,
    pub(crate) machines: Vec<String>,
    /// What happens to model-edited code when this machine has no sandbox (`"sandbox"`).
    pub(crate) sandbox: crate::sandbox::Policy,
    /// Whether confined commands (the tests of a fix) may use the network (`"sandbox_network"`).
    pub(crate) sandbox_network: bool,
    /// Whether e-mail and IP addresses and phone numbers stay in what is published (`"publish": {"pii": "keep"}`).
    pub(crate) keep_pii: bool,
    /// Why this machine cannot run the project's units, if it cannot.
    pub(crate) unavailable: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GitHub {
    pub(crate) org: String,
    pub(crate) repo: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Sentry {
    pub(crate) org: String,
    pub(crate) project: String,
    /// Frames in these paths (globs relative to the project) are not the project's to fix.
    #[serde(default)]
    pub(crate) exclude_paths: Vec<String>,
    /// GitHub users asked to review a Sentry fix's PR.
    #[serde(default)]
    pub(crate) reviewers: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Autofix {
    /// `None`: on (unless `DAYDREAM_AUTO_FIX_ENABLED=false`).
    pub(crate) enabled: Option<bool>,
    /// Where a fix may change files; empty: the whole repository, minus the protected paths.
    pub(crate) safe_paths: Vec<String>,
    /// Added to the built-in protected paths (`fix::DEFAULT_PROTECTED`), never replacing them.
    pub(crate) protected_paths: Vec<String>,
    /// Whether Claude may run the project's `test_command` itself while fixing (always run afterwards).
    pub(crate) allow_test_command: bool,
}

/// How the project's tests are read and rerun (`"tests"`), for the tests step and the fix loop.
#[derive(Clone, Debug)]
pub(crate) struct Tests {
    /// Where the test command writes `JUnit` XML (a glob relative to the project), read before its output.
    pub(crate) junit: Option<String>,
    /// The command that runs one test, `{test}` (and `{file}`) replaced by the test's quoted id; otherwise
    /// built from `test_command` for the runner it names.
    pub(crate) single: Option<String>,
    /// Times a failing test is rerun alone; one that passes is flaky and never sent to a model.
    pub(crate) flaky_reruns: u32,
    /// Commands whose problems a fix may not add to (linters, type checkers): compared before and after.
    pub(crate) checks: Vec<String>,
    /// How long one run of the whole suite may take.
    pub(crate) timeout: std::time::Duration,
}

/// The default of `"tests": {"flaky_reruns"}`.
pub(crate) const DEFAULT_FLAKY_RERUNS: u32 = 2;
/// The default of `"tests": {"timeout_secs"}`: 15 minutes.
pub(crate) const DEFAULT_TESTS_TIMEOUT_SECS: u64 = 900;

impl Default for Tests {
    fn default() -> Self {
        Tests {
            junit: None,
            single: None,
            flaky_reruns: DEFAULT_FLAKY_RERUNS,
            checks: Vec::new(),
            timeout: std::time::Duration::from_secs(DEFAULT_TESTS_TIMEOUT_SECS),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Tasks {
    pub(crate) label_stale: bool,
    pub(crate) close_stale_after_days: Option<u32>,
}

/// A configuration problem, positioned in the file when serde could say where.
#[derive(Debug)]
pub(crate) struct ConfigError {
    pub(crate) path: PathBuf,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
    pub(crate) fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}`", self.path.display())?;
        if self.line > 0 {
            write!(f, ": line {}, column {}", self.line, self.column)?;
        }
        write!(f, ": {}\n  fix: {}", self.message, self.fix)
    }
}

impl std::error::Error for ConfigError {}

// The file as written. Unknown keys are collected by `serde_ignored`, so no `deny_unknown_fields` here.

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(deserialize_with = "unique_projects")]
    projects: BTreeMap<String, RawProject>,
}

#[derive(Deserialize, Default)]
struct RawDefaults {
    jobs: Option<std::num::NonZeroUsize>,
    stale_issue_days: Option<u32>,
    logs: Option<Vec<String>>,
    deprecated_patterns: Option<Vec<Pattern>>,
    autofix: Option<RawAutofix>,
    tests: Option<RawTests>,
    tasks: Option<RawTasks>,
    sandbox: Option<crate::sandbox::Policy>,
    sandbox_network: Option<bool>,
    publish: Option<RawPublish>,
}

#[derive(Deserialize)]
struct RawProject {
    name: Option<String>,
    working_directory: NonEmpty,
    github: Option<GitHub>,
    logs: Option<Vec<String>>,
    sentry: Option<Sentry>,
    telegram: Option<RawTelegram>,
    test_command: Option<String>,
    autofix: Option<RawAutofix>,
    tests: Option<RawTests>,
    tasks: Option<RawTasks>,
    stale_issue_days: Option<u32>,
    machines: Option<Vec<String>>,
    deprecated_patterns: Option<Vec<Pattern>>,
    sandbox: Option<crate::sandbox::Policy>,
    sandbox_network: Option<bool>,
    publish: Option<RawPublish>,
}

#[derive(Deserialize, Clone, Copy)]
struct RawPublish {
    pii: Pii,
}

/// `"publish": {"pii": ...}`: `mask` (the default) or `keep`.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Pii {
    Mask,
    Keep,
}

#[derive(Deserialize, Clone, Default)]
struct RawAutofix {
    enabled: Option<bool>,
    safe_paths: Option<Vec<String>>,
    protected_paths: Option<Vec<String>>,
    allow_test_command: Option<bool>,
}

#[derive(Deserialize, Clone, Default)]
struct RawTests {
    junit: Option<NonEmpty>,
    single: Option<NonEmpty>,
    flaky_reruns: Option<u32>,
    checks: Option<Vec<String>>,
    timeout_secs: Option<u64>,
}

#[derive(Deserialize, Clone, Default)]
struct RawTasks {
    label_stale: Option<bool>,
    close_stale_after_days: Option<u32>,
}

#[derive(Deserialize)]
struct RawTelegram {
    chat_id: ChatId,
}

/// Telegram chat ids are written both as strings and as numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum ChatId {
    Text(String),
    Number(i64),
}

/// A string that must not be empty (a directory path).
#[derive(Clone)]
struct NonEmpty(String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().is_empty() {
            return Err(serde::de::Error::invalid_value(
                serde::de::Unexpected::Str(&s),
                &"a directory path such as \"~/src/app\"",
            ));
        }
        Ok(NonEmpty(s))
    }
}

/// A regular expression, checked where it is written so the error has a line and column.
#[derive(Clone)]
struct Pattern(regex::Regex);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        regex::Regex::new(&s).map(Pattern).map_err(|err| {
            let first = err
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .to_owned();
            serde::de::Error::custom(format!("invalid regular expression `{s}`: {first}"))
        })
    }
}

/// Reads and validates the configuration file.
pub(crate) fn load(path: &Path, root: &Path, env: &Env) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
        path: path.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read it: {err}"),
        fix: if err.kind() == std::io::ErrorKind::NotFound {
            "create it (see `config/projects.example.json` in the daydream repository), pass `--config PATH`, \
             or run `daydream demo` to try the bundled demo"
                .to_owned()
        } else {
            "check the file's permissions".to_owned()
        },
    })?;
    parse(&text, path, root, env)
}

/// Parses and validates configuration text; `path` is only used in messages.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over the raw projects: each key's default and check in the order of the file"
)]
pub(crate) fn parse(
    text: &str,
    path: &Path,
    root: &Path,
    env: &Env,
) -> Result<Config, ConfigError> {
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawConfig = {
        let mut track = |p: serde_ignored::Path<'_>| unknown.push(p.to_string());
        let ignored = serde_ignored::Deserializer::new(&mut de, &mut track);
        serde_path_to_error::deserialize(ignored).map_err(|err| explain(path, text, &err))?
    };
    de.end().map_err(|err| explain_json(path, text, &err, ""))?;

    let mut warnings: Vec<String> = unknown
        .iter()
        .map(|key| {
            let hint = suggest(key)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            format!("`{}`: unknown key `{key}` is ignored{hint}", path.display())
        })
        .collect();

    let defaults = raw.defaults;
    let jobs = defaults.jobs.map(std::num::NonZeroUsize::get);
    let machine = this_machine(env);
    let mut projects = Vec::new();
    for (slug, p) in raw.projects {
        if slug.is_empty()
            || !slug
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || slug.starts_with('.')
        {
            let (line, column) = locate(text, &format!("\"{slug}\""));
            return Err(ConfigError {
                path: path.to_owned(),
                line,
                column,
                message: format!("project key `{slug}` is not a valid slug"),
                fix: "use letters, digits, `-`, `_` and `.` only (it names files such as `data/templates/<slug>.json`)".to_owned(),
            });
        }
        let dir_display = p.working_directory.0;
        let dir = expand(&dir_display, root, env);
        let machines = p.machines.unwrap_or_default();
        let unavailable =
            if !machines.is_empty() && !machines.iter().any(|m| m.eq_ignore_ascii_case(&machine)) {
                Some(format!(
                    "runs only on {} (this machine is `{machine}`)",
                    list(&machines)
                ))
            } else if !dir.is_dir() {
                Some(if dir.exists() {
                    format!("`{dir_display}` is not a directory on this machine")
                } else {
                    format!("`{dir_display}` does not exist on this machine")
                })
            } else {
                None
            };
        let autofix = p
            .autofix
            .or_else(|| defaults.autofix.clone())
            .unwrap_or_default();
        let tasks = p
            .tasks
            .or_else(|| defaults.tasks.clone())
            .unwrap_or_default();
        let tests = p
            .tests
            .or_else(|| defaults.tests.clone())
            .unwrap_or_default();
        let patterns = p
            .deprecated_patterns
            .or_else(|| defaults.deprecated_patterns.clone())
            .unwrap_or_default();
        projects.push(Project {
            name: p.name.unwrap_or_else(|| slug.clone()),
            dir_display,
            dir,
            logs: p
                .logs
                .or_else(|| defaults.logs.clone())
                .unwrap_or_else(|| DEFAULT_LOGS.iter().map(|s| (*s).to_owned()).collect()),
            deprecated_patterns: patterns.into_iter().map(|p| p.0).collect(),
            github: p.github,
            sentry: p.sentry,
            telegram_chat_id: p.telegram.map(|t| match t.chat_id {
                ChatId::Text(s) => s,
                ChatId::Number(n) => n.to_string(),
            }),
            test_command: p.test_command,
            autofix: Autofix {
                enabled: autofix.enabled,
                safe_paths: autofix.safe_paths.unwrap_or_default(),
                protected_paths: autofix.protected_paths.unwrap_or_default(),
                allow_test_command: autofix.allow_test_command.unwrap_or(false),
            },
            tests: Tests {
                junit: tests.junit.map(|s| s.0),
                single: tests.single.map(|s| s.0),
                flaky_reruns: tests.flaky_reruns.unwrap_or(DEFAULT_FLAKY_RERUNS),
                checks: tests.checks.unwrap_or_default(),
                timeout: std::time::Duration::from_secs(
                    tests
                        .timeout_secs
                        .unwrap_or(DEFAULT_TESTS_TIMEOUT_SECS)
                        .max(1),
                ),
            },
            tasks: Tasks {
                label_stale: tasks.label_stale.unwrap_or(false),
                close_stale_after_days: tasks.close_stale_after_days,
            },
            stale_issue_days: p
                .stale_issue_days
                .or(defaults.stale_issue_days)
                .unwrap_or(DEFAULT_STALE_ISSUE_DAYS),
            machines,
            sandbox: p.sandbox.or(defaults.sandbox).unwrap_or_default(),
            sandbox_network: p
                .sandbox_network
                .or(defaults.sandbox_network)
                .unwrap_or(false),
            keep_pii: p.publish.or(defaults.publish).map(|p| p.pii) == Some(Pii::Keep),
            unavailable,
            slug,
        });
    }
    if projects.is_empty() {
        warnings.push(format!(
            "`{}` lists no projects: there is nothing to do",
            path.display()
        ));
    }
    Ok(Config {
        path: path.to_owned(),
        projects,
        warnings,
        jobs,
    })
}

/// `~` and `~/...` expand to `HOME`; a relative path is relative to the root.
pub(crate) fn expand(raw: &str, root: &Path, env: &Env) -> PathBuf {
    let home = env.get("HOME").map(PathBuf::from);
    let path = match (raw.strip_prefix('~'), home) {
        (Some(""), Some(home)) => home,
        (Some(rest), Some(home)) if rest.starts_with('/') => {
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(raw),
    };
    if path.is_absolute() {
        path
    } else {
        root.join(path)
    }
}

/// The name `machines` is matched against: `DAYDREAM_MACHINE`, else the host name without its domain.
pub(crate) fn this_machine(env: &Env) -> String {
    if let Some(name) = env.get("DAYDREAM_MACHINE") {
        return name.to_owned();
    }
    let uname = rustix::system::uname();
    let host = uname.nodename().to_string_lossy();
    host.split('.').next().unwrap_or_default().to_owned()
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn explain(
    path: &Path,
    text: &str,
    err: &serde_path_to_error::Error<serde_json::Error>,
) -> ConfigError {
    let at = err.path().to_string();
    explain_json(path, text, err.inner(), if at == "." { "" } else { &at })
}

/// Turns `serde_json`'s message into what went wrong and how to fix it.
fn explain_json(path: &Path, text: &str, err: &serde_json::Error, at: &str) -> ConfigError {
    use serde_json::error::Category;
    let raw = err.to_string();
    // serde_json appends " at line L column C"; we print the position ourselves.
    let msg = raw
        .rsplit_once(" at line ")
        .map_or(raw.as_str(), |(m, _)| m)
        .to_owned();
    let (message, fix) = match err.classify() {
        Category::Syntax | Category::Eof => (
            format!("not valid JSON: {msg}"),
            "look just before that position for a missing `,`, `\"` or `}`, a trailing comma, or a comment (JSON has none)".to_owned(),
        ),
        Category::Io => (msg, "check the file".to_owned()),
        Category::Data => {
            if let Some(field) = msg.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
                let owner = if at.is_empty() { "the top level".to_owned() } else { format!("`{at}`") };
                let example = match field {
                    "working_directory" => "\"working_directory\": \"~/src/app\"".to_owned(),
                    "projects" => "\"projects\": { \"app\": { \"working_directory\": \"~/src/app\" } }".to_owned(),
                    other => format!("\"{other}\": ..."),
                };
                (format!("{owner} has no `{field}`"), format!("add `{example}` to {owner}"))
            } else if msg.contains("RawConfig") {
                (
                    "the top level must be an object with `projects`".to_owned(),
                    "write `{ \"projects\": { \"app\": { \"working_directory\": \"~/src/app\" } } }`".to_owned(),
                )
            } else if let Some(slug) = msg.strip_prefix("duplicate project `").and_then(|m| m.strip_suffix('`')) {
                (
                    format!("the project `{slug}` is defined twice (here and at line {})", locate(text, &format!("\"{slug}\"")).0),
                    format!("keep one `\"{slug}\"` entry in `projects`, or rename the other"),
                )
            } else {
                let expected = msg.rsplit_once("expected ").map(|(_, e)| e.to_owned());
                let key = if at.is_empty() { "the top level".to_owned() } else { format!("`{at}`") };
                let fix = match expected {
                    Some(e) => format!("make {key} {e}"),
                    None => format!("correct the value of {key}"),
                };
                (format!("{key}: {msg}"), fix)
            }
        }
    };
    ConfigError {
        path: path.to_owned(),
        line: err.line(),
        column: err.column(),
        message,
        fix,
    }
}

/// The projects map, refusing a key written twice (JSON allows it; the second would silently win).
fn unique_projects<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, RawProject>, D::Error> {
    struct Unique;
    impl<'de> serde::de::Visitor<'de> for Unique {
        type Value = BTreeMap<String, RawProject>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of projects")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut projects = BTreeMap::new();
            while let Some(slug) = map.next_key::<String>()? {
                if projects.contains_key(&slug) {
                    return Err(serde::de::Error::custom(format!(
                        "duplicate project `{slug}`"
                    )));
                }
                let project = map.next_value()?;
                projects.insert(slug, project);
            }
            Ok(projects)
        }
    }
    d.deserialize_map(Unique)
}

/// 1-based line and column of the first occurrence of `needle`, or (0, 0).
fn locate(text: &str, needle: &str) -> (usize, usize) {
    let Some(offset) = text.find(needle) else {
        return (0, 0);
    };
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

const KNOWN_KEYS: &[&str] = &[
    "defaults",
    "projects",
    "name",
    "working_directory",
    "github",
    "org",
    "repo",
    "logs",
    "sentry",
    "project",
    "telegram",
    "chat_id",
    "test_command",
    "autofix",
    "enabled",
    "safe_paths",
    "protected_paths",
    "machines",
    "deprecated_patterns",
    "tasks",
    "tests",
    "exclude_paths",
    "reviewers",
    "junit",
    "single",
    "flaky_reruns",
    "checks",
    "timeout_secs",
    "label_stale",
    "close_stale_after_days",
    "stale_issue_days",
    "jobs",
    "allow_test_command",
    "sandbox",
    "sandbox_network",
    "publish",
    "pii",
];

/// A known key close to the last segment of an unknown key path, for "did you mean".
fn suggest(path: &str) -> Option<&'static str> {
    let last = path.rsplit('.').next()?;
    KNOWN_KEYS
        .iter()
        .map(|k| (strsim::levenshtein(last, k), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len() / 2 + 1)
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        let env = Env::from_pairs([("HOME", "/home/u"), ("DAYDREAM_MACHINE", "studio")]);
        parse(
            text,
            Path::new("config/projects.json"),
            Path::new("/root"),
            &env,
        )
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let err = parse_str("{\n  \"projects\": {\n    \"a\": { \"working_directory\": \"/x\" }\n    \"b\": {}\n  }\n}").unwrap_err();
        assert_eq!((err.line, err.column), (4, 5));
        assert!(
            err.message
                .starts_with("not valid JSON: expected `,` or `}`"),
            "{}",
            err.message
        );
        assert!(
            err.to_string()
                .contains("fix: look just before that position")
        );
    }

    #[test]
    fn wrong_type_names_the_key_path() {
        let err = parse_str(
            "{\"projects\": {\"a\": {\"working_directory\": \"/x\",\n \"logs\": \"logs/*.log\"}}}",
        )
        .unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.message
                .contains("`projects.a.logs`: invalid type: string"),
            "{}",
            err.message
        );
        assert_eq!(err.fix, "make `projects.a.logs` a sequence");
    }

    #[test]
    fn missing_working_directory_says_what_to_add() {
        let err = parse_str("{\"projects\": {\n  \"app\": {\"name\": \"App\"}\n}}").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.message, "`projects.app` has no `working_directory`");
        assert!(err.fix.contains("\"working_directory\": \"~/src/app\""));
    }

    #[test]
    fn empty_working_directory_and_bad_regex_are_errors_with_position() {
        let err =
            parse_str("{\"projects\": {\"a\": {\"working_directory\": \"  \"}}}").unwrap_err();
        assert_eq!((err.line, err.column), (1, 46));
        let err = parse_str("{\"projects\": {\"a\": {\"working_directory\": \"/x\", \"deprecated_patterns\": [\"(\"]}}}").unwrap_err();
        assert!(
            err.message.contains("invalid regular expression `(`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn unknown_keys_are_warnings_with_suggestions() {
        let config = parse_str("{\"projects\": {\"a\": {\"working_directory\": \"/x\", \"sentri\": {}}}, \"colour\": 1}").unwrap();
        assert_eq!(config.projects.len(), 1);
        assert!(
            config
                .warnings
                .iter()
                .any(|w| w.contains("unknown key `projects.a.sentri`")
                    && w.contains("did you mean `sentry`")),
            "{:?}",
            config.warnings
        );
        assert!(
            config
                .warnings
                .iter()
                .any(|w| w.contains("unknown key `colour`")),
            "{:?}",
            config.warnings
        );
    }

    #[test]
    fn tilde_expands_and_missing_directories_are_unavailable() {
        let config =
            parse_str("{\"projects\": {\"a\": {\"working_directory\": \"~/nowhere/app\"}}}")
                .unwrap();
        let p = &config.projects[0];
        assert_eq!(p.dir, PathBuf::from("/home/u/nowhere/app"));
        assert_eq!(
            p.unavailable.as_deref(),
            Some("`~/nowhere/app` does not exist on this machine")
        );
        assert_eq!(p.logs, vec!["logs/*.log".to_owned()]);
        assert_eq!(
            expand("rel/dir", Path::new("/root"), &Env::default()),
            PathBuf::from("/root/rel/dir")
        );
    }

    #[test]
    fn machines_limit_where_a_project_runs() {
        let config = parse_str("{\"projects\": {\"a\": {\"working_directory\": \"/\", \"machines\": [\"mini\"]}, \"b\": {\"working_directory\": \"/\", \"machines\": [\"Studio\"]}}}").unwrap();
        assert_eq!(
            config.projects[0].unavailable.as_deref(),
            Some("runs only on `mini` (this machine is `studio`)")
        );
        assert_eq!(config.projects[1].unavailable, None);
    }

    #[test]
    fn the_example_config_is_valid_and_uses_only_known_keys() {
        let config = parse_str(include_str!("../config/projects.example.json")).unwrap();
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
        let p = &config.projects[0];
        assert_eq!(
            (p.slug.as_str(), p.name.as_str(), p.stale_issue_days),
            ("valor", "Valor", 90)
        );
        assert_eq!(p.telegram_chat_id.as_deref(), Some("-1001234567890"));
        assert_eq!(p.deprecated_patterns.len(), 1);
        assert_eq!(p.sandbox, crate::sandbox::Policy::Auto);
        assert!(!p.sandbox_network && !p.keep_pii);
    }

    #[test]
    fn sandbox_and_publish_settings_come_from_the_project_or_the_defaults() {
        let config = parse_str(
            r#"{"defaults": {"sandbox": "required", "publish": {"pii": "keep"}},
                "projects": {
                  "a": {"working_directory": "/a"},
                  "b": {"working_directory": "/b", "sandbox": "off", "sandbox_network": true,
                        "publish": {"pii": "mask"}}}}"#,
        )
        .unwrap();
        let (a, b) = (&config.projects[0], &config.projects[1]);
        assert_eq!(
            (a.sandbox, a.sandbox_network, a.keep_pii),
            (crate::sandbox::Policy::Required, false, true)
        );
        assert_eq!(
            (b.sandbox, b.sandbox_network, b.keep_pii),
            (crate::sandbox::Policy::Off, true, false)
        );
        let err =
            parse_str(r#"{"projects": {"a": {"working_directory": "/a", "sandbox": "maybe"}}}"#)
                .unwrap_err();
        assert!(err.to_string().contains("`projects.a.sandbox`"), "{err}");
        assert!(err.to_string().contains("`auto`, `required`"), "{err}");
    }

    #[test]
    fn bad_slugs_are_rejected() {
        let err =
            parse_str("{\"projects\": {\"../etc\": {\"working_directory\": \"/\"}}}").unwrap_err();
        assert_eq!((err.line, err.column), (1, 15));
    }
}
