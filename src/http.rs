//! What every HTTP client of daydream shares (Sentry, Telegram, Slack): one way to build the blocking client,
//! and one way to say what went wrong: a status with its reason, a bounded quote of the body, a transport
//! error with its causes but never its URL (which may hold a token).

use std::error::Error as _;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::Client;

use crate::redact::redact;

/// How long connecting may take, whatever the request's own timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Characters of a response body quoted in an error message.
const BODY_QUOTE_CHARS: usize = 300;

/// A blocking client with `timeout` per request, a connect timeout and daydream's user agent.
pub(crate) fn client(timeout: Duration) -> Result<Client, String> {
    Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("daydream/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| format!("failed to set up the HTTP client: {}", describe(err)))
}

/// `404 Not Found`.
pub(crate) fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// A response body for an error message: one line, at most [`BODY_QUOTE_CHARS`] characters, secrets
/// redacted, in backticks.
pub(crate) fn quote(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut text: String = body
        .chars()
        .take(BODY_QUOTE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.chars().count() > BODY_QUOTE_CHARS {
        text.push('…');
    }
    format!("`{}`", redact(&text))
}

/// A transport error with its causes and without the URL.
pub(crate) fn describe(err: reqwest::Error) -> String {
    let timeout = err.is_timeout();
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = source.and_then(|cause| cause.source());
    }
    if timeout && !text.contains("timed out") {
        text.push_str(" (timed out)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_bodies_read_as_one_bounded_line() {
        assert_eq!(status_text(StatusCode::NOT_FOUND), "404 Not Found");
        assert_eq!(quote("  "), "(empty body)");
        assert_eq!(quote("a\nb"), "`a b`");
        let long = "x".repeat(400);
        assert_eq!(quote(&long), format!("`{}…`", "x".repeat(300)));
        assert_eq!(quote("token=abc123"), "`token=[REDACTED]`");
    }
}
