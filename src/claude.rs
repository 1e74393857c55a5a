//! Claude Code through `claude --print --output-format json`: the call, its one result object, its cost, and
//! a failure kind for each way it can go wrong, with what the user can do about it.
//!
//! The prompt goes on stdin: `--allowedTools` takes several values and would swallow a positional prompt, and
//! stdin has no argv size limit. Every call is bounded three ways: `--max-budget-usd` (money), `--max-turns`
//! (agent steps) and the exec timeout (time). `--no-session-persistence` keeps nightly calls out of the
//! user's `claude --resume` list.
//!
//! A call failed when the result says `is_error`, when its `subtype` is not `success`, or when the exit code
//! is not 0: an API error ends with `"subtype": "success", "is_error": true` (Claude Code 2.1.328), so no
//! single signal is enough. And with `--json-schema`, a model that answers in prose twice ends as a plain
//! success without `structured_output`: that is a failure here too.
//!
//! Claude Code retries 401, 429, 500 and 529 answers itself for about three minutes (ten retries, backing
//! off from 0.5 s to about 35 s; `CLAUDE_CODE_MAX_RETRIES` changes the count) before it reports them, so a
//! timeout shorter than that turns a busy API into [`ClaudeError::TimedOut`]. A 400 ends within a second;
//! no credentials at all end at once, without a request.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::cancel::{Cancel, Interrupted};
use crate::env::Env;
use crate::exec::{Cmd, ExecError, Finished, Lookup};

/// A small model: reflection reads a bounded digest and answers in a fixed shape.
pub(crate) const DEFAULT_MODEL: &str = "claude-haiku-4-5";

/// Claude Code's own variables, passed to it from the environment or the root's `.env` when set: credentials,
/// the API's address, its config folder, its switches. With [`crate::sandbox::BASE_ENV`] (and `LC_*`) and
/// [`crate::sandbox::NETWORK_ENV`] they are the whole of its environment: no GitHub, Sentry, Telegram or Slack
/// token, no SSH agent, no `GIT_ASKPASS`.
const FORWARDED: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
    "ANTHROPIC_VERTEX_PROJECT_ID",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CONFIG_DIR",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
    "CLAUDE_CODE_SKIP_VERTEX_AUTH",
    "CLAUDE_CODE_MAX_OUTPUT_TOKENS",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
    "CLAUDE_CODE_API_KEY_HELPER_TTL_MS",
    "CLAUDE_CODE_MAX_RETRIES",
    "AWS_REGION",
    "AWS_PROFILE",
    "CLOUD_ML_REGION",
    "DISABLE_TELEMETRY",
    "NODE_EXTRA_CA_CERTS",
];

/// The file tools a fix may use: read, search and edit files of its worktree, nothing that runs anything.
pub(crate) const FILE_TOOLS: &[&str] = &["Read", "Edit", "Write", "Glob", "Grep"];

/// Characters of stdout quoted in an [`ClaudeError::Unparseable`] message.
const EXCERPT: usize = 300;
/// Characters of a result's message kept (stderr is already bounded by exec, to its end).
const MESSAGE_MAX: usize = 2000;

/// How daydream runs `claude`.
#[derive(Clone, Debug)]
pub(crate) struct Claude {
    bin: String,
    /// Changes to the child's environment in order: `Some` sets, `None` removes.
    env: Vec<(String, Option<String>)>,
    cancel: Cancel,
}

/// One call: the prompt and its bounds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request<'a> {
    pub(crate) prompt: &'a str,
    pub(crate) model: &'a str,
    /// `--max-budget-usd`: Claude Code stops once the call has cost this much (it may pass it by the price of
    /// the response that crossed it). Not positive: the call is not made and fails as [`ClaudeError::BudgetStop`].
    pub(crate) max_budget_usd: f64,
    pub(crate) max_turns: u32,
    /// `--json-schema`: the answer must be an object of this schema, returned in [`Reply::structured_output`].
    pub(crate) json_schema: Option<&'a Value>,
    /// What the model may do, and where.
    pub(crate) tools: Tools<'a>,
    pub(crate) timeout: Duration,
}

/// The tools of a call, which also decide its working directory. Every call is `--restricted` (no user,
/// project or local settings; file tools confined to the working directory) with an exact `--tools` list.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Tools<'a> {
    /// No tool at all (`--tools ""`), in an empty temporary directory: a question answered from the prompt
    /// alone, as reflection asks.
    None,
    /// The [`FILE_TOOLS`] in `dir`, and Bash for exactly the command `bash` when given (a bare name found in
    /// `bin`, which goes first on the child's `PATH`: Claude Code asks before running a path outside its
    /// working directory, and nobody is there to answer).
    Files {
        dir: &'a Path,
        bash: Option<&'a str>,
        bin: Option<&'a Path>,
    },
}

/// A call that succeeded.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// The final text (with `--json-schema`, the answer's JSON text).
    pub(crate) result: String,
    /// The answer when a schema was given; always `Some` then.
    pub(crate) structured_output: Option<Value>,
    pub(crate) total_cost_usd: f64,
    pub(crate) num_turns: u32,
    pub(crate) session_id: String,
    /// Tool uses that were refused because they were not allowed, as Claude Code reports them.
    pub(crate) permission_denials: Vec<Value>,
}

/// Why a call failed. Each message says what to do next.
#[derive(Debug)]
pub(crate) enum ClaudeError {
    /// The binary is not there.
    NotInstalled { bin: String },
    /// No usable credentials: no API key, no login, or a key the API refuses.
    NotLoggedIn { message: String },
    /// Claude Code stopped at `--max-budget-usd` (or no budget was left to start).
    BudgetStop { cost_usd: f64, cap_usd: f64 },
    /// Claude Code stopped at `--max-turns`; `turns` is that limit.
    MaxTurns { cost_usd: f64, turns: u32 },
    /// The API answered with an error (after Claude Code's own retries).
    Api {
        status: Option<u16>,
        message: String,
        cost_usd: f64,
    },
    /// The call ran past its timeout and its process group was ended.
    TimedOut { after: Duration },
    /// The output was not one JSON result object; `detail` quotes a bounded excerpt.
    Unparseable { detail: String },
    /// Any other failure: a non-zero exit, an error result of another kind, a missing structured answer.
    /// `cost_usd` is 0 when no result said what the call cost.
    Failed {
        code: Option<i32>,
        message: String,
        cost_usd: f64,
    },
    /// The run was asked to stop; `source()` is the [`Interrupted`].
    Interrupted(Interrupted),
}

impl ClaudeError {
    /// What the failed call still cost, when its result said so: money to put in the ledger. `None` when
    /// it is unknown (the call did not start, was killed, or printed no readable result).
    pub(crate) fn cost_usd(&self) -> Option<f64> {
        match self {
            ClaudeError::BudgetStop { cost_usd, .. }
            | ClaudeError::MaxTurns { cost_usd, .. }
            | ClaudeError::Api { cost_usd, .. } => Some(*cost_usd),
            ClaudeError::Failed { cost_usd, .. } if *cost_usd > 0.0 => Some(*cost_usd),
            _ => None,
        }
    }
}

