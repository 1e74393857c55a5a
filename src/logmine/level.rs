//! The severity of a log line: uppercase level words among its first words (`ERROR`, `WARNING`, ...), lowercase
//! ones in brackets as Apache and nginx write them (`[error]`, `[core:warn]`), a leading `error:`, logfmt
//! `level=error` and JSON `"level":"error"` (or pino's numeric levels).
//!
//! Prose is not a level: `no error found` and `INFO retried, ERROR count 0` are not errors, because only the
//! first words are looked at, lowercase words only in the positions above, and the first level word wins.

use serde::{Deserialize, Serialize};

use super::mask::{JsonValue, json_field, logfmt_field};

/// CRITICAL, FATAL, EMERG, ALERT and PANIC count as errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Level {
    Error,
    Warning,
    /// INFO, DEBUG and lines without a level.
    Other,
}

impl Level {
    pub(crate) fn is_notable(self) -> bool {
        matches!(self, Level::Error | Level::Warning)
    }
}

/// The level of a message and where its text starts after the level word (so templates do not start with the
/// logger name and level: `- app.pay - ERROR - Payment failed` reads as `Payment failed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Detected {
    pub(crate) level: Level,
    pub(crate) body: usize,
}

/// How many words from the start a level word may be (after a logger name such as `app.payments.gateway`).
const MAX_WORDS: usize = 8;
/// How far into the message a level word may be.
const HEAD: usize = 96;
/// How far into a logfmt line `level=` is looked for.
const LOGFMT_HEAD: usize = 512;

const LEVEL_KEYS: &[&str] = &[
    "level",
    "severity",
    "levelname",
    "lvl",
    "loglevel",
    "log.level",
    "@l",
];

/// The level of `message` (a log line after its timestamp).
pub(crate) fn detect(message: &[u8]) -> Detected {
    let first = message
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(message.len());
    let other = Detected {
        level: Level::Other,
        body: first,
    };
    if message.get(first) == Some(&b'{') {
        let level = match json_field(message, LEVEL_KEYS) {
            Some((_, JsonValue::Str(word))) => named(word, false),
            Some((_, JsonValue::Num(n))) => numeric(n),
            None => None,
        };
        return Detected {
            level: level.unwrap_or(Level::Other),
            body: first,
        };
    }
    if let Some(found) = leading_word(message, first) {
        return found;
    }
    if message.contains(&b'=') {
        let head = &message[..message.len().min(LOGFMT_HEAD)];
        if let Some(level) = logfmt_field(head, LEVEL_KEYS).and_then(|w| named(w, false)) {
            return Detected { level, body: first };
        }
    }
    if failure_phrase(&message[..message.len().min(HEAD * 2)]) {
        return Detected {
            level: Level::Error,
            body: first,
        };
    }
    match http_status(message) {
        // An access log line has no level; a server error (5xx) is one.
        Some(500..=599) => Detected {
            level: Level::Error,
            body: first,
        },
        _ => other,
    }
}

/// What system logs say of a failure without a level word: systemd's `Failed with result 'exit-code'`, the
/// kernel's `segfault at ...`.
fn failure_phrase(head: &[u8]) -> bool {
    head.windows(18).any(|w| w == b"Failed with result")
        || head.windows(12).any(|w| w == b"segfault at ")
}

