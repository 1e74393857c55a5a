//! Cutting a message into whitespace tokens and masking the variable parts of each: what the template miner
//! compares.
//!
//! The parts of a token that hold a digit (numbers, hex ids, IP addresses, versions, times) become `<*>`, keeping
//! the punctuation between them (`<*>:<*>` for an address and port, `uid=<*>`); names that merely hold a digit
//! (`ssh2`, `eth0`) stay. URLs, absolute paths and host names become `<*>` whole, and so does a list of
//! variables (`10.0.0.1,10.0.0.2`), a size unit after a number and a name after `user`. What else varies is left
//! to the miner, which sees the whole cluster.

/// What a variable part of a template is written as.
pub(crate) const WILDCARD: &str = "<*>";

/// Only the head of a message is mined: two messages that differ past it share a template. It bounds the size
/// of every template and so the memory of the miner.
pub(crate) const MAX_MESSAGE: usize = 1024;

/// Bytes that separate the parts of a token that are masked one by one. `.`, `-` and `_` are not among them:
/// `10.0.0.1`, `blk_-42` and `host-12` are one variable each.
pub(super) const fn is_separator(b: u8) -> bool {
    matches!(
        b,
        b':' | b'='
            | b','
            | b';'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'"'
            | b'\''
            | b'/'
            | b'@'
            | b'#'
            | b'|'
            | b'<'
            | b'>'
    )
}

/// The length of the separator at `i`: one separator byte, or a run of dots (`space.......0`, `wait...`).
fn separator_at(bytes: &[u8], i: usize) -> Option<usize> {
    static SEPARATOR: [bool; 256] = {
        let mut table = [false; 256];
        let mut b = 0;
        while b < 256 {
            #[expect(clippy::cast_possible_truncation, reason = "b < 256")]
            let byte = b as u8;
            table[b] = is_separator(byte);
            b += 1;
        }
        table
    };
    if SEPARATOR[usize::from(bytes[i])] {
        return Some(1);
    }
    if bytes[i] != b'.' {
        return None;
    }
    let dots = bytes[i..].iter().take_while(|&&b| b == b'.').count();
    (dots >= 2).then_some(dots)
}

/// A masked message: tokens joined by single spaces, and where each ends.
#[derive(Debug, Default)]
pub(super) struct Masked {
    pub(super) text: String,
    pub(super) ends: Vec<u32>,
}

impl Masked {
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(super) fn token(&self, k: usize) -> &str {
        let start = if k == 0 {
            0
        } else {
            self.ends[k - 1] as usize + 1
        };
        &self.text[start..self.ends[k] as usize]
    }
}

/// Masks `message` (its first [`MAX_MESSAGE`] bytes) into tokens.
pub(super) fn mask_message(message: &str, out: &mut Masked) {
    out.text.clear();
    out.ends.clear();
    let mut head = message.len().min(MAX_MESSAGE);
    while !message.is_char_boundary(head) {
        head -= 1;
    }
    // One pass over the bytes notes what each token holds, so plain words (most tokens) are copied as they are.
    let bytes = &message.as_bytes()[..head];
    let mut dates = false;
    let mut i = 0;
    loop {
        while i < head && BYTE_CLASS[usize::from(bytes[i])] == SPACE {
            i += 1;
        }
        if i == head {
            break;
        }
        let start = i;
        let mut holds = 0;
        while i < head {
            let class = BYTE_CLASS[usize::from(bytes[i])];
            if class == SPACE {
                break;
            }
            holds |= class;
            i += 1;
        }
        let token = &message[start..i];
        if !out.text.is_empty() {
            out.text.push(' ');
        }
        let at = out.text.len();
        if holds == 0 {
            dates |= is_date_name(token);
            if holds_literal(token, out.ends.len().checked_sub(1).map(|k| out.token(k))) {
                mask_token(token, MASKABLE, &mut out.text);
            } else {
                out.text.push_str(token);
            }
        } else if holds == DOT && !token.bytes().any(is_separator) {
            mask_part(token, &mut out.text);
        } else {
            mask_token(token, holds, &mut out.text);
        }
        if holds & MASKABLE == 0
            && let Some(keep) = variable_word(out, at, token)
        {
            out.text.truncate(at);
            out.text.push_str(&token[..keep]);
            out.text.push_str(WILDCARD);
            out.text.push_str(&token[trim_end(token, trailing).len()..]);
        }
        out.ends
            .push(u32::try_from(out.text.len()).expect("at most MAX_MESSAGE bytes"));
    }
    if dates {
        mask_dates(out);
    }
}