impl fmt::Display for ClaudeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaudeError::NotInstalled { bin } => write!(
                f,
                "could not find `{bin}`: install Claude Code (`npm install -g @anthropic-ai/claude-code`) \
                 or set `DAYDREAM_CLAUDE` to its path"
            ),
            ClaudeError::NotLoggedIn { message } => write!(
                f,
                "`claude` is not logged in ({message}): run `claude` once and log in, or set \
                 `ANTHROPIC_API_KEY` (in the environment or the root's `.env`)"
            ),
            ClaudeError::BudgetStop { cost_usd, cap_usd } if *cost_usd == 0.0 => write!(
                f,
                "`claude` was not started: its budget is ${cap_usd:.2}; raise `DAYDREAM_BUDGET_USD` \
                 (or `DAYDREAM_AUTO_FIX_BUDGET_USD` for fixes) or wait for the next run"
            ),
            ClaudeError::BudgetStop { cost_usd, cap_usd } => write!(
                f,
                "`claude` stopped at its budget: it spent ${cost_usd:.4} of the ${cap_usd:.2} allowed for \
                 this call; raise `DAYDREAM_BUDGET_USD` (or `DAYDREAM_AUTO_FIX_BUDGET_USD` for fixes) or \
                 give it less to do"
            ),
            ClaudeError::MaxTurns { cost_usd, turns } => write!(
                f,
                "`claude` stopped at its limit of {turns} turns (having spent ${cost_usd:.4}): the task \
                 needs more steps than allowed; make it smaller or more specific"
            ),
            ClaudeError::Api {
                status,
                message,
                cost_usd: _,
            } => {
                write!(f, "`claude` got an error from the Anthropic API")?;
                if let Some(status) = status {
                    write!(f, " (HTTP {status})")?;
                }
                write!(f, ": {message}; ")?;
                f.write_str(match status {
                    Some(429 | 500..) | None => {
                        "the API is busy or failing: the next run tries again (https://status.anthropic.com)"
                    }
                    Some(_) => {
                        "the request was refused: check the model name and the account's access and credit"
                    }
                })
            }
            ClaudeError::TimedOut { after } => write!(
                f,
                "`claude` was stopped after {} s; raise the timeout or lower the work",
                after.as_secs_f64().round()
            ),
            ClaudeError::Unparseable { detail } => write!(
                f,
                "`claude` did not print one JSON result object ({detail}); check that `DAYDREAM_CLAUDE` \
                 is Claude Code (`claude --version`) and up to date"
            ),
            ClaudeError::Failed { code, message, .. } => {
                match code {
                    Some(code) => write!(f, "`claude` failed (exit code {code})")?,
                    None => write!(f, "`claude` failed")?,
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            // The `Interrupted` is the source: `{:#}` reads "`claude` was stopped: interrupted by SIGTERM".
            ClaudeError::Interrupted(_) => write!(f, "`claude` was stopped"),
        }
    }
}

impl std::error::Error for ClaudeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClaudeError::Interrupted(interrupted) => Some(interrupted),
            _ => None,
        }
    }
}

/// The result object, reduced to what daydream reads. `type`, `subtype`, `is_error` and `total_cost_usd`
/// are required: without them neither success nor cost can be told.
#[derive(Debug, Deserialize)]
struct RawResult {
    subtype: String,
    is_error: bool,
    total_cost_usd: f64,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    structured_output: Option<Value>,
    #[serde(default)]
    num_turns: u32,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    permission_denials: Option<Vec<Value>>,
    /// Messages of an error subtype, e.g. `["Reached maximum budget ($0.05)"]`.
    #[serde(default)]
    errors: Option<Vec<Value>>,
    #[serde(default)]
    api_error_status: Option<u16>,
    /// `completed`, `api_error`, `budget_exhausted`, `max_turns`, ...
    #[serde(default)]
    terminal_reason: Option<String>,
}

impl RawResult {
    /// What the result says went wrong: its text, else its `errors`; at most [`MESSAGE_MAX`] characters.
    fn message(&self) -> String {
        if let Some(text) = self.result.as_deref().map(str::trim)
            && !text.is_empty()
        {
            return bounded(text);
        }
        let errors = self
            .errors
            .iter()
            .flatten()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("; ");
        bounded(&errors)
    }
}

impl Claude {
    /// `DAYDREAM_CLAUDE` (default `claude`). The child's environment is built from an allow-list, never
    /// inherited: [`crate::sandbox::base_env`] and Claude Code's [`FORWARDED`] variables from `env` (which
    /// includes the root's `.env`), and `DISABLE_AUTOUPDATER=1` so that a nightly call never updates the
    /// user's install.
    pub(crate) fn new(env: &Env, cancel: Cancel) -> Claude {
        let mut vars: Vec<(String, Option<String>)> = crate::sandbox::base_env(env)
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect();
        vars.extend(
            [FORWARDED, crate::sandbox::NETWORK_ENV]
                .into_iter()
                .flat_map(|names| env.pick(names))
                .map(|(k, v)| (k, Some(v))),
        );
        vars.push(("DISABLE_AUTOUPDATER".to_owned(), Some("1".to_owned())));
        Claude {
            bin: env.get("DAYDREAM_CLAUDE").unwrap_or("claude").to_owned(),
            env: vars,
            cancel,
        }
    }

    /// Sets (over what [`Claude::new`] chose) variables of the child, such as a fake server's.
    #[cfg(test)]
    pub(crate) fn with_env(mut self, vars: &[(String, String)]) -> Claude {
        self.env
            .extend(vars.iter().map(|(k, v)| (k.clone(), Some(v.clone()))));
        self
    }

    /// Removes variables from the child's environment for every call.
    #[cfg(test)]
    pub(crate) fn without_env(mut self, names: &[&str]) -> Claude {
        self.env
            .extend(names.iter().map(|name| ((*name).to_owned(), None)));
        self
    }

    /// Runs one call to its end and reads its result.
    pub(crate) fn run(&self, request: &Request<'_>) -> Result<Reply, ClaudeError> {
        let cap = request.max_budget_usd;
        // NaN is not finite: refused too.
        if !cap.is_finite() || cap <= 0.0 {
            return Err(ClaudeError::BudgetStop {
                cost_usd: 0.0,
                cap_usd: request.max_budget_usd,
            });
        }
        // A call without tools still runs somewhere: an empty directory, never daydream's root (its `.env`).
        let empty = match request.tools {
            Tools::None => Some(
                tempfile::Builder::new()
                    .prefix("daydream-claude-")
                    .tempdir()
                    .map_err(|err| ClaudeError::Failed {
                        code: None,
                        message: format!("failed to make an empty working directory: {err}"),
                        cost_usd: 0.0,
                    })?,
            ),
            Tools::Files { .. } => None,
        };
        let cwd = match (&empty, request.tools) {
            (Some(dir), _) => dir.path(),
            (None, Tools::Files { dir, .. }) => dir,
            (None, Tools::None) => unreachable!("a call without tools has its empty directory"),
        };
        let cmd = self.command(request, cwd);
        tracing::debug!(
            model = request.model,
            max_budget_usd = request.max_budget_usd,
            max_turns = request.max_turns,
            prompt_bytes = request.prompt.len(),
            "{}",
            cmd.display()
        );
        let finished = cmd.run_any().map_err(|err| self.exec_error(err))?;
        let outcome = read_outcome(request, &finished);
        match &outcome {
            Ok(reply) => tracing::debug!(
                cost_usd = reply.total_cost_usd,
                turns = reply.num_turns,
                denials = reply.permission_denials.len(),
                "claude finished"
            ),
            Err(err) => tracing::debug!(cost_usd = ?err.cost_usd(), "claude failed: {err}"),
        }
        outcome
    }

