//! The shape of the source tree, kept by tests: no module imports another that imports it back (outside
//! tests), and no file grows past 1,000 lines of code before its tests. See `docs/architecture.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `steps::logs` for `src/steps/logs/scanner.rs`, `fix` for `src/fix.rs`: the unit the graph is drawn in.
fn module_of(path: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = path.strip_prefix(&src).unwrap().with_extension("");
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|p| p != "mod")
        .collect();
    match parts.as_slice() {
        [first, second, ..] if first == "steps" => format!("steps::{second}"),
        [first, ..] => first.clone(),
        [] => String::new(),
    }
}

/// The code of a file before its test module.
fn code(text: &str) -> &str {
    text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text)
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in sources() {
        let me = module_of(&path);
        if me == "main" || me == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let deps = graph.entry(me.clone()).or_default();
        for line in code(&text).lines() {
            let line = line.split("//").next().unwrap_or_default();
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let first: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let dep = if first == "steps" {
                    let after = &rest["steps::".len().min(rest.len())..];
                    let second: String = after
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if second.is_empty() || second.chars().next().unwrap().is_uppercase() {
                        "steps".to_owned()
                    } else {
                        format!("steps::{second}")
                    }
                } else {
                    first
                };
                if !dep.is_empty() && dep != me {
                    deps.insert(dep);
                }
            }
        }
    }
    // The step list names every step.
    let steps: Vec<String> = graph
        .keys()
        .filter(|m| m.starts_with("steps::"))
        .cloned()
        .collect();
    graph.entry("steps".to_owned()).or_default().extend(steps);
    graph
}

/// A cycle through `start`, if any, as the modules on it.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                return Some(path);
            }
            if graph.contains_key(next) && seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = graph();
    assert!(graph.len() > 30, "the graph was read: {:?}", graph.keys());
    assert!(
        graph["runner"].contains("steps") && graph["steps::logs"].contains("logmine"),
        "edges are found: {graph:?}"
    );
    let cycles: Vec<Vec<String>> = graph.keys().filter_map(|m| cycle_from(&graph, m)).collect();
    assert!(cycles.is_empty(), "import circles: {cycles:?}");
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let mut graph = BTreeMap::new();
    graph.insert("state".to_owned(), BTreeSet::from(["step".to_owned()]));
    graph.insert("step".to_owned(), BTreeSet::from(["state".to_owned()]));
    graph.insert("report".to_owned(), BTreeSet::from(["state".to_owned()]));
    assert_eq!(
        cycle_from(&graph, "state"),
        Some(vec!["state".to_owned(), "step".to_owned()])
    );
    assert_eq!(cycle_from(&graph, "report"), None);
}

#[test]
fn no_file_has_more_than_a_thousand_lines_of_code_before_its_tests() {
    let big: Vec<(String, usize)> = sources()
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
            let lines = before_tests
                .lines()
                .filter(|l| {
                    let l = l.trim();
                    !l.is_empty() && !l.starts_with("//")
                })
                .count();
            (lines > 1000).then(|| (path.display().to_string(), lines))
        })
        .collect();
    assert!(big.is_empty(), "split these by concern: {big:?}");
}