/// What [`mask_message`] notes about a byte: whitespace, or a byte that makes a token need masking.
const SPACE: u8 = 1;
const MASKABLE: u8 = 2;
/// A dot: the token may be a host name (`proxy.example.edu`), variable though it holds no digit.
const DOT: u8 = 4;
/// A slash or a backslash: the token may be a path, a URL or a protocol version.
const SLASH: u8 = 8;

static BYTE_CLASS: [u8; 256] = {
    let mut class = [0; 256];
    let mut b = 0;
    while b < 256 {
        #[expect(clippy::cast_possible_truncation, reason = "b < 256")]
        let byte = b as u8;
        class[b] = if byte.is_ascii_whitespace() {
            SPACE
        } else if byte == b'/' || byte == b'\\' {
            MASKABLE | SLASH
        } else if byte.is_ascii_digit() || byte == b'<' {
            MASKABLE
        } else if byte == b'.' {
            DOT
        } else {
            0
        };
        b += 1;
    }
    class
};

/// Month and weekday names next to a masked token are part of a date (`Sun Jul 3 04:05:06 2005`), so variable.
fn mask_dates(out: &mut Masked) {
    let n = out.len();
    let named: Vec<bool> = (0..n).map(|k| is_date_name(out.token(k))).collect();
    let masked: Vec<bool> = (0..n).map(|k| out.token(k).contains(WILDCARD)).collect();
    // A name counts as masked for its neighbours too: `Sun Jul 3` masks both names.
    let near = |k: usize, step: isize| -> bool {
        let mut j = k;
        loop {
            let Some(next) = j.checked_add_signed(step).filter(|&j| j < n) else {
                return false;
            };
            if masked[next] {
                return true;
            }
            if !named[next] {
                return false;
            }
            j = next;
        }
    };
    let date: Vec<bool> = (0..n)
        .map(|k| named[k] && (near(k, -1) || near(k, 1)))
        .collect();
    if !date.contains(&true) {
        return;
    }
    let mut text = String::with_capacity(out.text.len());
    let mut ends = Vec::with_capacity(n);
    for (k, is_date) in date.into_iter().enumerate() {
        if k > 0 {
            text.push(' ');
        }
        text.push_str(if is_date { WILDCARD } else { out.token(k) });
        ends.push(u32::try_from(text.len()).expect("at most MAX_MESSAGE bytes"));
    }
    out.text = text;
    out.ends = ends;
}

fn is_date_name(token: &str) -> bool {
    const FULL: [&str; 20] = [
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "sept",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "may",
    ];
    if !(3..=10).contains(&token.len()) || !token.as_bytes()[0].is_ascii_alphabetic() {
        return false;
    }
    let t = token.trim_end_matches([',', '.']).as_bytes();
    if !(3..=9).contains(&t.len()) {
        return false;
    }
    // Runs on every token: the first three letters rule out almost all of them.
    let head = [t[0] | 0x20, t[1] | 0x20, t[2] | 0x20];
    let abbreviation = matches!(
        &head,
        b"jan"
            | b"feb"
            | b"mar"
            | b"apr"
            | b"may"
            | b"jun"
            | b"jul"
            | b"aug"
            | b"sep"
            | b"oct"
            | b"nov"
            | b"dec"
            | b"mon"
            | b"tue"
            | b"wed"
            | b"thu"
            | b"fri"
            | b"sat"
            | b"sun"
    );
    abbreviation && (t.len() == 3 || FULL.iter().any(|n| n.as_bytes().eq_ignore_ascii_case(t)))
}

