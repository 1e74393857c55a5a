//! `data/templates/<slug>.json`: one project's log templates with their daily counts over the last 30 days, so
//! that a night's templates can be compared with the nights before: what is new, what is spiking, which errors
//! stopped. Pure logic plus load and save; the `logs` step owns when it is called.
//!
//! # Matching across days
//! The miner's text for one kind of line changes as it generalises (`GET /api/users 500` one night,
//! `GET /api/<*> 500` the next). A template of the day is matched to a stored one by exact text first. Failing
//! that, it is merged with every stored template it is *compatible* with: the same number of words (split on
//! whitespace), and at each position the same word, or [`WILDCARD`] in either, or a word with `<*>` in it that
//! matches the other word with `<*>` standing for any run of characters (`/api/<*>` covers `/api/users`, as the
//! masking miner writes them). The merged template takes the more general word at each position, so a more
//! general template keeps its text when a specific one arrives and a specific one takes the general text when a
//! general one arrives (`user <*> logged in` and `user bob logged <*>` become `user <*> logged <*>`). Their daily
//! counts are added, the first seen date is the earliest, the level the most severe. A merge that would leave
//! nothing but `<*>` words is not made, so a template like `<*>` does not swallow every one-word template.
//!
//! # Untrusted text
//! Examples are stored as given, cut at [`MAX_EXAMPLE_CHARS`]: the caller redacts them before passing them in.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::level::Level;
use super::mask::WILDCARD;
use crate::fsutil::write_atomic;
use crate::fsutil::{self, Versioned};

/// Version of the file layout. Bump it when a change is not readable with `#[serde(default)]` alone.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// Days more than this many days before the recorded date are dropped.
pub(crate) const KEEP_DAYS: u64 = 30;
/// At most this many templates are kept per project (the `logs` step counts at most 5,000 a day).
pub(crate) const MAX_TEMPLATES: usize = 5000;
/// Stored examples are cut to this many characters.
pub(crate) const MAX_EXAMPLE_CHARS: usize = 300;
/// The baseline is the mean count per day over the recorded days among this many days before the date.
pub(crate) const BASELINE_DAYS: u64 = 7;
/// A template spikes when it is seen at least this often on the day...
pub(crate) const SPIKE_MIN_COUNT: u64 = 10;
/// ...and at least this many times its baseline.
pub(crate) const SPIKE_FACTOR: u64 = 3;
/// An error template stopped when it is absent on the day after being seen on at least this many of the
/// [`BASELINE_DAYS`] before...
pub(crate) const STOPPED_MIN_DAYS: usize = 2;
/// ...or at least this many times in those days.
pub(crate) const STOPPED_MIN_COUNT: u64 = 5;
/// Each list of [`Changes`] holds at most this many.
pub(crate) const MAX_CHANGES: usize = 10;

/// The templates of one project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct History {
    pub(crate) format_version: u32,
    /// Every date recorded (within [`KEEP_DAYS`]), also those with no templates: a night whose logs were empty
    /// still counts as an earlier night, so the next one is not taken for the first.
    #[serde(default)]
    pub(crate) recorded: BTreeSet<NaiveDate>,
    /// Sorted by text.
    #[serde(default)]
    pub(crate) templates: Vec<Tracked>,
}

/// One template and the days it was seen on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tracked {
    pub(crate) template: String,
    /// The most severe level it was seen with.
    pub(crate) level: Level,
    pub(crate) first_seen: NaiveDate,
    /// Count per day; days with no occurrence are absent.
    pub(crate) days: BTreeMap<NaiveDate, u64>,
    /// The latest example (redacted by the caller, cut to [`MAX_EXAMPLE_CHARS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) example: Option<String>,
}

/// A template as the `logs` step counted it for one day.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DayTemplate<'a> {
    pub template: &'a str,
    pub count: u64,
    /// How many of `count` were errors, and warnings.
    pub errors: u64,
    pub warnings: u64,
    /// An example line, already redacted.
    pub example: Option<&'a str>,
}

impl DayTemplate<'_> {
    /// Error if any occurrence was an error, else warning if any was a warning.
    pub(crate) fn level(&self) -> Level {
        if self.errors > 0 {
            Level::Error
        } else if self.warnings > 0 {
            Level::Warning
        } else {
            Level::Other
        }
    }
}

/// The history of a project, and what the user should be told about its file.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub history: History,
    /// Set when a corrupt or newer file was moved aside (the history then starts empty).
    pub warning: Option<String>,
}

