//! GitHub through `gh api` REST calls: issues, comments, labels, and the JSON they return.
//!
//! Always the explicit `repos/{org}/{repo}` (never the working directory's repo, and `GH_REPO` is removed),
//! bodies as JSON on stdin (`--input -`) so no text reaches argv but the endpoint path, `--paginate` for
//! lists. gh 2.23 has no `--slurp`: a paginated call prints one JSON array per page back to back.
//! Rate limits are retried with a doubling backoff a bounded number of times; every other failure is
//! returned at once for the unit to report.

use std::fmt::{self, Write as _};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use crate::cancel::Cancel;
use crate::config::GitHub;
use crate::env::Env;
use crate::exec::{Cmd, ExecError};

/// Limit for one call that returns one object.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Limit for a paginated call, all pages together.
const LIST_TIMEOUT: Duration = Duration::from_secs(300);
/// Retries after a rate-limited answer (so at most `RETRIES + 1` attempts).
const RETRIES: u32 = 3;
const DEFAULT_BACKOFF_MS: u64 = 2000;

/// Variables gh reads that may come from the root's `.env` rather than the process environment.
/// (The child inherits the process environment anyway; this forwards what only `.env` has.)
const FORWARDED: &[&str] = &[
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "GH_HOST",
    "GH_CONFIG_DIR",
    "GH_PATH",
];

/// How daydream runs `gh`.
#[derive(Clone, Debug)]
pub(crate) struct Gh {
    bin: String,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    cancel: Cancel,
    env: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IssueState {
    Open,
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "auto-fix reads closed issues and PRs and their authors (issue 5)"
        )
    )]
    Closed,
    All,
}

impl IssueState {
    fn as_str(self) -> &'static str {
        match self {
            IssueState::Open => "open",
            IssueState::Closed => "closed",
            IssueState::All => "all",
        }
    }
}

/// An issue as the REST API returns it, reduced to what daydream reads.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Issue {
    pub(crate) number: u64,
    pub(crate) title: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub(crate) body: String,
    pub(crate) state: String,
    pub(crate) html_url: String,
    pub(crate) updated_at: DateTime<Utc>,
    /// Label names.
    #[serde(default, deserialize_with = "label_names")]
    pub(crate) labels: Vec<String>,
    /// `user.login`; `None` when GitHub sends no user.
    #[serde(default, rename = "user", deserialize_with = "login")]
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "auto-fix reads closed issues and PRs and their authors (issue 5)"
        )
    )]
    pub(crate) author: Option<String>,
}

/// A pull request, reduced to what auto-fix reads.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Pull {
    pub(crate) number: u64,
    pub(crate) state: String,
    pub(crate) html_url: String,
    /// When it was merged; `None` while open or when closed without merging.
    #[serde(default)]
    pub(crate) merged_at: Option<DateTime<Utc>>,
    /// The branch it is from.
    #[serde(default, deserialize_with = "head_ref")]
    pub(crate) head: String,
}

/// `head.ref` of a pull request.
fn head_ref<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "ref")]
        name: String,
    }
    Ok(Option::<Head>::deserialize(d)?
        .map(|h| h.name)
        .unwrap_or_default())
}

/// A PATCH of an issue; `None` fields are left as they are.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct IssueEdit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<String>,
    /// `"open"` or `"closed"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<&'static str>,
    /// `"completed"`, `"not_planned"` or `"reopened"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) state_reason: Option<&'static str>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn label_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Label {
        name: String,
    }
    Ok(Option::<Vec<Label>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.name)
        .collect())
}

fn login<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct User {
        login: String,
    }
    Ok(Option::<User>::deserialize(d)?.map(|u| u.login))
}

/// Why a `gh api` call failed.
#[derive(Debug)]
pub(crate) enum GhError {
    /// The gh binary is not there.
    NotFound { bin: String },
    /// Still rate limited after the retries.
    RateLimited {
        endpoint: String,
        attempts: u32,
        message: String,
    },
    /// gh ran and reported a failure: an HTTP status when it printed one (`gh: Not Found (HTTP 404)`),
    /// otherwise `None` (no connection, no auth, a body that was not JSON).
    Http {
        endpoint: String,
        status: Option<u16>,
        message: String,
    },
    /// gh could not be run to completion: timed out, killed, not executable, or stopped by a signal
    /// (`ExecError::Interrupted`, also while waiting to retry; its source is the [`Interrupted`]).
    Exec(ExecError),
    /// gh succeeded but printed something that is not the JSON expected.
    Parse(String),
}

impl GhError {
    /// The HTTP status gh reported, if any.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            GhError::Http { status, .. } => *status,
            _ => None,
        }
    }
}

impl fmt::Display for GhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GhError::NotFound { bin } => write!(
                f,
                "could not find `{bin}`: install gh (https://cli.github.com, e.g. `apt-get install gh` or `brew install gh`) or set `DAYDREAM_GH` to its path"
            ),
            GhError::RateLimited {
                endpoint,
                attempts,
                message,
            } => write!(
                f,
                "`gh api {endpoint}` failed: rate limited after {attempts} attempts: {message}"
            ),
            GhError::Http {
                endpoint,
                status: Some(status),
                message,
            } => write!(f, "`gh api {endpoint}` failed: HTTP {status}: {message}"),
            GhError::Http {
                endpoint,
                status: None,
                message,
            } => write!(f, "`gh api {endpoint}` failed: {message}"),
            GhError::Exec(err) => err.fmt(f),
            GhError::Parse(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for GhError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GhError::Exec(err) => Some(err),
            _ => None,
        }
    }
}

/// One REST call: its method, endpoint and JSON input.
struct Call<'a> {
    method: &'static str,
    endpoint: String,
    input: Option<&'a Value>,
    paginate: bool,
}

