//! Log templates by masking: the variable parts of a message (numbers, hex, UUIDs, IPs, paths, quoted strings,
//! `key=value` values, URLs, emails) become `<*>`, so lines that differ only in those share one template.
//!
//! The `logs` step only sees the [`Miner`] trait, so a fuller template miner (a Drain-like tree) can replace
//! [`MaskMiner`] later. The masking is one pass over the bytes of the message, with no regex and no allocation
//! beyond the output. This file also reads fields of JSON and logfmt lines, which timestamps and levels share.

/// What a variable part of a message is replaced with.
pub(crate) const WILDCARD: &str = "<*>";

/// Only the head of a long message is looked at: two messages that differ past it share a template.
const MAX_INPUT: usize = 2048;
/// Templates are cut here (at a character boundary) so that 5,000 of them stay small.
const MAX_TEMPLATE: usize = 400;

/// Turns log messages into templates.
///
/// `template` is called once per log record (in the hot loop), with the message after its timestamp and level.
/// A miner that learns (merging templates as it sees more lines) must also make its state part of the `logs`
/// checkpoint; the masking miner has none.
pub(crate) trait Miner {
    /// Writes the template of `message` into `out` (cleared first). Invalid UTF-8 is replaced, never an error.
    fn template(&mut self, message: &[u8], out: &mut String);
}

/// The masking miner: stateless apart from scratch buffers.
#[derive(Debug, Default)]
pub(crate) struct MaskMiner {
    /// A decoded JSON message.
    decoded: Vec<u8>,
    /// The template being built, as bytes.
    bytes: Vec<u8>,
}

/// Keys whose value is the human message of a structured (JSON or logfmt) line.
const MESSAGE_KEYS: &[&str] = &["msg", "message", "event", "@m", "@mt"];

impl Miner for MaskMiner {
    fn template(&mut self, message: &[u8], out: &mut String) {
        out.clear();
        let message = trim(message);
        if message.first() == Some(&b'{')
            && let Some((_, JsonValue::Str(raw))) = json_field(message, MESSAGE_KEYS)
        {
            unescape_json(raw, &mut self.decoded);
            mask_into(&self.decoded, &mut self.bytes);
        } else if starts_with_key(message)
            && let Some(value) = logfmt_field(message, MESSAGE_KEYS)
        {
            mask_into(value, &mut self.bytes);
        } else {
            mask_into(message, &mut self.bytes);
        }
        push_text(&self.bytes, out);
    }
}

/// Whether a line opens with `key=`, as logfmt lines do (so a `msg=` in the middle of prose is not taken as one).
fn starts_with_key(message: &[u8]) -> bool {
    message
        .iter()
        .position(|b| *b == b'=' || b.is_ascii_whitespace())
        .is_some_and(|eq| eq > 0 && message[eq] == b'=' && is_key(&message[..eq]))
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end.max(start)]
}

/// How the masking pass sees a byte.
const ATOM: u8 = 0;
const SPACE: u8 = 1;
/// Stands alone in a template and separates the parts that are masked one by one.
const DELIMITER: u8 = 2;
const QUOTE: u8 = 3;

static CLASS: [u8; 256] = {
    let mut class = [ATOM; 256];
    let spaces = b" \t\n\r\x0c";
    let mut i = 0;
    while i < spaces.len() {
        class[spaces[i] as usize] = SPACE;
        i += 1;
    }
    let delimiters = b"()[]{}<>,;|";
    i = 0;
    while i < delimiters.len() {
        class[delimiters[i] as usize] = DELIMITER;
        i += 1;
    }
    class[b'"' as usize] = QUOTE;
    class[b'\'' as usize] = QUOTE;
    class
};