/// What is notable on a date compared with the days before it. See [`History::changes`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Changes {
    /// No earlier day is on record, so nothing is reported as new (everything would be).
    pub first_day: bool,
    pub new: Vec<Change>,
    pub spiking: Vec<Change>,
    pub stopped: Vec<Change>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Change {
    pub template: String,
    /// The count on the date.
    pub today: u64,
    /// Mean per day over the recorded days among the [`BASELINE_DAYS`] before the date (a recorded day without
    /// it counts as 0); 0 for new templates.
    pub baseline: f64,
    /// The last day before the date it was seen on; `None` for new templates.
    pub last_seen: Option<NaiveDate>,
    pub example: Option<String>,
    pub severity: Level,
}

/// The file of `project`'s history under `root`: `data/templates/<slug>.json`, where the slug keeps lowercase
/// ASCII letters, digits, `-` and `_`, folds uppercase to lowercase and turns anything else into `-` (so the
/// name can never leave the directory). Distinct names can share a slug (`My.App`, `my-app`).
pub(crate) fn path(root: &Path, project: &str) -> PathBuf {
    let mut slug: String = project
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if slug.is_empty() {
        slug.push('_');
    }
    root.join("data")
        .join("templates")
        .join(format!("{slug}.json"))
}

impl Default for History {
    fn default() -> History {
        History {
            format_version: FORMAT_VERSION,
            recorded: BTreeSet::new(),
            templates: Vec::new(),
        }
    }
}

impl History {
    /// Loads the history at `path`; a missing file is an empty history. A corrupt file, or one written by a newer
    /// daydream, is moved aside to `<path>.corrupt-<stamp>` or `<path>.v<N>-<stamp>` (never overwritten), with a
    /// warning, and the history starts empty. The stamp is the local time; see [`History::load_stamped`].
    pub(crate) fn load(path: &Path) -> Result<Loaded> {
        let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S").to_string();
        History::load_stamped(path, &stamp)
    }

    /// [`History::load`] with the stamp of a moved-aside file given (the run's, as `state.json` uses).
    pub(crate) fn load_stamped(path: &Path, stamp: &str) -> Result<Loaded> {
        let read = read(path)?;
        let Some((why, tag)) = read.unusable(FORMAT_VERSION) else {
            return Ok(Loaded {
                history: match read {
                    Versioned::Loaded(history) => history,
                    _ => History::default(),
                },
                warning: None,
            });
        };
        let aside = fsutil::set_aside(path, &tag, stamp)?;
        Ok(Loaded {
            history: History::default(),
            warning: Some(format!(
                "`{}` was {why}; it was moved to `{}` and the template history starts afresh",
                path.display(),
                aside.display()
            )),
        })
    }

