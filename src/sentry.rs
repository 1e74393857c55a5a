//! The Sentry REST API (`SENTRY_AUTH_TOKEN`, `SENTRY_BASE_URL`): the unresolved issues of a project (every
//! page), an issue's latest event; rate limits waited for as told, server errors retried with backoff.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use reqwest::blocking::{Client, Response};
use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url, header};
use serde::Deserialize;

use crate::cancel::{Cancel, Interrupted};
use crate::env::Env;
use crate::http::{describe, quote, status_text};

/// The first wait after a 5xx or a transport error, doubled each time (`DAYDREAM_SENTRY_BACKOFF_MS`).
const DEFAULT_BACKOFF_MS: u64 = 1000;
/// Where Sentry is unless `SENTRY_BASE_URL` says otherwise.
pub(crate) const DEFAULT_BASE: &str = "https://sentry.io";
/// The longest wait a 429 gets (`DAYDREAM_SENTRY_MAX_WAIT_MS`).
const DEFAULT_MAX_WAIT_MS: u64 = 60_000;
/// A larger answer is cut here and fails to parse rather than filling memory.
const MAX_BODY: u64 = 32 << 20;
/// Pages of issues read (100 issues each on sentry.io); more is a warning.
pub(crate) const MAX_PAGES: usize = 20;
/// Retries of one request after a 5xx or a transport error, and after a 429.
const SERVER_RETRIES: u32 = 3;
const RATE_LIMIT_RETRIES: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiIssue {
    pub(crate) id: Text,
    #[serde(default)]
    pub(crate) short_id: Option<String>,
    #[serde(default)]
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) culprit: Option<String>,
    #[serde(default)]
    pub(crate) level: Option<String>,
    /// A string in Sentry's answers (`"1234"`).
    #[serde(default)]
    pub(crate) count: Text,
    #[serde(default)]
    pub(crate) user_count: Text,
    #[serde(default)]
    pub(crate) first_seen: Option<String>,
    #[serde(default)]
    pub(crate) last_seen: Option<String>,
    #[serde(default)]
    pub(crate) permalink: Option<String>,
    #[serde(default)]
    pub(crate) stats: Option<Stats>,
}

#[derive(Deserialize)]
pub(crate) struct Stats {
    /// `[[unix seconds of the hour, events], ...]`.
    #[serde(rename = "24h", default)]
    pub(crate) day: Vec<(i64, u64)>,
}

/// A value Sentry sends as a string or a number.
#[derive(Deserialize, Default)]
#[serde(untagged)]
pub(crate) enum Text {
    Str(String),
    Num(u64),
    #[default]
    Missing,
}

impl Text {
    pub(crate) fn text(&self) -> String {
        match self {
            Text::Str(s) => s.clone(),
            Text::Num(n) => n.to_string(),
            Text::Missing => String::new(),
        }
    }

