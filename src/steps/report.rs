//! The `report` step: each project's report issue and notification (see `publish`), then the day's markdown
//! report from the state, written atomically.

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::paths::Paths;
use crate::publish::Published;
use crate::step::{Outcome, Output, Scope, Step, UnitCx};

pub(crate) struct Report;

/// What a report unit stores: the file it wrote (the run-wide unit) or what publishing a project's report did.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Reported {
    File { path: String },
    Project(Published),
}

impl Step for Report {
    type Data = Reported;

    const NAME: &'static str = "report";

    fn reflected(&self) -> bool {
        false
    }

    const TITLE: &'static str = "Report";

    fn scope(&self) -> Scope {
        Scope::ProjectsThenRun
    }

    fn follows_state(&self) -> bool {
        true
    }

    fn run(&self, cx: &mut UnitCx<'_>) -> Result<Outcome<Reported>> {
        if let Some(project) = cx.project {
            return Ok(crate::publish::publish(cx, project)?.map(Reported::Project));
        }
        let paths = Paths::new(cx.root().to_owned());
        let path = paths.report(cx.run.date, cx.run.dry_run);
        let fixing = crate::fix::metrics::night_line(cx.root(), cx.run.clock.now());
        let markdown =
            crate::report::render(cx.state, &cx.run.config, cx.run.steps, fixing.as_deref());
        let unchanged = std::fs::read(&path).is_ok_and(|old| old == markdown.as_bytes());
        if !unchanged {
            crate::fsutil::write_atomic(&path, markdown.as_bytes())?;
        }
        let shown = paths.show(&path);
        Ok(Outcome::Done(Output {
            summary: if unchanged {
                format!("{shown} (unchanged)")
            } else {
                format!("wrote {shown}")
            },
            data: Reported::File { path: shown },
            actions: Vec::new(),
            warnings: Vec::new(),
        }))
    }
}