    /// Writes the history atomically, creating `data/templates/` if needed.
    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        let mut bytes =
            serde_json::to_vec_pretty(self).context("failed to serialize the template history")?;
        bytes.push(b'\n');
        write_atomic(path, &bytes)
    }

    /// Records `date`'s counts, replacing any earlier record of the same date (a rerun of the same day is
    /// idempotent). Templates are matched to stored ones as the module documentation says; a template's level
    /// becomes the most severe seen, and its example the latest given. Then days more than [`KEEP_DAYS`] before
    /// `date` are dropped, and templates with no days left. Past [`MAX_TEMPLATES`], the templates not seen on
    /// `date` with the smallest total over the kept days go first (ties: the least recently seen, then by text);
    /// templates seen on `date` go only if they alone are more than the cap.
    pub(crate) fn record(&mut self, date: NaiveDate, today: &[DayTemplate<'_>]) {
        for t in &mut self.templates {
            t.days.remove(&date);
        }
        self.recorded.insert(date);
        let mut day: Vec<&DayTemplate<'_>> = today.iter().filter(|d| d.count > 0).collect();
        // Merging depends on the order in which templates arrive; make it the text's, not the caller's.
        day.sort_by(|a, b| a.template.cmp(b.template));
        let mut slots: Vec<Option<Tracked>> = std::mem::take(&mut self.templates)
            .into_iter()
            .map(Some)
            .collect();
        let mut exact: HashMap<String, usize> = slots
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((t.as_ref()?.template.clone(), i)))
            .collect();
        for d in day {
            let index = match exact.get(d.template) {
                Some(&i) => i,
                None => absorb(&mut slots, &mut exact, date, d.template),
            };
            let t = slots[index].as_mut().expect("a matched slot is live");
            let count = t.days.entry(date).or_insert(0);
            *count = count.saturating_add(d.count);
            t.first_seen = t.first_seen.min(date);
            t.level = most_severe(t.level, d.level());
            if let Some(example) = d.example {
                t.example = Some(cut(example, MAX_EXAMPLE_CHARS).to_owned());
            }
        }
        self.templates = slots.into_iter().flatten().collect();

        let oldest = date.checked_sub_days(Days::new(KEEP_DAYS));
        if let Some(oldest) = oldest {
            self.recorded.retain(|d| *d >= oldest);
            for t in &mut self.templates {
                t.days.retain(|d, _| *d >= oldest);
            }
        }
        self.templates.retain(|t| !t.days.is_empty());

        if self.templates.len() > MAX_TEMPLATES {
            let key = |t: &Tracked| {
                (
                    t.days.contains_key(&date),
                    t.days.values().copied().fold(0_u64, u64::saturating_add),
                    t.days.keys().next_back().copied(),
                )
            };
            self.templates.sort_by(|a, b| {
                key(b)
                    .cmp(&key(a))
                    .then_with(|| a.template.cmp(&b.template))
            });
            self.templates.truncate(MAX_TEMPLATES);
        }
        self.templates.sort_by(|a, b| a.template.cmp(&b.template));
    }

    /// What is notable on `date` compared with the days before it. It reads `date`'s counts from the history, so
    /// call it after [`History::record`] for that date; a date not recorded has no changes.
    ///
    /// - **new**: seen on `date` and on none of the stored earlier days. When no earlier day is recorded at all,
    ///   nothing is new and `first_day` is set. A template not seen for more than [`KEEP_DAYS`] is new again.
    /// - **spiking**: seen before `date`, and on `date` at least [`SPIKE_MIN_COUNT`] times and at least
    ///   [`SPIKE_FACTOR`] times its baseline (so a template seen earlier in the month but not in the last week,
    ///   with a baseline of 0, spikes when it comes back this often). Highest ratio first. The baseline is the
    ///   mean over the days of the last [`BASELINE_DAYS`] that were recorded, a recorded day without the template
    ///   counting as 0: days daydream did not run are not zeros, so the first week of a history does not make
    ///   every steady template look like a spike.
    /// - **stopped**: an error template not seen on `date` that was seen on at least [`STOPPED_MIN_DAYS`] of the
    ///   [`BASELINE_DAYS`] before it, or at least [`STOPPED_MIN_COUNT`] times in them. Highest baseline first.
    ///   A project whose logs were empty on `date` has all its regular errors stopped.
    ///
    /// Each list holds at most [`MAX_CHANGES`]; ties are broken by count, then by text. New templates list errors
    /// first, then warnings, each by count.
    pub(crate) fn changes(&self, date: NaiveDate) -> Changes {
        let first_day = !self.recorded.iter().any(|d| *d < date)
            && !self
                .templates
                .iter()
                .any(|t| t.days.keys().any(|d| *d < date));
        let mut changes = Changes {
            first_day,
            ..Changes::default()
        };
        if !self.recorded.contains(&date) {
            return changes;
        }
        let window_start = date
            .checked_sub_days(Days::new(BASELINE_DAYS))
            .unwrap_or(NaiveDate::MIN);
        // Days with data in the window: recorded ones, and (for files written without `recorded`) days a
        // template was seen on. Every template shares them, so ratios compare as today / sum.
        let mut observed: BTreeSet<NaiveDate> =
            self.recorded.range(window_start..date).copied().collect();
        for t in &self.templates {
            observed.extend(t.days.range(window_start..date).map(|(d, _)| *d));
        }
        let observed = u64::try_from(observed.len()).unwrap_or(u64::MAX);
        // Each spike with its sum over the baseline window, to sort by exact ratios.
        let mut new = Vec::new();
        let mut spiking = Vec::new();
        let mut stopped = Vec::new();
        for t in &self.templates {
            let today = t.days.get(&date).copied().unwrap_or(0);
            let last_seen = t.days.range(..date).next_back().map(|(d, _)| *d);
            let window = t.days.range(window_start..date);
            let days_seen = window.clone().count();
            let sum = window.map(|(_, c)| *c).fold(0_u64, u64::saturating_add);
            let change = || Change {
                template: t.template.clone(),
                today,
                baseline: mean(sum, observed),
                last_seen,
                example: t.example.clone(),
                severity: t.level,
            };
            if today > 0 && last_seen.is_none() {
                if !first_day {
                    new.push(change());
                }
            } else if today >= SPIKE_MIN_COUNT
                && u128::from(today) * u128::from(observed)
                    >= u128::from(SPIKE_FACTOR) * u128::from(sum)
            {
                spiking.push((change(), sum));
            } else if today == 0
                && t.level == Level::Error
                && (days_seen >= STOPPED_MIN_DAYS || sum >= STOPPED_MIN_COUNT)
            {
                stopped.push(change());
            }
        }
        new.sort_by(|a, b| {
            severity_rank(b.severity)
                .cmp(&severity_rank(a.severity))
                .then(b.today.cmp(&a.today))
                .then_with(|| a.template.cmp(&b.template))
        });
        // today_a / sum_a > today_b / sum_b, exactly and with a sum of 0 as the highest ratio.
        spiking.sort_by(|(a, sum_a), (b, sum_b)| {
            (u128::from(b.today) * u128::from(*sum_a))
                .cmp(&(u128::from(a.today) * u128::from(*sum_b)))
                .then(b.today.cmp(&a.today))
                .then_with(|| a.template.cmp(&b.template))
        });
        stopped.sort_by(|a, b| {
            b.baseline
                .total_cmp(&a.baseline)
                .then_with(|| a.template.cmp(&b.template))
        });
        changes.new = new.into_iter().take(MAX_CHANGES).collect();
        changes.spiking = spiking
            .into_iter()
            .take(MAX_CHANGES)
            .map(|(c, _)| c)
            .collect();
        changes.stopped = stopped.into_iter().take(MAX_CHANGES).collect();
        changes
    }
}