impl<'a> Call<'a> {
    /// A request of one page.
    fn one(method: &'static str, endpoint: String, input: Option<&'a Value>) -> Self {
        Call {
            method,
            endpoint,
            input,
            paginate: false,
        }
    }

    /// A GET of every page.
    fn pages(endpoint: String) -> Self {
        Call {
            method: "GET",
            endpoint,
            input: None,
            paginate: true,
        }
    }

    /// What follows `gh api` in messages.
    fn display(&self) -> String {
        if self.method == "GET" {
            self.endpoint.clone()
        } else {
            format!("--method {} {}", self.method, self.endpoint)
        }
    }
}

impl Gh {
    /// `DAYDREAM_GH` (default `gh`); passes gh's variables (tokens, host, config dir) and the proxy variables
    /// from `env` (which includes the root's `.env`) to the child; removes `GH_REPO`; sets
    /// `GH_PROMPT_DISABLED=1`, `NO_COLOR=1`. `DAYDREAM_GH_BACKOFF_MS` (a test knob, default 2000) is the
    /// first backoff after a rate limit.
    pub(crate) fn new(env: &Env, cancel: Cancel) -> Gh {
        let backoff_ms = env
            .parse_or("DAYDREAM_GH_BACKOFF_MS", DEFAULT_BACKOFF_MS)
            .unwrap_or_else(|err| {
                tracing::warn!("{err}; using {DEFAULT_BACKOFF_MS}");
                DEFAULT_BACKOFF_MS
            });
        let mut vars = env.pick(FORWARDED);
        vars.extend(env.pick(crate::sandbox::NETWORK_ENV));
        for (name, value) in [
            ("GH_PROMPT_DISABLED", "1"),
            ("NO_COLOR", "1"),
            ("GH_NO_UPDATE_NOTIFIER", "1"),
        ] {
            vars.push((name.to_owned(), value.to_owned()));
        }
        Gh {
            bin: env.get("DAYDREAM_GH").unwrap_or("gh").to_owned(),
            timeout: CALL_TIMEOUT,
            retries: RETRIES,
            backoff: Duration::from_millis(backoff_ms),
            cancel,
            env: vars,
        }
    }

    /// Sets (over what [`Gh::new`] chose) variables of the child, such as a fake server's.
    #[cfg(test)]
    pub(crate) fn with_env(mut self, vars: &[(String, String)]) -> Gh {
        self.env.extend(vars.iter().cloned());
        self
    }

    /// Issues of the repository in `state`, optionally with `label`, all pages; pull requests left out.
    pub(crate) fn issues(
        &self,
        repo: &GitHub,
        state: IssueState,
        label: Option<&str>,
    ) -> Result<Vec<Issue>, GhError> {
        let mut endpoint = format!(
            "{}/issues?state={}&per_page=100",
            repo_path(repo),
            state.as_str()
        );
        if let Some(label) = label {
            endpoint.push_str("&labels=");
            endpoint.push_str(&encode(label));
        }
        let call = Call::pages(endpoint);
        let stdout = self.call(&call)?;
        let values = json_pages(&call, &stdout)?;
        values
            .into_iter()
            .filter(|v| v.get("pull_request").is_none())
            .map(|v| parse_value(&call, v))
            .collect()
    }

    pub(crate) fn create_issue(
        &self,
        repo: &GitHub,
        title: &str,
        body: &str,
        labels: &[&str],
    ) -> Result<Issue, GhError> {
        let input = json!({ "title": title, "body": body, "labels": labels });
        self.send("POST", format!("{}/issues", repo_path(repo)), Some(&input))
    }

    pub(crate) fn edit_issue(
        &self,
        repo: &GitHub,
        number: u64,
        edit: &IssueEdit,
    ) -> Result<Issue, GhError> {
        let input = serde_json::to_value(edit).expect("an edit serializes");
        self.send(
            "PATCH",
            format!("{}/issues/{number}", repo_path(repo)),
            Some(&input),
        )
    }

    /// Closes issue `number` for GitHub's `reason` (`completed`, `not_planned`).
    pub(crate) fn close_issue(
        &self,
        repo: &GitHub,
        number: u64,
        reason: &'static str,
    ) -> Result<Issue, GhError> {
        let edit = IssueEdit {
            state: Some("closed"),
            state_reason: Some(reason),
            ..IssueEdit::default()
        };
        self.edit_issue(repo, number, &edit)
    }

    pub(crate) fn comment(&self, repo: &GitHub, number: u64, body: &str) -> Result<(), GhError> {
        self.post(
            format!("{}/issues/{number}/comments", repo_path(repo)),
            &json!({ "body": body }),
        )
    }

    /// Creates the label with that color and description if missing; true when it created it.
    pub(crate) fn ensure_label(
        &self,
        repo: &GitHub,
        name: &str,
        color: &str,
        description: &str,
    ) -> Result<bool, GhError> {
        let get = Call::one(
            "GET",
            format!("{}/labels/{}", repo_path(repo), encode(name)),
            None,
        );
        match self.call(&get) {
            Ok(_) => return Ok(false),
            Err(err) if err.status() == Some(404) => {}
            Err(err) => return Err(err),
        }
        let input = json!({
            "name": name,
            "color": color.trim_start_matches('#'),
            "description": description,
        });
        let create = Call::one("POST", format!("{}/labels", repo_path(repo)), Some(&input));
        match self.call(&create) {
            Ok(_) => Ok(true),
            // Another machine created it between our two calls.
            Err(err) if err.status() == Some(422) && self.call(&get).is_ok() => Ok(false),
            Err(err) => Err(err),
        }
    }

