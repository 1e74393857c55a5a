//! Claude Code transcripts (`<session>.jsonl`), read leniently and streamed: one [`Record`] per line that matters.
//!
//! The format changes between Claude Code versions, so only what the analysis needs is read and everything else
//! is ignored: unknown record types (`attachment`, `api-request`, `queue-operation`, ...), unknown fields and
//! unknown content blocks. A line that is not JSON is counted (a warning); the last line of a file without its
//! newline is a session still being written (a torn line) and is skipped quietly when it does not parse.
//!
//! Files are read through a [`BufRead`] one line at a time into one reused buffer, so memory stays bounded by
//! [`MAX_LINE`] whatever the file's size; a longer line is skipped and counted.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead};

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A longer line (a tool result of a huge file) is skipped and counted.
pub(super) const MAX_LINE: usize = 64 << 20;
/// The text of a tool result kept for finding failing tests: runners print their summary at the end.
const RESULT_KEPT: usize = 64 << 10;

/// One line of a transcript, as far as the analysis reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Record<'a> {
    #[serde(rename = "type", borrow)]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) timestamp: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) cwd: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", borrow)]
    pub(crate) session_id: Option<Cow<'a, str>>,
    #[serde(rename = "isSidechain")]
    pub(crate) is_sidechain: bool,
    #[serde(rename = "isMeta")]
    pub(crate) is_meta: bool,
    #[serde(rename = "isCompactSummary")]
    pub(crate) is_compact_summary: bool,
    #[serde(rename = "requestId", borrow)]
    pub(crate) request_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) message: Option<Message<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Message<'a> {
    #[serde(borrow)]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) model: Option<Cow<'a, str>>,
    pub(crate) content: Content,
    pub(crate) usage: Option<Usage>,
}

/// Token usage of one assistant message; a usage without input and output counts is not one (ccusage agrees).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(default)]
#[expect(clippy::struct_field_names, reason = "the transcript's own names")]
pub(crate) struct Usage {
    pub(crate) input_tokens: Option<u64>,
    pub(crate) output_tokens: Option<u64>,
    pub(crate) cache_creation_input_tokens: Option<u64>,
    pub(crate) cache_read_input_tokens: Option<u64>,
}

/// A message's content: a plain string (a typed prompt) or blocks.
#[derive(Debug, Default)]
pub(crate) enum Content {
    #[default]
    None,
    Text(String),
    Blocks(Vec<Block>),
}

/// A content block; the fields of every kind the analysis reads, absent when the block has none or they have
/// another shape. Anything in a content list that is not an object is a block of no kind.
#[derive(Debug, Default)]
pub(crate) struct Block {
    pub(crate) kind: String,
    pub(crate) text: Option<String>,
    /// `tool_use`
    pub(crate) id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) input: Option<ToolInput>,
    /// `tool_result`
    pub(crate) tool_use_id: Option<String>,
    pub(crate) is_error: Option<bool>,
    pub(crate) content: Option<ResultText>,
}

/// What a tool call names: the command it runs or the file it changes.
#[derive(Debug, Default)]
pub(crate) struct ToolInput {
    pub(crate) command: Option<String>,
    pub(crate) file_path: Option<String>,
    pub(crate) notebook_path: Option<String>,
}

/// A tool result's text (a string, or the `text` of its parts), its end kept (see [`RESULT_KEPT`]).
#[derive(Debug, Default)]
pub(crate) struct ResultText(pub(crate) String);

/// The keys of a block (and of a tool's input) that the analysis reads; any other is skipped unread.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    Type,
    Text,
    Id,
    Name,
    Input,
    ToolUseId,
    IsError,
    Content,
    Command,
    FilePath,
    NotebookPath,
    #[serde(other)]
    Other,
}

/// A value of any JSON shape read as `T` when it has `T`'s shape (a string, a bool, an object), else as `None`:
/// a field of an unexpected type never fails the line that holds it.
struct Loose<T>(Option<T>);

