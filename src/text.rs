//! Small text helpers for the report and its messages, one of each: markdown code spans and table cells,
//! one-line excerpts, counts, sizes, durations, capitals. The steps render through these so that the report reads the same everywhere.

/// `text` as one markdown code span, whatever backticks it holds; newlines become spaces, so a finding never
/// breaks the line (or the table) it is written in.
pub(crate) fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let run = longest_run(&text, '`');
    if run == 0 {
        return format!("`{text}`");
    }
    let fence = "`".repeat(run + 1);
    format!("{fence} {text} {fence}")
}

/// The longest run of `c` in `text`.
pub(crate) fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// `text` with its first letter in upper case.
pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `1 file`, `3 files`: the count as it is, and the word for one or for many.
pub(crate) fn plural<N: std::fmt::Display + PartialEq + From<u8> + Copy>(
    n: N,
    one: &str,
    many: &str,
) -> String {
    let word = if n == N::from(1) { one } else { many };
    format!("{n} {word}")
}

/// `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `512 B`, `1.5 KiB`, `12.0 MiB`: powers of 1024, one decimal, rounded.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 1024u128;
    let mut index = 0;
    while index + 1 < UNITS.len() && u128::from(bytes) >= unit * 1024 {
        unit *= 1024;
        index += 1;
    }
    let tenths = (u128::from(bytes) * 10 + unit / 2) / unit;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[index])
}

/// Text for a table cell: no pipes or newlines.
pub(crate) fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// The first line of `text`, bounded, so an error with a long stderr does not swamp the report.
/// `text` on one line (runs of whitespace, newlines included, become one space), at most `max` characters
/// (cut with "…").
pub(crate) fn squeeze(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

pub(crate) fn one_line(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    let more = text.trim().lines().count() > 1;
    let mut line: String = first.chars().take(300).collect();
    if more || first.chars().count() > 300 {
        line.push_str(" …");
    }
    line
}

pub(crate) fn duration(ms: u64) -> String {
    #[expect(
        clippy::cast_precision_loss,
        reason = "durations are far below 2^52 ms"
    )]
    let secs = ms as f64 / 1000.0;
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        format!("{}m {:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks_and_never_a_newline() {
        assert_eq!(code("a b"), "`a b`");
        assert_eq!(code("x `y` z"), "`` x `y` z ``");
        assert_eq!(code("``"), "``` `` ```");
        assert_eq!(code("line one\nline two\r\n"), "`line one line two  `");
    }

    #[test]
    fn counts_sizes_and_capitals() {
        assert_eq!(plural(1, "file", "files"), "1 file");
        assert_eq!(plural(0, "file", "files"), "0 files");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(capitalise("éclair"), "Éclair");
        assert_eq!(capitalise(""), "");
    }
}