/// Finds the stored templates compatible with `text` (none matched it exactly), merges them and `text` into one
/// slot with the most general text, and returns its index; a new empty slot when none is compatible.
fn absorb(
    slots: &mut Vec<Option<Tracked>>,
    exact: &mut HashMap<String, usize>,
    date: NaiveDate,
    text: &str,
) -> usize {
    let mut join: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    let mut merged: Vec<usize> = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        let Some(t) = slot else { continue };
        if let Some(wider) = joined(&join, &t.template)
            && wider.iter().any(|w| w != WILDCARD)
        {
            join = wider;
            merged.push(i);
        }
    }
    if merged.is_empty() {
        slots.push(Some(Tracked {
            template: text.to_owned(),
            level: Level::Other,
            first_seen: date,
            days: BTreeMap::new(),
            example: None,
        }));
        exact.insert(text.to_owned(), slots.len() - 1);
        return slots.len() - 1;
    }
    // Keep a participant's own text (spacing and all) when it is the most general one.
    let same = |s: &str| s.split_whitespace().eq(join.iter().map(String::as_str));
    let taken: Vec<Tracked> = merged
        .iter()
        .map(|&i| slots[i].take().expect("merged slots are live"))
        .collect();
    let template = taken
        .iter()
        .map(|t| t.template.as_str())
        .chain([text])
        .find(|s| same(s))
        .map_or_else(|| join.join(" "), str::to_owned);
    let mut into = Tracked {
        template,
        level: Level::Other,
        first_seen: date,
        days: BTreeMap::new(),
        example: None,
    };
    for t in taken {
        exact.remove(&t.template);
        merge_into(&mut into, t);
    }
    // A stored template may already have the merged text without having been compatible with the narrower join
    // when it was scanned: merge it too, so no two templates share a text.
    if let Some(i) = exact.remove(&into.template) {
        let t = slots[i].take().expect("indexed slots are live");
        merge_into(&mut into, t);
    }
    exact.insert(into.template.clone(), slots.len());
    slots.push(Some(into));
    slots.len() - 1
}

fn merge_into(into: &mut Tracked, t: Tracked) {
    into.level = most_severe(into.level, t.level);
    into.first_seen = into.first_seen.min(t.first_seen);
    for (day, count) in t.days {
        let sum = into.days.entry(day).or_insert(0);
        *sum = sum.saturating_add(count);
    }
    if into.example.is_none() {
        into.example = t.example;
    }
}

/// The join of `words` and the words of `other` when they are compatible: the same number of words, and at each
/// position one word at least as general as the other ([`wider`]); the join has the more general word.
fn joined(words: &[String], other: &str) -> Option<Vec<String>> {
    // Checked before anything is allocated: most stored templates differ in their first words.
    let pairs = || words.iter().zip(other.split_whitespace());
    let compatible = pairs().all(|(a, b)| wider(a, b).is_some())
        && other.split_whitespace().count() == words.len();
    compatible.then(|| {
        pairs()
            .map(|(a, b)| wider(a, b).unwrap_or(WILDCARD).to_owned())
            .collect()
    })
}

/// The more general of two words: the same word, [`WILDCARD`] if either is it, or a word with wildcards in it
/// that matches the other (`/api/<*>` and `/api/users`); `None` when neither covers the other.
fn wider<'w>(a: &'w str, b: &'w str) -> Option<&'w str> {
    if a == b {
        Some(a)
    } else if a == WILDCARD || b == WILDCARD {
        Some(WILDCARD)
    } else if glob(a, b) {
        Some(a)
    } else if glob(b, a) {
        Some(b)
    } else {
        None
    }
}