    fn command(&self, request: &Request<'_>, cwd: &Path) -> Cmd {
        let mut args: Vec<String> = [
            "--print",
            "--output-format",
            "json",
            // No user, project or local settings (their permissions, hooks, MCP servers); file tools
            // confined to the working directory; no bypass of permissions.
            "--restricted",
            "--strict-mcp-config",
            "--no-session-persistence",
            // Anything that would ask for permission is refused, and the model is told so and goes on.
            "--permission-prompts",
            "none",
            "--model",
            request.model,
            "--max-budget-usd",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(request.max_budget_usd.to_string());
        args.push("--max-turns".to_owned());
        args.push(request.max_turns.to_string());
        if let Some(schema) = request.json_schema {
            args.push("--json-schema".to_owned());
            args.push(schema.to_string());
        }
        // `--tools` and `--allowedTools` are variadic: each takes the arguments up to the next option, so
        // `--tools` gets one comma-separated argument and `--allowedTools` comes last (the prompt is on stdin).
        args.push("--tools".to_owned());
        match request.tools {
            Tools::None => args.push(String::new()),
            Tools::Files { bash, .. } => {
                let mut tools = FILE_TOOLS.join(",");
                if bash.is_some() {
                    tools.push_str(",Bash");
                }
                args.push(tools);
                args.push("--allowedTools".to_owned());
                args.extend(FILE_TOOLS.iter().map(|t| (*t).to_owned()));
                if let Some(command) = bash {
                    args.push(format!("Bash({command})"));
                }
            }
        }
        let mut cmd = Cmd::new(&self.bin)
            .args(args)
            .stdin(request.prompt)
            .timeout(request.timeout)
            .cancel(&self.cancel)
            .cwd(cwd)
            .env_clear();
        for (name, value) in &self.env {
            cmd = match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        if let Tools::Files { bin: Some(bin), .. } = request.tools {
            let path = self
                .env
                .iter()
                .rev()
                .find(|(name, _)| name == "PATH")
                .and_then(|(_, value)| value.clone());
            let mut dirs = vec![bin.to_owned()];
            dirs.extend(path.iter().flat_map(std::env::split_paths));
            if let Ok(joined) = std::env::join_paths(dirs) {
                cmd = cmd.env("PATH", joined);
            }
        }
        cmd
    }

    fn exec_error(&self, err: ExecError) -> ClaudeError {
        match err {
            ExecError::Start {
                err: io,
                lookup: Lookup::Path { found: None, .. } | Lookup::File { exists: false, .. },
                ..
            } if io.kind() == std::io::ErrorKind::NotFound => ClaudeError::NotInstalled {
                bin: self.bin.clone(),
            },
            ExecError::TimedOut { after, .. } => ClaudeError::TimedOut { after },
            ExecError::Interrupted { interrupted, .. } => ClaudeError::Interrupted(interrupted),
            // Not executable, an interpreter missing, a working directory missing, supervision failed: exec's
            // message says which.
            other => ClaudeError::Failed {
                code: None,
                message: other.to_string(),
                cost_usd: 0.0,
            },
        }
    }
}

/// The reply, or the failure, that a finished `claude` process means.
fn read_outcome(request: &Request<'_>, done: &Finished) -> Result<Reply, ClaudeError> {
    let stderr = done.stderr_text();
    let raw = match parse_result(done) {
        Ok(raw) => raw,
        Err(detail) => {
            if done.code == Some(0) {
                return Err(ClaudeError::Unparseable { detail });
            }
            if looks_logged_out(&stderr) {
                return Err(ClaudeError::NotLoggedIn { message: stderr });
            }
            let message = match (done.code, done.signal) {
                (None, Some(signal)) if stderr.is_empty() => format!("killed by signal {signal}"),
                (None, Some(signal)) => format!("killed by signal {signal}: {stderr}"),
                _ if stderr.is_empty() => detail,
                _ => stderr,
            };
            return Err(ClaudeError::Failed {
                code: done.code,
                message,
                cost_usd: 0.0,
            });
        }
    };
    let cost_usd = raw.total_cost_usd;
    if raw.subtype == "success" && !raw.is_error && done.code == Some(0) {
        if request.json_schema.is_some() && raw.structured_output.is_none() {
            return Err(ClaudeError::Failed {
                code: done.code,
                message: format!(
                    "it finished without the structured answer asked for with `--json-schema`: {}",
                    raw.message()
                ),
                cost_usd,
            });
        }
        return Ok(Reply {
            result: raw.result.unwrap_or_default(),
            structured_output: raw.structured_output,
            total_cost_usd: cost_usd,
            num_turns: raw.num_turns,
            session_id: raw.session_id.unwrap_or_default(),
            permission_denials: raw.permission_denials.unwrap_or_default(),
        });
    }
    match raw.subtype.as_str() {
        "error_max_budget_usd" => {
            return Err(ClaudeError::BudgetStop {
                cost_usd,
                cap_usd: request.max_budget_usd,
            });
        }
        "error_max_turns" => {
            return Err(ClaudeError::MaxTurns {
                cost_usd,
                turns: request.max_turns,
            });
        }
        _ => {}
    }
    let message = raw.message();
    if raw.api_error_status == Some(401) || looks_logged_out(&message) || looks_logged_out(&stderr)
    {
        return Err(ClaudeError::NotLoggedIn {
            message: if message.is_empty() { stderr } else { message },
        });
    }
    if raw.api_error_status.is_some() || raw.terminal_reason.as_deref() == Some("api_error") {
        return Err(ClaudeError::Api {
            status: raw.api_error_status,
            message,
            cost_usd,
        });
    }
    let mut parts = Vec::new();
    if raw.subtype != "success" {
        parts.push(format!("`{}`", raw.subtype));
    } else if !raw.is_error {
        parts.push("the result says success but the exit code does not".to_owned());
    }
    if !message.is_empty() {
        parts.push(message);
    }
    if !stderr.is_empty() {
        parts.push(format!("stderr: {stderr}"));
    }
    Err(ClaudeError::Failed {
        code: done.code,
        message: parts.join(": "),
        cost_usd,
    })
}

/// The one result object of stdout, or why there is none (with an excerpt).
fn parse_result(done: &Finished) -> Result<RawResult, String> {
    if done.stdout_dropped > 0 {
        return Err(format!(
            "it printed {} MiB or more, more than is kept: {}",
            crate::exec::OUTPUT_CAP / (1024 * 1024),
            excerpt(&done.stdout)
        ));
    }
    let text = done.stdout.trim_ascii();
    if text.is_empty() {
        return Err("it printed nothing on stdout".to_owned());
    }
    let value: Value =
        serde_json::from_slice(text).map_err(|err| format!("{err}, in: {}", excerpt(text)))?;
    let kind = value.get("type").and_then(Value::as_str);
    if kind != Some("result") {
        let kind = match kind {
            Some(kind) => format!("`\"type\": \"{kind}\"`"),
            None if value.is_object() => "no `type`".to_owned(),
            None => "not an object".to_owned(),
        };
        return Err(format!(
            "expected `\"type\": \"result\"`, got {kind}: {}",
            excerpt(text)
        ));
    }
    serde_json::from_value(value).map_err(|err| {
        format!(
            "a result object that does not fit: {err}: {}",
            excerpt(text)
        )
    })
}

/// Whether a failure's text says that there are no usable credentials.
fn looks_logged_out(text: &str) -> bool {
    const SIGNS: &[&str] = &[
        "not logged in",
        "please run /login",
        "invalid api key",
        "invalid x-api-key",
        "authentication_error",
        "failed to authenticate",
        "oauth token has expired",
    ];
    let text = text.to_lowercase();
    SIGNS.iter().any(|sign| text.contains(sign))
}

/// The start of `bytes` as text, at most [`EXCERPT`] characters, saying how much was left out.
fn excerpt(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(EXCERPT * 4)];
    let text = String::from_utf8_lossy(head);
    let text = text.trim();
    match text.char_indices().nth(EXCERPT) {
        Some((cut, _)) => format!("`{}` ... ({} bytes in all)", &text[..cut], bytes.len()),
        None if head.len() < bytes.len() => {
            format!("`{text}` ... ({} bytes in all)", bytes.len())
        }
        None => format!("`{text}`"),
    }
}

/// `text` cut to [`MESSAGE_MAX`] characters.
fn bounded(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[path = "../tests/support/fake_anthropic.rs"]
mod fake_anthropic;

#[cfg(test)]
#[expect(
    clippy::float_cmp,
    reason = "costs printed by a fake are parsed back exactly"
)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    use std::time::Instant;

