//! Secrets in text that leaves the machine (log lines and stack traces in the report, issues, Telegram, Slack,
//! and what is sent to Claude) are replaced with `[REDACTED]`.
//!
//! Each rule keeps enough around the secret to read the line (`password=[REDACTED]`,
//! `postgres://app:[REDACTED]@db`). Ordinary prose is left alone: rules need a key name, a known token shape or a
//! URL's user-info, never just a long word.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

pub(crate) const REDACTED: &str = "[REDACTED]";

/// Key names whose values are secrets, as a regex fragment (`db_password`, `API-KEY`, `client_secret`, ...).
const SECRET_KEY: &str = r"[\w.-]*?(?:password|passwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?)[\w.-]*";

enum Replace {
    /// A replacement string with `$name` references.
    With(&'static str),
    /// `key=value`: the value is replaced unless it is already a placeholder (`<*>` of a template, `[REDACTED]`).
    KeyValue,
}

struct Rule {
    re: Regex,
    replace: Replace,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pattern: &str, replace| Rule {
        re: Regex::new(pattern).expect("redaction patterns are valid"),
        replace,
    };
    vec![
        rule(
            r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            Replace::With(REDACTED),
        ),
        // `Authorization: Bearer xxx`, `Authorization: Basic xxx`, `"authorization": "token xxx"`.
        rule(
            r#"(?i)(?P<keep>\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|bot|digest)\s+)?)[^\s"',;]+"#,
            Replace::With("${keep}[REDACTED]"),
        ),
        rule(
            r"(?i)(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/-]{12,}=*",
            Replace::With("${keep}[REDACTED]"),
        ),
        rule(
            r"(?i)(?P<keep>\bx-api-key\s*:\s*)\S+",
            Replace::With("${keep}[REDACTED]"),
        ),
        // JSON: `"password": "hunter2"`.
        rule(
            &format!(r#"(?i)(?P<keep>"{SECRET_KEY}"\s*:\s*)"(?:[^"\\]|\\.)*""#),
            Replace::With(r#"${keep}"[REDACTED]""#),
        ),
        // `password=hunter2`, `api_key="abc def"`, `?token=abc&x=1`.
        rule(
            &format!(
                r#"(?i)(?P<keep>\b{SECRET_KEY}\s*=\s*)(?P<value>"[^"]*"|'[^']*'|[^\s&,;"'<>]+)"#
            ),
            Replace::KeyValue,
        ),
        // Sentry DSN keys: `https://<32 hex>[:<32 hex>]@o1.ingest.sentry.io/2`.
        rule(
            r"(?i)(?P<keep>\bhttps?://)[0-9a-f]{32}(?::[0-9a-f]{32})?@",
            Replace::With("${keep}[REDACTED]@"),
        ),
        // The password of a URL's user-info: `postgres://user:pass@host/db`.
        rule(
            r#"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@"'<>]+:)[^\s@/"'<>]+@"#,
            Replace::With("${keep}[REDACTED]@"),
        ),
        rule(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
            Replace::With(REDACTED),
        ),
        rule(r"\bxox[abposr]-[A-Za-z0-9-]{10,}", Replace::With(REDACTED)),
        rule(
            r"(?P<keep>hooks\.slack\.com/services/)[A-Za-z0-9/_-]+",
            Replace::With("${keep}[REDACTED]"),
        ),
        rule(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", Replace::With(REDACTED)),
        // Anthropic (`sk-ant-...`), OpenAI (`sk-...`, `sk-proj-...`), Stripe (`sk_live_...`).
        rule(r"\bsk-[A-Za-z0-9_-]{20,}", Replace::With(REDACTED)),
        rule(
            r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
            Replace::With(REDACTED),
        ),
        rule(r"\bAIza[0-9A-Za-z_-]{35}", Replace::With(REDACTED)),
        rule(
            r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            Replace::With(REDACTED),
        ),
        // Telegram bot tokens, also inside `api.telegram.org/bot<token>/`.
        rule(r"\d{8,10}:[A-Za-z0-9_-]{35}", Replace::With(REDACTED)),
    ]
});

/// `text` with secrets replaced by `[REDACTED]`; borrowed when there was nothing to replace.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for rule in RULES.iter() {
        let replaced = match &rule.replace {
            Replace::With(with) => rule.re.replace_all(&out, *with),
            Replace::KeyValue => rule.re.replace_all(&out, |caps: &Captures<'_>| {
                let value = &caps["value"];
                if value.contains("<*>") || value.contains(REDACTED) {
                    caps[0].to_owned()
                } else {
                    format!("{}{REDACTED}", &caps["keep"])
                }
            }),
        };
        if let Cow::Owned(s) = replaced {
            out = Cow::Owned(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> String {
        redact(text).into_owned()
    }

    #[test]
    fn bearer_tokens_and_authorization_headers() {
        assert_eq!(
            r("Authorization: Bearer abc.def-123_xyz"),
            "Authorization: Bearer [REDACTED]"
        );
        assert_eq!(
            r(r#"headers={"Authorization": "Basic dXNlcjpwYXNz"}"#),
            r#"headers={"Authorization": "Basic [REDACTED]"}"#
        );
        assert_eq!(
            r("curl -H 'authorization: token ghs_short'"),
            "curl -H 'authorization: token [REDACTED]'"
        );
        assert_eq!(
            r("sent with bearer eyJhbGciOiJIUzI1NiJ9abcdef"),
            "sent with bearer [REDACTED]"
        );
        assert_eq!(r("X-Api-Key: 0123456789abcdef"), "X-Api-Key: [REDACTED]");
    }

    #[test]
    fn key_value_and_json_secrets() {
        assert_eq!(
            r("login user=bob password=hunter2 ok"),
            "login user=bob password=[REDACTED] ok"
        );
        assert_eq!(
            r("DB_PASSWD='s3cr3t pass' host=db"),
            "DB_PASSWD=[REDACTED] host=db"
        );
        assert_eq!(
            r("GET /cb?code=1&access_token=abc123&state=x"),
            "GET /cb?code=1&access_token=[REDACTED]&state=x"
        );
        assert_eq!(
            r("client_secret = xyz; api_key=k1 apikey=k2 API-KEY=k3"),
            "client_secret = [REDACTED]; api_key=[REDACTED] apikey=[REDACTED] API-KEY=[REDACTED]"
        );
        assert_eq!(
            r(r#"{"user": "bob", "password": "hu\"nter2", "secret_key":"x"}"#),
            r#"{"user": "bob", "password": "[REDACTED]", "secret_key":"[REDACTED]"}"#
        );
        // Templates keep their wildcards.
        assert_eq!(r("login failed token=<*>"), "login failed token=<*>");
    }

    #[test]
    fn connection_strings_keep_user_and_host() {
        assert_eq!(
            r("connect postgres://app:s3cret@db.internal:5432/shop failed"),
            "connect postgres://app:[REDACTED]@db.internal:5432/shop failed"
        );
        assert_eq!(
            r("redis://default:pa55@cache:6379"),
            "redis://default:[REDACTED]@cache:6379"
        );
        assert_eq!(
            r("mongodb+srv://u:p@cluster0.x.net/db"),
            "mongodb+srv://u:[REDACTED]@cluster0.x.net/db"
        );
        assert_eq!(
            r("dsn=https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/42"),
            "dsn=https://[REDACTED]@o1.ingest.sentry.io/42"
        );
        assert_eq!(
            r(
                "SENTRY_DSN https://0123456789abcdef0123456789abcdef:fedcba9876543210fedcba9876543210@sentry.io/1"
            ),
            "SENTRY_DSN https://[REDACTED]@sentry.io/1"
        );
    }

    #[test]
    fn token_shapes() {
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        assert_eq!(
            r(&format!("push with {gh} failed")),
            "push with [REDACTED] failed"
        );
        assert_eq!(r(&format!("gho_{} x", "Z".repeat(36))), "[REDACTED] x");
        assert_eq!(
            r(&format!("github_pat_{}", "A1_b".repeat(20))),
            "[REDACTED]"
        );
        assert_eq!(
            r("slack xoxb-1234567890-abcdefghij ok"),
            "slack [REDACTED] ok"
        );
        assert_eq!(
            r("https://hooks.slack.com/services/T000/B000/XXXXXXXX"),
            "https://hooks.slack.com/services/[REDACTED]"
        );
        assert_eq!(r("key AKIAIOSFODNN7EXAMPLE used"), "key [REDACTED] used");
        assert_eq!(
            r(&format!("ANTHROPIC_KEY sk-ant-api03-{}", "x".repeat(40))),
            "ANTHROPIC_KEY [REDACTED]"
        );
        assert_eq!(
            r(&format!("openai sk-proj-{}", "Ab9".repeat(15))),
            "openai [REDACTED]"
        );
        assert_eq!(
            r(&format!("stripe sk_live_{}", "9".repeat(24))),
            "stripe [REDACTED]"
        );
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(r(&format!("cookie {jwt};")), "cookie [REDACTED];");
        let bot = format!(
            "123456789:{}",
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq".get(..35).unwrap()
        );
        assert_eq!(
            r(&format!(
                "POST https://api.telegram.org/bot{bot}/sendMessage"
            )),
            "POST https://api.telegram.org/bot[REDACTED]/sendMessage"
        );
        assert_eq!(
            r("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"),
            "[REDACTED]"
        );
    }

    #[test]
    fn ordinary_text_is_untouched_and_borrowed() {
        for text in [
            "Payment failed for order 1234 at 2026-11-20 10:11:12",
            "authorization failed for user bob",
            "basic authentication is disabled",
            "password reset email sent to the user",
            "the token expired; ask for a new one",
            "GET https://example.com:8443/api/v1/users?id=4 -> 500",
            "user:pass placeholders in docs, task-1234567890abcdefghijklmn",
            "Traceback (most recent call last):",
            "sk-short",
        ] {
            assert!(
                matches!(redact(text), Cow::Borrowed(_)),
                "{text:?} became {:?}",
                redact(text)
            );
        }
    }
}