/// Punctuation that ends a sentence or a list rather than a variable: `/var/log/x:`, `12 KB,`.
fn trailing(b: u8) -> bool {
    matches!(b, b':' | b',' | b';' | b'.' | b')')
}

/// Quotes and brackets around a path or URL: `'/dev/vcs2'`, `(/tmp/x)`.
fn quote(b: u8) -> bool {
    matches!(b, b'\'' | b'"' | b'(' | b')' | b'[' | b']')
}

/// `text` without the bytes at its end for which `strip` holds (all ASCII, so the cut is a char boundary).
fn trim_end(text: &str, strip: fn(u8) -> bool) -> &str {
    let keep = text.bytes().rev().take_while(|&b| strip(b)).count();
    &text[..text.len() - keep]
}

/// `text` without the bytes at its start for which `strip` holds.
fn trim_start(text: &str, strip: fn(u8) -> bool) -> &str {
    let cut = text.bytes().take_while(|&b| strip(b)).count();
    &text[cut..]
}

/// Writes a URL or path as a variable: a URL keeps its scheme (`hdfs://<*>`), which names the kind of place, and
/// the key before it (`url=git+ssh://<*>`); a scheme with a digit (`s3`) is masked with the rest.
fn push_url(body: &str, out: &mut String) {
    if let Some(at) = body.find("://") {
        let head = &body[..at];
        let scheme = head.rfind(['=', ':']).map_or(0, |k| k + 1);
        if scheme < head.len()
            && head[scheme..]
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || matches!(b, b'.' | b'+' | b'-'))
            && !head.bytes().any(|b| b.is_ascii_digit())
        {
            out.push_str(&body[..at + 3]);
        }
    }
    out.push_str(WILDCARD);
}

/// Whether `text` holds `://`: a URL.
fn has_scheme(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| w == b"://")
}

/// Whether `token`, a word with no digit just written at `out.text[at..]`, is a variable because of where it
/// stands: a unit after a number (`<*> KB`), a name after `user` (`session opened for user news`). Gives how many bytes of it stay before the `<*>`.
fn variable_word(out: &Masked, at: usize, token: &str) -> Option<usize> {
    // Runs on every plain word: the token before rules out almost all of them.
    let prev_end = *out.ends.last()? as usize;
    if !matches!(out.text.as_bytes()[prev_end - 1], b'>' | b'r' | b'R') {
        return None;
    }
    let word = trim_end(token, trailing);
    let is_name = |w: &str| {
        w.len() > 1
            && w != "unknown"
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let prev = out.ends.len().checked_sub(1).map(|k| out.token(k))?;
    debug_assert!(out.ends.last().is_none_or(|&e| e as usize <= at));
    if prev == WILDCARD {
        return is_size_unit(word).then_some(0);
    }
    (prev.eq_ignore_ascii_case("user") && is_name(word)).then_some(0)
}

fn is_size_unit(word: &str) -> bool {
    matches!(
        word,
        "B" | "KB" | "kB" | "MB" | "GB" | "TB" | "KiB" | "MiB" | "GiB" | "TiB"
    )
}

/// A word that says what a number before it measures: a size or a duration (`1209 bytes`, `<1 sec`).
fn is_unit(word: &str) -> bool {
    is_size_unit(word)
        || matches!(
            word,
            "byte"
                | "bytes"
                | "ns"
                | "us"
                | "ms"
                | "s"
                | "sec"
                | "secs"
                | "second"
                | "seconds"
                | "min"
                | "mins"
                | "minute"
                | "minutes"
                | "h"
                | "hours"
                | "%"
        )
}

/// Writes the loose shape of a masked message to `out`: each run of variables written as one `<*>`, where a
/// variable is a token holding `<*>` or a unit after one (`<*> sec`), so that a bracketed restatement of a value
/// is part of it (`1278 bytes (1.24 KB)`). Brackets and quotes around variables are left out. Messages of one
/// event whose values take a varying number of tokens (`lifetime 00:02`, `lifetime <1 sec`) have one loose
/// shape. Gives whether the shape tells an event: whether it holds a word.
pub(super) fn loose_shape(masked: &Masked, out: &mut String) -> bool {
    out.clear();
    let mut words = false;
    let mut in_run = false;
    for k in 0..masked.len() {
        let token = masked.token(k);
        let core = trim_start(trim_end(token, |b| trailing(b) || quote(b)), quote);
        // A key and its value (`steps=<*>`) are a word: only values count.
        let value = core.contains(WILDCARD)
            && !core
                .split(WILDCARD)
                .any(|rest| rest.bytes().any(|b| b.is_ascii_alphabetic()));
        if !(value || in_run && is_unit(core)) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(token);
            in_run = false;
            words = true;
            continue;
        }
        if !in_run {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(WILDCARD);
        }
        // Punctuation after a variable (`<*>,`) ends the run.
        let tail = token.len() - trim_end(token, |b| trailing(b) || quote(b)).len();
        let mut ended = false;
        for b in token[token.len() - tail..].bytes() {
            if matches!(b, b',' | b';' | b':' | b'.') {
                out.push(char::from(b));
                ended = true;
            }
        }
        in_run = !ended;
    }
    words
}

