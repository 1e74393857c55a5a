//! Where the message starts in a whole log line, for any format, with no configuration.
//!
//! A line is read as fields: whitespace-separated words, except that a bracketed group (`[Sun Dec 04 04:47:44
//! 2005]`, `[RMCommunicator Allocator]`) is one field. Each field has a shape: a level word, a bracketed group,
//! a word ending in `:` (a component: `sshd[24200]:`, `org.apache.Foo:`), a word with a digit (dates, times,
//! pids, hosts), punctuation (`-`, `|`), or another word.
//!
//! One line alone says where its header ends: after the first level word and what follows it in headers (a
//! bracketed thread, a component, separators), or else after the first component that comes after a field with
//! a digit (a timestamp). Lines disagree where a message holds such words, so the detector learns from the first
//! lines the header length (in fields) most of them give, and the shapes of those fields. A line whose own answer
//! differs but whose first fields have the learned shapes (a name between the first and the last may take another:
//! a node `full` where others have `node-7`) is cut at the learned length; a line that fits neither
//! (a stack trace, a wrapped message) is all message.
//!
//! Formats with neither a level nor a component (`2026-12-01T10:00:00Z status installed ...`, cluster logs that
//! open with a record id, a node, a component and an epoch, `[12.01 16:49:06] prog.exe - ...`) are learned from
//! their repeated prefix: the fields whose shapes nine in ten of the first lines share, cut after the last of
//! them that is not a plain word, when the lines open with a timestamp or an id (or a name and a time). Fields that end in `|` split a line
//! into columns (`time|component|pid|message`). When the lines share no such prefix there is no header.

/// How many lines the header shape is learned from.
pub(crate) const LEARN_LINES: usize = 200;
/// A file with fewer lines settles its header from this many, once its lines are cut.
const MIN_LEARN: usize = 20;
/// A header has at most this many fields.
const MAX_FIELDS: usize = 12;
/// A bracketed field is at most this long; past it, a `[` opens an ordinary word.
const MAX_BRACKET: usize = 512;

/// Words that name a severity, compared without case.
const LEVELS: &[&str] = &[
    "trace",
    "debug",
    "info",
    "notice",
    "warn",
    "warning",
    "error",
    "err",
    "severe",
    "fatal",
    "critical",
    "crit",
    "alert",
    "emerg",
    "emergency",
    "fine",
    "finer",
    "finest",
    "verbose",
    "panic",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Level,
    Bracket,
    Component,
    Digits,
    Punct,
    Word,
}

/// A field of a line: where it ends and its shape.
#[derive(Clone, Copy, Debug)]
struct Field {
    end: usize,
    shape: Shape,
    /// Whether at least two blanks follow it: the header is in aligned columns.
    column: bool,
    /// Whether it ends in `|`: the header is in `|`-separated columns.
    piped: bool,
    /// Whether at least half of its letters and digits are digits: a timestamp or an id.
    numeric: bool,
}

/// Finds where the message starts in whole log lines, learning the prefix shape from the lines it has seen.
#[derive(Debug, Default)]
pub(crate) struct HeaderDetector {
    /// How many lines gave each header length, while learning.
    votes: [u32; MAX_FIELDS + 1],
    /// For each length and position, how many lines had each shape there.
    shapes: Vec<[[u32; 6]; MAX_FIELDS]>,
    seen: usize,
    /// The learned header: its length in fields and the shape of each field.
    learned: Option<(usize, Vec<Shape>)>,
    fields: Vec<Field>,
    /// The shapes of the first fields of each line learned from, and whether it opens with a timestamp or an id.
    prefixes: Vec<(Vec<Shape>, bool)>,
}

impl HeaderDetector {
    pub(crate) fn new() -> Self {
        HeaderDetector {
            shapes: vec![[[0; 6]; MAX_FIELDS]; MAX_FIELDS + 1],
            ..HeaderDetector::default()
        }
    }

    /// Learns from `line` without cutting it: feed the first lines of a file here before cutting them, so they
    /// are cut with what the whole sample says.
    pub(crate) fn learn(&mut self, line: &str) {
        if self.learned.is_some() {
            return;
        }
        let own = self.own_header(line);
        self.votes[own] += 1;
        for (k, f) in self.fields.iter().take(own).enumerate() {
            self.shapes[own][k][f.shape as usize] += 1;
        }
        // It opens with a timestamp or an id, or a time follows a name (`update-alternatives 2026-12-01 ...`).
        let numeric = self.fields.first().is_some_and(|f| f.numeric)
            || self
                .fields
                .iter()
                .take(3)
                .any(|f| has_time(&line.as_bytes()[..f.end]));
        self.prefixes.push((
            self.fields
                .iter()
                .take(MAX_FIELDS)
                .map(|f| f.shape)
                .collect(),
            numeric,
        ));
        self.seen += 1;
        if self.seen >= LEARN_LINES {
            self.settle();
        }
    }

