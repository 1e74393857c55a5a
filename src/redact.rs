//! Secrets and personal data in text that leaves the machine.
//!
//! - [`redact`]: secrets (log lines and stack traces in the report, issues, Telegram, Slack, and what is sent to
//!   Claude) become `[REDACTED]`. Each rule keeps enough around the secret to read the line
//!   (`password=[REDACTED]`, `postgres://app:[REDACTED]@db`). Ordinary prose is left alone: rules need a key
//!   name, a known token shape or a URL's user-info, never just a long word.
//! - [`mask_pii`]: e-mail and IP addresses and phone numbers become `[email]`, `[ip]`, `[phone]` in what is
//!   published (GitHub, Telegram, Slack) unless the project keeps them; the local report keeps them.
//! - [`find_secret`]: whether a line a fix adds carries a credential, by kind, so the fix is never committed.

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

/// `text` for publishing: secrets redacted and, unless `keep_pii`, personal data masked.
pub(crate) fn for_publishing(text: &str, keep_pii: bool) -> Cow<'_, str> {
    let redacted = redact(text);
    if keep_pii {
        return redacted;
    }
    match mask_pii(&redacted) {
        Cow::Borrowed(_) => redacted,
        Cow::Owned(masked) => Cow::Owned(masked),
    }
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
        .expect("valid")
});
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b",
    )
    .expect("valid")
});
/// Candidates only: [`std::net::Ipv6Addr`] decides.
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:\.\d{1,3}){0,3}").expect("valid")
});
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b",
        r"|\+\d{1,3}(?:[\s.-]?\d{2,4}){3,5}\b",
    ))
    .expect("valid")
});

/// `text` with e-mail addresses, IPv4 and IPv6 addresses and phone-number-looking runs masked; borrowed when
/// there was nothing to mask. Loopback and unspecified addresses (`127.0.0.1`, `::1`, `0.0.0.0`) and the
/// addresses of git hosts (`git@github.com`, `...@users.noreply.github.com`) are not personal and stay.
pub(crate) fn mask_pii(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for (re, mask) in [
        (
            &*EMAIL,
            mask_email as fn(&str, &str, usize, usize) -> Option<&'static str>,
        ),
        (&*IPV4, mask_ipv4),
        (&*IPV6, mask_ipv6),
        (&*PHONE, |_, _, _, _| Some("[phone]")),
    ] {
        if let Cow::Owned(masked) = replace_where(&out, re, mask) {
            out = Cow::Owned(masked);
        }
    }
    out
}

/// `text` with each match of `re` replaced by what `mask(match, text, start, end)` says; `None` keeps it.
fn replace_where<'t>(
    text: &'t str,
    re: &Regex,
    mask: fn(&str, &str, usize, usize) -> Option<&'static str>,
) -> Cow<'t, str> {
    let mut out = String::new();
    let mut last = 0;
    for m in re.find_iter(text) {
        if let Some(with) = mask(m.as_str(), text, m.start(), m.end()) {
            out.push_str(&text[last..m.start()]);
            out.push_str(with);
            last = m.end();
        }
    }
    if last == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

fn mask_email(m: &str, _: &str, _: usize, _: usize) -> Option<&'static str> {
    (!m.starts_with("git@") && !m.ends_with("users.noreply.github.com")).then_some("[email]")
}

fn mask_ipv4(m: &str, text: &str, start: usize, end: usize) -> Option<&'static str> {
    // Part of a longer dotted number (a version such as 1.2.3.4.5) is not an address.
    let dotted = |b: &[u8]| b.len() == 2 && b[0] == b'.' && b[1].is_ascii_digit();
    let before = text.as_bytes()[start.saturating_sub(2)..start].to_vec();
    let after = &text.as_bytes()[end..(end + 2).min(text.len())];
    let before_dotted = before.len() == 2 && before[1] == b'.' && before[0].is_ascii_digit();
    if before_dotted || dotted(after) || matches!(m, "127.0.0.1" | "0.0.0.0") {
        return None;
    }
    Some("[ip]")
}

fn mask_ipv6(m: &str, text: &str, start: usize, end: usize) -> Option<&'static str> {
    // Inside a word (`std::fs`, `Foo::bar`) it is a path, not an address.
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    if word(text[..start].chars().next_back()) || word(text[end..].chars().next()) {
        return None;
    }
    match m.parse::<std::net::Ipv6Addr>() {
        Ok(addr) if !addr.is_loopback() && !addr.is_unspecified() => Some("[ip]"),
        _ => None,
    }
}

/// Credential shapes a line of code must never add, by name.
static SECRET_SHAPES: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        ("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        (
            "GitHub token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        ),
        ("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
        ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        (
            "Slack webhook",
            r"hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
        ),
        ("Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("API key", r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"),
        ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
        (
            "JSON web token",
            r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}",
        ),
        ("Telegram bot token", r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),
    ]
    .into_iter()
    .map(|(name, pattern)| (name, Regex::new(pattern).expect("valid")))
    .collect()
});
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b[A-Za-z][A-Za-z0-9+.-]*://(?P<user>[^\s:/@"'<>]+):(?P<pass>[^\s@/"'<>]+)@"#)
        .expect("valid")
});
/// `name = "value"`, `NAME=value`, `"name": "value"` where the name says key, secret, token or password.
static ASSIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?P<name>[A-Za-z0-9_.-]*(?:key|secret|token|passw(?:or)?d|pwd|credentials?))["']?\s*(?::=|=>|[:=])\s*(?:"(?P<dq>[^"\s]{12,})"|'(?P<sq>[^'\s]{12,})'|(?P<bare>[A-Za-z0-9/+=_.~-]{12,}))"#,
    )
    .expect("valid")
});