/// The shapes a [`Loose`] value takes; every other shape is `None`.
trait Shape: Sized {
    fn from_str(_: &str) -> Option<Self> {
        None
    }
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de, T: Shape> Deserialize<'de> for Loose<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Shape> Visitor<'de> for V<T> {
            type Value = Loose<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Loose(T::from_str(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Loose(T::from_bool(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Ok(Loose(T::from_map(map)?))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Ok(Loose(T::from_seq(seq)?))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Loose(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Shape for String {
    fn from_str(v: &str) -> Option<Self> {
        Some(v.to_owned())
    }
}

impl Shape for bool {
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
}

/// The next value of `map` as a string, `None` when it is something else.
fn string<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    Ok(map.next_value::<Loose<String>>()?.0)
}

impl Shape for ToolInput {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        let mut input = ToolInput::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Command => input.command = string(&mut map)?,
                Key::FilePath => input.file_path = string(&mut map)?,
                Key::NotebookPath => input.notebook_path = string(&mut map)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(input))
    }
}

impl Shape for Block {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        let mut block = Block::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Type => block.kind = string(&mut map)?.unwrap_or_default(),
                Key::Text => block.text = string(&mut map)?,
                Key::Id => block.id = string(&mut map)?,
                Key::Name => block.name = string(&mut map)?,
                Key::Input => block.input = map.next_value::<Loose<ToolInput>>()?.0,
                Key::ToolUseId => block.tool_use_id = string(&mut map)?,
                Key::IsError => block.is_error = map.next_value::<Loose<bool>>()?.0,
                Key::Content => block.content = Some(map.next_value::<ResultText>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(block))
    }
}

impl Shape for Content {
    fn from_str(v: &str) -> Option<Self> {
        Some(Content::Text(v.to_owned()))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut blocks = Vec::new();
        // A block of a shape this version does not know has no kind; the line is still read.
        while let Some(Loose(block)) = seq.next_element::<Loose<Block>>()? {
            blocks.extend(block.filter(|b| !b.kind.is_empty()));
        }
        Ok(Some(Content::Blocks(blocks)))
    }
}

impl Shape for ResultText {
    fn from_str(v: &str) -> Option<Self> {
        Some(ResultText(keep_end(v)))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut out = String::new();
        while let Some(Loose(part)) = seq.next_element::<Loose<Block>>()? {
            if let Some(text) = part.and_then(|p| p.text) {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&text);
            }
        }
        Ok(Some(ResultText(keep_end(&out))))
    }
}

/// Content, a block and a tool result are read whatever their shape: one of another shape is empty.
macro_rules! read_loosely {
    ($($t:ty),*) => {
        $(impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Loose::<$t>::deserialize(d)?.0.unwrap_or_default())
            }
        })*
    };
}

read_loosely!(Content, Block, ResultText);

/// The last [`RESULT_KEPT`] bytes of `text`, cut at a character boundary.
fn keep_end(text: &str) -> String {
    if text.len() <= RESULT_KEPT {
        return text.to_owned();
    }
    let mut start = text.len() - RESULT_KEPT;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

/// What reading one file met besides its records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReadStats {
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    /// Lines that are not JSON records (a warning).
    pub(crate) bad: u64,
    /// A last line without its newline that does not parse: a session being written.
    pub(crate) torn: u64,
    /// Lines longer than [`MAX_LINE`], skipped.
    pub(crate) too_long: u64,
}

/// Reads `input` line by line and calls `each` with every line that is a JSON object (blank lines skipped).
/// Only an I/O error stops it.
pub(crate) fn read_records(
    mut input: impl BufRead,
    mut each: impl FnMut(Record<'_>),
) -> io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut line = Vec::with_capacity(64 << 10);
    loop {
        line.clear();
        let (read, complete, too_long) = read_line(&mut input, &mut line)?;
        if read == 0 {
            return Ok(stats);
        }
        stats.bytes += read;
        stats.lines += 1;
        if too_long {
            stats.too_long += 1;
            continue;
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Record<'_>>(text) {
            Ok(record) => each(record),
            Err(_) if !complete => stats.torn += 1,
            Err(_) => stats.bad += 1,
        }
    }
}