/// Whether `pattern`, with each [`WILDCARD`] standing for any run of characters, matches `text`.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split(WILDCARD);
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let mut parts: Vec<&str> = parts.collect();
    let Some(last) = parts.pop() else {
        // No wildcard: only the same text matches.
        return rest.is_empty();
    };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn severity_rank(level: Level) -> u8 {
    match level {
        Level::Error => 2,
        Level::Warning => 1,
        Level::Other => 0,
    }
}

fn most_severe(a: Level, b: Level) -> Level {
    if severity_rank(b) > severity_rank(a) {
        b
    } else {
        a
    }
}

/// The mean per day of `sum` over `days` days; 0 over none.
#[expect(
    clippy::cast_precision_loss,
    reason = "a baseline is shown and sorted by, not tested against thresholds: counts past 2^52 may round"
)]
fn mean(sum: u64, days: u64) -> f64 {
    if days == 0 {
        0.0
    } else {
        sum as f64 / days as f64
    }
}

/// The first `max` characters of `s`.
fn cut(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

/// Reads a history file without changing anything.
fn read(path: &Path) -> Result<Versioned<History>> {
    Ok(
        match fsutil::read_versioned::<History>(
            path,
            FORMAT_VERSION,
            "a daydream template history",
        )? {
            // Older layouts load with defaults for what they lack and are saved in the current layout.
            Versioned::Loaded(mut history) => {
                history.format_version = FORMAT_VERSION;
                Versioned::Loaded(history)
            }
            other => other,
        },
    )
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The `n`th day of the simulation (day 1 is 2026-11-01).
    fn day(n: u64) -> NaiveDate {
        date("2026-10-31").checked_add_days(Days::new(n)).unwrap()
    }

    fn error(template: &str, count: u64) -> DayTemplate<'_> {
        DayTemplate {
            template,
            count,
            errors: count,
            warnings: 0,
            example: None,
        }
    }

    fn info(template: &str, count: u64) -> DayTemplate<'_> {
        DayTemplate {
            template,
            count,
            errors: 0,
            warnings: 0,
            example: None,
        }
    }

    fn names(changes: &[Change]) -> Vec<&str> {
        changes.iter().map(|c| c.template.as_str()).collect()
    }

    fn find<'h>(history: &'h History, template: &str) -> &'h Tracked {
        history
            .templates
            .iter()
            .find(|t| t.template == template)
            .unwrap_or_else(|| panic!("no `{template}` in {:#?}", history.templates))
    }

    #[test]
    fn save_and_load_round_trip_in_the_documented_shape() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), "shop");
        let mut history = History::default();
        history.record(
            date("2026-11-20"),
            &[DayTemplate {
                example: Some("GET /api/orders 500"),
                ..error("GET /api/<*> 500", 12)
            }],
        );
        history.record(date("2026-11-21"), &[error("GET /api/<*> 500", 40)]);
        history.save(&file).unwrap();

        let json: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(json["format_version"], 1);
        let t = &json["templates"][0];
        assert_eq!(t["template"], "GET /api/<*> 500");
        assert_eq!(t["level"], "error");
        assert_eq!(t["first_seen"], "2026-11-20");
        assert_eq!(t["days"]["2026-11-20"], 12);
        assert_eq!(t["days"]["2026-11-21"], 40);
        assert_eq!(t["example"], "GET /api/orders 500");

        let loaded = History::load(&file).unwrap();
        assert!(loaded.warning.is_none());
        assert_eq!(loaded.history, history);
    }

    #[test]
    fn a_missing_file_is_an_empty_history_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), "shop");
        let loaded = History::load(&file).unwrap();
        assert!(loaded.warning.is_none());
        assert_eq!(loaded.history, History::default());
        assert!(!file.exists());
    }

    #[test]
    fn corrupt_and_newer_files_are_moved_aside_byte_for_byte() {
        for (content, tag) in [
            ("{not json", "corrupt"),
            (r#"{"format_version": 1, "templates": "nope"}"#, "corrupt"),
            (r#"{"format_version": 2, "templates": []}"#, "v2"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let file = path(dir.path(), "shop");
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, content).unwrap();
            // A file from an earlier failure already holds the first name: it is kept too.
            let taken = dir
                .path()
                .join(format!("data/templates/shop.json.{tag}-T1"));
            std::fs::write(&taken, "earlier").unwrap();

            let loaded = History::load_stamped(&file, "T1").unwrap();
            assert_eq!(loaded.history, History::default());
            let aside = dir
                .path()
                .join(format!("data/templates/shop.json.{tag}-T1.1"));
            assert_eq!(std::fs::read_to_string(&aside).unwrap(), content);
            assert_eq!(std::fs::read_to_string(&taken).unwrap(), "earlier");
            assert!(!file.exists(), "moved, not copied");
            let warning = loaded.warning.expect("a warning");
            assert!(
                warning.contains(&format!("moved to `{}`", aside.display())),
                "{warning}"
            );
            if tag == "v2" {
                assert!(warning.contains("newer daydream"), "{warning}");
            }

            // The next save writes a fresh file and leaves the moved one alone.
            History::default().save(&file).unwrap();
            assert_eq!(std::fs::read_to_string(&aside).unwrap(), content);
        }
    }

    #[test]
    fn an_older_format_loads_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.json");
        std::fs::write(&file, r#"{"format_version": 0, "templates": [{"template": "x <*>", "level": "warning", "first_seen": "2026-11-01", "days": {"2026-11-01": 3}}]}"#).unwrap();
        let loaded = History::load(&file).unwrap();
        assert!(loaded.warning.is_none());
        assert_eq!(loaded.history.format_version, FORMAT_VERSION);
        let t = find(&loaded.history, "x <*>");
        assert_eq!((t.level, t.days[&date("2026-11-01")]), (Level::Warning, 3));
        assert_eq!(t.example, None);
    }

    #[test]
    fn save_creates_the_directory_and_the_slug_stays_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path(), "My.Shop/../é x_y-z");
        assert_eq!(
            file,
            dir.path().join("data/templates/my-shop------x_y-z.json")
        );
        assert_eq!(
            path(dir.path(), ""),
            dir.path().join("data/templates/_.json")
        );
        History::default().save(&file).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("data/templates"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("my-shop------x_y-z.json")]
        );
    }

    #[test]
    fn recording_the_same_date_twice_replaces_it() {
        let mut history = History::default();
        history.record(day(1), &[error("a <*>", 5), info("b", 2)]);
        history.record(day(2), &[error("a <*>", 7), info("b", 1)]);
        let once = history.clone();
        history.record(day(2), &[error("a <*>", 7), info("b", 1)]);
        assert_eq!(history, once, "a rerun of the same day changes nothing");
        assert_eq!(history.changes(day(2)), once.changes(day(2)));

        // A rerun with other counts replaces them, and drops what is no longer seen that day.
        history.record(day(2), &[error("a <*>", 9), info("c", 1)]);
        assert_eq!(find(&history, "a <*>").days[&day(2)], 9);
        assert!(!find(&history, "b").days.contains_key(&day(2)));
        assert_eq!(find(&history, "c").first_seen, day(2));
        // A template seen only on the replaced day goes with it.
        history.record(day(2), &[error("a <*>", 9)]);
        assert!(history.templates.iter().all(|t| t.template != "c"));
    }

    #[test]
    fn days_older_than_30_days_are_pruned() {
        let mut history = History::default();
        history.record(day(1), &[info("old", 1), info("both", 1)]);
        history.record(day(2), &[info("kept", 1), info("both", 1)]);
        // Day 31 is 30 days after day 1: day 1 is still kept.
        history.record(day(31), &[info("both", 1)]);
        assert!(history.templates.iter().any(|t| t.template == "old"));
        history.record(day(32), &[info("both", 1)]);
        let texts: Vec<_> = history
            .templates
            .iter()
            .map(|t| t.template.as_str())
            .collect();
        assert_eq!(texts, ["both", "kept"], "`old` had no day left");
        assert_eq!(
            find(&history, "both")
                .days
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            [day(2), day(31), day(32)]
        );
        assert_eq!(history.recorded.first(), Some(&day(2)));
    }

    #[test]
    fn new_spiking_and_stopped_over_simulated_days() {
        let mut history = History::default();
        for n in 1..=8 {
            let mut today = vec![
                error("GET /api/<*> 500", 10),
                info("request served in <*> ms", 1000),
            ];
            if n >= 4 {
                today.push(error("db timeout after <*>", 3));
            }
            if n == 8 {
                // Seen on one day, 4 times: not regular enough to have stopped.
                today.push(error("cache miss storm", 4));
            }
            history.record(day(n), &today);
            let changes = history.changes(day(n));
            if n == 1 {
                assert!(changes.first_day);
                assert!(changes.new.is_empty(), "the first night nothing is new");
            } else {
                assert!(!changes.first_day);
            }
            if (2..=8).contains(&n) && n != 4 && n != 8 {
                assert_eq!(changes, Changes::default(), "steady day {n}");
            }
            if n == 4 {
                assert_eq!(names(&changes.new), ["db timeout after <*>"]);
            }
        }

        history.record(
            day(9),
            &[
                error("GET /api/<*> 500", 40),
                // 2.9 times its baseline: not a spike.
                info("request served in <*> ms", 2900),
                DayTemplate {
                    template: "payment <*> declined",
                    count: 2,
                    errors: 0,
                    warnings: 2,
                    example: Some("payment 42 declined"),
                },
            ],
        );
        let changes = history.changes(day(9));
        assert!(!changes.first_day);
        assert_eq!(
            changes.new,
            [Change {
                template: "payment <*> declined".to_owned(),
                today: 2,
                baseline: 0.0,
                last_seen: None,
                example: Some("payment 42 declined".to_owned()),
                severity: Level::Warning,
            }]
        );
        assert_eq!(names(&changes.spiking), ["GET /api/<*> 500"]);
        assert_eq!(changes.spiking[0].today, 40);
        assert!((changes.spiking[0].baseline - 10.0).abs() < 1e-9);
        assert_eq!(changes.spiking[0].last_seen, Some(day(8)));
        assert_eq!(names(&changes.stopped), ["db timeout after <*>"]);
        assert_eq!(changes.stopped[0].last_seen, Some(day(8)));
        assert!((changes.stopped[0].baseline - 15.0 / 7.0).abs() < 1e-9);
        assert_eq!(changes.stopped[0].severity, Level::Error);

        // A date that was not recorded has nothing to report.
        assert_eq!(
            history.changes(day(10)),
            Changes {
                first_day: false,
                ..Changes::default()
            }
        );
    }

    #[test]
    fn an_empty_first_night_still_counts_as_an_earlier_night() {
        let mut history = History::default();
        history.record(day(1), &[]);
        assert!(history.changes(day(1)).first_day);
        history.record(day(2), &[error("boom", 1)]);
        let changes = history.changes(day(2));
        assert!(!changes.first_day);
        assert_eq!(names(&changes.new), ["boom"]);
    }

    #[test]
    fn spikes_need_the_minimum_count_and_a_past() {
        let mut history = History::default();
        history.record(day(1), &[info("rare", 1), info("back", 5)]);
        for n in 2..=8 {
            history.record(day(n), &[info("rare", 1)]);
        }
        // 9 is 9 times the baseline of 1 but under the minimum count; `back` was last seen 8 days ago.
        history.record(day(9), &[info("rare", 9), info("back", 10)]);
        let changes = history.changes(day(9));
        assert_eq!(names(&changes.spiking), ["back"]);
        assert!(changes.spiking[0].baseline.abs() < 1e-9);
        assert_eq!(changes.spiking[0].last_seen, Some(day(1)));
        history.record(day(9), &[info("rare", 10), info("back", 10)]);
        assert_eq!(
            names(&history.changes(day(9)).spiking),
            ["back", "rare"],
            "a baseline of 0 is the highest ratio"
        );
    }

    #[test]
    fn only_regular_errors_stop() {
        let mut history = History::default();
        history.record(
            day(1),
            &[
                error("daily error", 1),
                info("daily info", 9),
                error("burst", 5),
            ],
        );
        history.record(day(2), &[error("daily error", 1), info("daily info", 9)]);
        history.record(day(3), &[error("once", 4), info("daily info", 9)]);
        history.record(day(4), &[info("daily info", 1)]);
        let changes = history.changes(day(4));
        assert_eq!(
            names(&changes.stopped),
            ["burst", "daily error"],
            "5 in one day, then 2 days; `once` (4 on one day) and the info template are not stopped"
        );
        // Past the 7-day window they no longer count.
        history.record(day(9), &[info("daily info", 1)]);
        assert!(history.changes(day(9)).stopped.is_empty());
    }

    #[test]
    fn lists_are_capped_and_ties_are_broken_by_text() {
        let mut history = History::default();
        history.record(day(1), &[info("seed", 1)]);
        let texts: Vec<String> = (0..MAX_CHANGES + 5)
            .rev()
            .map(|i| format!("new {i:02}"))
            .collect();
        let today: Vec<DayTemplate<'_>> = texts.iter().map(|t| error(t, 3)).collect();
        history.record(day(2), &today);
        let changes = history.changes(day(2));
        let expected: Vec<String> = (0..MAX_CHANGES).map(|i| format!("new {i:02}")).collect();
        assert_eq!(names(&changes.new), expected);
    }

    #[test]
    fn a_general_template_absorbs_specific_ones_and_keeps_its_text() {
        let mut history = History::default();
        for n in 1..=3 {
            history.record(
                day(n),
                &[
                    error("GET /api/users 500", 10),
                    error("GET /api/orders 500", 2),
                ],
            );
        }
        // The miner generalised: both stored templates become one, with the general text, and nothing is new or
        // stopped.
        history.record(day(4), &[error("GET /api/<*> 500", 12)]);
        assert_eq!(history.templates.len(), 1);
        let t = find(&history, "GET /api/<*> 500");
        assert_eq!(
            (t.first_seen, t.days[&day(1)], t.days[&day(4)]),
            (day(1), 12, 12)
        );
        let changes = history.changes(day(4));
        assert_eq!((changes.new.len(), changes.stopped.len()), (0, 0));

        // A specific template later matches the general one, which keeps its text.
        history.record(
            day(5),
            &[error("GET /api/users 500", 7), error("GET /api/<*> 500", 1)],
        );
        assert_eq!(history.templates.len(), 1);
        assert_eq!(find(&history, "GET /api/<*> 500").days[&day(5)], 8);

        // Words must line up: another word count, or another literal word, is another template.
        history.record(
            day(6),
            &[
                error("GET /api/<*> 500 retry", 1),
                error("PUT /api/<*> 500", 1),
            ],
        );
        assert_eq!(history.templates.len(), 3);
    }

    #[test]
    fn partial_generalisations_join_and_all_wildcards_do_not() {
        let mut history = History::default();
        history.record(day(1), &[info("user <*> logged in", 1), info("started", 1)]);
        history.record(day(2), &[info("user alice logged <*>", 1), info("<*>", 1)]);
        let texts: Vec<_> = history
            .templates
            .iter()
            .map(|t| t.template.as_str())
            .collect();
        assert_eq!(
            texts,
            ["<*>", "started", "user <*> logged <*>"],
            "the join of the two; `<*>` swallows nothing"
        );
    }

    #[test]
    fn words_with_wildcards_match_as_globs() {
        assert!(glob("/api/<*>", "/api/users"));
        assert!(glob("<*>x<*>", "x"));
        assert!(glob("port:<*>", "port:<*>"));
        assert!(!glob("a<*>a", "a"), "prefix and suffix may not overlap");
        assert!(!glob("/api/<*>", "/v2/api/users"));
        assert!(!glob("users", "users2"));
        assert_eq!(wider("/api/users", "/api/<*>"), Some("/api/<*>"));
        assert_eq!(wider("/api/<*>/x", "/api/y/<*>"), None);
        assert_eq!(wider("a", "<*>"), Some(WILDCARD));
    }

    #[test]
    fn the_template_cap_drops_the_smallest_old_ones_and_keeps_todays() {
        let mut history = History {
            templates: (0..MAX_TEMPLATES)
                .map(|i| Tracked {
                    template: format!("old {i}"),
                    level: Level::Other,
                    first_seen: day(1),
                    days: [(day(1), 100 + i as u64)].into_iter().collect(),
                    example: None,
                })
                .collect(),
            ..History::default()
        };
        history.record(
            day(2),
            &[info("fresh a", 1), info("fresh b", 1), info("old 0", 1)],
        );
        assert_eq!(history.templates.len(), MAX_TEMPLATES);
        let has = |t: &str| history.templates.iter().any(|k| k.template == t);
        // `old 0` has the smallest total but was seen today; `old 1` and `old 2` are the smallest of the rest.
        for kept in ["fresh a", "fresh b", "old 0", "old 3"] {
            assert!(has(kept), "{kept} is kept");
        }
        for gone in ["old 1", "old 2"] {
            assert!(!has(gone), "{gone} is dropped");
        }
        assert!(
            history
                .templates
                .is_sorted_by(|a, b| a.template <= b.template)
        );
    }

    #[test]
    fn examples_are_cut_at_a_character_boundary_and_the_latest_kept() {
        let mut history = History::default();
        let long = "é".repeat(MAX_EXAMPLE_CHARS + 50);
        history.record(
            day(1),
            &[DayTemplate {
                example: Some(&long),
                ..info("x <*>", 1)
            }],
        );
        let example = find(&history, "x <*>").example.clone().unwrap();
        assert_eq!(example.chars().count(), MAX_EXAMPLE_CHARS);
        history.record(day(2), &[info("x <*>", 1)]);
        assert_eq!(find(&history, "x <*>").example.as_ref(), Some(&example));
        history.record(
            day(3),
            &[DayTemplate {
                example: Some("x 1"),
                ..info("x <*>", 1)
            }],
        );
        assert_eq!(find(&history, "x <*>").example.as_deref(), Some("x 1"));
    }
}