    pub(crate) fn add_labels(
        &self,
        repo: &GitHub,
        number: u64,
        labels: &[&str],
    ) -> Result<(), GhError> {
        if labels.is_empty() {
            return Ok(());
        }
        self.post(
            format!("{}/issues/{number}/labels", repo_path(repo)),
            &json!({ "labels": labels }),
        )
    }

    /// The repository's default branch (`main`, `master`, ...).
    pub(crate) fn default_branch(&self, repo: &GitHub) -> Result<String, GhError> {
        #[derive(Deserialize)]
        struct Repo {
            default_branch: String,
        }
        self.send::<Repo>("GET", repo_path(repo), None)
            .map(|r| r.default_branch)
    }

    /// Issues and pull requests (GitHub lists both as issues) in `state` with `label`, all pages.
    pub(crate) fn issues_and_pulls(
        &self,
        repo: &GitHub,
        state: IssueState,
        label: &str,
    ) -> Result<Vec<Issue>, GhError> {
        self.list(format!(
            "{}/issues?state={}&labels={}&per_page=100",
            repo_path(repo),
            state.as_str(),
            encode(label)
        ))
    }

    /// Pull requests whose head is `branch` of the repository's own owner, in any state.
    pub(crate) fn pulls_from(&self, repo: &GitHub, branch: &str) -> Result<Vec<Pull>, GhError> {
        let head = encode(&format!("{}:{branch}", repo.org));
        self.pull_list(repo, &format!("&head={head}"))
    }

    /// The author names of pull request `number`'s commits (`commit.author.name`), oldest first.
    pub(crate) fn pull_commit_authors(
        &self,
        repo: &GitHub,
        number: u64,
    ) -> Result<Vec<String>, GhError> {
        let commits: Vec<Value> = self.list(format!(
            "{}/pulls/{number}/commits?per_page=100",
            repo_path(repo)
        ))?;
        Ok(commits
            .iter()
            .filter_map(|c| Some(c["commit"]["author"]["name"].as_str()?.to_owned()))
            .collect())
    }

    /// Every pull request of the repository (open, closed and merged), all pages.
    pub(crate) fn pulls(&self, repo: &GitHub) -> Result<Vec<Pull>, GhError> {
        self.pull_list(repo, "")
    }

    fn pull_list(&self, repo: &GitHub, filter: &str) -> Result<Vec<Pull>, GhError> {
        self.list(format!(
            "{}/pulls?state=all{filter}&per_page=100",
            repo_path(repo)
        ))
    }

    /// Opens a pull request from `head` into `base`, a draft or ready for review. A 422 (for example "a pull
    /// request already exists") is returned as an error for the caller to resolve.
    pub(crate) fn create_pull(
        &self,
        repo: &GitHub,
        title: &str,
        head: &str,
        base: &str,
        body: &str,
        draft: bool,
    ) -> Result<Pull, GhError> {
        let input =
            json!({ "title": title, "head": head, "base": base, "body": body, "draft": draft });
        self.send("POST", format!("{}/pulls", repo_path(repo)), Some(&input))
    }

    /// Asks `reviewers` (GitHub logins) to review pull request `number`.
    pub(crate) fn request_reviewers(
        &self,
        repo: &GitHub,
        number: u64,
        reviewers: &[String],
    ) -> Result<(), GhError> {
        if reviewers.is_empty() {
            return Ok(());
        }
        self.post(
            format!("{}/pulls/{number}/requested_reviewers", repo_path(repo)),
            &json!({ "reviewers": reviewers }),
        )
    }

    /// Sends one request whose answer is one JSON object, read as a `T`.
    fn send<T: serde::de::DeserializeOwned>(
        &self,
        method: &'static str,
        endpoint: String,
        input: Option<&Value>,
    ) -> Result<T, GhError> {
        let call = Call::one(method, endpoint, input);
        let stdout = self.call(&call)?;
        parse_bytes(&call, &stdout)
    }

    /// Sends one request whose answer is not needed.
    fn post(&self, endpoint: String, input: &Value) -> Result<(), GhError> {
        self.call(&Call::one("POST", endpoint, Some(input)))
            .map(drop)
    }

    /// GETs every page of an endpoint that answers with a JSON array; its elements read as `T`s.
    fn list<T: serde::de::DeserializeOwned>(&self, endpoint: String) -> Result<Vec<T>, GhError> {
        let call = Call::pages(endpoint);
        let stdout = self.call(&call)?;
        json_pages(&call, &stdout)?
            .into_iter()
            .map(|v| parse_value(&call, v))
            .collect()
    }