/// Appends the next line of `input` (without its newline) to `line`, keeping at most [`MAX_LINE`] bytes. Returns
/// the bytes consumed, whether the line ended with a newline, and whether it was too long.
fn read_line(input: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<(u64, bool, bool)> {
    let (mut read, mut too_long) = (0u64, false);
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if buf.is_empty() {
            return Ok((read, false, too_long));
        }
        let (chunk, found) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long && line.len() + chunk.len() > MAX_LINE {
            too_long = true;
            line.clear();
        }
        if !too_long {
            line.extend_from_slice(chunk);
        }
        let used = found.unwrap_or(buf.len());
        input.consume(used);
        read += used as u64;
        if found.is_some() {
            return Ok((read, true, too_long));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<String>, ReadStats) {
        let mut kinds = Vec::new();
        let stats = read_records(text.as_bytes(), |r| {
            kinds.push(r.kind.as_deref().unwrap_or("?").to_owned());
        })
        .unwrap();
        (kinds, stats)
    }

    #[test]
    fn unknown_types_and_fields_are_read_and_bad_lines_counted() {
        let text = concat!(
            r#"{"type":"user","message":{"role":"user","content":"hi"},"brandNew":{"x":[1,2]}}"#,
            "\n",
            "not json at all\n",
            "\n",
            r#"{"type":"file-history-snapshot","snapshot":{}}"#,
            "\n",
            r#"{"type":"assistant","message":{"content":[{"type":"thinking","thinking":"hm"},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls","timeout":5}}]}}"#,
            "\n",
        );
        let (kinds, stats) = read(text);
        assert_eq!(kinds, ["user", "file-history-snapshot", "assistant"]);
        assert_eq!((stats.lines, stats.bad, stats.torn), (5, 1, 0));
        assert_eq!(stats.bytes, text.len() as u64);
    }

    #[test]
    fn a_torn_last_line_is_skipped_quietly_but_a_whole_last_line_is_read() {
        let (kinds, stats) = read("{\"type\":\"user\"}\n{\"type\":\"assist");
        assert_eq!(kinds, ["user"]);
        assert_eq!((stats.bad, stats.torn), (0, 1));
        let (kinds, stats) = read("{\"type\":\"user\"}\n{\"type\":\"assistant\"}");
        assert_eq!(kinds, ["user", "assistant"]);
        assert_eq!((stats.bad, stats.torn), (0, 0));
    }

    #[test]
    fn fields_and_blocks_of_unexpected_shapes_are_ignored_not_the_line() {
        let line = r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":[{"type":"text","text":"Exit code 1"},{"type":"image","source":{}}]},{"type":"text","text":5},"odd",{"type":"tool_use","id":7,"name":"Bash","input":"ls","is_error":"yes"},{"type":"tool_use","name":"Edit","input":{"file_path":["x"],"command":"ls -la"}}]}}"#;
        let record: Record<'_> = serde_json::from_str(line).unwrap();
        let Content::Blocks(blocks) = record.message.unwrap().content else {
            panic!("blocks")
        };
        let kinds: Vec<&str> = blocks.iter().map(|b| b.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["tool_result", "text", "tool_use", "tool_use"],
            "{blocks:?}"
        );
        assert_eq!(blocks[0].is_error, Some(true));
        assert_eq!(blocks[0].content.as_ref().unwrap().0, "Exit code 1");
        assert_eq!(blocks[1].text, None, "a number is no text");
        assert_eq!(
            (blocks[2].id.as_deref(), blocks[2].name.as_deref()),
            (None, Some("Bash"))
        );
        assert!(blocks[2].input.is_none() && blocks[2].is_error.is_none());
        let input = blocks[3].input.as_ref().unwrap();
        assert_eq!(
            (input.file_path.as_deref(), input.command.as_deref()),
            (None, Some("ls -la"))
        );
    }

    #[test]
    fn usage_and_ids_are_read_and_long_results_keep_their_end() {
        let long = format!("{}END", "x".repeat(RESULT_KEPT + 10));
        let line = serde_json::json!({
            "type": "assistant", "requestId": "req_1", "timestamp": "2026-11-20T10:00:00.000Z",
            "message": {"id": "msg_1", "model": "claude-sonnet-4-5", "content": [{"type": "tool_result", "content": long}],
                        "usage": {"input_tokens": 3, "output_tokens": 4, "cache_read_input_tokens": 5, "extra": {}}}
        })
        .to_string();
        let record: Record<'_> = serde_json::from_str(&line).unwrap();
        assert_eq!(record.request_id.as_deref(), Some("req_1"));
        let message = record.message.unwrap();
        let usage = message.usage.unwrap();
        assert_eq!(
            (
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_input_tokens,
                usage.cache_creation_input_tokens
            ),
            (Some(3), Some(4), Some(5), None)
        );
        let Content::Blocks(blocks) = message.content else {
            panic!()
        };
        let kept = &blocks[0].content.as_ref().unwrap().0;
        assert_eq!(kept.len(), RESULT_KEPT);
        assert!(kept.ends_with("END"));
    }

    #[test]
    fn a_line_longer_than_the_limit_is_skipped_in_bounded_memory() {
        let mut text = String::from("{\"type\":\"user\"}\n");
        text.push_str(&"y".repeat(MAX_LINE + 5));
        text.push_str("\n{\"type\":\"assistant\"}\n");
        // A small buffer, as a file read would give.
        let reader = io::BufReader::with_capacity(4096, text.as_bytes());
        let mut kinds = Vec::new();
        let stats = read_records(reader, |r| kinds.push(r.kind.unwrap().into_owned())).unwrap();
        assert_eq!(kinds, ["user", "assistant"]);
        assert_eq!((stats.too_long, stats.bad, stats.lines), (1, 0, 3));
    }
}
