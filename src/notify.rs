//! Telegram and Slack: the short summary sent after a project's report issue is published.
//!
//! One summary becomes a list of lines of spans (plain, bold, code, link), rendered twice: as Telegram HTML, split
//! into messages under Telegram's 4096-character limit, and as Slack mrkdwn for an incoming webhook. Every piece of
//! text is redacted before it is escaped. A channel that fails is reported as that channel's `Err` for the caller to
//! record as a finding; nothing here panics or fails the run, and no error text carries the bot token or the
//! webhook URL.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::{StatusCode, header};
use serde::Deserialize;

use crate::cancel::Cancel;
use crate::env::Env;
use crate::http::{describe, quote, status_text};
use crate::redact::{REDACTED, for_publishing, redact};

#[cfg(test)]
#[path = "../tests/support/fake_http.rs"]
mod fake_http;

const TELEGRAM_DEFAULT_BASE: &str = "https://api.telegram.org";
/// Telegram allows 4096 characters after entity parsing. We count the HTML source, tags and entities included, in
/// UTF-16 units (as Telegram counts), which is never less than what Telegram counts, and keep a margin besides.
const TELEGRAM_PART_MAX: usize = 4000;
/// Slack truncates a message's `text` past 40,000 characters.
const SLACK_MAX_CHARS: usize = 39_000;
/// Action lines shown; the rest are counted ("and 3 more"): the report issue has them all.
const MAX_ACTIONS: usize = 10;
/// Longer pieces of text are clipped with "…" so one stack trace cannot turn a summary into a dozen messages.
const ACTION_MAX_CHARS: usize = 1000;
const PROJECT_MAX_CHARS: usize = 200;
const STEP_MAX_CHARS: usize = 100;
const COUNT_MAX_CHARS: usize = 500;
/// A link longer than this is shown as text: it could not fit in a tag of one Telegram message.
const LINK_MAX_CHARS: usize = 2000;
const TIMEOUT: Duration = Duration::from_secs(20);
/// The longest wait a 429's `retry_after` gets before the one retry; `DAYDREAM_NOTIFY_MAX_WAIT_MS` overrides it.
const DEFAULT_MAX_WAIT_MS: u64 = 60_000;

/// What one project's notification says.
pub(crate) struct Summary<'a> {
    pub(crate) date: chrono::NaiveDate,
    /// The project's display name.
    pub(crate) project: &'a str,
    /// `(step name, short text)` in step order, such as `("logs", "32 errors, 26 warnings")`.
    pub(crate) counts: Vec<(String, String)>,
    /// The project's Action Required lines: markdown-ish text with backticks, possibly long.
    pub(crate) actions: Vec<String>,
    /// The report issue's URL.
    pub(crate) link: Option<String>,
    /// Keep e-mail and IP addresses and phone numbers (the project's `"publish": {"pii": "keep"}`); masked
    /// otherwise.
    pub(crate) keep_pii: bool,
}

/// What happened to one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    Telegram { messages: usize },
    Slack,
}

struct Telegram {
    token: String,
    base: String,
}

/// The configured channels and the HTTP client they share.
pub(crate) struct Notifier {
    telegram: Option<Telegram>,
    slack: Option<String>,
    max_wait: Duration,
    cancel: Option<Cancel>,
    /// Built on first send: a dry run or a root without channels never starts reqwest's runtime thread.
    client: OnceLock<Result<Client, String>>,
}