    /// Runs the call, retrying while it is rate limited; returns gh's stdout.
    fn call(&self, call: &Call) -> Result<Vec<u8>, GhError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let err = match self.call_once(call) {
                Ok(stdout) => return Ok(stdout),
                Err(err) => err,
            };
            let (endpoint, message) = match err {
                GhError::Http {
                    endpoint,
                    status: Some(403 | 429),
                    message,
                } if is_rate_limit(&message) => (endpoint, message),
                err => return Err(err),
            };
            if attempt > self.retries {
                return Err(GhError::RateLimited {
                    endpoint,
                    attempts: attempt,
                    message,
                });
            }
            let wait = self.backoff.saturating_mul(1 << (attempt - 1).min(16));
            tracing::warn!(
                "`gh api {endpoint}` was rate limited ({message}); retrying in {}ms",
                wait.as_millis()
            );
            self.sleep(call, wait)?;
        }
    }

    fn call_once(&self, call: &Call) -> Result<Vec<u8>, GhError> {
        let mut args = vec!["api", "--method", call.method, call.endpoint.as_str()];
        if call.paginate {
            args.push("--paginate");
        }
        let mut cmd = Cmd::new(&self.bin)
            .args(args)
            .env_remove("GH_REPO")
            .cancel(&self.cancel)
            .timeout(if call.paginate {
                LIST_TIMEOUT.max(self.timeout)
            } else {
                self.timeout
            });
        if let Some(input) = call.input {
            cmd = cmd.args(["--input", "-"]).stdin(input.to_string());
        }
        for (name, value) in &self.env {
            cmd = cmd.env(name, value);
        }
        tracing::debug!("gh api {}", call.display());
        match cmd.run() {
            Ok(done) if done.stdout_dropped > 0 => Err(GhError::Parse(format!(
                "`gh api {}` printed more than {} MiB; the rest was not kept",
                call.display(),
                crate::exec::OUTPUT_CAP / (1024 * 1024)
            ))),
            Ok(done) => Ok(done.stdout),
            Err(ExecError::Start { err, .. }) if err.kind() == std::io::ErrorKind::NotFound => {
                Err(GhError::NotFound {
                    bin: self.bin.clone(),
                })
            }
            Err(ExecError::Failed { code, stderr, .. }) => {
                let (status, message) = parse_failure(&stderr);
                Err(GhError::Http {
                    endpoint: call.display(),
                    status,
                    message: if message.is_empty() {
                        format!("gh exited with code {code}")
                    } else {
                        message
                    },
                })
            }
            Err(err) => Err(GhError::Exec(err)),
        }
    }

    /// Sleeps `wait`; a signal meanwhile ends the call as if it had come while gh ran.
    fn sleep(&self, call: &Call, wait: Duration) -> Result<(), GhError> {
        let until = Instant::now() + wait;
        loop {
            if let Err(interrupted) = self.cancel.check() {
                return Err(GhError::Exec(ExecError::Interrupted {
                    cmd: format!("{} api {}", self.bin, call.display()),
                    interrupted,
                }));
            }
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            std::thread::sleep((until - now).min(Duration::from_millis(50)));
        }
    }
}