/// Masks one whitespace-free token onto `out`.
fn mask_token(token: &str, holds: u8, out: &mut String) {
    let slash = holds & SLASH != 0;
    let body = trim_start(trim_end(trim_end(token, trailing), quote), quote);
    if slash && is_protocol(body) {
        out.push_str(token);
        return;
    }
    if slash && (has_scheme(body) || is_path(body.as_bytes())) {
        let open = token.len() - trim_start(token, quote).len();
        out.push_str(&token[..open]);
        push_url(body, out);
        out.push_str(&token[open + body.len()..]);
        return;
    }
    let start = out.len();
    let bytes = token.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(WILDCARD.as_bytes()) {
            out.push_str(WILDCARD);
            i += WILDCARD.len();
        } else if let Some(len) = separator_at(bytes, i) {
            out.push_str(&token[i..i + len]);
            i += len;
            // `file=/var/log/x`, `url:http://...`: a path or URL after a key is one variable.
            if slash
                && i > 1
                && matches!(bytes[i - 1], b'=' | b':')
                && bytes
                    .get(i)
                    .is_some_and(|&b| b == b'/' || b.is_ascii_alphabetic())
                && let value = trim_end(&token[i..], trailing)
                && (has_scheme(value) || is_path(value.as_bytes()))
            {
                push_url(value, out);
                i += value.len();
            }
        } else {
            let from = i;
            while i < bytes.len()
                && separator_at(bytes, i).is_none()
                && !bytes[i..].starts_with(WILDCARD.as_bytes())
            {
                i += 1;
            }
            let part = &token[from..i];
            if port_follows(&bytes[i..]) && is_named_host(part) {
                out.push_str(WILDCARD);
                i += 1 + bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            } else {
                mask_part(part, out);
            }
        }
    }
    tidy(out, start);
}

/// `HTTP/1.1`, `SSH/2.0`: a protocol and its version name the protocol, a constant.
fn is_protocol(body: &str) -> bool {
    if !body.as_bytes().first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    let Some((name, version)) = body.split_once('/') else {
        return false;
    };
    // Single digits between dots (`1.1`, `2`, `1.0.2`): decided on the kind of each digit run, not its value or
    // length, as all masking is (see [`skeleton`]).
    let v = version.as_bytes();
    name.len() >= 2
        && name.bytes().all(|b| b.is_ascii_uppercase())
        && v.len() % 2 == 1
        && v.len() <= 5
        && v.iter().enumerate().all(|(k, &b)| {
            if k % 2 == 0 {
                b.is_ascii_digit()
            } else {
                b == b'.'
            }
        })
}