impl Notifier {
    /// `TELEGRAM_BOT_TOKEN`, `TELEGRAM_API_BASE` (default `https://api.telegram.org`), `DAYDREAM_SLACK_WEBHOOK_URL`,
    /// and the test knob `DAYDREAM_NOTIFY_MAX_WAIT_MS`.
    pub(crate) fn from_env(env: &Env) -> Notifier {
        let telegram = env
            .get("TELEGRAM_BOT_TOKEN")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|token| Telegram {
                token: token.to_owned(),
                base: env
                    .get("TELEGRAM_API_BASE")
                    .unwrap_or(TELEGRAM_DEFAULT_BASE)
                    .trim()
                    .trim_end_matches('/')
                    .to_owned(),
            });
        let slack = env
            .get("DAYDREAM_SLACK_WEBHOOK_URL")
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned);
        let max_wait = env
            .parse_or("DAYDREAM_NOTIFY_MAX_WAIT_MS", DEFAULT_MAX_WAIT_MS)
            .unwrap_or_else(|err| {
                tracing::warn!("{err}; waiting at most {DEFAULT_MAX_WAIT_MS} ms on a 429");
                DEFAULT_MAX_WAIT_MS
            });
        Notifier {
            telegram,
            slack,
            max_wait: Duration::from_millis(max_wait),
            cancel: None,
            client: OnceLock::new(),
        }
    }

    /// Makes the wait before a retry end early when SIGINT or SIGTERM arrives (the send then fails as interrupted).
    pub(crate) fn with_cancel(mut self, cancel: Cancel) -> Notifier {
        self.cancel = Some(cancel);
        self
    }

    /// Channels this project would use: Telegram when a token is set and `chat_id` is given; Slack when the webhook
    /// is set.
    pub(crate) fn channels(&self, chat_id: Option<&str>) -> Vec<&'static str> {
        let mut channels = Vec::new();
        if self.telegram.is_some() && chat_id.is_some_and(|id| !id.trim().is_empty()) {
            channels.push("telegram");
        }
        if self.slack.is_some() {
            channels.push("slack");
        }
        channels
    }

    /// The messages that would be sent (for `--dry-run` and tests): the Telegram parts (HTML, each under 4096
    /// characters) and the Slack text.
    #[expect(
        clippy::unused_self,
        reason = "rendering depends on no setting today; the caller's API keeps room for one"
    )]
    pub(crate) fn render(&self, summary: &Summary<'_>) -> (Vec<String>, String) {
        let lines = lines(summary);
        (
            telegram_parts(&lines, TELEGRAM_PART_MAX),
            slack_text(&lines),
        )
    }

    /// Sends to every configured channel; each channel's failure is its own `Err` (a finding), never a panic.
    pub(crate) fn send(
        &self,
        summary: &Summary<'_>,
        chat_id: Option<&str>,
    ) -> Vec<(&'static str, Result<Sent, String>)> {
        let channels = self.channels(chat_id);
        if channels.is_empty() {
            return Vec::new();
        }
        let (parts, slack) = self.render(summary);
        channels
            .into_iter()
            .map(|channel| {
                let result = match channel {
                    "telegram" => self.send_telegram(chat_id.unwrap_or_default().trim(), &parts),
                    _ => self.send_slack(&slack),
                };
                (channel, result.map_err(|err| self.scrub(&err)))
            })
            .collect()
    }

    fn send_telegram(&self, chat_id: &str, parts: &[String]) -> Result<Sent, String> {
        let Some(telegram) = &self.telegram else {
            return Err("no `TELEGRAM_BOT_TOKEN` is set".to_owned());
        };
        let client = self.client()?;
        let url = format!("{}/bot{}/sendMessage", telegram.base, telegram.token);
        for (i, part) in parts.iter().enumerate() {
            let body = serde_json::json!({
                "chat_id": chat_id,
                "text": part,
                "parse_mode": "HTML",
                "disable_web_page_preview": true,
            });
            self.with_retry(|| {
                let response = client.post(&url).json(&body).send().map_err(describe)?;
                Ok(telegram_outcome(response))
            })
            .map_err(|err| match (i, parts.len()) {
                (_, 1) => err,
                (0, n) => format!("message 1 of {n}: {err}"),
                (i, n) => format!("message {} of {n} (the first {i} were sent): {err}", i + 1),
            })?;
        }
        Ok(Sent::Telegram {
            messages: parts.len(),
        })
    }

    fn send_slack(&self, text: &str) -> Result<Sent, String> {
        let Some(url) = &self.slack else {
            return Err("no `DAYDREAM_SLACK_WEBHOOK_URL` is set".to_owned());
        };
        let client = self.client()?;
        // No unfurl: the issue link would otherwise grow a preview card bigger than the summary.
        let body = serde_json::json!({ "text": text, "unfurl_links": false });
        self.with_retry(|| {
            let response = client.post(url).json(&body).send().map_err(describe)?;
            Ok(slack_outcome(response))
        })?;
        Ok(Sent::Slack)
    }

    fn client(&self) -> Result<&Client, String> {
        self.client
            .get_or_init(|| crate::http::client(TIMEOUT))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// One attempt, and on a 429 one more after the wait it asked for (capped).
    fn with_retry(
        &self,
        mut attempt: impl FnMut() -> Result<Outcome, String>,
    ) -> Result<(), String> {
        let wait = match attempt()? {
            Outcome::Done => return Ok(()),
            Outcome::Failed(err) => return Err(err),
            Outcome::RetryAfter(wait, err) => {
                let wait = wait.min(self.max_wait);
                tracing::info!("{err}; retrying once in {} ms", wait.as_millis());
                wait
            }
        };
        self.sleep(wait)?;
        match attempt()? {
            Outcome::Done => Ok(()),
            Outcome::Failed(err) => Err(err),
            Outcome::RetryAfter(_, err) => Err(format!(
                "{err} (again after waiting {} ms)",
                wait.as_millis()
            )),
        }
    }

    fn sleep(&self, wait: Duration) -> Result<(), String> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(cancel) = &self.cancel {
                cancel.check().map_err(|err| err.to_string())?;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }

    /// `text` without the bot token, the webhook URL or anything else that looks like a secret.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        if let Some(telegram) = &self.telegram {
            text = text.replace(&telegram.token, REDACTED);
        }
        if let Some(url) = &self.slack {
            text = text.replace(url.as_str(), "the Slack webhook");
        }
        redact(&text).into_owned()
    }
}