    /// Decides the header from the votes so far.
    fn settle(&mut self) {
        let (length, _) = self
            .votes
            .iter()
            .enumerate()
            .max_by_key(|&(len, votes)| (*votes, std::cmp::Reverse(len)))
            .expect("votes");
        if length == 0 {
            let prefixes = std::mem::take(&mut self.prefixes);
            self.learned = Some(shared_prefix(&prefixes));
            return;
        }
        self.prefixes = Vec::new();
        let shapes = (0..length)
            .map(|k| {
                let counts = &self.shapes[length][k];
                let best = (0..6).max_by_key(|&s| counts[s]).expect("six shapes");
                SHAPES[best]
            })
            .collect();
        self.learned = Some((length, shapes));
    }

    /// The message of `line`: the line after its header.
    pub(crate) fn message<'a>(&mut self, line: &'a str) -> &'a str {
        if self.learned.is_none() && self.seen >= MIN_LEARN {
            // A short file: what its lines say is all there is.
            self.settle();
        }
        if self.learned.is_none() {
            self.learn(line);
            if self.learned.is_none() {
                let own = self.own_header(line);
                return self.cut(line, own);
            }
        }
        let own = self.own_header(line);
        let (length, shapes) = self.learned.as_ref().expect("learned");
        if own == *length {
            return self.cut(line, own);
        }
        let length = *length;
        // The first and last fields keep their shapes; a name between them may take another (a node column
        // that holds `full` where others hold `node-7`, a state column that holds the word `error`).
        let name = |s: Shape| matches!(s, Shape::Word | Shape::Digits | Shape::Level);
        let fits = length > 0
            && self.fields.len() > length
            && self.fields[..length]
                .iter()
                .zip(shapes)
                .enumerate()
                .all(|(k, (f, s))| {
                    f.shape == *s || (0 < k && k + 1 < length && name(f.shape) && name(*s))
                });
        if fits {
            return self.cut(line, length);
        }
        // A header that ends in a separator: its first field, names of any shape (`AcroRd32.exe`), a word or
        // two more among them (`prog.exe *64`), then the separator.
        if length >= 2 && shapes[length - 1] == Shape::Punct {
            let fixed = length - 1;
            let name = |f: &Field| matches!(f.shape, Shape::Word | Shape::Digits);
            let opens = self.fields.len() > fixed
                && self.fields[0].shape == shapes[0]
                && self.fields[1..fixed]
                    .iter()
                    .zip(&shapes[1..])
                    .all(|(f, s)| {
                        f.shape == *s || name(f) && matches!(s, Shape::Word | Shape::Digits)
                    });
            if opens
                && let Some(extra) = (0..=2).find(|&e| {
                    self.fields
                        .get(fixed + e)
                        .is_some_and(|f| f.shape == Shape::Punct)
                })
                && self.fields.len() > fixed + extra + 1
            {
                return self.cut(line, fixed + extra + 1);
            }
        }
        line.trim_start()
    }

    fn cut<'a>(&self, line: &'a str, fields: usize) -> &'a str {
        let start = if fields == 0 {
            0
        } else {
            self.fields[fields - 1].end
        };
        line[start..].trim_start()
    }

    /// Where this line's own header ends, in fields (at most [`MAX_FIELDS`]); fills `self.fields`.
    fn own_header(&mut self, line: &str) -> usize {
        self.header_fields(line).min(MAX_FIELDS)
    }

    fn header_fields(&mut self, line: &str) -> usize {
        split_fields(line, &mut self.fields);
        let fields = &self.fields;
        let piped = fields.iter().take_while(|f| f.piped).count();
        if piped >= 2 {
            return piped;
        }
        let mut digits = false;
        for (k, f) in fields.iter().enumerate() {
            match f.shape {
                Shape::Level => return extend_after_level(fields, k + 1),
                Shape::Component if digits => return k + 1,
                _ => {}
            }
            let start = if k == 0 { 0 } else { fields[k - 1].end };
            digits |= line.as_bytes()[start..f.end].iter().any(u8::is_ascii_digit);
        }
        0
    }
}

const SHAPES: [Shape; 6] = [
    Shape::Level,
    Shape::Bracket,
    Shape::Component,
    Shape::Digits,
    Shape::Punct,
    Shape::Word,
];

