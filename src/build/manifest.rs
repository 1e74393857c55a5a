//! The coordinator's manifest: its JSON schema and prompt, and the checks that make it a plan (ids, order,
//! ownership), with errors that say which stream is wrong and how.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{Result, bail};
use globset::GlobSet;
use serde::Deserialize;
use serde_json::{Value, json};

/// More streams than this is not a plan a person can review.
pub(crate) const MAX_STREAMS: usize = 12;
/// Characters of the spec given to the models.
pub(crate) const SPEC_MAX: usize = 30_000;
/// Files of the tree listed to the coordinator.
const FILES_SHOWN: usize = 400;

/// One stream: a task, the files it alone may change, the streams it builds on.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub(crate) struct Stream {
    pub(crate) id: String,
    pub(crate) task: String,
    pub(crate) owns: Vec<String>,
    #[serde(default)]
    pub(crate) after: Vec<String>,
}

/// A checked manifest: streams in the coordinator's order, each with its matcher.
#[derive(Debug)]
pub(crate) struct Manifest {
    pub(crate) streams: Vec<Stream>,
    owns: Vec<GlobSet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    streams: Vec<Stream>,
}

/// The answer's shape (`--json-schema`).
pub(crate) fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "streams": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_STREAMS,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "string", "description": "short, lowercase letters, digits and dashes" },
                        "task": { "type": "string", "description": "what this stream builds, self-contained" },
                        "owns": {
                            "type": "array",
                            "minItems": 1,
                            "items": { "type": "string" },
                            "description": "globs of the files only this stream creates or changes"
                        },
                        "after": {
                            "type": "array",
                            "items": { "type": "string" },
                            "description": "ids of the streams whose results this one builds on"
                        }
                    },
                    "required": ["id", "task", "owns", "after"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["streams"],
        "additionalProperties": false
    })
}

/// What the coordinator is told: the spec, the tree, the rules of a manifest.
pub(crate) fn prompt(spec: &str, files: &[String], test_command: &str) -> String {
    let mut p = format!(
        "You are the coordinator of a feature build. Split the specification below into streams of work that \
         separate agents do in separate git worktrees, side by side where they can. Each stream owns its files \
         exclusively: `owns` lists globs relative to the repository root (`app/api/**`, `src/types.ts`), and no \
         file may be matched by two streams' globs, existing or new. Put contracts and shared types first, \
         implementation streams in parallel after them, and tests last, as `after` says (ids of the streams a \
         stream builds on; no cycles). Ids are short, lowercase letters, digits and dashes. Each task must be \
         self-contained: its agent sees the spec, its task and the other streams' ids and globs, nothing else. \
         Prefer few streams; a small feature is one stream, but no stream may change more than {} files or {} \
         lines.\n",
        crate::fix::guard::MAX_FILES,
        crate::fix::guard::MAX_LINES
    );
    let _ = writeln!(
        p,
        "\nThe project's tests run with `{test_command}`; a stream that owns test files has them run after it."
    );
    p.push_str("\n## The files of the repository\n");
    for f in files.iter().take(FILES_SHOWN) {
        let _ = writeln!(p, "- {f}");
    }
    if files.len() > FILES_SHOWN {
        let _ = writeln!(p, "- ... and {} more", files.len() - FILES_SHOWN);
    }
    let _ = write!(p, "\n## The specification\n\n{}\n", head(spec, SPEC_MAX));
    p
}

impl Manifest {
    /// Reads and checks the coordinator's answer against the repository's files `tracked`.
    pub(crate) fn check(answer: &Value, tracked: &[String]) -> Result<Manifest> {
        let raw: Raw = serde_json::from_value(answer.clone()).map_err(|err| {
            anyhow::anyhow!(
                "the manifest is not `{{\"streams\": [{{\"id\", \"task\", \"owns\": [globs], \"after\": [ids]}}]}}`: {err}"
            )
        })?;
        let streams = raw.streams;
        if streams.is_empty() {
            bail!("the manifest has no stream");
        }
        if streams.len() > MAX_STREAMS {
            bail!(
                "the manifest has {} streams; at most {MAX_STREAMS}",
                streams.len()
            );
        }
        let mut ids = BTreeSet::new();
        for s in &streams {
            let valid = !s.id.is_empty()
                && s.id.len() <= 40
                && s.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
                && !s.id.starts_with('-');
            if !valid {
                bail!(
                    "stream id `{}` is not a short name of lowercase letters, digits and dashes",
                    s.id
                );
            }
            if !ids.insert(s.id.as_str()) {
                bail!("two streams are called `{}`: ids must be unique", s.id);
            }
            if s.task.trim().is_empty() {
                bail!("stream `{}` has no task", s.id);
            }
        }
        for s in &streams {
            for a in &s.after {
                if a == &s.id {
                    bail!("stream `{}` comes after itself", s.id);
                }
                if !ids.contains(a.as_str()) {
                    bail!(
                        "stream `{}` comes after `{a}`, which is not a stream of the manifest ({})",
                        s.id,
                        ids.iter().copied().collect::<Vec<_>>().join(", ")
                    );
                }
            }
        }
        if let Some(cycle) = find_cycle(&streams) {
            bail!(
                "the streams' order has a cycle: {} (`after` must not lead back to a stream)",
                cycle.join(" -> ")
            );
        }
        let owns = ownership(&streams, tracked)?;
        Ok(Manifest { streams, owns })
    }