/// What one HTTP attempt came to.
enum Outcome {
    Done,
    /// A 429: how long the service asked us to wait, and the error to report if the retry fails the same way.
    RetryAfter(Duration, String),
    Failed(String),
}

#[derive(Deserialize)]
struct TelegramReply {
    #[serde(default)]
    ok: bool,
    description: Option<String>,
    parameters: Option<TelegramParameters>,
}

#[derive(Deserialize)]
struct TelegramParameters {
    retry_after: Option<u64>,
}

fn telegram_outcome(response: Response) -> Outcome {
    let status = response.status();
    let header_wait = retry_after_header(&response);
    let body = response.text().unwrap_or_default();
    let reply: Option<TelegramReply> = serde_json::from_str(&body).ok();
    if status.is_success() && reply.as_ref().is_some_and(|r| r.ok) {
        return Outcome::Done;
    }
    let description = reply
        .as_ref()
        .and_then(|r| r.description.clone())
        .unwrap_or_else(|| quote(&body));
    let err = format!(
        "telegram `sendMessage` answered {}: {description}",
        status_text(status)
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = reply
            .and_then(|r| r.parameters)
            .and_then(|p| p.retry_after)
            .map(Duration::from_secs)
            .or(header_wait)
            .unwrap_or(Duration::from_secs(1));
        Outcome::RetryAfter(wait, err)
    } else {
        Outcome::Failed(err)
    }
}

fn slack_outcome(response: Response) -> Outcome {
    let status = response.status();
    let header_wait = retry_after_header(&response);
    let body = response.text().unwrap_or_default();
    if status.is_success() {
        return Outcome::Done;
    }
    let err = format!(
        "the Slack webhook answered {}: {}",
        status_text(status),
        quote(&body)
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        Outcome::RetryAfter(header_wait.unwrap_or(Duration::from_secs(1)), err)
    } else {
        Outcome::Failed(err)
    }
}

fn retry_after_header(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

/// A piece of one line of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Span {
    Text(String),
    Bold(String),
    Code(String),
    Link { href: String, text: String },
}

type Line = Vec<Span>;

