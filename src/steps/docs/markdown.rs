//! A small markdown reader: links, inline code, headings and their anchors, fenced blocks.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

/// One markdown file, reduced to what the checks read.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    /// Link destinations as written, by line.
    pub(super) links: Vec<(usize, String)>,
    /// Inline code, by line.
    pub(super) spans: Vec<(usize, String)>,
    pub(super) blocks: Vec<Block>,
    /// `$NAME` in prose, by line.
    pub(super) dollars: Vec<(usize, String)>,
    /// The anchors a link may point at: heading slugs (GitHub's), in order, then explicit `id`s and `name`s;
    /// lowercase.
    pub(super) anchors: Vec<String>,
}

/// A fenced code block.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Block {
    /// The first word of the info string, lowercase (`sh`, `json`, empty).
    pub(super) lang: String,
    pub(super) lines: Vec<(usize, String)>,
}

pub(super) static ATX_HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?[ \t]*$").expect("valid regex"));
pub(super) static SETEXT_UNDERLINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ {0,3}(?:=+|-+)[ \t]*$").expect("valid regex"));
pub(super) static MYST_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ {0,3}\(([^()\s]+)\)=[ \t]*$").expect("valid regex"));
/// A `MyST` role right before a code span: `{ref}`, `{py:class}`.
pub(super) static ROLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{[\w:.+-]+\}$").expect("valid regex"));
pub(super) static REFERENCE_DEFINITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ {0,3}\[([^\]^][^\]]*)\]:[ \t]*(<[^>]*>|\S+)").expect("valid regex")
});
pub(super) static HTML_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<(?:a|img|source|link|script)\b[^>]*?\s(?:href|src)\s*=\s*["']([^"']+)["']"#)
        .expect("valid regex")
});
pub(super) static HTML_ANCHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<[a-z][a-z0-9]*\b[^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']"#)
        .expect("valid regex")
});
pub(super) static DOLLAR_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{?([A-Z][A-Z0-9_]{2,})\b").expect("valid regex"));

pub(super) fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut slugs: HashMap<String, usize> = HashMap::new();
    let mut fence: Option<(char, usize, Block)> = None;
    let mut comment = false;
    // The previous line, when it could be the text of a setext heading.
    let mut previous: Option<String> = None;
    let mut lines = text.lines().enumerate().peekable();
    // YAML front matter is not markdown.
    if text.starts_with("---\n") || text.starts_with("---\r\n") {
        lines.next();
        for (_, line) in lines.by_ref() {
            if matches!(line.trim_end(), "---" | "...") {
                break;
            }
        }
    }
    for (index, raw) in lines {
        let number = index + 1;
        if let Some((ch, len, block)) = &mut fence {
            let trimmed = raw.trim_start();
            let run = trimmed.chars().take_while(|c| c == ch).count();
            if run >= *len && trimmed[run * ch.len_utf8()..].trim().is_empty() {
                if let Some((_, _, block)) = fence.take() {
                    parsed.blocks.push(block);
                }
            } else {
                block.lines.push((number, raw.to_owned()));
            }
            continue;
        }
        if !comment && let Some((ch, len, lang)) = fence_open(raw) {
            fence = Some((
                ch,
                len,
                Block {
                    lang,
                    lines: Vec::new(),
                },
            ));
            previous = None;
            continue;
        }
        // A MyST label, `(name)=` on its own line: a target for `[text](#name)` and `{ref}` roles.
        if let Some(label) = MYST_LABEL.captures(raw) {
            parsed.anchors.push(label[1].to_lowercase());
            previous = None;
            continue;
        }
        let Masked { prose, text, spans } = mask(raw, &mut comment);
        for span in spans {
            parsed.spans.push((number, span));
        }
        if text.trim().is_empty() {
            previous = None;
            continue;
        }
        // Told apart on the raw line (`` `# x` `` is no heading), named by its text (a comment is no part of it).
        if ATX_HEADING.is_match(raw)
            && let Some(found) = ATX_HEADING.captures(&text)
        {
            let heading = found.get(1).map_or("", |m| m.as_str());
            let heading = heading.trim_end_matches('#').trim_end();
            add_anchor(&mut parsed.anchors, &mut slugs, heading);
            previous = None;
        } else if SETEXT_UNDERLINE.is_match(raw) {
            if let Some(heading) = previous.take() {
                add_anchor(&mut parsed.anchors, &mut slugs, &heading);
            }
        } else {
            previous = Some(text.trim().to_owned());
        }
        for dest in inline_links(&prose) {
            parsed.links.push((number, dest));
        }
        if let Some(found) = REFERENCE_DEFINITION.captures(&prose) {
            let dest = found[2].trim_start_matches('<').trim_end_matches('>');
            parsed.links.push((number, dest.to_owned()));
        }
        for found in HTML_LINK.captures_iter(&prose) {
            parsed.links.push((number, found[1].to_owned()));
        }
        for found in HTML_ANCHOR.captures_iter(&prose) {
            parsed.anchors.push(found[1].to_lowercase());
        }
        for found in DOLLAR_NAME.captures_iter(&prose) {
            parsed.dollars.push((number, found[1].to_owned()));
        }
    }
    // An unclosed fence runs to the end of the document.
    if let Some((_, _, block)) = fence {
        parsed.blocks.push(block);
    }
    parsed
}