/// The header the first lines share when they have no level or component: the longest run of fields whose
/// shapes nine in ten of them share, cut after its last field that is not a plain word; none unless the lines
/// open with a timestamp or an id.
fn shared_prefix(prefixes: &[(Vec<Shape>, bool)]) -> (usize, Vec<Shape>) {
    let none = (0, Vec::new());
    let need = (prefixes.len() * 9).div_ceil(10);
    if prefixes.is_empty() || prefixes.iter().filter(|(_, numeric)| *numeric).count() < need {
        return none;
    }
    let mut shared: Vec<Shape> = Vec::new();
    for k in 0..MAX_FIELDS {
        let mut counts = [0_usize; 6];
        for (shapes, _) in prefixes {
            if shapes.len() > k && shapes[..k] == shared[..] {
                counts[shapes[k] as usize] += 1;
            }
        }
        let (best, &count) = counts
            .iter()
            .enumerate()
            .max_by_key(|&(_, c)| *c)
            .expect("six shapes");
        if count < need {
            break;
        }
        shared.push(SHAPES[best]);
    }
    // A separator after the first field ends the header (`[time] prog.exe - <message>`): what follows it is the
    // message even when its first field has a digit in most lines (`host:443 open ...`).
    let cut = shared
        .iter()
        .skip(1)
        .position(|&s| s == Shape::Punct)
        .map(|p| p + 2)
        .or_else(|| {
            shared
                .iter()
                .rposition(|&s| s != Shape::Word)
                .map(|p| p + 1)
        })
        .unwrap_or(0);
    shared.truncate(cut);
    (cut, shared)
}

/// After a level word, headers go on with separators, a bracketed thread and a component name: a word ending in
/// `:`, a logger name before a bracketed context (`svc.api.server [req-1 - -]`) or a name in aligned columns.
fn extend_after_level(fields: &[Field], mut end: usize) -> usize {
    let mut bracket = false;
    while let Some(f) = fields.get(end) {
        match f.shape {
            Shape::Word
                if f.column
                    || (!bracket
                        && fields
                            .get(end + 1)
                            .is_some_and(|b| b.shape == Shape::Bracket)) =>
            {
                // The name, and its bracketed context unless it stands in a column.
                end += if f.column { 1 } else { 2 };
                break;
            }
            Shape::Punct => end += 1,
            Shape::Bracket if !bracket => {
                bracket = true;
                end += 1;
            }
            Shape::Component => {
                end += 1;
                while fields.get(end).is_some_and(|f| f.shape == Shape::Punct) {
                    end += 1;
                }
                break;
            }
            _ => break,
        }
    }
    end
}

/// Splits the head of `line` into at most [`MAX_FIELDS`] + 1 fields.
fn split_fields(line: &str, fields: &mut Vec<Field>) {
    fields.clear();
    let bytes = line.as_bytes();
    let mut i = 0;
    while fields.len() <= MAX_FIELDS {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        let mut end = word_end(bytes, i);
        if bytes[i] == b'['
            && let Some(close) = closing_bracket(bytes, i)
        {
            end = word_end(bytes, close).max(close + 1);
        }
        // `time|component|pid|message`: a `|` ends a field.
        if let Some(pipe) = bytes[start..end].iter().position(|&b| b == b'|') {
            end = start + pipe + 1;
        }
        let text = &line[start..end];
        let (mut digits, mut alnum) = (0, 0);
        for b in text.bytes() {
            digits += usize::from(b.is_ascii_digit());
            alnum += usize::from(b.is_ascii_alphanumeric());
        }
        let blanks = bytes[end..]
            .iter()
            .take(2)
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        fields.push(Field {
            end,
            shape: shape(text),
            column: blanks == 2,
            piped: text.len() > 1 && text.ends_with('|'),
            numeric: digits > 0 && 2 * digits >= alnum,
        });
        i = end;
    }
}

/// Whether `text` holds `dd:dd:dd` or `dddd-dd-dd`.
fn has_time(text: &[u8]) -> bool {
    let digit = |w: &[u8], at: &[usize]| at.iter().all(|&k| w[k].is_ascii_digit());
    text.windows(8)
        .any(|w| w[2] == b':' && w[5] == b':' && digit(w, &[0, 1, 3, 4, 6, 7]))
        || text
            .windows(10)
            .any(|w| w[4] == b'-' && w[7] == b'-' && digit(w, &[0, 1, 2, 3, 5, 6, 8, 9]))
}

fn word_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(bytes.len(), |p| from + p)
}

/// The `]` that closes the `[` at `open`, within [`MAX_BRACKET`] bytes.
fn closing_bracket(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (k, &b) in bytes[open..].iter().enumerate().take(MAX_BRACKET) {
        match b {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + k);
                }
            }
            _ => {}
        }
    }
    None
}