/// `repos/{org}/{repo}`, each part encoded so that nothing in the config can change the path's shape.
fn repo_path(repo: &GitHub) -> String {
    format!("repos/{}/{}", encode(&repo.org), encode(&repo.repo))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// GitHub's primary (`API rate limit exceeded`) and secondary (`secondary rate limit`, formerly
/// `abuse detection`) limits, as opposed to a 403 for missing permissions.
fn is_rate_limit(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("rate limit") || message.contains("abuse detection")
}

/// The status and message from gh's stderr: its last line of the form `gh: MESSAGE (HTTP 404)`; without
/// one, no status and the whole (bounded) stderr.
fn parse_failure(stderr: &str) -> (Option<u16>, String) {
    for line in stderr.lines().rev() {
        let line = line.trim();
        let Some(rest) = line.strip_suffix(')') else {
            continue;
        };
        let Some((message, status)) = rest.rsplit_once("(HTTP ") else {
            continue;
        };
        let Ok(status) = status.parse::<u16>() else {
            continue;
        };
        let message = message.trim();
        let message = message.strip_prefix("gh:").unwrap_or(message).trim();
        return (Some(status), message.to_owned());
    }
    let message = stderr.trim();
    (
        None,
        message
            .strip_prefix("gh:")
            .unwrap_or(message)
            .trim()
            .to_owned(),
    )
}

/// The elements of the JSON arrays gh printed, one array per page.
fn json_pages(call: &Call, stdout: &[u8]) -> Result<Vec<Value>, GhError> {
    let mut items = Vec::new();
    let mut pages = 0usize;
    for page in serde_json::Deserializer::from_slice(stdout).into_iter::<Value>() {
        pages += 1;
        match page {
            Ok(Value::Array(page)) => items.extend(page),
            Ok(other) => {
                return Err(GhError::Parse(format!(
                    "`gh api {}` printed {} where a JSON array was expected",
                    call.display(),
                    kind(&other)
                )));
            }
            Err(err) => return Err(parse_error(call, &err)),
        }
    }
    if pages == 0 {
        return Err(GhError::Parse(format!(
            "`gh api {}` printed nothing where a JSON array was expected",
            call.display()
        )));
    }
    Ok(items)
}

fn parse_bytes<T: serde::de::DeserializeOwned>(call: &Call, stdout: &[u8]) -> Result<T, GhError> {
    serde_json::from_slice(stdout).map_err(|err| parse_error(call, &err))
}

fn parse_value<T: serde::de::DeserializeOwned>(call: &Call, value: Value) -> Result<T, GhError> {
    serde_json::from_value(value).map_err(|err| parse_error(call, &err))
}

fn parse_error(call: &Call, err: &serde_json::Error) -> GhError {
    GhError::Parse(format!(
        "failed to parse the output of `gh api {}`: {err}",
        call.display()
    ))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
#[path = "../tests/support/fake_github.rs"]
mod fake_github;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::path::Path;

    use super::fake_github::FakeGitHub;
    use super::*;
    use crate::cancel::Interrupted;

    const REPO: &str = "o/r";
    const RATE_LIMIT_BODY: &str = r#"{"message":"API rate limit exceeded for 203.0.113.9. (But here's the good news: Authenticated requests get a higher rate limit.)","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}"#;

    fn repo() -> GitHub {
        GitHub {
            org: "o".to_owned(),
            repo: "r".to_owned(),
        }
    }

    /// Whether the real gh is installed. Without it the test is skipped on a developer's machine and fails
    /// in CI, where `.ci/run` installs it.
    fn real_gh() -> bool {
        match Cmd::new("gh")
            .args(["--version"])
            .timeout(Duration::from_secs(30))
            .run()
        {
            Ok(_) => true,
            Err(err) => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "the real `gh` is required in CI (`apt-get install gh`): {err}"
                );
                eprintln!(
                    "skipping: the real `gh` is not installed ({err}); install it with `apt-get install gh`"
                );
                false
            }
        }
    }

    /// The real gh against a fresh fake GitHub, with its own config directory.
    struct Setup {
        fake: FakeGitHub,
        gh: Gh,
        _config: tempfile::TempDir,
    }

    fn setup() -> Option<Setup> {
        if !real_gh() {
            return None;
        }
        let fake = FakeGitHub::start();
        let config = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("DAYDREAM_GH_BACKOFF_MS", "10")]);
        let gh = Gh::new(&env, Cancel::default()).with_env(&fake.gh_env(config.path()));
        Some(Setup {
            fake,
            gh,
            _config: config,
        })
    }

    fn count(fake: &FakeGitHub, method: &str, path: &str) -> usize {
        fake.requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    #[test]
    fn lists_every_page_and_leaves_out_pull_requests() {
        let Some(Setup { fake, gh, .. }) = setup() else {
            return;
        };
        let mut triage_open = BTreeSet::new();
        let mut pulls = BTreeSet::new();
        for i in 0..250 {
            if i % 100 == 7 {
                pulls.insert(fake.add_pull(REPO, "a fix", "", &format!("fix-{i}"), "open"));
            }
            let triage = i % 3 == 0;
            let closed = i % 5 == 0;
            let labels: &[&str] = if triage {
                &["needs triage", "bug"]
            } else {
                &["bug"]
            };
            let state = if closed { "closed" } else { "open" };
            let number = fake.add_issue(
                REPO,
                &format!("issue {i}"),
                "body",
                labels,
                state,
                "2024-01-02T03:04:05Z",
            );
            if triage && !closed {
                triage_open.insert(number);
            }
        }
        assert_eq!(pulls.len(), 3);

        let all = gh.issues(&repo(), IssueState::All, None).unwrap();
        assert_eq!(all.len(), 250);
        let numbers: Vec<u64> = all.iter().map(|i| i.number).collect();
        assert!(numbers.windows(2).all(|w| w[0] > w[1]), "{numbers:?}");
        assert!(numbers.iter().all(|n| !pulls.contains(n)));
        // 253 items at 100 a page: three requests, the later ones from the `Link` header.
        let pages: Vec<String> = fake
            .requests()
            .into_iter()
            .filter(|r| r.path == "/repos/o/r/issues")
            .map(|r| r.query)
            .collect();
        assert_eq!(
            pages,
            [
                "state=all&per_page=100",
                "state=all&per_page=100&page=2",
                "state=all&per_page=100&page=3"
            ]
        );
        let first = all.last().unwrap();
        assert_eq!(first.title, "issue 0");
        assert_eq!(first.labels, ["needs triage", "bug"]);
        assert_eq!(first.author.as_deref(), Some("octocat"));
        assert_eq!(first.updated_at.to_rfc3339(), "2024-01-02T03:04:05+00:00");

        let triage = gh
            .issues(&repo(), IssueState::Open, Some("needs triage"))
            .unwrap();
        let triage: BTreeSet<u64> = triage.iter().map(|i| i.number).collect();
        assert_eq!(triage, triage_open);
        let closed = gh.issues(&repo(), IssueState::Closed, None).unwrap();
        assert_eq!(closed.len(), 50);
        assert!(closed.iter().all(|i| i.state == "closed"));
    }

    #[test]
    fn a_created_issue_is_listed_with_its_text_intact() {
        let Some(Setup { fake, gh, .. }) = setup() else {
            return;
        };
        let body = "line one\n\"quoted\" `code` $(rm -rf /) 'single' \\ ünïcödé ✓\n<!-- daydream:report 2024-01-02 -->";
        let created = gh
            .create_issue(
                &repo(),
                "--title looks like a flag",
                body,
                &["daydream", "report"],
            )
            .unwrap();
        assert_eq!(created.number, 1);
        assert_eq!(created.title, "--title looks like a flag");
        assert_eq!(created.body, body);
        assert_eq!(created.state, "open");
        assert_eq!(created.labels, ["daydream", "report"]);
        assert_eq!(created.html_url, "http://github.localhost/o/r/issues/1");
        assert_eq!(created.author.as_deref(), Some("fake-user"));

        let listed = gh
            .issues(&repo(), IssueState::Open, Some("daydream"))
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].number, 1);
        assert_eq!(listed[0].body, body);
        let names: Vec<Value> = fake
            .labels(REPO)
            .into_iter()
            .map(|l| l["name"].clone())
            .collect();
        assert_eq!(names, [json!("daydream"), json!("report")]);
    }

    #[test]
    fn edit_changes_the_body_and_closes_then_reopens() {
        let Some(Setup { fake, gh, .. }) = setup() else {
            return;
        };
        let number = fake.add_issue(REPO, "t", "old", &[], "open", "2024-01-02T03:04:05Z");
        let edited = gh
            .edit_issue(
                &repo(),
                number,
                &IssueEdit {
                    body: Some("new".to_owned()),
                    state: Some("closed"),
                    state_reason: Some("not_planned"),
                },
            )
            .unwrap();
        assert_eq!(edited.state, "closed");
        assert_eq!(edited.body, "new");
        assert!(edited.updated_at > "2024-01-02T03:04:05Z".parse::<DateTime<Utc>>().unwrap());
        let stored = &fake.issues(REPO)[0];
        assert_eq!(stored["state_reason"], "not_planned");
        assert!(
            gh.issues(&repo(), IssueState::Open, None)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            gh.issues(&repo(), IssueState::Closed, None).unwrap().len(),
            1
        );

        let reopened = gh
            .edit_issue(
                &repo(),
                number,
                &IssueEdit {
                    state: Some("open"),
                    ..IssueEdit::default()
                },
            )
            .unwrap();
        assert_eq!(reopened.state, "open");
        assert_eq!(reopened.body, "new");
        // Fields left `None` are not sent, so they are not cleared.
        let patch = fake
            .requests()
            .into_iter()
            .rfind(|r| r.method == "PATCH")
            .unwrap();
        assert_eq!(patch.path, format!("/repos/o/r/issues/{number}"));
        assert_eq!(
            serde_json::from_str::<Value>(&patch.body).unwrap(),
            json!({ "state": "open" })
        );

        let err = gh
            .edit_issue(&repo(), 999, &IssueEdit::default())
            .unwrap_err();
        assert_eq!(err.status(), Some(404), "{err}");
        assert_eq!(
            err.to_string(),
            "`gh api --method PATCH repos/o/r/issues/999` failed: HTTP 404: Not Found"
        );
    }

    #[test]
    fn comment_lands_on_the_issue() {
        let Some(Setup { fake, gh, .. }) = setup() else {
            return;
        };
        let number = fake.add_issue(REPO, "t", "b", &[], "open", "2024-01-02T03:04:05Z");
        gh.comment(&repo(), number, "still happening\n\n```\ntrace\n```")
            .unwrap();
        let comments = fake.comments(REPO, number);
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0]["body"], "still happening\n\n```\ntrace\n```");
        assert_eq!(fake.issues(REPO)[0]["comments"], 1);
        let err = gh.comment(&repo(), 42, "x").unwrap_err();
        assert!(
            matches!(
                err,
                GhError::Http {
                    status: Some(404),
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn ensure_label_creates_once_and_add_labels_applies_it() {
        let Some(Setup { fake, gh, .. }) = setup() else {
            return;
        };
        let created = gh
            .ensure_label(&repo(), "needs triage", "#d73a4a", "opened by daydream")
            .unwrap();
        assert!(created);
        let again = gh
            .ensure_label(&repo(), "needs triage", "#d73a4a", "opened by daydream")
            .unwrap();
        assert!(!again);
        let labels = fake.labels(REPO);
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0]["name"], "needs triage");
        assert_eq!(labels[0]["color"], "d73a4a");
        assert_eq!(labels[0]["description"], "opened by daydream");
        // The name with a space travelled percent-encoded in the path.
        assert_eq!(count(&fake, "GET", "/repos/o/r/labels/needs%20triage"), 2);

        let number = fake.add_issue(REPO, "t", "b", &["bug"], "open", "2024-01-02T03:04:05Z");
        gh.add_labels(&repo(), number, &["needs triage", "stale"])
            .unwrap();
        assert_eq!(
            fake.issues(REPO)[0]["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["name"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["bug", "needs triage", "stale"]
        );
    }

    #[test]
    fn a_rate_limit_is_retried_with_backoff_and_then_given_up() {
        let Some(Setup { fake, gh, .. }) = setup() else {
            return;
        };
        fake.add_issue(REPO, "t", "b", &[], "open", "2024-01-02T03:04:05Z");
        fake.fail_next(
            "GET",
            "/repos/o/r/issues",
            403,
            RATE_LIMIT_BODY,
            &[("X-RateLimit-Remaining", "0"), ("X-RateLimit-Limit", "60")],
            1,
        );
        let issues = gh.issues(&repo(), IssueState::Open, None).unwrap();
        assert_eq!(issues.len(), 1);
        assert_eq!(count(&fake, "GET", "/repos/o/r/issues"), 2);

        fake.fail_next(
            "POST",
            "/repos/o/r/issues",
            429,
            r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#,
            &[("Retry-After", "1")],
            100,
        );
        let started = Instant::now();
        let err = gh.create_issue(&repo(), "t", "b", &[]).unwrap_err();
        // 10 + 20 + 40 ms between the four attempts.
        assert!(started.elapsed() >= Duration::from_millis(70));
        assert!(
            matches!(err, GhError::RateLimited { attempts: 4, .. }),
            "{err:?}"
        );
        assert_eq!(count(&fake, "POST", "/repos/o/r/issues"), 4);
        assert_eq!(
            err.to_string(),
            "`gh api --method POST repos/o/r/issues` failed: rate limited after 4 attempts: \
             You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        );
        assert_eq!(fake.issues(REPO).len(), 1);
    }

    #[test]
    fn other_failures_are_not_retried() {
        let Some(Setup { fake, gh, .. }) = setup() else {
            return;
        };
        fake.fail_next(
            "POST",
            "/repos/o/r/issues",
            500,
            r#"{"message":"boom"}"#,
            &[],
            5,
        );
        let err = gh.create_issue(&repo(), "t", "b", &[]).unwrap_err();
        assert!(
            matches!(&err, GhError::Http { status: Some(500), message, .. } if message == "boom"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "`gh api --method POST repos/o/r/issues` failed: HTTP 500: boom"
        );
        assert_eq!(count(&fake, "POST", "/repos/o/r/issues"), 1);

        // A 403 that is about permissions, not rate, is not retried either.
        fake.fail_next(
            "GET",
            "/repos/o/r/issues",
            403,
            r#"{"message":"Resource not accessible by integration"}"#,
            &[],
            5,
        );
        let err = gh.issues(&repo(), IssueState::All, None).unwrap_err();
        assert!(
            matches!(
                &err,
                GhError::Http {
                    status: Some(403),
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(count(&fake, "GET", "/repos/o/r/issues"), 1);
    }

    #[test]
    fn concurrent_creations_get_distinct_numbers() {
        let Some(Setup { fake, gh, .. }) = setup() else {
            return;
        };
        fake.set_create_delay(Duration::from_millis(300));
        let numbers: BTreeSet<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|i| {
                    let gh = &gh;
                    s.spawn(move || {
                        gh.create_issue(&repo(), &format!("report {i}"), "b", &[])
                            .unwrap()
                            .number
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(numbers, BTreeSet::from([1, 2]));
        assert_eq!(fake.issues(REPO).len(), 2);
    }

    #[test]
    fn a_missing_gh_says_how_to_get_it() {
        let env = Env::from_pairs([("DAYDREAM_GH", "/nonexistent/daydream-test/gh")]);
        let err = Gh::new(&env, Cancel::default())
            .issues(&repo(), IssueState::Open, None)
            .unwrap_err();
        assert!(matches!(err, GhError::NotFound { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "could not find `/nonexistent/daydream-test/gh`: install gh (https://cli.github.com, e.g. \
             `apt-get install gh` or `brew install gh`) or set `DAYDREAM_GH` to its path"
        );
    }

    fn is_interrupted(err: &GhError) -> bool {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(err) = source {
            if err.is::<Interrupted>() {
                return true;
            }
            source = err.source();
        }
        false
    }

    #[test]
    fn a_stop_request_starts_nothing() {
        let env = Env::from_pairs([("DAYDREAM_GH", "/nonexistent/daydream-test/gh")]);
        let cancel = Cancel::default();
        cancel.trigger(15);
        let err = Gh::new(&env, cancel)
            .issues(&repo(), IssueState::Open, None)
            .unwrap_err();
        assert!(
            matches!(err, GhError::Exec(ExecError::Interrupted { .. })),
            "{err:?}"
        );
        assert!(is_interrupted(&err));
    }

    #[test]
    fn a_stop_request_ends_the_wait_for_a_retry() {
        let Some(Setup { fake, gh, _config }) = setup() else {
            return;
        };
        let cancel = Cancel::default();
        let gh = Gh {
            backoff: Duration::from_secs(60),
            cancel: cancel.clone(),
            ..gh
        };
        fake.fail_next("GET", "/repos/o/r/issues", 403, RATE_LIMIT_BODY, &[], 1);
        let started = Instant::now();
        let err = std::thread::scope(|s| {
            s.spawn(|| {
                // Once the first attempt has been answered 403 and gh has exited, we are in the backoff.
                while count(&fake, "GET", "/repos/o/r/issues") == 0 {
                    std::thread::sleep(Duration::from_millis(10));
                }
                std::thread::sleep(Duration::from_millis(500));
                cancel.trigger(2);
            });
            gh.issues(&repo(), IssueState::Open, None).unwrap_err()
        });
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(is_interrupted(&err), "{err:?}");
        assert_eq!(count(&fake, "GET", "/repos/o/r/issues"), 1);
        assert_eq!(
            err.to_string(),
            "`gh api repos/o/r/issues?state=open&per_page=100` was stopped"
        );
    }

    /// Writes an executable script, closed before anything runs it.
    fn script(dir: &Path, name: &str, text: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// Retries while the kernel says the script is busy: another test's fork may briefly hold it open.
    fn retry_busy<T>(f: impl Fn() -> Result<T, GhError>) -> Result<T, GhError> {
        for _ in 0..50 {
            match f() {
                Err(GhError::Exec(ExecError::Start { err, .. }))
                    if err.raw_os_error() == Some(26) =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
        f()
    }

    #[test]
    fn argv_and_environment_of_the_child() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("record");
        let bin = script(
            dir.path(),
            "gh",
            &format!(
                "#!/bin/sh\n{{ for a in \"$@\"; do echo \"arg=$a\"; done; env; echo stdin=$(cat); }} > '{}'\necho '[]'\n",
                record.display()
            ),
        );
        let env = Env::from_pairs([
            ("DAYDREAM_GH", bin.as_str()),
            ("GH_REPO", "evil/repo"),
            ("GH_HOST", "ghe.example.com"),
            ("GH_ENTERPRISE_TOKEN", "from-dotenv"),
            ("HTTPS_PROXY", "http://proxy.example:3128"),
            ("UNRELATED_SECRET", "x"),
        ]);
        let gh = Gh::new(&env, Cancel::default());
        let org = GitHub {
            org: "my org".to_owned(),
            repo: "{repo}".to_owned(),
        };
        let issues = retry_busy(|| gh.issues(&org, IssueState::Open, Some("a&b=c"))).unwrap();
        assert!(issues.is_empty());
        let record = std::fs::read_to_string(&record).unwrap();
        let args: Vec<&str> = record
            .lines()
            .filter_map(|l| l.strip_prefix("arg="))
            .collect();
        assert_eq!(
            args,
            [
                "api",
                "--method",
                "GET",
                "repos/my%20org/%7Brepo%7D/issues?state=open&per_page=100&labels=a%26b%3Dc",
                "--paginate"
            ]
        );
        let vars: Vec<&str> = record.lines().collect();
        for expected in [
            "GH_HOST=ghe.example.com",
            "GH_ENTERPRISE_TOKEN=from-dotenv",
            "HTTPS_PROXY=http://proxy.example:3128",
            "GH_PROMPT_DISABLED=1",
            "NO_COLOR=1",
        ] {
            assert!(vars.contains(&expected), "{expected} missing from {record}");
        }
        assert!(!vars.iter().any(|v| v.starts_with("GH_REPO=")), "{record}");
        assert!(!vars.contains(&"UNRELATED_SECRET=x"), "{record}");
    }

    #[test]
    fn output_that_is_not_the_expected_json_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = script(dir.path(), "garbage", "#!/bin/sh\necho 'not json'\n");
        let object = script(dir.path(), "object", "#!/bin/sh\necho '{\"a\": 1}'\n");
        let silent = script(dir.path(), "silent", "#!/bin/sh\nexit 0\n");
        let failing = script(
            dir.path(),
            "failing",
            "#!/bin/sh\necho 'error connecting to api.github.com' >&2\nexit 1\n",
        );
        let gh = |bin: &str| Gh::new(&Env::from_pairs([("DAYDREAM_GH", bin)]), Cancel::default());
        let err = retry_busy(|| gh(&garbage).issues(&repo(), IssueState::All, None)).unwrap_err();
        assert!(matches!(err, GhError::Parse(_)), "{err:?}");
        assert!(
            err.to_string().starts_with(
                "failed to parse the output of `gh api repos/o/r/issues?state=all&per_page=100`: "
            ),
            "{err}"
        );
        let err = retry_busy(|| gh(&object).issues(&repo(), IssueState::All, None)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`gh api repos/o/r/issues?state=all&per_page=100` printed an object where a JSON array was expected"
        );
        let err = retry_busy(|| gh(&silent).issues(&repo(), IssueState::All, None)).unwrap_err();
        assert!(matches!(err, GhError::Parse(_)), "{err:?}");
        let err = retry_busy(|| gh(&object).create_issue(&repo(), "t", "b", &[])).unwrap_err();
        assert!(
            err.to_string()
                .contains("`gh api --method POST repos/o/r/issues`: missing field"),
            "{err}"
        );
        let err = retry_busy(|| gh(&failing).comment(&repo(), 1, "x")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`gh api --method POST repos/o/r/issues/1/comments` failed: error connecting to api.github.com"
        );
    }

    #[test]
    fn pages_are_concatenated() {
        let call = Call::pages("e".to_owned());
        assert_eq!(
            json_pages(&call, b"[1,2][3]\n[]\n[4]").unwrap(),
            [json!(1), json!(2), json!(3), json!(4)]
        );
        assert_eq!(json_pages(&call, b"[]").unwrap(), Vec::<Value>::new());
        assert!(json_pages(&call, b"[1][2").is_err());
    }

    #[test]
    fn gh_failures_are_read_from_stderr() {
        assert_eq!(
            parse_failure("gh: Not Found (HTTP 404)"),
            (Some(404), "Not Found".to_owned())
        );
        assert_eq!(
            parse_failure(
                "some warning\ngh: API rate limit exceeded for 1.2.3.4. (But here's the good news...) (HTTP 403)\n"
            ),
            (
                Some(403),
                "API rate limit exceeded for 1.2.3.4. (But here's the good news...)".to_owned()
            )
        );
        assert_eq!(
            parse_failure("invalid character '<' looking for beginning of value"),
            (
                None,
                "invalid character '<' looking for beginning of value".to_owned()
            )
        );
        assert!(is_rate_limit("You have exceeded a SECONDARY rate limit."));
        assert!(!is_rate_limit("Resource not accessible by integration"));
    }

    #[test]
    fn issue_json_with_nulls_deserializes() {
        let issue: Issue = serde_json::from_value(json!({
            "number": 3, "title": "t", "body": null, "state": "open",
            "html_url": "http://github.localhost/o/r/issues/3",
            "created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-01-03T03:04:05Z",
            "labels": [{ "name": "bug", "color": "d73a4a" }], "user": null, "extra": 1
        }))
        .unwrap();
        assert_eq!(issue.body, "");
        assert_eq!(issue.labels, ["bug"]);
        assert_eq!(issue.author, None);
        let edit = IssueEdit {
            state: Some("closed"),
            ..IssueEdit::default()
        };
        assert_eq!(
            serde_json::to_value(&edit).unwrap(),
            json!({ "state": "closed" })
        );
    }

    /// One raw HTTP exchange with the fake: (status line, body).
    fn raw(fake: &FakeGitHub, request: &str) -> (String, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", fake.port())).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        (head.lines().next().unwrap().to_owned(), body.to_owned())
    }

    #[test]
    fn fake_serves_origin_form_api_v3_and_chunked_bodies() {
        let fake = FakeGitHub::start();
        let (status, body) = raw(
            &fake,
            "POST /api/v3/repos/o/r/issues HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
             7\r\n{\"title\r\n8\r\n\":\"hi\"}\n\r\n0\r\n\r\n",
        );
        assert_eq!(status, "HTTP/1.1 201 Created");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["number"], 1);
        let (status, body) = raw(&fake, "GET /repos/o/r/issues/1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["title"], "hi");
        let (status, body) = raw(
            &fake,
            "GET /repos/o/r/labels/nope HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["message"],
            "Not Found"
        );
        let (status, _) = raw(&fake, "GET /nothing/here HTTP/1.1\r\n\r\n");
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        let recorded = fake.requests();
        assert_eq!(recorded.len(), 4);
        assert_eq!(recorded[0].path, "/repos/o/r/issues");
        assert_eq!(recorded[0].body, "{\"title\":\"hi\"}\n");
    }

    #[test]
    fn fake_pull_requests_are_issues_too() {
        let fake = FakeGitHub::start();
        let issue = fake.add_issue(REPO, "i", "b", &[], "open", "2024-01-02T03:04:05Z");
        let pull = fake.add_pull(REPO, "p", "b", "daydream/fix-1", "open");
        assert_eq!((issue, pull), (1, 2));
        let (_, body) = raw(
            &fake,
            "GET http://api.github.localhost/repos/o/r/issues?state=all HTTP/1.1\r\n\r\n",
        );
        let listed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(listed[0]["number"], 2);
        assert!(listed[0]["pull_request"]["url"].is_string());
        assert!(listed[1].get("pull_request").is_none());
        let (_, body) = raw(
            &fake,
            "GET /repos/o/r/pulls?state=all&head=o:daydream/fix-1 HTTP/1.1\r\n\r\n",
        );
        let pulls: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(pulls[0]["head"]["ref"], "daydream/fix-1");
        assert_eq!(pulls[0]["html_url"], "http://github.localhost/o/r/pull/2");
        let (_, body) = raw(&fake, "GET /repos/o/r/pulls?head=o:other HTTP/1.1\r\n\r\n");
        assert_eq!(body, "[]");
        assert_eq!(fake.issues(REPO).len(), 1);
    }
}