/// The fence character, its length and the block's language, when `line` opens a fenced code block.
pub(super) fn fence_open(line: &str) -> Option<(char, usize, String)> {
    let trimmed = line.trim_start();
    let ch = trimmed.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = trimmed.chars().take_while(|c| *c == ch).count();
    if len < 3 {
        return None;
    }
    let info = &trimmed[len..];
    if ch == '`' && info.contains('`') {
        return None;
    }
    let lang = info
        .trim()
        .trim_start_matches(['{', '.'])
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | '{'))
        .next()
        .unwrap_or_default()
        .to_lowercase();
    Some((ch, len, lang))
}

/// One line of markdown taken apart by [`mask`].
pub(super) struct Masked {
    /// The line with inline code and HTML comments blanked out: where links and prose variables are.
    pub(super) prose: String,
    /// The line as it reads: HTML comments dropped, inline code without its backticks (a heading's text).
    pub(super) text: String,
    /// The contents of the inline code spans.
    pub(super) spans: Vec<String>,
}

/// Takes a line apart into its prose, its text and its inline code. `comment` carries an HTML comment that is
/// still open across lines.
pub(super) fn mask(line: &str, comment: &mut bool) -> Masked {
    let mut prose = String::with_capacity(line.len());
    let mut text = String::with_capacity(line.len());
    let mut spans = Vec::new();
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        if *comment {
            if let Some(end) = rest.find("-->") {
                prose.push(' ');
                text.push(' ');
                i += end + 3;
                *comment = false;
                continue;
            }
            break;
        }
        let Some(c) = rest.chars().next() else { break };
        if c == '\\' {
            // An escaped character is literal text, a backtick included.
            let next = rest[1..].chars().next().map_or(0, char::len_utf8);
            prose.push_str(&rest[..=next]);
            text.push_str(&rest[1..=next]);
            i += 1 + next;
            continue;
        }
        if c == '`' {
            let run = rest.bytes().take_while(|b| *b == b'`').count();
            if let Some((content, len)) = code_span(rest, run) {
                text.push_str(&content);
                // The argument of a MyST role (`` {ref}`label` ``, `` {doc}`../page` ``) is the site
                // generator's to resolve, not a path or command of the project.
                if !ROLE.is_match(&prose) {
                    spans.push(content);
                }
                prose.push(' ');
                i += len;
            } else {
                prose.push_str(&rest[..run]);
                text.push_str(&rest[..run]);
                i += run;
            }
            continue;
        }
        if rest.starts_with("<!--") {
            *comment = true;
            i += 4;
            continue;
        }
        prose.push(c);
        text.push(c);
        i += c.len_utf8();
    }
    Masked { prose, text, spans }
}

