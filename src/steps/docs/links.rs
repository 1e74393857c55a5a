//! Links, anchors and repository paths the docs name.

use std::collections::BTreeMap;
use std::fs;
use std::sync::LazyLock;

use regex::Regex;

use super::checks::{Audit, Missing};
use super::data::{Finding, Kind, Replace};
use super::files::is_markdown;
use super::history::Gone;
use super::markdown::parse;
use super::paths::{
    Candidate, closest, file_name, has_example, near_name, normalize, parent, placeholder, relative,
};
use super::staleness::day;
use super::{KNOWN_FILES, RUNTIME_DIRS, read_doc};
use crate::text::code;

impl Audit<'_> {
    /// A link: to a file that must exist, and to an anchor that must be one of its headings.
    pub(super) fn link(&mut self, doc: &str, dir: &str, line: usize, dest: &str, own: &[String]) {
        let dest = dest.trim();
        if dest.is_empty()
            || dest.starts_with("//")
            || has_scheme(dest)
            || dest.contains(['{', '}', '<', '>', '$'])
        {
            return;
        }
        let (target, anchor) = match dest.split_once('#') {
            Some((target, anchor)) => (target, Some(anchor)),
            None => (dest, None),
        };
        let target = target.split('?').next().unwrap_or_default();
        if rustdoc_link(target) {
            return;
        }
        self.checked.links += 1;
        let path = percent_decode(target);
        if path.is_empty() {
            if let Some(anchor) = anchor {
                self.anchor(doc, line, dest, anchor, doc, Some(own));
            }
            return;
        }
        let from_top = path.starts_with('/');
        let base = if from_top { "" } else { dir };
        let Some(rel) = normalize(base, path.trim_start_matches('/')) else {
            return;
        };
        let full = self.root.join(&rel);
        if let Ok(meta) = fs::metadata(&full) {
            if meta.is_file() {
                self.name(doc, line, &rel);
                if is_markdown(&rel) {
                    if rel != doc {
                        self.linked.insert(rel.clone());
                    }
                    if let Some(anchor) = anchor {
                        self.anchor(doc, line, dest, anchor, &rel, None);
                    }
                }
            }
            return;
        }
        let dir_link = path.ends_with('/');
        if self.ignores.ignored(&rel, dir_link) || placeholder(&path) {
            return;
        }
        let root = self.root;
        if self.site.as_ref().is_some_and(|site| {
            site.builds(doc) && site.resolves(doc, &path, &|rel| root.join(rel).exists())
        }) {
            return;
        }
        self.missing.push(Missing {
            kind: Kind::BrokenLink,
            file: doc.to_owned(),
            line,
            written: target.to_owned(),
            tries: vec![(base.to_owned(), rel)],
            certain: true,
            bare: false,
            what: format!("links to {}, which does not exist", code(target)),
            from_top,
        });
    }

    /// An anchor into `target` (a markdown file of the project; `own` are its anchors when it is the doc
    /// itself).
    pub(super) fn anchor(
        &mut self,
        doc: &str,
        line: usize,
        dest: &str,
        anchor: &str,
        target: &str,
        own: Option<&[String]>,
    ) {
        let wanted = percent_decode(anchor).to_lowercase();
        let wanted = wanted.strip_prefix("user-content-").unwrap_or(&wanted);
        // `#L12` lines, and an empty `#` (the top).
        if wanted.is_empty()
            || (wanted.starts_with('l')
                && wanted[1..]
                    .split('-')
                    .next()
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())))
        {
            return;
        }
        let anchors: Vec<String> = if let Some(own) = own {
            own.to_vec()
        } else {
            let root = self.root;
            let cached = self.anchors.entry(target.to_owned()).or_insert_with(|| {
                read_doc(&root.join(target))
                    .ok()
                    .flatten()
                    .map(|text| parse(&text).anchors)
            });
            let Some(anchors) = cached else {
                return;
            };
            anchors.clone()
        };
        if anchors.iter().any(|a| a == wanted) {
            return;
        }
        let (path, _) = dest.split_once('#').unwrap_or((dest, ""));
        let whose = if own.is_some() {
            "this doc has".to_owned()
        } else {
            format!("{} has", code(target))
        };
        let what = format!("links to {}, but {whose} no such heading", code(dest));
        let (fix, replace) = match closest(wanted, &anchors) {
            Some(near) => {
                let to = format!("{path}#{near}");
                (
                    format!("point it at {}", code(&to)),
                    Some(Replace {
                        from: dest.to_owned(),
                        to,
                    }),
                )
            }
            None if anchors.is_empty() => (
                "remove the anchor: the target has no headings".to_owned(),
                None,
            ),
            None => {
                let shown: Vec<String> = anchors
                    .iter()
                    .take(5)
                    .map(|a| code(&format!("#{a}")))
                    .collect();
                (
                    format!(
                        "point it at one of its headings ({}{}) or remove the anchor",
                        shown.join(", "),
                        if anchors.len() > 5 { ", ..." } else { "" }
                    ),
                    None,
                )
            }
        };
        self.findings.push(Finding {
            kind: Kind::BrokenLink,
            file: doc.to_owned(),
            line,
            what,
            fix,
            replace,
        });
    }

    /// Records that `doc` names the existing file `rel` at `line` (for staleness).
    pub(super) fn name(&mut self, doc: &str, line: usize, rel: &str) {
        self.named
            .entry(doc.to_owned())
            .or_default()
            .entry(rel.to_owned())
            .or_insert(line);
    }

    /// A path in code: fine when it exists from one of `tries`' folders, otherwise kept for [`Audit::settle`]
    /// unless it is created at run time, a placeholder or copied from an example.
    #[expect(
        clippy::too_many_arguments,
        reason = "the callers differ in each of them"
    )]
    pub(super) fn path(
        &mut self,
        doc: &str,
        line: usize,
        candidate: &Candidate,
        tries: &[String],
        kind: Kind,
        certain: bool,
        historical: bool,
    ) -> bool {
        let tries: Vec<(String, String)> = tries
            .iter()
            .filter_map(|base| normalize(base, &candidate.path).map(|rel| (base.clone(), rel)))
            .filter(|(_, rel)| !rel.is_empty())
            .collect();
        if tries.is_empty() {
            return true;
        }
        self.checked.paths += 1;
        for (_, rel) in &tries {
            if fs::symlink_metadata(self.root.join(rel)).is_ok() {
                if self.root.join(rel).is_file() {
                    self.name(doc, line, rel);
                    if is_markdown(rel) && rel != doc && rel.starts_with("docs/") {
                        self.mentioned
                            .entry(rel.clone())
                            .or_insert_with(|| (doc.to_owned(), line));
                    }
                }
                return true;
            }
        }
        if (historical && !certain)
            || placeholder(&candidate.path)
            || tries.iter().any(|(_, rel)| {
                RUNTIME_DIRS.contains(&rel.split('/').next().unwrap_or_default())
                    || self.ignores.ignored(rel, candidate.dir)
                    || has_example(self.root, rel)
            })
        {
            return true;
        }
        let shown = code(&candidate.written);
        let what = match kind {
            Kind::Command => format!("runs {shown}, which does not exist"),
            _ => format!("names {shown}, which does not exist"),
        };
        self.missing.push(Missing {
            kind,
            file: doc.to_owned(),
            line,
            written: candidate.written.clone(),
            tries,
            certain,
            bare: !candidate.path.contains('/'),
            what,
            from_top: false,
        });
        false
    }

    /// The finding for a missing reference, now that git said what happened to it, if there is evidence.
    #[expect(
        clippy::too_many_lines,
        reason = "each kind of evidence for a missing path, weighed in order"
    )]
    pub(super) fn settle(&self, m: &Missing, gone: &BTreeMap<String, Gone>) -> Option<Finding> {
        let rewrite = |index: usize, to: &str| -> String {
            let (base, _) = &m.tries[index];
            let mut text = if m.from_top {
                format!("/{to}")
            } else {
                let rel = relative(base, to);
                if m.written.starts_with("./") && !rel.starts_with("../") {
                    format!("./{rel}")
                } else {
                    rel
                }
            };
            if m.written.ends_with('/') {
                text.push('/');
            }
            text
        };
        let finding = |fix: String, to: Option<String>| Finding {
            kind: m.kind,
            file: m.file.clone(),
            line: m.line,
            what: m.what.clone(),
            fix,
            replace: to.map(|to| Replace {
                from: m.written.clone(),
                to,
            }),
        };
        for (index, (_, rel)) in m.tries.iter().enumerate() {
            let Some(event) = gone.get(rel) else {
                continue;
            };
            if m.bare && self.tree.by_name.contains_key(file_name(rel)) {
                return None;
            }
            let when = format!("in `{}` on {}", event.commit, day(event.time));
            return Some(match &event.renamed_to {
                Some(to) => {
                    let new = rewrite(index, to);
                    finding(
                        format!("point it at {} (renamed {when})", code(&new)),
                        Some(new),
                    )
                }
                None => finding(
                    format!("remove it, or name what replaced it (deleted {when})"),
                    None,
                ),
            });
        }
        if m.bare {
            return None;
        }
        for (index, (_, rel)) in m.tries.iter().enumerate() {
            if let Some(to) = near_name(self.root, rel) {
                let new = rewrite(index, &to);
                let folder = parent(&to);
                let place = if folder.is_empty() {
                    "the project's top folder".to_owned()
                } else {
                    code(&format!("{folder}/"))
                };
                return Some(finding(
                    format!("point it at {} (the closest name in {place})", code(&new)),
                    Some(new),
                ));
            }
        }
        if !m.certain {
            return None;
        }
        let (base, rel) = &m.tries[0];
        if m.kind == Kind::BrokenLink && !base.is_empty() {
            // A link resolves from the doc's folder; the path may have been written from the project's.
            let from_root = m.written.trim_start_matches("./");
            if let Some(top) = normalize("", from_root).filter(|top| self.root.join(top).exists()) {
                let new = rewrite(0, &top);
                return Some(finding(
                    format!(
                        "point it at {} (links resolve from the doc's folder, {})",
                        code(&new),
                        code(&format!("{base}/"))
                    ),
                    Some(new),
                ));
            }
        }
        // A doc moved elsewhere keeps its name; a code file of the same name elsewhere is another file.
        if is_markdown(rel)
            && let Some([only]) = self.tree.by_name.get(file_name(rel)).map(Vec::as_slice)
        {
            let new = rewrite(0, only);
            return Some(finding(
                format!(
                    "point it at {} (the only {} in the project)",
                    code(&new),
                    code(file_name(rel))
                ),
                Some(new),
            ));
        }
        Some(finding(
            match m.kind {
                Kind::BrokenLink => "point it at an existing file, or remove the link".to_owned(),
                _ => "correct the path, or remove the command".to_owned(),
            },
            None,
        ))
    }
}

/// Whether a link target is one rustdoc resolves (an item path, a bare identifier, an item page) rather than
/// a file: READMEs generated from crate docs keep them.
pub(super) fn rustdoc_link(target: &str) -> bool {
    static ITEM_PAGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:^|/)(?:struct|enum|trait|fn|macro|type|constant|static|union|mod|attr|derive|primitive|keyword|trait\.impl)\.[\w]+\.html$")
            .expect("valid regex")
    });
    target.contains("::")
        || (!target.is_empty() && !target.contains(['/', '.']) && !KNOWN_FILES.contains(&target))
        || ITEM_PAGE.is_match(target)
}

pub(super) fn has_scheme(dest: &str) -> bool {
    static SCHEME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:").expect("valid regex"));
    SCHEME.is_match(dest)
}

pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(value) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Folders relative to the project that a path in code may be written from, without repeats.
pub(super) fn bases(folders: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for folder in folders {
        if !out.iter().any(|f| f == folder) {
            out.push((*folder).to_owned());
        }
    }
    out
}
