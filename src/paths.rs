//! Where each of daydream's files lives under the root (see DESIGN.md, "Files").

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

#[derive(Clone, Debug)]
pub(crate) struct Paths {
    pub(crate) root: PathBuf,
}

impl Paths {
    pub(crate) fn new(root: PathBuf) -> Paths {
        Paths { root }
    }

    /// `logs/daydream`: state, reports, lock and daydream's own log.
    pub(crate) fn run_dir(&self) -> PathBuf {
        self.root.join("logs").join("daydream")
    }

    /// Today's state; a dry run keeps its own so that a real run later that day still does everything.
    pub(crate) fn state(&self, dry_run: bool) -> PathBuf {
        self.run_dir().join(if dry_run {
            "state.dry-run.json"
        } else {
            "state.json"
        })
    }

    /// Where the state of an earlier day is kept once a new day starts.
    pub(crate) fn archived_state(&self, date: NaiveDate, dry_run: bool) -> PathBuf {
        let suffix = if dry_run { ".dry-run" } else { "" };
        self.run_dir().join(format!("state_{date}{suffix}.json"))
    }

    pub(crate) fn report(&self, date: NaiveDate, dry_run: bool) -> PathBuf {
        let suffix = if dry_run { ".dry-run" } else { "" };
        self.run_dir().join(format!("report_{date}{suffix}.md"))
    }

    pub(crate) fn lock(&self) -> PathBuf {
        self.run_dir().join("daydream.lock")
    }

    pub(crate) fn log(&self) -> PathBuf {
        self.run_dir().join("daydream.log")
    }

    /// `path` relative to the root when it is inside it, for shorter messages.
    pub(crate) fn show(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}