/// The message as lines of spans, every piece of text redacted and clipped.
fn lines(summary: &Summary<'_>) -> Vec<Line> {
    let text =
        |raw: &str, max: usize| clip(&for_publishing(raw, summary.keep_pii), max).into_owned();
    let mut lines = vec![vec![
        Span::Bold("Daydream".to_owned()),
        Span::Text(format!(
            " · {} · {}",
            text(summary.project, PROJECT_MAX_CHARS),
            summary.date
        )),
    ]];
    for (step, count) in &summary.counts {
        lines.push(vec![Span::Text(format!(
            "{}: {}",
            text(step, STEP_MAX_CHARS),
            text(count, COUNT_MAX_CHARS)
        ))]);
    }
    if !summary.actions.is_empty() {
        lines.push(Vec::new());
        lines.push(vec![Span::Bold("Action required".to_owned())]);
        for action in summary.actions.iter().take(MAX_ACTIONS) {
            let mut line = vec![Span::Text("• ".to_owned())];
            line.extend(backticks(&text(action, ACTION_MAX_CHARS)));
            lines.push(line);
        }
        if summary.actions.len() > MAX_ACTIONS {
            lines.push(vec![Span::Text(format!(
                "and {} more",
                summary.actions.len() - MAX_ACTIONS
            ))]);
        }
    }
    if let Some(link) = &summary.link {
        let link = redact(link.trim()).into_owned();
        lines.push(Vec::new());
        lines.push(vec![if link.chars().count() > LINK_MAX_CHARS {
            Span::Text(format!("report issue: {}", clip(&link, LINK_MAX_CHARS)))
        } else {
            Span::Link {
                href: link,
                text: "report issue".to_owned(),
            }
        }]);
    }
    lines
}

/// Markdown-ish text to spans: `` `code` `` becomes code, an unmatched backtick stays as it is.
fn backticks(text: &str) -> Vec<Span> {
    let pieces: Vec<&str> = text.split('`').collect();
    // An even number of pieces means an odd number of backticks: the last one opens nothing.
    let paired = if pieces.len().is_multiple_of(2) {
        pieces.len() - 2
    } else {
        pieces.len()
    };
    let mut spans = Vec::new();
    for (i, piece) in pieces[..paired].iter().enumerate() {
        if i % 2 == 1 && !piece.is_empty() {
            spans.push(Span::Code((*piece).to_owned()));
        } else if i % 2 == 1 {
            spans.push(Span::Text("``".to_owned()));
        } else if !piece.is_empty() {
            spans.push(Span::Text((*piece).to_owned()));
        }
    }
    if paired < pieces.len() {
        spans.push(Span::Text(pieces[paired..].join("`")));
    }
    spans
}

/// `text` in at most `max` characters, the last one "…" when it was cut.
fn clip(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((end, _)) if text[end..].chars().nth(1).is_some() => {
            Cow::Owned(format!("{}…", &text[..end]))
        }
        _ => Cow::Borrowed(text),
    }
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Appends `c` escaped for Telegram HTML text and returns what it added, in UTF-16 units.
fn push_html_char(out: &mut String, c: char) -> usize {
    let escaped = match c {
        '&' => "&amp;",
        '<' => "&lt;",
        '>' => "&gt;",
        _ => {
            out.push(c);
            return c.len_utf16();
        }
    };
    out.push_str(escaped);
    escaped.len()
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_html_char(&mut out, c);
    }
    out
}

/// The opening and closing tags of a span in Telegram HTML, and its text.
fn html_tags(span: &Span) -> (String, &'static str, &str) {
    match span {
        Span::Text(text) => (String::new(), "", text),
        Span::Bold(text) => ("<b>".to_owned(), "</b>", text),
        Span::Code(text) => ("<code>".to_owned(), "</code>", text),
        Span::Link { href, text } => (
            format!("<a href=\"{}\">", html_escape(href).replace('"', "&quot;")),
            "</a>",
            text,
        ),
    }
}

fn html_line(line: &[Span]) -> String {
    let mut out = String::new();
    for span in line {
        let (open, close, text) = html_tags(span);
        out.push_str(&open);
        out.push_str(&html_escape(text));
        out.push_str(close);
    }
    out
}

/// Joins the lines into messages of at most `max` UTF-16 units, breaking between lines; a line too long for one
/// message is cut between characters, never inside an entity, with its open tag closed and reopened.
fn telegram_parts(lines: &[Line], max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in lines {
        let html = html_line(line);
        let len = utf16_len(&html);
        if current.is_empty() && len == 0 {
            // A blank line does not start a message.
            continue;
        }
        let sep = usize::from(!current.is_empty());
        if current_len + sep + len <= max {
            if sep == 1 {
                current.push('\n');
            }
            current.push_str(&html);
            current_len += sep + len;
            continue;
        }
        finish_part(&mut parts, &mut current);
        if len <= max {
            current = html;
            current_len = len;
        } else {
            let mut pieces = cut_line(line, max);
            current = pieces.pop().unwrap_or_default();
            current_len = utf16_len(&current);
            parts.extend(pieces);
        }
    }
    finish_part(&mut parts, &mut current);
    parts
}