/// The key under which a message's masked form can be remembered: the message with each run of two digits or
/// more written `00`, and each single digit written `0` unless a letter, `/` or `.` comes before it. Masking
/// keeps digits only as runs of one after those (`ssh2`, `eth0`, `HTTP/1.1`) and masks the others whatever their
/// value or length, so messages with one skeleton have one masked form, and lines whose numbers differ still
/// repeat it.
pub(super) fn skeleton(message: &str, out: &mut Vec<u8>) {
    out.clear();
    let bytes = message.as_bytes();
    let mut i = 0;
    // Spans without digits are copied whole.
    while let Some(span) = bytes[i..].iter().position(u8::is_ascii_digit) {
        out.extend_from_slice(&bytes[i..i + span]);
        i += span;
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        let kept = run == 1
            && i > 0
            && (bytes[i - 1].is_ascii_alphabetic() || matches!(bytes[i - 1], b'/' | b'.'));
        out.extend_from_slice(match (run, kept) {
            (1, true) => &bytes[i..=i],
            (1, false) => b"0",
            _ => b"00",
        });
        i += run;
    }
    out.extend_from_slice(&bytes[i..]);
}

/// Rewrites the masked token at `out[start..]`: a slash before a variable is part of it (`/10.0.0.1`), and a
/// list of variables is one variable (`10.0.0.1,10.0.0.2`), so both read like their plain single form.
fn tidy(out: &mut String, start: usize) {
    const PAIR: &str = "<*>,<*>";
    if out[start..].starts_with("/<*>") {
        out.remove(start);
    }
    if !out.as_bytes()[start..].contains(&b',') {
        return;
    }
    while let Some(at) = out[start..].find(PAIR) {
        let at = start + at;
        out.replace_range(at..at + PAIR.len(), WILDCARD);
    }
}

/// Masks one part of a token, between separators: a part with a digit is a variable, unless it is a name that
/// holds a digit (`ssh2`, `eth0`, `jk2_init`) or a dotted name with numbered labels (`core.1234` gives
/// `core.<*>`); a host name is a variable without one (`proxy.example.edu`).
fn mask_part(part: &str, out: &mut String) {
    // A dot that ends the part ends a sentence (`port 8030.`), it is not part of the variable.
    if let Some(head) = part.strip_suffix('.')
        && !head.is_empty()
        && !head.ends_with('.')
    {
        mask_part(head, out);
        out.push('.');
        return;
    }
    let bytes = part.as_bytes();
    if !bytes.iter().any(u8::is_ascii_digit) {
        if is_host(part) || is_literal(part) {
            out.push_str(WILDCARD);
        } else {
            out.push_str(part);
        }
        return;
    }
    if is_host(part) {
        out.push_str(WILDCARD);
        return;
    }
    if is_numbered_name(bytes) {
        out.push_str(part);
        return;
    }
    let first = &part[..bytes.iter().position(|&b| b == b'.').unwrap_or(bytes.len())];
    if first.len() < part.len()
        && first.len() >= 2
        && first.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_')
    {
        for (k, label) in part.split('.').enumerate() {
            if k > 0 {
                out.push('.');
            }
            if label.bytes().any(|b| b.is_ascii_digit()) && !is_numbered_name(label.as_bytes()) {
                out.push_str(WILDCARD);
            } else {
                out.push_str(label);
            }
        }
        return;
    }
    out.push_str(WILDCARD);
}

/// `true`, `false`, `null`: the values of a flag or a field, variables as numbers are (`setLightsOn(true)`,
/// `ws=null`). `NULL` and `none` are left alone: in prose they are words (`NULL pointer`, `Failed none for`).
fn is_literal(part: &str) -> bool {
    matches!(
        part,
        "true" | "false" | "null" | "True" | "False" | "TRUE" | "FALSE"
    )
}

/// Whether a token without digits holds a literal value: glued to a key or in brackets (`isOverlap:false,`,
/// `setLightsOn(true)`), or alone after a key (`cancelPeek: false`, `tag = null`). Alone after a word it is a
/// word of the sentence (`name is null`). Plain words pass the first test.
fn holds_literal(token: &str, before: Option<&str>) -> bool {
    if token.len() < 4 || !token.bytes().any(|b| matches!(b, b'e' | b'l' | b'E')) {
        return false;
    }
    let bare = trim_end(token, trailing);
    if is_literal(bare) {
        return before.is_some_and(|b| b.ends_with([':', '=']));
    }
    token
        .split(|c: char| c.is_ascii() && is_separator(c as u8))
        .any(|part| is_literal(trim_end(part, trailing)))
}