/// The status of an access-log line (`"GET /x HTTP/1.1" 502 166`): the three digits after the request's
/// closing quote.
fn http_status(message: &[u8]) -> Option<u16> {
    let at = message.windows(6).position(|w| w == b" HTTP/")?;
    let quote = at + message[at..].iter().position(|&b| b == b'"')?;
    let rest = message.get(quote + 1..)?;
    let digits = rest.strip_prefix(b" ")?;
    let code = digits.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit)
        || digits.get(3).is_some_and(|b| !b.is_ascii_whitespace())
    {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

fn leading_word(message: &[u8], first: usize) -> Option<Detected> {
    let limit = message.len().min(HEAD);
    let mut i = first;
    let mut negated = false;
    for index in 0..MAX_WORDS {
        while i < limit && !message[i].is_ascii_alphabetic() {
            i += 1;
        }
        if i >= limit {
            return None;
        }
        let start = i;
        while i < message.len() && message[i].is_ascii_alphabetic() {
            i += 1;
        }
        let word = &message[start..i];
        let before = if start == 0 { b' ' } else { message[start - 1] };
        let after = message.get(i).copied().unwrap_or(b' ');
        let glued = |b: u8| b.is_ascii_digit() || b == b'_';
        if glued(before) || glued(after) {
            negated = false;
            continue;
        }
        let bracketed = matches!(before, b'[' | b':' | b'<') && matches!(after, b']' | b'>');
        // `error:` first, or first after a syslog tag (`host sshd[812]: error: ...`).
        let after_tag = message[..start].trim_ascii_end().ends_with(b":");
        let leading = (index == 0 || after_tag) && after == b':';
        let level = if bracketed || leading {
            // `[error]`, `[core:warn]`, `error:`, `Warning:`, and .NET's `fail:`.
            named(word, true)
        } else if word.iter().all(u8::is_ascii_uppercase) {
            named(word, false)
        } else {
            None
        };
        match level {
            Some(level) if !negated => {
                let mut body = i;
                while message.get(body).is_some_and(|b| b" \t:]>-|)".contains(b)) {
                    body += 1;
                }
                return Some(Detected { level, body });
            }
            _ => {}
        }
        if stops(word) {
            // INFO, DEBUG, ...: the line has its level, and it is not notable.
            let mut body = i;
            while message.get(body).is_some_and(|b| b" \t:]>-|)".contains(b)) {
                body += 1;
            }
            return Some(Detected {
                level: Level::Other,
                body,
            });
        }
        negated = [&b"no"[..], b"not", b"non", b"without", b"zero"]
            .iter()
            .any(|n| word.eq_ignore_ascii_case(n));
    }
    None
}

/// A level name, in any case (callers decide where case matters); `fail` only where .NET writes it.
fn named(word: &[u8], fail: bool) -> Option<Level> {
    let mut buf = [0_u8; 12];
    let lower = buf.get_mut(..word.len())?;
    for (d, s) in lower.iter_mut().zip(word) {
        *d = s.to_ascii_lowercase();
    }
    match &*lower {
        b"error" | b"err" | b"critical" | b"crit" | b"fatal" | b"severe" | b"emerg"
        | b"emergency" | b"alert" | b"panic" => Some(Level::Error),
        b"fail" if fail => Some(Level::Error),
        b"warning" | b"warn" => Some(Level::Warning),
        _ => None,
    }
}

fn stops(word: &[u8]) -> bool {
    word.iter().all(u8::is_ascii_uppercase)
        && matches!(
            word,
            b"INFO"
                | b"INF"
                | b"DEBUG"
                | b"DBG"
                | b"TRACE"
                | b"NOTICE"
                | b"VERBOSE"
                | b"FINE"
                | b"FINER"
                | b"FINEST"
                | b"CONFIG"
        )
}

/// pino and bunyan: 60 fatal, 50 error, 40 warn.
fn numeric(number: &[u8]) -> Option<Level> {
    match std::str::from_utf8(number).ok()?.parse::<u32>().ok()? {
        50.. => Some(Level::Error),
        40..=49 => Some(Level::Warning),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn access_log_server_errors_are_errors() {
        let line = br#"10.0.1.23 - - [20/Nov/2026:02:38:19 +0000] "POST /checkout HTTP/1.1" 502 166 "-" "curl/8""#;
        assert_eq!(super::detect(line).level, super::Level::Error);
        let ok =
            br#"10.0.1.23 - - [20/Nov/2026:02:38:19 +0000] "GET / HTTP/1.1" 200 166 "-" "curl/8""#;
        assert_eq!(super::detect(ok).level, super::Level::Other);
        let missing = br#"10.0.1.23 - - [20/Nov/2026:02:38:19 +0000] "GET /x HTTP/1.1" 404 0"#;
        assert_eq!(super::detect(missing).level, super::Level::Other);
        assert_eq!(super::http_status(br#""GET / HTTP/2.0" 503"#), Some(503));
        assert_eq!(super::http_status(b"GET / HTTP/1.1 took 5000ms"), None);
    }

    use super::*;

    fn level(message: &str) -> Level {
        detect(message.as_bytes()).level
    }

    fn body(message: &str) -> &str {
        &message[detect(message.as_bytes()).body..]
    }

    #[test]
    fn uppercase_level_words_among_the_first_words() {
        assert_eq!(level(" ERROR Payment failed"), Level::Error);
        assert_eq!(
            level(" - app.payments.gateway - CRITICAL - down"),
            Level::Error
        );
        assert_eq!(level(" [main] c.e.Svc FATAL boom"), Level::Error);
        assert_eq!(level(" WARNING:root:disk almost full"), Level::Warning);
        assert_eq!(level(" ERROR:root:x"), Level::Error);
        assert_eq!(level("  WARN  [pool-1] slow"), Level::Warning);
        assert_eq!(level(" INFO started"), Level::Other);
        assert_eq!(level(" DEBUG x"), Level::Other);
    }

    #[test]
    fn syslog_failures_are_errors_and_prose_is_not() {
        assert_eq!(
            level("myhost sshd[812]: error: kex_exchange_identification: closed"),
            Level::Error
        );
        assert_eq!(
            level("myhost app[1]: fatal: unable to access the repository"),
            Level::Error
        );
        assert_eq!(
            level("myhost systemd[1]: backup.service: Failed with result 'exit-code'."),
            Level::Error
        );
        assert_eq!(
            level("myhost kernel: app[99]: segfault at 0 ip 00007f sp 00007f error 4"),
            Level::Error
        );
        assert_eq!(
            level("panic: runtime error: index out of range [3] with length 3"),
            Level::Error
        );
        assert_eq!(
            level("myhost sshd[812]: warning: no matching key exchange"),
            Level::Warning
        );
        assert_eq!(
            level("myhost cron[2]: (root) CMD (run-parts /etc/cron.hourly)"),
            Level::Other
        );
        assert_eq!(
            level("myhost app[1]: note: the error: field is documented"),
            Level::Other
        );
        assert_eq!(
            level("myhost systemd[1]: Started backup.service."),
            Level::Other
        );
    }

    #[test]
    fn brackets_and_leading_words_in_any_case() {
        assert_eq!(level(" [error] 12#0: *1 open() failed"), Level::Error);
        assert_eq!(level(" [core:error] [pid 1] AH00037: x"), Level::Error);
        assert_eq!(level(" [warn] conflicting server name"), Level::Warning);
        assert_eq!(level(" [crit] 1#1: x"), Level::Error);
        assert_eq!(level("error: cannot open file"), Level::Error);
        assert_eq!(level("Warning: deprecated option"), Level::Warning);
        assert_eq!(level("fail: Microsoft.AspNetCore.Server[1]"), Level::Error);
    }

    #[test]
    fn logfmt_and_json_levels() {
        assert_eq!(level(" level=error msg=\"db timeout\""), Level::Error);
        assert_eq!(level("ts=1 lvl=WARN msg=x"), Level::Warning);
        assert_eq!(level(" level=info msg=\"an error\""), Level::Other);
        assert_eq!(level(r#"{"level":"error","msg":"x"}"#), Level::Error);
        assert_eq!(level(r#"{"msg":"x","severity":"WARNING"}"#), Level::Warning);
        assert_eq!(
            level(r#"{"levelname": "CRITICAL", "message": "x"}"#),
            Level::Error
        );
        assert_eq!(level(r#"{"level":50,"msg":"x"}"#), Level::Error);
        assert_eq!(level(r#"{"level":40,"msg":"x"}"#), Level::Warning);
        assert_eq!(level(r#"{"level":30,"msg":"an error"}"#), Level::Other);
        assert_eq!(level(r#"{"@l":"Error","@m":"x"}"#), Level::Error);
    }

    #[test]
    fn prose_about_errors_is_not_an_error() {
        for line in [
            " no error found",
            " INFO no ERROR found",
            " NO ERROR FOUND",
            " INFO request finished, ERROR count 0",
            " checked 5 files, errors: 0",
            " processed ERRORS_TOTAL=0",
            " user clicked the Error tab",
            " E0101 glog-like prefix",
            " one two three four five six seven eight nine ERROR too far in",
        ] {
            assert_eq!(level(line), Level::Other, "{line:?}");
        }
    }

    #[test]
    fn body_starts_after_the_level() {
        assert_eq!(
            body(" - app.pay - ERROR - Payment failed"),
            "Payment failed"
        );
        assert_eq!(body(" [error] 12#0: x"), "12#0: x");
        assert_eq!(body(" INFO started"), "started");
        assert_eq!(body(" plain message"), "plain message");
    }
}