    use serde_json::json;

    use super::fake_anthropic::{self, FakeAnthropic, Reply as Fake};
    use super::*;

    const PINNED: &str = "2.1.328";

    /// The real Claude Code from `DAYDREAM_TEST_CLAUDE`. Without it the test is skipped on a developer's
    /// machine and fails in CI, where `.ci/run` installs it.
    fn real_claude() -> Option<PathBuf> {
        let path = std::env::var_os("DAYDREAM_TEST_CLAUDE").map(PathBuf::from);
        let usable = path.as_ref().is_some_and(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        });
        if usable {
            return path;
        }
        let why = match &path {
            Some(path) => format!(
                "`DAYDREAM_TEST_CLAUDE={}` is not an executable file",
                path.display()
            ),
            None => "`DAYDREAM_TEST_CLAUDE` is not set".to_owned(),
        };
        let how = format!(
            "`npm install --prefix <dir> @anthropic-ai/claude-code@{PINNED}` and set \
             `DAYDREAM_TEST_CLAUDE=<dir>/node_modules/.bin/claude`"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "the real `claude` is required in CI: {why}; {how}"
        );
        eprintln!("skipping: {why}; to run this test, {how}");
        None
    }

    /// The real `claude` against a fresh fake API, with its own HOME and working directory.
    struct Setup {
        fake: FakeAnthropic,
        claude: Claude,
        home: tempfile::TempDir,
        work: tempfile::TempDir,
    }

    impl Setup {
        /// The binary with Claude Code's own retries of a failed API call set to `count`.
        fn retrying(&self, count: u32) -> Claude {
            self.claude
                .clone()
                .with_env(&[("CLAUDE_CODE_MAX_RETRIES".to_owned(), count.to_string())])
        }
    }

    fn setup(script: Vec<Fake>) -> Option<Setup> {
        let bin = real_claude()?;
        let fake = FakeAnthropic::start(script);
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let path = std::env::var("PATH").unwrap();
        let env = Env::from_pairs([("DAYDREAM_CLAUDE", bin.to_str().unwrap()), ("PATH", &path)]);
        let claude = Claude::new(&env, Cancel::default())
            .with_env(&fake.env(home.path()))
            // What a developer's shell may have that would take the binary elsewhere.
            .without_env(&[
                "ANTHROPIC_AUTH_TOKEN",
                "ANTHROPIC_MODEL",
                "CLAUDE_CONFIG_DIR",
                "CLAUDE_CODE_OAUTH_TOKEN",
                "CLAUDE_CODE_USE_BEDROCK",
                "CLAUDE_CODE_USE_VERTEX",
            ]);
        Some(Setup {
            fake,
            claude,
            home,
            work,
        })
    }

    /// A setup whose model calls `Glob` for `pattern` on every turn, each response of that many tokens.
    fn looping(pattern: &str, input_tokens: u64, output_tokens: u64) -> Option<Setup> {
        let s = setup(Vec::new())?;
        s.fake
            .repeat(Fake::tool("Glob", json!({ "pattern": pattern })));
        s.fake.set_usage(input_tokens, output_tokens);
        Some(s)
    }

    /// A setup whose API answers every request with `status` and `message`.
    fn failing_api(status: u16, message: &str) -> Option<Setup> {
        let s = setup(Vec::new())?;
        s.fake.repeat(Fake::status(status, message));
        Some(s)
    }

    /// The model's call of the shell command `command`.
    fn bash(command: &str, description: &str) -> Fake {
        Fake::tool(
            "Bash",
            json!({ "command": command, "description": description }),
        )
    }

    fn request<'a>(prompt: &'a str, cwd: &'a Path) -> Request<'a> {
        Request {
            prompt,
            model: DEFAULT_MODEL,
            max_budget_usd: 1.0,
            max_turns: 10,
            json_schema: None,
            tools: Tools::Files {
                dir: cwd,
                bash: None,
                bin: None,
            },
            timeout: Duration::from_secs(120),
        }
    }

    /// A fake `claude`: a shell script that records its argv (one per line), stdin and environment next to
    /// itself, then runs `body`.
    struct Script {
        dir: tempfile::TempDir,
        claude: Claude,
    }

    impl Script {
        fn new(body: &str) -> Script {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("claude");
            std::fs::write(
                &path,
                format!(
                    "#!/bin/sh\nd=$(dirname \"$0\")\nprintf '%s\\n' \"$@\" > \"$d/argv\"\ncat > \"$d/stdin\"\nenv > \"$d/env\"\n{body}\n"
                ),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            let env = Env::from_pairs([
                ("DAYDREAM_CLAUDE", path.to_str().unwrap()),
                ("ANTHROPIC_API_KEY", "from-dotenv"),
                ("DAYDREAM_BUDGET_USD", "5"),
                ("GH_TOKEN", "ghp_secret"),
                ("SENTRY_AUTH_TOKEN", "sntrys_secret"),
                ("SSH_AUTH_SOCK", "/tmp/agent.sock"),
                ("GIT_ASKPASS", "/usr/bin/askpass"),
                ("PATH", "/usr/bin:/bin"),
                ("HOME", "/home/dev"),
            ]);
            Script {
                claude: Claude::new(&env, Cancel::default()),
                dir,
            }
        }

        /// A script that prints `stdout` and exits with `code`.
        fn printing(stdout: &str, code: i32) -> Script {
            let script = Script::new(&format!("cat \"$d/stdout\"; exit {code}"));
            std::fs::write(script.dir.path().join("stdout"), stdout).unwrap();
            script
        }

        fn run(&self) -> Result<Reply, ClaudeError> {
            let mut req = request("the prompt", self.dir.path());
            req.timeout = Duration::from_secs(30);
            self.claude.run(&req)
        }

        fn read(&self, name: &str) -> String {
            std::fs::read_to_string(self.dir.path().join(name)).unwrap()
        }
    }

    /// The exit code, message and cost of a [`ClaudeError::Failed`]; any other error fails the test.
    fn failed(err: &ClaudeError) -> (Option<i32>, &str, f64) {
        let ClaudeError::Failed {
            code,
            message,
            cost_usd,
        } = err
        else {
            panic!("{err:?}");
        };
        (*code, message, *cost_usd)
    }

    /// File tools in `dir` and the one command `bash`.
    fn files_and<'a>(dir: &'a Path, bash: &'a str) -> Tools<'a> {
        Tools::Files {
            dir,
            bash: Some(bash),
            bin: None,
        }
    }

    fn result_json(subtype: &str, is_error: bool, extra: &Value) -> String {
        let mut value = json!({
            "type": "result",
            "subtype": subtype,
            "is_error": is_error,
            "result": "the answer",
            "total_cost_usd": 0.0123,
            "num_turns": 2,
            "session_id": "6f1c1f56-0000-4000-8000-000000000000",
            "permission_denials": [],
        });
        value
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        value.to_string()
    }

    /// Pids of live processes whose environment has `HOME=<home>`: the `claude` of one test and its children.
    fn processes_with_home(home: &Path) -> Vec<u32> {
        let needle = format!("HOME={}", home.display());
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
                continue;
            };
            let zombie = std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('Z'))
            });
            if !zombie
                && environ
                    .split(|&b| b == 0)
                    .any(|var| var == needle.as_bytes())
            {
                pids.push(pid);
            }
        }
        pids
    }

    // ---- the real binary against the fake API ----

    #[test]
    fn a_json_schema_round_trip_returns_the_structured_answer_and_its_cost() {
        let answer = json!({ "reflections": [{ "category": "code_bug", "confidence": 0.9 }] });
        let Some(s) = setup(vec![Fake::tool("StructuredOutput", answer.clone())]) else {
            return;
        };
        s.fake.set_usage(2000, 300);
        let schema = json!({
            "type": "object",
            "properties": { "reflections": { "type": "array" } },
            "required": ["reflections"],
        });
        let mut req = request("reflect on PROMPT-7f3a", s.work.path());
        req.json_schema = Some(&schema);
        let reply = s.claude.run(&req).unwrap();
        assert_eq!(reply.structured_output, Some(answer));
        // Haiku 4.5 at $1 per million input and $5 per million output tokens: the binary's own arithmetic.
        assert!(
            (reply.total_cost_usd - (2000.0 * 1e-6 + 300.0 * 5e-6)).abs() < 1e-9,
            "{reply:?}"
        );
        assert!(!reply.session_id.is_empty());
        assert!(reply.permission_denials.is_empty());
        let requests = s.fake.requests();
        assert_eq!(requests.len(), 1, "{:?}", s.fake.seen());
        assert!(fake_anthropic::tool_names(&requests[0]).contains(&"StructuredOutput".to_owned()));
        assert!(fake_anthropic::user_text(&requests[0]).contains("reflect on PROMPT-7f3a"));
        assert_eq!(requests[0]["model"], DEFAULT_MODEL);
    }

    #[test]
    fn a_model_that_never_gives_the_structured_answer_fails_the_call() {
        // Claude Code asks once more, then reports success with no `structured_output` and exits 0.
        let Some(s) = setup(vec![
            Fake::Text("prose".to_owned()),
            Fake::Text("more prose".to_owned()),
        ]) else {
            return;
        };
        let schema = json!({ "type": "object", "required": ["x"] });
        let mut req = request("answer in JSON", s.work.path());
        req.json_schema = Some(&schema);
        let err = s.claude.run(&req).unwrap_err();
        let (code, message, cost_usd) = failed(&err);
        assert_eq!(code, Some(0));
        assert!(message.contains("`--json-schema`"), "{message}");
        assert!(cost_usd > 0.0);
        let requests = s.fake.requests();
        assert_eq!(requests.len(), 2);
        assert!(fake_anthropic::user_text(&requests[1]).contains("StructuredOutput"));
    }

    #[test]
    fn the_prompt_arrives_on_stdin_and_the_allowed_command_runs_in_the_working_directory() {
        let Some(s) = setup(vec![
            bash("touch made-by-bash", "touch"),
            Fake::Text("all done".to_owned()),
        ]) else {
            return;
        };
        // A prompt that starts like an option and follows the variadic `--allowedTools`.
        let prompt = "--help me with PROMPT-91c2";
        let mut req = request(prompt, s.work.path());
        req.tools = files_and(s.work.path(), "touch made-by-bash");
        let reply = s.claude.run(&req).unwrap();
        assert_eq!(reply.result, "all done");
        assert_eq!(reply.num_turns, 2, "{reply:?}");
        assert!(reply.permission_denials.is_empty(), "{reply:?}");
        assert!(s.work.path().join("made-by-bash").is_file());
        let requests = s.fake.requests();
        assert_eq!(requests.len(), 2);
        assert!(fake_anthropic::user_text(&requests[0]).contains(prompt));
        assert_eq!(s.fake.seen().len(), 2, "{:?}", s.fake.seen());
    }

    /// The scripted model tries to escape in every way a prompt injection would, with user settings that allow
    /// it all, then makes the real edit: only the edit happens, and the key never reaches the API.
    #[test]
    fn a_fix_agent_cannot_write_outside_read_home_or_run_commands_but_still_edits() {
        let outside = tempfile::tempdir().unwrap();
        let escape = outside.path().join("escaped.txt");
        let Some(s) = setup(Vec::new()) else {
            return;
        };
        let key_file = s.home.path().join(".ssh/id_ed25519");
        s.fake.script(vec![
            Fake::tool(
                "Write",
                json!({ "file_path": escape.to_str().unwrap(), "content": "out" }),
            ),
            Fake::tool("Read", json!({ "file_path": key_file.to_str().unwrap() })),
            bash("touch {cwd}/bash-ran", "run"),
            Fake::tool("Read", json!({ "file_path": "{cwd}/calc.sh" })),
            Fake::tool(
                "Edit",
                json!({ "file_path": "{cwd}/calc.sh", "old_string": "a - b", "new_string": "a + b" }),
            ),
            Fake::Text("fixed".to_owned()),
        ]);
        let key = "KEY-MATERIAL-5b1e9c";
        std::fs::create_dir_all(s.home.path().join(".ssh")).unwrap();
        std::fs::write(s.home.path().join(".ssh/id_ed25519"), key).unwrap();
        std::fs::create_dir_all(s.home.path().join(".claude")).unwrap();
        std::fs::write(
            s.home.path().join(".claude/settings.json"),
            json!({ "permissions": { "allow": ["Bash", "Read", "Write", "Edit"], "defaultMode": "bypassPermissions" } })
                .to_string(),
        )
        .unwrap();
        std::fs::write(
            s.work.path().join("calc.sh"),
            "add() { echo $((a - b)); }\n",
        )
        .unwrap();
        let reply = s.claude.run(&request("fix add()", s.work.path())).unwrap();
        assert_eq!(reply.result, "fixed");
        assert!(
            !escape.exists(),
            "a file was written outside the working directory"
        );
        assert!(!s.work.path().join("bash-ran").exists(), "a command ran");
        assert_eq!(
            std::fs::read_to_string(s.work.path().join("calc.sh")).unwrap(),
            "add() { echo $((a + b)); }\n"
        );
        let requests = s.fake.requests();
        assert_eq!(requests.len(), 6);
        for body in &requests {
            assert!(!body.to_string().contains(key), "the key reached the API");
            let tools = fake_anthropic::tool_names(body);
            assert_eq!(
                tools,
                ["Edit", "Glob", "Grep", "Read", "Write"],
                "{tools:?}"
            );
        }
        // Each refusal went back to the model as a tool error, and the model went on.
        for (i, sign) in [(1, "outside"), (2, "outside"), (3, "Bash")] {
            let text = fake_anthropic::user_text(&requests[i]);
            assert!(text.contains(sign), "request {i}: {text}");
        }
    }

    #[test]
    fn a_call_without_tools_offers_the_model_nothing_that_reads_writes_or_runs() {
        let Some(s) = setup(vec![Fake::tool("StructuredOutput", json!({ "ok": true }))]) else {
            return;
        };
        let schema = json!({
            "type": "object",
            "properties": { "ok": { "type": "boolean" } },
            "required": ["ok"]
        });
        let mut req = request("reflect", s.work.path());
        req.json_schema = Some(&schema);
        req.tools = Tools::None;
        let reply = s.claude.run(&req).unwrap();
        assert_eq!(reply.structured_output, Some(json!({ "ok": true })));
        let requests = s.fake.requests();
        assert_eq!(
            fake_anthropic::tool_names(&requests[0]),
            ["StructuredOutput"]
        );
    }

    #[test]
    fn a_command_other_than_the_allowed_one_is_refused_and_reported() {
        let Some(s) = setup(vec![
            bash("touch forbidden", "touch"),
            Fake::Text("could not".to_owned()),
        ]) else {
            return;
        };
        let mut req = request("try it", s.work.path());
        req.tools = files_and(s.work.path(), "sh test.sh");
        let reply = s.claude.run(&req).unwrap();
        assert!(!s.work.path().join("forbidden").exists());
        assert_eq!(reply.permission_denials.len(), 1, "{reply:?}");
        assert_eq!(reply.permission_denials[0]["tool_name"], "Bash");
        assert_eq!(reply.result, "could not");
    }

    #[test]
    fn a_looping_agent_is_stopped_by_its_budget() {
        // $0.015 a response: over $0.05 on the fourth.
        let Some(s) = looping("**/*.nothing", 10_000, 1_000) else {
            return;
        };
        let mut req = request("loop", s.work.path());
        req.max_budget_usd = 0.05;
        req.max_turns = 50;
        let err = s.claude.run(&req).unwrap_err();
        let ClaudeError::BudgetStop { cost_usd, cap_usd } = err else {
            panic!("{err:?}");
        };
        assert_eq!(err.cost_usd(), Some(cost_usd));
        assert_eq!(cap_usd, 0.05);
        assert!(cost_usd >= 0.05, "{cost_usd}");
        assert!(cost_usd < 0.05 + 0.0151, "{cost_usd}");
        let requests = s.fake.requests();
        assert_eq!(requests.len(), 4);
        // The tool really ran between the calls.
        assert!(fake_anthropic::user_text(&requests[1]).contains("No files found"));
        assert!(
            err.to_string()
                .starts_with("`claude` stopped at its budget: it spent $0.06"),
            "{err}"
        );
    }

    #[test]
    fn a_looping_agent_is_stopped_by_its_turns() {
        let Some(s) = looping("*.nothing", 10, 10) else {
            return;
        };
        let mut req = request("loop", s.work.path());
        req.max_turns = 2;
        let err = s.claude.run(&req).unwrap_err();
        let ClaudeError::MaxTurns { cost_usd, turns } = err else {
            panic!("{err:?}");
        };
        assert_eq!(turns, 2);
        assert!(cost_usd > 0.0);
        assert_eq!(s.fake.requests().len(), 2);
    }

    #[test]
    fn an_api_error_fails_the_call_although_the_subtype_says_success() {
        let Some(s) = failing_api(400, "model: claude-nonexistent is not a model") else {
            return;
        };
        let started = Instant::now();
        let err = s.claude.run(&request("hello", s.work.path())).unwrap_err();
        let ClaudeError::Api {
            status, message, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*status, Some(400));
        assert!(
            message.contains("claude-nonexistent is not a model"),
            "{message}"
        );
        assert_eq!(err.cost_usd(), Some(0.0));
        assert!(err.to_string().contains("check the model name"), "{err}");
        // A 400 is not retried for long (a 429, 500 or 529 is, for about three minutes).
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_rate_limit_is_an_api_error_once_claude_code_stops_retrying() {
        let Some(s) = failing_api(429, "slow down") else {
            return;
        };
        // Claude Code retries a 429 for about three minutes by default; no retry here.
        let claude = s.retrying(0);
        let err = claude.run(&request("hello", s.work.path())).unwrap_err();
        assert!(
            matches!(&err, ClaudeError::Api { status: Some(429), message, .. } if message.contains("slow down")),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("the next run tries again"),
            "{err}"
        );
        assert_eq!(s.fake.requests().len(), 1);
    }

    #[test]
    fn a_passing_api_error_is_retried_by_claude_code() {
        let Some(s) = setup(vec![
            Fake::status(529, "overloaded"),
            Fake::Text("fine now".to_owned()),
        ]) else {
            return;
        };
        let claude = s.retrying(1);
        let reply = claude.run(&request("hello", s.work.path())).unwrap();
        assert_eq!(reply.result, "fine now");
        assert_eq!(s.fake.requests().len(), 2);
    }

    #[test]
    fn a_key_the_api_refuses_says_how_to_log_in() {
        let Some(s) = failing_api(401, "invalid x-api-key") else {
            return;
        };
        let claude = s.retrying(0);
        let err = claude.run(&request("hello", s.work.path())).unwrap_err();
        let ClaudeError::NotLoggedIn { message } = &err else {
            panic!("{err:?}");
        };
        assert!(message.contains("Invalid API key"), "{message}");
    }

    #[test]
    fn without_credentials_it_says_how_to_log_in() {
        let Some(s) = setup(Vec::new()) else {
            return;
        };
        let claude = s.claude.clone().without_env(&["ANTHROPIC_API_KEY"]);
        let err = claude.run(&request("hello", s.work.path())).unwrap_err();
        let ClaudeError::NotLoggedIn { message } = &err else {
            panic!("{err:?}");
        };
        assert!(message.contains("/login"), "{message}");
        assert!(err.to_string().contains("set `ANTHROPIC_API_KEY`"), "{err}");
        assert!(s.fake.requests().is_empty());
    }

    #[test]
    fn a_server_that_never_answers_times_out_and_leaves_no_process() {
        let Some(s) = setup(vec![Fake::Hang]) else {
            return;
        };
        let timeout = Duration::from_secs(5);
        let mut req = request("hello", s.work.path());
        req.timeout = timeout;
        let started = Instant::now();
        let err = std::thread::scope(|scope| {
            let call = scope.spawn(|| s.claude.run(&req));
            // The check below can see the process: it is there while the call runs.
            let mut seen = false;
            while !call.is_finished() && !seen {
                seen = !processes_with_home(s.home.path()).is_empty();
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(seen, "the running `claude` was never found in /proc");
            call.join().unwrap().unwrap_err()
        });
        let elapsed = started.elapsed();
        assert!(
            matches!(err, ClaudeError::TimedOut { after } if after == timeout),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "`claude` was stopped after 5 s; raise the timeout or lower the work"
        );
        // It honoured SIGTERM rather than waiting out the grace.
        assert!(elapsed < timeout + Duration::from_secs(8), "{elapsed:?}");
        assert!(!s.fake.requests().is_empty());
        assert_eq!(processes_with_home(s.home.path()), Vec::<u32>::new());
    }

    // ---- a fake `claude` for what the real one does not do on demand ----

    #[test]
    fn argv_env_and_stdin_are_what_the_contract_says() {
        let script = Script::printing(
            &result_json(
                "success",
                false,
                &json!({ "structured_output": { "a": 1 } }),
            ),
            0,
        );
        let schema = json!({ "type": "object" });
        let mut req = request("the prompt\nwith 'quotes' and --flags", script.dir.path());
        req.max_budget_usd = 0.25;
        req.max_turns = 7;
        req.model = "claude-sonnet-4-5";
        req.json_schema = Some(&schema);
        req.tools = files_and(script.dir.path(), "pytest -q");
        let reply = script.claude.run(&req).unwrap();
        assert_eq!(reply.result, "the answer");
        assert_eq!(reply.structured_output, Some(json!({ "a": 1 })));
        assert_eq!(reply.total_cost_usd, 0.0123);
        assert_eq!(reply.num_turns, 2);
        assert_eq!(
            script.read("argv").lines().collect::<Vec<_>>(),
            [
                "--print",
                "--output-format",
                "json",
                "--restricted",
                "--strict-mcp-config",
                "--no-session-persistence",
                "--permission-prompts",
                "none",
                "--model",
                "claude-sonnet-4-5",
                "--max-budget-usd",
                "0.25",
                "--max-turns",
                "7",
                "--json-schema",
                r#"{"type":"object"}"#,
                "--tools",
                "Read,Edit,Write,Glob,Grep,Bash",
                "--allowedTools",
                "Read",
                "Edit",
                "Write",
                "Glob",
                "Grep",
                "Bash(pytest -q)",
            ]
        );
        assert_eq!(script.read("stdin"), req.prompt);
        let env = script.read("env");
        let mut names: Vec<&str> = env
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .collect();
        names.sort_unstable();
        // Exactly the allow-list: `sh` adds `PWD` (and may add `SHLVL` and `_`) on its own.
        names.retain(|n| !matches!(*n, "PWD" | "SHLVL" | "_"));
        assert_eq!(
            names,
            ["ANTHROPIC_API_KEY", "DISABLE_AUTOUPDATER", "HOME", "PATH"],
            "{env}"
        );
        assert!(env.contains("ANTHROPIC_API_KEY=from-dotenv"), "{env}");
    }

    #[test]
    fn a_call_without_tools_says_so_and_runs_in_an_empty_directory() {
        let script = Script::new(&format!(
            "ls -A > \"$d/listing\"; pwd > \"$d/pwd\"; printf '%s' '{}'",
            result_json("success", false, &json!({}))
        ));
        let mut req = request("p", script.dir.path());
        req.tools = Tools::None;
        script.claude.run(&req).unwrap();
        let argv = script.read("argv");
        let argv: Vec<&str> = argv.lines().collect();
        let at = argv.iter().position(|a| *a == "--tools").unwrap();
        assert_eq!(argv[at + 1], "", "{argv:?}");
        assert!(!argv.contains(&"--allowedTools"), "{argv:?}");
        assert_eq!(script.read("listing"), "");
        let pwd = script.read("pwd");
        assert!(pwd.contains("daydream-claude-"), "{pwd}");
        assert!(
            !Path::new(pwd.trim()).exists(),
            "the empty directory is removed"
        );
    }

    #[test]
    fn garbage_on_stdout_is_unparseable_with_an_excerpt() {
        let err = Script::printing("Welcome to Claude Code!\nSomething else", 0)
            .run()
            .unwrap_err();
        let ClaudeError::Unparseable { detail } = &err else {
            panic!("{err:?}");
        };
        assert!(detail.contains("`Welcome to Claude Code!"), "{detail}");
        assert!(err.to_string().contains("`claude --version`"), "{err}");
        assert_eq!(err.cost_usd(), None);

        let err = Script::printing("", 0).run().unwrap_err();
        assert!(
            matches!(&err, ClaudeError::Unparseable { detail } if detail.contains("printed nothing")),
            "{err:?}"
        );
    }

    #[test]
    fn an_object_that_is_not_a_result_is_unparseable() {
        let err = Script::printing(r#"{"type":"system","subtype":"init"}"#, 0)
            .run()
            .unwrap_err();
        let ClaudeError::Unparseable { detail } = &err else {
            panic!("{err:?}");
        };
        assert!(detail.contains(r#"got `"type": "system"`"#), "{detail}");

        // A stream of objects (`--output-format stream-json`) is not one object either.
        let two = format!(
            "{}\n{}",
            r#"{"type":"system"}"#,
            result_json("success", false, &json!({}))
        );
        let err = Script::printing(&two, 0).run().unwrap_err();
        assert!(matches!(err, ClaudeError::Unparseable { .. }), "{err:?}");

        // A result without its cost cannot be accounted for.
        let err = Script::printing(
            r#"{"type":"result","subtype":"success","is_error":false}"#,
            0,
        )
        .run()
        .unwrap_err();
        let ClaudeError::Unparseable { detail } = &err else {
            panic!("{err:?}");
        };
        assert!(detail.contains("total_cost_usd"), "{detail}");
    }

    #[test]
    fn is_error_with_subtype_success_is_a_failure() {
        let out = result_json("success", true, &json!({ "result": "something broke" }));
        let err = Script::printing(&out, 0).run().unwrap_err();
        let (code, message, cost_usd) = failed(&err);
        assert_eq!(code, Some(0));
        assert!(message.contains("something broke"), "{message}");
        assert_eq!(cost_usd, 0.0123);
        assert_eq!(err.cost_usd(), Some(0.0123));

        // And an exit code that is not 0 fails a result that says success.
        let out = result_json("success", false, &json!({}));
        let err = Script::printing(&out, 3).run().unwrap_err();
        assert!(
            matches!(&err, ClaudeError::Failed { code: Some(3), message, .. } if message.contains("exit code does not")),
            "{err:?}"
        );

        // An API error that exits 0 is still an API error.
        let out = result_json(
            "success",
            true,
            &json!({ "result": "API Error: 529 Overloaded", "api_error_status": 529, "terminal_reason": "api_error", "total_cost_usd": 0 }),
        );
        let err = Script::printing(&out, 0).run().unwrap_err();
        assert!(
            matches!(
                &err,
                ClaudeError::Api {
                    status: Some(529),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("the API is busy"), "{err}");
    }

    #[test]
    fn an_exit_with_stderr_and_no_result_is_failed_with_the_stderr_tail() {
        let mut body = String::from(
            "i=0; while [ $i -lt 400 ]; do echo \"line $i of noise\" >&2; i=$((i+1)); done; ",
        );
        body.push_str("echo 'Error: the config file is broken' >&2; exit 1");
        let err = Script::new(&body).run().unwrap_err();
        let (code, message, cost_usd) = failed(&err);
        assert_eq!(code, Some(1));
        assert!(
            message.ends_with("Error: the config file is broken"),
            "{message}"
        );
        assert!(message.len() < 2100, "{}", message.len());
        assert!(!message.contains("line 0 of noise"));
        assert_eq!(cost_usd, 0.0);
        assert_eq!(err.cost_usd(), None);
        assert!(
            err.to_string()
                .starts_with("`claude` failed (exit code 1): ..."),
            "{err}"
        );
    }

    #[test]
    fn huge_output_is_unparseable_and_kept_bounded() {
        // 20 MB of one JSON string: more than exec keeps.
        let script = Script::new(
            r#"printf '{"type":"result","result":"'; head -c 20000000 /dev/zero | tr '\0' 'x'; printf '"}'"#,
        );
        let err = script.run().unwrap_err();
        let ClaudeError::Unparseable { detail } = &err else {
            panic!("{err:?}");
        };
        assert!(detail.contains("more than is kept"), "{detail}");
        assert!(detail.len() < 1000, "{}", detail.len());
    }

    #[test]
    fn a_missing_binary_says_how_to_install_it() {
        for bin in ["/nonexistent/claude", "daydream-no-such-claude"] {
            let env = Env::from_pairs([("DAYDREAM_CLAUDE", bin)]);
            let dir = tempfile::tempdir().unwrap();
            let err = Claude::new(&env, Cancel::default())
                .run(&request("hello", dir.path()))
                .unwrap_err();
            assert!(
                matches!(&err, ClaudeError::NotInstalled { bin: b } if b == bin),
                "{err:?}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "could not find `{bin}`: install Claude Code (`npm install -g @anthropic-ai/claude-code`) or set `DAYDREAM_CLAUDE` to its path"
                )
            );
        }
    }

    #[test]
    fn a_logged_out_result_says_how_to_log_in() {
        let out = result_json(
            "success",
            true,
            &json!({ "result": "Invalid API key · Please run /login", "total_cost_usd": 0 }),
        );
        let err = Script::printing(&out, 1).run().unwrap_err();
        assert!(
            matches!(&err, ClaudeError::NotLoggedIn { message } if message == "Invalid API key · Please run /login"),
            "{err:?}"
        );
        // Said on stderr only, with no result at all.
        let err = Script::new("echo 'Not logged in. Please run /login' >&2; exit 1")
            .run()
            .unwrap_err();
        assert!(matches!(err, ClaudeError::NotLoggedIn { .. }), "{err:?}");
        // An API 401.
        let out = result_json(
            "success",
            true,
            &json!({ "result": "Failed to authenticate. API Error: 401 invalid", "api_error_status": 401 }),
        );
        let err = Script::printing(&out, 1).run().unwrap_err();
        assert!(matches!(err, ClaudeError::NotLoggedIn { .. }), "{err:?}");
    }

    #[test]
    fn budget_and_turn_stops_from_the_result() {
        let out = result_json(
            "error_max_budget_usd",
            true,
            &json!({ "result": null, "errors": ["Reached maximum budget ($1)"], "total_cost_usd": 1.002 }),
        );
        let err = Script::printing(&out, 1).run().unwrap_err();
        assert!(
            matches!(err, ClaudeError::BudgetStop { cost_usd, cap_usd } if cost_usd == 1.002 && cap_usd == 1.0),
            "{err:?}"
        );
        let out = result_json(
            "error_max_turns",
            true,
            &json!({ "result": null, "num_turns": 11 }),
        );
        let err = Script::printing(&out, 1).run().unwrap_err();
        assert!(
            matches!(err, ClaudeError::MaxTurns { cost_usd, turns: 10 } if cost_usd == 0.0123),
            "{err:?}"
        );
        // Another error subtype is a failure that names it.
        let out = result_json(
            "error_during_execution",
            true,
            &json!({ "result": null, "errors": ["tool crashed"] }),
        );
        let err = Script::printing(&out, 1).run().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`claude` failed (exit code 1): `error_during_execution`: tool crashed"
        );
    }

    #[test]
    fn a_missing_structured_answer_is_a_failure() {
        let script = Script::printing(&result_json("success", false, &json!({})), 0);
        let schema = json!({ "type": "object" });
        let mut req = request("p", script.dir.path());
        req.json_schema = Some(&schema);
        let err = script.claude.run(&req).unwrap_err();
        assert!(
            matches!(&err, ClaudeError::Failed { message, .. } if message.contains("--json-schema")),
            "{err:?}"
        );
    }

    #[test]
    fn no_budget_left_starts_nothing() {
        let script = Script::printing(&result_json("success", false, &json!({})), 0);
        for cap in [0.0, -1.0, f64::NAN] {
            let mut req = request("p", script.dir.path());
            req.max_budget_usd = cap;
            let err = script.claude.run(&req).unwrap_err();
            assert!(
                matches!(err, ClaudeError::BudgetStop { cost_usd, .. } if cost_usd == 0.0),
                "{err:?}"
            );
        }
        assert!(!script.dir.path().join("argv").exists());
    }

    #[test]
    fn cancellation_surfaces_as_interrupted() {
        let script = Script::new("sleep 30");
        let cancel = Cancel::default();
        let env = Env::from_pairs([(
            "DAYDREAM_CLAUDE",
            script.dir.path().join("claude").to_str().unwrap(),
        )]);
        let claude = Claude::new(&env, cancel.clone());
        let trigger = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.trigger(15);
        });
        let started = Instant::now();
        let err = claude.run(&request("p", script.dir.path())).unwrap_err();
        trigger.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            matches!(err, ClaudeError::Interrupted(Interrupted(15))),
            "{err:?}"
        );
        let err = anyhow::Error::from(err);
        assert!(err.chain().any(<dyn std::error::Error>::is::<Interrupted>));
        assert_eq!(
            format!("{err:#}"),
            "`claude` was stopped: interrupted by SIGTERM"
        );
    }
}