/// A word that starts with two letters and whose digits stand alone after letters: `ssh2`, `eth0`, `jk2_init`.
/// `blk_123`, `node-7` and `x86` are variables.
fn is_numbered_name(bytes: &[u8]) -> bool {
    if bytes.len() < 3 || !bytes[..2].iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    bytes.iter().enumerate().all(|(k, &b)| {
        if b.is_ascii_digit() {
            bytes[k - 1].is_ascii_alphabetic()
                && bytes.get(k + 1).is_none_or(|n| !n.is_ascii_digit())
        } else {
            b.is_ascii_alphabetic() || b == b'_'
        }
    })
}

/// Top-level domains that are not a country's.
const GENERIC: &[&str] = &[
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "io",
    "info",
    "biz",
    "local",
    "lan",
    "internal",
    "arpa",
    "localdomain",
];
/// Country domains: a host under one needs three labels (`main.rs`, `a.so` are files).
const COUNTRY: &[&str] = &[
    "uk", "de", "fr", "jp", "cn", "hk", "ru", "nl", "eu", "ca", "au", "in", "br", "it", "es", "se",
    "ch", "kr", "tw", "us", "pl", "be", "at", "dk", "no", "fi", "cz",
];

/// Whether `label` is a top-level domain: the first label of a reverse-domain identifier (`com.vendor.agent`).
pub(super) fn is_domain(label: &str) -> bool {
    GENERIC.contains(&label) || COUNTRY.contains(&label)
}

/// A host name: lowercase labels joined by dots ending in a top-level domain (`proxy.example.edu`,
/// `node-7.cluster.local`); a country domain needs three labels, so `main.rs` and `a.so` are not hosts.
fn is_host(part: &str) -> bool {
    let bytes = part.as_bytes();
    // Most parts are not hosts: the last byte and the last label rule them out before any scan of the whole.
    if !bytes.last().is_some_and(u8::is_ascii_lowercase) {
        return false;
    }
    let Some(dot) = bytes.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let tld = &part[dot + 1..];
    let generic = GENERIC.contains(&tld);
    if !generic && !COUNTRY.contains(&tld) {
        return false;
    }
    let labels = part.split('.').count();
    bytes
        .iter()
        .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !bytes.windows(2).any(|w| w == b"..")
        && bytes[0] != b'.'
        && (generic || labels >= 3)
}

/// Whether `rest`, what follows a part of a token, is `:` and a port number ending the token (`:443`, `:80,`).
/// Any number of digits: masking decides on the kind of a digit run, never its length (see [`skeleton`]).
fn port_follows(rest: &[u8]) -> bool {
    let Some(port) = rest.strip_prefix(b":") else {
        return false;
    };
    let digits = port.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && port[digits..].iter().all(|&b| trailing(b))
}

/// A dotted name before a port: a host whatever its top-level domain (`csdnimg.cn:80`, `bx.optimix.asia:443`),
/// unless its last label is a source file's extension (`main.rs:42` is a file and a line). The name and its port
/// are masked as one address, `<*>`.
fn is_named_host(part: &str) -> bool {
    const SOURCE: &[&str] = &[
        "c", "cc", "cpp", "cs", "go", "h", "hpp", "java", "js", "jsx", "kt", "lua", "m", "php",
        "pl", "py", "rb", "rs", "scala", "sh", "swift", "ts", "tsx", "vue", "ex", "exs", "erl",
        "hs", "ml", "log", "txt", "conf", "json", "yaml", "yml", "xml", "html",
    ];
    let Some((_, tld)) = part.rsplit_once('.') else {
        return false;
    };
    (2..=12).contains(&tld.len())
        && tld.bytes().all(|b| b.is_ascii_lowercase())
        && !SOURCE.contains(&tld)
        && part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !part.starts_with('.')
        && !part.contains("..")
}