/// The content of the code span opened by the `run` backticks at the start of `text`, and the span's length.
pub(super) fn code_span(text: &str, run: usize) -> Option<(String, usize)> {
    let body = &text[run..];
    let mut at = 0;
    while let Some(found) = body[at..].find('`') {
        let start = at + found;
        let len = body[start..].bytes().take_while(|b| *b == b'`').count();
        if len == run {
            let content = &body[..start];
            // One space on each side is padding, as in `` `x` ``.
            let content = if content.len() >= 2
                && content.starts_with(' ')
                && content.ends_with(' ')
                && !content.trim().is_empty()
            {
                &content[1..content.len() - 1]
            } else {
                content
            };
            return Some((content.to_owned(), run + start + len));
        }
        at = start + len;
    }
    None
}

/// The destinations of the inline links and images in `prose`: `[text](dest "title")`, `![alt](<dest>)`.
pub(super) fn inline_links(prose: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = prose[from..].find("](") {
        let start = from + found + 2;
        match destination(&prose[start..]) {
            Some((dest, len)) => {
                out.push(dest);
                from = start + len;
            }
            None => from = start,
        }
    }
    out
}

/// A link destination at the start of `text` (after `](`), and how much of `text` it took.
pub(super) fn destination(text: &str) -> Option<(String, usize)> {
    let trimmed = text.trim_start();
    let skipped = text.len() - trimmed.len();
    if let Some(rest) = trimmed.strip_prefix('<') {
        let end = rest.find('>')?;
        return Some((rest[..end].to_owned(), skipped + end + 2));
    }
    let mut depth = 0usize;
    for (i, c) in trimmed.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some((trimmed[..i].to_owned(), skipped + i + 1)),
            ')' => depth -= 1,
            c if c.is_whitespace() => return Some((trimmed[..i].to_owned(), skipped + i)),
            _ => {}
        }
    }
    None
}

pub(super) static MARKDOWN_IMAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!\[[^\]]*\]\([^)]*\)").expect("valid regex"));
pub(super) static MARKDOWN_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])").expect("valid regex"));
pub(super) static HTML_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"</?[A-Za-z][^>]*>").expect("valid regex"));

pub(super) static HEADING_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s*\{\s*#([\w-]+)[^}]*\}\s*$").expect("valid regex"));
pub(super) static EMOJI_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r":[a-z0-9_+-]+:").expect("valid regex"));

/// Adds the anchor of `heading` to `anchors`: GitHub's slug (a repeated one gets `-1`, `-2`, ...), an explicit
/// `{#id}` (mkdocs, pandoc), and the variants a renderer may have made of it (without the `_` that was
/// emphasis, without `:emoji:` codes). An anchor too many only means a finding less.
pub(super) fn add_anchor(
    anchors: &mut Vec<String>,
    seen: &mut HashMap<String, usize>,
    heading: &str,
) {
    let mut heading = heading;
    if let Some(found) = HEADING_ID.captures(heading) {
        anchors.push(found[1].to_lowercase());
        heading = &heading[..found.get(0).map_or(heading.len(), |m| m.start())];
    }
    let base = slug(heading);
    let count = seen.entry(base.clone()).or_insert(0);
    let suffix = if *count == 0 {
        String::new()
    } else {
        format!("-{count}")
    };
    *count += 1;
    let slug_ = format!("{base}{suffix}");
    if slug_.contains('_') {
        anchors.push(slug_.replace('_', ""));
    }
    if EMOJI_CODE.is_match(heading) {
        // Rendered as an emoji, which the slug drops after trimming, as GitHub's does.
        anchors.push(format!(
            "{}{suffix}",
            slug(&EMOJI_CODE.replace_all(heading, "\u{1f600}"))
        ));
    }
    anchors.push(slug_);
}

/// GitHub's anchor for a heading: the rendered text, lowercased, punctuation dropped, spaces to `-`.
pub(super) fn slug(heading: &str) -> String {
    let text = MARKDOWN_IMAGE.replace_all(heading, "");
    let text = MARKDOWN_LINK.replace_all(&text, "$1");
    let text = HTML_TAG.replace_all(&text, "");
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}