    /// Whether stream `i` owns `path`.
    pub(crate) fn owns(&self, i: usize, path: &str) -> bool {
        self.owns[i].is_match(path)
    }

    /// The index of the stream called `id`.
    pub(crate) fn index(&self, id: &str) -> Option<usize> {
        self.streams.iter().position(|s| s.id == id)
    }

    /// The streams in an order where each comes after those it names (the coordinator's order otherwise).
    pub(crate) fn order(&self) -> Vec<usize> {
        let mut done: Vec<usize> = Vec::new();
        while done.len() < self.streams.len() {
            let next = (0..self.streams.len())
                .find(|i| {
                    !done.contains(i)
                        && self.streams[*i]
                            .after
                            .iter()
                            .all(|a| self.index(a).is_some_and(|j| done.contains(&j)))
                })
                .expect("a checked manifest has no cycle");
            done.push(next);
        }
        done
    }

    /// The streams by wave: those that can start at once, then those that wait only for the first wave, ...
    pub(crate) fn waves(&self) -> Vec<Vec<usize>> {
        let mut depth = vec![0usize; self.streams.len()];
        for i in self.order() {
            depth[i] = self.streams[i]
                .after
                .iter()
                .filter_map(|a| self.index(a))
                .map(|j| depth[j] + 1)
                .max()
                .unwrap_or(0);
        }
        let mut waves: Vec<Vec<usize>> = vec![Vec::new(); depth.iter().max().map_or(0, |d| d + 1)];
        for (i, d) in depth.iter().enumerate() {
            waves[*d].push(i);
        }
        waves
    }

    /// Every stream `i` builds on, directly or not.
    pub(crate) fn ancestors(&self, i: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = vec![i];
        while let Some(at) = stack.pop() {
            for a in &self.streams[at].after {
                if let Some(j) = self.index(a)
                    && seen.insert(j)
                {
                    stack.push(j);
                }
            }
        }
        seen
    }
}

/// The start of `text`, at most `max` bytes (cut at a character boundary), said when cut.
pub(crate) fn head(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}\n[... the rest of the spec, {} bytes, is left out]",
        &text[..cut],
        text.len() - cut
    )
}

