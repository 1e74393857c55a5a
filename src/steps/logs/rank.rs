//! Which error templates become actions, and why, in the order of what a person should look at first: new
//! templates and errors with a traceback through the project's own code, then rising ones, then volume.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::data::{Example, LogsData, TemplateRow};
use super::render::{plural, shorten};
use super::{ACTION_MIN_ERRORS, ACTIONS_MAX};
use crate::logmine::history::Change;
use crate::logmine::level::Level;
use crate::redact::redact;
use crate::step::Reason;
use crate::text::code;

/// A frame of a stack trace: Python's `File "/srv/app/x.py", line 29`, and `path:line` in JavaScript, Go,
/// Ruby, Rust and PHP traces (`at f (/srv/app/x.js:31:24)`, `/srv/app/x.go:12`).
static FRAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:File "([^"]+)", line (\d+))|((?:[A-Za-z]:)?[\w./\\@+-]+\.(?:py|js|mjs|cjs|ts|tsx|jsx|rb|go|rs|php|java|kt|scala|ex|exs|cs)):(\d+)"#)
        .expect("valid regex")
});
/// Folders of code that is not the project's own, even when a copy sits in the project.
const THIRD_PARTY: &[&str] = &[
    "site-packages",
    "dist-packages",
    "node_modules",
    "vendor",
    ".venv",
    "venv",
    ".cargo",
    "gems",
];
/// The exception line of a trace: `KeyError: 'sku'`, `java.lang.IllegalStateException: boom`.
static EXCEPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z_][\w.$]*(?:Error|Exception|Exit|Interrupt|Fault|Panic)\b")
        .expect("valid regex")
});

/// The innermost frame of each example's trace that is in the project's own code, as `path:line` relative to
/// `root`: the file exists in the project (the log's path with its deployment prefix dropped, `/srv/shop/`)
/// and is not third-party code.
pub(super) fn own_frames(data: &mut LogsData, root: &Path) {
    for row in &mut data.top {
        row.own_frame = row.example.as_ref().and_then(|e| own_frame(e, root));
    }
}

fn own_frame(example: &Example, root: &Path) -> Option<String> {
    let mut own = Vec::new();
    let mut python = false;
    for line in std::iter::once(&example.line).chain(&example.trace) {
        for found in FRAME.captures_iter(line) {
            python |= found.get(1).is_some();
            let (Some(path), Some(number)) =
                (found.get(1).or(found.get(3)), found.get(2).or(found.get(4)))
            else {
                continue;
            };
            if let Some(rel) = in_project(path.as_str(), root) {
                own.push(format!("{rel}:{}", number.as_str()));
            }
        }
    }
    // Python prints the innermost frame last; the others first.
    if python {
        own.pop()
    } else {
        own.into_iter().next()
    }
}

/// `path` relative to `root` when a file of the project: the longest tail of it that exists there.
fn in_project(path: &str, root: &Path) -> Option<String> {
    let parts: Vec<&str> = path
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.iter().any(|p| THIRD_PARTY.contains(p) || *p == "..") {
        return None;
    }
    (0..parts.len())
        .map(|start| parts[start..].join("/"))
        .find(|rel| root.join(rel).is_file())
}

/// The exception of an example (`KeyError: 'sku'`), when its trace ends with one.
fn exception(example: &Example) -> Option<&str> {
    let last = example
        .last
        .as_deref()
        .or(example.trace.last().map(String::as_str))?;
    let last = last.trim();
    EXCEPTION.is_match(last).then_some(last)
}

/// The actions for the day's error templates, each led by its reason, at most [`ACTIONS_MAX`] of each reason.
pub(super) fn actions(data: &LogsData) -> Vec<String> {
    let shown = |template: &str| code(&redact(&shorten(template, 120)));
    let row = |template: &str| data.top.iter().find(|t| t.template == template);
    let (new, rising): (&[Change], &[Change]) = data
        .history
        .as_ref()
        .map_or((&[], &[]), |h| (h.new.as_slice(), h.spiking.as_slice()));
    let new: Vec<&Change> = errors(new);
    let rising: Vec<&Change> = errors(rising);
    let mut actions = Vec::new();
    let mut taken: Vec<&str> = Vec::new();
    for change in &new {
        let mut action = format!(
            "{} appeared yesterday, {}",
            shown(&change.template),
            plural(change.today, "time")
        );
        if let Some(at) = row(&change.template).and_then(where_it_broke) {
            action.push_str(&at);
        }
        actions.push(Reason::New.tag(&action));
        taken.push(&change.template);
    }
    let traced: Vec<&TemplateRow> = data
        .top
        .iter()
        .filter(|t| t.errors > 0 && t.own_frame.is_some() && !taken.contains(&t.template.as_str()))
        .take(ACTIONS_MAX)
        .collect();
    for t in traced {
        let at = where_it_broke(t).unwrap_or_default();
        actions.push(Reason::Traceback.tag(&format!(
            "{} of {} yesterday{at}",
            plural(t.errors, "error"),
            shown(&t.template)
        )));
        taken.push(&t.template);
    }
    for change in rising {
        if taken.contains(&change.template.as_str()) {
            continue;
        }
        actions.push(Reason::Rising.tag(&format!(
            "{}: {} yesterday, {:.1} a night before",
            shown(&change.template),
            plural(change.today, "time"),
            change.baseline
        )));
        taken.push(&change.template);
    }
    for t in data
        .top
        .iter()
        .filter(|t| t.errors >= ACTION_MIN_ERRORS && !taken.contains(&t.template.as_str()))
        .take(ACTIONS_MAX)
    {
        actions.push(Reason::Volume.tag(&format!(
            "{} of {} yesterday",
            plural(t.errors, "error"),
            shown(&t.template)
        )));
    }
    actions
}