fn finish_part(parts: &mut Vec<String>, current: &mut String) {
    let part = std::mem::take(current);
    let part = part.trim_end_matches('\n');
    if !part.is_empty() {
        parts.push(part.to_owned());
    }
}

/// One line's HTML in pieces of at most `max` UTF-16 units, each piece's tags balanced.
fn cut_line(line: &[Span], max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for span in line {
        let (open, close, text) = html_tags(span);
        let (open_len, close_len) = (utf16_len(&open), utf16_len(close));
        let mut opened = false;
        for c in text.chars() {
            let mut escaped = String::new();
            let len = push_html_char(&mut escaped, c);
            let need = len + close_len + if opened { 0 } else { open_len };
            if current_len + need > max && current_len > 0 {
                if opened {
                    current.push_str(close);
                }
                pieces.push(std::mem::take(&mut current));
                current_len = 0;
                opened = false;
            }
            if !opened {
                current.push_str(&open);
                current_len += open_len;
                opened = true;
            }
            current.push_str(&escaped);
            current_len += len;
        }
        if opened {
            current.push_str(close);
            current_len += close_len;
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Slack's three escapes (`&`, `<`, `>`); everything else is literal in mrkdwn text.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn slack_line(line: &[Span]) -> String {
    let mut out = String::new();
    for span in line {
        match span {
            Span::Text(text) => out.push_str(&slack_escape(text)),
            Span::Bold(text) => {
                out.push('*');
                out.push_str(&slack_escape(text));
                out.push('*');
            }
            Span::Code(text) => {
                out.push('`');
                out.push_str(&slack_escape(text));
                out.push('`');
            }
            Span::Link { href, text } => {
                // `|` and `>` would end the URL part of `<url|text>`.
                let href = href
                    .replace('|', "%7C")
                    .replace('<', "%3C")
                    .replace('>', "%3E");
                out.push('<');
                out.push_str(&href);
                out.push('|');
                out.push_str(&slack_escape(text));
                out.push('>');
            }
        }
    }
    out
}

/// The Slack message: whole lines up to Slack's limit.
fn slack_text(lines: &[Line]) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for line in lines {
        let text = slack_line(line);
        let len = text.chars().count() + 1;
        if chars + len > SLACK_MAX_CHARS {
            out.push('…');
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&text);
        chars += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fake_http::FakeHttp;
    use super::*;

    /// Shaped like a real bot token, so both the literal scrub and the redaction rule would catch it.
    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq";

    fn notifier(server: &FakeHttp, slack: bool) -> Notifier {
        let base = server.url();
        let webhook = format!("{}/slack/T000/B000/XXXXXXXXXXXX", server.url());
        let webhook = if slack { webhook.as_str() } else { "" };
        let env = Env::from_pairs([
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_BASE", base.as_str()),
            ("DAYDREAM_SLACK_WEBHOOK_URL", webhook),
            ("DAYDREAM_NOTIFY_MAX_WAIT_MS", "50"),
        ]);
        Notifier::from_env(&env)
    }

    fn summary(actions: Vec<String>) -> Summary<'static> {
        Summary {
            keep_pii: false,
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            project: "Valor",
            counts: vec![
                ("cleanup".to_owned(), "3 artifacts removed".to_owned()),
                ("logs".to_owned(), "32 errors, 26 warnings".to_owned()),
            ],
            actions,
            link: Some("https://github.com/tomcounsell/ai/issues/42".to_owned()),
        }
    }

    fn sent_texts(server: &FakeHttp) -> Vec<String> {
        server
            .received()
            .iter()
            .filter(|r| r.path.contains("/sendMessage"))
            .map(|r| r.json()["text"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn telegram_message_has_project_date_counts_actions_and_link() {
        let server = FakeHttp::start();
        let notifier = notifier(&server, false);
        let results = notifier.send(
            &summary(vec!["Fix `parse_config` in `src/config.rs`".to_owned()]),
            Some("-1001234567890"),
        );
        assert_eq!(
            results,
            vec![("telegram", Ok(Sent::Telegram { messages: 1 }))]
        );

        let received = server.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].method, "POST");
        assert_eq!(received[0].path, format!("/bot{TOKEN}/sendMessage"));
        let body = received[0].json();
        assert_eq!(body["chat_id"], "-1001234567890");
        assert_eq!(body["parse_mode"], "HTML");
        assert_eq!(body["disable_web_page_preview"], true);
        assert_eq!(
            body["text"].as_str().unwrap(),
            "<b>Daydream</b> · Valor · 2026-11-20\n\
             cleanup: 3 artifacts removed\n\
             logs: 32 errors, 26 warnings\n\
             \n\
             <b>Action required</b>\n\
             • Fix <code>parse_config</code> in <code>src/config.rs</code>\n\
             \n\
             <a href=\"https://github.com/tomcounsell/ai/issues/42\">report issue</a>"
        );
    }

    #[test]
    fn actions_are_bounded_with_a_count_of_the_rest() {
        let actions = (1..=13).map(|i| format!("action {i}")).collect();
        let (parts, slack) = notifier(&FakeHttp::start(), true).render(&summary(actions));
        assert_eq!(parts.len(), 1);
        assert!(
            parts[0].contains("• action 10\nand 3 more\n"),
            "{}",
            parts[0]
        );
        assert!(!parts[0].contains("action 11"));
        assert!(slack.contains("• action 10\nand 3 more\n"), "{slack}");
    }

    #[test]
    fn html_is_escaped_everywhere() {
        let mut s = summary(vec!["<script>alert(1)</script> & `a<b && c>d`".to_owned()]);
        s.project = "R&D <tools>";
        s.link = Some("https://example.com/?a=1&b=\"2\"".to_owned());
        let (parts, _) = notifier(&FakeHttp::start(), false).render(&s);
        let text = &parts[0];
        assert!(
            text.starts_with("<b>Daydream</b> · R&amp;D &lt;tools&gt; · 2026-11-20\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "• &lt;script&gt;alert(1)&lt;/script&gt; &amp; <code>a&lt;b &amp;&amp; c&gt;d</code>"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "<a href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\">report issue</a>"
            ),
            "{text}"
        );
        assert!(!text.contains("<script>"));
    }

    #[test]
    fn secrets_are_redacted_before_escaping() {
        let s = summary(vec![format!(
            "bot token {TOKEN} leaked in logs & password=hunter2"
        )]);
        let (parts, slack) = notifier(&FakeHttp::start(), true).render(&s);
        for text in [&parts[0], &slack] {
            assert!(!text.contains(TOKEN), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
            assert!(
                text.contains("bot token [REDACTED] leaked in logs &amp; password=[REDACTED]"),
                "{text}"
            );
        }
    }

    #[test]
    fn long_messages_split_at_lines_under_the_limit_and_keep_every_action_in_order() {
        let actions: Vec<String> = (0..10)
            .map(|i| format!("action {i}: {} <{i}> & done", "é✓🦀".repeat(150)))
            .collect();
        let server = FakeHttp::start();
        let notifier = notifier(&server, false);
        let (parts, _) = notifier.render(&summary(actions.clone()));
        assert!(parts.len() >= 2, "{} parts", parts.len());
        for part in &parts {
            assert!(utf16_len(part) < 4096, "{} UTF-16 units", utf16_len(part));
            assert!(!part.starts_with('\n') && !part.ends_with('\n'));
        }
        let joined = parts.join("\n");
        let mut from = 0;
        for action in &actions {
            let line = format!("• {}", html_escape(action));
            let at = joined[from..]
                .find(&line)
                .unwrap_or_else(|| panic!("missing or out of order: {line}"));
            from += at + line.len();
        }

        let results = notifier.send(&summary(actions), Some("42"));
        assert_eq!(
            results,
            vec![(
                "telegram",
                Ok(Sent::Telegram {
                    messages: parts.len()
                })
            )]
        );
        assert_eq!(sent_texts(&server), parts);
    }

    #[test]
    fn a_line_longer_than_a_message_is_cut_outside_entities_and_tags() {
        // 5 UTF-16 units per `&` once escaped, a code span that must be closed and reopened across the cut.
        let line = vec![
            Span::Text("x".repeat(7)),
            Span::Code("&".repeat(3000)),
            Span::Text("<".repeat(100)),
        ];
        let parts = telegram_parts(&[line], TELEGRAM_PART_MAX);
        assert_eq!(parts.len(), 4);
        let mut text = String::new();
        for part in &parts {
            assert!(utf16_len(part) <= TELEGRAM_PART_MAX);
            assert_eq!(
                part.matches("<code>").count(),
                part.matches("</code>").count(),
                "{part}"
            );
            // Every `&` starts a whole entity.
            for (at, _) in part.match_indices('&') {
                assert!(
                    part[at..].starts_with("&amp;") || part[at..].starts_with("&lt;"),
                    "broken entity at {at}"
                );
            }
            text.push_str(&part.replace("<code>", "").replace("</code>", ""));
        }
        assert_eq!(
            text,
            format!(
                "{}{}{}",
                "x".repeat(7),
                "&amp;".repeat(3000),
                "&lt;".repeat(100)
            )
        );
    }

    #[test]
    fn backticks_become_code_and_unmatched_ones_stay() {
        assert_eq!(
            backticks("run `cargo test` then `x"),
            vec![
                Span::Text("run ".to_owned()),
                Span::Code("cargo test".to_owned()),
                Span::Text(" then `x".to_owned()),
            ]
        );
        assert_eq!(
            backticks("a``b"),
            vec![
                Span::Text("a".to_owned()),
                Span::Text("``".to_owned()),
                Span::Text("b".to_owned()),
            ]
        );
        assert_eq!(backticks("plain"), vec![Span::Text("plain".to_owned())]);
        assert_eq!(clip("abcdef", 3), "ab…");
        assert_eq!(clip("abcd", 4), "abcd");
        assert_eq!(clip("é✓🦀x", 3), "é✓…");
        assert_eq!(clip("abc", 3), "abc");
    }

    #[test]
    fn a_429_is_waited_out_once_then_retried() {
        let server = FakeHttp::start();
        server.respond(
            "/bot",
            429,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#,
            &[],
        );
        let started = Instant::now();
        let results = notifier(&server, false).send(&summary(Vec::new()), Some("42"));
        assert_eq!(
            results,
            vec![("telegram", Ok(Sent::Telegram { messages: 1 }))]
        );
        assert_eq!(server.received().len(), 2);
        assert_eq!(server.received()[0].body, server.received()[1].body);
        // The test knob caps the 1 s wait at 50 ms.
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_second_429_is_an_error_with_telegrams_description() {
        let server = FakeHttp::start();
        for _ in 0..2 {
            server.respond(
                "/bot",
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#,
                &[],
            );
        }
        let results = notifier(&server, false).send(&summary(Vec::new()), Some("42"));
        assert_eq!(server.received().len(), 2);
        let err = results[0].1.clone().unwrap_err();
        assert_eq!(
            err,
            "telegram `sendMessage` answered 429 Too Many Requests: Too Many Requests: retry after 5 \
             (again after waiting 50 ms)"
        );
    }

    #[test]
    fn a_server_error_is_an_error_and_the_token_never_shows() {
        let server = FakeHttp::start();
        // A body that echoes the request URL, as proxies and error pages do.
        server.respond(
            "/bot",
            500,
            &format!("<html>oops at /bot{TOKEN}/sendMessage</html>"),
            &[],
        );
        server.respond("/slack", 500, "", &[]);
        let results = notifier(&server, true).send(&summary(Vec::new()), Some("42"));
        assert_eq!(server.received().len(), 2, "no retry on a 500");
        let telegram = results[0].1.clone().unwrap_err();
        assert!(
            telegram.starts_with(
                "telegram `sendMessage` answered 500 Internal Server Error: `<html>oops at /bot"
            ),
            "{telegram}"
        );
        assert!(
            !telegram.contains(TOKEN) && !telegram.contains("AAHdqTcv"),
            "{telegram}"
        );
        let slack = results[1].1.clone().unwrap_err();
        assert_eq!(
            slack,
            "the Slack webhook answered 500 Internal Server Error: (empty body)"
        );

        let refused = {
            let closed = FakeHttp::start();
            let url = closed.url();
            drop(closed);
            std::thread::sleep(Duration::from_millis(50));
            url
        };
        let env = Env::from_pairs([
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_BASE", refused.as_str()),
            (
                "DAYDREAM_SLACK_WEBHOOK_URL",
                &format!("{refused}/slack/T000/B000/SECRETSECRET"),
            ),
        ]);
        let results = Notifier::from_env(&env).send(&summary(Vec::new()), Some("42"));
        assert_eq!(results.len(), 2);
        for (channel, result) in results {
            let err = result.unwrap_err();
            assert!(err.contains("error sending request"), "{channel}: {err}");
            assert!(
                !err.contains(TOKEN) && !err.contains("AAHdqTcv"),
                "{channel}: {err}"
            );
            assert!(!err.contains("SECRETSECRET"), "{channel}: {err}");
        }
    }

    #[test]
    fn slack_gets_plain_text_with_slack_escapes_and_link_syntax() {
        let server = FakeHttp::start();
        server.respond("/slack/", 200, "ok", &[("Content-Type", "text/plain")]);
        let mut s = summary(vec!["<script> & `x > y`".to_owned()]);
        s.link = Some("https://github.com/o/r/issues/7?a|b>".to_owned());
        let results = notifier(&server, true).send(&s, None);
        assert_eq!(results, vec![("slack", Ok(Sent::Slack))]);
        let received = server.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].path, "/slack/T000/B000/XXXXXXXXXXXX");
        assert_eq!(received[0].header("content-type"), Some("application/json"));
        assert_eq!(
            received[0].json(),
            serde_json::json!({
                "text": "*Daydream* · Valor · 2026-11-20\n\
                         cleanup: 3 artifacts removed\n\
                         logs: 32 errors, 26 warnings\n\
                         \n\
                         *Action required*\n\
                         • &lt;script&gt; &amp; `x &gt; y`\n\
                         \n\
                         <https://github.com/o/r/issues/7?a%7Cb%3E|report issue>",
                "unfurl_links": false,
            })
        );
    }

    #[test]
    fn a_slack_429_honours_retry_after_once() {
        let server = FakeHttp::start();
        server.respond("/slack/", 429, "rate_limited", &[("Retry-After", "1")]);
        server.respond("/slack/", 429, "rate_limited", &[("Retry-After", "1")]);
        let results = notifier(&server, true).send(&summary(Vec::new()), None);
        assert_eq!(server.received().len(), 2);
        assert_eq!(
            results[0].1.clone().unwrap_err(),
            "the Slack webhook answered 429 Too Many Requests: `rate_limited` (again after waiting 50 ms)"
        );
    }

    #[test]
    fn channels_follow_configuration() {
        let server = FakeHttp::start();
        let both = notifier(&server, true);
        assert_eq!(both.channels(Some("42")), vec!["telegram", "slack"]);
        assert_eq!(both.channels(None), vec!["slack"]);
        assert_eq!(both.channels(Some(" ")), vec!["slack"]);

        let none = Notifier::from_env(&Env::from_pairs([(
            "TELEGRAM_API_BASE",
            server.url().as_str(),
        )]));
        assert!(none.channels(Some("42")).is_empty());
        assert!(none.send(&summary(Vec::new()), Some("42")).is_empty());
        assert!(
            notifier(&server, false)
                .send(&summary(Vec::new()), None)
                .is_empty()
        );
        assert!(server.received().is_empty());
    }

    #[test]
    fn a_signal_during_the_wait_ends_it() {
        let server = FakeHttp::start();
        server.respond(
            "/bot",
            429,
            r#"{"ok":false,"description":"Too Many Requests: retry after 30","parameters":{"retry_after":30}}"#,
            &[],
        );
        let env = Env::from_pairs([
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_BASE", server.url().as_str()),
        ]);
        let cancel = Cancel::default();
        cancel.trigger(15);
        let started = Instant::now();
        let results = Notifier::from_env(&env)
            .with_cancel(cancel)
            .send(&summary(Vec::new()), Some("42"));
        assert_eq!(results[0].1.clone().unwrap_err(), "interrupted by SIGTERM");
        assert_eq!(server.received().len(), 1);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