fn shape(field: &str) -> Shape {
    let bare = field.trim_matches(|c: char| matches!(c, '[' | ']' | '<' | '>' | '(' | ')' | ':'));
    if !bare.is_empty() && LEVELS.iter().any(|l| l.eq_ignore_ascii_case(bare)) {
        return Shape::Level;
    }
    let bytes = field.as_bytes();
    if bytes[0] == b'[' {
        return Shape::Bracket;
    }
    if !bytes.iter().any(u8::is_ascii_alphanumeric) {
        return Shape::Punct;
    }
    // `sshd[24200]:`, `kernel:`, `org.apache.Foo$Bar:`, but not a time such as `12:00:`.
    if bytes.len() > 1
        && bytes[bytes.len() - 1] == b':'
        && bytes.iter().any(u8::is_ascii_alphabetic)
    {
        return Shape::Component;
    }
    if bytes.iter().any(u8::is_ascii_digit) {
        return Shape::Digits;
    }
    Shape::Word
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message of each line, after learning from all of them.
    fn messages(lines: &[&str]) -> Vec<String> {
        let mut d = HeaderDetector::new();
        for line in lines {
            d.learn(line);
        }
        lines.iter().map(|l| d.message(l).to_owned()).collect()
    }

    fn one(line: &str) -> String {
        HeaderDetector::new().message(line).to_owned()
    }

    #[test]
    fn common_formats_lose_their_header() {
        assert_eq!(
            one("Nov 20 01:02:03 host sshd[123]: Accepted password for bob"),
            "Accepted password for bob"
        );
        assert_eq!(
            one("2026-11-20T01:02:03.123Z ERROR payment failed for order 7"),
            "payment failed for order 7"
        );
        assert_eq!(
            one("[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6"),
            "mod_jk child workerEnv in error state 6"
        );
        assert_eq!(
            one(
                "2015-10-18 18:01:47,978 INFO [main] org.apache.Foo: Created MRAppMaster for application 1"
            ),
            "Created MRAppMaster for application 1"
        );
        assert_eq!(
            one(
                "2015-10-18 18:01:47,978 INFO [RMCommunicator Allocator] org.apache.Foo: Ramping up"
            ),
            "Ramping up"
        );
        assert_eq!(
            one("2026-11-20 01:02:03,123 - app.payments - ERROR - Payment failed"),
            "Payment failed"
        );
        assert_eq!(
            one(
                "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected"
            ),
            "instruction cache parity error corrected"
        );
        assert_eq!(
            one(
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating"
            ),
            "PacketResponder 1 terminating"
        );
        assert_eq!(
            one(
                "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200"
            ),
            "Notification time out: 3200"
        );
        assert_eq!(one("1700000000 WARN disk almost full"), "disk almost full");
    }

    #[test]
    fn the_learned_shape_wins_over_words_in_messages() {
        let lines = [
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; uid=0",
            "Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown",
            "Jun 15 02:04:59 combo kernel: error: too many retries",
            "Jun 15 04:06:18 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)",
            "Traceback (most recent call last):",
            "Jun 15 04:06:19 combo logrotate: ALERT exited abnormally with [1]",
        ];
        assert_eq!(
            messages(&lines),
            [
                "authentication failure; uid=0",
                "check pass; user unknown",
                "error: too many retries",
                "session opened for user cyrus by (uid=0)",
                "Traceback (most recent call last):",
                "ALERT exited abnormally with [1]",
            ]
        );
    }

    #[test]
    fn lines_without_a_header_stay_whole() {
        let lines = [
            "just a message here",
            "another message: with a colon",
            "",
            "   ",
            "x",
        ];
        assert_eq!(
            messages(&lines),
            [
                "just a message here",
                "another message: with a colon",
                "",
                "",
                "x"
            ]
        );
        // Invalid UTF-8 arrives replaced; a huge line is cut like any other.
        let lossy = String::from_utf8_lossy(b"2026-01-01 00:00:00 INFO caf\xff done");
        assert_eq!(one(&lossy), "caf\u{fffd} done");
        let long = format!("2026-01-01 00:00:00 INFO {}", "a".repeat(1 << 20));
        assert_eq!(one(&long).len(), 1 << 20);
    }

    /// `count` lines of `header(i) + message(i)`, and the messages found in them after learning.
    fn learned(count: usize, line: impl Fn(usize) -> (String, String)) -> Vec<(String, String)> {
        let lines: Vec<(String, String)> = (0..count).map(line).collect();
        let whole: Vec<&str> = lines.iter().map(|(l, _)| l.as_str()).collect();
        messages(&whole)
            .into_iter()
            .zip(lines)
            .map(|(found, (_, want))| (found, want))
            .collect()
    }

    const MESSAGES: [&str; 5] = [
        "status installed libfoo:amd64 1.2-3",
        "VM Started (Lifecycle Event)",
        "Accepted publickey for bob from 10.0.0.1 port 22 ssh2",
        "proxy.example.edu:443 open through proxy HTTPS",
        "onStandStepChanged 3579",
    ];

    fn assert_all_found(found: &[(String, String)]) {
        for (got, want) in found {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn headers_without_level_or_component_are_learned_from_their_shared_prefix() {
        // A timestamp alone.
        assert_all_found(&learned(60, |i| {
            let m = MESSAGES[i % 5];
            (format!("2026-12-01T10:00:{:02}Z {m}", i % 60), m.to_owned())
        }));
        // Cluster records: id, node, component, event, epoch, flag. One in twenty has a node without a digit or
        // a level word for its event; past the lines learned from, one in three.
        assert_all_found(&learned(300, |i| {
            let m = MESSAGES[i % 5];
            let odd = if i < 200 { i % 20 == 7 } else { i % 3 == 0 };
            let (node, component, event) = if odd {
                [
                    ("full", "partition", "status"),
                    ("switch-1N00", "switch_module", "error"),
                ][i % 2]
            } else {
                [
                    ("node-4", "unix.hw", "boot"),
                    ("node-7", "node", "state_change.unavailable"),
                ][i % 2]
            };
            (
                format!(
                    "{} {node} {component} {event} {} 1 {m}",
                    1000 + i * 7,
                    1_077_804_742 + i
                ),
                m.to_owned(),
            )
        }));
        // A bracketed time and a program, whose messages open with a host and port; past the lines learned
        // from, a program has a word more.
        assert_all_found(&learned(260, |i| {
            let m = format!("host-{i}.example.com:443 {}", MESSAGES[i % 5]);
            let program = if i < 210 {
                ["chrome.exe", "svchost.exe"][i % 2]
            } else {
                ["chrome.exe *64", "AcroRd32.exe", "360AP.exe"][i % 3]
            };
            (format!("[12.01 16:49:{:02}] {program} - {m}", i % 60), m)
        }));
    }

    #[test]
    fn a_name_before_the_time_is_part_of_the_header() {
        assert_all_found(&learned(60, |i| {
            let m = MESSAGES[i % 5];
            (
                format!("update-alternatives 2026-12-01 10:00:{:02}: {m}", i % 60),
                m.to_owned(),
            )
        }));
    }

    #[test]
    fn piped_bracketed_and_column_headers_are_cut() {
        assert_all_found(&learned(60, |i| {
            let m = MESSAGES[i % 5];
            (
                format!("20261201-10:0{}:29:606|Step_LSC|3000{i}|{m}", i % 10),
                m.to_owned(),
            )
        }));
        assert_all_found(&learned(60, |i| {
            let m = MESSAGES[i % 5];
            (
                format!(
                    "api.log.1 2026-12-01 00:00:00.008 2574{} INFO svc.api.wsgi.server [req-38101a0b-{i:04} 113d3a99 - - -] {m}",
                    i % 10
                ),
                m.to_owned(),
            )
        }));
        assert_all_found(&learned(60, |i| {
            let m = MESSAGES[i % 5];
            let level = ["Info   ", "Warning"][i % 2];
            (
                format!("2026-12-01 04:30:{:02}, {level}        CBS    {m}", i % 60),
                m.to_owned(),
            )
        }));
    }

    #[test]
    fn a_header_longer_than_the_field_limit_is_cut_at_the_limit() {
        // A level and then more separators than a header may have fields: this indexed past the votes once.
        let line = format!("2026-12-01 10:00:00 INFO {}message", "- ".repeat(20));
        let lines = vec![line.as_str(); 30];
        let found = messages(&lines);
        assert!(
            found.iter().all(|m| line.ends_with(m.as_str())),
            "{found:?}"
        );
    }

    #[test]
    fn lines_that_share_no_numeric_prefix_have_no_header() {
        // Messages alone, even when most open with the same shapes.
        let found = learned(60, |i| {
            let m = MESSAGES[i % 5];
            (m.to_owned(), m.to_owned())
        });
        assert_all_found(&found);
        let found = learned(60, |i| {
            let m = format!(
                "jk2_init() Found child {} in scoreboard slot {}",
                6000 + i,
                i % 9
            );
            (m.clone(), m)
        });
        assert_all_found(&found);
    }
}