/// The error templates among `changes`, at most [`ACTIONS_MAX`].
fn errors(changes: &[Change]) -> Vec<&Change> {
    changes
        .iter()
        .filter(|c| c.severity == Level::Error)
        .take(ACTIONS_MAX)
        .collect()
}

/// `: KeyError: 'sku' at app/inventory.py:29`, from what the row's example says.
fn where_it_broke(t: &TemplateRow) -> Option<String> {
    let frame = t.own_frame.as_deref()?;
    Some(match t.example.as_ref().and_then(exception) {
        Some(exception) => format!(
            ": {} at {}",
            code(&redact(&shorten(exception, 120))),
            code(frame)
        ),
        None => format!(", at {}", code(frame)),
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::logmine::history::Changes;

    fn example(line: &str, trace: &[&str]) -> Example {
        Example {
            file: "logs/app.log".to_owned(),
            line: line.to_owned(),
            trace: trace.iter().map(|l| (*l).to_owned()).collect(),
            ..Example::default()
        }
    }

    #[test]
    fn the_innermost_frame_in_the_projects_own_code() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for rel in ["app/checkout.py", "app/inventory.py", "src/mailer.js"] {
            fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
            fs::write(root.join(rel), "").unwrap();
        }
        let python = example(
            "ERROR [app.checkout] Could not reserve stock for order 18260",
            &[
                "Traceback (most recent call last):",
                "  File \"/srv/shop/app/checkout.py\", line 23, in place_order",
                "  File \"/srv/shop/app/inventory.py\", line 29, in reserve",
                "  File \"/usr/lib/python3/site-packages/app/inventory.py\", line 3, in get",
                "KeyError: 'sku'",
            ],
        );
        assert_eq!(
            own_frame(&python, root).as_deref(),
            Some("app/inventory.py:29")
        );
        assert_eq!(exception(&python), Some("KeyError: 'sku'"));
        let node = example(
            "ERROR job failed: TypeError: Cannot read properties of undefined",
            &[
                "    at renderReceipt (/srv/worker/src/mailer.js:31:24)",
                "    at Queue.drain (/srv/worker/node_modules/q/index.js:45:13)",
            ],
        );
        assert_eq!(own_frame(&node, root).as_deref(), Some("src/mailer.js:31"));
        assert_eq!(exception(&node), None);
        // Frames of code the project does not have are not its own.
        let library = example(
            "ERROR",
            &["  File \"/usr/lib/python3.12/json/decoder.py\", line 355, in raw_decode"],
        );
        assert_eq!(own_frame(&library, root), None);
    }

    fn change(template: &str, today: u64, baseline: f64, severity: Level) -> Change {
        Change {
            template: template.to_owned(),
            today,
            baseline,
            last_seen: None,
            example: None,
            severity,
        }
    }

    fn row(template: &str, errors: u64, own_frame: Option<&str>) -> TemplateRow {
        TemplateRow {
            template: template.to_owned(),
            count: errors,
            errors,
            own_frame: own_frame.map(str::to_owned),
            example: Some(example("ERROR x", &["KeyError: 'sku'"])),
            ..TemplateRow::default()
        }
    }

    #[test]
    fn actions_say_why_new_and_traced_before_rising_before_volume() {
        let data = LogsData {
            top: vec![
                row("Payment failed for order <*>", 22, None),
                row(
                    "Could not reserve stock for order <*>",
                    3,
                    Some("app/inventory.py:29"),
                ),
                row("Timeout talking to <*>", 9, None),
                row("Brand new failure <*>", 2, Some("app/new.py:3")),
                row("Two errors <*>", 2, None),
            ],
            history: Some(Changes {
                first_day: false,
                new: vec![
                    change("Brand new failure <*>", 2, 0.0, Level::Error),
                    change("A new warning <*>", 4, 0.0, Level::Warning),
                ],
                spiking: vec![change("Timeout talking to <*>", 9, 1.5, Level::Error)],
                stopped: Vec::new(),
            }),
            ..LogsData::default()
        };

        assert_eq!(
            actions(&data),
            [
                "new · `Brand new failure <*>` appeared yesterday, 2 times: `KeyError: 'sku'` at `app/new.py:3`",
                "traceback · 3 errors of `Could not reserve stock for order <*>` yesterday: `KeyError: 'sku'` at `app/inventory.py:29`",
                "rising · `Timeout talking to <*>`: 9 times yesterday, 1.5 a night before",
                "volume · 22 errors of `Payment failed for order <*>` yesterday",
            ]
        );
    }
}