/// Appends bytes as text, invalid UTF-8 replaced: one check per template rather than one per part.
fn push_text(bytes: &[u8], out: &mut String) {
    match std::str::from_utf8(bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

fn mask_into(message: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let truncated = message.len() > MAX_INPUT;
    let s = &message[..message.len().min(MAX_INPUT)];
    let n = s.len();
    let mut i = 0;
    let mut space = false;
    while i < n && out.len() < MAX_TEMPLATE {
        let c = s[i];
        match CLASS[usize::from(c)] {
            SPACE => {
                space = true;
                i += 1;
                continue;
            }
            _ if space => {
                if !out.is_empty() {
                    out.push(b' ');
                }
                space = false;
            }
            _ => {}
        }
        match CLASS[usize::from(c)] {
            QUOTE => {
                let opens = i == 0 || !s[i - 1].is_ascii_alphanumeric();
                match closing_quote(s, i + 1, c).filter(|_| opens) {
                    Some(close)
                        if c == b'"' && s.get(close + 1) == Some(&b':') && close - i < 64 =>
                    {
                        // A JSON key: part of the shape of the message, not a variable.
                        out.extend_from_slice(&s[i..=close + 1]);
                        i = close + 2;
                    }
                    Some(close) if c == b'"' && http_request(&s[i + 1..close], out) => {
                        i = close + 1;
                    }
                    Some(close) => {
                        out.push(c);
                        out.extend_from_slice(WILDCARD.as_bytes());
                        out.push(c);
                        i = close + 1;
                    }
                    // An apostrophe in a word, or a quote that is not closed.
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            DELIMITER => {
                out.push(c);
                i += 1;
            }
            _ => {
                let start = i;
                while i < n && CLASS[usize::from(s[i])] == ATOM {
                    i += 1;
                }
                mask_atom(&s[start..i], out);
            }
        }
    }
    if out.len() > MAX_TEMPLATE {
        let mut cut = MAX_TEMPLATE;
        while cut > 0 && out[cut] & 0xC0 == 0x80 {
            cut -= 1;
        }
        out.truncate(cut);
        out.extend_from_slice("…".as_bytes());
    } else if truncated || i < n {
        out.extend_from_slice(" …".as_bytes());
    }
}

/// An access log's request line (`GET /api/orders/42?page=2 HTTP/1.1`) is the shape of the line, not a variable:
/// it keeps its method and path, with the path segments that hold digits and the query masked. Appends the quoted
/// template and returns true when `inner` is one.
fn http_request(inner: &[u8], out: &mut Vec<u8>) -> bool {
    let mut parts = inner.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if !(3..=7).contains(&method.len())
        || !method.iter().all(u8::is_ascii_uppercase)
        || !target.starts_with(b"/")
        || !version.starts_with(b"HTTP/")
    {
        return false;
    }
    out.push(b'"');
    out.extend_from_slice(method);
    out.push(b' ');
    let (path, query) = match target.iter().position(|&b| b == b'?') {
        Some(q) => (&target[..q], true),
        None => (target, false),
    };
    for (k, segment) in path.split(|&b| b == b'/').enumerate() {
        if k > 0 {
            out.push(b'/');
        }
        if segment.iter().any(u8::is_ascii_digit) || segment.len() > 40 {
            out.extend_from_slice(WILDCARD.as_bytes());
        } else {
            out.extend_from_slice(segment);
        }
    }
    if query {
        out.push(b'?');
        out.extend_from_slice(WILDCARD.as_bytes());
    }
    out.extend_from_slice(b" HTTP/");
    out.extend_from_slice(WILDCARD.as_bytes());
    out.push(b'"');
    true
}

/// The index of the quote closing one opened just before `from`, skipping backslash escapes.
fn closing_quote(s: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut j = from;
    while j < s.len() {
        match s[j] {
            b'\\' => j += 2,
            b if b == quote => return Some(j),
            _ => j += 1,
        }
    }
    None
}

/// Masks one run of bytes without whitespace, quotes or delimiters. Punctuation that ends it (`base 10:`,
/// `order 42.`) is kept after the mask.
fn mask_atom(atom: &[u8], out: &mut Vec<u8>) {
    let core = atom.len()
        - atom
            .iter()
            .rev()
            .take_while(|b| matches!(b, b':' | b'.' | b'!' | b'?'))
            .count();
    if core > 0 {
        mask_core(&atom[..core], out);
    }
    out.extend_from_slice(&atom[core..]);
}

/// One pass over the part notes what it holds; then, in order: `key=value` keeps its key; URLs, emails and
/// paths are masked; a digit makes the part variable (numbers, hex ids, UUIDs, IP addresses, times, versions),
/// keeping a `name:` in front of it (`port:8080`); anything else is a word of the template.
fn mask_core(atom: &[u8], out: &mut Vec<u8>) {
    let mut digit = false;
    let (mut eq, mut colon, mut at, mut scheme, mut last_slash) = (None, None, None, None, None);
    let mut slashes = 0;
    for (k, &b) in atom.iter().enumerate() {
        match b {
            b'0'..=b'9' => digit = true,
            b'=' if eq.is_none() => eq = Some(k),
            b':' => {
                colon = colon.or(Some(k));
                if scheme.is_none() && atom[k + 1..].starts_with(b"//") {
                    scheme = Some(k);
                }
            }
            b'@' if at.is_none() => at = Some(k),
            b'/' => {
                slashes += 1;
                last_slash = Some(k);
            }
            _ => {}
        }
    }
    if let Some(eq) = eq
        && eq > 0
        && is_key(&atom[..eq])
    {
        out.extend_from_slice(&atom[..=eq]);
        if eq + 1 < atom.len() {
            out.extend_from_slice(WILDCARD.as_bytes());
        }
        return;
    }
    let url = scheme.is_some_and(|p| p > 0 && atom[..p].iter().all(u8::is_ascii_alphanumeric));
    if url || at.is_some_and(|at| is_email(atom, at)) || is_path(atom, slashes, last_slash) {
        out.extend_from_slice(WILDCARD.as_bytes());
        return;
    }
    if digit {
        if let Some(colon) = colon
            && colon >= 2
            && colon + 1 < atom.len()
            && atom[..colon]
                .iter()
                .all(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'-')
        {
            out.extend_from_slice(&atom[..=colon]);
        }
        out.extend_from_slice(WILDCARD.as_bytes());
        return;
    }
    out.extend_from_slice(atom);
}

fn is_email(atom: &[u8], at: usize) -> bool {
    at > 0
        && atom[..at]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b".+-_".contains(b))
        && atom[at + 1..].contains(&b'.')
        && atom[at + 1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b".-".contains(b))
}

fn is_path(atom: &[u8], slashes: usize, last_slash: Option<usize>) -> bool {
    if atom.len() < 2 {
        return false;
    }
    if atom[0] == b'/'
        || atom.starts_with(b"~/")
        || atom.starts_with(b"./")
        || atom.starts_with(b"../")
    {
        return true;
    }
    if atom.len() > 2 && atom[0].is_ascii_alphabetic() && atom[1] == b':' && atom[2] == b'\\' {
        return true;
    }
    // A relative path: `src/app/main.py`, `logs/app.log`, but not `and/or` or `application/json`.
    slashes >= 2 || (slashes == 1 && last_slash.is_some_and(|s| atom[s + 1..].contains(&b'.')))
}

/// A `key` of `key=value`: an identifier, possibly dotted or dashed.
fn is_key(key: &[u8]) -> bool {
    key.len() <= 64
        && (key[0].is_ascii_alphabetic() || key[0] == b'_')
        && key
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
}

/// The value of a JSON field, as raw bytes of the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonValue<'a> {
    /// A string, without its quotes and with its escapes left as they are.
    Str(&'a [u8]),
    /// A number, as written.
    Num(&'a [u8]),
}

/// The first field of a JSON object line whose key is one of `keys` (at any depth), with the offset of its
/// value. A light scan rather than a parse: log lines are often cut, and this runs on every JSON line.
pub(crate) fn json_field<'a>(line: &'a [u8], keys: &[&str]) -> Option<(usize, JsonValue<'a>)> {
    let mut i = 0;
    while let Some(q) = line[i..].iter().position(|&b| b == b'"') {
        let start = i + q + 1;
        let end = closing_quote(line, start, b'"')?;
        let mut j = skip_spaces(line, end + 1);
        if line.get(j) != Some(&b':') {
            i = end + 1;
            continue;
        }
        j = skip_spaces(line, j + 1);
        let key = &line[start..end];
        if keys.iter().any(|k| k.as_bytes() == key) {
            return match line.get(j)? {
                b'"' => {
                    let close = closing_quote(line, j + 1, b'"')?;
                    Some((j + 1, JsonValue::Str(&line[j + 1..close])))
                }
                b'-' | b'0'..=b'9' => {
                    let len = line[j..]
                        .iter()
                        .position(|b| !(b.is_ascii_digit() || b"-+.eE".contains(b)))
                        .unwrap_or(line.len() - j);
                    Some((j, JsonValue::Num(&line[j..j + len])))
                }
                _ => None,
            };
        }
        i = j;
    }
    None
}

fn skip_spaces(line: &[u8], mut i: usize) -> usize {
    while line.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The value of the first `key=value` pair of a logfmt line whose key is one of `keys`; quoted values lose their
/// quotes (escapes are left as written).
pub(crate) fn logfmt_field<'a>(line: &'a [u8], keys: &[&str]) -> Option<&'a [u8]> {
    let mut from = 0;
    while let Some(eq) = line[from..]
        .iter()
        .position(|&b| b == b'=')
        .map(|p| p + from)
    {
        from = eq + 1;
        let key_start = line[..eq]
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .map_or(0, |p| p + 1);
        let key = &line[key_start..eq];
        if !keys.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(key)) {
            continue;
        }
        let value = &line[eq + 1..];
        if value.first() == Some(&b'"') {
            let close = closing_quote(value, 1, b'"').unwrap_or(value.len());
            return Some(&value[1..close]);
        }
        let end = value
            .iter()
            .position(u8::is_ascii_whitespace)
            .unwrap_or(value.len());
        return Some(&value[..end]);
    }
    None
}

/// Decodes the common escapes of a JSON string (enough for a template; `\uXXXX` outside ASCII becomes `?`).
fn unescape_json(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' || i + 1 >= raw.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let (decoded, used) = match raw[i + 1] {
            b'n' | b'r' | b't' => (b' ', 2),
            b'u' => {
                let code = raw
                    .get(i + 2..i + 6)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                (code.filter(u8::is_ascii).unwrap_or(b'?'), 6)
            }
            other => (other, 2),
        };
        out.push(decoded);
        i += used;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(message: &str) -> String {
        let mut out = String::new();
        MaskMiner::default().template(message.as_bytes(), &mut out);
        out
    }

    fn same(a: &str, b: &str) -> String {
        let (ta, tb) = (t(a), t(b));
        assert_eq!(ta, tb, "`{a}` and `{b}` should share a template");
        ta
    }

    #[test]
    fn numbers_and_hex_and_uuids_are_masked() {
        assert_eq!(
            same(
                "Payment failed for order 1234",
                "Payment failed for order 98"
            ),
            "Payment failed for order <*>"
        );
        assert_eq!(
            same("took 12ms, retry 3", "took 7ms, retry 10"),
            "took <*>, retry <*>"
        );
        assert_eq!(
            same("commit 3f9a2c1b0de4 pushed", "commit a1b2c3d4e5f6 pushed"),
            "commit <*> pushed"
        );
        assert_eq!(
            same("ptr 0xdeadbeef freed", "ptr 0x7ffe12 freed"),
            "ptr <*> freed"
        );
        assert_eq!(
            same(
                "request 123e4567-e89b-12d3-a456-426614174000 done",
                "request 00000000-0000-4000-8000-000000000001 done"
            ),
            "request <*> done"
        );
    }

    #[test]
    fn addresses_paths_urls_and_emails_are_masked() {
        assert_eq!(
            same(
                "connect to 10.0.0.12:5432 refused",
                "connect to 192.168.1.1:80 refused"
            ),
            "connect to <*> refused"
        );
        assert_eq!(
            same(
                "peer fe80::1ff:fe23:4567:890a gone",
                "peer 2001:db8::1 gone"
            ),
            "peer <*> gone"
        );
        assert_eq!(
            same("open /var/log/app.log failed", "open /tmp/x failed"),
            "open <*> failed"
        );
        assert_eq!(
            same(
                "GET https://api.example.com/v1/users?id=4 -> 500",
                "GET http://localhost:8080/ -> 502"
            ),
            "GET <*> -> <*>"
        );
        assert_eq!(
            same(
                "mail to alice@example.com bounced",
                "mail to bob.smith+x@mail.example.org bounced"
            ),
            "mail to <*> bounced"
        );
        assert_eq!(
            same("loading src/app/main.py", "loading lib/util.rs"),
            "loading <*>"
        );
        // Ordinary words with a slash stay.
        assert_eq!(
            t("content-type application/json and/or text"),
            "content-type application/json and/or text"
        );
    }

    #[test]
    fn access_log_requests_keep_their_method_and_path() {
        let mut miner = MaskMiner::default();
        let mut a = String::new();
        let mut b = String::new();
        miner.template(
            br#"10.0.1.23 - - "POST /api/orders/18231?x=1 HTTP/1.1" 502 166 "-" "curl/8""#,
            &mut a,
        );
        miner.template(
            br#"10.0.9.1 - - "POST /api/orders/77 HTTP/2.0" 500 12 "-" "Mozilla/5.0""#,
            &mut b,
        );
        assert_eq!(
            a,
            r#"<*> - - "POST /api/orders/<*>?<*> HTTP/<*>" <*> <*> "<*>" "<*>""#
        );
        assert_eq!(
            b,
            r#"<*> - - "POST /api/orders/<*> HTTP/<*>" <*> <*> "<*>" "<*>""#
        );
        let mut c = String::new();
        miner.template(br#"client said "GET it done" today"#, &mut c);
        assert_eq!(c, r#"client said "<*>" today"#);
    }

    #[test]
    fn quoted_strings_and_key_values_are_masked_keeping_keys() {
        assert_eq!(
            same("user \"alice smith\" not found", "user \"bob\" not found"),
            "user \"<*>\" not found"
        );
        assert_eq!(
            same("KeyError: 'token'", "KeyError: 'user_id'"),
            "KeyError: '<*>'"
        );
        assert_eq!(
            same("retry attempt=3 backoff=1.5s", "retry attempt=4 backoff=2s"),
            "retry attempt=<*> backoff=<*>"
        );
        assert_eq!(
            same("job name=\"nightly build\" failed", "job name=\"x\" failed"),
            "job name=\"<*>\" failed"
        );
        assert_eq!(
            same("listening port:8080", "listening port:9090"),
            "listening port:<*>"
        );
        // A key keeps its name whatever its value looks like.
        assert_eq!(
            same("GET path=/api/v1/users/5 ok", "GET path=/health ok"),
            "GET path=<*> ok"
        );
        assert_eq!(
            same(
                "base 10: 'abc'. Done at 12:00.",
                "base 16: 'x'. Done at 1:05."
            ),
            "base <*>: '<*>'. Done at <*>."
        );
        // Apostrophes inside words are not quotes.
        assert_eq!(
            t("can't connect, don't retry"),
            "can't connect, don't retry"
        );
    }

    #[test]
    fn whitespace_collapses_and_brackets_stay() {
        assert_eq!(
            same("[pid 123]   worker   started", "[pid 7] worker started"),
            "[pid <*>] worker started"
        );
    }

    #[test]
    fn json_and_logfmt_lines_use_their_message() {
        assert_eq!(
            same(
                r#"{"level":"error","msg":"Payment failed for order 12","ts":1}"#,
                r#"{"msg": "Payment failed for order 7", "level": "error"}"#
            ),
            "Payment failed for order <*>"
        );
        assert_eq!(
            t(r#"{"message":"say \"hi\" to 5\nusers"}"#),
            "say \"<*>\" to <*> users"
        );
        assert_eq!(
            same(
                "level=error msg=\"db timeout after 30s\" id=4",
                "level=error msg=\"db timeout after 5s\""
            ),
            "db timeout after <*>"
        );
        // `msg=` inside prose is not logfmt.
        assert_eq!(t("sent msg=hello to 4 peers"), "sent msg=<*> to <*> peers");
        // JSON without a message keeps its keys.
        assert_eq!(
            same(r#"{"a":1,"b":"x"}"#, r#"{"a":22,"b":"y z"}"#),
            r#"{"a":<*>,"b":"<*>"}"#
        );
    }

    #[test]
    fn invalid_utf8_and_long_messages_are_bounded() {
        let out = t("caf\u{e9} ok");
        assert_eq!(out, "caf\u{e9} ok");
        let mut bytes = b"bad \xff\xfe bytes ".to_vec();
        let mut out = String::new();
        MaskMiner::default().template(&bytes, &mut out);
        assert_eq!(out, "bad \u{fffd}\u{fffd} bytes");
        bytes = "word ".repeat(100_000).into_bytes();
        MaskMiner::default().template(&bytes, &mut out);
        assert!(out.len() <= MAX_TEMPLATE + 4, "{}", out.len());
        assert!(out.ends_with('…'));
    }

    #[test]
    fn json_field_finds_keys_at_any_depth_and_skips_values() {
        let line = br#"{"msg":"level is \"time\"","ctx":{"time":"2026-11-20T01:02:03Z"},"n":5}"#;
        let (_, v) = json_field(line, &["time"]).unwrap();
        assert_eq!(v, JsonValue::Str(b"2026-11-20T01:02:03Z"));
        assert_eq!(json_field(line, &["n"]).unwrap().1, JsonValue::Num(b"5"));
        assert_eq!(json_field(line, &["missing"]), None);
        assert_eq!(
            logfmt_field(b"ts=1 level=warn msg=hello", &["level"]),
            Some(&b"warn"[..])
        );
    }
}