/// A cycle of `after`, as ids, if there is one.
fn find_cycle(streams: &[Stream]) -> Option<Vec<String>> {
    let after: BTreeMap<&str, &[String]> = streams
        .iter()
        .map(|s| (s.id.as_str(), s.after.as_slice()))
        .collect();
    // Depth-first from each stream, with the path so far.
    for start in streams {
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(&start.id, vec![&start.id])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in after.get(at).copied().unwrap_or_default() {
                if next == &start.id {
                    let mut cycle: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
                    cycle.push(start.id.clone());
                    return Some(cycle);
                }
                if seen.insert(next.as_str()) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
    }
    None
}

/// Each stream's globs as a matcher, once no two streams can own the same file: no glob given twice, no glob
/// that another stream's glob matches (`app/**` and `app/api/**`), no file of the tree matched by two streams.
fn ownership(streams: &[Stream], tracked: &[String]) -> Result<Vec<GlobSet>> {
    let mut sets = Vec::new();
    for s in streams {
        let owns: Vec<String> = s
            .owns
            .iter()
            .map(|g| g.trim().trim_start_matches("./").to_owned())
            .filter(|g| !g.is_empty())
            .collect();
        if owns.is_empty() {
            bail!(
                "stream `{}` owns nothing: `owns` needs at least one glob",
                s.id
            );
        }
        if let Some(bad) = owns
            .iter()
            .find(|g| g.starts_with('/') || g.split('/').any(|part| part == ".."))
        {
            bail!(
                "stream `{}` owns `{bad}`, which is not a path inside the repository",
                s.id
            );
        }
        let what = format!("owns` of stream `{}", s.id);
        sets.push(crate::fix::guard::globs(&owns, &what)?);
    }
    for (i, a) in streams.iter().enumerate() {
        for (j, b) in streams.iter().enumerate().skip(i + 1) {
            for ga in &a.owns {
                for gb in &b.owns {
                    let (ta, tb) = (
                        ga.trim().trim_end_matches('/'),
                        gb.trim().trim_end_matches('/'),
                    );
                    if ta == tb || sets[i].is_match(tb) || sets[j].is_match(ta) {
                        bail!(
                            "streams `{}` and `{}` may own the same files: `{ga}` and `{gb}` overlap; each file \
                             belongs to one stream",
                            a.id,
                            b.id
                        );
                    }
                }
            }
        }
    }
    for file in tracked {
        let owners: Vec<&str> = sets
            .iter()
            .zip(streams)
            .filter(|(set, _)| set.is_match(file))
            .map(|(_, s)| s.id.as_str())
            .collect();
        if owners.len() > 1 {
            bail!(
                "`{file}` is owned by more than one stream ({}): each file belongs to one stream",
                owners.join(", ")
            );
        }
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(streams: Value) -> Result<Manifest> {
        let answer = Value::Object([("streams".to_owned(), streams)].into_iter().collect());
        Manifest::check(
            &answer,
            &[
                "app/api.py".to_owned(),
                "app/web.py".to_owned(),
                "README.md".to_owned(),
            ],
        )
    }

    fn four() -> Value {
        json!([
            { "id": "contracts", "task": "types", "owns": ["app/types.py"], "after": [] },
            { "id": "backend", "task": "api", "owns": ["app/api.py"], "after": ["contracts"] },
            { "id": "frontend", "task": "web", "owns": ["app/web.py"], "after": ["contracts"] },
            { "id": "tests", "task": "tests", "owns": ["tests/**"], "after": ["backend", "frontend"] }
        ])
    }

    #[test]
    fn a_valid_manifest_gives_its_order_and_waves() {
        let m = manifest(four()).unwrap();
        assert_eq!(m.order(), [0, 1, 2, 3]);
        assert_eq!(m.waves(), [vec![0], vec![1, 2], vec![3]]);
        assert_eq!(m.ancestors(3), BTreeSet::from([0, 1, 2]));
        assert!(m.owns(3, "tests/test_api.py"));
        assert!(!m.owns(1, "app/web.py"));
        // The coordinator's order need not be the dependency order.
        let mut reversed = four();
        reversed.as_array_mut().unwrap().reverse();
        let m = manifest(reversed).unwrap();
        assert_eq!(m.order(), [3, 1, 2, 0]);
        assert_eq!(m.waves(), [vec![3], vec![1, 2], vec![0]]);
    }

    fn error(streams: Value) -> String {
        format!("{:#}", manifest(streams).unwrap_err())
    }

    #[test]
    fn invalid_manifests_are_refused_with_the_stream_named() {
        let mut cyclic = four();
        cyclic[0]["after"] = json!(["tests"]);
        assert!(
            error(cyclic).contains("the streams' order has a cycle: contracts -> tests -> "),
            "{}",
            error(four_with_cycle())
        );
        let mut unknown = four();
        unknown[1]["after"] = json!(["database"]);
        assert!(
            error(unknown).contains("`backend` comes after `database`, which is not a stream"),
            "{}",
            error(four())
        );
        let mut twice = four();
        twice[2]["id"] = json!("backend");
        assert!(error(twice).contains("two streams are called `backend`"));
        let mut same = four();
        same[2]["owns"] = json!(["app/api.py"]);
        assert!(error(same).contains("`backend` and `frontend` may own the same files"));
        let mut nested = four();
        nested[2]["owns"] = json!(["app/**"]);
        assert!(error(nested).contains(
            "`contracts` and `frontend` may own the same files: `app/types.py` and `app/**`"
        ));
        let mut empty = four();
        empty[0]["owns"] = json!([]);
        assert!(error(empty).contains("stream `contracts` owns nothing"));
        let mut outside = four();
        outside[0]["owns"] = json!(["../x"]);
        assert!(error(outside).contains("not a path inside the repository"));
        let mut self_loop = four();
        self_loop[0]["after"] = json!(["contracts"]);
        assert!(error(self_loop).contains("`contracts` comes after itself"));
        assert!(error(json!([])).contains("no stream"));
        assert!(
            format!(
                "{:#}",
                Manifest::check(&json!({ "streams": "x" }), &[]).unwrap_err()
            )
            .contains("the manifest is not")
        );
        let mut bad_id = four();
        bad_id[0]["id"] = json!("Contracts!");
        assert!(error(bad_id).contains("`Contracts!` is not a short name"));
    }

    fn four_with_cycle() -> Value {
        let mut v = four();
        v[0]["after"] = json!(["tests"]);
        v
    }

    #[test]
    fn a_file_of_the_tree_matched_by_two_streams_is_refused() {
        let err = Manifest::check(
            &json!({ "streams": [
                { "id": "a", "task": "x", "owns": ["app/*.py"], "after": [] },
                { "id": "b", "task": "y", "owns": ["**/api.py"], "after": [] }
            ] }),
            &["app/api.py".to_owned()],
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("`app/api.py` is owned by more than one stream (a, b)"),
            "{err:#}"
        );
    }

    #[test]
    fn the_schema_asks_for_every_field_and_the_prompt_carries_the_spec_and_files() {
        let s = schema();
        assert_eq!(
            s["properties"]["streams"]["items"]["required"],
            json!(["id", "task", "owns", "after"])
        );
        let p = prompt("Add a cart.", &["app/cart.py".to_owned()], "pytest -q");
        assert!(
            p.contains("Add a cart.") && p.contains("- app/cart.py") && p.contains("`pytest -q`")
        );
    }
}
