//! `daydream mine`: log lines in, one JSON object per line out, `{"cluster": <id>, "template": "<text>"}`.
//!
//! Each line is mined as it is read and only its cluster id is kept (4 bytes a line); the objects are written at
//! the end, so every line gets the final template of its cluster, after all the merging later lines caused.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::header::{HeaderDetector, LEARN_LINES};
use super::miner::{ClusterId, TemplateMiner};

/// Lines are cut here before mining; the rest of a longer line is skipped unread.
pub(crate) const MAX_LINE: usize = 64 * 1024;
/// Cluster ids are kept in chunks of this many, so a long input never needs one huge reallocation.
const CHUNK: usize = 1 << 20;

/// Mines the lines of `files` (stdin when empty or `-`) as one stream and writes a JSON object per line to `out`.
pub(crate) fn run(files: &[PathBuf], raw: bool, out: &mut impl Write) -> anyhow::Result<u8> {
    let mut mine = Mine {
        miner: TemplateMiner::new(),
        header: raw.then(HeaderDetector::new),
        pending: Vec::new(),
        ids: Vec::new(),
    };
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    // Every file is checked before any output, so a typo in the last name does not waste the work on the first.
    if let Some(missing) = files
        .iter()
        .find(|p| p.as_path() != Path::new("-") && !p.is_file())
    {
        anyhow::bail!(crate::UsageError(format!(
            "`{}` is not a readable file: give log files, `-` or nothing to read stdin",
            missing.display()
        )));
    }
    let mut line = Vec::new();
    for path in files {
        if path == Path::new("-") {
            mine.read(
                &mut BufReader::with_capacity(1 << 16, io::stdin().lock()),
                &mut line,
            )
            .context("failed to read stdin")?;
        } else {
            let file =
                File::open(path).with_context(|| format!("failed to open `{}`", path.display()))?;
            mine.read(&mut BufReader::with_capacity(1 << 16, file), &mut line)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
        }
    }
    mine.flush_pending();
    mine.write(out)?;
    Ok(crate::exit_codes::OK)
}

struct Mine {
    miner: TemplateMiner,
    header: Option<HeaderDetector>,
    /// With `--raw`, the first lines wait here until the header is learned from them.
    pending: Vec<String>,
    ids: Vec<Vec<ClusterId>>,
}