    pub(crate) fn number(&self) -> u64 {
        match self {
            Text::Str(s) => s.trim().parse().unwrap_or_default(),
            Text::Num(n) => *n,
            Text::Missing => 0,
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ApiEvent {
    #[serde(default)]
    pub(crate) entries: Vec<Entry>,
    /// `[{"key": .., "value": ..}]`.
    #[serde(default)]
    pub(crate) tags: Vec<Tag>,
}

#[derive(Deserialize)]
pub(crate) struct Tag {
    #[serde(default)]
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) value: String,
}

#[derive(Deserialize)]
pub(crate) struct Entry {
    #[serde(rename = "type", default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) data: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiFrame {
    #[serde(default)]
    pub(crate) filename: Option<String>,
    #[serde(default)]
    pub(crate) abs_path: Option<String>,
    #[serde(default)]
    pub(crate) line_no: Option<u32>,
    #[serde(default)]
    pub(crate) in_app: Option<bool>,
    #[serde(default)]
    pub(crate) function: Option<String>,
}

/// Why a request came to nothing.
#[derive(Debug)]
pub(crate) enum ApiError {
    Interrupted(Interrupted),
    /// 401 or 403: the token is wrong or lacks a scope or the project.
    Denied(StatusCode),
    NotFound,
    /// Everything else, retries spent: one line, no URL, no token.
    Failed(String),
}

impl ApiError {
    pub(crate) fn message(&self, slug: &str) -> String {
        match self {
            ApiError::Interrupted(i) => i.to_string(),
            ApiError::Denied(status) => format!(
                "Sentry answered {}: the token in `SENTRY_AUTH_TOKEN` lacks `event:read` or access to project \
                 `{slug}`{} (fix: give the token the `event:read` scope and a team with access to `{slug}`, or set \
                 `SENTRY_BASE_URL` to the organization's region such as `https://us.sentry.io`)",
                status_text(*status),
                if *status == StatusCode::UNAUTHORIZED {
                    ", or is invalid or expired"
                } else {
                    ""
                }
            ),
            ApiError::NotFound => format!(
                "Sentry answered 404 Not Found: check `org` and `project` of `{slug}` in `projects.json` and \
                 `SENTRY_BASE_URL`"
            ),
            ApiError::Failed(err) => err.clone(),
        }
    }

    /// An error for the runner: an interruption stays an [`Interrupted`] in the chain.
    pub(crate) fn into_anyhow(self, slug: &str) -> anyhow::Error {
        match self {
            ApiError::Interrupted(i) => i.into(),
            other => anyhow::anyhow!(other.message(slug)),
        }
    }
}

/// One successful answer.
pub(crate) struct Reply {
    pub(crate) body: String,
    /// The cursor of the next page, when the `Link` header says there are more results.
    pub(crate) next: Option<String>,
}

pub(crate) struct Api<'a> {
    pub(crate) client: Client,
    pub(crate) base: Url,
    pub(crate) token: String,
    pub(crate) cancel: &'a Cancel,
    pub(crate) backoff: Duration,
    pub(crate) max_wait: Duration,
}

impl<'a> Api<'a> {
    pub(crate) fn new(
        env: &Env,
        token: &str,
        cancel: &'a Cancel,
        warnings: &mut Vec<String>,
    ) -> Result<Api<'a>> {
        let raw = env.get("SENTRY_BASE_URL").unwrap_or(DEFAULT_BASE).trim();
        let base = Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .with_context(|| {
                format!("failed to read `SENTRY_BASE_URL={raw}`: expected a URL such as `https://sentry.io`")
            })?;
        let mut millis = |name: &str, default: u64| {
            env.parse_or(name, default).unwrap_or_else(|err| {
                warnings.push(format!("{err}; using {default}"));
                default
            })
        };
        let backoff =
            Duration::from_millis(millis("DAYDREAM_SENTRY_BACKOFF_MS", DEFAULT_BACKOFF_MS));
        let max_wait =
            Duration::from_millis(millis("DAYDREAM_SENTRY_MAX_WAIT_MS", DEFAULT_MAX_WAIT_MS));
        let client = crate::http::client(TIMEOUT).map_err(anyhow::Error::msg)?;
        Ok(Api {
            client,
            base,
            token: token.to_owned(),
            cancel,
            backoff,
            max_wait,
        })
    }

    /// `base` + `/api/0/<segments>/` + `query`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["api", "0"])
                .extend(segments)
                .push("");
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// The unresolved issues seen in the last 24 hours, every page up to [`MAX_PAGES`]; `true` when more remain.
    pub(crate) fn issues(
        &self,
        org: &str,
        project: &str,
    ) -> Result<(Vec<ApiIssue>, bool), ApiError> {
        let mut issues = Vec::new();
        let mut cursor: Option<String> = None;
        let mut cursors = BTreeSet::new();
        for page in 1..=MAX_PAGES {
            let mut query = vec![
                ("query", "is:unresolved lastSeen:-24h"),
                ("statsPeriod", "24h"),
            ];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let url = self.url(&["projects", org, project, "issues"], &query);
            let reply = self.get(&url).map_err(|err| match err {
                ApiError::Failed(e) if page > 1 => ApiError::Failed(format!("page {page}: {e}")),
                other => other,
            })?;
            let list: Vec<ApiIssue> = serde_json::from_str(&reply.body).map_err(|err| {
                ApiError::Failed(format!(
                    "Sentry's answer is not a list of issues ({err}): {}",
                    quote(&reply.body)
                ))
            })?;
            issues.extend(list);
            match reply.next {
                // A cursor seen before would loop forever.
                Some(next) if cursors.insert(next.clone()) => cursor = Some(next),
                _ => return Ok((issues, false)),
            }
        }
        Ok((issues, true))
    }

    /// Issue `id`'s latest event.
    pub(crate) fn latest_event(&self, org: &str, id: &str) -> Result<ApiEvent, ApiError> {
        let url = self.url(
            &["organizations", org, "issues", id, "events", "latest"],
            &[],
        );
        let reply = match self.get(&url) {
            // Older self-hosted Sentry has only the route without the organization.
            Err(ApiError::NotFound) => {
                self.get(&self.url(&["issues", id, "events", "latest"], &[]))?
            }
            other => other?,
        };
        serde_json::from_str(&reply.body).map_err(|err| {
            ApiError::Failed(format!(
                "Sentry's answer is not an event ({err}): {}",
                quote(&reply.body)
            ))
        })
    }