/// What kind of credential `line` carries, if it looks like it carries one: a known token shape, a URL with a
/// password, or a high-entropy value assigned to a name like `*_KEY`, `*_SECRET`, `*_TOKEN` or `password`.
/// Placeholders (`${VAR}`, `<token>`, `xxx`, a password equal to the user name) are not credentials.
pub(crate) fn find_secret(line: &str) -> Option<&'static str> {
    if let Some((name, _)) = SECRET_SHAPES.iter().find(|(_, re)| re.is_match(line)) {
        return Some(name);
    }
    for caps in URL_PASSWORD.captures_iter(line) {
        let pass = &caps["pass"];
        if pass != &caps["user"] && !is_placeholder(pass) {
            return Some("URL with a password");
        }
    }
    for caps in ASSIGNED.captures_iter(line) {
        let value = ["dq", "sq", "bare"]
            .iter()
            .find_map(|g| caps.name(g))
            .map_or("", |m| m.as_str());
        let mixed = value.chars().any(|c| c.is_ascii_digit())
            && value.chars().any(|c| c.is_ascii_alphabetic());
        if mixed && !is_placeholder(value) && entropy(value) >= 3.5 {
            return Some("high-entropy secret assigned to a key, secret, token or password name");
        }
    }
    None
}

fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    value.contains(['$', '{', '<', '*'])
        || lower.contains("xxxx")
        || lower.contains("example")
        || lower.contains("changeme")
        || lower.contains("placeholder")
        || lower.contains("redacted")
        || ["password", "pass", "secret", "test", "dummy", "fake"].contains(&lower.as_str())
}

/// Shannon entropy of `value`'s characters, in bits per character.
fn entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in value.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    #[expect(clippy::cast_precision_loss, reason = "lengths of one line")]
    let len = value.chars().count() as f64;
    counts
        .values()
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum()
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

    #[test]
    fn personal_data_is_masked_and_the_rest_of_the_line_kept() {
        let m = |t: &str| mask_pii(t).into_owned();
        assert_eq!(
            m("login failed for jane.doe+shop@example.co.uk from 203.0.113.7"),
            "login failed for [email] from [ip]"
        );
        assert_eq!(
            m("peer 2001:db8::8a2e:370:7334 reset; fe80::1%eth0 too"),
            "peer [ip] reset; [ip]%eth0 too"
        );
        assert_eq!(
            m("call +1 415-555-0100 or (415) 555-0199"),
            "call [phone] or [phone]"
        );
        assert_eq!(m("ring +44 20 7946 0958 now"), "ring [phone] now");
        for kept in [
            "listening on 127.0.0.1:8000 and [::1]:8000, bound 0.0.0.0",
            "version 1.2.3.4.5 of lib 2.0.0.1.0",
            "at 2026-12-01 10:11:12, took 10:00:00, order 20261201 1030",
            "clone git@github.com:acme/shop.git as 1+dev@users.noreply.github.com",
            "error in tests/test_cart.py::test_add and std::fs::read",
        ] {
            assert!(
                matches!(mask_pii(kept), Cow::Borrowed(_)),
                "{kept:?} became {:?}",
                mask_pii(kept)
            );
        }
        assert_eq!(
            for_publishing("password=hunter2 by bob@example.com", false),
            "password=[REDACTED] by [email]"
        );
        assert_eq!(
            for_publishing("password=hunter2 by bob@example.com", true),
            "password=[REDACTED] by bob@example.com"
        );
    }

    #[test]
    fn added_credentials_are_found_by_kind_and_placeholders_are_not() {
        let aws_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPL3KEY";
        for (line, kind) in [
            (
                "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
                "AWS access key id",
            ),
            (
                &format!("aws_secret_access_key = \"{aws_secret}\"")[..],
                "high-entropy secret",
            ),
            (
                &format!("AWS_SECRET_ACCESS_KEY={aws_secret}")[..],
                "high-entropy secret",
            ),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
            (
                &format!("token = 'ghp_{}'", "a1B2".repeat(9))[..],
                "GitHub token",
            ),
            ("GITLAB=glpat-aB3dE6gH9jK2mN5pQ8sT", "GitLab token"),
            (
                &format!("s = \"sk_live_{}\"", "4eC39HqLyjWDarjtT1zdp7dc")[..],
                "Stripe key",
            ),
            (
                "DATABASE_URL=postgres://app:Zq8v!x2Lr@db.internal/shop",
                "URL with a password",
            ),
            (
                "\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N\"",
                "JSON web token",
            ),
            (
                "  \"client_secret\": \"9f8e7d6c5b4a3f2e1d0c\",",
                "high-entropy secret",
            ),
        ] {
            let found = find_secret(line);
            assert!(
                found.is_some_and(|f| f.starts_with(kind)),
                "{line}: {found:?}"
            );
        }
        for line in [
            "api_key = os.environ[\"API_KEY\"]",
            "password = get_password(user)",
            "TOKEN_URL = \"https://example.com/oauth/token\"",
            "SECRET_KEY = \"${SECRET_KEY}\"",
            "url = \"postgres://postgres:postgres@localhost/test\"",
            "url = \"redis://user:${REDIS_PASSWORD}@cache\"",
            "token = \"xxxxxxxxxxxxxxxxxxxxxxxx\"",
            "key_count = 1234567890123",
            "def add(a, b): return a + b",
            "sorted_keys = sorted(mapping.keys())",
        ] {
            assert_eq!(find_secret(line), None, "{line}");
        }
    }
}