impl Mine {
    fn read(&mut self, reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<()> {
        while read_line(reader, line, MAX_LINE)? {
            // `from_utf8` is the fast check; the lossy decoder only runs on lines that need it.
            let text = match std::str::from_utf8(line) {
                Ok(text) => std::borrow::Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(line),
            };
            match &mut self.header {
                Some(header) if self.pending.len() < LEARN_LINES && self.ids.is_empty() => {
                    header.learn(&text);
                    self.pending.push(text.into_owned());
                    if self.pending.len() == LEARN_LINES {
                        self.flush_pending();
                    }
                }
                Some(header) => {
                    let id = self.miner.add(header.message(&text));
                    push(&mut self.ids, id);
                }
                None => {
                    let id = self.miner.add(&text);
                    push(&mut self.ids, id);
                }
            }
        }
        Ok(())
    }

    fn flush_pending(&mut self) {
        let Some(header) = &mut self.header else {
            return;
        };
        for text in std::mem::take(&mut self.pending) {
            let id = self.miner.add(header.message(&text));
            push(&mut self.ids, id);
        }
        // Later lines go straight to the miner, even if this was a short first file.
        self.pending.shrink_to_fit();
    }

    fn write(&self, out: &mut impl Write) -> io::Result<()> {
        // Each live cluster's object, escaped once, and for every id the object of the cluster it resolves to.
        let mut objects = Vec::new();
        let mut object_of = vec![u32::MAX; self.miner.ids_issued()];
        for id in self.miner.clusters() {
            let mut object = b"{\"cluster\":".to_vec();
            object.extend_from_slice(itoa(id, &mut [0; 10]));
            object.extend_from_slice(b",\"template\":\"");
            escape_json(self.miner.template(id), &mut object);
            object.extend_from_slice(b"\"}\n");
            object_of[id as usize] =
                u32::try_from(objects.len()).expect("at most MAX_CLUSTERS objects");
            objects.push(object);
        }
        let mut out = io::BufWriter::with_capacity(1 << 16, out);
        let mut last: Option<(ClusterId, ClusterId)> = None;
        for &id in self.ids.iter().flatten() {
            let live = match last {
                Some((from, to)) if from == id => Some(to),
                _ => self.miner.resolve(id),
            };
            if let Some(live) = live {
                last = Some((id, live));
                out.write_all(&objects[object_of[live as usize] as usize])?;
            } else {
                // Evicted: its own id and an empty template.
                out.write_all(b"{\"cluster\":")?;
                out.write_all(itoa(id, &mut [0; 10]))?;
                out.write_all(b",\"template\":\"\"}\n")?;
            }
        }
        out.flush()
    }
}

fn push(ids: &mut Vec<Vec<ClusterId>>, id: ClusterId) {
    if ids.last().is_none_or(|chunk| chunk.len() == CHUNK) {
        ids.push(Vec::with_capacity(CHUNK));
    }
    ids.last_mut().expect("a chunk").push(id);
}

/// Reads one line without its `\n` (or `\r\n`) into `line`, keeping at most `max` bytes of it. False at the end.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>, max: usize) -> io::Result<bool> {
    line.clear();
    let mut any = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        any = true;
        let (part, used, done) = match memchr::memchr(b'\n', buf) {
            Some(nl) => (&buf[..nl], nl + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&part[..part.len().min(room)]);
        reader.consume(used);
        if done {
            break;
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(any)
}

fn itoa(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + u8::try_from(n % 10).expect("a digit");
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Appends `text` as the inside of a JSON string.
fn escape_json(text: &str, out: &mut Vec<u8>) {
    for &b in text.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..0x20 | 0x7f => {
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            }
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mine(input: &[u8], raw: bool) -> Vec<serde_json::Value> {
        let mut m = Mine {
            miner: TemplateMiner::new(),
            header: raw.then(HeaderDetector::new),
            pending: Vec::new(),
            ids: Vec::new(),
        };
        m.read(&mut &input[..], &mut Vec::new()).unwrap();
        m.flush_pending();
        let mut out = Vec::new();
        m.write(&mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn every_line_gets_an_object_in_order_with_the_final_template() {
        let input = b"Invalid user bob from 1.2.3.4\n\nInvalid user bob from 5.6.7.8\r\nbad \xff \"quoted\\\" \x01\nlast without newline";
        let out = mine(input, false);
        assert_eq!(out.len(), 5);
        assert_eq!(out[0]["template"], "Invalid user <*> from <*>");
        assert_eq!(out[0]["cluster"], out[2]["cluster"]);
        assert_eq!(out[1]["template"], "");
        assert_ne!(out[1]["cluster"], out[0]["cluster"]);
        assert_eq!(out[3]["template"], "bad \u{fffd} \"quoted\\\" \u{1}");
        assert_eq!(out[4]["template"], "last without newline");
    }

    #[test]
    fn raw_lines_lose_their_headers() {
        let input = b"2026-11-20 01:02:03,123 INFO [main] app.Worker: started job 12\n\
            2026-11-20 01:02:04,123 INFO [main] app.Worker: started job 13\n";
        let out = mine(input, true);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["template"], "started job <*>");
        assert_eq!(out[0]["cluster"], out[1]["cluster"]);
    }

    #[test]
    fn long_lines_are_cut_and_the_rest_skipped() {
        let mut input = vec![b'a'; 3 * MAX_LINE];
        input.extend_from_slice(b"\nnext\n");
        let mut reader = &input[..];
        let mut line = Vec::new();
        assert!(read_line(&mut reader, &mut line, MAX_LINE).unwrap());
        assert_eq!(line.len(), MAX_LINE);
        assert!(read_line(&mut reader, &mut line, MAX_LINE).unwrap());
        assert_eq!(line, b"next");
        assert!(!read_line(&mut reader, &mut line, MAX_LINE).unwrap());
        let out = mine(&input, false);
        assert_eq!(out.len(), 2);
    }
}