    /// One GET with the token: a 429 waits as told and retries, a 5xx or a transport error backs off and retries,
    /// each a bounded number of times.
    pub(crate) fn get(&self, url: &Url) -> Result<Reply, ApiError> {
        let mut failures = 0;
        let mut limited = 0;
        loop {
            self.cancel.check().map_err(ApiError::Interrupted)?;
            let sent = self
                .client
                .get(url.clone())
                .bearer_auth(&self.token)
                .header(header::ACCEPT, "application/json")
                .send();
            // What failed, when it is worth another try after a backoff.
            let err = match sent {
                Ok(response) if response.status().is_success() => {
                    let next = response
                        .headers()
                        .get_all(header::LINK)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .find_map(next_cursor);
                    let body = read_body(response)?;
                    return Ok(Reply { body, next });
                }
                Ok(response) => {
                    let status = response.status();
                    match status {
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                            return Err(ApiError::Denied(status));
                        }
                        StatusCode::NOT_FOUND => return Err(ApiError::NotFound),
                        StatusCode::TOO_MANY_REQUESTS => {
                            limited += 1;
                            let wait = self.rate_limit_wait(response.headers());
                            if limited > RATE_LIMIT_RETRIES {
                                return Err(ApiError::Failed(format!(
                                    "Sentry answered 429 Too Many Requests {limited} times in a row"
                                )));
                            }
                            tracing::info!(
                                "sentry rate limit; retrying in {} ms",
                                wait.as_millis()
                            );
                            self.sleep(wait)?;
                            continue;
                        }
                        _ => {}
                    }
                    let body = read_body(response).unwrap_or_default();
                    let err = format!("Sentry answered {}: {}", status_text(status), quote(&body));
                    if !status.is_server_error() {
                        return Err(ApiError::Failed(err));
                    }
                    err
                }
                Err(err) => format!("could not reach Sentry: {}", describe(err)),
            };
            failures += 1;
            if failures > SERVER_RETRIES {
                return Err(ApiError::Failed(format!("{err} ({failures} attempts)")));
            }
            let delay = self.backoff.saturating_mul(1 << (failures - 1));
            tracing::info!("{err}; retrying in {} ms", delay.as_millis());
            self.sleep(delay)?;
        }
    }

    /// Until `X-Sentry-Rate-Limit-Reset` (Unix seconds), else `Retry-After` (seconds), at least the backoff and at
    /// most `max_wait`.
    pub(crate) fn rate_limit_wait(&self, headers: &HeaderMap) -> Duration {
        let number = |name: &str| -> Option<f64> {
            headers
                .get(name)?
                .to_str()
                .ok()?
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
        };
        let asked = if let Some(reset) = number("x-sentry-rate-limit-reset") {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs_f64();
            Some(reset - now)
        } else {
            number("retry-after")
        };
        let asked = asked
            .filter(|s| *s > 0.0)
            .map_or(Duration::ZERO, |s| Duration::from_secs_f64(s.min(86_400.0)));
        asked.max(self.backoff).min(self.max_wait)
    }

    /// Sleeps `wait`, ending early with [`ApiError::Interrupted`] on SIGINT or SIGTERM.
    pub(crate) fn sleep(&self, wait: Duration) -> Result<(), ApiError> {
        let deadline = Instant::now() + wait;
        loop {
            self.cancel.check().map_err(ApiError::Interrupted)?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }
}

pub(crate) fn read_body(response: Response) -> Result<String, ApiError> {
    let mut body = String::new();
    response
        .take(MAX_BODY)
        .read_to_string(&mut body)
        .map_err(|err| ApiError::Failed(format!("failed to read Sentry's answer: {err}")))?;
    Ok(body)
}

/// The cursor of `rel="next"` in a `Link` header, unless it says `results="false"`.
pub(crate) fn next_cursor(link: &str) -> Option<String> {
    let mut rest = link;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let tail = &after[close + 1..];
        let params = &tail[..tail.find('<').unwrap_or(tail.len())];
        rest = &tail[params.len()..];
        let mut rel = None;
        let mut results = None;
        let mut cursor = None;
        for param in params.split([';', ',']) {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').to_owned();
            match key.trim().to_ascii_lowercase().as_str() {
                "rel" => rel = Some(value),
                "results" => results = Some(value),
                "cursor" => cursor = Some(value),
                _ => {}
            }
        }
        if rel.as_deref() != Some("next") {
            continue;
        }
        if results.as_deref() == Some("false") {
            return None;
        }
        return cursor.filter(|c| !c.is_empty()).or_else(|| {
            Url::parse(target)
                .ok()?
                .query_pairs()
                .find(|(k, _)| k == "cursor")
                .map(|(_, v)| v.into_owned())
        });
    }
    None
}