/// `/var/log/app.log`, `/tmp/x`, `C:\\Windows\\x.dll`: an absolute path of two levels or more, variable as a
/// whole. One level is a name (`POST /checkout`, `/default-rack`), and `/10.0.0.1:80` an address.
fn is_path(bytes: &[u8]) -> bool {
    if let [drive, b':', b'\\', ..] = bytes {
        return drive.is_ascii_alphabetic();
    }
    bytes.len() > 2
        && bytes[0] == b'/'
        && bytes[1] != b'/'
        && bytes[2..].contains(&b'/')
        && !bytes[1..]
            .iter()
            .any(|&b| matches!(b, b'=' | b'<' | b'>' | b','))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(message: &str) -> String {
        let mut out = Masked::default();
        mask_message(message, &mut out);
        out.text
    }

    #[test]
    fn digits_urls_and_paths_are_masked_keeping_separators() {
        assert_eq!(
            masked("Received block blk_-1608999687919862906 of size 91178 from /10.250.10.6"),
            "Received block <*> of size <*> from <*>"
        );
        assert_eq!(
            masked("connect to 10.0.0.12:5432 refused after 30s"),
            "connect to <*>:<*> refused after <*>"
        );
        assert_eq!(
            masked("session opened for root by (uid=0)"),
            "session opened for root by (uid=<*>)"
        );
        assert_eq!(
            masked("GET https://example.com/a?id=4 from 0xdeadbeef"),
            "GET https://<*> from <*>"
        );
        // A URL keeps its scheme, a scheme with digits is not one.
        assert_eq!(
            masked("split hdfs://10.0.0.1:9000/x url=git+ssh://b/k (ab12://q/r)"),
            "split hdfs://<*> url=git+ssh://<*> (<*>)"
        );
        assert_eq!(masked("open /var/log/app.log failed"), "open <*> failed");
        assert_eq!(
            masked("request 123e4567-e89b-12d3-a456-426614174000 done"),
            "request <*> done"
        );
        assert_eq!(masked("Adding #3 tokens"), "Adding #<*> tokens");
        assert_eq!(masked("  spaces\tand   tabs  "), "spaces and tabs");
        // Wildcards in the input stay wildcards.
        assert_eq!(masked("took <*> ms at <*>:<*>"), "took <*> ms at <*>:<*>");
        assert_eq!(masked(""), "");
    }

    #[test]
    fn punctuation_around_a_variable_stays_outside_it() {
        assert_eq!(
            masked("Error loading /bgl/apps/prog: invalid image, connect to port 8030."),
            "Error loading <*>: invalid image, connect to port <*>."
        );
        assert_eq!(
            masked("removing device node '/udev/vcs2' (/tmp/x)"),
            "removing device node '<*>' (<*>)"
        );
        assert_eq!(
            masked("Resolved host7 to /default-rack, POST /checkout"),
            "Resolved host7 to /default-rack, POST /checkout"
        );
        assert_eq!(masked("file=/var/log/x.log,"), "file=<*>,");
        assert_eq!(masked("with Core: C:\\Windows\\x.dll"), "with Core: <*>");
        assert_eq!(
            masked("Received connection request /10.1.1.2:4181"),
            "Received connection request <*>:<*>"
        );
    }

    #[test]
    fn names_that_hold_a_digit_are_words() {
        assert_eq!(
            masked("Failed password for root from 1.2.3.4 port 22 ssh2"),
            "Failed password for root from <*> port <*> ssh2"
        );
        assert_eq!(
            masked("jk2_init() Found child 6725"),
            "jk2_init() Found child <*>"
        );
        assert_eq!(
            masked("link up on eth0 and alt1"),
            "link up on eth0 and alt1"
        );
        assert_eq!(masked("generating core.2275"), "generating core.<*>");
        assert_eq!(
            masked("blk_123 node-7 x86 R02-M1-N0 sha256"),
            "<*> <*> <*> <*> <*>"
        );
    }

    #[test]
    fn messages_with_one_skeleton_have_one_masked_form() {
        let pairs = [
            (
                "GET /a HTTP/1.1 took 12ms from 12.3.4.5:80",
                "GET /a HTTP/1.1 took 99999ms from 99.3.4.5:8080",
            ),
            (
                "ssh2 eth0 core.12 x86 v1.22.3 blk_-42",
                "ssh2 eth0 core.99999 x11 v1.44.3 blk_-99",
            ),
            (
                "HTTP/1.12 SSH/2 12 KB, user 7 (n=4)",
                "HTTP/1.123 SSH/2 3456 KB, user 0 (n=9)",
            ),
        ];
        for (a, b) in pairs {
            let (mut ka, mut kb) = (Vec::new(), Vec::new());
            skeleton(a, &mut ka);
            skeleton(b, &mut kb);
            assert_eq!(ka, kb, "{a} / {b}");
            assert_eq!(masked(a), masked(b), "{a} / {b}");
        }
        let (mut ka, mut kb) = (Vec::new(), Vec::new());
        skeleton("ssh2", &mut ka);
        for other in ["ssh22", "ssh3"] {
            skeleton(other, &mut kb);
            assert_ne!(ka, kb);
        }
    }

    #[test]
    fn hosts_and_domains_are_variables() {
        assert_eq!(
            masked("proxy.example.edu:443 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS"),
            "<*> open through proxy <*> HTTPS"
        );
        assert_eq!(masked("resolved node-7.cluster.local"), "resolved <*>");
        assert_eq!(
            masked("rhost=gw.example.net from mail.example.com: closed"),
            "rhost=<*> from <*>: closed"
        );
        // Before a port, a dotted name is a host whatever its top-level domain, and the two are one address; a
        // source file and its line are not. An IP address keeps its port apart, as it is written in most logs.
        assert_eq!(
            masked(
                "csdnimg.cn:80 open, bx.optimix.asia:443, at main.rs:42 and Foo.java:7 from 10.0.0.1:80"
            ),
            "<*> open, <*>, at main.rs:<*> and Foo.java:<*> from <*>:<*>"
        );
        // Dotted identifiers, files and reverse-domain bundle names are not hosts: the miner decides by variation.
        assert_eq!(
            masked("com.vendor.thing.agent main.rs org.apache.Foo libc.so chrome.exe"),
            "com.vendor.thing.agent main.rs org.apache.Foo libc.so chrome.exe"
        );
    }

    #[test]
    fn flags_and_nulls_are_values() {
        assert_eq!(
            masked("setLightsOn(true) isOverlap:false, ws=null ready=True,mode=FALSE"),
            "setLightsOn(<*>) isOverlap:<*>, ws=<*> ready=<*>,mode=<*>"
        );
        // Alone after a key it is a value; after a word, a word of the sentence.
        assert_eq!(
            masked("cancelPeek: false, tag = null, name is null"),
            "cancelPeek: <*>, tag = <*>, name is null"
        );
        // Words that hold a literal, and the literals that are words in prose, stay.
        assert_eq!(
            masked("trueName nullable untrue NULL pointer, Failed none for user"),
            "trueName nullable untrue NULL pointer, Failed none for user"
        );
    }

    #[test]
    fn lists_units_and_user_names_read_like_one_variable() {
        assert_eq!(
            masked("10.0.0.1,10.0.0.2 \"GET /v2/servers HTTP/1.1\" status: 200"),
            "<*> \"GET <*> HTTP/1.1\" status: <*>"
        );
        assert_eq!(masked("10.0.0.1 \"GET"), "<*> \"GET");
        assert_eq!(
            masked("Block rdd_2_0 stored (estimated size 16.0 KB, free 317.5 MB)"),
            "Block <*> stored (estimated size <*> <*>, free <*> <*>)"
        );
        assert_eq!(
            masked("session opened for user news by LOGIN; check pass; user unknown"),
            "session opened for user <*> by LOGIN; check pass; user unknown"
        );
        assert_eq!(masked("KB of data"), "KB of data");
    }
}
